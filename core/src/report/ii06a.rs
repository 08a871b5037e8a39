//! Form II.06a: dossiers received, resolved and in progress in a period, counted by the timing
//! rules of the 766 progress indicator so that the report and the score never disagree:
//! `ON_TIME_PROCESSING` is (resolved early + resolved on time + in progress within time) over
//! (resolved + in progress), and received + carried over = resolved + in progress.

use chrono::NaiveDateTime;
use serde::Serialize;

/// Dossiers received: new in the period by channel, and carried over from before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Online + in person or postal + carried over.
    pub total: u64,
    /// Received online in the period.
    pub online: u64,
    /// Received at the desk or by post in the period.
    pub in_person_or_postal: u64,
    /// Received before the period and not ended before it.
    pub carried_over: u64,
}

/// Dossiers whose handling ended in the period (finished, returned, stopped, withdrawn, or waiting
/// on their one unanswered supplement request: the 766 progress indicator's end), by timing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    /// Early + on time + late.
    pub total: u64,
    /// Ended before the due day.
    pub early: u64,
    /// Ended on the due day, by the due instant.
    pub on_time: u64,
    /// Ended after the due instant.
    pub late: u64,
}

/// Dossiers still open at the end of the period (or now, while it runs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InProgress {
    /// Within time + overdue.
    pub total: u64,
    /// Not past their due instant.
    pub within_time: u64,
    /// Past their due instant.
    pub overdue: u64,
}

/// One line of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Received.
    pub received: Received,
    /// Resolved.
    pub resolved: Resolved,
    /// In progress.
    pub in_progress: InProgress,
}

/// What the report reads of a dossier.
#[derive(Debug, Clone, Copy)]
pub struct DossierFacts<'a> {
    /// When it was received (local time).
    pub received_at: NaiveDateTime,
    /// When its handling ended, if it did.
    pub ended_at: Option<NaiveDateTime>,
    /// Its stored timing (`finishedEarly`, `finishedOnTime`, `finishedLate` …).
    pub timing: Option<&'a str>,
    /// From when it counts late while open (`dossier::timing`), if it does.
    pub late_from: Option<NaiveDateTime>,
    /// `online`, `inPerson` or `postal`.
    pub channel: &'a str,
}

/// The period a report covers: `[start, end)`, open dossiers judged at `judged` (the end, or
/// now while the period runs).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// First instant.
    pub start: NaiveDateTime,
    /// First instant after.
    pub end: NaiveDateTime,
    /// When open dossiers are judged.
    pub judged: NaiveDateTime,
}

impl Counts {
    /// Adds a dossier handled in `window` (received in it, or before it and not ended before
    /// its start); others are ignored.
    pub fn add(&mut self, d: &DossierFacts<'_>, window: Window) {
        // One received in the window counts whatever its end, as the score counts it: a
        // history may end minutes before its stated receipt (until 2026-12-07 such a dossier
        // received on the 1st and ended the day before was in no month's form).
        let ended_before = d.ended_at.is_some_and(|e| e < window.start);
        if d.received_at >= window.end || (d.received_at < window.start && ended_before) {
            return;
        }
        if d.received_at < window.start {
            self.received.carried_over += 1;
        } else if d.channel == "online" {
            self.received.online += 1;
        } else {
            self.received.in_person_or_postal += 1;
        }
        self.received.total += 1;
        match d.ended_at.filter(|e| *e < window.end) {
            Some(_) => {
                self.resolved.total += 1;
                match d.timing {
                    Some("finishedEarly") => self.resolved.early += 1,
                    Some("finishedOnTime") => self.resolved.on_time += 1,
                    _ => self.resolved.late += 1,
                }
            }
            None => {
                self.in_progress.total += 1;
                // As the progress indicator judges an open dossier: late only if it was late
                // by the window's judged instant.
                if d.late_from.is_none_or(|late| late >= window.judged) {
                    self.in_progress.within_time += 1;
                } else {
                    self.in_progress.overdue += 1;
                }
            }
        }
    }

    /// The sum of two lines.
    pub fn plus(self, o: Self) -> Self {
        let (r, s, p) = (self.received, self.resolved, self.in_progress);
        Self {
            received: Received {
                total: r.total + o.received.total,
                online: r.online + o.received.online,
                in_person_or_postal: r.in_person_or_postal + o.received.in_person_or_postal,
                carried_over: r.carried_over + o.received.carried_over,
            },
            resolved: Resolved {
                total: s.total + o.resolved.total,
                early: s.early + o.resolved.early,
                on_time: s.on_time + o.resolved.on_time,
                late: s.late + o.resolved.late,
            },
            in_progress: InProgress {
                total: p.total + o.in_progress.total,
                within_time: p.within_time + o.in_progress.within_time,
                overdue: p.overdue + o.in_progress.overdue,
            },
        }
    }

    /// The sum of `lines`.
    pub fn total<'a>(lines: impl IntoIterator<Item = &'a Self>) -> Self {
        lines.into_iter().fold(Self::default(), |a, l| a.plus(*l))
    }

    /// The 766 progress indicator's numerator and denominator from these counts.
    pub fn on_time_processing(&self) -> (u64, u64) {
        (
            self.resolved.early + self.resolved.on_time + self.in_progress.within_time,
            self.resolved.total + self.in_progress.total,
        )
    }

    /// Dossiers that were late: resolved late or overdue.
    pub fn late(&self) -> u64 {
        self.resolved.late + self.in_progress.overdue
    }

    /// The eleven figures in the form's column order.
    pub fn columns(&self) -> [u64; 11] {
        let (r, s, p) = (self.received, self.resolved, self.in_progress);
        [
            r.total,
            r.online,
            r.in_person_or_postal,
            r.carried_over,
            s.total,
            s.early,
            s.on_time,
            s.late,
            p.total,
            p.within_time,
            p.overdue,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap_or_default()
    }

    fn d<'a>(
        received: NaiveDateTime,
        ended: Option<NaiveDateTime>,
        timing: Option<&'a str>,
        due: Option<NaiveDateTime>,
        channel: &'a str,
    ) -> DossierFacts<'a> {
        DossierFacts {
            received_at: received,
            ended_at: ended,
            timing,
            late_from: due,
            channel,
        }
    }

    #[test]
    fn every_dossier_lands_in_one_column_of_each_half_and_the_halves_agree() {
        let window = Window {
            start: at(2, 0),
            end: at(20, 0),
            judged: at(20, 0),
        };
        let mut c = Counts::default();
        for x in [
            d(
                at(3, 8),
                Some(at(4, 8)),
                Some("finishedEarly"),
                None,
                "online",
            ),
            d(
                at(3, 8),
                Some(at(9, 8)),
                Some("finishedLate"),
                None,
                "inPerson",
            ),
            d(
                at(3, 8),
                Some(at(5, 8)),
                Some("finishedOnTime"),
                None,
                "postal",
            ),
            d(at(3, 8), None, None, Some(at(5, 8)), "online"),
            d(at(3, 8), None, None, Some(at(25, 8)), "online"),
            // Carried over, ended in the period on time.
            d(
                at(1, 8),
                Some(at(2, 9)),
                Some("finishedOnTime"),
                None,
                "online",
            ),
            // Carried over, ended after the period: in progress at its end, overdue.
            d(
                at(1, 8),
                Some(at(21, 9)),
                Some("finishedLate"),
                Some(at(19, 8)),
                "inPerson",
            ),
            // Not handled in the period: ended before it, received after it.
            d(
                at(1, 8),
                Some(at(1, 9)),
                Some("finishedEarly"),
                None,
                "online",
            ),
            d(at(20, 8), None, None, None, "online"),
        ] {
            c.add(&x, window);
        }
        assert_eq!(
            c.received,
            Received {
                total: 7,
                online: 3,
                in_person_or_postal: 2,
                carried_over: 2
            }
        );
        assert_eq!(
            c.resolved,
            Resolved {
                total: 4,
                early: 1,
                on_time: 2,
                late: 1
            }
        );
        assert_eq!(
            c.in_progress,
            InProgress {
                total: 3,
                within_time: 1,
                overdue: 2
            }
        );
        assert_eq!(c.received.total, c.resolved.total + c.in_progress.total);
        assert_eq!(c.on_time_processing(), (4, 7));
        assert_eq!(c.late(), 3);
        assert_eq!(c.plus(c).columns()[0], 14);
    }

    #[test]
    fn an_open_dossier_is_judged_at_the_window_s_judging_instant() {
        let open = d(at(3, 8), None, None, Some(at(10, 8)), "online");
        let mut running = Counts::default();
        running.add(
            &open,
            Window {
                start: at(1, 0),
                end: at(31, 0),
                judged: at(9, 0),
            },
        );
        assert_eq!(running.in_progress.within_time, 1);
        let mut over = Counts::default();
        over.add(
            &open,
            Window {
                start: at(1, 0),
                end: at(31, 0),
                judged: at(31, 0),
            },
        );
        assert_eq!(over.in_progress.overdue, 1);
    }

    #[test]
    fn a_dossier_received_in_the_window_counts_even_when_its_history_ends_before() {
        let window = Window {
            start: at(2, 0),
            end: at(20, 0),
            judged: at(20, 0),
        };
        let mut c = Counts::default();
        // Received at 07:00 on the window's first day, withdrawn the evening before.
        c.add(
            &d(
                at(2, 7),
                Some(at(1, 16)),
                Some("finishedEarly"),
                None,
                "inPerson",
            ),
            window,
        );
        assert_eq!(c.received.total, 1);
        assert_eq!(c.received.in_person_or_postal, 1);
        assert_eq!((c.resolved.total, c.resolved.early), (1, 1));
        // One received before the window and ended before it is not the window's.
        let mut before = Counts::default();
        before.add(
            &d(
                at(1, 7),
                Some(at(1, 16)),
                Some("finishedEarly"),
                None,
                "inPerson",
            ),
            window,
        );
        assert_eq!(before.received.total, 0);
    }
}
