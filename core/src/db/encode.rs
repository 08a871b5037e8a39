//! How values are written into the store's text columns: enumerations by their API name,
//! hashes as lowercase hex.

use serde::{Deserialize, Serialize};

/// The API name of a unit-only enum value (`"online"`, `"finishedLate"` …), as stored.
pub(crate) fn word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The enum value stored as `s`, if it still names one.
pub(crate) fn parse_word<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// Lowercase hex of `bytes`, without a formatter per byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// `text` for a `LIKE` pattern whose escape character is a backslash: its `%`, `_` and
/// backslashes match themselves.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
