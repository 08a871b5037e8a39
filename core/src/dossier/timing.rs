//! Whether a dossier is on time, by the portal's formula for the 766 progress indicator.
//!
//! - The end is the first end event: finished, else returned, else stopped or not accepted,
//!   else withdrawn.
//! - Supplement time (from a request to the citizen's completion, the next event) is working
//!   time added to the due instant. More than one request makes the dossier late. A request the
//!   citizen never answered ends the clock at the request.
//! - An apology with a new date (phiếu xin lỗi) replaces the due instant, once.
//! - Without a due date, the working time used (less supplement time) is compared with the
//!   procedure's time limit.
//! - A dossier not finished is judged at the instant asked about (the end of the period).
//! - Finished before the due day is early; on the due day by the due instant, on time.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Event, Status, ordered};
use crate::calendar::{Calendar, Measure, TimeLimit};

/// A dossier's timing.
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
    /// When handling ended, if it did.
    pub end: Option<NaiveDateTime>,
    /// The due instant after apologies and supplement time, if there is one.
    pub effective_due: Option<NaiveDateTime>,
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

/// Classifies a dossier at `input.at` by the rules above.
pub fn classify(calendar: &Calendar, input: &TimingInput<'_>) -> Classification {
    let events: Vec<&Event> = ordered(input.events)
        .into_iter()
        .filter(|e| e.at <= input.at)
        .collect();
    let mut steps = Vec::new();
    let mut end = end_event(&events).map(|e| e.at);
    if let Some(e) = end {
        steps.push(format!("handling ended at {e}"));
    }

    // Supplement requests and their completion (the next event).
    let mut requests = 0;
    let mut paused = 0;
    for (i, e) in events.iter().enumerate() {
        if e.status != Status::SupplementRequested || end.is_some_and(|end| e.at > end) {
            continue;
        }
        requests += 1;
        match events.get(i + 1) {
            Some(next) => {
                let seconds = calendar.working_seconds_between(e.at, next.at);
                paused += seconds;
                steps.push(format!(
                    "supplement requested at {} and completed at {}: {:.2} working hours added",
                    e.at,
                    next.at,
                    seconds as f64 / 3600.0
                ));
            }
            None => {
                steps.push(format!(
                    "supplement requested at {} and never answered: the clock ends there",
                    e.at
                ));
                end = Some(end.map_or(e.at, |x| x.min(e.at)));
            }
        }
    }

    // An apology replaces the due instant, once.
    let mut due = input.due_at;
    let mut apologies = events.iter().filter_map(|e| e.new_due.map(|d| (e.at, d)));
    if let Some((at, new_due)) = apologies.next() {
        steps.push(format!("apology at {at}: due instant moved to {new_due}"));
        due = Some(new_due);
    }
    if apologies.next().is_some() {
        steps.push("a second apology does not move the due instant again".into());
    }
    let effective_due = due.map(|d| calendar.add_working_seconds(d, paused));

    let finished = end.is_some();
    let judged = end.unwrap_or(input.at);
    let timing = if requests > 1 {
        steps.push(format!(
            "{requests} supplement requests: more than one counts as late"
        ));
        if finished {
            Timing::FinishedLate
        } else {
            Timing::InProgressOverdue
        }
    } else if let Some(due) = effective_due {
        match (finished, judged <= due) {
            (true, true) if judged.date() < due.date() => Timing::FinishedEarly,
            (true, true) => Timing::FinishedOnTime,
            (true, false) => Timing::FinishedLate,
            (false, true) => Timing::InProgressWithinTime,
            (false, false) => Timing::InProgressOverdue,
        }
    } else {
        // No due instant: the working time used against the procedure's limit.
        let (start, _) = calendar.intake_start(input.received_at);
        let used = calendar.working_seconds_between(start, judged) - paused;
        let allowed = input.limit.map(|l| allowed_seconds(calendar, start, l));
        steps.push(format!(
            "no due instant: {:.2} working hours used of {}",
            used as f64 / 3600.0,
            allowed.map_or("an unknown limit".to_owned(), |a| format!(
                "{:.2} allowed",
                a as f64 / 3600.0
            ))
        ));
        let within = allowed.is_none_or(|a| used <= a);
        match (finished, within) {
            (true, true) => Timing::FinishedOnTime,
            (true, false) => Timing::FinishedLate,
            (false, true) => Timing::InProgressWithinTime,
            (false, false) => Timing::InProgressOverdue,
        }
    };
    Classification {
        timing,
        end,
        effective_due,
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
