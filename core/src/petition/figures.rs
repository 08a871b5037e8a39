//! What a period's petitions count: the two petition indicators of the 766 satisfaction group
//! and the tracking figures the national petition system reports, classified by subject.
//!
//! - `PETITION_PROCESSING_ON_TIME`: of the petitions received or processed in the period
//!   (received before its end, not ended before its start, not withdrawn), those that ended in
//!   it on time and those open at its end (or now) with no deadline missed.
//! - `PETITION_HANDLING_SATISFACTION`: of the petitions handled (answered) in the period, those
//!   whose petitioner did not say they were dissatisfied and filed no further petition on the
//!   matter. A petitioner's silence counts as acceptance, as the portal reads it.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{Channel, Reaction, Status, Subject, Timing};

/// What the counts read of one petition (its stored, derived columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PetitionFacts {
    /// Code.
    pub code: String,
    /// What it is about.
    pub subject: Subject,
    /// How it arrived.
    pub channel: Channel,
    /// Current status.
    pub status: Status,
    /// Received at.
    pub received_at: NaiveDateTime,
    /// Handled at.
    pub handled_at: Option<NaiveDateTime>,
    /// Ended at.
    pub ended_at: Option<NaiveDateTime>,
    /// Final timing once ended.
    pub timing: Option<Timing>,
    /// The earliest deadline missed or still pending.
    pub late_from: Option<NaiveDateTime>,
    /// The petitioner's reaction.
    pub reaction: Option<Reaction>,
    /// Whether the petitioner filed a further petition.
    pub further: bool,
}

impl PetitionFacts {
    /// Whether it counts as on time for a period ending at `end`, judged at `judged` (the
    /// period's end, or now when the period is not over); `None` when withdrawn, even after the
    /// period: a withdrawn petition is not judged.
    pub fn on_time(&self, end: NaiveDateTime, judged: NaiveDateTime) -> Option<bool> {
        if self.timing == Some(Timing::Withdrawn) {
            return None;
        }
        Some(match self.ended_at {
            Some(e) if e < end => self.timing == Some(Timing::EndedOnTime),
            // Open at the end of the period (or now): late once a deadline passed by then.
            _ => self.late_from.is_none_or(|l| l >= judged),
        })
    }

    /// Whether it was answered in `[start, end)` (not refused).
    pub fn handled_in(&self, start: NaiveDateTime, end: NaiveDateTime) -> bool {
        self.handled_at.is_some_and(|h| start <= h && h < end)
    }

    /// Whether the petitioner accepted the answer: neither dissatisfied nor petitioning again.
    pub fn accepted(&self) -> bool {
        self.reaction != Some(Reaction::Dissatisfied) && !self.further
    }

    /// Whether it was late by the time it was handled (or, not handled by `judged`, by then):
    /// a deadline before the answer was missed.
    pub fn handled_late(&self, judged: NaiveDateTime) -> bool {
        let by = self.handled_at.filter(|h| *h <= judged).unwrap_or(judged);
        self.late_from.is_some_and(|l| l < by)
    }

    /// Whether it counts as satisfied for `PETITION_HANDLING_SATISFACTION` (PORTAL_RULES 5.3):
    /// accepted, and not handled late.
    pub fn satisfied_by(&self, judged: NaiveDateTime) -> bool {
        self.accepted() && !self.handled_late(judged)
    }
}

/// Counts by subject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BySubject {
    /// About administrative regulations.
    pub regulation: u64,
    /// About officers' conduct.
    pub officer_conduct: u64,
}

impl BySubject {
    fn add(&mut self, subject: Subject) {
        match subject {
            Subject::Regulation => self.regulation += 1,
            Subject::OfficerConduct => self.officer_conduct += 1,
        }
    }
}

/// An indicator's numerator and denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Fraction {
    /// Numerator.
    pub numerator: u64,
    /// Denominator.
    pub denominator: u64,
}

impl Fraction {
    fn add(&mut self, counts: bool) {
        self.denominator += 1;
        self.numerator += u64::from(counts);
    }
}

/// A period's petition figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Received in the period, by subject.
    pub received: BySubject,
    /// Received in the period, by channel.
    pub received_by_channel: BTreeMap<String, u64>,
    /// Received before the period and still open at its start.
    pub carried_over: u64,
    /// Refused in the period (outside the unit's competence).
    pub refused: u64,
    /// Withdrawn in the period.
    pub withdrawn: u64,
    /// Answered in the period, by subject.
    pub handled: BySubject,
    /// Answers published in the period.
    pub published: u64,
    /// Ended in the period on time.
    pub ended_on_time: u64,
    /// Ended in the period late.
    pub ended_late: u64,
    /// Open at the end of the period (or now) with no deadline missed.
    pub open_within_time: u64,
    /// Open at the end of the period (or now) with a deadline missed.
    pub open_overdue: u64,
    /// Of the answered: petitioners satisfied.
    pub satisfied: u64,
    /// Of the answered: petitioners dissatisfied.
    pub dissatisfied: u64,
    /// Of the answered: further petitions filed.
    pub further_petitions: u64,
    /// `PETITION_PROCESSING_ON_TIME`.
    pub processing_on_time: Fraction,
    /// `PETITION_HANDLING_SATISFACTION`.
    pub handling_satisfaction: Fraction,
}

/// Counts `petitions` (those received before `end` and not ended before `start`) for the period
/// `[start, end)`, judged at `judged`.
pub fn count(
    petitions: &[PetitionFacts],
    start: NaiveDateTime,
    end: NaiveDateTime,
    judged: NaiveDateTime,
) -> Figures {
    let mut f = Figures::default();
    for p in petitions {
        let ended_in = p.ended_at.is_some_and(|e| start <= e && e < end);
        if p.received_at >= start {
            f.received.add(p.subject);
            // PORTAL_RULES 5.3: over the petitions first received in the period, less those
            // rated unsatisfied, petitioned again about, or handled late.
            f.handling_satisfaction.add(p.satisfied_by(judged));
            let channel = serde_json::to_value(p.channel)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            *f.received_by_channel.entry(channel).or_default() += 1;
        } else {
            f.carried_over += 1;
        }
        if ended_in {
            match p.status {
                Status::Refused => f.refused += 1,
                Status::Withdrawn => f.withdrawn += 1,
                _ => {}
            }
            match p.timing {
                Some(Timing::EndedOnTime) => f.ended_on_time += 1,
                Some(Timing::EndedLate) => f.ended_late += 1,
                _ => {}
            }
            if p.status == Status::Published {
                f.published += 1;
            }
        }
        if let Some(on_time) = p.on_time(end, judged) {
            f.processing_on_time.add(on_time);
            if p.ended_at.is_none_or(|e| e >= end) {
                if on_time {
                    f.open_within_time += 1;
                } else {
                    f.open_overdue += 1;
                }
            }
        }
        if p.handled_in(start, end) {
            f.handled.add(p.subject);
            match p.reaction {
                Some(Reaction::Satisfied) => f.satisfied += 1,
                Some(Reaction::Dissatisfied) => f.dissatisfied += 1,
                None => {}
            }
            f.further_petitions += u64::from(p.further);
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn petition(code: &str, received: &str) -> PetitionFacts {
        PetitionFacts {
            code: code.into(),
            subject: Subject::Regulation,
            channel: Channel::Portal,
            status: Status::Received,
            received_at: at(received),
            handled_at: None,
            ended_at: None,
            timing: None,
            late_from: None,
            reaction: None,
            further: false,
        }
    }

    /// March 2026, judged after its end. Seven petitions worked by hand:
    /// - A: received 2 March, handled 10 March, published 11 March on time, satisfied.
    /// - B: received 3 March about an officer, handled 20 March late, published 23 March,
    ///   dissatisfied.
    /// - C: received 5 March, refused 6 March on time.
    /// - D: received 25 March, open, next deadline 15 April: within time.
    /// - E: received 20 February, open, a deadline missed 13 March: overdue.
    /// - F: received 26 February, handled 2 March, published 3 March, no reaction but a further
    ///   petition.
    /// - G: received 10 March, withdrawn 12 March: not judged.
    ///
    /// On time: A, C, F (ended on time) and D (open, within time) of A–F (G withdrawn) = 4 / 6.
    /// Satisfaction (PORTAL_RULES 5.3): first received in March A, B, C, D, G; less B
    /// (dissatisfied, and handled late) = 4 / 5. F, petitioned again, was received in February:
    /// February's.
    #[test]
    fn a_petition_handled_late_is_not_satisfied_whatever_the_reaction() {
        let mut late = petition("L", "2026-03-02 08:00");
        late.handled_at = Some(at("2026-03-25 08:00"));
        late.late_from = Some(at("2026-03-20 08:00"));
        late.reaction = Some(Reaction::Satisfied);
        let judged = at("2026-04-01 00:00");
        assert!(late.handled_late(judged) && !late.satisfied_by(judged));
        // A deadline missed only after the answer (publication) does not make it handled late.
        late.late_from = Some(at("2026-03-27 08:00"));
        assert!(!late.handled_late(judged) && late.satisfied_by(judged));
        // Not handled yet: late by the judged instant.
        late.handled_at = None;
        assert!(late.handled_late(judged));
    }

    #[test]
    fn a_month_worked_by_hand() {
        let mut a = petition("A", "2026-03-02 08:00");
        a.status = Status::Published;
        a.handled_at = Some(at("2026-03-10 08:00"));
        a.ended_at = Some(at("2026-03-11 08:00"));
        a.timing = Some(Timing::EndedOnTime);
        a.reaction = Some(Reaction::Satisfied);
        let mut b = petition("B", "2026-03-03 08:00");
        b.subject = Subject::OfficerConduct;
        b.channel = Channel::Phone;
        b.status = Status::Published;
        b.handled_at = Some(at("2026-03-20 08:00"));
        b.ended_at = Some(at("2026-03-23 08:00"));
        b.timing = Some(Timing::EndedLate);
        b.late_from = Some(at("2026-03-18 08:00"));
        b.reaction = Some(Reaction::Dissatisfied);
        let mut c = petition("C", "2026-03-05 08:00");
        c.status = Status::Refused;
        c.ended_at = Some(at("2026-03-06 08:00"));
        c.timing = Some(Timing::EndedOnTime);
        let mut d = petition("D", "2026-03-25 08:00");
        d.late_from = Some(at("2026-04-15 08:00"));
        let mut e = petition("E", "2026-02-20 08:00");
        e.late_from = Some(at("2026-03-13 08:00"));
        let mut f = petition("F", "2026-02-26 08:00");
        f.status = Status::Published;
        f.handled_at = Some(at("2026-03-02 08:00"));
        f.ended_at = Some(at("2026-03-03 08:00"));
        f.timing = Some(Timing::EndedOnTime);
        f.further = true;
        let mut g = petition("G", "2026-03-10 08:00");
        g.status = Status::Withdrawn;
        g.ended_at = Some(at("2026-03-12 08:00"));
        g.timing = Some(Timing::Withdrawn);

        let (start, end) = (at("2026-03-01 00:00"), at("2026-04-01 00:00"));
        let figures = count(&[a, b, c, d, e, f, g], start, end, end);
        let fraction = |numerator, denominator| Fraction {
            numerator,
            denominator,
        };
        assert_eq!(figures.processing_on_time, fraction(4, 6));
        assert_eq!(figures.handling_satisfaction, fraction(4, 5));
        assert_eq!(
            figures.received,
            BySubject {
                regulation: 4,
                officer_conduct: 1
            }
        );
        assert_eq!(figures.received_by_channel.get("phone"), Some(&1));
        assert_eq!(figures.received_by_channel.get("portal"), Some(&4));
        assert_eq!(figures.carried_over, 2);
        assert_eq!((figures.refused, figures.withdrawn), (1, 1));
        assert_eq!(
            figures.handled.regulation + figures.handled.officer_conduct,
            3
        );
        assert_eq!(figures.published, 3);
        assert_eq!((figures.ended_on_time, figures.ended_late), (3, 1));
        assert_eq!((figures.open_within_time, figures.open_overdue), (1, 1));
        assert_eq!(
            (
                figures.satisfied,
                figures.dissatisfied,
                figures.further_petitions
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn an_open_petition_is_judged_at_the_instant_given() {
        let mut p = petition("X", "2026-03-02 08:00");
        p.late_from = Some(at("2026-03-23 08:00"));
        let end = at("2026-04-01 00:00");
        assert_eq!(p.on_time(end, at("2026-03-20 00:00")), Some(true));
        assert_eq!(p.on_time(end, end), Some(false));
        // Withdrawn after the period: not judged in it either.
        let mut withdrawn = p.clone();
        withdrawn.ended_at = Some(at("2026-04-02 08:00"));
        withdrawn.timing = Some(Timing::Withdrawn);
        assert_eq!(withdrawn.on_time(end, end), None);
        // Ended after the period on time, but open at its end past a deadline: late then.
        p.ended_at = Some(at("2026-04-02 08:00"));
        p.timing = Some(Timing::EndedLate);
        assert_eq!(p.on_time(end, end), Some(false));
    }
}
