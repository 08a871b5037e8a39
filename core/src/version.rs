//! The versions a conditional write (`If-Match`) accepts.

/// The stored versions a write may replace: the entity tags of an `If-Match` header. A write
/// goes ahead when the stored version is one of them (RFC 9110 §13.1.1); an empty list, or
/// tags this service never returned, match nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions(Vec<i64>);

impl Versions {
    /// The versions named.
    pub fn new(versions: Vec<i64>) -> Self {
        Self(versions)
    }

    /// Whether the stored `version` is one of them.
    pub fn allows(&self, version: i64) -> bool {
        self.0.contains(&version)
    }
}

#[cfg(test)]
mod tests {
    use super::Versions;

    #[test]
    fn a_write_goes_ahead_only_on_a_named_version() {
        let v = Versions::new(vec![3, 5]);
        assert!(v.allows(3) && v.allows(5));
        assert!(!v.allows(4));
        assert!(!Versions::default().allows(0));
    }
}
