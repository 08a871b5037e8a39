//! How values are written into the store's text columns: enumerations by their API name.

use serde::Deserialize;

pub(crate) use crate::text::word;

/// The enum value stored as `s`, if it still names one.
pub(crate) fn parse_word<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
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
