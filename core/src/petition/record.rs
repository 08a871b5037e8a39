//! A petition as a vendor pushes it: what it says, the petitioner's reaction, its stage events.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Channel, Event, PetitionCode, Reaction, Subject};

/// What a petition says and how it was answered, kept as pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PetitionDetails {
    /// The content, in short.
    pub summary: String,
    /// The outcome of the handling (the answer, in short).
    pub outcome: Option<String>,
    /// Where the answer was published.
    pub answer_url: Option<String>,
}

/// The petitioner's reaction to the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReactionRecord {
    /// Satisfied or not.
    pub value: Reaction,
    /// When (local time).
    pub at: NaiveDateTime,
    /// The code of a further petition on the same matter, if the petitioner filed one.
    pub further_petition: Option<String>,
}

/// A petition to store.
#[derive(Debug, Clone)]
pub struct PetitionWrite {
    /// Code.
    pub code: PetitionCode,
    /// The unit concerned.
    pub unit: String,
    /// What it is about.
    pub subject: Subject,
    /// The procedure concerned, if any.
    pub procedure_code: Option<String>,
    /// The dossier concerned, if any.
    pub dossier_code: Option<String>,
    /// How it arrived.
    pub channel: Channel,
    /// Received at (local time).
    pub received_at: NaiveDateTime,
    /// Content and answer.
    pub details: PetitionDetails,
    /// The petitioner's reaction.
    pub reaction: Option<ReactionRecord>,
    /// Stage events.
    pub events: Vec<Event>,
}
