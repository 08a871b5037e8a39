//! Reporting duties: which reports are due when, and how a unit's record of them is judged for
//! the PAR index (seed `003_…`: 0.25 points for each late or poor-quality report, 0.5 for each
//! missing one).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::period::Period;

/// How often a report is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Frequency {
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
    /// Every year.
    Yearly,
    /// Once: a one-off request, due on a given day (seed `001_…`: reports due 12/9, 15/9, 18/9
    /// and 23/9/2024).
    Once,
}

impl Frequency {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Yearly => "yearly",
            Self::Once => "once",
        }
    }

    /// The frequency called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Monthly, Self::Quarterly, Self::Yearly, Self::Once]
            .into_iter()
            .find(|f| f.as_str() == name)
    }

    /// Whether `period` is a period of this frequency.
    pub fn fits(self, period: Period) -> bool {
        matches!(
            (self, period),
            (Self::Monthly, Period::Month { .. })
                | (Self::Quarterly, Period::Quarter { .. })
                | (Self::Yearly, Period::Year(_))
        )
    }

    /// The periods of this frequency in `year`, in order (none for a one-off request).
    pub fn periods_in(self, year: i32) -> Vec<Period> {
        match self {
            Self::Monthly => (1..=12).filter_map(|m| Period::month(year, m)).collect(),
            Self::Quarterly => (1..=4).filter_map(|q| Period::quarter(year, q)).collect(),
            Self::Yearly => Period::year(year).into_iter().collect(),
            Self::Once => Vec::new(),
        }
    }
}

/// Points deducted from the PAR index per report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deductions {
    /// For a report sent late.
    pub late: f64,
    /// For a report marked poor quality.
    pub poor_quality: f64,
    /// For a report never sent.
    pub missing: f64,
}

impl Default for Deductions {
    /// Seed `003_…`: 0.25 for a late or poor report, 0.5 for a missing one.
    fn default() -> Self {
        Self {
            late: 0.25,
            poor_quality: 0.25,
            missing: 0.5,
        }
    }
}

/// When a duty's report for a period is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueRule {
    /// The report must arrive before this day of the month (21: by the 20th).
    pub before_day: u32,
    /// Counted from the period's last month: 0 that month, 1 the month after, …
    pub months_after: u32,
}

impl DueRule {
    /// The first day on which the report for `period` is late.
    pub fn late_from(self, period: Period) -> NaiveDate {
        let last = period.last_day();
        let index = last.year() * 12 + last.month0() as i32 + self.months_after as i32;
        let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
        let day = self.before_day.clamp(1, 28);
        NaiveDate::from_ymd_opt(year, month, day).unwrap_or(last)
    }

    /// The last day the report for `period` is on time.
    pub fn due_on(self, period: Period) -> NaiveDate {
        let late = self.late_from(period);
        late.pred_opt().unwrap_or(late)
    }
}

/// One report owed: what it is named by (the period, or a one-off request's due day) and the
/// last day it is on time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occasion {
    /// `2026-08`, `2026-Q3`, `2026`, or a one-off request's due day `2024-09-14`.
    pub label: String,
    /// The last day the report is on time.
    pub due_on: NaiveDate,
}

impl Occasion {
    /// The first day on which the report is late.
    pub fn late_from(&self) -> NaiveDate {
        self.due_on.succ_opt().unwrap_or(self.due_on)
    }
}

/// How a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Standing {
    /// Sent before its deadline, not marked poor.
    OnTime,
    /// Sent on or after the day it became late.
    Late,
    /// Marked poor quality by the office (late or not).
    PoorQuality,
    /// Sent late, and the office excused the delay (e.g. a system outage, seed `003_…`): it costs
    /// nothing.
    Excused,
    /// Not sent, and the deadline has passed.
    Missing,
    /// Not sent yet, and still within time.
    Pending,
}

/// The first submission of a report, by which the report is judged (a later correction is
/// recorded but does not undo a late or poor first report).
#[derive(Debug, Clone, Copy)]
pub struct FirstSubmission {
    /// When it was sent (local time).
    pub at: NaiveDateTime,
    /// Whether the office marked it poor quality.
    pub poor_quality: bool,
    /// Whether the office excused its delay.
    pub excused: bool,
}

/// How the report for `period` stands at `now` (local time).
pub fn judge(
    rule: DueRule,
    period: Period,
    first: Option<FirstSubmission>,
    now: NaiveDateTime,
) -> Standing {
    judge_from(rule.late_from(period), first, now)
}

/// How a report that is late from `late_from` stands at `now` (local time).
pub fn judge_from(
    late_from: NaiveDate,
    first: Option<FirstSubmission>,
    now: NaiveDateTime,
) -> Standing {
    let late_from = late_from.and_time(chrono::NaiveTime::MIN);
    match first {
        Some(s) if s.poor_quality => Standing::PoorQuality,
        Some(s) if s.at >= late_from && s.excused => Standing::Excused,
        Some(s) if s.at >= late_from => Standing::Late,
        Some(_) => Standing::OnTime,
        None if now >= late_from => Standing::Missing,
        None => Standing::Pending,
    }
}

/// The PAR-index points a report's standing costs.
pub fn deduction(standing: Standing, d: Deductions) -> f64 {
    match standing {
        Standing::Late => d.late,
        Standing::PoorQuality => d.poor_quality,
        Standing::Missing => d.missing,
        Standing::OnTime | Standing::Pending | Standing::Excused => 0.0,
    }
}

/// How many reports of each standing, and the points they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Sent on time.
    pub on_time: u32,
    /// Sent late.
    pub late: u32,
    /// Marked poor quality.
    pub poor_quality: u32,
    /// Sent late with the delay excused (they cost nothing).
    pub excused: u32,
    /// Never sent, past the deadline.
    pub missing: u32,
    /// Not yet due.
    pub pending: u32,
    /// PAR-index points deducted.
    pub deduction: f64,
}

impl Tally {
    /// Counts one report.
    pub fn add(&mut self, standing: Standing, d: Deductions) {
        match standing {
            Standing::OnTime => self.on_time += 1,
            Standing::Late => self.late += 1,
            Standing::PoorQuality => self.poor_quality += 1,
            Standing::Excused => self.excused += 1,
            Standing::Missing => self.missing += 1,
            Standing::Pending => self.pending += 1,
        }
        self.deduction = crate::scoring::round2(self.deduction + deduction(standing, d));
    }

    /// The sum of two tallies.
    pub fn plus(self, o: Self) -> Self {
        Self {
            on_time: self.on_time + o.on_time,
            late: self.late + o.late,
            poor_quality: self.poor_quality + o.poor_quality,
            excused: self.excused + o.excused,
            missing: self.missing + o.missing,
            pending: self.pending + o.pending,
            deduction: crate::scoring::round2(self.deduction + o.deduction),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn month(y: i32, m: u32) -> Period {
        Period::month(y, m).unwrap_or(Period::Year(y))
    }

    #[test]
    fn deadlines_fall_on_the_configured_day_after_the_period() {
        let monthly = DueRule {
            before_day: 21,
            months_after: 0,
        };
        assert_eq!(monthly.late_from(month(2026, 8)), day(2026, 8, 21));
        assert_eq!(monthly.due_on(month(2026, 8)), day(2026, 8, 20));
        let next = DueRule {
            before_day: 25,
            months_after: 1,
        };
        assert_eq!(next.late_from(month(2026, 12)), day(2027, 1, 25));
        let quarterly = DueRule {
            before_day: 1,
            months_after: 1,
        };
        assert_eq!(
            quarterly.due_on(Period::quarter(2026, 3).unwrap_or(Period::Year(2026))),
            day(2026, 9, 30)
        );
        // Day 31 is clamped to 28 so that every month has it.
        let clamp = DueRule {
            before_day: 31,
            months_after: 0,
        };
        assert_eq!(clamp.late_from(month(2026, 2)), day(2026, 2, 28));
        assert_eq!(Frequency::Quarterly.periods_in(2026).len(), 4);
        assert!(Frequency::Monthly.fits(month(2026, 1)));
        assert!(!Frequency::Yearly.fits(month(2026, 1)));
        assert!(Frequency::Once.periods_in(2026).is_empty());
        assert!(!Frequency::Once.fits(month(2026, 1)));
        let once = Occasion {
            label: "2024-09-14".into(),
            due_on: day(2024, 9, 14),
        };
        assert_eq!(once.late_from(), day(2024, 9, 15));
    }

    #[test]
    fn reports_are_judged_by_their_first_submission_and_cost_points() {
        let rule = DueRule {
            before_day: 21,
            months_after: 0,
        };
        let p = month(2026, 8);
        let at = |d: u32, h: u32| day(2026, 8, d).and_hms_opt(h, 0, 0).unwrap_or_default();
        let sent = |d: u32, poor: bool| {
            Some(FirstSubmission {
                at: at(d, 17),
                poor_quality: poor,
                excused: false,
            })
        };
        let excused = |d: u32| {
            Some(FirstSubmission {
                at: at(d, 17),
                poor_quality: false,
                excused: true,
            })
        };
        // An excuse clears a delay and costs nothing; it does not turn an on-time report into
        // anything else.
        assert_eq!(judge(rule, p, excused(22), at(25, 0)), Standing::Excused);
        assert_eq!(judge(rule, p, excused(19), at(25, 0)), Standing::OnTime);
        assert_eq!(deduction(Standing::Excused, Deductions::default()), 0.0);
        assert_eq!(judge(rule, p, sent(20, false), at(25, 0)), Standing::OnTime);
        assert_eq!(judge(rule, p, sent(21, false), at(25, 0)), Standing::Late);
        assert_eq!(
            judge(rule, p, sent(3, true), at(25, 0)),
            Standing::PoorQuality
        );
        assert_eq!(judge(rule, p, None, at(20, 23)), Standing::Pending);
        assert_eq!(judge(rule, p, None, at(21, 0)), Standing::Missing);
        let mut t = Tally::default();
        let d = Deductions::default();
        for s in [
            Standing::OnTime,
            Standing::Late,
            Standing::PoorQuality,
            Standing::Missing,
            Standing::Missing,
            Standing::Pending,
        ] {
            t.add(s, d);
        }
        assert_eq!(
            (t.on_time, t.late, t.poor_quality, t.missing, t.pending),
            (1, 1, 1, 2, 1)
        );
        assert_eq!(t.deduction, 1.5);
        let twice = t.plus(t);
        assert_eq!((twice.missing, twice.deduction), (4, 3.0));
    }
}
