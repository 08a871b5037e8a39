//! `GET /api/v1/changes`: every write, in commit order, for clients that catch up instead of
//! polling each resource.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::db::changes::{self as store, ChangeFilter, ChangeRow};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::ValidQuery;
use crate::http::{DEFAULT_LIMIT, MAX_LIMIT, feed_cursor, feed_position};
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// One change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "sequence": 1042, "at": "2026-12-03T02:44:00.123456Z", "kind": "update",
    "resourceType": "dossier", "code": "000.21.30.H12-260302-0001", "unit": "000.21.30.H12"
}))]
pub struct Change {
    /// The change's sequence number (the audit trail's id: `GET /audit` has who made it and
    /// what it was).
    pub sequence: i64,
    /// When it was stored.
    pub at: DateTime<Utc>,
    /// `create`, `update`, `delete` …
    pub kind: String,
    /// `dossier`, `petition`, `unit`, `procedure` …
    pub resource_type: String,
    /// The record's code (or id).
    pub code: String,
    /// The unit whose record it is; null for a change of the whole service.
    pub unit: Option<String>,
}

impl From<ChangeRow> for Change {
    fn from(r: ChangeRow) -> Self {
        Self {
            sequence: r.id,
            at: r.at.and_utc(),
            kind: r.action,
            resource_type: r.resource_type,
            code: r.resource_id,
            // A tree path is the codes from the root down: the unit is its last one.
            unit: r
                .unit_path
                .as_deref()
                .and_then(|p| p.trim_end_matches('/').rsplit('/').next())
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        }
    }
}

/// Changes after a position.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"items": [{
    "sequence": 1042, "at": "2026-12-03T02:44:00.123456Z", "kind": "update",
    "resourceType": "dossier", "code": "000.21.30.H12-260302-0001", "unit": "000.21.30.H12"
}], "nextCursor": "azoxMjM0NTYuMTA0Mg"}))]
pub struct Changes {
    /// The changes, oldest first.
    pub items: Vec<Change>,
    /// Pass as `after` to read on: the position after the last change here (the one given, when
    /// there is none yet). Keep it to resume after a restart.
    pub next_cursor: String,
}

/// What to read of the feed.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// A `nextCursor` of an earlier answer; left out, the feed is read from its start.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub after: Option<String>,
    /// Only these kinds of record, comma-separated (`dossier,petition`).
    #[validate(length(max = 200))]
    #[param(max_length = 200, pattern = "^[A-Za-z,]*$")]
    pub r#type: Option<String>,
    /// Only the changes of this unit's records and those of the units below it.
    #[validate(length(min = 1, max = 60))]
    #[param(min_length = 1, max_length = 60)]
    pub unit: Option<String>,
    /// At most this many (default 50, at most 500).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Read the change feed
///
/// Every write of the service (dossiers, petitions, units, procedures, announcements, reports …),
/// in the order it was committed, each once: a client keeps `nextCursor` and asks again to
/// catch up, and misses nothing even while several instances write at once. An entry says what
/// changed (kind, record, unit), not the record itself: read it from its resource, or its
/// before and after from `GET /audit`. A unit-limited client reads the changes of its units'
/// records only.
#[utoipa::path(
    tag = "audit",
    params(ChangesQuery),
    responses(
        (status = 200, description = "The changes after the position, oldest first", body = Changes),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 422, description = "`after` is not a cursor this service returned, or `unit` names no unit among the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["changes:read"]))
)]
#[get("/changes")]
pub async fn changes(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ChangesQuery>,
) -> Result<web::Json<Changes>, ApiError> {
    principal.require(Scope::ChangesRead)?;
    let q = query.0;
    let after = q
        .after
        .as_deref()
        .map(|c| feed_position("after", c))
        .transpose()?
        .unwrap_or_default();
    if let Some(bad) = q
        .r#type
        .as_deref()
        .and_then(|t| t.chars().find(|c| !(c.is_ascii_alphabetic() || *c == ',')))
    {
        return Err(ApiError::invalid(
            "type",
            format!("may hold only letters and commas (found {bad:?})"),
        ));
    }
    let resource_types: Vec<String> = q
        .r#type
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let rows = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let within = match &q.unit {
                None => None,
                Some(code) => Some(
                    tthc_core::db::units::find_row(conn, code)?
                        .filter(|u| scope.allows(&u.path))
                        .ok_or_else(|| {
                            ApiError::rule("unit", format!("no unit has the code {code}"))
                        })?
                        .path,
                ),
            };
            Ok(store::list(
                conn,
                &ChangeFilter {
                    after,
                    until: None,
                    resource_types,
                    within,
                    scope,
                    exclude_client: None,
                    limit,
                },
            )?)
        })
        .await?;
    let next = rows.last().map_or(after, ChangeRow::position);
    Ok(web::Json(Changes {
        items: rows.into_iter().map(Change::from).collect(),
        next_cursor: feed_cursor(next),
    }))
}
