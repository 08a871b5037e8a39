//! Organisational units: the province, its departments, districts and communes, as a tree.
//!
//! Units are identified by their national identifier code (mã định danh, e.g. `000.00.12.H12`).
//! The tree is stored as a materialised path of codes (`/000.00.00.H12/000.00.12.H12/`), which
//! makes "this unit and everything below it" a prefix test, the question nearly every query of
//! the service asks.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::InvalidParam;

/// Longest identifier code accepted.
pub const MAX_CODE_LEN: usize = 40;

/// An organisational unit's identifier code (mã định danh), e.g. `000.00.12.H12`.
///
/// Codes are 1–40 characters of ASCII letters, digits, `.` and `-`, starting with a letter or a
/// digit. The restriction keeps codes safe in URL paths and in the materialised tree path.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(pattern = "^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$")
)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnitCode(String);

impl UnitCode {
    /// Checks `code` and wraps it, or says what is wrong with it.
    pub fn parse(code: &str) -> Result<Self, String> {
        if code.is_empty() {
            return Err("must not be empty".into());
        }
        if code.len() > MAX_CODE_LEN {
            return Err(format!("must be at most {MAX_CODE_LEN} characters"));
        }
        if !code.as_bytes()[0].is_ascii_alphanumeric() {
            return Err("must start with a letter or a digit".into());
        }
        if let Some(bad) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '-'))
        {
            return Err(format!(
                "may contain only ASCII letters, digits, '.' and '-' (found {bad:?})"
            ));
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UnitCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Reads a list of unit codes kept as text, refusing one that is not a unit code (for
/// `#[serde(deserialize_with)]`).
pub fn deserialize_codes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let codes = Vec::<UnitCode>::deserialize(d)?;
    Ok(codes.into_iter().map(|c| c.0).collect())
}

impl<'de> Deserialize<'de> for UnitCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The level of a unit in the administration.
///
/// Districts were abolished on 1 July 2025 but stay in older data; `other` covers units that fit
/// none of the levels (a public-service centre, a national root in a country-wide deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnitLevel {
    /// A province or centrally governed city (tỉnh, thành phố trực thuộc trung ương).
    Province,
    /// A department or agency of the provincial people's committee (sở, ban, ngành).
    Department,
    /// A district (huyện, quận, thị xã), present in data before July 2025.
    District,
    /// A commune or ward (xã, phường, đặc khu).
    Commune,
    /// Any other unit.
    Other,
}

impl UnitLevel {
    /// Every level, in the order of the administration.
    pub const ALL: [UnitLevel; 5] = [
        Self::Province,
        Self::Department,
        Self::District,
        Self::Commune,
        Self::Other,
    ];

    /// The name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Department => "department",
            Self::District => "district",
            Self::Commune => "commune",
            Self::Other => "other",
        }
    }
}

impl FromStr for UnitLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!("must be one of province, department, district, commune, other (got {s:?})")
            })
    }
}

impl fmt::Display for UnitLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The materialised path of a unit: the codes from the root down to the unit itself, each
/// followed by `/`, after a leading `/`.
pub fn tree_path(parent_path: Option<&str>, code: &UnitCode) -> String {
    format!("{}{}/", parent_path.unwrap_or("/"), code.as_str())
}

/// The code of the unit at `path`: its last segment (a unit's code never changes, so a path
/// stored with a record names the unit even after the unit moved).
pub fn code_in_path(path: &str) -> Option<&str> {
    path.split('/').rfind(|s| !s.is_empty())
}

/// Whether the unit at `path` is `ancestor_path` itself or lies below it.
pub fn is_within(path: &str, ancestor_path: &str) -> bool {
    path.starts_with(ancestor_path)
}

/// Checks that a unit may be placed under a parent at `new_parent_path`: a unit cannot be its
/// own parent nor be moved under one of its descendants.
pub fn check_move(own_path: &str, new_parent_path: &str) -> Result<(), InvalidParam> {
    if is_within(new_parent_path, own_path) {
        return Err(InvalidParam::new(
            "parent",
            "a unit cannot be placed under itself or one of its own descendants",
        ));
    }
    Ok(())
}

/// Checks a validity interval: a unit cannot close before it opens.
pub fn check_validity(
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
) -> Result<(), InvalidParam> {
    match (valid_from, valid_to) {
        (Some(from), Some(to)) if to < from => Err(InvalidParam::new(
            "validTo",
            format!("must not be before validFrom ({from})"),
        )),
        _ => Ok(()),
    }
}

/// Whether a unit with this validity interval exists on `day` (both ends inclusive).
pub fn is_valid_on(
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    day: NaiveDate,
) -> bool {
    valid_from.is_none_or(|f| f <= day) && valid_to.is_none_or(|t| day <= t)
}

/// A unit as the service knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unit {
    /// Identifier code.
    pub code: UnitCode,
    /// Official name.
    pub name: String,
    /// Level in the administration.
    pub level: UnitLevel,
    /// The parent's code; `None` for a root.
    pub parent: Option<UnitCode>,
    /// Materialised path from the root, see [`tree_path`].
    pub path: String,
    /// First day the unit exists, if known.
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit exists (merged or closed), if it has ended.
    pub valid_to: Option<NaiveDate>,
    /// Incremented by every change; the API's `ETag`.
    pub version: i64,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

/// The parent code recorded in a materialised path, if the unit is not a root.
pub fn parent_in_path(path: &str) -> Option<&str> {
    let mut codes = path.split('/').filter(|s| !s.is_empty()).rev();
    codes.next()?;
    codes.next()
}

/// The path of the parent of the unit at `path` (`/P/D1/` of `/P/D1/C1/`); `None` for a root.
pub fn parent_path(path: &str) -> Option<&str> {
    let cut = path.strip_suffix('/')?.rfind('/')?;
    (cut > 0).then(|| &path[..=cut])
}

/// The path of the deepest unit whose subtree holds every one of `paths`; `None` when there are
/// none or they lie in different trees.
pub fn common_ancestor<'a>(paths: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut common: Option<Vec<&str>> = None;
    for path in paths {
        let codes: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        common = Some(match common {
            None => codes,
            Some(c) => c
                .iter()
                .zip(&codes)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    common
        .filter(|c| !c.is_empty())
        .map(|c| format!("/{}/", c.join("/")))
}

/// The units a caller may see and act on: everything, or the subtrees of some units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitScope {
    /// Every unit.
    All,
    /// The subtrees whose roots have these materialised paths.
    Within(Vec<String>),
}

impl UnitScope {
    /// Whether the unit at `path` is in scope.
    pub fn allows(&self, path: &str) -> bool {
        match self {
            Self::All => true,
            Self::Within(roots) => roots.iter().any(|root| is_within(path, root)),
        }
    }

    /// The part of this scope inside the subtree rooted at `root`: what both allow.
    pub fn narrowed_to(&self, root: &str) -> Self {
        match self {
            Self::All => Self::Within(vec![root.to_owned()]),
            Self::Within(roots) => {
                let mut kept: Vec<String> = Vec::new();
                for r in roots {
                    // Either subtree holds the other, or they are apart; the smaller one is
                    // what both allow.
                    let inner = if is_within(root, r) {
                        root
                    } else if is_within(r, root) {
                        r.as_str()
                    } else {
                        continue;
                    };
                    if !kept.iter().any(|k| k == inner) {
                        kept.push(inner.to_owned());
                    }
                }
                Self::Within(kept)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).unwrap()
    }

    #[test]
    fn codes_accept_national_identifiers_and_refuse_unsafe_text() {
        assert!(UnitCode::parse("000.00.12.H12").is_ok());
        assert!(UnitCode::parse("H15.50.05.13").is_ok());
        assert!(UnitCode::parse("").is_err());
        assert!(UnitCode::parse(".H12").is_err());
        assert!(UnitCode::parse("a/b").unwrap_err().contains("'/'"));
        assert!(UnitCode::parse("50%").is_err());
        assert!(UnitCode::parse("x_y").is_err());
        assert!(UnitCode::parse(&"9".repeat(41)).is_err());
    }

    #[test]
    fn paths_nest_and_moves_under_descendants_are_refused() {
        let root = tree_path(None, &code("P"));
        let dept = tree_path(Some(&root), &code("D1"));
        let sub = tree_path(Some(&dept), &code("D1.1"));
        assert_eq!(sub, "/P/D1/D1.1/");
        assert!(is_within(&sub, &root));
        assert!(!is_within(&root, &dept));
        // "D1" must not be taken as the ancestor of a sibling "D10".
        let d10 = tree_path(Some(&root), &code("D10"));
        assert!(!is_within(&d10, &dept));
        assert!(check_move(&dept, &sub).is_err());
        assert!(check_move(&dept, &dept).is_err());
        assert!(check_move(&dept, &d10).is_ok());
    }

    #[test]
    fn a_scope_narrowed_to_a_subtree_allows_what_both_allow() {
        let (p, d1, d10) = ("/P/", "/P/D1/", "/P/D10/");
        let c = "/P/D1/C1/";
        let all = UnitScope::All.narrowed_to(d1);
        assert!(all.allows(c) && all.allows(d1));
        assert!(!all.allows(p) && !all.allows(d10));
        // A grant over the province narrowed to a district is the district.
        let wide = UnitScope::Within(vec![p.into()]).narrowed_to(d1);
        assert!(wide.allows(c) && !wide.allows(d10));
        // A grant over a commune narrowed to its district stays the commune.
        let small = UnitScope::Within(vec![c.into(), d10.into()]).narrowed_to(d1);
        assert!(small.allows(c) && !small.allows(d1) && !small.allows(d10));
        // A grant apart from the subtree allows nothing.
        let apart = UnitScope::Within(vec![d10.into()]).narrowed_to(d1);
        assert!(!apart.allows(d1) && !apart.allows(c) && !apart.allows(d10));
    }

    #[test]
    fn validity_interval_is_inclusive_and_ordered() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(check_validity(Some(d("2025-07-01")), Some(d("2025-06-30"))).is_err());
        assert!(check_validity(Some(d("2025-07-01")), Some(d("2025-07-01"))).is_ok());
        assert!(is_valid_on(None, Some(d("2025-06-30")), d("2025-06-30")));
        assert!(!is_valid_on(None, Some(d("2025-06-30")), d("2025-07-01")));
        assert!(!is_valid_on(Some(d("2025-07-01")), None, d("2025-06-30")));
    }

    #[test]
    fn parent_is_read_from_the_path_and_scopes_cover_subtrees() {
        assert_eq!(parent_in_path("/P/D/C/"), Some("D"));
        assert_eq!(parent_path("/P/D/C/"), Some("/P/D/"));
        assert_eq!(parent_path("/P/D/"), Some("/P/"));
        assert_eq!(parent_path("/P/"), None);
        assert_eq!(parent_in_path("/P/"), None);
        assert_eq!(code_in_path("/P/D/C/"), Some("C"));
        assert_eq!(code_in_path("/P/"), Some("P"));
        assert_eq!(code_in_path("/"), None);
        assert_eq!(
            common_ancestor(["/P/D/C1/", "/P/D/C2/"]).as_deref(),
            Some("/P/D/")
        );
        assert_eq!(common_ancestor(["/P/D/C1/"]).as_deref(), Some("/P/D/C1/"));
        assert_eq!(common_ancestor(["/P/D/", "/Q/"]), None);
        assert_eq!(common_ancestor([]), None);
        let scope = UnitScope::Within(vec!["/P/D/".into()]);
        assert!(scope.allows("/P/D/"));
        assert!(scope.allows("/P/D/C/"));
        assert!(!scope.allows("/P/"));
        assert!(!scope.allows("/P/D2/"));
        assert!(UnitScope::All.allows("/anything/"));
    }

    #[test]
    fn levels_round_trip_through_their_names() {
        for level in UnitLevel::ALL {
            assert_eq!(level.as_str().parse::<UnitLevel>(), Ok(level));
        }
        assert!("huyen".parse::<UnitLevel>().is_err());
    }
}
