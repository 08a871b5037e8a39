//! Tasks the provincial office assigns by letter, with a deadline, beside the periodic reporting
//! duties (seed `002_…`: clean the whole catalogue on the national database before 20/10/2023,
//! cut at least 20% of the declared information before 15/9/2023; seed `004_…`: explain the late
//! dossiers before the 17th). A task is assigned to one or many units and each unit's part is
//! judged on its own: how a part stands, the target's figure, the yearly tally.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a unit's part is, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum PartState {
    /// Not done yet.
    Open,
    /// Done, with its evidence (a document number and date).
    Done,
    /// Cancelled by the office, with a reason.
    Cancelled,
}

impl PartState {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Open, Self::Done, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// How a unit's part stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum PartStanding {
    /// Not done, still within time.
    Open,
    /// Not done, and the deadline has passed.
    Overdue,
    /// Done before the deadline.
    Done,
    /// Done, on or after the day it became late.
    DoneLate,
    /// Cancelled: it counts for nothing.
    Cancelled,
}

impl PartStanding {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Overdue => "overdue",
            Self::Done => "done",
            Self::DoneLate => "doneLate",
            Self::Cancelled => "cancelled",
        }
    }

    /// The standing called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Open,
            Self::Overdue,
            Self::Done,
            Self::DoneLate,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Whether the part was or is late.
    pub fn is_late(self) -> bool {
        matches!(self, Self::Overdue | Self::DoneLate)
    }
}

/// How a part in `state` stands on `today`, for a task due before `due_before` (the day the
/// letter names in "trước ngày …": done on or after it is late), done on `done_on` (the
/// evidence's date).
pub fn judge(
    state: PartState,
    due_before: NaiveDate,
    done_on: Option<NaiveDate>,
    today: NaiveDate,
) -> PartStanding {
    match state {
        PartState::Cancelled => PartStanding::Cancelled,
        PartState::Done if done_on.is_some_and(|d| d >= due_before) => PartStanding::DoneLate,
        PartState::Done => PartStanding::Done,
        PartState::Open if today >= due_before => PartStanding::Overdue,
        PartState::Open => PartStanding::Open,
    }
}

/// The last day a task due before `due_before` is on time.
pub fn last_day(due_before: NaiveDate) -> NaiveDate {
    due_before.pred_opt().unwrap_or(due_before)
}

/// The `dueBefore` days of the tasks whose last day falls in `year` (from 2 January of the year
/// to 1 January of the next), so that tasks count in the same year as one-off report requests,
/// which are dated by their last day.
pub fn due_before_in(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(year, 1, 2)?,
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
    ))
}

/// A task's measurable target (seed `001_…`: "100% of electronic certified copies resolved on
/// time"; seed `002_…`: "at least 20% fewer fields to declare").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    /// The target in the letter's words.
    pub text: String,
    /// The 766 indicator that measures it, when tthc can compute it (with `period`), e.g.
    /// `ON_TIME_PROCESSING`.
    #[serde(default)]
    pub indicator: Option<String>,
    /// The period the indicator is measured over (`2024-09`, `2024-Q3`, `2024`).
    #[serde(default)]
    pub period: Option<String>,
    /// The ratio, in percent, to reach at least (0 to 100).
    #[serde(default)]
    pub at_least: Option<f64>,
}

impl Target {
    /// Whether a measured ratio (percent) meets the target: unknown without a threshold or a
    /// ratio.
    pub fn met_by(&self, ratio: Option<f64>) -> Option<bool> {
        Some(ratio? >= self.at_least?)
    }
}

/// A unit's parts of the tasks due in a year, by standing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskTally {
    /// Parts assigned (cancelled ones included).
    pub assigned: u32,
    /// Done on time.
    pub done: u32,
    /// Done late.
    pub done_late: u32,
    /// Not done, past the deadline.
    pub overdue: u32,
    /// Not done, within time.
    pub open: u32,
    /// Cancelled.
    pub cancelled: u32,
    /// Done on time among the parts judged so far (done, done late, overdue), in percent with
    /// two decimals; null when none is judged yet.
    pub on_time_rate: Option<f64>,
}

impl TaskTally {
    /// Counts one part.
    pub fn add(&mut self, standing: PartStanding) {
        self.assigned += 1;
        match standing {
            PartStanding::Open => self.open += 1,
            PartStanding::Overdue => self.overdue += 1,
            PartStanding::Done => self.done += 1,
            PartStanding::DoneLate => self.done_late += 1,
            PartStanding::Cancelled => self.cancelled += 1,
        }
        let judged = self.done + self.done_late + self.overdue;
        self.on_time_rate = (judged > 0)
            .then(|| crate::scoring::round2(f64::from(self.done) * 100.0 / f64::from(judged)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_part_is_late_from_the_day_the_letter_names() {
        // Seed 002: "xong trước ngày 20/10/2023".
        let due = day(2023, 10, 20);
        assert_eq!(last_day(due), day(2023, 10, 19));
        // "trước ngày 1/1/2025" is last done on 31/12/2024: it counts in 2024.
        assert_eq!(
            due_before_in(2024),
            Some((day(2024, 1, 2), day(2025, 1, 1)))
        );
        let on = |state, done: Option<NaiveDate>, today| judge(state, due, done, today);
        assert_eq!(
            on(PartState::Open, None, day(2023, 10, 19)),
            PartStanding::Open
        );
        assert_eq!(
            on(PartState::Open, None, day(2023, 10, 20)),
            PartStanding::Overdue
        );
        assert_eq!(
            on(PartState::Done, Some(day(2023, 10, 19)), day(2023, 12, 1)),
            PartStanding::Done
        );
        assert_eq!(
            on(PartState::Done, Some(day(2023, 10, 20)), day(2023, 10, 20)),
            PartStanding::DoneLate
        );
        assert_eq!(
            on(PartState::Cancelled, None, day(2024, 1, 1)),
            PartStanding::Cancelled
        );
        assert!(PartStanding::DoneLate.is_late() && PartStanding::Overdue.is_late());
        assert!(!PartStanding::Done.is_late());
        assert_eq!(
            PartStanding::parse("doneLate"),
            Some(PartStanding::DoneLate)
        );
        assert_eq!(PartState::parse("late"), None);
    }

    #[test]
    fn a_target_is_met_at_or_above_its_threshold() {
        let t = Target {
            text: "100% hồ sơ chứng thực bản sao điện tử đúng hạn".into(),
            indicator: Some("ON_TIME_PROCESSING".into()),
            period: Some("2024-09".into()),
            at_least: Some(100.0),
        };
        assert_eq!(t.met_by(Some(100.0)), Some(true));
        assert_eq!(t.met_by(Some(99.5)), Some(false));
        assert_eq!(t.met_by(None), None);
        let words_only = Target {
            at_least: None,
            ..t
        };
        assert_eq!(words_only.met_by(Some(100.0)), None);
    }

    #[test]
    fn the_tally_rates_only_parts_already_judged() {
        let mut t = TaskTally::default();
        t.add(PartStanding::Open);
        t.add(PartStanding::Cancelled);
        assert_eq!(t.on_time_rate, None);
        t.add(PartStanding::Done);
        t.add(PartStanding::Done);
        t.add(PartStanding::DoneLate);
        t.add(PartStanding::Overdue);
        assert_eq!(
            (
                t.assigned,
                t.done,
                t.done_late,
                t.overdue,
                t.open,
                t.cancelled
            ),
            (6, 2, 1, 1, 1, 1)
        );
        assert_eq!(t.on_time_rate, Some(50.0));
    }
}
