//! A dossier as a vendor pushes it: its details kept as sent, and the write tthc judges and
//! stores.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{DossierCode, Event, RatingChannel, ResultDocument, Satisfaction, Status};
use crate::procedure::Channel;

/// The longest name or text a dossier's fee, component or result document takes: a dossier's
/// details are one stored row, read whole on every write of it.
pub const RECORD_TEXT_MAX: usize = 1_000;

/// A submitted component of the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentRecord {
    /// Its name.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: String,
    /// SHA-256 of the file, hex.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub sha256: Option<String>,
    /// Where the file can be downloaded (the portal's `DuongDanTaiTepTin`), if given: the portal
    /// relay sends it on, so that the portal sees the file (PORTAL_RULES 4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub file_url: Option<String>,
    /// Digitized (scanned or structured).
    #[serde(default)]
    pub digitized: bool,
    /// Reused from earlier digitized data.
    #[serde(default)]
    pub reused: bool,
    /// Taken from the citizen's data store on the national portal.
    #[serde(default)]
    pub from_citizen_store: bool,
}

/// A fee of the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeRecord {
    /// What for.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: String,
    /// Amount in VND.
    pub amount_vnd: i64,
    /// Paid online (national portal or provincial gateway).
    #[serde(default)]
    pub paid_online: bool,
}

/// The applicant, without the identity number (kept only as a keyed hash and its last 4 digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Applicant {
    /// `citizen` or `organization`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Last 4 characters of the identity number.
    pub identity_last4: Option<String>,
    /// HMAC-SHA256 of the identity number under the service's identity key, as
    /// `hmac-sha256:{key id}:{hex}` (never the number itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_hash: Option<String>,
}

/// The citizen's satisfaction rating of a dossier: one per dossier, the latest by its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rating {
    /// The rating.
    pub value: Satisfaction,
    /// When (local time).
    pub at: NaiveDateTime,
    /// Where the citizen rated.
    pub channel: RatingChannel,
}

/// Everything of a dossier that is kept as pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DossierDetails {
    /// Submitted at (local time).
    pub submitted_at: Option<NaiveDateTime>,
    /// The applicant.
    pub applicant: Applicant,
    /// Fees.
    pub fees: Vec<FeeRecord>,
    /// Whether a financial obligation applies.
    pub financial_obligation: bool,
    /// Components submitted.
    pub components: Vec<ComponentRecord>,
    /// Account verified with VNeID.
    pub vneid_verified: bool,
    /// The population database was used.
    pub population_db_used: bool,
    /// The dossier reused earlier digitized data (the portal's `HoSoCoThanhPhanSoHoa`, how a
    /// dossier synced without its components says so), whether or not a component is marked
    /// `reused` (PORTAL_RULES 4.3). Absent from what earlier versions stored, and left out of
    /// this form when false: the input hash is taken over it, and a dossier pushed again as
    /// before must still hash as before (`unchanged`, not `updated`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reuses_digitized_data: bool,
    /// Result documents.
    pub results: Vec<ResultDocument>,
    /// The vendor's due instant, when it sent one.
    pub vendor_due_at: Option<NaiveDateTime>,
    /// When the vendor last changed its record of the dossier (local time), when it says: pushes
    /// are then ordered by it ([`super::intake::is_older_push`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_at: Option<NaiveDateTime>,
    /// The last failed attempt to sync with the national portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_error: Option<SyncError>,
    /// What a dossier synced in the portal's dialect carried that tthc's model has no place for
    /// (`TenTTHC`, `TrichYeuHoSo`, `GhiChu`, a vendor's own fields …), as sent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub portal_fields: BTreeMap<String, serde_json::Value>,
}

/// A failed attempt to sync a dossier with the national portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncError {
    /// When the attempt failed (local time).
    pub at: NaiveDateTime,
    /// The portal's answer or the vendor's description of the failure.
    pub message: String,
}

/// A dossier to store.
#[derive(Debug, Clone)]
pub struct DossierWrite {
    /// Code.
    pub code: DossierCode,
    /// Procedure code.
    pub procedure_code: String,
    /// Handling unit's code.
    pub unit: String,
    /// Channel.
    pub channel: Channel,
    /// Received at (local time).
    pub received_at: NaiveDateTime,
    /// Details.
    pub details: DossierDetails,
    /// Last synced to the national portal, and with which status.
    pub synced: Option<(NaiveDateTime, Status)>,
    /// The citizen's rating, if this write carries one (a write without one keeps the stored
    /// one; of two, the later is kept).
    pub rating: Option<Rating>,
    /// Events.
    pub events: Vec<Event>,
}
