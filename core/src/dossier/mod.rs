//! Dossiers (hồ sơ): one applicant's case under one procedure, its status history, whether it is
//! on time by the rules of the 766 progress indicator, and the data-quality problems that cost
//! points on the national portal. All functions here are pure.

pub mod facts;
pub mod intake;
pub mod portal_sync;
mod quality;
mod record;
pub mod span;
pub mod stored;
mod timing;

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use quality::{Flag, QualityInput, ResultDocument, quality_flags};
pub use record::{
    Applicant, ComponentRecord, DossierDetails, DossierWrite, FeeRecord, RECORD_TEXT_MAX, Rating,
    SyncError,
};
pub use timing::{Classification, Timing, TimingInput, classify};

/// A dossier's status, with the national sync code of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DossierStatus))]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// 1: newly registered (mới đăng ký).
    NewlyRegistered,
    /// 2: received (đã tiếp nhận).
    Received,
    /// 3: not accepted (không được tiếp nhận).
    NotAccepted,
    /// 4: processing (đang xử lý).
    Processing,
    /// 5: supplement requested (yêu cầu bổ sung): the clock pauses.
    SupplementRequested,
    /// 6: financial obligation requested (yêu cầu thực hiện nghĩa vụ tài chính).
    FinancialObligation,
    /// 7: withdrawn by the citizen (công dân rút hồ sơ).
    Withdrawn,
    /// 8: processing stopped (dừng xử lý).
    Stopped,
    /// 9: processing finished (đã xử lý xong).
    Finished,
    /// 10: result returned (đã trả kết quả).
    Returned,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 10] = [
        Self::NewlyRegistered,
        Self::Received,
        Self::NotAccepted,
        Self::Processing,
        Self::SupplementRequested,
        Self::FinancialObligation,
        Self::Withdrawn,
        Self::Stopped,
        Self::Finished,
        Self::Returned,
    ];

    /// The national sync code (1–10).
    pub fn code(self) -> u8 {
        match self {
            Self::NewlyRegistered => 1,
            Self::Received => 2,
            Self::NotAccepted => 3,
            Self::Processing => 4,
            Self::SupplementRequested => 5,
            Self::FinancialObligation => 6,
            Self::Withdrawn => 7,
            Self::Stopped => 8,
            Self::Finished => 9,
            Self::Returned => 10,
        }
    }

    /// The status of a national sync code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The status's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewlyRegistered => "newlyRegistered",
            Self::Received => "received",
            Self::NotAccepted => "notAccepted",
            Self::Processing => "processing",
            Self::SupplementRequested => "supplementRequested",
            Self::FinancialObligation => "financialObligation",
            Self::Withdrawn => "withdrawn",
            Self::Stopped => "stopped",
            Self::Finished => "finished",
            Self::Returned => "returned",
        }
    }

    /// The status called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the dossier's handling has ended (for timing).
    pub fn is_end(self) -> bool {
        matches!(
            self,
            Self::NotAccepted | Self::Withdrawn | Self::Stopped | Self::Finished | Self::Returned
        )
    }

    /// The statuses that may follow this one. Real vendor histories skip steps: a dossier
    /// returned with no finished step, or returned a moment before its finished step arrives,
    /// is kept and flagged (`missingSteps`), never refused.
    pub fn successors(self) -> &'static [Status] {
        use Status::*;
        match self {
            NewlyRegistered => &[Received, NotAccepted, Withdrawn],
            Received | Processing => &[
                Processing,
                SupplementRequested,
                FinancialObligation,
                Withdrawn,
                Stopped,
                Finished,
                Returned,
                NotAccepted,
            ],
            SupplementRequested => &[
                Received,
                Processing,
                FinancialObligation,
                Withdrawn,
                Stopped,
                Finished,
                Returned,
            ],
            FinancialObligation => &[
                Processing,
                SupplementRequested,
                Withdrawn,
                Stopped,
                Finished,
                Returned,
            ],
            Finished => &[Returned],
            Returned => &[Finished],
            NotAccepted | Withdrawn | Stopped => &[],
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dossier code: `{unit identifier}-{yyMMdd}-{4-digit daily sequence}`, e.g.
/// `H15.50.05.13-261008-0975`. Other shapes are accepted (ministries' systems differ) and
/// flagged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct DossierCode(String);

impl DossierCode {
    /// Checks `code` (1–60 ASCII letters, digits, `.`, `-` and `_`) and wraps it.
    pub fn parse(code: &str) -> Result<Self, String> {
        if code.is_empty() || code.len() > 60 {
            return Err("must be 1 to 60 characters".into());
        }
        if let Some(bad) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(format!(
                "may contain only ASCII letters, digits, '.', '-' and '_' (found {bad:?})"
            ));
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts of a standard code: unit identifier, date, daily sequence; `None` for other
    /// shapes.
    pub fn standard_parts(&self) -> Option<(&str, NaiveDate, u16)> {
        let mut parts = self.0.rsplitn(3, '-');
        let seq = parts.next()?;
        let date = parts.next()?;
        let unit = parts.next()?;
        if seq.len() != 4 || !seq.bytes().all(|b| b.is_ascii_digit()) || unit.is_empty() {
            return None;
        }
        if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let date = NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").ok()?;
        Some((unit, date, seq.parse().ok()?))
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DossierCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The vendor's event id, unique within the dossier: events are deduplicated by it.
    pub id: String,
    /// The new status.
    pub status: Status,
    /// When (Vietnam local time).
    pub at: NaiveDateTime,
    /// For an apology (phiếu xin lỗi): the new due instant.
    pub new_due: Option<NaiveDateTime>,
    /// Who made the change (an officer's account or name), as the vendor sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A note, as the vendor sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whatever else the vendor attaches (the documents a supplement request asks for, the
    /// apology letter's number …), as compact JSON text: kept and returned, never interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}

impl Event {
    /// An event with nothing but its id, status and instant.
    pub fn new(id: impl Into<String>, status: Status, at: NaiveDateTime) -> Self {
        Self {
            id: id.into(),
            status,
            at,
            new_due: None,
            actor: None,
            note: None,
            payload: None,
        }
    }
}

/// Why an event cannot be added to a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    /// The event refused.
    pub event_id: String,
    /// Why, in words.
    pub reason: String,
}

/// Orders events by instant (and by arrival for the same instant), as the history is read.
pub fn ordered(events: &[Event]) -> Vec<&Event> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| e.at);
    sorted
}

/// Checks that a history is a sequence the rules allow, in instant order; the first
/// transition that breaks them is reported.
pub fn check_history(events: &[Event]) -> Result<(), Forbidden> {
    let mut current: Option<Status> = None;
    for e in ordered(events) {
        if let Some(from) = current
            && !from.successors().contains(&e.status)
        {
            return Err(Forbidden {
                event_id: e.id.clone(),
                reason: format!("{} cannot follow {from} (at {})", e.status, e.at),
            });
        }
        current = Some(e.status);
    }
    Ok(())
}

/// Why `event` cannot be on a dossier received at `received_at`, if it cannot: a supplement
/// request, or an end of handling, dated before the receipt by more than the clocks of two
/// systems differ ([`crate::window::CLOCK_SLACK`]). The clock had not started: a request before
/// it added the working time since to the due instant (years, for a mistyped year), and an end
/// before it made the dossier early. Other steps before the receipt (its registration, a refusal
/// to receive, a "received" step before the instant sent as the receipt) are kept, and so is a
/// step dated within the slack (a result issued at once by another system): set aside, it would
/// leave a finished dossier open and late.
pub fn before_receipt(received_at: NaiveDateTime, event: &Event) -> Option<String> {
    let stops_the_clock = matches!(
        event.status,
        Status::SupplementRequested | Status::Finished | Status::Returned | Status::Stopped
    );
    (stops_the_clock && event.at < received_at - crate::window::CLOCK_SLACK).then(|| {
        format!(
            "{} at {} is before the receipt at {received_at}",
            event.status, event.at
        )
    })
}

/// The instant a dossier with `events` is judged at when `now` is the clock's: the later of
/// `now` and its latest event within [`crate::window::CLOCK_SLACK`] of it, so that an event dated
/// a little ahead of this clock (a sender's fast clock, which storage accepts) counts, as it
/// will a minute later. An event further ahead (only in rows stored before storage refused
/// them) is not judged as if it had happened.
pub fn judged_at(events: &[Event], now: NaiveDateTime) -> NaiveDateTime {
    let horizon = now + crate::window::CLOCK_SLACK;
    events
        .iter()
        .map(|e| e.at)
        .filter(|at| *at <= horizon)
        .fold(now, NaiveDateTime::max)
}

/// The current status: the last event's, in instant order.
pub fn current_status(events: &[Event]) -> Option<Status> {
    ordered(events).last().map(|e| e.status)
}

#[cfg(test)]
mod tests;

/// What tthc keeps derived from a dossier's data and events, for queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The current status.
    pub status: Option<Status>,
    /// The due instant after apologies and supplement time.
    pub effective_due: Option<NaiveDateTime>,
    /// From when it counts late while open, by the events up to each instant.
    pub late_from: Option<NaiveDateTime>,
    /// Whether it was received (one refused before receipt is not counted).
    pub received: bool,
    /// When handling ended by the timing rules.
    pub ended_at: Option<NaiveDateTime>,
    /// The final timing, once handling ended.
    pub timing: Option<Timing>,
    /// The quality flags and their reasons.
    pub flags: Vec<(Flag, String)>,
}

/// Derives status, timing and flags at `now`.
pub fn derive(
    calendar: &crate::calendar::Calendar,
    timing: &TimingInput<'_>,
    quality: &QualityInput<'_>,
) -> Derived {
    let c = classify(calendar, timing);
    let mut flags = quality_flags(quality);
    if timing.limit.is_none() {
        flags.push((
            Flag::NoTimeLimit,
            "the procedure has no time limit in force at receipt".to_owned(),
        ));
    }
    if timing.due_at.is_none() {
        flags.push((
            Flag::NoDueDate,
            if timing.limit.is_some() {
                "no due date: judged by the procedure's time limit".to_owned()
            } else {
                "no due date and no time limit: it cannot be judged late".to_owned()
            },
        ));
    }
    if !c.received {
        flags.push((
            Flag::NotReceived,
            "refused or withdrawn before receipt: not counted".to_owned(),
        ));
    }
    flags.sort_by_key(|f| f.0);
    Derived {
        status: current_status(timing.events),
        effective_due: c.effective_due,
        late_from: c.late_from,
        received: c.received,
        ended_at: c.end,
        timing: c.end.map(|_| c.timing),
        flags,
    }
}

/// A citizen's satisfaction with a dossier's handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Satisfaction {
    /// Satisfied (hài lòng).
    Satisfied,
    /// Neither (bình thường).
    Neutral,
    /// Dissatisfied (không hài lòng): the dossier costs `DOSSIER_RECEIVING_SATISFACTION` once
    /// finished.
    Dissatisfied,
}

/// Where a citizen rated a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum RatingChannel {
    /// On the rating device at the one-stop desk.
    Desk,
    /// On the national or provincial public service portal.
    Portal,
    /// By telephone or SMS survey.
    Phone,
    /// Anything else.
    Other,
}
