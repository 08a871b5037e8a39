//! Client secrets: generated at random, shown once, stored as Argon2id hashes.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::ApiError;

/// A new random secret: 40 letters and digits (about 238 bits).
pub fn generate_secret() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// The Argon2id PHC string of `secret`, with a fresh salt.
pub fn hash_secret(secret: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a secret: {e}")))
}

/// Whether `secret` matches the stored `hash`. A malformed hash matches nothing.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_secret() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 40);
        let hash = hash_secret(&secret).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains(&secret));
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("wrong", &hash));
        assert!(!verify_secret(&secret, "not a hash"));
        assert_ne!(generate_secret(), secret);
    }
}
