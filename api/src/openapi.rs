//! The OpenAPI document: metadata here, operations collected from the routes themselves.

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tthc",
        description = "Control of a province's administrative procedures (thủ tục hành chính) and its \
Decision 766/QĐ-TTg service-quality index, explained down to the dossier or decision behind every \
lost point.\n\nGet a token with `POST /api/v1/auth/token` (OAuth2 client credentials) and send it as \
`Authorization: Bearer <token>`. Errors are `application/problem+json` (RFC 9457) with a `code` and, \
for validation failures, `invalidParams`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "auth", description = "Access tokens (OAuth2 client credentials)"),
        (name = "units", description = "Organisational units: province, departments, districts, communes"),
        (name = "clients", description = "API clients, their scopes and unit grants"),
        (name = "calendar", description = "Working-day calendars and due dates"),
        (name = "procedures", description = "The procedure catalogue: versions, completeness, localization"),
        (name = "announcements", description = "Announcement decisions, their deadlines and compliance"),
        (name = "dossiers", description = "The dossier registry that vendor systems push to"),
        (name = "petitions", description = "Petitions (phản ánh, kiến nghị): intake, stage deadlines, figures"),
        (name = "scoring", description = "The 766 index: rule sets and scores"),
        (name = "reports", description = "Form II.06a and the monthly notice, as JSON, CSV, XLSX and HTML"),
        (name = "reporting duties", description = "Reports units owe, the reports sent, and compliance for the PAR index"),
        (name = "audit", description = "Who changed what, when and why"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A token from POST /api/v1/auth/token. The scopes an operation needs are listed \
                         with its security requirement.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole OpenAPI document of the service, as served at `/api/v1/openapi.json` and committed
/// at `openapi/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    doc
}

/// The document as pretty JSON with a final newline, the form committed to the repository.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
