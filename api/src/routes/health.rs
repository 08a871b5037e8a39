//! Liveness, readiness and metrics, for orchestrators and Prometheus.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Liveness
///
/// The process is up and answering.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Up", body = Health)),
    security(())
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness
///
/// The database answers and every migration is applied.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database is unreachable or not migrated", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let db = state.db.clone();
    web::block(move || db.check_ready())
        .await?
        .map_err(|e| ApiError::Unavailable(format!("not ready: {e}")))?;
    Ok(web::Json(Health {
        status: "ok".into(),
    }))
}

/// Metrics
///
/// Request counts by route and status and a latency histogram, in Prometheus' text format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4",
               example = "tthc_http_requests_total{method=\"GET\",route=\"/api/v1/units\",status=\"200\"} 3\n")),
    security(())
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
