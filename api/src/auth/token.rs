//! Access tokens: HS256 JWTs with the client's grant.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The issuer written into and required of every token.
pub const ISSUER: &str = "tthc";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: always `tthc`.
    pub iss: String,
    /// The client id.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Unit codes the client acts for (each with its subtree).
    #[serde(default)]
    pub units: Vec<String>,
    /// Whether the client acts for every unit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_units: bool,
    /// End user on whose behalf the client acts, for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// That end user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uname: Option<String>,
    /// The id of the subject's latest revocation when the token was issued
    /// (`tthc_core::db::revocations`): a later one refuses it. Absent is 0.
    #[serde(rename = "gen", default, skip_serializing_if = "is_zero")]
    pub generation: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The key that signs and checks tokens, the keys of before a rotation that still check them,
/// and their lifetime.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    previous: Vec<DecodingKey>,
    validation: Validation,
    /// Lifetime of new tokens.
    pub ttl: Duration,
}

impl JwtKeys {
    /// Keys from a shared secret.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "iat"]);
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            previous: Vec::new(),
            validation,
            ttl,
        }
    }

    /// These keys, also accepting tokens signed with `previous` keys (a rotation: the tokens
    /// issued before it stay valid until they expire, if the old key is kept that long).
    pub fn with_previous<'a>(mut self, previous: impl IntoIterator<Item = &'a [u8]>) -> Self {
        self.previous = previous.into_iter().map(DecodingKey::from_secret).collect();
        self
    }

    /// Signs `template`'s subject and grant, valid from now for the lifetime; the issuer, times
    /// and token id of the template are replaced.
    pub fn issue(&self, template: Claims) -> Result<(String, Claims), ApiError> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(3600);
        let claims = Claims {
            iss: ISSUER.into(),
            iat: now,
            exp: now + ttl,
            jti: uuid::Uuid::new_v4().to_string(),
            ..template
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok((token, claims))
    }

    /// Checks a token's signature, issuer and expiry and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut checked = decode::<Claims>(token, &self.decoding, &self.validation);
        for key in &self.previous {
            match &checked {
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
                    checked = decode::<Claims>(token, key, &self.validation);
                }
                _ => break,
            }
        }
        checked.map(|data| data.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let detail = match e.kind() {
                ErrorKind::ExpiredSignature => "the access token has expired; get a new one",
                ErrorKind::InvalidSignature => "the access token's signature is not valid",
                ErrorKind::InvalidIssuer => "the access token was not issued by this service",
                _ => "the access token is malformed",
            };
            ApiError::Unauthorized {
                code: "invalidToken",
                detail: detail.into(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Claims {
        Claims {
            iss: String::new(),
            sub: "vnpt".into(),
            iat: 0,
            exp: 0,
            jti: String::new(),
            scope: "units:read".into(),
            units: vec!["000.00.12.H12".into()],
            all_units: false,
            uid: Some("u1".into()),
            uname: Some("Nguyễn Văn A".into()),
            generation: 0,
        }
    }

    #[test]
    fn tokens_verify_with_their_key_only() {
        let keys = JwtKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(600),
        );
        let (token, issued) = keys.issue(template()).unwrap();
        assert_eq!(issued.exp - issued.iat, 600);
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims, issued);

        let other = JwtKeys::new(
            b"another key, also 32 bytes long!",
            Duration::from_secs(600),
        );
        assert!(other.verify(&token).is_err());
        assert!(keys.verify("abc.def.ghi").is_err());
    }

    #[test]
    fn after_a_rotation_the_old_keys_tokens_still_verify_and_new_ones_use_the_new_key() {
        let old_key = b"0123456789abcdef0123456789abcdef";
        let new_key = b"another key, also 32 bytes long!";
        let ttl = Duration::from_secs(600);
        let old = JwtKeys::new(old_key, ttl);
        let (before, issued) = old.issue(template()).unwrap();
        let rotated = JwtKeys::new(new_key, ttl).with_previous([&old_key[..]]);
        assert_eq!(rotated.verify(&before).unwrap(), issued);
        let (after, _) = rotated.issue(template()).unwrap();
        // Signed with the new key: the old key alone does not take it.
        assert!(old.verify(&after).is_err());
        assert!(rotated.verify(&after).is_ok());
        // Once the old key is dropped, its tokens are refused.
        assert!(JwtKeys::new(new_key, ttl).verify(&before).is_err());
        // A previous key never lets through a token that fails for another reason.
        let unknown = JwtKeys::new(b"a third key that signed nothing!", ttl);
        let (third, _) = unknown.issue(template()).unwrap();
        assert!(rotated.verify(&third).is_err());
    }
}
