//! What every sign-in does, a client's (`/auth/token`) and a person's (`/auth/session`):
//! refused while its keys are limited, verified against the stored hash or, for an unknown or
//! disabled name, against a dummy one, so that the answer's timing does not tell who exists.
//!
//! The limit is judged twice: when the request comes (so that once limited, guessing costs
//! nothing), and again on the hashing thread just before the secret is checked, where a failure
//! is also counted. The hashing thread takes one attempt at a time, so each is judged with the
//! failures of every attempt checked before it: a burst of guesses sent at once cannot get past
//! the limit while the first ones wait to be hashed. Correct secrets are never counted, so many
//! sign-ins of one client at once (a vendor's workers renewing their tokens) all pass.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use super::limiter::{self, Limit};
use super::{generate_secret, hash_secret, verify_secret};
use crate::error::ApiError;
use crate::state::AppState;

/// An Argon2id hash of a random string nobody knows, checked against when the name is unknown;
/// made once, on first use.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_secret(&generate_secret()).unwrap_or_default());

/// A sign-in attempt of `name` (its limiter key, e.g. a client id or `user:<username>`) from
/// `address`.
pub struct Attempt {
    keys: Vec<(String, Limit)>,
    what: &'static str,
}

impl Attempt {
    /// Starts the attempt of `req`, refused with 429 while `name` or the address it comes from
    /// ([`limiter::client_address`]) has no failure left: checked before anything is read or
    /// hashed, so that once limited, guessing costs nothing. `what` names the caller in the
    /// refusal (`client`, `user`).
    pub fn start(
        state: &AppState,
        name: &str,
        req: &actix_web::HttpRequest,
        what: &'static str,
    ) -> Result<Self, ApiError> {
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let address = limiter::client_address(
            req.peer_addr().map(|a| a.ip()),
            forwarded.into_iter(),
            &state.config.trusted_proxies,
        );
        let keys = limiter::keys(name, address);
        state
            .sign_in_limits
            .check(&keys, Instant::now())
            .map_err(|retry_after| limited(what, retry_after))?;
        Ok(Self { keys, what })
    }

    /// Whether `secret` matches `stored` (`None` for an unknown or disabled name, which never
    /// matches but costs the same Argon2 work), hashed on the hashing thread, where the limit is
    /// judged again and a mismatch is counted against the attempt's keys (429 when the
    /// failures of the attempts checked before it used up the limit meanwhile).
    pub async fn verify(
        &self,
        state: &AppState,
        stored: Option<String>,
        secret: String,
    ) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let limits = Arc::clone(&state.sign_in_limits);
        let keys = self.keys.clone();
        let checked = state
            .hasher
            .run(move || {
                limits.check(&keys, Instant::now())?;
                // The dummy is made here, on the hashing thread, the first time it is needed.
                let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
                // Hashed whether the name is known or not (never `known && …`, which would
                // skip the work, and so tell by the answer's speed who exists).
                let hashed = verify_secret(&secret, &hash);
                let matches = known && hashed;
                if !matches {
                    limits.fail(&keys, Instant::now());
                }
                Ok(matches)
            })
            .await?;
        checked.map_err(|retry_after| limited(self.what, retry_after))
    }
}

/// The 429 of a sign-in whose keys have no failure left for `retry_after` seconds.
fn limited(what: &str, retry_after: u64) -> ApiError {
    ApiError::TooManyRequests {
        detail: format!(
            "too many failed sign-ins for this {what} or from this address; retry in \
             {retry_after} s"
        ),
        retry_after,
    }
}
