//! The tree paths of units as this instance last read them, for the lists of dossiers and
//! petitions: a page read with them is one statement, where reading the paths first cost one
//! round trip more (two for a unit-limited caller).
//!
//! A remembered path may be stale: another instance may have moved the unit since. It is safe to
//! filter the dossiers and petitions by all the same. A unit's path is the codes from the root
//! down, codes are unique and never change, units are never deleted, and a move rewrites the
//! stored path of every dossier and petition of the moved subtree in the transaction that moves
//! the units (`db::units::move_records`): a path that is no longer its unit's matches none of
//! them. So a page of them read with stale paths comes back empty, never wrong, and an empty
//! page is read again with the paths read afresh when they differ
//! ([`super::Principal::read_list`]). Not so for the audit trail, whose entries keep the path
//! they were made under (history): its lists must not use these paths.

use std::collections::HashMap;
use std::sync::RwLock;

/// How many units' paths are kept before the memory starts again: several times a country's
/// units, so only codes asked for and found count.
const MAX_UNITS: usize = 100_000;

/// Unit codes and the tree paths last read for them.
#[derive(Debug, Default)]
pub struct UnitPaths {
    paths: RwLock<HashMap<String, String>>,
}

impl UnitPaths {
    /// The path last read for `code`, if any.
    pub fn get(&self, code: &str) -> Option<String> {
        self.paths.read().ok()?.get(code).cloned()
    }

    /// Remembers that `code` was at `path`.
    pub fn remember(&self, code: &str, path: &str) {
        // Most reads find what is remembered: the write lock only for a change.
        if self.get(code).as_deref() == Some(path) {
            return;
        }
        if let Ok(mut paths) = self.paths.write() {
            if paths.len() >= MAX_UNITS && !paths.contains_key(code) {
                paths.clear();
            }
            paths.insert(code.to_owned(), path.to_owned());
        }
    }

    /// Forgets `code`, found gone.
    pub fn forget(&self, code: &str) {
        if let Ok(mut paths) = self.paths.write() {
            paths.remove(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_forgets_and_stays_bounded() {
        let paths = UnitPaths::default();
        assert_eq!(paths.get("D1"), None);
        paths.remember("D1", "/P/D1/");
        paths.remember("D1", "/Q/D1/");
        assert_eq!(paths.get("D1").as_deref(), Some("/Q/D1/"));
        paths.forget("D1");
        assert_eq!(paths.get("D1"), None);
        for i in 0..MAX_UNITS {
            paths.remember(&format!("U{i}"), "/P/");
        }
        paths.remember("U0", "/P/U0/");
        assert_eq!(
            paths.get("U1").as_deref(),
            Some("/P/"),
            "a known code keeps the rest"
        );
        paths.remember("NEW", "/P/NEW/");
        assert_eq!(paths.get("U1"), None, "full: started again");
        assert_eq!(paths.get("NEW").as_deref(), Some("/P/NEW/"));
    }
}
