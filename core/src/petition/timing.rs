//! A petition's stages and whether each met its deadline.
//!
//! - Refusal (when refused): within `refuseWithin` working days of the start.
//! - Information request (when one was made): the first request within `requestInfoWithin`
//!   working days of the start.
//! - Handling (unless refused, or withdrawn before it): within `handleWithin` working days of
//!   the start, pushed back by the working time from each information request to the next
//!   event (the petitioner's answer). While a request is unanswered the clock is
//!   stopped and the stage has no due instant.
//! - The start is the receipt, or for a petition transferred to the unit (by the Government
//!   Office, a ministry or another province) the latest transfer in: the portal counts a
//!   transferred petition's refusal, first request and handling from it (PORTAL_RULES 5.2).
//!   A transfer comes before the unit's own steps ([`super::check_history`]).
//! - Publication of the answer (once handled): within `publishWithin` working days of the
//!   handling.
//!
//! Counting starts as for dossiers (the calendar's intake rule). A petition ends when refused,
//! when its answer is published, or when withdrawn; it is on time when every stage met its
//! deadline. `late_from` is the earliest deadline missed or still pending: the instant from which
//! the petition counts late unless a pending stage is done first, which is what lists of overdue
//! and soon-due petitions and the period counts compare with.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Event, PetitionRules, Status, ordered};
use crate::calendar::{Calendar, Measure, TimeLimit};

/// A stage of a petition's handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Refusing a petition outside the unit's competence.
    Refusal,
    /// Asking the petitioner for more information.
    InfoRequest,
    /// Handling: deciding the answer.
    Handling,
    /// Publishing the answer.
    Publication,
}

/// Where a stage stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum StageState {
    /// Done by its deadline.
    DoneOnTime,
    /// Done after its deadline.
    DoneLate,
    /// Not done, deadline not passed.
    Pending,
    /// Not done, deadline passed.
    Overdue,
    /// Not done, clock stopped: waiting for the petitioner's information.
    Paused,
}

/// A stage's deadline and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageTiming {
    /// The stage.
    pub stage: Stage,
    /// Its deadline (local time); none while paused.
    pub due_at: Option<NaiveDateTime>,
    /// When it was done (local time).
    pub done_at: Option<NaiveDateTime>,
    /// Where it stands.
    pub state: StageState,
}

/// A petition's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = PetitionTiming))]
#[serde(rename_all = "camelCase")]
pub enum Timing {
    /// Ended, every stage on time.
    EndedOnTime,
    /// Ended, some stage late.
    EndedLate,
    /// Open, no deadline missed.
    OpenWithinTime,
    /// Open, some deadline missed.
    OpenOverdue,
    /// Withdrawn by the petitioner: not judged.
    Withdrawn,
}

impl Timing {
    /// Whether this is a final timing (the petition ended).
    pub fn is_final(self) -> bool {
        matches!(self, Self::EndedOnTime | Self::EndedLate | Self::Withdrawn)
    }
}

/// A petition's stages judged at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Stages {
    /// The stages that apply, in order.
    pub stages: Vec<StageTiming>,
    /// The timing.
    pub timing: Timing,
    /// When it ended (refused, published or withdrawn).
    pub ended_at: Option<NaiveDateTime>,
    /// When it was handled.
    pub handled_at: Option<NaiveDateTime>,
    /// The earliest deadline missed or still pending (none once ended on time, withdrawn, or
    /// while only a paused stage is left).
    pub late_from: Option<NaiveDateTime>,
    /// Working seconds the handling clock stood still for information.
    pub paused_seconds: i64,
}

fn days(n: u32) -> TimeLimit {
    TimeLimit {
        hundredths: i64::from(n) * 100,
        measure: Measure::WorkingDays,
    }
}

fn judge(
    stage: Stage,
    due_at: Option<NaiveDateTime>,
    done_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> StageTiming {
    let state = match (due_at, done_at) {
        (Some(due), Some(done)) if done <= due => StageState::DoneOnTime,
        (_, Some(_)) => StageState::DoneLate,
        (None, None) => StageState::Paused,
        (Some(due), None) if due < at => StageState::Overdue,
        (Some(_), None) => StageState::Pending,
    };
    StageTiming {
        stage,
        due_at,
        done_at,
        state,
    }
}

/// The stages of a petition received at `received_at` with `events` (any order), judged at
/// `at`: events after it are ignored.
pub fn stages(
    calendar: &Calendar,
    rules: &PetitionRules,
    received_at: NaiveDateTime,
    events: &[Event],
    at: NaiveDateTime,
) -> Stages {
    let events: Vec<&Event> = ordered(events).into_iter().filter(|e| e.at <= at).collect();
    let first = |status: Status| events.iter().find(|e| e.status == status).map(|e| e.at);
    let refused = first(Status::Refused);
    let withdrawn = first(Status::Withdrawn);
    // A vendor that sends only the publication has handled the petition by then.
    let handled = first(Status::Handled).or(first(Status::Published));
    let published = handled.and(first(Status::Published));
    let due = |from: NaiveDateTime, n: u32, pauses: &[(NaiveDateTime, NaiveDateTime)]| {
        calendar.due(from, days(n), pauses).due
    };
    let start = events
        .iter()
        .rev()
        .find(|e| e.status == Status::TransferredIn)
        .map_or(received_at, |e| e.at);

    let mut out = Vec::new();
    if let Some(done) = refused {
        out.push(judge(
            Stage::Refusal,
            Some(due(start, rules.refuse_within, &[])),
            Some(done),
            at,
        ));
    }
    let mut pauses = Vec::new();
    let mut open_pause = false;
    for (i, e) in events.iter().enumerate() {
        if e.status != Status::InfoRequested {
            continue;
        }
        if pauses.is_empty() && !open_pause {
            out.push(judge(
                Stage::InfoRequest,
                Some(due(start, rules.request_info_within, &[])),
                Some(e.at),
                at,
            ));
        }
        // A request after the handling deadline passed pauses nothing: the clock had run out
        // (until 2026-12-07 it stopped a clock already past due, taking the petition off the
        // overdue lists and moving its deadline by the pause).
        if e.at > due(start, rules.handle_within, &pauses) {
            break;
        }
        match events.get(i + 1) {
            Some(next) => pauses.push((e.at, next.at)),
            None => open_pause = true,
        }
    }
    let paused_seconds = pauses
        .iter()
        .map(|(from, to)| calendar.working_seconds_between(*from, *to))
        .sum();
    let withdrawn_first = withdrawn.is_some_and(|w| handled.is_none_or(|h| w < h));
    if refused.is_none() && !withdrawn_first {
        let handling_due = (!open_pause).then(|| due(start, rules.handle_within, &pauses));
        out.push(judge(Stage::Handling, handling_due, handled, at));
    }
    if let Some(h) = handled
        && withdrawn.is_none_or(|w| published.is_some_and(|p| w >= p))
    {
        out.push(judge(
            Stage::Publication,
            Some(due(h, rules.publish_within, &[])),
            published,
            at,
        ));
    }

    let ended_at = [refused, published, withdrawn].into_iter().flatten().min();
    let late_from = if withdrawn.is_some() {
        None
    } else {
        out.iter()
            .filter(|s| {
                matches!(
                    s.state,
                    StageState::DoneLate | StageState::Pending | StageState::Overdue
                )
            })
            .filter_map(|s| s.due_at)
            .min()
    };
    let any_late = out.iter().any(|s| s.state == StageState::DoneLate);
    let timing = match (ended_at, withdrawn) {
        (Some(_), Some(_)) => Timing::Withdrawn,
        (Some(_), None) if any_late => Timing::EndedLate,
        (Some(_), None) => Timing::EndedOnTime,
        (None, _) if late_from.is_some_and(|l| l < at) => Timing::OpenOverdue,
        (None, _) => Timing::OpenWithinTime,
    };
    Stages {
        stages: out,
        timing,
        ended_at,
        handled_at: handled,
        late_from,
        paused_seconds,
    }
}
