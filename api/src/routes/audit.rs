//! `GET /api/v1/audit`: the audit trail.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::db::audit::{self as store, AuditFilter, AuditRow};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::{DEFAULT_LIMIT, MAX_LIMIT, Page, ValidQuery, decode_cursor};
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": 42, "at": "2026-11-21T02:44:00.123456Z", "clientId": "admin",
    "endUserId": "cb-0012", "endUserName": "Nguyễn Thị Lan", "action": "update",
    "resourceType": "unit", "resourceId": "000.00.12.H12",
    "before": {"code": "000.00.12.H12", "name": "Sở Tư pháp", "validTo": null},
    "after": {"code": "000.00.12.H12", "name": "Sở Tư pháp", "validTo": "2025-06-30"},
    "reason": "Sáp nhập theo Nghị quyết 202/2025/QH15", "requestId": "5f0c1e9e-4d1b-4a51-9b8a-0f7e2d3c4b5a"
}))]
pub struct AuditEntry {
    /// Sequence number; newer entries have larger ones.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The client that made the change (`system` for the service itself).
    pub client_id: String,
    /// The end user named in the client's token.
    pub end_user_id: Option<String>,
    /// That end user's name.
    pub end_user_name: Option<String>,
    /// `create`, `update`, `delete`, `rotateSecret` …
    pub action: String,
    /// `unit`, `client` …
    pub resource_type: String,
    /// The resource's code or id.
    pub resource_id: String,
    /// The resource before the change.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The resource after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The `X-Audit-Reason` sent with the change.
    pub reason: Option<String>,
    /// The id of the request that made the change.
    pub request_id: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Self {
            id: r.id,
            at: r.at.and_utc(),
            client_id: r.client_id,
            end_user_id: r.end_user_id,
            end_user_name: r.end_user_name,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            before: json(r.before_json),
            after: json(r.after_json),
            reason: r.reason,
            request_id: r.request_id,
        }
    }
}

/// Filters of the audit trail.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this kind of resource (`unit`, `client` …).
    #[param(example = "unit")]
    pub resource_type: Option<String>,
    /// Only this resource (its code or id).
    #[param(example = "000.00.12.H12")]
    pub resource_id: Option<String>,
    /// Only changes made by this client.
    pub client_id: Option<String>,
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Read the audit trail
///
/// Changes, newest first. A client limited to some units reads only the changes to records of
/// those units (dossiers, petitions, units, figures, reports, procedures they handle), never the
/// changes of the whole service (clients, calendars, rule sets, periods).
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of changes, newest first", body = Page<AuditEntry>),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["audit:read"]))
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    principal.require(Scope::AuditRead)?;
    let q = query.0;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let before_id = match q.cursor.as_deref().map(decode_cursor).transpose()? {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::unknown_cursor())?,
        ),
        None => None,
    };
    let rows = state
        .run(move |conn| {
            let filter = AuditFilter {
                resource_type: q.resource_type,
                resource_id: q.resource_id,
                client_id: q.client_id,
                before_id,
                limit: limit + 1,
                scope: principal.unit_scope(conn)?,
            };
            Ok(store::list(conn, &filter)?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.id.to_string(),
        AuditEntry::from,
    )))
}
