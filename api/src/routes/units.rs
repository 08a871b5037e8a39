//! `/api/v1/units`: the organisational tree.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::db::units::{self as store, UnitFilter, UnitInsertForm, UnitUpdateForm};
use tthc_core::unit::{Unit, UnitCode, UnitLevel, UnitScope};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, decode_cursor, etag, if_match,
};
use crate::state::AppState;

/// The level of a unit in the administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Level {
    /// Province or centrally governed city (tỉnh, thành phố).
    Province,
    /// Department or agency of the provincial people's committee (sở, ban, ngành).
    Department,
    /// District (huyện), in data from before July 2025.
    District,
    /// Commune or ward (xã, phường, đặc khu).
    Commune,
    /// Any other unit.
    Other,
}

impl From<Level> for UnitLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Province => Self::Province,
            Level::Department => Self::Department,
            Level::District => Self::District,
            Level::Commune => Self::Commune,
            Level::Other => Self::Other,
        }
    }
}

impl From<UnitLevel> for Level {
    fn from(l: UnitLevel) -> Self {
        match l {
            UnitLevel::Province => Self::Province,
            UnitLevel::Department => Self::Department,
            UnitLevel::District => Self::District,
            UnitLevel::Commune => Self::Commune,
            UnitLevel::Other => Self::Other,
        }
    }
}

/// An organisational unit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "000.00.12.H12", "name": "Sở Tư pháp", "level": "department",
    "parent": "000.00.00.H12", "validFrom": "2025-07-01", "validTo": null, "version": 1,
    "createdAt": "2026-11-21T02:44:00Z", "updatedAt": "2026-11-21T02:44:00Z"
}))]
pub struct UnitView {
    /// Identifier code (mã định danh), unique.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// The parent unit's code; `null` for a root.
    pub parent: Option<String>,
    /// First day the unit exists.
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit exists (merged or closed); `null` while it exists.
    pub valid_to: Option<NaiveDate>,
    /// Incremented by every change; also the `ETag`.
    pub version: i64,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Unit> for UnitView {
    fn from(u: Unit) -> Self {
        Self {
            code: u.code.to_string(),
            name: u.name,
            level: u.level.into(),
            parent: u.parent.map(|p| p.to_string()),
            valid_from: u.valid_from,
            valid_to: u.valid_to,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new unit.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "code": "000.00.12.H12", "name": "Sở Tư pháp", "level": "department",
    "parent": "000.00.00.H12", "validFrom": "2025-07-01"
}))]
pub struct UnitCreate {
    /// Identifier code: 1–40 ASCII letters, digits, `.` and `-`.
    pub code: UnitCode,
    /// Official name.
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300, extensions(("x-not-blank" = json!(true))))]
    pub name: String,
    /// Level.
    pub level: Level,
    /// The parent's code; omit for a root (needs a client that acts for every unit).
    pub parent: Option<UnitCode>,
    /// First day the unit exists.
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit exists.
    pub valid_to: Option<NaiveDate>,
}

/// A change to a unit: fields left out stay as they are; `null` clears `parent`, `validFrom`
/// or `validTo`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"validTo": "2025-06-30"}))]
pub struct UnitPatch {
    /// New name.
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300, extensions(("x-not-blank" = json!(true))))]
    pub name: Option<String>,
    /// New level.
    pub level: Option<Level>,
    /// New parent's code: the unit moves with its whole subtree. `null` makes it a root.
    #[serde(default, deserialize_with = "crate::http::present")]
    #[schema(value_type = Option<UnitCode>)]
    pub parent: Option<Option<UnitCode>>,
    /// New first day.
    #[serde(default, deserialize_with = "crate::http::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_from: Option<Option<NaiveDate>>,
    /// New last day.
    #[serde(default, deserialize_with = "crate::http::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_to: Option<Option<NaiveDate>>,
}

/// Filters of the unit list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitListQuery {
    /// Only the direct children of this unit.
    #[param(value_type = Option<String>, example = "000.00.00.H12")]
    pub parent: Option<UnitCode>,
    /// Only units of this level.
    #[param(inline)]
    pub level: Option<Level>,
    /// Only this unit and everything below it.
    #[param(value_type = Option<String>)]
    pub within: Option<UnitCode>,
    /// Only units that exist on this day.
    pub valid_on: Option<NaiveDate>,
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return `total`, the number of matching units.
    pub count: Option<bool>,
}

use crate::error::PROBLEM_JSON as PROBLEM;

/// List units
///
/// The units the caller acts for (each grant with its subtree), ordered by code.
#[utoipa::path(
    tag = "units",
    params(UnitListQuery),
    responses(
        (status = 200, description = "A page of units", body = Page<UnitView>),
        (status = 400, description = "A filter is invalid", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["units:read"]))
)]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<UnitListQuery>,
) -> Result<web::Json<Page<UnitView>>, ApiError> {
    principal.require(Scope::UnitsRead)?;
    let q = query.0;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let filter = UnitFilter {
        parent: q.parent,
        level: q.level.map(Into::into),
        within: q.within,
        valid_on: q.valid_on,
        after: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let want_total = q.count.unwrap_or(false);
    let (rows, total) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let rows = store::list(conn, &scope, &filter)?;
            let total = if want_total {
                Some(store::count_matching(conn, &scope, &filter)?)
            } else {
                None
            };
            Ok((rows, total))
        })
        .await?;
    let mut page = Page::from_rows(rows, limit, |u| u.code.to_string(), UnitView::from);
    page.total = total;
    Ok(web::Json(page))
}

/// Get a unit
#[utoipa::path(
    tag = "units",
    params(("code" = String, Path, description = "Identifier code", example = "000.00.12.H12")),
    responses(
        (status = 200, description = "The unit; its version is in `ETag`", body = UnitView,
         headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["units:read"]))
)]
#[get("/units/{code}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::UnitsRead)?;
    let code = code.into_inner();
    let unit = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::get(conn, &scope, &code)?)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), unit))
}

fn with_etag(mut builder: actix_web::HttpResponseBuilder, unit: Unit) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag(unit.version)))
        .json(UnitView::from(unit))
}

/// Create a unit
///
/// The parent must be one of the caller's units or below one; a root unit needs a client that
/// acts for every unit. Audited.
#[utoipa::path(
    tag = "units",
    request_body = UnitCreate,
    params(("X-Audit-Reason" = Option<String>, Header, description = "Why, for the audit trail")),
    responses(
        (status = 201, description = "Created; `Location` names it", body = UnitView,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields or unknown parent", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks units:write, or may not create a root or a unit of level province (only a client granted every unit may)", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The code is taken", body = Problem, content_type = PROBLEM),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["units:write"]))
)]
#[post("/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<UnitCreate>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::UnitsWrite)?;
    let b = body.0;
    if b.parent.is_none() && !principal.claims.all_units {
        return Err(ApiError::Forbidden(
            "only a client that acts for every unit may create a root unit; name a parent".into(),
        ));
    }
    let form = UnitInsertForm {
        code: b.code,
        name: b.name.trim().to_owned(),
        level: b.level.into(),
        parent: b.parent,
        valid_from: b.valid_from,
        valid_to: b.valid_to,
    };
    let unit = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::create(conn, &principal.actor(), &scope, &form)?)
        })
        .await?;
    let location = format!("/api/v1/units/{}", unit.code);
    Ok(with_etag(
        {
            let mut b = HttpResponse::Created();
            b.insert_header((header::LOCATION, location));
            b
        },
        unit,
    ))
}

/// Change a unit
///
/// Renames, re-levels (a client granted every unit), moves (with its whole subtree) or closes a
/// unit. A unit cannot move
/// under itself or its descendants. A move carries the subtree's dossiers and petitions: from
/// its commit they are listed, counted and granted under the new parent; writes of records
/// wait for it (on PostgreSQL a move waits at most 2 s for writes in flight, then answers
/// 503). Send `If-Match` with the `ETag` you read to refuse the change if someone else
/// changed the unit meanwhile. Audited.
#[utoipa::path(
    tag = "units",
    request_body = UnitPatch,
    params(
        ("code" = String, Path, description = "Identifier code", example = "000.00.12.H12"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
        ("X-Audit-Reason" = Option<String>, Header, description = "Why, for the audit trail"),
    ),
    responses(
        (status = 200, description = "The changed unit", body = UnitView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields, unknown parent, or a move under a descendant", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks units:write, or may not change the unit's level or make it a root (only a client granted every unit may)", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The unit changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["units:write"]))
)]
#[patch("/units/{code}")]
pub async fn patch_unit(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    code: web::Path<String>,
    body: ValidJson<UnitPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::UnitsWrite)?;
    let expected = if_match(&req)?;
    let b = body.0;
    if matches!(b.parent, Some(None)) && !principal.claims.all_units {
        return Err(ApiError::Forbidden(
            "only a client that acts for every unit may make a unit a root".into(),
        ));
    }
    let form = UnitUpdateForm {
        name: b.name.map(|n| n.trim().to_owned()),
        level: b.level.map(Into::into),
        parent: b.parent,
        valid_from: b.valid_from,
        valid_to: b.valid_to,
    };
    let code = code.into_inner();
    let unit = state
        .run(move |conn| {
            let scope: UnitScope = principal.unit_scope(conn)?;
            Ok(store::update(
                conn,
                &principal.actor(),
                &scope,
                &code,
                &form,
                expected.as_ref(),
            )?)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), unit))
}
