//! Instants written as RFC 3339 without chrono's general-purpose formatter, which writes a
//! character at a time: a page of 100 dossiers has several hundred instants, and under load
//! their formatting was about 12% of the server's time. The output is exactly what chrono's
//! serde writes: a fraction only when there is one, in 3, 6 or 9 digits, the offset as `+07:00`
//! (`Z` for UTC).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, SecondsFormat, Timelike};
use serde::Serializer;
use tthc_core::db::timestamp::format_sqlite_timestamp;

/// `t` in Vietnam's local time to the microsecond, as both backends keep it (PostgreSQL's
/// timestamps hold microseconds): so that an instant sent again compares equal to the stored
/// one, whatever precision the sender writes.
pub fn local(t: DateTime<FixedOffset>) -> NaiveDateTime {
    let l = tthc_core::calendar::to_local(&t);
    l.with_nanosecond(l.nanosecond() / 1000 * 1000).unwrap_or(l)
}

/// `t` in RFC 3339, as chrono's serde writes it: the local date and time as the database layer
/// writes them (the same fraction rules), a `T` between them, and the offset.
pub fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    if !(0..=9999).contains(&t.year()) || t.nanosecond() >= 1_000_000_000 {
        // Leap seconds and years beyond four digits: chrono knows how.
        return t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    }
    let mut out = format_sqlite_timestamp(t.naive_local());
    out.replace_range(10..11, "T");
    let offset = t.offset().local_minus_utc();
    if offset == 0 {
        out.push('Z');
    } else {
        let minutes = offset.unsigned_abs() / 60;
        let sign = if offset < 0 { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
    }
    out
}

/// `serialize_with` for an instant.
pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(t))
}

/// `serialize_with` for an optional instant.
pub fn serialize_option<S: Serializer>(
    t: &Option<DateTime<FixedOffset>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone};

    #[test]
    fn writes_exactly_what_chrono_writes() {
        let zones = [
            FixedOffset::east_opt(7 * 3600).unwrap(),
            FixedOffset::west_opt(3 * 3600 + 30 * 60).unwrap(),
            FixedOffset::east_opt(0).unwrap(),
        ];
        for zone in zones {
            for nanos in [0, 500_000_000, 123_000, 1, 999_999_999, 120_000_000] {
                let t: DateTime<FixedOffset> = zone
                    .with_ymd_and_hms(2026, 3, 2, 8, 5, 9)
                    .unwrap()
                    .with_nanosecond_checked(nanos);
                assert_eq!(
                    super::rfc3339(&t),
                    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
                );
                assert_eq!(
                    serde_json::to_value(t).unwrap(),
                    serde_json::Value::String(super::rfc3339(&t)),
                    "the same as chrono's serde"
                );
            }
        }
    }

    trait WithNanos {
        fn with_nanosecond_checked(self, n: u32) -> Self;
    }

    impl WithNanos for DateTime<FixedOffset> {
        fn with_nanosecond_checked(self, n: u32) -> Self {
            chrono::Timelike::with_nanosecond(&self, n).unwrap()
        }
    }
}
