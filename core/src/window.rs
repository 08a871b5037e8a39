//! The window of instants a record may carry. An instant far outside it is a vendor's bug or an
//! attack, never a fact: a receipt in year 2 made the working-day calendar span two thousand
//! years and held the write lock for seconds. Instants of what happened lie between
//! [`EARLIEST`] and a few minutes past now; instants of what is due lie before [`LATEST`].

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::InvalidParam;
use crate::period::{MAX_YEAR, MIN_YEAR};

/// The earliest instant a record may carry: 1 January 2000, the first year the calendar and
/// the periods know.
pub const EARLIEST: NaiveDateTime = match NaiveDate::from_ymd_opt(MIN_YEAR, 1, 1) {
    Some(d) => d.and_time(chrono::NaiveTime::MIN),
    None => NaiveDateTime::MIN,
};

/// The latest instant a deadline may carry: the end of the last year the calendar knows (its
/// last day's last instant; until 2026-12-07 its first, which refused a due hour that day).
pub const LATEST: NaiveDateTime = match NaiveDate::from_ymd_opt(MAX_YEAR, 12, 31) {
    Some(d) => match chrono::NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999) {
        Some(t) => d.and_time(t),
        None => d.and_time(chrono::NaiveTime::MIN),
    },
    None => NaiveDateTime::MAX,
};

/// How far ahead of this service's clock an event may be dated (the sender's clock may run a
/// little fast).
pub const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(10);

/// Checks the instant of something that happened: from [`EARLIEST`] to `now` + [`CLOCK_SLACK`].
pub fn happened(name: &str, at: NaiveDateTime, now: NaiveDateTime) -> Option<InvalidParam> {
    if at < EARLIEST {
        Some(InvalidParam::new(name, "must not be before 2000-01-01"))
    } else if at > now + CLOCK_SLACK {
        Some(InvalidParam::new(name, "is in the future"))
    } else {
        None
    }
}

/// Checks the instant of something due: from [`EARLIEST`] to [`LATEST`].
pub fn due(name: &str, at: NaiveDateTime) -> Option<InvalidParam> {
    if at < EARLIEST || at > LATEST {
        Some(InvalidParam::new(
            name,
            format!("must be from {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31"),
        ))
    } else {
        None
    }
}

/// The events listed twice by id (`events[3].id`): a record's events are deduplicated by id, so
/// one id twice in one write is a sender's error.
pub fn repeated_event_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<InvalidParam> {
    let mut seen = std::collections::HashSet::new();
    ids.enumerate()
        .filter(|(_, id)| !seen.insert(*id))
        .map(|(i, _)| InvalidParam::new(format!("events[{i}].id"), "is listed twice"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn instants_outside_the_window_are_refused_by_name() {
        let now = t("2026-12-03 10:00");
        assert!(happened("receivedAt", t("2026-12-03 10:09"), now).is_none());
        assert!(happened("receivedAt", t("2000-01-01 00:00"), now).is_none());
        assert_eq!(
            happened("events[1].at", t("2026-12-03 10:11"), now).map(|p| p.reason),
            Some("is in the future".into())
        );
        assert_eq!(
            happened("receivedAt", t("1999-12-31 23:59"), now).map(|p| p.name),
            Some("receivedAt".into())
        );
        assert!(due("dueAt", t("2100-12-31 00:00")).is_none());
        // The last day's hours too (until 2026-12-07 they were refused).
        assert!(due("dueAt", t("2100-12-31 17:00")).is_none());
        assert!(due("dueAt", t("2100-12-31 23:59")).is_none());
        assert!(due("dueAt", t("2101-01-01 00:00")).is_some());
        assert!(due("dueAt", t("0002-01-01 00:00")).is_some());
    }
}
