//! Petitions (phản ánh, kiến nghị — PAKN): a citizen's or an organization's complaint or
//! suggestion about an administrative regulation or an officer's conduct, the stages of its
//! handling with their deadlines in working days, and the citizen's reaction to the answer.
//! All functions here are pure.

pub mod figures;
pub mod intake;
mod record;
mod timing;

use std::fmt;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub use record::{PetitionDetails, PetitionWrite, ReactionRecord};
pub use timing::{Stage, StageState, StageTiming, Stages, Timing, stages};

use crate::dossier::DossierCode;

/// A petition's code, as the national petition system or the vendor numbers it; the same
/// characters as a dossier code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PetitionCode(String);

impl PetitionCode {
    /// Checks `code` (1–60 ASCII letters, digits, `.`, `-` and `_`) and wraps it.
    pub fn parse(code: &str) -> Result<Self, String> {
        DossierCode::parse(code)?;
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PetitionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PetitionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a petition is about, as the national petition system classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Subject {
    /// An administrative regulation or procedure (quy định hành chính).
    Regulation,
    /// An officer's conduct in handling a procedure (hành vi hành chính).
    OfficerConduct,
}

/// How a petition reached the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = PetitionChannel))]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    /// The national public service portal's petition system.
    Portal,
    /// The province's hotline or a telephone call.
    Phone,
    /// E-mail.
    Email,
    /// A letter.
    Post,
    /// At the one-stop desk, in person.
    InPerson,
    /// Anything else (press, a citizen meeting …).
    Other,
}

/// A step in a petition's handling. `transferredIn`: transferred to the unit by the Government
/// Office, a ministry or another province; the refusal, information request and handling
/// deadlines then count from the latest transfer, not from the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = PetitionStatus))]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Received (tiếp nhận).
    Received,
    /// Transferred to the unit (chuyển đến) by the Government Office, a ministry or another
    /// province after it was first received elsewhere: the refusal, information request and
    /// handling deadlines count from the latest transfer instead of the receipt (PORTAL_RULES
    /// 5.2). It comes before any of the unit's own steps.
    TransferredIn,
    /// Refused: not within the unit's competence or not a petition (từ chối tiếp nhận); ends it.
    Refused,
    /// More information asked of the petitioner (yêu cầu bổ sung thông tin): the handling clock
    /// pauses until it is provided.
    InfoRequested,
    /// The petitioner provided the information asked for.
    InfoProvided,
    /// Handled: the answer is decided (đã xử lý).
    Handled,
    /// The answer was published on the portal (công khai kết quả); ends it.
    Published,
    /// Withdrawn by the petitioner (rút phản ánh); ends it and takes it out of the index.
    Withdrawn,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 8] = [
        Self::Received,
        Self::TransferredIn,
        Self::Refused,
        Self::InfoRequested,
        Self::InfoProvided,
        Self::Handled,
        Self::Published,
        Self::Withdrawn,
    ];

    /// The status's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::TransferredIn => "transferredIn",
            Self::Refused => "refused",
            Self::InfoRequested => "infoRequested",
            Self::InfoProvided => "infoProvided",
            Self::Handled => "handled",
            Self::Published => "published",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The status called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The order of statuses that share an instant, as the handling runs: so that a history
    /// reads the same however its events were stored.
    fn rank(self) -> u8 {
        match self {
            Self::Received => 0,
            Self::InfoRequested => 1,
            Self::InfoProvided => 2,
            Self::Handled => 3,
            Self::Published => 4,
            // After the unit's own steps of the same instant, which it then cannot follow: a
            // transfer stamped with a request's or the handling's instant is refused, never
            // read as restarting the clock just before them.
            Self::TransferredIn => 5,
            Self::Refused => 6,
            Self::Withdrawn => 7,
        }
    }

    /// Whether the petition's handling has ended.
    pub fn is_end(self) -> bool {
        matches!(self, Self::Refused | Self::Published | Self::Withdrawn)
    }

    /// The statuses that may follow this one.
    pub fn successors(self) -> &'static [Status] {
        use Status::*;
        match self {
            // A transfer comes before the unit's own steps: one after them would restart the
            // deadlines of work the unit had already begun.
            Received | TransferredIn => {
                &[TransferredIn, InfoRequested, Refused, Handled, Withdrawn]
            }
            InfoProvided => &[InfoRequested, Refused, Handled, Withdrawn],
            InfoRequested => &[InfoProvided, Refused, Handled, Withdrawn],
            Handled => &[Published, Withdrawn],
            Refused | Published | Withdrawn => &[],
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The petitioner's reaction to the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Reaction {
    /// Satisfied with the answer (hài lòng).
    Satisfied,
    /// Not satisfied (không hài lòng).
    Dissatisfied,
}

/// A status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The vendor's event id, unique within the petition: events are deduplicated by it.
    pub id: String,
    /// The new status.
    pub status: Status,
    /// When (Vietnam local time).
    pub at: NaiveDateTime,
    /// Who made the change, as the vendor sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A note, as the vendor sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The deadlines of a petition's stages, in working days (Decree 20/2008/NĐ-CP as amended).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"refuseWithin": 2, "requestInfoWithin": 5, "handleWithin": 15, "publishWithin": 2})))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PetitionRules {
    /// A refusal is sent within this many working days of receipt (or of the latest transfer
    /// in).
    pub refuse_within: u32,
    /// More information is asked for within this many working days of receipt (or of the
    /// latest transfer in).
    pub request_info_within: u32,
    /// The petition is handled within this many working days of receipt (or of the latest
    /// transfer in), not counting the time the petitioner took to provide information.
    pub handle_within: u32,
    /// The answer is published within this many working days of the handling.
    pub publish_within: u32,
}

impl Default for PetitionRules {
    fn default() -> Self {
        Self {
            refuse_within: 2,
            request_info_within: 5,
            handle_within: 15,
            publish_within: 2,
        }
    }
}

impl PetitionRules {
    /// Every deadline must be 1–365 working days.
    pub fn validate(&self) -> Result<(), Vec<crate::InvalidParam>> {
        let bad: Vec<crate::InvalidParam> = [
            ("refuseWithin", self.refuse_within),
            ("requestInfoWithin", self.request_info_within),
            ("handleWithin", self.handle_within),
            ("publishWithin", self.publish_within),
        ]
        .into_iter()
        .filter(|(_, days)| !(1..=365).contains(days))
        .map(|(name, _)| crate::InvalidParam::new(name, "must be 1 to 365 working days"))
        .collect();
        if bad.is_empty() { Ok(()) } else { Err(bad) }
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

/// Orders events by instant, and events of one instant in the order the handling runs
/// (received, information asked and given, handled, published; then a transfer, which cannot
/// follow them; refusal and withdrawal last).
pub fn ordered(events: &[Event]) -> Vec<&Event> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| (e.at, e.status.rank()));
    sorted
}

/// Checks that a history is a sequence the rules allow, in instant order, and that nothing
/// happens before receipt; the first event that breaks them is reported.
pub fn check_history(received_at: NaiveDateTime, events: &[Event]) -> Result<(), Forbidden> {
    let mut current: Option<Status> = None;
    for e in ordered(events) {
        if e.at < received_at {
            return Err(Forbidden {
                event_id: e.id.clone(),
                reason: format!(
                    "{} at {} is before the receipt at {received_at}",
                    e.status, e.at
                ),
            });
        }
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

/// The current status: the last event's in instant order, `received` without events.
pub fn current_status(events: &[Event]) -> Status {
    ordered(events)
        .last()
        .map_or(Status::Received, |e| e.status)
}

#[cfg(test)]
mod tests;
