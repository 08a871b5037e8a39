//! The office console: a page served by tthc itself at `/`, its script and style embedded in the
//! binary (no CDN; it works offline), in Vietnamese, built on the public API only, so that it is
//! also the frontend teams' reference client. For now it shows the published results of closed
//! months, which need no sign-in.

use actix_web::http::header;
use actix_web::{HttpResponse, get};

const PAGE: &str = include_str!("../../console/index.html");
const SCRIPT: &str = include_str!("../../console/app.js");
const STYLE: &str = include_str!("../../console/style.css");

/// The console's content security policy: its own script, style and API, nothing else; no
/// inline script or style, no framing.
const CONSOLE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

fn asset(body: &'static str, content_type: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONSOLE_POLICY))
        // Revalidated on every load (the ETag makes that a 304), so an upgrade shows at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// The office console
///
/// The page people open in a browser: the published results of closed months (the province's
/// score and groups, its trend over 12 months, its units ranked with their change).
#[utoipa::path(
    tag = "console",
    responses(
        (status = 200, description = "The console's page", content_type = "text/html",
         body = String, example = json!("<!doctype html>\n<html lang=\"vi\">…")),
    ),
    security(())
)]
#[get("/")]
pub async fn page() -> HttpResponse {
    asset(PAGE, "text/html; charset=utf-8")
}

/// The console's script
#[utoipa::path(
    tag = "console",
    responses(
        (status = 200, description = "The console's script", content_type = "text/javascript",
         body = String, example = json!("\"use strict\";…")),
    ),
    security(())
)]
#[get("/console/app.js")]
pub async fn script() -> HttpResponse {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// The console's style sheet
#[utoipa::path(
    tag = "console",
    responses(
        (status = 200, description = "The console's style sheet", content_type = "text/css",
         body = String, example = json!(":root { … }")),
    ),
    security(())
)]
#[get("/console/style.css")]
pub async fn style() -> HttpResponse {
    asset(STYLE, "text/css; charset=utf-8")
}
