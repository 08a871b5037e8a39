//! Whether a dossier is on time, by the portal's formula for the 766 progress indicator
//! (`PORTAL_RULES.md`, 2.1), judged from the events up to each instant.
//!
//! - The end is the first end event: finished, else returned, else stopped or not accepted,
//!   else withdrawn.
//! - The clock runs from receipt to the due instant. A supplement request stops it; the
//!   citizen's completion (the next received, processing or financial-obligation event)
//!   restarts it, and the working time between them is added to the due instant. A request
//!   followed by the end with no completion forgives nothing: supplement time is request →
//!   completion only.
//! - Exactly one supplement request, not answered: its instant is the end (PORTAL_RULES 2.1,
//!   DOMAIN.md). The citizen's later completion takes that end back, and the clock runs on.
//! - More than one supplement request makes the dossier late from the second request.
//! - An apology with a new date (phiếu xin lỗi) replaces the due instant, once, and only when
//!   it is issued by the due instant: the dossier is then rescheduled, never early.
//! - Without a due date, the procedure's time limit from receipt (at the intake cut-off) stands
//!   in for one; with neither, the dossier cannot be late (and is flagged).
//! - Once late, a dossier stays late: `late_from` is the first instant at which it was late
//!   by the events known up to that instant, so a later event (a supplement request after the
//!   due instant, an apology issued too late) never changes how an earlier period judged it.
//! - Finished before the due day is early; on the due day by the due instant, on time.
//! - Only a received dossier counts: one refused or withdrawn before receipt was never handled.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Event, Status, ordered};
use crate::calendar::{Calendar, Measure, TimeLimit};

/// A dossier's timing. "Finished" is ended by the timing rules: finished, returned, refused,
/// withdrawn, or waiting on its one unanswered supplement request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DossierTiming))]
#[serde(rename_all = "camelCase")]
pub enum Timing {
    /// Finished before its due day.
    FinishedEarly,
    /// Finished on its due day, by the due instant.
    FinishedOnTime,
    /// Finished after its due instant.
    FinishedLate,
    /// Not finished, and still within its time.
    InProgressWithinTime,
    /// Not finished, and past its due instant.
    InProgressOverdue,
}

impl Timing {
    /// Whether this counts as on time for the 766 progress indicator.
    pub fn counts_on_time(self) -> bool {
        matches!(
            self,
            Self::FinishedEarly | Self::FinishedOnTime | Self::InProgressWithinTime
        )
    }

    /// Whether the dossier is finished.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::FinishedEarly | Self::FinishedOnTime | Self::FinishedLate
        )
    }
}

/// What timing is judged from.
#[derive(Debug, Clone, Copy)]
pub struct TimingInput<'a> {
    /// When it was received (local time).
    pub received_at: NaiveDateTime,
    /// Its due instant, if it has one.
    pub due_at: Option<NaiveDateTime>,
    /// The procedure's time limit, used when there is no due instant.
    pub limit: Option<TimeLimit>,
    /// Its events, in any order.
    pub events: &'a [Event],
    /// The instant to judge at: events after it are ignored.
    pub at: NaiveDateTime,
}

/// A dossier's timing and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    /// The timing.
    pub timing: Timing,
    /// When handling ended, if it did: the end event's instant, or that of the one supplement
    /// request not answered.
    pub end: Option<NaiveDateTime>,
    /// The due instant after apologies and supplement time, if there is one.
    pub effective_due: Option<NaiveDateTime>,
    /// The instant from which the dossier counts late while open, by the events up to each
    /// instant; in the future while the clock runs towards it, none while it is within its time
    /// (or paused) and for a dossier that ended in time.
    pub late_from: Option<NaiveDateTime>,
    /// Whether an apology issued in time moved the due instant.
    pub rescheduled: bool,
    /// Whether the dossier was received (refused or withdrawn before receipt: not counted).
    pub received: bool,
    /// Working seconds of answered supplement requests.
    pub supplement_seconds: i64,
    /// Supplement requests made.
    pub supplement_requests: usize,
    /// Each rule applied, in words.
    pub steps: Vec<String>,
}

fn end_event<'a>(events: &[&'a Event]) -> Option<&'a Event> {
    let first = |wanted: &[Status]| events.iter().copied().find(|e| wanted.contains(&e.status));
    first(&[Status::Finished])
        .or_else(|| first(&[Status::Returned]))
        .or_else(|| first(&[Status::Stopped, Status::NotAccepted]))
        .or_else(|| first(&[Status::Withdrawn]))
}

/// Whether a status is a step of handling a received dossier.
fn past_receipt(status: Status) -> bool {
    !matches!(
        status,
        Status::NewlyRegistered | Status::NotAccepted | Status::Withdrawn
    )
}

/// Classifies a dossier at `input.at` by the rules above.
pub fn classify(calendar: &Calendar, input: &TimingInput<'_>) -> Classification {
    let events: Vec<&Event> = ordered(input.events)
        .into_iter()
        .filter(|e| e.at <= input.at)
        .collect();
    let mut steps = Vec::new();
    let received = events.is_empty() || events.iter().any(|e| past_receipt(e.status));
    if !received {
        steps.push("never received (refused or withdrawn before receipt): not counted".into());
    }
    let end = end_event(&events).map(|e| e.at);
    if let Some(e) = end {
        steps.push(format!("handling ended at {e}"));
    }
    // The instant the clock runs out: the due instant, else the procedure's limit from receipt.
    let mut due = input.due_at.or_else(|| {
        let (start, _) = calendar.intake_start(input.received_at);
        let limit = input.limit?;
        let due = calendar.add_working_seconds(start, allowed_seconds(calendar, start, limit));
        steps.push(format!(
            "no due date: the procedure's time limit runs out at {due}"
        ));
        Some(due)
    });
    if due.is_none() {
        steps.push("neither a due date nor a time limit: the dossier cannot be late".into());
    }
    let mut late_from: Option<NaiveDateTime> = None;
    let mut paused_since: Option<NaiveDateTime> = None;
    let (mut requests, mut paused, mut apologies, mut rescheduled) = (0, 0, 0, false);
    for e in events.iter().filter(|e| end.is_none_or(|end| e.at <= end)) {
        // The clock ran out before this event while it was running.
        if late_from.is_none()
            && paused_since.is_none()
            && let Some(d) = due
            && e.at > d
        {
            late_from = Some(d);
            steps.push(format!("late from {d}"));
        }
        if end == Some(e.at) && e.status.is_end() {
            break;
        }
        if let Some(new_due) = e.new_due {
            apologies += 1;
            if apologies > 1 {
                steps.push("a second apology does not move the due instant again".into());
            } else if late_from.is_none() && due.is_none_or(|d| e.at <= d) {
                steps.push(format!("apology at {}: rescheduled to {new_due}", e.at));
                due = Some(new_due);
                rescheduled = true;
            } else {
                steps.push(format!(
                    "apology at {} issued after the due instant: it does not count",
                    e.at
                ));
            }
        }
        match e.status {
            Status::SupplementRequested => {
                requests += 1;
                if requests > 1 && late_from.is_none() {
                    late_from = Some(e.at);
                    steps.push(format!(
                        "second supplement request at {}: more than one counts as late",
                        e.at
                    ));
                }
                paused_since.get_or_insert(e.at);
            }
            Status::Received | Status::Processing | Status::FinancialObligation => {
                if let Some(from) = paused_since.take() {
                    let seconds = calendar.working_seconds_between(from, e.at);
                    paused += seconds;
                    due = due.map(|d| calendar.add_working_seconds(d, seconds));
                    steps.push(format!(
                        "supplement requested at {from} and completed at {}: {:.2} working hours added",
                        e.at,
                        seconds as f64 / 3600.0
                    ));
                }
            }
            _ => {}
        }
    }
    let effective_due = if input.due_at.is_some() || rescheduled {
        due
    } else {
        None
    };
    // Exactly one request, unanswered: the portal ends the dossier there (PORTAL_RULES 2.1).
    let end = match (end, paused_since) {
        (None, Some(from)) if requests == 1 => {
            steps.push(format!(
                "one supplement request at {from}, not answered: its instant is the end"
            ));
            paused_since = None;
            Some(from)
        }
        _ => end,
    };
    let timing = match end {
        Some(end) => {
            if let Some(from) = paused_since {
                steps.push(format!(
                    "supplement requested at {from} and never completed before the end: no supplement time"
                ));
            }
            if late_from.is_none()
                && paused_since.is_none()
                && let Some(d) = due
                && end > d
            {
                late_from = Some(d);
            }
            let late = late_from.is_some() || due.is_some_and(|d| end > d);
            if late {
                Timing::FinishedLate
            } else if !rescheduled && due.is_some_and(|d| end.date() < d.date()) {
                Timing::FinishedEarly
            } else {
                Timing::FinishedOnTime
            }
        }
        None => {
            if let Some(from) = paused_since {
                steps.push(format!(
                    "supplement requested again at {from} and not answered yet: the clock stops there"
                ));
            } else if late_from.is_none() {
                // The clock runs on towards the due instant: late from then, unless an event
                // comes first.
                late_from = due;
            }
            if late_from.is_some_and(|l| l < input.at) {
                Timing::InProgressOverdue
            } else {
                Timing::InProgressWithinTime
            }
        }
    };
    Classification {
        timing,
        end,
        effective_due,
        late_from,
        rescheduled,
        received,
        supplement_seconds: paused,
        supplement_requests: requests,
        steps,
    }
}
/// The working seconds a time limit allows from `start`.
fn allowed_seconds(calendar: &Calendar, start: NaiveDateTime, limit: TimeLimit) -> i64 {
    match limit.measure {
        Measure::WorkingHours => limit.hundredths * 36,
        Measure::WorkingDays => {
            let day = calendar
                .rules(chrono::Datelike::year(&start.date()))
                .day_seconds();
            limit.hundredths * day / 100
        }
        Measure::CalendarDays => {
            let due = calendar.due(start, limit, &[]).due;
            calendar.working_seconds_between(start, due)
        }
    }
}
