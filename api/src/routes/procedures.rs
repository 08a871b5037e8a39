//! `/api/v1/procedures` and `/api/v1/fields`: the procedure catalogue.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::db::procedures::{
    self as store, Field, NotLocalized, Outcome, Procedure, ProcedureFilter, ProcedureWrite,
};
use tthc_core::db::units;
use tthc_core::procedure::{
    ContentPart, OnlineLevel, ProcedureCode, ProcedureContent, ProcedureLevel,
};
use tthc_core::unit::{UnitCode, UnitScope};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{MaybePrincipal, Principal, Scope};
use crate::bulk::{BulkItem, BulkResult, read_bulk};
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, cell, csv_list, csv_response,
    decode_cursor, etag_shown, if_match_shown, today_or, wants_csv, word,
};
use crate::idempotency::Undecided;
use crate::state::AppState;
use tthc_core::db::DbConnection;

use crate::error::PROBLEM_JSON as PROBLEM;

/// Where a procedure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProcedureStatus {
    /// Not published on the national database yet (visible with `procedures:read` only).
    Draft,
    /// Published on the national database.
    Published,
    /// Abolished.
    Abolished,
}

/// A procedure with the version in force on the day asked about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "1.001193.H12", "baseCode": "1.001193", "localized": true, "status": "published",
    "publishedOn": "2026-03-10", "abolishedOn": null, "version": 2, "versionSeq": 2,
    "validFrom": "2026-03-01", "validTo": null, "decision": "345/QĐ-UBND", "complete": false,
    "missing": ["fees"], "internalProcessApproved": false, "electronicProcessConfigured": false,
    "content": {"name": "Đăng ký khai sinh", "field": "HT", "levels": ["commune"],
                "handlingUnits": ["000.21.30.H12"], "timeLimit": {"amount": 1, "measure": "workingDays"},
                "fees": null, "channels": ["inPerson", "online"], "onlineLevel": "full",
                "components": [{"name": "Tờ khai đăng ký khai sinh", "required": true, "copies": 1}],
                "result": {"name": "Giấy khai sinh", "paper": true, "electronic": true},
                "legalBasis": ["Luật Hộ tịch 2014"], "targetSubjects": ["Công dân Việt Nam"],
                "steps": ["Nộp hồ sơ", "Tiếp nhận", "Trả kết quả"], "internalProcess": null, "electronicProcess": null},
    "createdAt": "2026-03-10T02:00:00Z", "updatedAt": "2026-03-10T02:00:00Z"
}))]
pub struct ProcedureView {
    /// Code.
    pub code: String,
    /// The national code it is based on (itself when national).
    pub base_code: String,
    /// Whether it is the province's localized copy of a national procedure.
    pub localized: bool,
    /// Draft, published or abolished.
    pub status: ProcedureStatus,
    /// Published on the national database.
    pub published_on: Option<NaiveDate>,
    /// Abolished on.
    pub abolished_on: Option<NaiveDate>,
    /// Row version, for `If-Match`. The `ETag` names it with the content version shown
    /// (`"7-2"`), since the content shown changes when a later version takes effect.
    pub version: i64,
    /// Which version of the content this is (1, 2, …).
    pub version_seq: i32,
    /// First day this content is in force.
    pub valid_from: NaiveDate,
    /// Last day it is in force.
    pub valid_to: Option<NaiveDate>,
    /// The decision that made it.
    pub decision: Option<String>,
    /// Whether the content has every required part.
    pub complete: bool,
    /// The required parts it lacks.
    pub missing: Vec<ContentPart>,
    /// Whether its internal process is approved (a decision number and date are recorded).
    pub internal_process_approved: bool,
    /// Whether its electronic process is configured in the provincial system (decision recorded).
    pub electronic_process_configured: bool,
    /// The content.
    pub content: ProcedureContent,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
}

impl From<Procedure> for ProcedureView {
    fn from(p: Procedure) -> Self {
        let status = match (p.abolished_on, p.published_on) {
            (Some(_), _) => ProcedureStatus::Abolished,
            (None, Some(_)) => ProcedureStatus::Published,
            (None, None) => ProcedureStatus::Draft,
        };
        Self {
            code: p.code,
            base_code: p.base_code,
            localized: p.localized,
            status,
            published_on: p.published_on,
            abolished_on: p.abolished_on,
            version: p.version,
            version_seq: p.current.seq,
            valid_from: p.current.valid_from,
            valid_to: p.current.valid_to,
            decision: p.current.decision,
            complete: p.current.missing.is_empty(),
            missing: p.current.missing,
            internal_process_approved: p.current.content.internal_process.is_some(),
            electronic_process_configured: p.current.content.electronic_process.is_some(),
            content: p.current.content,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Filters of the catalogue.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// Only this field (lĩnh vực) code.
    #[param(example = "HT")]
    pub field: Option<String>,
    /// Only procedures handled at this level.
    #[param(inline)]
    pub level: Option<ProcedureLevel>,
    /// Only procedures handled by this unit or a unit below it.
    #[param(value_type = Option<String>, example = "000.00.02.H12")]
    pub unit: Option<UnitCode>,
    /// `published` or `draft` (drafts need `procedures:read`); without a token, published only.
    #[param(inline)]
    pub status: Option<ProcedureStatus>,
    /// Only this online service level.
    #[param(inline)]
    pub online_level: Option<OnlineLevel>,
    /// Only localized (`true`) or national (`false`) procedures.
    pub localized: Option<bool>,
    /// Only complete (`true`) or incomplete (`false`) content.
    pub complete: Option<bool>,
    /// The day whose versions count (default: today).
    pub valid_on: Option<NaiveDate>,
    /// Words of the name, with or without diacritics ("dang ky khai sinh").
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List procedures
///
/// The catalogue in force on a day, with filters and search. Published procedures are public;
/// drafts need `procedures:read`. Answers CSV with `Accept: text/csv` (one page).
#[utoipa::path(
    tag = "procedures",
    params(ProcedureQuery),
    responses(
        (status = 200, description = "A page of procedures ordered by code", content(
            (Page<ProcedureView> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A filter is invalid", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A token was sent and is invalid", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Drafts asked for without procedures:read", body = Problem, content_type = PROBLEM),
    ),
    security((), ("bearer" = ["procedures:read"]))
)]
#[get("/procedures")]
pub async fn list_procedures(
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    req: HttpRequest,
    query: ValidQuery<ProcedureQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let drafts = caller.holds(Scope::ProceduresRead);
    // As each row's status reads: abolished once an abolition is recorded, else published or
    // draft (`abolished` was read as `published`). Without procedures:read, published ones only.
    let (published, abolished) = match q.status {
        Some(ProcedureStatus::Draft) if !drafts => {
            return Err(ApiError::Forbidden(
                "draft procedures need the scope procedures:read".into(),
            ));
        }
        Some(ProcedureStatus::Draft) => (Some(false), Some(false)),
        Some(ProcedureStatus::Published) => (Some(true), Some(false)),
        Some(ProcedureStatus::Abolished) => ((!drafts).then_some(true), Some(true)),
        None => ((!drafts).then_some(true), None),
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let mut filter = ProcedureFilter {
        field: q.field,
        level: q.level.as_ref().map(word),
        unit_path: None,
        published,
        abolished,
        online_level: q.online_level.as_ref().map(word),
        localized: q.localized,
        complete: q.complete,
        valid_on: today_or(q.valid_on),
        search: q.q,
        after: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let unit = q.unit;
    let start = filter.after.take();
    let read = move |conn: &mut DbConnection, after: Option<&String>, limit| {
        if let Some(code) = &unit {
            match units::find_row(conn, code.as_str())? {
                Some(row) => filter.unit_path = Some(row.path),
                None => return Ok(Vec::new()),
            }
        }
        filter.after = after.cloned();
        filter.limit = limit;
        Ok(store::list(conn, &filter)?)
    };
    if wants_csv(&req) {
        // The whole filtered list, page after page.
        return Ok(csv_list(
            &state,
            "procedures",
            &CSV_HEADER,
            start,
            read,
            |p: &Procedure| p.code.to_string(),
            |p| csv_row(&ProcedureView::from(p)),
        )
        .await);
    }
    let mut read = read;
    let rows = state
        .run(move |conn| read(conn, start.as_ref(), limit + 1))
        .await?;
    let page = Page::from_rows(rows, limit, |p| p.code.clone(), ProcedureView::from);
    Ok(HttpResponse::Ok().json(page))
}

/// The columns of the procedure list's CSV.
const CSV_HEADER: [&str; 9] = [
    "code",
    "name",
    "field",
    "status",
    "localized",
    "validFrom",
    "decision",
    "complete",
    "missing",
];

/// A procedure as a CSV row of [`CSV_HEADER`].
fn csv_row(p: &ProcedureView) -> Vec<String> {
    vec![
        p.code.clone(),
        p.content.name.clone(),
        p.content.field.clone(),
        word(&p.status),
        p.localized.to_string(),
        p.valid_from.to_string(),
        cell(p.decision.clone()),
        p.complete.to_string(),
        p.missing
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

/// The day to read a procedure on.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValidOnQuery {
    /// The day whose version is shown (default: today).
    pub valid_on: Option<NaiveDate>,
}

/// Get a procedure
///
/// The version in force on `validOn` (today by default). Drafts need `procedures:read`.
#[utoipa::path(
    tag = "procedures",
    params(("code" = String, Path, description = "Procedure code", example = "1.001193.H12"), ValidOnQuery),
    responses(
        (status = 200, description = "The procedure", body = ProcedureView,
         headers(("ETag" = String, description = "The row version and the content version shown (`\"7-2\"`): it changes when a later version takes effect; `If-Match` takes it"))),
        (status = 401, description = "A token was sent and is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such procedure (or a draft without procedures:read)", body = Problem, content_type = PROBLEM),
    ),
    security((), ("bearer" = ["procedures:read"]))
)]
#[get("/procedures/{code:[0-9][A-Za-z0-9.]*}")]
pub async fn get_procedure(
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    code: web::Path<String>,
    query: ValidQuery<ValidOnQuery>,
) -> Result<HttpResponse, ApiError> {
    let drafts = caller.holds(Scope::ProceduresRead);
    let on = today_or(query.0.valid_on);
    let code = code.into_inner();
    let p = state
        .run(move |conn| Ok(store::get(conn, &code, on, drafts)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag_shown(p.version, p.current.seq)))
        .json(ProcedureView::from(p)))
}

/// A version of a procedure's content.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"seq": 1, "validFrom": "2024-01-15", "validTo": "2026-02-28", "decision": "87/QĐ-UBND",
    "complete": true, "missing": [], "content": {"name": "Đăng ký khai sinh", "field": "HT"}}))]
pub struct VersionView {
    /// 1, 2, … in order.
    pub seq: i32,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force.
    pub valid_to: Option<NaiveDate>,
    /// The decision that made it.
    pub decision: Option<String>,
    /// Whether the content has every required part.
    pub complete: bool,
    /// The parts it lacks.
    pub missing: Vec<ContentPart>,
    /// The content.
    pub content: ProcedureContent,
}

/// Every version of a procedure.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"seq": 1, "validFrom": "2024-01-15", "validTo": null, "decision": "87/QĐ-UBND",
    "complete": true, "missing": [], "content": {"name": "Đăng ký khai sinh", "field": "HT"}}]}))]
pub struct VersionList {
    /// Versions, oldest first.
    pub items: Vec<VersionView>,
}

/// List a procedure's versions
///
/// Every version, with its validity and the decision that made it. Nothing is ever deleted.
#[utoipa::path(
    tag = "procedures",
    params(("code" = String, Path, description = "Procedure code", example = "1.001193.H12")),
    responses(
        (status = 200, description = "The versions, oldest first", body = VersionList),
        (status = 401, description = "A token was sent and is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such procedure", body = Problem, content_type = PROBLEM),
    ),
    security((), ("bearer" = ["procedures:read"]))
)]
#[get("/procedures/{code:[0-9][A-Za-z0-9.]*}/versions")]
pub async fn list_versions(
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    code: web::Path<String>,
) -> Result<web::Json<VersionList>, ApiError> {
    let drafts = caller.holds(Scope::ProceduresRead);
    let code = code.into_inner();
    let versions = state
        .run(move |conn| Ok(store::versions(conn, &code, drafts)?))
        .await?;
    Ok(web::Json(VersionList {
        items: versions
            .into_iter()
            .map(|v| VersionView {
                seq: v.seq,
                valid_from: v.valid_from,
                valid_to: v.valid_to,
                decision: v.decision,
                complete: v.missing.is_empty(),
                missing: v.missing,
                content: v.content,
            })
            .collect(),
    }))
}

/// Refuses, before anything is read, a content whose name is longer than the document allows
/// ([`tthc_core::procedure::NAME_MAX`]): a request the document refuses is refused as such,
/// not answered by what the store finds first (a stale `If-Match`, say).
pub(crate) fn name_bounded(content: &ProcedureContent) -> Result<(), validator::ValidationError> {
    if content.name.chars().count() <= tthc_core::procedure::NAME_MAX {
        Ok(())
    } else {
        Err(crate::http::length_error(format!(
            "its name must be at most {} characters",
            tthc_core::procedure::NAME_MAX
        )))
    }
}

/// A procedure's content to store.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "content": {"name": "Đăng ký khai sinh", "field": "HT", "levels": ["commune"], "handlingUnits": ["000.21.30.H12"],
                "timeLimit": {"amount": 1, "measure": "workingDays"}, "fees": [], "channels": ["inPerson", "online"],
                "onlineLevel": "full", "components": [{"name": "Tờ khai", "required": true, "copies": 1}],
                "result": {"name": "Giấy khai sinh", "paper": true, "electronic": true},
                "legalBasis": ["Luật Hộ tịch 2014"], "targetSubjects": ["Công dân Việt Nam"], "steps": ["Nộp hồ sơ", "Trả kết quả"]},
    "validFrom": "2026-03-01", "decision": "345/QĐ-UBND", "publishedOn": "2026-03-10"
}))]
pub struct ProcedurePut {
    /// The content.
    #[validate(custom(function = "name_bounded"))]
    pub content: ProcedureContent,
    /// First day it is in force (default: today). Later than the current version's start, it
    /// makes a new version; the same day corrects the current version.
    pub valid_from: Option<NaiveDate>,
    /// The decision that made it.
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub decision: Option<String>,
    /// Published on the national database; `null` makes it a draft again.
    #[serde(default, deserialize_with = "crate::http::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub published_on: Option<Option<NaiveDate>>,
}

/// What a write did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"code": "1.001193.H12", "result": "updated"}))]
pub struct WriteResult {
    /// The procedure.
    pub code: String,
    /// `created`, `updated` (new or corrected version) or `unchanged`.
    pub result: Outcome,
}

async fn write_procedure(
    state: &AppState,
    principal: Principal,
    code: ProcedureCode,
    body: ProcedurePut,
    expected: Option<tthc_core::version::Versions>,
) -> Result<(Outcome, Procedure), ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    let valid_from = today_or(body.valid_from);
    state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let write = ProcedureWrite {
                code: code.clone(),
                content: body.content,
                valid_from,
                decision: body.decision,
                published_on: body.published_on,
            };
            let outcome =
                store::write(conn, &principal.actor(), &scope, &write, expected.as_ref())?;
            Ok((outcome, store::get(conn, code.as_str(), valid_from, true)?))
        })
        .await
}

/// Create or replace a procedure
///
/// Idempotent: the same content again changes nothing (`result: unchanged`). Audited.
#[utoipa::path(
    tag = "procedures",
    request_body = ProcedurePut,
    params(
        ("code" = String, Path, description = "Procedure code", example = "1.001193.H12"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read (0 to insist it is new)"),
        ("X-Audit-Reason" = Option<String>, Header, description = "Why, for the audit trail"),
    ),
    responses(
        (status = 200, description = "Updated or unchanged", body = ProcedureView, headers(("ETag" = String, description = "The row version and the content version shown (`\"7-2\"`)"))),
        (status = 201, description = "Created", body = ProcedureView, headers(("ETag" = String, description = "The row version and the content version shown (`\"7-2\"`)"), ("Location" = String))),
        (status = 400, description = "Invalid content, unknown field or unit", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The procedure changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[put("/procedures/{code:[0-9][A-Za-z0-9.]*}")]
pub async fn put_procedure(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    code: web::Path<String>,
    body: ValidJson<ProcedurePut>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match_shown(&req)?;
    let code =
        ProcedureCode::parse(&code.into_inner()).map_err(|r| ApiError::invalid("code", r))?;
    let (outcome, p) = write_procedure(&state, principal, code, body.0, expected).await?;
    let mut res = if outcome == Outcome::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    if outcome == Outcome::Created {
        res.insert_header((header::LOCATION, format!("/api/v1/procedures/{}", p.code)));
    }
    Ok(res
        .insert_header((header::ETAG, etag_shown(p.version, p.current.seq)))
        .json(ProcedureView::from(p)))
}

/// A new procedure.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"code": "1.001193.H12", "content": {"name": "Đăng ký khai sinh", "field": "HT"}, "validFrom": "2026-03-01"}))]
pub struct ProcedureCreate {
    /// Code: national (`1.001193`) or localized (`1.001193.H12`).
    pub code: ProcedureCode,
    /// The content.
    #[validate(custom(function = "name_bounded"))]
    pub content: ProcedureContent,
    /// First day it is in force (default: today).
    pub valid_from: Option<NaiveDate>,
    /// The decision that made it.
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub decision: Option<String>,
    /// Published on the national database.
    pub published_on: Option<NaiveDate>,
}

/// Create a procedure
///
/// Refuses a code that exists (use PUT to replace). Audited.
#[utoipa::path(
    tag = "procedures",
    request_body = ProcedureCreate,
    responses(
        (status = 201, description = "Created", body = ProcedureView, headers(("ETag" = String, description = "The row version and the content version shown (`\"7-2\"`)"), ("Location" = String))),
        (status = 400, description = "Invalid content, unknown field or unit", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The code exists", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[post("/procedures")]
pub async fn create_procedure(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<ProcedureCreate>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let put = ProcedurePut {
        content: b.content,
        valid_from: b.valid_from,
        decision: b.decision,
        published_on: Some(b.published_on),
    };
    // Version 0 means "must not exist yet".
    let (_, p) = write_procedure(
        &state,
        principal,
        b.code,
        put,
        Some(tthc_core::version::Versions::new(vec![0])),
    )
    .await
    .map_err(|e| match e {
        ApiError::PreconditionFailed(_) => ApiError::Conflict(InvalidParam::new(
            "code",
            "a procedure with this code exists already; PUT replaces it",
        )),
        other => other,
    })?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/procedures/{}", p.code)))
        .insert_header((header::ETAG, etag_shown(p.version, p.current.seq)))
        .json(ProcedureView::from(p)))
}

/// Import procedures in bulk
///
/// A JSON array or NDJSON of up to 10,000 items shaped like `POST /procedures`, idempotent by
/// code: each item is created, updated, left unchanged or rejected with its reasons, in its own
/// transaction, so a bad item never rejects its neighbours. Audited per procedure.
#[utoipa::path(
    tag = "procedures",
    request_body(content(
        (Vec<ProcedureCreate> = "application/json"),
        (ProcedureCreate = "application/x-ndjson"),
    )),
    responses(
        (status = 200, description = "Every item's outcome", body = BulkResult),
        (status = 400, description = "The body is not a JSON array or NDJSON, or has too many items", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Neither JSON nor NDJSON", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[post("/procedures/bulk")]
pub async fn bulk_procedures(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    let items = read_bulk(&req, payload).await?;
    let today = today_or(None);
    let (results, undecided) = state
        .run(move |conn| {
            let scope: UnitScope = principal.unit_scope(conn)?;
            let actor = principal.actor();
            let mut results = Vec::with_capacity(items.len());
            let mut undecided = false;
            for (index, raw) in items.into_iter().enumerate() {
                let code = raw.code();
                let item = match raw.parse::<ProcedureCreate>() {
                    Ok(item) => item,
                    Err(e) => {
                        results.push(BulkItem::rejected(index, code, e));
                        continue;
                    }
                };
                let write = ProcedureWrite {
                    code: item.code,
                    content: item.content,
                    valid_from: item.valid_from.unwrap_or(today),
                    decision: item.decision,
                    published_on: Some(item.published_on),
                };
                results.push(match store::write(conn, &actor, &scope, &write, None) {
                    Ok(outcome) => BulkItem::done(index, code, &outcome),
                    Err(e) => match ApiError::from(e) {
                        e @ ApiError::Internal(_) => return Err(e),
                        // The database's state at that moment, not the item's: rejected with
                        // a reason that asks for a retry, and the answer is not kept under
                        // the request's Idempotency-Key, so that the retry is judged again.
                        // Until 2026-12-07 it was kept and replayed.
                        e @ ApiError::Unavailable(_) => {
                            undecided = true;
                            BulkItem::rejected(index, code, e)
                        }
                        e => BulkItem::rejected(index, code, e),
                    },
                });
            }
            Ok((results, undecided))
        })
        .await?;
    let mut res = HttpResponse::Ok().json(BulkResult::from_items(results));
    if undecided {
        res.extensions_mut().insert(Undecided);
    }
    Ok(res)
}

/// Filters of the not-localized list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotLocalizedQuery {
    /// Only this field.
    pub field: Option<String>,
    /// The day whose catalogue counts (default: today).
    pub valid_on: Option<NaiveDate>,
}

/// A count by field or unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    /// The field's or unit's code.
    pub key: String,
    /// How many.
    pub count: usize,
}

/// Base procedures not localized, counted by field and by unit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"total": 1, "byField": [{"key": "TNN", "count": 1}], "byUnit": [{"key": "000.00.06.H12", "count": 1}],
    "items": [{"code": "1.012345", "name": "Cấp giấy phép khai thác nước dưới đất", "field": "TNN", "units": ["000.00.06.H12"]}]}))]
pub struct NotLocalizedReport {
    /// How many.
    pub total: usize,
    /// By field.
    pub by_field: Vec<Count>,
    /// By handling unit.
    pub by_unit: Vec<Count>,
    /// The procedures.
    pub items: Vec<NotLocalized>,
}

fn counts<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<Count> {
    let mut map = std::collections::BTreeMap::<&str, usize>::new();
    for k in keys {
        *map.entry(k).or_default() += 1;
    }
    let mut out: Vec<Count> = map
        .into_iter()
        .map(|(k, count)| Count {
            key: k.to_owned(),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    out
}

/// Base procedures not localized
///
/// National procedures handled locally (province, district or commune level) that the province
/// has not localized, counted by field and by handling unit. CSV with `Accept: text/csv`.
#[utoipa::path(
    tag = "procedures",
    params(NotLocalizedQuery),
    responses(
        (status = 200, description = "The report", content((NotLocalizedReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A filter is invalid", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/procedures/not-localized")]
pub async fn not_localized(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<NotLocalizedQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ProceduresRead)?;
    let on = today_or(query.0.valid_on);
    let field = query.0.field;
    let mut items = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::not_localized(conn, &scope, on)?)
        })
        .await?;
    if let Some(field) = field {
        items.retain(|i| i.field == field);
    }
    if wants_csv(&req) {
        return csv_response(
            "not-localized",
            &["code", "name", "field", "units"],
            items.iter().map(|i| {
                vec![
                    i.code.clone(),
                    i.name.clone(),
                    i.field.clone(),
                    i.units.join(" "),
                ]
            }),
        );
    }
    Ok(HttpResponse::Ok().json(NotLocalizedReport {
        total: items.len(),
        by_field: counts(items.iter().map(|i| i.field.as_str())),
        by_unit: counts(
            items
                .iter()
                .flat_map(|i| i.units.iter().map(String::as_str)),
        ),
        items,
    }))
}

/// The field code list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"code": "HT", "name": "Hộ tịch"}]}))]
pub struct FieldList {
    /// Fields by code.
    pub items: Vec<Field>,
}

/// List fields
///
/// The fields (lĩnh vực) procedures belong to. Public.
#[utoipa::path(
    tag = "procedures",
    responses((status = 200, description = "Every field", body = FieldList)),
    security(())
)]
#[get("/fields")]
pub async fn list_fields(state: web::Data<AppState>) -> Result<web::Json<FieldList>, ApiError> {
    let items = state.run(|conn| Ok(store::list_fields(conn)?)).await?;
    Ok(web::Json(FieldList { items }))
}

/// A field's name.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Hộ tịch"}))]
pub struct FieldPut {
    /// Name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, extensions(("x-not-blank" = json!(true))))]
    pub name: String,
}

/// Create or rename a field
///
/// Only by a client granted every unit: the fields are every unit's.
#[utoipa::path(
    tag = "procedures",
    request_body = FieldPut,
    params(("code" = String, Path, description = "Field code", example = "HT")),
    responses(
        (status = 200, description = "The field", body = Field),
        (status = 400, description = "Invalid code or name", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks procedures:write or is not granted every unit", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[put("/fields/{code}")]
pub async fn put_field(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<FieldPut>,
) -> Result<web::Json<Field>, ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    principal.require_every_unit("the fields are every unit's")?;
    let code = code.into_inner();
    if code.is_empty()
        || code.len() > 20
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::invalid(
            "code",
            "must be 1 to 20 ASCII letters, digits, '-' or '_'",
        ));
    }
    let field = Field {
        code,
        name: body.0.name.trim().to_owned(),
    };
    let stored = state
        .run(move |conn| Ok(store::put_field(conn, &principal.actor(), &field)?))
        .await?;
    Ok(web::Json(stored))
}
