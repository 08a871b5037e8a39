//! Request-wide concerns: the request id, the request log line, and Prometheus metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use sha2::Digest;
use tracing::Instrument;

use crate::state::AppState;

/// The request's id: the client's `X-Request-Id` when it sent a sensible one, else a new UUID.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Gives every request an id (echoed in `X-Request-Id`), a tracing span, a log line when it
/// ends, and its count and latency in the metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(metrics) = metrics {
        metrics.observe(
            method_label(res.request().method()),
            &route,
            status.as_u16(),
            elapsed.as_secs_f64(),
        );
    }
    span.in_scope(|| {
        tracing::info!(status = status.as_u16(), route = %route, millis = elapsed.as_secs_f64() * 1e3, "request finished");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// The method as a metrics label: the standard methods by name, anything else as `other`, so
/// that callers cannot add series by inventing methods (routes are labelled by their pattern,
/// and paths no route matches as `unmatched`, for the same reason).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The content security policy of Swagger UI, whose page starts itself with an inline script.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
/// The content security policy of every other page (printable reports): styles of their own,
/// nothing loaded, nothing run.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/// Headers every answer carries: no media-type sniffing; no caching of answers to
/// authenticated requests (they hold a unit's records) unless the handler said otherwise; a
/// content security policy on HTML pages.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    use actix_web::http::header;
    // A session cookie authenticates like a bearer token: its answers are not cached either.
    let authenticated = req.headers().contains_key(header::AUTHORIZATION)
        || req.cookie(crate::auth::SESSION_COOKIE).is_some();
    let docs = req.path().starts_with("/docs");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if docs { DOCS_POLICY } else { PAGE_POLICY }),
        );
    }
    Ok(res)
}

/// Largest answer given an `ETag` from its content.
const MAX_TAGGED_BODY: u64 = 16 * 1024 * 1024;

/// Conditional GET (RFC 9110 §13.1.2): every successful GET answer carries an `ETag` (the
/// resource's version where it has one, else a digest of the answer), and a GET whose
/// `If-None-Match` names it is answered `304 Not Modified` without a body, so that dashboards
/// polling reports and scores move no bytes while nothing changed.
pub async fn conditional_get(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    use actix_web::body::{BodySize, BoxBody, to_bytes};
    use actix_web::http::{Method, StatusCode, header};
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let asked = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.call(req).await?.map_into_boxed_body();
    if !get || res.status() != StatusCode::OK {
        return Ok(res);
    }
    let (req, mut res) = res.into_parts();
    let tag = match res.headers().get(header::ETAG) {
        Some(tag) => tag.clone(),
        None => {
            if !matches!(res.body().size(), BodySize::Sized(n) if n <= MAX_TAGGED_BODY) {
                return Ok(ServiceResponse::new(req, res));
            }
            let (head, body) = res.into_parts();
            let bytes = to_bytes(body)
                .await
                .map_err(|_| actix_web::error::ErrorInternalServerError("reading an answer"))?;
            let digest = sha2::Sha256::digest(&bytes);
            let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
            let tag = HeaderValue::from_str(&format!("W/\"{hex}\""))
                .map_err(actix_web::error::ErrorInternalServerError)?;
            res = head.set_body(BoxBody::new(bytes));
            res.headers_mut().insert(header::ETAG, tag.clone());
            tag
        }
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let matches = asked
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .is_some_and(|v| {
            v.trim() == "*"
                || v.split(',')
                    .any(|candidate| opaque(candidate) == opaque(tag.to_str().unwrap_or_default()))
        });
    if matches {
        let mut not_modified = actix_web::HttpResponse::NotModified();
        not_modified.insert_header((header::ETAG, tag));
        return Ok(ServiceResponse::new(req, not_modified.finish()));
    }
    Ok(ServiceResponse::new(req, res))
}

/// Whether a percent-encoded URI part encodes a control character (`%00`–`%1F`, `%7F`).
fn encodes_control(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && ((matches!(w[1], b'0' | b'1') && w[2].is_ascii_hexdigit())
                || (w[1] == b'7' && matches!(w[2], b'f' | b'F')))
    })
}

/// Refuses, before any handler or database sees them, paths and query parameters that encode a
/// control character: no code, name or filter holds one, and PostgreSQL cannot even compare
/// text holding NUL. The same 400 on both backends, naming the parameter.
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    if encodes_control(req.uri().path()) {
        let e = crate::error::ApiError::invalid(
            "path",
            "must not contain control characters (such as %00)",
        );
        return Ok(req.error_response(e));
    }
    if encodes_control(req.query_string())
        && let Err(e) = crate::http::refuse_control_in_query(req.query_string())
    {
        return Ok(req.error_response(e));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Prometheus metrics of the HTTP service and of the work it does.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Dossiers stored, by the way they came (`bulk`, `single`, `portalSync`) and the outcome
    /// (`created`, `updated`, `unchanged`, `stale`, `rejected`).
    pub dossiers: IntCounterVec,
    /// Seconds to compute a unit's score for a period.
    pub score_seconds: prometheus::Histogram,
    /// Seconds since the oldest change a subscription has not delivered yet, by subscription
    /// and kind (`webhook`, `portal`: the relay's sync queue), set when scraped.
    pub delivery_lag: prometheus::GaugeVec,
    /// Changes a subscription has not delivered yet, by subscription and kind, set when
    /// scraped.
    pub delivery_waiting: prometheus::IntGaugeVec,
    /// When the delivery gauges were last read from the database (shared by the clones, as the
    /// gauges are).
    delivery_measured: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// How often a scrape reads the delivery gauges from the database; scrapes in between answer
/// the gauges last read.
pub const DELIVERY_MEASURE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl Metrics {
    /// Creates the metrics; fails only if the definitions below are inconsistent.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "tthc_http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tthc_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let dossiers = IntCounterVec::new(
            Opts::new(
                "tthc_dossiers_total",
                "Dossiers pushed, by channel (bulk, single, portalSync) and outcome (created, updated, unchanged, stale, rejected)",
            ),
            &["via", "outcome"],
        )?;
        let score_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "tthc_score_computation_seconds",
                "Time to compute a unit's 766 score for a period",
            )
            .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        )?;
        let delivery_lag = prometheus::GaugeVec::new(
            Opts::new(
                "tthc_delivery_lag_seconds",
                "Age of the oldest change a subscription has not delivered (0 when caught up), by subscription and kind (webhook, portal)",
            ),
            &["subscription", "kind"],
        )?;
        let delivery_waiting = prometheus::IntGaugeVec::new(
            Opts::new(
                "tthc_delivery_waiting_changes",
                "Changes a subscription has not delivered, by subscription and kind (webhook, portal: the sync queue)",
            ),
            &["subscription", "kind"],
        )?;
        // Every channel and outcome from zero, so that rates and ratios exist from the start.
        for via in ["bulk", "single", "portalSync"] {
            for outcome in ["created", "updated", "unchanged", "stale", "rejected"] {
                dossiers.with_label_values(&[via, outcome]);
            }
        }
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(dossiers.clone()))?;
        registry.register(Box::new(score_seconds.clone()))?;
        registry.register(Box::new(delivery_lag.clone()))?;
        registry.register(Box::new(delivery_waiting.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            dossiers,
            score_seconds,
            delivery_lag,
            delivery_waiting,
            delivery_measured: std::sync::Arc::new(std::sync::Mutex::new(None)),
        })
    }

    /// Whether a scrape at `now` reads the delivery gauges from the database: at most once per
    /// [`DELIVERY_MEASURE_INTERVAL`] on this instance. `/metrics` is anonymous and each reading
    /// counts every subscription's waiting changes, so without it concurrent scrapes could hold
    /// every pooled connection (until 2026-12-07 each scrape read them).
    pub fn claim_delivery_measurement(&self, now: std::time::Instant) -> bool {
        let Ok(mut last) = self.delivery_measured.lock() else {
            return false;
        };
        if last.is_some_and(|at| now.saturating_duration_since(at) < DELIVERY_MEASURE_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Counts the outcomes of a push of dossiers that came `via` a channel.
    pub fn count_dossiers(&self, via: &str, result: &crate::bulk::BulkResult) {
        for (outcome, n) in [
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
            ("stale", result.stale),
            ("rejected", result.rejected),
        ] {
            self.dossiers
                .with_label_values(&[via, outcome])
                .inc_by(n as u64);
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_gauges_are_read_at_most_once_an_interval() {
        let metrics = Metrics::new().unwrap();
        let t = std::time::Instant::now();
        assert!(metrics.claim_delivery_measurement(t));
        assert!(!metrics.claim_delivery_measurement(t), "a scrape at once");
        assert!(!metrics.claim_delivery_measurement(t + DELIVERY_MEASURE_INTERVAL / 2));
        assert!(metrics.claim_delivery_measurement(t + DELIVERY_MEASURE_INTERVAL));
        assert!(
            !metrics.claim_delivery_measurement(t),
            "an instant before the last reading claims nothing"
        );
    }
}
