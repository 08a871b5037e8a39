//! `/api/v1/dossiers`: the dossier registry that vendor one-stop systems push to.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::calendar::{from_local, to_local};
use tthc_core::db::DbConnection;
use tthc_core::db::dossiers::{
    self as store, Applicant, ComponentRecord, Dossier, DossierDetails, DossierFilter,
    DossierSummary, DossierWrite, EventOutcome, FeeRecord, Outcome, Overwrite, Rating, SyncError,
};
use tthc_core::dossier::{
    DossierCode, Event, Flag, RECORD_TEXT_MAX, RatingChannel, ResultDocument, Satisfaction, Status,
    Timing,
};
use tthc_core::procedure::{Channel, ProcedureCode};
use tthc_core::unit::UnitCode;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::auth::{Principal, Scope};
use crate::bulk::{BulkResult, parse_items, read_bulk};
use crate::error::{ApiError, Problem};
use crate::http::word;
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, cell, csv_list, etag, if_match,
    ordered_cursor_key, parse_ordered_cursor, wants_csv,
};
use crate::identity::IdentityKey;
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

fn local(t: DateTime<FixedOffset>) -> NaiveDateTime {
    to_local(&t)
}

/// The applicant.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicantInput {
    /// `citizen` or `organization`.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub kind: String,
    /// Name.
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub name: String,
    /// Identity number (CCCD) or tax code: stored only as a keyed hash (HMAC-SHA256) and its last 4
    /// characters, never returned.
    #[validate(length(min = 4, max = 20))]
    #[schema(min_length = 4, max_length = 20)]
    pub identity_number: Option<String>,
}

/// The citizen's satisfaction rating of a dossier.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": "satisfied", "at": "2026-03-04T10:30:00+07:00", "channel": "portal"}))]
pub struct RatingInput {
    /// The rating.
    pub value: Satisfaction,
    /// When the citizen rated.
    pub at: DateTime<FixedOffset>,
    /// Where the citizen rated; `desk` (the one-stop desk's rating device) when left out.
    #[serde(default = "desk")]
    pub channel: RatingChannel,
}

fn desk() -> RatingChannel {
    RatingChannel::Desk
}

impl From<&RatingInput> for Rating {
    fn from(r: &RatingInput) -> Self {
        Self {
            value: r.value,
            at: local(r.at),
            channel: r.channel,
        }
    }
}

/// A dossier's rating.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingView {
    /// The rating.
    pub value: Satisfaction,
    /// When the citizen rated.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub at: DateTime<FixedOffset>,
    /// Where.
    pub channel: RatingChannel,
}

impl From<Rating> for RatingView {
    fn from(r: Rating) -> Self {
        Self {
            value: r.value,
            at: from_local(r.at),
            channel: r.channel,
        }
    }
}

/// The sync state with the national portal.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncInput {
    /// When it was last synced.
    pub synced_at: DateTime<FixedOffset>,
    /// The status it was synced with.
    pub synced_status: Status,
}

/// A status change.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"id": "evt-000123-4", "status": "finished", "at": "2026-03-04T10:00:00+07:00"}))]
pub struct EventInput {
    /// The vendor's event id, unique within the dossier (events are deduplicated by it).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    /// The new status.
    pub status: Status,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// For an apology with a new date: the new due instant.
    pub new_due: Option<DateTime<FixedOffset>>,
    /// Who made the change (an officer's account or name).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub actor: Option<String>,
    /// A note (e.g. what the supplement request asks for, in words).
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Anything else to keep with the event (the documents a supplement request asks for, the
    /// apology letter's number …): a JSON object up to 8 KiB, kept and returned as sent.
    #[schema(value_type = Option<Object>)]
    #[validate(custom(function = "small_json"))]
    pub payload: Option<serde_json::Value>,
}

fn small_json(value: &serde_json::Value) -> Result<(), validator::ValidationError> {
    if !value.is_object() {
        return Err(
            validator::ValidationError::new("object").with_message("must be a JSON object".into())
        );
    }
    if value.to_string().len() > 8192 {
        return Err(validator::ValidationError::new("size")
            .with_message("is larger than 8 KiB as JSON".into()));
    }
    Ok(())
}

impl From<&EventInput> for Event {
    fn from(e: &EventInput) -> Self {
        Self {
            id: e.id.clone(),
            status: e.status,
            at: local(e.at),
            new_due: e.new_due.map(local),
            actor: e.actor.clone(),
            note: e.note.clone(),
            payload: e.payload.as_ref().map(|p| p.to_string()),
        }
    }
}

/// A failed attempt to sync the dossier with the national portal.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"at": "2026-03-04T10:06:00+07:00", "message": "MaHoSo không hợp lệ"}))]
pub struct SyncErrorInput {
    /// When the attempt failed.
    pub at: DateTime<FixedOffset>,
    /// The portal's answer, or what went wrong.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub message: String,
}

/// Whether every text is at most [`RECORD_TEXT_MAX`] characters.
fn texts_bounded<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<(), ValidationError> {
    if texts
        .into_iter()
        .all(|t| t.chars().count() <= RECORD_TEXT_MAX)
    {
        Ok(())
    } else {
        Err(crate::http::length_error(format!(
            "each name and text at most {RECORD_TEXT_MAX} characters"
        )))
    }
}

fn fee_texts(fees: &[FeeRecord]) -> Result<(), ValidationError> {
    texts_bounded(fees.iter().map(|f| f.name.as_str()))
}

fn component_texts(components: &[ComponentRecord]) -> Result<(), ValidationError> {
    texts_bounded(
        components
            .iter()
            .flat_map(|c| {
                [
                    Some(c.name.as_str()),
                    c.sha256.as_deref(),
                    c.file_url.as_deref(),
                ]
            })
            .flatten(),
    )
}

fn result_texts(results: &[ResultDocument]) -> Result<(), ValidationError> {
    texts_bounded(
        results
            .iter()
            .flat_map(|r| [r.name.as_str(), r.media_type.as_str(), r.sha256.as_str()]),
    )
}

/// A whole dossier, as a vendor system pushes it.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "procedureCode": "1.001193.H12", "unit": "000.21.30.H12", "channel": "online",
    "receivedAt": "2026-03-02T08:00:00+07:00",
    "applicant": {"kind": "citizen", "name": "Nguyễn Văn An", "identityNumber": "001090012345"},
    "components": [{"name": "Tờ khai", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "digitized": true}],
    "results": [{"name": "giay-khai-sinh.pdf", "mediaType": "application/pdf", "sizeBytes": 120394, "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "pages": 1, "signed": true}],
    "sync": {"syncedAt": "2026-03-04T10:05:00+07:00", "syncedStatus": "finished"},
    "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"},
               {"id": "2", "status": "finished", "at": "2026-03-04T10:00:00+07:00"}]
}))]
pub struct DossierPut {
    /// The dossier's code: required in a bulk push; in `PUT /dossiers/{code}` it may be left
    /// out, and when given must be the path's.
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9._-]{1,60}$")]
    pub code: Option<DossierCode>,
    /// Procedure code (the version in force at receipt applies).
    pub procedure_code: ProcedureCode,
    /// Handling unit's code.
    pub unit: UnitCode,
    /// Channel.
    pub channel: Channel,
    /// Submitted at.
    pub submitted_at: Option<DateTime<FixedOffset>>,
    /// Received at.
    pub received_at: DateTime<FixedOffset>,
    /// The vendor's due instant; computed from the procedure's time limit when left out. When it
    /// disagrees with the rules, both are kept and the dossier is flagged.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When the vendor's own record of the dossier last changed (not when it is sent). When both
    /// this push and the stored dossier carry one and they differ, it orders them: a push revised
    /// earlier is `stale`; one revised later is stored even when it takes the last steps back,
    /// unless, listing only stored steps, it lacks one stored with an instant after its revision,
    /// or lists none. Otherwise the events decide. Left out, the stored one is kept.
    pub revised_at: Option<DateTime<FixedOffset>>,
    /// The applicant.
    #[validate(nested)]
    pub applicant: ApplicantInput,
    /// Fees (at most 500, as the portal's dialect).
    #[serde(default)]
    #[validate(length(max = 500), custom(function = "fee_texts"))]
    #[schema(max_items = 500)]
    pub fees: Vec<FeeRecord>,
    /// Whether a financial obligation applies.
    #[serde(default)]
    pub financial_obligation: bool,
    /// Components submitted (at most 500).
    #[serde(default)]
    #[validate(length(max = 500), custom(function = "component_texts"))]
    #[schema(max_items = 500)]
    pub components: Vec<ComponentRecord>,
    /// Account verified with VNeID.
    #[serde(default)]
    pub vneid_verified: bool,
    /// The population database was used.
    #[serde(default)]
    pub population_db_used: bool,
    /// The dossier reused earlier digitized data (the portal's `HoSoCoThanhPhanSoHoa`), whether
    /// or not a component is marked `reused`: counts for `REUSED_DIGITIZED_DATA` (4.3) as a
    /// reused component does.
    #[serde(default)]
    pub reuses_digitized_data: bool,
    /// Result documents (at most 500).
    #[serde(default)]
    #[validate(length(max = 500), custom(function = "result_texts"))]
    #[schema(max_items = 500)]
    pub results: Vec<ResultDocument>,
    /// The citizen's rating. A push without one keeps the stored one; of two, the later is
    /// kept (the citizen portal may rate through `PUT /dossiers/{code}/rating`).
    #[validate(nested)]
    pub rating: Option<RatingInput>,
    /// Sync state with the national portal: the last successful sync.
    #[validate(nested)]
    pub sync: Option<SyncInput>,
    /// The last failed attempt to sync; when it is later than the last success the dossier is
    /// flagged `syncFailing`.
    #[validate(nested)]
    pub sync_error: Option<SyncErrorInput>,
    /// Status events, in any order; a dossier holds at most 500, however they arrive.
    #[serde(default)]
    #[validate(nested, length(max = 500))]
    #[schema(max_items = 500)]
    pub events: Vec<EventInput>,
}

/// The write of a pushed dossier; its identity number is kept only as `identity`'s keyed hash.
fn write_of(code: DossierCode, d: DossierPut, identity: &IdentityKey) -> DossierWrite {
    let digest = d
        .applicant
        .identity_number
        .as_deref()
        .map(|n| identity.digest(n));
    let (identity_hash, identity_last4) = digest.map(|d| (d.hash, d.last4)).unzip();
    DossierWrite {
        code,
        procedure_code: d.procedure_code.to_string(),
        unit: d.unit.to_string(),
        channel: d.channel,
        received_at: local(d.received_at),
        details: DossierDetails {
            submitted_at: d.submitted_at.map(local),
            applicant: Applicant {
                kind: d.applicant.kind,
                name: d.applicant.name,
                identity_last4,
                identity_hash,
            },
            fees: d.fees,
            financial_obligation: d.financial_obligation,
            // A blank link is no link: sent on, it would show the portal a file.
            components: d
                .components
                .into_iter()
                .map(|c| ComponentRecord {
                    file_url: c.file_url.filter(|u| !u.trim().is_empty()),
                    ..c
                })
                .collect(),
            vneid_verified: d.vneid_verified,
            population_db_used: d.population_db_used,
            reuses_digitized_data: d.reuses_digitized_data,
            results: d.results,
            vendor_due_at: d.due_at.map(local),
            revised_at: d.revised_at.map(local),
            sync_error: d.sync_error.map(|e| SyncError {
                at: local(e.at),
                message: e.message,
            }),
            portal_fields: Default::default(),
        },
        synced: d.sync.map(|s| (local(s.synced_at), s.synced_status)),
        rating: d.rating.as_ref().map(Rating::from),
        events: d.events.iter().map(Event::from).collect(),
    }
}

/// A status event as stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// The vendor's id.
    pub id: String,
    /// Status.
    pub status: Status,
    /// The national sync code of the status (1–10).
    pub status_code: u8,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// New due instant (apology).
    pub new_due: Option<DateTime<FixedOffset>>,
    /// Who made the change.
    pub actor: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// What the vendor attached, as sent.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
}

/// The last failed attempt to sync.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncErrorView {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// What went wrong.
    pub message: String,
}

/// A dossier.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "000.21.30.H12-260302-0001", "procedureCode": "1.001193.H12", "procedureVersion": 1, "field": "HT",
    "unit": "000.21.30.H12", "channel": "online", "status": "finished", "statusCode": 9,
    "receivedAt": "2026-03-02T08:00:00+07:00", "dueAt": "2026-03-03T08:00:00+07:00", "ruleDueAt": "2026-03-03T08:00:00+07:00",
    "effectiveDueAt": "2026-03-03T08:00:00+07:00", "endedAt": "2026-03-02T16:00:00+07:00", "timing": "finishedEarly",
    "flags": [], "syncedAt": "2026-03-02T16:05:00+07:00", "syncedStatus": "finished",
    "applicant": {"kind": "citizen", "name": "Nguyễn Văn An", "identityLast4": "2345"},
    "events": [{"id": "1", "status": "received", "statusCode": 2, "at": "2026-03-02T08:00:00+07:00", "newDue": null}],
    "refusedEvents": [], "version": 1
}))]
pub struct DossierView {
    /// Code.
    pub code: String,
    /// Procedure code.
    pub procedure_code: String,
    /// The procedure version in force at receipt.
    pub procedure_version: Option<i32>,
    /// Field.
    pub field: Option<String>,
    /// Handling unit.
    pub unit: String,
    /// Channel.
    pub channel: Channel,
    /// Current status.
    pub status: Option<Status>,
    /// Its national sync code.
    pub status_code: Option<u8>,
    /// Received at.
    pub received_at: DateTime<FixedOffset>,
    /// The due instant used for timing (the vendor's when sent).
    pub due_at: Option<DateTime<FixedOffset>>,
    /// The due instant by the rules.
    pub rule_due_at: Option<DateTime<FixedOffset>>,
    /// The due instant after apologies and supplement time.
    pub effective_due_at: Option<DateTime<FixedOffset>>,
    /// When handling ended by the timing rules.
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// The final timing, once ended.
    pub timing: Option<Timing>,
    /// Quality flags.
    pub flags: Vec<Flag>,
    /// Last synced.
    pub synced_at: Option<DateTime<FixedOffset>>,
    /// Status last synced.
    pub synced_status: Option<Status>,
    /// The last failed attempt to sync.
    pub sync_error: Option<SyncErrorView>,
    /// When the vendor's record of the dossier last changed, as the last push stored said.
    pub revised_at: Option<DateTime<FixedOffset>>,
    /// The applicant (identity number as its last 4 characters only).
    pub applicant: Applicant,
    /// Fees.
    pub fees: Vec<FeeRecord>,
    /// Whether a financial obligation applies.
    pub financial_obligation: bool,
    /// Components.
    pub components: Vec<ComponentRecord>,
    /// VNeID verified.
    pub vneid_verified: bool,
    /// Population database used.
    pub population_db_used: bool,
    /// The dossier says it reused earlier digitized data, whichever component did.
    pub reuses_digitized_data: bool,
    /// Result documents.
    pub results: Vec<ResultDocument>,
    /// What a sync in the portal's dialect (`POST /portal-sync`) carried that tthc has no
    /// field for (`TenTTHC`, `TrichYeuHoSo`, `GhiChu`, a vendor's own …), as sent.
    #[schema(value_type = Object)]
    pub portal_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// The citizen's rating.
    pub rating: Option<RatingView>,
    /// Events in instant order.
    pub events: Vec<EventView>,
    /// Events the vendor sent that the transition rules refused, with the reason: set aside,
    /// the history above is the rest (flag `refusedEvents`).
    pub refused_events: Vec<RefusedEventView>,
    /// Row version.
    pub version: i64,
}

/// An event the transition rules refused.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefusedEventView {
    /// The vendor's id.
    pub id: String,
    /// The status it carried.
    pub status: Status,
    /// Its instant.
    pub at: DateTime<FixedOffset>,
    /// Why it was refused.
    pub reason: String,
    /// When tthc refused it.
    pub refused_at: DateTime<FixedOffset>,
}

impl From<Dossier> for DossierView {
    fn from(d: Dossier) -> Self {
        let mut applicant = d.details.applicant;
        applicant.identity_hash = None;
        Self {
            code: d.code,
            procedure_code: d.procedure_code,
            procedure_version: d.procedure_version,
            field: d.field,
            unit: d.unit,
            channel: d.channel,
            status_code: d.status.map(Status::code),
            status: d.status,
            received_at: from_local(d.received_at),
            due_at: d.due_at.map(from_local),
            rule_due_at: d.rule_due_at.map(from_local),
            effective_due_at: d.effective_due_at.map(from_local),
            ended_at: d.ended_at.map(from_local),
            timing: d.timing,
            flags: d.flags,
            synced_at: d.synced_at.map(from_local),
            synced_status: d.synced_status,
            revised_at: d.details.revised_at.map(from_local),
            sync_error: d.details.sync_error.map(|e| SyncErrorView {
                at: from_local(e.at),
                message: e.message,
            }),
            applicant,
            fees: d.details.fees,
            financial_obligation: d.details.financial_obligation,
            components: d.details.components,
            vneid_verified: d.details.vneid_verified,
            population_db_used: d.details.population_db_used,
            reuses_digitized_data: d.details.reuses_digitized_data,
            results: d.details.results,
            portal_fields: d.details.portal_fields,
            rating: d.rating.map(RatingView::from),
            events: d
                .events
                .into_iter()
                .map(|e| EventView {
                    status_code: e.status.code(),
                    id: e.id,
                    status: e.status,
                    at: from_local(e.at),
                    new_due: e.new_due.map(from_local),
                    actor: e.actor,
                    note: e.note,
                    payload: e.payload.and_then(|p| serde_json::from_str(&p).ok()),
                })
                .collect(),
            refused_events: d
                .refused_events
                .into_iter()
                .map(|r| RefusedEventView {
                    id: r.id,
                    status: r.status,
                    at: from_local(r.at),
                    reason: r.reason,
                    refused_at: from_local(r.refused_at),
                })
                .collect(),
            version: d.version,
        }
    }
}

fn dossier_code(text: &str) -> Result<DossierCode, ApiError> {
    DossierCode::parse(text).map_err(|r| ApiError::invalid("code", r))
}

/// What a push did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "000.21.30.H12-260302-0001", "result": "created"}))]
pub struct PutResult {
    /// The dossier.
    pub code: String,
    /// `created`, `updated`, `unchanged`, or `stale` when it is an older state of the dossier
    /// arriving late and nothing was stored.
    pub result: Outcome,
}

/// Push a whole dossier
///
/// Idempotent by code: the same push again is `unchanged`. Events are checked against the
/// transition rules in instant order. A push whose events are all stored as it lists them while
/// the stored history goes on past its last event is an older state arriving late (a retry
/// landing after the push that followed it): it stores nothing and answers `stale`. To take
/// events back on purpose, send `If-Match` with the dossier's `ETag`. Audited.
#[utoipa::path(
    tag = "dossiers",
    request_body = DossierPut,
    params(
        ("code" = String, Path, description = "Dossier code", example = "000.21.30.H12-260302-0001"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read (\"0\" to insist it is new): the push replaces that version, later events and all, and is never `stale` (`*` names no version: weighed as without the header)"),
    ),
    responses(
        (status = 200, description = "Updated, unchanged, or stale (an older state arriving late: nothing stored)", body = PutResult),
        (status = 201, description = "Created", body = PutResult),
        (status = 400, description = "Invalid fields, unknown unit or procedure, forbidden transitions", body = Problem, content_type = PROBLEM),
        (status = 404, description = "A dossier of this code is stored under a unit outside the caller's grant", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The dossier is not at the version in If-Match", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:write"]))
)]
#[put("/dossiers/{code}")]
pub async fn put_dossier(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    code: web::Path<String>,
    body: ValidJson<DossierPut>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::DossiersWrite)?;
    let code = dossier_code(&code)?;
    let expected = if_match(&req)?;
    let mut body = body.0;
    if body.code.take().is_some_and(|given| given != code) {
        return Err(ApiError::rule("code", "differs from the code in the path"));
    }
    let write = write_of(code.clone(), body, &state.identity);
    let outcome = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let overwrite = expected
                .as_ref()
                .map_or(Overwrite::IfNewer, Overwrite::IfVersion);
            Ok(store::put(
                conn,
                &principal.actor(),
                &scope,
                &write,
                overwrite,
            )?)
        })
        .await;
    let label = match &outcome {
        Ok(o) => word(o),
        Err(_) => "rejected".into(),
    };
    state
        .metrics
        .dossiers
        .with_label_values(&["single", &label])
        .inc();
    let outcome = outcome?;
    let mut res = if outcome == Outcome::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(PutResult {
        code: code.to_string(),
        result: outcome,
    }))
}

/// What adding an event did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "000.21.30.H12-260302-0001", "result": "added", "status": "finished"}))]
pub struct EventResult {
    /// The dossier.
    pub code: String,
    /// `added`, or `duplicate` when the same event was added before.
    pub result: EventOutcome,
    /// The dossier's status now.
    pub status: Option<Status>,
}

/// Add a status event
///
/// Deduplicated by event id; placed by its instant, so events may arrive out of order. A
/// transition the rules forbid (e.g. received after returned) is refused with the reason.
#[utoipa::path(
    tag = "dossiers",
    request_body = EventInput,
    params(("code" = String, Path, description = "Dossier code", example = "000.21.30.H12-260302-0001")),
    responses(
        (status = 200, description = "Added or duplicate", body = EventResult),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such dossier among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The transition is forbidden, or the id was used for another event", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A rule refuses it (an instant out of range), or the dossier holds 500 events already", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:write"]))
)]
#[post("/dossiers/{code}/events")]
pub async fn add_event(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<EventInput>,
) -> Result<web::Json<EventResult>, ApiError> {
    principal.require(Scope::DossiersWrite)?;
    let code = code.into_inner();
    let event = Event::from(&body.0);
    let answer = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let (result, status) =
                store::add_event(conn, &principal.actor(), &scope, &code, &event)?;
            Ok(EventResult {
                code,
                result,
                status,
            })
        })
        .await?;
    Ok(web::Json(answer))
}

/// A recomputed due date.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "000.21.30.H12-260302-0001", "previousRuleDueAt": "2026-03-05T08:00:00+07:00",
    "ruleDueAt": "2026-03-06T08:00:00+07:00", "changed": true, "dueAt": "2026-03-06T08:00:00+07:00",
    "timing": null, "flags": []
}))]
pub struct RecomputeResult {
    /// The dossier.
    pub code: String,
    /// The rules' due instant stored before.
    pub previous_rule_due_at: Option<DateTime<FixedOffset>>,
    /// The rules' due instant now stored.
    pub rule_due_at: Option<DateTime<FixedOffset>>,
    /// Whether it changed.
    pub changed: bool,
    /// The due instant used for timing now (the vendor's when it sent one).
    pub due_at: Option<DateTime<FixedOffset>>,
    /// The final timing now, once ended.
    pub timing: Option<Timing>,
    /// The quality flags now.
    pub flags: Vec<Flag>,
}

/// Recompute a stored due date
///
/// A due instant once stored does not change when the province edits its calendar or the
/// procedure's time limit changes. This request computes it again from the procedure version in
/// force at receipt and the calendar as they are now, and stores it with the timing and flags
/// that follow from it. Audited (`X-Audit-Reason` says why).
#[utoipa::path(
    tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code", example = "000.21.30.H12-260302-0001")),
    responses(
        (status = 200, description = "Recomputed (changed or not)", body = RecomputeResult),
        (status = 404, description = "No such dossier among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:write"]))
)]
#[post("/dossiers/{code}/recompute-due")]
pub async fn recompute_due(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<RecomputeResult>, ApiError> {
    principal.require(Scope::DossiersWrite)?;
    let code = code.into_inner();
    let (before, after) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::recompute_due(
                conn,
                &principal.actor(),
                &scope,
                &code,
            )?)
        })
        .await?;
    Ok(web::Json(RecomputeResult {
        changed: before != after.rule_due_at,
        previous_rule_due_at: before.map(from_local),
        rule_due_at: after.rule_due_at.map(from_local),
        due_at: after.due_at.map(from_local),
        timing: after.timing,
        flags: after.flags,
        code: after.code,
    }))
}

/// The rating in force after a rating was recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "000.21.30.H12-260302-0001", "result": "updated",
    "rating": {"value": "satisfied", "at": "2026-03-04T10:30:00+07:00", "channel": "portal"}}))]
pub struct RatingResult {
    /// The dossier.
    pub code: String,
    /// `updated`, or `unchanged` when the dossier already had this rating or a later one.
    pub result: Outcome,
    /// The rating in force.
    pub rating: Option<RatingView>,
}

/// Rate a dossier
///
/// Records the citizen's satisfaction with a dossier, from the vendor's rating device or the
/// citizen portal. A dossier has one rating: of this one and the stored one, the later by its
/// instant is kept, so ratings may arrive in any order. A `dissatisfied` rating costs
/// `DOSSIER_RECEIVING_SATISFACTION` the dossier once finished (twice if it was also late).
/// Audited.
#[utoipa::path(
    tag = "dossiers",
    request_body = RatingInput,
    params(("code" = String, Path, description = "Dossier code", example = "000.21.30.H12-260302-0001")),
    responses(
        (status = 200, description = "The rating in force", body = RatingResult),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks ratings:write (or dossiers:write)", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such dossier among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["ratings:write"]), ("bearer" = ["dossiers:write"]))
)]
#[put("/dossiers/{code}/rating")]
pub async fn rate_dossier(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<RatingInput>,
) -> Result<web::Json<RatingResult>, ApiError> {
    if principal.require(Scope::RatingsWrite).is_err() {
        principal.require(Scope::DossiersWrite)?;
    }
    let code = code.into_inner();
    let rating = Rating::from(&body.0);
    let key = code.clone();
    let (outcome, rating) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::rate(conn, &principal.actor(), &scope, &key, rating)?)
        })
        .await?;
    Ok(web::Json(RatingResult {
        code,
        result: outcome,
        rating: rating.map(RatingView::from),
    }))
}

/// Push dossiers in bulk
///
/// A JSON array or NDJSON of up to 10,000 dossiers shaped like `PUT /dossiers/{code}` with their
/// `code`. Each is checked first and created, updated, unchanged, stale (an older state
/// arriving late, as in `PUT`) or rejected with its reasons: a bad item never rejects its
/// neighbours. Items of one code are taken as if pushed one after another (a change log's
/// order): the last one taken is stored, and the earlier ones are `stale`; the rating and the
/// refused events of an earlier one taken stay on record, as those pushes would have left them. The
/// accepted items are stored in one transaction, so a crash mid-batch leaves no half-written
/// dossier.
#[utoipa::path(
    tag = "dossiers",
    request_body(content((Vec<DossierPut> = "application/json"), (DossierPut = "application/x-ndjson"))),
    responses(
        (status = 200, description = "Every item's outcome", body = BulkResult),
        (status = 400, description = "Not a JSON array or NDJSON, or too many items", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Neither JSON nor NDJSON", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:write"]))
)]
#[post("/dossiers/bulk")]
pub async fn bulk_dossiers(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<web::Json<BulkResult>, ApiError> {
    principal.require(Scope::DossiersWrite)?;
    // Parse every item first; the valid ones are stored in one batch.
    let mut parsed = parse_items(
        read_bulk(&req, payload).await?,
        |mut item: DossierPut| match item.code.take() {
            Some(code) => Ok((code.to_string(), write_of(code, item, &state.identity))),
            None => Err(ApiError::invalid("code", "is required in a bulk push")),
        },
    );
    let writes = parsed.take_writes();
    let outcomes = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::put_batch(conn, &principal.actor(), &scope, &writes)?)
        })
        .await?;
    let result = parsed.finish(outcomes);
    state.metrics.count_dossiers("bulk", &result);
    Ok(web::Json(result))
}

/// A dossier in a list (its details and events are in `GET /dossiers/{code}`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "000.21.30.H12-260302-0001", "procedureCode": "1.001193.H12", "field": "HT", "unit": "000.21.30.H12",
    "channel": "online", "status": "finished", "statusCode": 9, "receivedAt": "2026-03-02T08:00:00+07:00",
    "dueAt": "2026-03-05T08:00:00+07:00", "effectiveDueAt": "2026-03-05T08:00:00+07:00",
    "endedAt": "2026-03-04T10:00:00+07:00", "timing": "finishedEarly", "flags": [], "syncedAt": "2026-03-04T10:05:00+07:00"
}))]
pub struct SummaryView {
    /// Code.
    pub code: String,
    /// Procedure code.
    pub procedure_code: String,
    /// Field.
    pub field: Option<String>,
    /// Handling unit.
    pub unit: String,
    /// Channel.
    pub channel: Channel,
    /// Current status.
    pub status: Option<Status>,
    /// Its national sync code.
    pub status_code: Option<u8>,
    /// Received at.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub received_at: DateTime<FixedOffset>,
    /// The due instant used for timing.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub due_at: Option<DateTime<FixedOffset>>,
    /// After apologies and supplement time.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub effective_due_at: Option<DateTime<FixedOffset>>,
    /// When handling ended by the rules.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// The final timing, once ended.
    pub timing: Option<Timing>,
    /// Quality flags.
    pub flags: Vec<Flag>,
    /// Last synced.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub synced_at: Option<DateTime<FixedOffset>>,
}

impl From<DossierSummary> for SummaryView {
    fn from(d: DossierSummary) -> Self {
        Self {
            code: d.code,
            procedure_code: d.procedure_code,
            field: d.field,
            unit: d.unit,
            channel: d.channel,
            status_code: d.status.map(Status::code),
            status: d.status,
            received_at: from_local(d.received_at),
            due_at: d.due_at.map(from_local),
            effective_due_at: d.effective_due_at.map(from_local),
            ended_at: d.ended_at.map(from_local),
            timing: d.timing,
            flags: d.flags,
            synced_at: d.synced_at.map(from_local),
        }
    }
}

/// Filters of the dossier list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DossierQuery {
    /// Only dossiers of this unit and the units below it.
    #[param(value_type = Option<String>)]
    pub unit: Option<UnitCode>,
    /// Only this procedure.
    pub procedure: Option<String>,
    /// Only this field.
    pub field: Option<String>,
    /// Only this current status.
    #[param(inline)]
    pub status: Option<Status>,
    /// Only this channel.
    #[param(inline)]
    pub channel: Option<Channel>,
    /// Received at or after (RFC 3339).
    pub received_from: Option<DateTime<FixedOffset>>,
    /// Received before.
    pub received_to: Option<DateTime<FixedOffset>>,
    /// Ended at or after.
    pub finished_from: Option<DateTime<FixedOffset>>,
    /// Ended before.
    pub finished_to: Option<DateTime<FixedOffset>>,
    /// Only dossiers overdue now (`true`) or not (`false`).
    pub overdue: Option<bool>,
    /// Only dossiers not ended whose due instant falls before this one (an early-warning list).
    pub due_before: Option<DateTime<FixedOffset>>,
    /// Only dossiers with this quality flag.
    #[param(inline)]
    pub flag: Option<Flag>,
    /// Only synced (`true`) or never synced (`false`) dossiers.
    pub synced: Option<bool>,
    /// Only dossiers that ended with this timing (`finishedLate` with `finishedFrom`/`finishedTo`
    /// lists the dossiers finished late in a period).
    #[param(inline)]
    pub timing: Option<Timing>,
    /// Only dossiers not ended that fall due within this many working hours from now (national
    /// calendar), soonest first: the early-warning list.
    #[validate(range(min = 1, max = 2000))]
    #[param(minimum = 1, maximum = 2000)]
    pub due_within_hours: Option<i64>,
    /// `-receivedAt` (default, newest first) or `dueAt` (soonest due first).
    #[param(pattern = "^(-receivedAt|dueAt)$")]
    pub sort: Option<String>,
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return `total`, the number of matching dossiers (one more count query).
    pub count: Option<bool>,
}

/// List dossiers
///
/// Newest receipt first, keyset-paginated, with filters; `Accept: text/csv` for a spreadsheet.
#[utoipa::path(
    tag = "dossiers",
    params(DossierQuery),
    responses(
        (status = 200, description = "A page of dossiers", content((Page<SummaryView> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A filter is invalid", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:read"]))
)]
#[get("/dossiers")]
pub async fn list_dossiers(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<DossierQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::DossiersRead)?;
    let q = query.0;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let now = tthc_core::db::now_local();
    if q.due_within_hours.is_some() {
        // Either was ignored without a word.
        let mut clash = Vec::new();
        if q.due_before.is_some() {
            clash.push(InvalidParam::new(
                "dueBefore",
                "give dueWithinHours or dueBefore, not both",
            ));
        }
        if q.sort.as_deref() == Some("-receivedAt") {
            clash.push(InvalidParam::new(
                "sort",
                "dueWithinHours lists by due instant, soonest first: leave sort out or give dueAt",
            ));
        }
        ApiError::unless_rules(clash)?;
    }
    let by_due = match q.sort.as_deref() {
        None | Some("-receivedAt") => q.due_within_hours.is_some(),
        Some("dueAt") => true,
        Some(_) => return Err(ApiError::invalid("sort", "must be -receivedAt or dueAt")),
    };
    // Named in the cursors of that order.
    let order = by_due.then_some(BY_DUE);
    let due_before = match q.due_within_hours {
        Some(hours) => Some(
            tthc_core::calendar::Calendar::national(now.date().year(), now.date().year() + 1)
                .add_working_seconds(now, hours * 3600),
        ),
        None => q.due_before.map(local),
    };
    let mut filter = DossierFilter {
        unit_path: None,
        procedure: q.procedure,
        field: q.field,
        status: q.status,
        channel: q.channel,
        received_from: q.received_from.map(local),
        received_to: q.received_to.map(local),
        ended_from: q.finished_from.map(local),
        ended_to: q.finished_to.map(local),
        overdue_at: q.overdue.map(|o| (o, now)),
        due_before,
        flag: q.flag,
        synced: q.synced,
        timing: q.timing,
        by_due,
        after: q
            .cursor
            .as_deref()
            .map(|c| parse_ordered_cursor(c, order))
            .transpose()?,
        limit: limit + 1,
    };
    let unit = q.unit;
    // The cursor is the position in the order asked for: due instant or receipt, then code.
    let position = move |d: &DossierSummary| {
        let at = if by_due {
            d.effective_due_at.unwrap_or(d.received_at)
        } else {
            d.received_at
        };
        (at, d.code.clone())
    };
    let start = filter.after.take();
    let counting = q.count.unwrap_or(false).then(|| {
        (
            filter.clone(),
            principal.clone(),
            unit.clone(),
            state.unit_paths.clone(),
        )
    });
    let paths = state.unit_paths.clone();
    let read = move |conn: &mut DbConnection, after: Option<&(NaiveDateTime, String)>, limit| {
        filter.after = after.cloned();
        filter.limit = limit;
        principal.read_list(conn, unit.as_ref(), &paths, |conn, within| {
            filter.unit_path = within.unit_path;
            Ok(store::list(conn, &within.scope, &filter)?)
        })
    };
    if wants_csv(&req) {
        // The whole filtered list, page after page.
        return Ok(csv_list(
            &state,
            "dossiers",
            &CSV_HEADER,
            start,
            read,
            position,
            |d| csv_row(&SummaryView::from(d)),
        )
        .await);
    }
    let mut read = read;
    let (rows, total) = state
        .run(move |conn| {
            let rows = read(conn, start.as_ref(), limit + 1)?;
            let total = match counting {
                None => None,
                Some((mut filter, principal, unit, paths)) => {
                    match principal.list_scope(conn, unit.as_ref(), &paths)? {
                        Some(within) => {
                            filter.unit_path = within.unit_path;
                            Some(store::count_matching(conn, &within.scope, &filter)?)
                        }
                        None => Some(0),
                    }
                }
            };
            Ok((rows, total))
        })
        .await?;
    let key = move |d: &DossierSummary| {
        let (at, code) = position(d);
        ordered_cursor_key(order, at, &code)
    };
    let mut page = Page::from_rows(rows, limit, key, SummaryView::from);
    page.total = total;
    Ok(HttpResponse::Ok().json(page))
}

/// The order named in the cursors of the dossier list read by due instant.
const BY_DUE: &str = "dueAt";

/// The columns of the dossier list's CSV.
const CSV_HEADER: [&str; 12] = [
    "code",
    "procedureCode",
    "field",
    "unit",
    "channel",
    "status",
    "receivedAt",
    "dueAt",
    "endedAt",
    "timing",
    "flags",
    "syncedAt",
];

/// A dossier as a CSV row under [`CSV_HEADER`].
fn csv_row(d: &SummaryView) -> Vec<String> {
    vec![
        d.code.clone(),
        d.procedure_code.clone(),
        cell(d.field.clone()),
        d.unit.clone(),
        word(&d.channel),
        cell(d.status),
        d.received_at.to_rfc3339(),
        cell(d.due_at.map(|t| t.to_rfc3339())),
        cell(d.ended_at.map(|t| t.to_rfc3339())),
        cell(d.timing.map(|t| word(&t))),
        d.flags
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        cell(d.synced_at.map(|t| t.to_rfc3339())),
    ]
}

/// Get a dossier
///
/// With its events and quality flags; the identity number is never returned.
#[utoipa::path(
    tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code", example = "000.21.30.H12-260302-0001")),
    responses(
        (status = 200, description = "The dossier; its version is in `ETag`", body = DossierView,
         headers(("ETag" = String, description = "Version, for If-Match on a push"))),
        (status = 404, description = "No such dossier among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:read"]))
)]
#[get("/dossiers/{code}")]
pub async fn get_dossier(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::DossiersRead)?;
    let code = code.into_inner();
    let d = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::get(conn, &scope, &code)?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(d.version)))
        .json(DossierView::from(d)))
}

/// How a dossier's due instant and timing were reached.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "000.21.30.H12-260302-0001", "receivedAt": "2026-03-02T08:00:00+07:00",
    "countingStarts": "2026-03-02T08:00:00+07:00", "limit": {"amount": 3, "measure": "workingDays"},
    "dueAt": "2026-03-05T08:00:00+07:00", "ruleDueAt": "2026-03-05T08:00:00+07:00", "effectiveDueAt": "2026-03-06T08:00:00+07:00",
    "dueExplanation": [], "at": "2026-11-21T10:00:00+07:00", "timing": "finishedOnTime", "endedAt": "2026-03-06T07:59:00+07:00",
    "supplementRequests": 1, "supplementWorkingHours": 8.0,
    "steps": ["handling ended at 2026-03-06 07:59:00", "supplement requested at 2026-03-03 10:00:00 and completed at 2026-03-04 10:00:00: 8.00 working hours added"],
    "events": []
}))]
pub struct TimelineView {
    /// The dossier.
    pub code: String,
    /// Received at.
    pub received_at: DateTime<FixedOffset>,
    /// When counting started (after the intake cut-off rule).
    pub counting_starts: DateTime<FixedOffset>,
    /// The procedure's time limit at receipt.
    pub limit: Option<tthc_core::procedure::TimeLimitSpec>,
    /// The due instant used (the vendor's when sent).
    pub due_at: Option<DateTime<FixedOffset>>,
    /// The rules' due instant.
    pub rule_due_at: Option<DateTime<FixedOffset>>,
    /// After apologies and supplement time.
    pub effective_due_at: Option<DateTime<FixedOffset>>,
    /// How the rules' due instant was computed: days skipped and why.
    pub due_explanation: Vec<crate::routes::calendar::ExplanationItem>,
    /// The instant the timing is judged at: now, or the latest event when a sender's fast
    /// clock dated it up to 10 minutes ahead (as the stored timing is judged).
    pub at: DateTime<FixedOffset>,
    /// The timing.
    pub timing: Timing,
    /// When handling ended by the rules.
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// Supplement requests made.
    pub supplement_requests: usize,
    /// Working hours of answered supplement requests.
    pub supplement_working_hours: f64,
    /// Each timing rule applied, in words.
    pub steps: Vec<String>,
    /// Events in instant order.
    pub events: Vec<EventView>,
}

/// Explain a dossier's timing
///
/// Its due date (the procedure's limit, the cut-off, the days skipped) and its timing
/// classification (end, supplement time, apologies), step by step, judged now (or at the latest
/// event, when a sender's fast clock dated it up to 10 minutes ahead).
#[utoipa::path(
    tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code", example = "000.21.30.H12-260302-0001")),
    responses(
        (status = 200, description = "The timeline", body = TimelineView),
        (status = 404, description = "No such dossier among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:read"]))
)]
#[get("/dossiers/{code}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<TimelineView>, ApiError> {
    principal.require(Scope::DossiersRead)?;
    let code = code.into_inner();
    let now = tthc_core::db::now_local();
    let t = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::timeline(conn, &scope, &code, now)?)
        })
        .await?;
    let c = t.classification;
    let view = DossierView::from(t.dossier);
    Ok(web::Json(TimelineView {
        code: view.code,
        received_at: view.received_at,
        counting_starts: from_local(t.counting_starts),
        limit: t.limit,
        due_at: view.due_at,
        rule_due_at: view.rule_due_at,
        effective_due_at: c.effective_due.map(from_local),
        due_explanation: t
            .due_explanation
            .into_iter()
            .map(crate::routes::calendar::explain)
            .collect(),
        at: from_local(t.at),
        timing: c.timing,
        ended_at: c.end.map(from_local),
        supplement_requests: c.supplement_requests,
        supplement_working_hours: (c.supplement_seconds as f64 / 36.0).round() / 100.0,
        steps: c.steps,
        events: view.events,
    }))
}
