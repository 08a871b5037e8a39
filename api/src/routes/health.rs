//! Liveness, readiness and metrics, for orchestrators and Prometheus.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::webhooks::deliverer::measure_lag;

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

/// Readiness checks running at once; past this, the service is busy enough to say not ready.
static CHECKS_RUNNING: AtomicUsize = AtomicUsize::new(0);
const MAX_CHECKS_RUNNING: usize = 4;
/// How long readiness may take before the answer is "not ready".
const READY_WITHIN: Duration = Duration::from_secs(1);

/// Readiness
///
/// The database answers and every migration is applied, within a second: a service too busy to
/// get a database connection that fast says it is not ready, so that a load balancer sends the
/// traffic elsewhere.
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
    if CHECKS_RUNNING.fetch_add(1, Ordering::SeqCst) >= MAX_CHECKS_RUNNING {
        CHECKS_RUNNING.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::Unavailable(
            "not ready: earlier readiness checks have not finished".into(),
        ));
    }
    // A thread of its own: the blocking threads that serve requests may all be busy, and the
    // answer must not wait behind them.
    let db = state.db.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("tthc-readyz".into())
        .spawn(move || {
            let result = db.check_ready(READY_WITHIN);
            CHECKS_RUNNING.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        CHECKS_RUNNING.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::Unavailable(
            "not ready: no thread to check".into(),
        ));
    }
    match actix_web::rt::time::timeout(READY_WITHIN, rx).await {
        Ok(Ok(Ok(()))) => Ok(web::Json(Health {
            status: "ok".into(),
        })),
        Ok(Ok(Err(e))) => Err(ApiError::Unavailable(format!("not ready: {e}"))),
        _ => Err(ApiError::Unavailable(
            "not ready: the database did not answer within a second".into(),
        )),
    }
}

/// Metrics
///
/// In Prometheus' text format: request counts by route and status and a latency histogram;
/// dossiers pushed by channel and outcome (`tthc_dossiers_total`); the time to compute a score
/// (`tthc_score_computation_seconds`); per subscription, the changes not delivered yet and the
/// age of the oldest (`tthc_delivery_waiting_changes`, `tthc_delivery_lag_seconds`; kind
/// `portal` is the relay's sync queue), read from the database at most once a second.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain",
               example = "tthc_http_requests_total{method=\"GET\",route=\"/api/v1/units\",status=\"200\"} 3\n")),
    security(())
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // The delivery gauges are read from the database when scraped, at most once a second; the
    // request metrics answer even when it is down.
    let metrics = state.metrics.clone();
    if metrics.claim_delivery_measurement(std::time::Instant::now())
        && let Err(e) = state
            .run(move |conn| Ok(measure_lag(conn, &metrics)?))
            .await
    {
        tracing::warn!(error = %e, "metrics: delivery gauges not read");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
