//! What every sign-in does, a client's (`/auth/token`) and a person's (`/auth/session`):
//! refused while its keys are limited, verified against the stored hash or, for an unknown
//! name, against a dummy one, so that the answer's timing does not tell who exists.

use std::sync::LazyLock;
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
        what: &str,
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
        if let Err(retry_after) = state.sign_in_limits.check(&keys, Instant::now()) {
            return Err(ApiError::TooManyRequests {
                detail: format!(
                    "too many failed sign-ins for this {what} or from this address; retry in \
                     {retry_after} s"
                ),
                retry_after,
            });
        }
        Ok(Self { keys })
    }

    /// Whether `secret` matches `stored` (`None` for an unknown name, which never matches but
    /// costs the same Argon2 work), hashed on the hashing thread.
    pub async fn verify(
        &self,
        state: &AppState,
        stored: Option<String>,
        secret: String,
    ) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = state
            .hasher
            .run(move || verify_secret(&secret, &hash))
            .await?;
        Ok(known && matches)
    }

    /// Counts the attempt as failed against its keys.
    pub fn fail(&self, state: &AppState) {
        state.sign_in_limits.fail(&self.keys, Instant::now());
    }
}
