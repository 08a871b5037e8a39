//! `/api/v1/announcements`: ministries' and the province's announcement decisions, their
//! deadlines, their application to the catalogue, and the compliance views.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tthc_core::announcement::{AnnouncementRules, ItemAction};
use tthc_core::db::announcements::{
    self as store, AppliedItem, Decision, DecisionItem, DecisionKind, DecisionWrite,
    LateAnnouncement, PendingAnnouncement, PublicationStatus,
};
use tthc_core::db::{DbConnection, StoreResult};
use tthc_core::procedure::{ProcedureCode, ProcedureContent};
use tthc_core::unit::{UnitCode, UnitScope};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, cell, csv_response, decode_cursor, etag,
    if_match, today_or, wants_csv,
};
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// An item of a decision.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemInput {
    /// The procedure's code.
    #[schema(example = "1.004650")]
    pub procedure_code: ProcedureCode,
    /// What the decision does to it.
    pub action: ItemAction,
    /// Its name as written in the decision.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub name: Option<String>,
    /// For `replaced`: the code of the procedure it replaces.
    pub replaces: Option<ProcedureCode>,
    /// For a provincial decision's new, amended and replaced items: the procedure's content.
    #[validate(custom(function = "crate::routes::procedures::name_bounded"))]
    pub content: Option<ProcedureContent>,
}

/// The decision approving the internal process.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessInput {
    /// Decision number.
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 100, extensions(("x-not-blank" = json!(true))))]
    pub number: String,
    /// Signed on.
    pub date: NaiveDate,
}

/// A decision to create or replace.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "kind": "ministry", "number": "503/QĐ-BTTTT",
    "title": "Công bố thủ tục hành chính được sửa đổi, bổ sung lĩnh vực Xuất bản, In và Phát hành",
    "issuer": "Bộ Thông tin và Truyền thông", "signedOn": "2024-04-09", "effectiveOn": "2024-06-03",
    "unit": "000.00.10.H12",
    "items": [{"procedureCode": "1.004650", "action": "amended", "name": "Cấp giấy phép xuất bản bản tin"}]
}))]
pub struct DecisionInput {
    /// `ministry` or `province`.
    pub kind: DecisionKind,
    /// Decision number, unique.
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 100, extensions(("x-not-blank" = json!(true))))]
    pub number: String,
    /// Title.
    #[validate(
        length(min = 1, max = 1000),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 1000, extensions(("x-not-blank" = json!(true))))]
    pub title: String,
    /// The issuing ministry, or the province's code.
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300, extensions(("x-not-blank" = json!(true))))]
    pub issuer: String,
    /// Signed on.
    pub signed_on: NaiveDate,
    /// Ministry: when the legal basis takes effect. Province: when the decision takes effect
    /// (the new versions' first day; its signature when left out).
    pub effective_on: Option<NaiveDate>,
    /// Ministry: the unit that should submit the provincial decision. Province: the unit that did.
    pub unit: Option<UnitCode>,
    /// Province: numbers of the ministry decisions it implements.
    #[serde(default)]
    pub implements: Vec<String>,
    /// Province: the decision approving the internal process.
    #[validate(nested)]
    pub internal_process: Option<ProcessInput>,
    /// Province: published on the national database.
    pub published_on: Option<NaiveDate>,
    /// Notes (e.g. the department's submission letter).
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Items.
    #[validate(nested, length(max = 1000))]
    #[schema(max_items = 1000)]
    pub items: Vec<ItemInput>,
}

impl From<DecisionInput> for DecisionWrite {
    fn from(d: DecisionInput) -> Self {
        Self {
            kind: d.kind,
            number: d.number.trim().to_owned(),
            title: d.title.trim().to_owned(),
            issuer: d.issuer.trim().to_owned(),
            signed_on: d.signed_on,
            effective_on: d.effective_on,
            unit: d.unit.map(|u| u.to_string()),
            implements: d.implements,
            internal_process: d.internal_process.map(|p| (p.number, p.date)),
            published_on: d.published_on,
            notes: d.notes,
            items: d
                .items
                .into_iter()
                .map(|i| DecisionItem {
                    procedure_code: i.procedure_code,
                    action: i.action,
                    name: i.name,
                    replaces: i.replaces,
                    content: i.content,
                })
                .collect(),
        }
    }
}

/// Filters of the decision list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// Only `ministry` or `province` decisions.
    #[param(inline)]
    pub kind: Option<DecisionKind>,
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List announcement decisions
///
/// Newest first. Decisions of units outside the caller's grant are left out.
#[utoipa::path(
    tag = "announcements",
    params(DecisionQuery),
    responses(
        (status = 200, description = "A page of decisions", body = Page<Decision>),
        (status = 400, description = "A filter is invalid", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/announcements")]
pub async fn list_decisions(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<DecisionQuery>,
) -> Result<web::Json<Page<Decision>>, ApiError> {
    principal.require(Scope::ProceduresRead)?;
    let q = query.0;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let before = match q.cursor.as_deref().map(decode_cursor).transpose()? {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::unknown_cursor())?,
        ),
        None => None,
    };
    let rows = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::list(conn, &scope, q.kind, before, limit + 1)?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |d| d.id.to_string(),
        |d| d,
    )))
}

/// Create an announcement decision
///
/// Computes its deadline with the rule set in force and stores it with the rule: for a ministry
/// decision, when the province must announce; for a provincial one, when it must be published.
/// Audited.
#[utoipa::path(
    tag = "announcements",
    request_body = DecisionInput,
    responses(
        (status = 201, description = "Created", body = Decision, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields, unknown unit or ministry decision", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The number exists", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[post("/announcements")]
pub async fn create_decision(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    let write = DecisionWrite::from(body.0);
    let d = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::create(conn, &principal.actor(), &scope, &write)?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/announcements/{}", d.id)))
        .insert_header((header::ETAG, etag(d.version)))
        .json(d))
}

fn decision_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .map_err(|_| ApiError::NotFound(format!("no announcement {text:?}")))
}

/// Get an announcement decision
#[utoipa::path(
    tag = "announcements",
    params(("id" = i64, Path, description = "Decision id", example = 7)),
    responses(
        (status = 200, description = "The decision", body = Decision, headers(("ETag" = String))),
        (status = 404, description = "No such decision among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/announcements/{id:\\d+}")]
pub async fn get_decision(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ProceduresRead)?;
    let id = decision_id(&id)?;
    let d = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::get(conn, &scope, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(d.version)))
        .json(d))
}

/// Replace an announcement decision
///
/// Deadlines are recomputed. An applied decision keeps its items; its publication date may
/// still be set, which marks its procedures published. A decision of no unit is the whole
/// province's: only a client granted every unit changes it, and a caller limited to some units
/// names one of them. Audited.
#[utoipa::path(
    tag = "announcements",
    request_body = DecisionInput,
    params(
        ("id" = i64, Path, description = "Decision id", example = 7),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The decision", body = Decision, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks procedures:write, or the decision is of no unit (the whole province's) and the caller is not granted every unit", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such decision among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Items of an applied decision, or a number taken", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The decision changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[put("/announcements/{id:\\d+}")]
pub async fn put_decision(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: ValidJson<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    let expected = if_match(&req)?;
    let id = decision_id(&id)?;
    let write = DecisionWrite::from(body.0);
    let d = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::update(
                conn,
                &principal.actor(),
                &scope,
                id,
                &write,
                expected.as_ref(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(d.version)))
        .json(d))
}

/// What applying a decision did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"procedureCode": "1.004650.H12", "action": "amended", "result": "updated"}]}))]
pub struct ApplyResult {
    /// Each item's result.
    pub items: Vec<AppliedItem>,
}

/// Apply a provincial decision to the catalogue
///
/// In one transaction: new and replacing procedures are created, amended ones get a new version,
/// replaced and abolished ones end. Any item that cannot be applied refuses the whole decision
/// with the item named. Audited.
#[utoipa::path(
    tag = "announcements",
    params(("id" = i64, Path, description = "Decision id", example = 9)),
    responses(
        (status = 200, description = "Applied", body = ApplyResult),
        (status = 400, description = "An item cannot be applied (named)", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks procedures:write, or the decision is of no unit (the whole province's) and the caller is not granted every unit", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such decision among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Applied already, or a ministry decision", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[post("/announcements/{id:\\d+}/apply")]
pub async fn apply_decision(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<ApplyResult>, ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    let id = decision_id(&id)?;
    let items = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::apply(conn, &principal.actor(), &scope, id)?)
        })
        .await?;
    Ok(web::Json(ApplyResult { items }))
}

/// The day a view is computed for.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// Compute as of this day (default: today in Vietnam).
    pub as_of: Option<NaiveDate>,
}

/// Rows of a view.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rows<T: ToSchema> {
    /// The day the view was computed for.
    pub as_of: NaiveDate,
    /// The rows.
    pub items: Vec<T>,
}

fn unit_cells(unit: Option<&tthc_core::db::announcements::UnitRef>) -> [String; 2] {
    [
        cell(unit.map(|u| u.code.clone())),
        cell(unit.map(|u| u.name.clone())),
    ]
}

/// How a compliance view is read from the store.
type Load<T> = fn(&mut DbConnection, &UnitScope, NaiveDate) -> StoreResult<Vec<T>>;

/// A compliance view as of a day, within the caller's units, as JSON or (with
/// `Accept: text/csv`) as a CSV file of `header` and one `row` per item.
#[allow(clippy::too_many_arguments)] // each is one part of the view's definition
async fn compliance_view<T: Serialize + ToSchema + Send + 'static>(
    state: &AppState,
    principal: Principal,
    req: &HttpRequest,
    as_of: Option<NaiveDate>,
    load: Load<T>,
    name: &str,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ProceduresRead)?;
    let as_of = today_or(as_of);
    let items = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(load(conn, &scope, as_of)?)
        })
        .await?;
    if wants_csv(req) {
        return csv_response(name, header, items.iter().map(row));
    }
    Ok(HttpResponse::Ok().json(Rows { as_of, items }))
}

/// Late announcements
///
/// Ministry decisions the province announced late, or has not announced past the deadline, in
/// the shape of the monthly notice: the ministry decision, the unit that should submit, working
/// days late, notes. Most late first. CSV with `Accept: text/csv`.
#[utoipa::path(
    tag = "announcements",
    params(AsOfQuery),
    responses(
        (status = 200, description = "The late announcements", content((Rows<LateAnnouncement> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/announcements/late")]
pub async fn late(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    compliance_view(
        &state,
        principal,
        &req,
        query.0.as_of,
        store::late,
        "late-announcements",
        &[
            "ministryDecision",
            "signedOn",
            "ministry",
            "title",
            "unitCode",
            "unitName",
            "due",
            "announcedBy",
            "announcedOn",
            "workingDaysLate",
            "notes",
        ],
        |r: &LateAnnouncement| {
            let [code, name] = unit_cells(r.unit.as_ref());
            vec![
                r.ministry_decision.number.clone(),
                r.ministry_decision.signed_on.to_string(),
                r.ministry.clone(),
                r.title.clone(),
                code,
                name,
                r.due.to_string(),
                cell(r.announced_by.as_ref().map(|a| a.number.clone())),
                cell(r.announced_by.as_ref().map(|a| a.signed_on)),
                r.working_days_late.to_string(),
                cell(r.notes.clone()),
            ]
        },
    )
    .await
}

/// Pending ministry decisions
///
/// Ministry decisions the province has not announced yet, with working days left (negative when
/// overdue), most urgent first: the early-warning list. CSV with `Accept: text/csv`.
#[utoipa::path(
    tag = "announcements",
    params(AsOfQuery),
    responses(
        (status = 200, description = "The pending decisions", content((Rows<PendingAnnouncement> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/announcements/pending")]
pub async fn pending(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    compliance_view(
        &state,
        principal,
        &req,
        query.0.as_of,
        store::pending,
        "pending-announcements",
        &[
            "ministryDecision",
            "signedOn",
            "ministry",
            "title",
            "unitCode",
            "unitName",
            "due",
            "workingDaysLeft",
        ],
        |r: &PendingAnnouncement| {
            let [code, name] = unit_cells(r.unit.as_ref());
            vec![
                r.ministry_decision.number.clone(),
                r.ministry_decision.signed_on.to_string(),
                r.ministry.clone(),
                r.title.clone(),
                code,
                name,
                r.due.to_string(),
                r.working_days_left.to_string(),
            ]
        },
    )
    .await
}

/// Publication on the national database
///
/// Every procedure of every provincial decision with its publication on the national database:
/// on time, late, not published past the deadline, or not due yet. CSV with `Accept: text/csv`.
#[utoipa::path(
    tag = "announcements",
    params(AsOfQuery),
    responses(
        (status = 200, description = "The publication status", content((Rows<PublicationStatus> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/announcements/publication")]
pub async fn publication(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    compliance_view(
        &state,
        principal,
        &req,
        query.0.as_of,
        store::publication,
        "publication",
        &[
            "decision",
            "signedOn",
            "unitCode",
            "unitName",
            "procedureCode",
            "name",
            "due",
            "publishedOn",
            "status",
            "workingDaysLate",
        ],
        |r: &PublicationStatus| {
            let [code, name] = unit_cells(r.unit.as_ref());
            vec![
                r.decision.number.clone(),
                r.decision.signed_on.to_string(),
                code,
                name,
                r.procedure_code.clone(),
                cell(r.name.clone()),
                r.due.to_string(),
                cell(r.published_on),
                r.status.clone(),
                r.working_days_late.to_string(),
            ]
        },
    )
    .await
}

/// Get the announcement rule set
///
/// The working days that announcement and publication deadlines are computed with.
#[utoipa::path(
    tag = "announcements",
    responses(
        (status = 200, description = "The rule set", body = AnnouncementRules),
    ),
    security(("bearer" = ["procedures:read"]))
)]
#[get("/announcement-rules")]
pub async fn get_rules(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<AnnouncementRules>, ApiError> {
    principal.require(Scope::ProceduresRead)?;
    Ok(web::Json(state.run(|conn| Ok(store::rules(conn)?)).await?))
}

/// The rule set to use from now on.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"beforeEffective": 5, "afterMinistrySigned": 5, "publishAfterDecision": 5, "signatureExtendsDeadline": false}))]
pub struct RulesInput {
    /// Working days before the legal basis takes effect.
    #[validate(range(max = 60))]
    #[schema(maximum = 60)]
    pub before_effective: u32,
    /// Working days after the ministry signed, when the effective date is unknown.
    #[validate(range(max = 60))]
    #[schema(maximum = 60)]
    pub after_ministry_signed: u32,
    /// Whether a ministry decision signed too late for the effect rule gives the province
    /// `afterMinistrySigned` working days from its signature (not the portal's rule).
    #[serde(default)]
    pub signature_extends_deadline: bool,
    /// Working days after the provincial decision for publication.
    #[validate(range(max = 60))]
    #[schema(maximum = 60)]
    pub publish_after_decision: u32,
}

/// Replace the announcement rule set
///
/// Deadlines already stored keep the rule that produced them; decisions created or changed later
/// use the new one. Only by a client granted every unit: the rules are every unit's. Audited.
#[utoipa::path(
    tag = "announcements",
    request_body = RulesInput,
    responses(
        (status = 200, description = "The rule set", body = AnnouncementRules),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks procedures:write or is not granted every unit", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["procedures:write"]))
)]
#[put("/announcement-rules")]
pub async fn put_rules(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<RulesInput>,
) -> Result<web::Json<AnnouncementRules>, ApiError> {
    principal.require(Scope::ProceduresWrite)?;
    principal.require_every_unit("the announcement rules set every unit's deadlines")?;
    let rules = AnnouncementRules {
        before_effective: body.0.before_effective,
        after_ministry_signed: body.0.after_ministry_signed,
        publish_after_decision: body.0.publish_after_decision,
        signature_extends_deadline: body.0.signature_extends_deadline,
    };
    Ok(web::Json(
        state
            .run(move |conn| Ok(store::put_rules(conn, &principal.actor(), &rules)?))
            .await?,
    ))
}
