//! `/api/v1/petitions`: petitions (phản ánh, kiến nghị) pushed by vendor systems, their stage
//! events and deadlines, lists of overdue and soon-due petitions, and a unit's petition figures.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Serialize};
use tthc_core::calendar::from_local;
use tthc_core::db::DbConnection;
use tthc_core::db::petitions::{
    self as store, EventOutcome, Outcome, Petition, PetitionDetails, PetitionFilter,
    PetitionSummary, PetitionWrite, ReactionRecord,
};
use tthc_core::dossier::DossierCode;
use tthc_core::period::Period;
use tthc_core::petition::figures::Figures;
use tthc_core::petition::{
    Channel, Event, PetitionCode, PetitionRules, Reaction, Stage, StageState, Status, Subject,
    Timing,
};
use tthc_core::procedure::ProcedureCode;
use tthc_core::unit::UnitCode;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::bulk::{BulkResult, parse_items, read_bulk};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, cell, csv_list, ordered_cursor_key,
    parse_ordered_cursor, wants_csv, word,
};
use crate::instant::local;
use crate::state::AppState;
use tthc_core::db::now_local;

/// A stage event of a petition.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"id": "pakn-77-2", "status": "handled", "at": "2026-03-20T10:00:00+07:00"}))]
pub struct PetitionEventInput {
    /// The vendor's event id, unique within the petition (events are deduplicated by it).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    /// The new status.
    pub status: Status,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who made the change.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub actor: Option<String>,
    /// A note.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

impl From<&PetitionEventInput> for Event {
    fn from(e: &PetitionEventInput) -> Self {
        Self {
            id: e.id.clone(),
            status: e.status,
            at: local(e.at),
            actor: e.actor.clone(),
            note: e.note.clone(),
        }
    }
}

/// The petitioner's reaction to the answer.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactionInput {
    /// Satisfied or not.
    pub value: Reaction,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// The code of a further petition the petitioner filed on the same matter.
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9._-]{1,60}$")]
    pub further_petition: Option<PetitionCode>,
}

/// A whole petition, as a vendor system pushes it.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "unit": "000.21.30.H12", "subject": "regulation", "procedureCode": "1.001193.H12",
    "dossierCode": "000.21.30.H12-260302-0001", "channel": "portal",
    "receivedAt": "2026-03-02T08:00:00+07:00",
    "summary": "Hồ sơ khai sinh bị yêu cầu nộp thêm giấy tờ không có trong quy định",
    "outcome": "Đã hướng dẫn lại cán bộ tiếp nhận; hồ sơ được giải quyết",
    "answerUrl": "https://dichvucong.gov.vn/p/home/dvc-pakn.html",
    "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"},
               {"id": "2", "status": "handled", "at": "2026-03-20T10:00:00+07:00"},
               {"id": "3", "status": "published", "at": "2026-03-23T09:00:00+07:00"}],
    "reaction": {"value": "satisfied", "at": "2026-03-24T09:00:00+07:00"}
}))]
pub struct PetitionPut {
    /// The petition's code: required in a bulk push; in `PUT /petitions/{code}` it may be left
    /// out, and when given must be the path's.
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9._-]{1,60}$")]
    pub code: Option<PetitionCode>,
    /// The unit concerned.
    pub unit: UnitCode,
    /// What it is about.
    pub subject: Subject,
    /// The procedure concerned, if any (must be in the catalogue).
    pub procedure_code: Option<ProcedureCode>,
    /// The dossier concerned, if any (it need not be stored yet); such a dossier costs
    /// `DOSSIER_RECEIVING_SATISFACTION` once finished.
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9._-]{1,60}$")]
    pub dossier_code: Option<DossierCode>,
    /// How it arrived.
    pub channel: Channel,
    /// Received at.
    pub received_at: DateTime<FixedOffset>,
    /// The content, in short.
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub summary: String,
    /// The outcome of the handling (the answer, in short).
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub outcome: Option<String>,
    /// Where the answer was published.
    #[validate(url, length(max = 500))]
    #[schema(max_length = 500, format = Uri)]
    pub answer_url: Option<String>,
    /// The petitioner's reaction to the answer (only once handled).
    #[validate(nested)]
    pub reaction: Option<ReactionInput>,
    /// Stage events, in any order.
    #[serde(default)]
    #[validate(nested, length(max = 100))]
    #[schema(max_items = 100)]
    pub events: Vec<PetitionEventInput>,
}

fn write_of(code: PetitionCode, p: PetitionPut) -> PetitionWrite {
    PetitionWrite {
        code,
        unit: p.unit.to_string(),
        subject: p.subject,
        procedure_code: p.procedure_code.map(|c| c.to_string()),
        dossier_code: p.dossier_code.map(|c| c.to_string()),
        channel: p.channel,
        received_at: local(p.received_at),
        details: PetitionDetails {
            summary: p.summary,
            outcome: p.outcome,
            answer_url: p.answer_url,
        },
        reaction: p.reaction.map(|r| ReactionRecord {
            value: r.value,
            at: local(r.at),
            further_petition: r.further_petition.map(|c| c.to_string()),
        }),
        events: p.events.iter().map(Event::from).collect(),
    }
}

fn petition_code(text: &str) -> Result<PetitionCode, ApiError> {
    PetitionCode::parse(text).map_err(|r| ApiError::invalid("code", r))
}

/// What a push did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "PAKN-2026-000077", "result": "created"}))]
pub struct PetitionPutResult {
    /// The petition.
    pub code: String,
    /// `created`, `updated` or `unchanged`.
    pub result: Outcome,
}

/// Push a whole petition
///
/// Idempotent by code: the same push again is `unchanged`. Events are checked against the
/// stage rules in instant order; the stage deadlines are computed with the calendar of the
/// unit's province and the petition deadlines in force. Audited.
#[utoipa::path(
    tag = "petitions",
    request_body = PetitionPut,
    params(("code" = String, Path, description = "Petition code", example = "PAKN-2026-000077")),
    responses(
        (status = 200, description = "Updated or unchanged", body = PetitionPutResult),
        (status = 201, description = "Created", body = PetitionPutResult),
        (status = 400, description = "Invalid fields, unknown unit or procedure, forbidden transitions", body = Problem, content_type = PROBLEM),
        (status = 404, description = "A petition of this code is stored under a unit outside the caller's grant", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:write"]))
)]
#[put("/petitions/{code}")]
pub async fn put_petition(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<PetitionPut>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PetitionsWrite)?;
    let code = petition_code(&code)?;
    let mut body = body.0;
    if body.code.take().is_some_and(|given| given != code) {
        return Err(ApiError::rule("code", "differs from the code in the path"));
    }
    let write = write_of(code.clone(), body);
    let outcome = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::put(conn, &principal.actor(), &scope, &write)?)
        })
        .await?;
    let mut res = if outcome == Outcome::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(PetitionPutResult {
        code: code.to_string(),
        result: outcome,
    }))
}

/// What adding an event did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "PAKN-2026-000077", "result": "added", "status": "handled"}))]
pub struct PetitionEventResult {
    /// The petition.
    pub code: String,
    /// `added`, or `duplicate` when the same event was added before.
    pub result: EventOutcome,
    /// The petition's status now.
    pub status: Status,
}

/// Add a stage event
///
/// Deduplicated by event id; placed by its instant, so events may arrive out of order. A
/// transition the rules forbid (e.g. handled after refused) is refused with the reason.
#[utoipa::path(
    tag = "petitions",
    request_body = PetitionEventInput,
    params(("code" = String, Path, description = "Petition code", example = "PAKN-2026-000077")),
    responses(
        (status = 200, description = "Added or duplicate", body = PetitionEventResult),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such petition among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The transition is forbidden, or the id was used for another event", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:write"]))
)]
#[post("/petitions/{code}/events")]
pub async fn add_petition_event(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<PetitionEventInput>,
) -> Result<web::Json<PetitionEventResult>, ApiError> {
    principal.require(Scope::PetitionsWrite)?;
    let code = code.into_inner();
    let event = Event::from(&body.0);
    let key = code.clone();
    let (result, status) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::add_event(
                conn,
                &principal.actor(),
                &scope,
                &key,
                &event,
            )?)
        })
        .await?;
    Ok(web::Json(PetitionEventResult {
        code,
        result,
        status,
    }))
}

/// Push petitions in bulk
///
/// A JSON array or NDJSON of up to 10,000 petitions shaped like `PUT /petitions/{code}` with
/// their `code`. Each is checked first and created, updated, unchanged or rejected with its
/// reasons: a bad item never rejects its neighbours. The accepted items are stored in one
/// transaction.
#[utoipa::path(
    tag = "petitions",
    request_body(content((Vec<PetitionPut> = "application/json"), (PetitionPut = "application/x-ndjson"))),
    responses(
        (status = 200, description = "Every item's outcome", body = BulkResult),
        (status = 400, description = "Not a JSON array or NDJSON, or too many items", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Neither JSON nor NDJSON", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:write"]))
)]
#[post("/petitions/bulk")]
pub async fn bulk_petitions(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<web::Json<BulkResult>, ApiError> {
    principal.require(Scope::PetitionsWrite)?;
    let mut parsed = parse_items(
        read_bulk(&req, payload).await?,
        |mut item: PetitionPut| match item.code.take() {
            Some(code) => Ok((code.to_string(), write_of(code, item))),
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
    Ok(web::Json(parsed.finish(outcomes)))
}

/// A petition in a list (its content and events are in `GET /petitions/{code}`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "PAKN-2026-000077", "unit": "000.21.30.H12", "subject": "regulation",
    "procedureCode": "1.001193.H12", "dossierCode": null, "channel": "portal", "status": "received",
    "receivedAt": "2026-03-02T08:00:00+07:00", "handledAt": null, "endedAt": null, "timing": null,
    "lateFrom": "2026-03-23T08:00:00+07:00", "overdue": false, "reaction": null
}))]
pub struct PetitionSummaryView {
    /// Code.
    pub code: String,
    /// The unit concerned.
    pub unit: String,
    /// What it is about.
    pub subject: Subject,
    /// The procedure concerned.
    pub procedure_code: Option<String>,
    /// The dossier concerned.
    pub dossier_code: Option<String>,
    /// How it arrived.
    pub channel: Channel,
    /// Current status.
    pub status: Status,
    /// Received at.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub received_at: DateTime<FixedOffset>,
    /// Handled (answer decided) at.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub handled_at: Option<DateTime<FixedOffset>>,
    /// Ended (refused, answer published, withdrawn) at.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// The final timing, once ended.
    pub timing: Option<Timing>,
    /// The earliest stage deadline missed, or the next one pending: an open petition is overdue
    /// from this instant on.
    #[serde(serialize_with = "crate::instant::serialize_option")]
    pub late_from: Option<DateTime<FixedOffset>>,
    /// Open and past a deadline now.
    pub overdue: bool,
    /// The petitioner's reaction.
    pub reaction: Option<Reaction>,
}

fn summary_view(p: PetitionSummary, now: NaiveDateTime) -> PetitionSummaryView {
    PetitionSummaryView {
        overdue: p.ended_at.is_none() && p.late_from.is_some_and(|l| l < now),
        code: p.code,
        unit: p.unit,
        subject: p.subject,
        procedure_code: p.procedure_code,
        dossier_code: p.dossier_code,
        channel: p.channel,
        status: p.status,
        received_at: from_local(p.received_at),
        handled_at: p.handled_at.map(from_local),
        ended_at: p.ended_at.map(from_local),
        timing: p.timing,
        late_from: p.late_from.map(from_local),
        reaction: p.reaction,
    }
}

/// Filters of the petition list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PetitionQuery {
    /// Only petitions concerning this unit and the units below it.
    #[param(value_type = Option<String>)]
    pub unit: Option<UnitCode>,
    /// Only this subject.
    #[param(inline)]
    pub subject: Option<Subject>,
    /// Only this channel.
    #[param(inline)]
    pub channel: Option<Channel>,
    /// Only this current status.
    #[param(inline)]
    pub status: Option<Status>,
    /// Only petitions about this procedure.
    pub procedure: Option<String>,
    /// Only petitions about this dossier.
    pub dossier: Option<String>,
    /// Received at or after (RFC 3339).
    pub received_from: Option<DateTime<FixedOffset>>,
    /// Received before.
    pub received_to: Option<DateTime<FixedOffset>>,
    /// Only open petitions past a deadline now (`true`), or open ones within time (`false`).
    pub overdue: Option<bool>,
    /// Only open petitions with a deadline missed or falling within this many working days from
    /// now (national calendar), soonest first: the early-warning list.
    #[validate(range(min = 1, max = 60))]
    #[param(minimum = 1, maximum = 60)]
    pub due_within_days: Option<u32>,
    /// Only petitions with this timing: one they ended with, or `openOverdue` / `openWithinTime`
    /// for the open ones past a deadline now or not (as `overdue=true` / `false`; until
    /// 2026-12-07 these two listed nothing).
    #[param(inline)]
    pub timing: Option<Timing>,
    /// Only petitions with this reaction.
    #[param(inline)]
    pub reaction: Option<Reaction>,
    /// `-receivedAt` (default, newest first) or `lateFrom` (soonest deadline first: the open
    /// petitions with a deadline ahead or missed, so none that ended).
    #[param(pattern = "^(-receivedAt|lateFrom)$")]
    pub sort: Option<String>,
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List petitions
///
/// Newest receipt first, keyset-paginated, with filters; `overdue=true` lists the open
/// petitions past a deadline, `dueWithinDays=N` those due within N working days, soonest first.
/// `Accept: text/csv` for a spreadsheet.
#[utoipa::path(
    tag = "petitions",
    params(PetitionQuery),
    responses(
        (status = 200, description = "A page of petitions", content((Page<PetitionSummaryView> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A filter is invalid", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:read"]))
)]
#[get("/petitions")]
pub async fn list_petitions(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<PetitionQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PetitionsRead)?;
    let q = query.0;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let now = now_local();
    if q.due_within_days.is_some() && q.sort.as_deref() == Some("-receivedAt") {
        // It was ignored without a word.
        return Err(ApiError::rule(
            "sort",
            "dueWithinDays lists by deadline, soonest first: leave sort out or give lateFrom",
        ));
    }
    let by_due = match q.sort.as_deref() {
        None | Some("-receivedAt") => q.due_within_days.is_some(),
        Some("lateFrom") => true,
        Some(_) => return Err(ApiError::invalid("sort", "must be -receivedAt or lateFrom")),
    };
    // Named in the cursors of that order.
    let order = by_due.then_some(BY_DEADLINE);
    let due_before = q.due_within_days.map(|days| {
        let calendar =
            tthc_core::calendar::Calendar::national(now.date().year(), now.date().year() + 1);
        calendar
            .shift_working_days(now.date(), i64::from(days))
            .and_time(now.time())
    });
    // Only final timings are stored; an open one is judged now, as `overdue` is.
    let (timing, open_overdue) = match q.timing {
        Some(Timing::OpenOverdue) => (None, Some(true)),
        Some(Timing::OpenWithinTime) => (None, Some(false)),
        ended => (ended, None),
    };
    let overdue = match (q.overdue, open_overdue) {
        (Some(asked), Some(open)) if asked != open => {
            return Err(ApiError::rule(
                "timing",
                format!("contradicts overdue={asked}"),
            ));
        }
        (asked, open) => asked.or(open),
    };
    let mut filter = PetitionFilter {
        unit_path: None,
        subject: q.subject,
        channel: q.channel,
        status: q.status,
        procedure: q.procedure,
        dossier: q.dossier,
        received_from: q.received_from.map(local),
        received_to: q.received_to.map(local),
        overdue_at: overdue.map(|o| (o, now)),
        due_before,
        timing,
        reaction: q.reaction,
        by_due,
        after: q
            .cursor
            .as_deref()
            .map(|c| parse_ordered_cursor(c, order))
            .transpose()?,
        limit: limit + 1,
    };
    let unit = q.unit;
    // The cursor is the position in the order asked for: first late instant or receipt, then
    // code.
    let position = move |p: &PetitionSummary| {
        let at = if by_due {
            p.late_from.unwrap_or(p.received_at)
        } else {
            p.received_at
        };
        (at, p.code.clone())
    };
    let start = filter.after.take();
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
            "petitions",
            &CSV_HEADER,
            start,
            read,
            position,
            move |p| csv_row(&summary_view(p, now)),
        )
        .await);
    }
    let mut read = read;
    let rows = state
        .run(move |conn| read(conn, start.as_ref(), limit + 1))
        .await?;
    let key = move |p: &PetitionSummary| {
        let (at, code) = position(p);
        ordered_cursor_key(order, at, &code)
    };
    let page = Page::from_rows(rows, limit, key, |p| summary_view(p, now));
    Ok(HttpResponse::Ok().json(page))
}

/// The order named in the cursors of the petition list read by deadline.
const BY_DEADLINE: &str = "lateFrom";

/// The columns of the petition list's CSV.
const CSV_HEADER: [&str; 14] = [
    "code",
    "unit",
    "subject",
    "procedureCode",
    "dossierCode",
    "channel",
    "status",
    "receivedAt",
    "handledAt",
    "endedAt",
    "timing",
    "lateFrom",
    "overdue",
    "reaction",
];

/// A petition as a CSV row under [`CSV_HEADER`].
fn csv_row(p: &PetitionSummaryView) -> Vec<String> {
    vec![
        p.code.clone(),
        p.unit.clone(),
        word(&p.subject),
        cell(p.procedure_code.clone()),
        cell(p.dossier_code.clone()),
        word(&p.channel),
        p.status.to_string(),
        p.received_at.to_rfc3339(),
        cell(p.handled_at.map(|t| t.to_rfc3339())),
        cell(p.ended_at.map(|t| t.to_rfc3339())),
        cell(p.timing.map(|t| word(&t))),
        cell(p.late_from.map(|t| t.to_rfc3339())),
        p.overdue.to_string(),
        cell(p.reaction.map(|r| word(&r))),
    ]
}

/// A stage's deadline and state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageView {
    /// The stage.
    pub stage: Stage,
    /// Its deadline; none while the clock is stopped for the petitioner's information.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When it was done.
    pub done_at: Option<DateTime<FixedOffset>>,
    /// Where it stands now.
    pub state: StageState,
}

/// A stage event as stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PetitionEventView {
    /// The vendor's id.
    pub id: String,
    /// Status.
    pub status: Status,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who.
    pub actor: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// The petitioner's reaction.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactionView {
    /// Satisfied or not.
    pub value: Reaction,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// A further petition on the same matter.
    pub further_petition: Option<String>,
}

/// A petition with its stages judged now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "PAKN-2026-000077", "unit": "000.21.30.H12", "subject": "regulation",
    "procedureCode": "1.001193.H12", "dossierCode": null, "channel": "portal", "status": "published",
    "receivedAt": "2026-03-02T08:00:00+07:00", "handledAt": "2026-03-20T10:00:00+07:00",
    "endedAt": "2026-03-23T09:00:00+07:00", "timing": "endedOnTime", "lateFrom": null,
    "summary": "Hồ sơ khai sinh bị yêu cầu nộp thêm giấy tờ", "outcome": "Đã hướng dẫn lại", "answerUrl": null,
    "reaction": {"value": "satisfied", "at": "2026-03-24T09:00:00+07:00", "furtherPetition": null},
    "stages": [{"stage": "handling", "dueAt": "2026-03-23T08:00:00+07:00", "doneAt": "2026-03-20T10:00:00+07:00", "state": "doneOnTime"},
               {"stage": "publication", "dueAt": "2026-03-24T10:00:00+07:00", "doneAt": "2026-03-23T09:00:00+07:00", "state": "doneOnTime"}],
    "pausedWorkingHours": 0.0, "events": [], "version": 1
}))]
pub struct PetitionView {
    /// Code.
    pub code: String,
    /// The unit concerned.
    pub unit: String,
    /// What it is about.
    pub subject: Subject,
    /// The procedure concerned.
    pub procedure_code: Option<String>,
    /// The dossier concerned.
    pub dossier_code: Option<String>,
    /// How it arrived.
    pub channel: Channel,
    /// Current status.
    pub status: Status,
    /// Received at.
    pub received_at: DateTime<FixedOffset>,
    /// Handled at.
    pub handled_at: Option<DateTime<FixedOffset>>,
    /// Ended at.
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// Timing judged now (`openWithinTime` / `openOverdue` while open).
    pub timing: Timing,
    /// The earliest stage deadline missed, or the next one pending.
    pub late_from: Option<DateTime<FixedOffset>>,
    /// The content, in short.
    pub summary: String,
    /// The outcome.
    pub outcome: Option<String>,
    /// Where the answer was published.
    pub answer_url: Option<String>,
    /// The petitioner's reaction.
    pub reaction: Option<ReactionView>,
    /// Each stage that applies, with its deadline and state, judged now.
    pub stages: Vec<StageView>,
    /// Working hours the handling clock stood still for the petitioner's information.
    pub paused_working_hours: f64,
    /// Events in instant order.
    pub events: Vec<PetitionEventView>,
    /// Row version.
    pub version: i64,
}

fn petition_view(p: Petition, s: tthc_core::petition::Stages) -> PetitionView {
    PetitionView {
        code: p.code,
        unit: p.unit,
        subject: p.subject,
        procedure_code: p.procedure_code,
        dossier_code: p.dossier_code,
        channel: p.channel,
        status: p.status,
        received_at: from_local(p.received_at),
        handled_at: p.handled_at.map(from_local),
        ended_at: p.ended_at.map(from_local),
        timing: s.timing,
        late_from: s.late_from.map(from_local),
        summary: p.details.summary,
        outcome: p.details.outcome,
        answer_url: p.details.answer_url,
        reaction: p.reaction.map(|r| ReactionView {
            value: r.value,
            at: from_local(r.at),
            further_petition: r.further_petition,
        }),
        stages: s
            .stages
            .into_iter()
            .map(|t| StageView {
                stage: t.stage,
                due_at: t.due_at.map(from_local),
                done_at: t.done_at.map(from_local),
                state: t.state,
            })
            .collect(),
        paused_working_hours: (s.paused_seconds as f64 / 36.0).round() / 100.0,
        events: p
            .events
            .into_iter()
            .map(|e| PetitionEventView {
                id: e.id,
                status: e.status,
                at: from_local(e.at),
                actor: e.actor,
                note: e.note,
            })
            .collect(),
        version: p.version,
    }
}

/// Get a petition
///
/// With its events and each stage's deadline and state, judged now.
#[utoipa::path(
    tag = "petitions",
    params(("code" = String, Path, description = "Petition code", example = "PAKN-2026-000077")),
    responses(
        (status = 200, description = "The petition", body = PetitionView),
        (status = 404, description = "No such petition among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:read"]))
)]
#[get("/petitions/{code}")]
pub async fn get_petition(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<PetitionView>, ApiError> {
    principal.require(Scope::PetitionsRead)?;
    let code = code.into_inner();
    let now = now_local();
    let (p, s) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::stages_of(conn, &scope, &code, now)?)
        })
        .await?;
    Ok(web::Json(petition_view(p, s)))
}

/// Get the petition deadlines
///
/// The working days each stage of a petition has.
#[utoipa::path(
    tag = "petitions",
    responses(
        (status = 200, description = "The deadlines", body = PetitionRules),
    ),
    security(("bearer" = ["petitions:read"]))
)]
#[get("/petition-rules")]
pub async fn get_petition_rules(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<PetitionRules>, ApiError> {
    principal.require(Scope::PetitionsRead)?;
    Ok(web::Json(
        state.run(move |conn| Ok(store::rules(conn)?)).await?,
    ))
}

/// The petition deadlines, in working days.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"refuseWithin": 2, "requestInfoWithin": 5, "handleWithin": 15, "publishWithin": 2}))]
pub struct PetitionRulesInput {
    /// Working days after receipt to refuse a petition.
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub refuse_within: u32,
    /// Working days after receipt to ask for more information.
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub request_info_within: u32,
    /// Working days after receipt (plus the time the petitioner took) to handle it.
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub handle_within: u32,
    /// Working days after the handling to publish the answer.
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub publish_within: u32,
}

/// Replace the petition deadlines
///
/// Each 1–365 working days. Petitions already stored keep the deadlines they were judged with
/// until they are written again. Only by a client granted every unit: the deadlines are every
/// unit's. Audited.
#[utoipa::path(
    tag = "petitions",
    request_body = PetitionRulesInput,
    responses(
        (status = 200, description = "The deadlines", body = PetitionRules),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks petitions:write or is not granted every unit", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:write"]))
)]
#[put("/petition-rules")]
pub async fn put_petition_rules(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<PetitionRulesInput>,
) -> Result<web::Json<PetitionRules>, ApiError> {
    principal.require(Scope::PetitionsWrite)?;
    principal.require_every_unit("the petition deadlines judge every unit's petitions")?;
    let rules = PetitionRules {
        refuse_within: body.0.refuse_within,
        request_info_within: body.0.request_info_within,
        handle_within: body.0.handle_within,
        publish_within: body.0.publish_within,
    };
    Ok(web::Json(
        state
            .run(move |conn| Ok(store::put_rules(conn, &principal.actor(), &rules)?))
            .await?,
    ))
}

/// A unit's petition figures for a period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": "000.00.00.H12", "period": "2026-03",
    "received": {"regulation": 4, "officerConduct": 1}, "receivedByChannel": {"portal": 4, "phone": 1},
    "carriedOver": 2, "refused": 1, "withdrawn": 1, "handled": {"regulation": 2, "officerConduct": 1},
    "published": 3, "endedOnTime": 3, "endedLate": 1, "openWithinTime": 1, "openOverdue": 1,
    "satisfied": 1, "dissatisfied": 1, "furtherPetitions": 1,
    "processingOnTime": {"numerator": 4, "denominator": 6},
    "handlingSatisfaction": {"numerator": 1, "denominator": 3}
}))]
pub struct PetitionFiguresView {
    /// The unit (its figures count every petition of its subtree).
    pub unit: String,
    /// The period.
    pub period: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A unit's petition figures
///
/// The petitions of the unit's subtree in a month, quarter or year, classified as the national
/// petition system reports them: received by subject (regulations / officers' conduct) and by
/// channel, carried over, refused, withdrawn, answered, published, ended on time or late, open
/// within time or overdue, the petitioners' reactions; and the numerator and denominator of
/// the two 766 petition indicators (`processingOnTime`, `handlingSatisfaction`). Judged now
/// when the period is not over.
#[utoipa::path(
    tag = "petitions",
    params(
        ("code" = String, Path, description = "Unit code", example = "000.00.00.H12"),
        ("period" = String, Path, description = "`2026-08`, `2026-Q3` or `2026`", example = "2026-03"),
    ),
    responses(
        (status = 200, description = "The figures", body = PetitionFiguresView),
        (status = 400, description = "Invalid period", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["petitions:read"]))
)]
#[get("/units/{code}/petition-figures/{period}")]
pub async fn petition_figures(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<PetitionFiguresView>, ApiError> {
    principal.require(Scope::PetitionsRead)?;
    let (code, period_text) = path.into_inner();
    let period = Period::parse(&period_text).map_err(|r| ApiError::invalid("period", r))?;
    let now = now_local();
    let unit_code = code.clone();
    let figures = state
        .run(move |conn| {
            let unit = crate::context::unit_in_scope(conn, &principal, &unit_code)?;
            let start = period.start().naive_local();
            let end = period.end().naive_local();
            let petitions = store::handled_in(conn, &unit.path, start, end)?;
            Ok(tthc_core::petition::figures::count(
                &petitions,
                start,
                end,
                end.min(now),
            ))
        })
        .await?;
    Ok(web::Json(PetitionFiguresView {
        unit: code,
        period: period.to_string(),
        figures,
    }))
}
