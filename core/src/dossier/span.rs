//! How long a dossier's handling spanned, in classes of powers of two days: what lets a period's
//! dossiers carried over from earlier be found without reading every dossier that ended since.
//!
//! A dossier received before a period starts and ended in or after its start is "carried over".
//! Searched by their end, those few are mixed with every dossier ended since (hundreds of
//! thousands on a province a few months back); searched by their receipt, with every dossier
//! received before. A dossier of class `k` took at most `2^k` days, so if it is carried over into
//! a period starting at `start` it was received on or after `start - 2^k days`: per class, the
//! receipts to read are a window of `2^k` days, of which (the class's spans being over `2^(k-1)`
//! days) at least those of the last `2^(k-1)` days are carried over. The last class is
//! unbounded.

use chrono::{NaiveDateTime, TimeDelta};

/// The class of the longest spans: more than `2^(LONGEST - 1)` days (about 11 years), read
/// without a lower bound.
pub const LONGEST: i32 = 13;

/// The class of a dossier received at `received` and ended at `ended`: the least `k` with
/// `ended - received <= 2^k` days (0 for a day or less, also for an end before receipt), or
/// [`LONGEST`]; `None` while it is open.
pub fn class(received: NaiveDateTime, ended: Option<NaiveDateTime>) -> Option<i32> {
    let span = ended? - received;
    Some(
        (0..LONGEST)
            .find(|&k| span <= TimeDelta::days(1 << k))
            .unwrap_or(LONGEST),
    )
}

/// Per class, the earliest receipt of a dossier of that class carried over into a period
/// starting at `start` (`None`: no bound, for [`LONGEST`]).
pub fn carried_over_from(
    start: NaiveDateTime,
) -> impl Iterator<Item = (i32, Option<NaiveDateTime>)> {
    (0..=LONGEST).map(move |k| {
        let earliest = (k < LONGEST)
            .then(|| start.checked_sub_signed(TimeDelta::days(1 << k)))
            .flatten();
        (k, earliest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap()
    }

    #[test]
    fn classes_are_powers_of_two_days() {
        let r = at(2026, 3, 2, 8);
        assert_eq!(class(r, None), None);
        assert_eq!(class(r, Some(at(2026, 3, 2, 17))), Some(0));
        assert_eq!(class(r, Some(at(2026, 3, 1, 17))), Some(0));
        assert_eq!(class(r, Some(at(2026, 3, 3, 8))), Some(0));
        assert_eq!(class(r, Some(at(2026, 3, 3, 9))), Some(1));
        assert_eq!(class(r, Some(at(2026, 3, 6, 8))), Some(2));
        assert_eq!(class(r, Some(at(2026, 3, 6, 9))), Some(3));
        assert_eq!(class(r, Some(at(2027, 3, 2, 8))), Some(9));
        assert_eq!(class(r, Some(at(2040, 3, 2, 8))), Some(LONGEST));
    }

    #[test]
    fn every_carried_over_dossier_is_inside_its_class_window() {
        let start = at(2026, 3, 1, 0);
        let windows: Vec<_> = carried_over_from(start).collect();
        assert_eq!(windows.len(), 14);
        assert_eq!(windows[0], (0, Some(at(2026, 2, 28, 0))));
        assert_eq!(windows[LONGEST as usize], (LONGEST, None));
        // Receipts from 30 years before the start to just before it, ends from the start to
        // 30 years after, in uneven steps: each carried-over dossier is found by its class.
        let mut checked = 0;
        for back in (1..30 * 365 * 24).step_by(97) {
            for ahead in (0..30 * 365 * 24).step_by(4091) {
                let received = start - TimeDelta::hours(back);
                let ended = start + TimeDelta::hours(ahead);
                let k = class(received, Some(ended)).unwrap();
                let (_, earliest) = windows[k as usize];
                assert!(
                    earliest.is_none_or(|e| received >= e),
                    "{received} to {ended} (class {k}) is before {earliest:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 100_000);
    }
}
