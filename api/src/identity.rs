//! Citizens' identity numbers are never stored: only their last four digits and a keyed hash
//! (HMAC-SHA256) under a key from the configuration, never from the database. A stolen database
//! alone cannot be brute-forced back to numbers (a 12-digit space is searched in seconds with a
//! plain or salted hash, whose salt sits in the same database).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The key identity numbers are hashed with, and its short id (written into every hash, so
/// that after a rotation each stored hash says which key made it).
#[derive(Clone)]
pub struct IdentityKey {
    key: Vec<u8>,
    id: String,
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What is kept of an identity number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDigest {
    /// `hmac-sha256:{key id}:{hex}`.
    pub hash: String,
    /// The number's last four characters.
    pub last4: String,
}

impl IdentityKey {
    /// The key from its secret text.
    pub fn new(secret: &[u8]) -> Self {
        let id = Sha256::digest(secret)
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            key: secret.to_vec(),
            id,
        }
    }

    /// The key's short id: the first 8 hex digits of its SHA-256.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The keyed hash and last four characters of `number`.
    pub fn digest(&self, number: &str) -> IdentityDigest {
        // HMAC takes a key of any length; `new_from_slice` fails for none.
        let hex: String = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(number.as_bytes());
                mac.finalize()
                    .into_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }
            Err(_) => String::new(),
        };
        let chars: Vec<char> = number.chars().collect();
        IdentityDigest {
            hash: format!("hmac-sha256:{}:{hex}", self.id),
            last4: chars[chars.len().saturating_sub(4)..].iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_the_key_and_names_it() {
        let a = IdentityKey::new(b"first-key-0123456789abcdef0123456789");
        let b = IdentityKey::new(b"second-key-0123456789abcdef012345678");
        let number = "001203004567";
        let da = a.digest(number);
        assert_eq!(da.last4, "4567");
        assert_eq!(da, a.digest(number));
        assert!(da.hash.starts_with(&format!("hmac-sha256:{}:", a.id())));
        assert_eq!(da.hash.len(), "hmac-sha256:".len() + 8 + 1 + 64);
        assert!(!da.hash.contains(number));
        let db = b.digest(number);
        assert_ne!(da.hash, db.hash);
        assert_ne!(a.id(), b.id());
        // RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
        let jefe = IdentityKey::new(b"Jefe").digest("what do ya want for nothing?");
        assert!(
            jefe.hash
                .ends_with("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }
}
