//! `/api/v1/periods`: closing a month freezes every unit's 766 figures as a snapshot; later data
//! is then reported as a difference against it. Reopening is for administrators.

use std::sync::Arc;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use tthc_core::db::periods::{self, ClosedPeriod};
use tthc_core::period::Period;
use tthc_core::scoring::RuleSet;
use utoipa::ToSchema;

use crate::auth::{Principal, Scope};
use crate::context::period_of;
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use tthc_core::db::now_local;

/// A closed month.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ClosedPeriod, example = json!({"period": "2026-08", "closedAt": "2026-09-03T09:00:00+07:00", "closedBy": "office", "units": 412}))]
pub struct ClosedPeriodView {
    /// The month.
    pub period: String,
    /// When it was closed.
    #[serde(serialize_with = "crate::instant::serialize")]
    pub closed_at: DateTime<FixedOffset>,
    /// The client (and end user) that closed it.
    pub closed_by: String,
    /// How many units have a snapshot.
    pub units: i64,
}

impl From<ClosedPeriod> for ClosedPeriodView {
    fn from(c: ClosedPeriod) -> Self {
        Self {
            period: c.period,
            closed_at: tthc_core::calendar::from_local(c.closed_at),
            closed_by: c.closed_by,
            units: c.units,
        }
    }
}

/// The closed months.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosedPeriods {
    /// Latest first.
    pub items: Vec<ClosedPeriodView>,
}

/// List closed months
///
/// The months whose scores are frozen, latest first, with when and by whom they were closed
/// and how many units have a snapshot.
#[utoipa::path(
    tag = "scoring",
    responses(
        (status = 200, description = "The closed months", body = ClosedPeriods),
    ),
    security(("bearer" = ["scores:read"]))
)]
#[get("/periods")]
pub async fn list_periods(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<ClosedPeriods>, ApiError> {
    principal.require(Scope::ScoresRead)?;
    let items = state.run(|conn| Ok(periods::list_closed(conn)?)).await?;
    Ok(web::Json(ClosedPeriods {
        items: items.into_iter().map(ClosedPeriodView::from).collect(),
    }))
}

/// The month `text` names, and the rule set that applies to it.
async fn month_of(state: &AppState, text: &str) -> Result<(Period, Arc<RuleSet>), ApiError> {
    let (period, rule_set) = period_of(state, text).await?;
    match period {
        Period::Month { .. } => Ok((period, rule_set)),
        _ => Err(ApiError::invalid(
            "period",
            "only a month is closed (quarters and years are read from their months' records)",
        )),
    }
}

/// Close a month
///
/// Freezes the month's figures of every unit as a snapshot: from then on
/// `GET /units/{code}/scores/{period}`, trends and rankings answer from it, and the score
/// answer's `sinceClose` reports the late data (how the live figures moved since). Only a month
/// that is over can be closed, by a client granted every unit; a closed month must be reopened
/// before it is closed again. Audited. Closing scores every unit, so it takes as long as
/// that (seconds for a province).
#[utoipa::path(
    tag = "scoring",
    params(("period" = String, Path, description = "The month", example = "2026-08")),
    responses(
        (status = 201, description = "Closed", body = ClosedPeriodView),
        (status = 400, description = "Not a month, or not over yet", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks scores:write or is not granted every unit", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The month is closed already, or the rule set in force for it changed while it was being closed (close it again)", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["scores:write"]))
)]
#[post("/periods/{period}/close")]
pub async fn close_period(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ScoresWrite)?;
    principal.require_every_unit("closing a month freezes every unit's scores")?;
    let (period, rule_set) = month_of(&state, &path.into_inner()).await?;
    let now = now_local();
    if now < period.end().naive_local() {
        return Err(ApiError::rule(
            "period",
            format!("{period} is not over yet; it can be closed from its last day's end on"),
        ));
    }
    let closed = state
        .run(move |conn| {
            Ok(periods::close(
                conn,
                &principal.actor(),
                period,
                &rule_set,
                now,
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(ClosedPeriodView::from(closed)))
}

/// Reopen a closed month
///
/// Drops the month's snapshots: its scores are live again (and can be closed anew). For
/// administrators (`periods:admin`) granted every unit, as closing it. Audited.
#[utoipa::path(
    tag = "scoring",
    params(("period" = String, Path, description = "The month", example = "2026-08")),
    responses(
        (status = 204, description = "Reopened"),
        (status = 400, description = "Not a month", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks periods:admin or is not granted every unit", body = Problem, content_type = PROBLEM),
        (status = 404, description = "The month is not closed", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The month was closed again while this reopening ran: reopen it again", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["periods:admin"]))
)]
#[post("/periods/{period}/reopen")]
pub async fn reopen_period(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PeriodsAdmin)?;
    principal.require_every_unit("reopening a month unfreezes every unit's scores")?;
    let (period, _) = month_of(&state, &path.into_inner()).await?;
    state
        .run(move |conn| Ok(periods::reopen(conn, &principal.actor(), period)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
