//! The OpenAPI document: metadata here, operations collected from the routes themselves.

use actix_web::App;
use serde_json::{Value, json};
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
        (name = "users", description = "People who sign in to the office console: roles and unit grants"),
        (name = "calendar", description = "Working-day calendars and due dates"),
        (name = "procedures", description = "The procedure catalogue: versions, completeness, localization"),
        (name = "announcements", description = "Announcement decisions, their deadlines and compliance"),
        (name = "dossiers", description = "The dossier registry that vendor systems push to"),
        (name = "petitions", description = "Petitions (phản ánh, kiến nghị): intake, stage deadlines, figures"),
        (name = "scoring", description = "The 766 index: rule sets and scores"),
        (name = "reports", description = "Form II.06a and the monthly notice, as JSON, CSV, XLSX and HTML"),
        (name = "reporting duties", description = "Reports units owe, the reports sent, and compliance for the PAR index"),
        (name = "audit", description = "Who changed what, when and why"),
        (name = "webhooks", description = "Subscriptions that push the change feed to a URL, signed, with retries and dead letters"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "published", description = "The results of closed months, published monthly: readable without signing in"),
        (name = "console", description = "The office console served at /: its page, script and style"),
    ),
    modifiers(&BearerAuth),
    // The items of `POST /portal-sync`, whose body holds them as raw JSON.
    components(schemas(
        tthc_core::dossier::portal_sync::PortalDossier,
        tthc_core::dossier::portal_sync::PortalProgress,
    )),
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
    let (doc, value) = generated();
    serde_json::from_value(value).unwrap_or(doc)
}

/// The document the routes give, and it as JSON with this module's changes.
fn generated() -> (utoipa::openapi::OpenApi, Value) {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    let mut value = serde_json::to_value(&doc).unwrap_or_default();
    close_tagged_variants(&mut value);
    bound_dates(&mut value);
    shape_parameters(&mut value);
    forbid_blank(&mut value);
    forbid_control_characters(&mut value);
    name_levels(&mut value);
    loosen_bulk_items(&mut value);
    common_responses(&mut value);
    (doc, value)
}

/// A rule set's `scoring` is an internally tagged enum whose variants refuse unknown members
/// (`deny_unknown_fields`), which the generated variants do not say.
fn close_tagged_variants(doc: &mut Value) {
    if let Some(variants) = doc
        .pointer_mut("/components/schemas/Scoring/oneOf")
        .and_then(Value::as_array_mut)
    {
        for v in variants.iter_mut().filter_map(Value::as_object_mut) {
            v.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

/// The keys of a rule set's `counting.notApplicable` are unit levels (the map's schema says only
/// "string keys").
fn name_levels(doc: &mut Value) {
    let levels: Vec<&str> = tthc_core::unit::UnitLevel::ALL
        .iter()
        .map(|l| l.as_str())
        .collect();
    if let Some(map) = doc.pointer_mut("/components/schemas/Counting/properties/notApplicable") {
        map["propertyNames"] = json!({"type": "string", "enum": levels});
    }
}

/// Years of the dates and instants the service takes: the calendar's, 1990 to 2100 (records are
/// held to narrower windows, 2000 to now, which the descriptions say).
const YEAR_PATTERN: &str = "^(199[0-9]|20[0-9]{2}|2100)-";

/// Writes the years the service takes into every date and instant of the document, as a
/// pattern (JSON Schema has no minimum for dates), where the schema has no pattern of its own.
fn bound_dates(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let dated = matches!(
                map.get("format").and_then(Value::as_str),
                Some("date" | "date-time")
            );
            if dated && !map.contains_key("pattern") {
                map.insert("pattern".into(), json!(YEAR_PATTERN));
            }
            for item in map.values_mut() {
                bound_dates(item);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(bound_dates),
        _ => {}
    }
}

/// A bulk request is an array (or NDJSON lines) of objects, each checked on its own: an item
/// that breaks its schema is rejected in the answer while its neighbours are stored, so the
/// request itself is well-formed whatever its items hold. The document says so, naming the
/// items' schema in the description rather than imposing it on the request.
fn loosen_bulk_items(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.ends_with("/bulk") {
            continue;
        }
        let Some(content) = item["post"]["requestBody"]["content"].as_object_mut() else {
            continue;
        };
        for (media, body) in content.iter_mut() {
            let typed = body["schema"].clone();
            let named = typed["items"]["$ref"]
                .as_str()
                .or_else(|| typed["$ref"].as_str())
                .unwrap_or("")
                .trim_start_matches("#/components/schemas/")
                .to_owned();
            let object = json!({
                "type": "object",
                "description": format!(
                    "An item shaped as `{named}`; one that is not is rejected in the answer, \
                     with its fields and reasons, and its neighbours are stored"
                )
            });
            body["schema"] = if media == "application/json" {
                json!({"type": "array", "maxItems": 10000, "items": object})
            } else {
                object
            };
        }
    }
}

/// Unit codes: 1–40 ASCII letters, digits, `.` and `-`, starting with a letter or a digit.
/// The text of an RFC 3339 instant with an offset, years 1990–2100.
macro_rules! instant {
    () => {
        "(199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    };
}

const UNIT_CODE: &str = "^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$";
/// Dossier and petition codes: 1–60 ASCII letters, digits, `.`, `-` and `_`.
const RECORD_CODE: &str = "^[A-Za-z0-9._-]{1,60}$";
/// Procedure codes: 3–40 ASCII letters, digits and `.`, starting with a digit.
const PROCEDURE_CODE: &str = "^[0-9][A-Za-z0-9.]{2,39}$";
/// Client ids: 3–64 lowercase letters, digits, `-`, `_` and `.`.
const CLIENT_ID: &str = "^[a-z0-9._-]{3,64}$";
/// Periods the 766 index scores: months, quarters and years from June 2022 (when its rule set
/// took effect) to 2100.
/// A field's (lĩnh vực) code.
const FIELD_CODE: &str = "^[A-Za-z0-9_-]{1,20}$";
/// A rule set's code, as `PUT /rule-sets/{code}` takes it.
const RULE_SET_CODE: &str = "^[a-z0-9][a-z0-9._-]{1,49}$";
/// A reporting duty's code.
const DUTY_CODE: &str = "^[A-Za-z0-9_.-]{1,64}$";
/// A month, a quarter or a year of a reporting duty, 2000–2100.
/// A reporting duty's period, or a one-off request's due day.
const DUTY_PERIOD: &str =
    "^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4]|-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?$";
/// A month, as the service reads one.
const MONTH: &str = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$";
/// A month the 766 index scores (its first rule set applies from 23 June 2022, so from July).
const SCORED_MONTH: &str =
    "^(2022-(0[7-9]|1[0-2])|20(2[3-9]|[3-9][0-9])-(0[1-9]|1[0-2])|2100-(0[1-9]|1[0-2]))$";
/// An RFC 3339 instant with an offset, 1990–2100, as the calendar reads it.
const INSTANT: &str = concat!("^", instant!(), "$");
/// Pauses: `from/to` pairs of instants separated by commas.
const PAUSES: &str = concat!(
    "^(",
    instant!(),
    "/",
    instant!(),
    ")(,",
    instant!(),
    "/",
    instant!(),
    ")*$"
);
const SCORED_PERIOD: &str = "^(2022-(0[7-9]|1[0-2]|Q[34])|20(2[3-9]|[3-9][0-9])(-(0[1-9]|1[0-2])|-Q[1-4])?|2100(-(0[1-9]|1[0-2])|-Q[1-4])?)$";

/// Writes into the document the form every path and query parameter must have, as the server
/// checks it (the parameter types alone say only "string"): codes, periods, years, indicators,
/// cursors.
fn shape_parameters(doc: &mut Value) {
    let indicators: Vec<&str> = tthc_core::db::scores::listed().collect();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in parameters {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let place = p["in"].as_str().unwrap_or_default().to_owned();
                let schema = &mut p["schema"];
                let pattern = match (place.as_str(), name.as_str()) {
                    ("path", "code") if path.contains("/units/") => Some(UNIT_CODE),
                    ("path", "province") => Some(UNIT_CODE),
                    ("path", "code") if path.starts_with("/api/v1/dossiers/") => Some(RECORD_CODE),
                    ("path", "code") if path.starts_with("/api/v1/petitions/") => Some(RECORD_CODE),
                    ("path", "code") if path.starts_with("/api/v1/procedures/") => {
                        Some(PROCEDURE_CODE)
                    }
                    ("path", "id") if path.starts_with("/api/v1/clients/") => Some(CLIENT_ID),
                    ("path", "username") if path.starts_with("/api/v1/users/") => Some(CLIENT_ID),
                    ("path", "period") if path.starts_with("/api/v1/units/") => Some(SCORED_PERIOD),
                    ("path", "code") if path.starts_with("/api/v1/reporting-duties/") => {
                        Some(DUTY_CODE)
                    }
                    ("path", "code") if path.starts_with("/api/v1/fields/") => Some(FIELD_CODE),
                    ("path", "code") if path.starts_with("/api/v1/rule-sets/") => {
                        Some(RULE_SET_CODE)
                    }
                    ("path", "period") if path.starts_with("/api/v1/published/") => Some(MONTH),
                    ("path", "period") if path.starts_with("/api/v1/periods/") => {
                        Some(SCORED_MONTH)
                    }
                    ("query", "unit" | "parent" | "within") => Some(UNIT_CODE),
                    ("query", "period") if path.starts_with("/api/v1/reports/") => {
                        Some(SCORED_PERIOD)
                    }
                    ("query", "period") if path.starts_with("/api/v1/reporting-duties/") => {
                        Some(DUTY_PERIOD)
                    }
                    ("query", "from" | "to") if path.ends_with("/scores") => Some(SCORED_MONTH),
                    ("query", "start" | "from" | "to") if path.starts_with("/api/v1/calendar/") => {
                        schema["format"] = json!("date-time");
                        Some(INSTANT)
                    }
                    ("query", "pauses") => Some(PAUSES),
                    ("header", "If-Match") => {
                        // An absent header is absent, never `null`; any list of entity tags is
                        // well formed (one this service did not return answers 412).
                        schema["type"] = json!("string");
                        None
                    }
                    _ => None,
                };
                if let Some(pattern) = pattern {
                    schema["pattern"] = json!(pattern);
                }
                match (place.as_str(), name.as_str()) {
                    ("path", "year") => {
                        schema["minimum"] = json!(1990);
                        schema["maximum"] = json!(2100);
                    }
                    ("path", "indicator") => schema["enum"] = json!(indicators),
                    ("query", "cursor") => schema["minLength"] = json!(1),
                    _ => {}
                }
            }
        }
    }
}

/// Text in a JSON body: no C0 control character but tab, line feed and carriage return, no DEL.
const BODY_TEXT: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$";
/// Text in a query parameter, a form field or a path segment: no C0 control character, no DEL.
const URL_TEXT: &str = r"^[^\x00-\x1F\x7F]*$";

/// A name or number stored trimmed ([`crate::http::not_blank`]): [`BODY_TEXT`] with at least one
/// character that is neither a control character nor white space as `char::is_whitespace`
/// reads it (spelled out: JSON Schema's `\s` is another set).
const NOT_BLANK_TEXT: &str = concat!(
    r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*",
    r"[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
    r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
);

/// The extension that marks a field refused when blank, beside
/// `#[validate(custom(function = "crate::http::not_blank"))]`:
/// `#[schema(extensions(("x-not-blank" = json!(true))))]`. It is replaced by the pattern
/// [`NOT_BLANK_TEXT`] (a `pattern` attribute takes only a literal).
const NOT_BLANK: &str = "x-not-blank";

/// Gives every schema marked [`NOT_BLANK`] the pattern [`NOT_BLANK_TEXT`].
fn forbid_blank(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.remove(NOT_BLANK).is_some() {
                map.insert("pattern".into(), json!(NOT_BLANK_TEXT));
            }
            map.values_mut().for_each(forbid_blank);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_blank),
        _ => {}
    }
}

/// Says where control characters are refused (see `middleware::refuse_control_characters`
/// and `http::parse_json`): every free-text string of a body, a query or a path gets the
/// pattern that excludes them, and every open map's keys too.
fn forbid_control_characters(doc: &mut Value) {
    let components = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut() {
                forbid_in_operation(op, &components);
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            text_without_controls(schema, BODY_TEXT);
        }
    }
}

fn forbid_in_operation(op: &mut Value, components: &Value) {
    if let Some(content) = op
        .pointer_mut("/requestBody/content")
        .and_then(Value::as_object_mut)
    {
        for (media, body) in content.iter_mut() {
            let schema = &mut body["schema"];
            if media == "application/x-www-form-urlencoded" {
                // A form is read as a query string is: its own copy of the schema, with the
                // stricter rule.
                if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
                    *schema = components[name].clone();
                }
                text_without_controls(schema, URL_TEXT);
                // Other fields of a form are ignored, but they are text, read as the rest.
                if let Some(form) = schema.as_object_mut() {
                    form.entry("additionalProperties")
                        .or_insert_with(|| json!({"type": "string", "pattern": URL_TEXT}));
                }
            } else {
                text_without_controls(schema, BODY_TEXT);
            }
        }
    }
    for p in op
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if matches!(p["in"].as_str(), Some("query" | "path")) {
            text_without_controls(&mut p["schema"], URL_TEXT);
        }
    }
}

/// Adds `pattern` to every free-text string schema in `schema` (one with no pattern, enum or
/// format of its own) and `propertyNames` to every map.
fn text_without_controls(schema: &mut Value, pattern: &str) {
    let Some(map) = schema.as_object_mut() else {
        if let Some(items) = schema.as_array_mut() {
            items
                .iter_mut()
                .for_each(|s| text_without_controls(s, pattern));
        }
        return;
    };
    let is_type = |t: &str| match map.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(types)) => types.iter().any(|s| s.as_str() == Some(t)),
        _ => false,
    };
    let free_text = is_type("string")
        && !["pattern", "enum", "const", "format"]
            .iter()
            .any(|k| map.contains_key(*k));
    // An object that does not refuse other members may be sent any: their names too.
    let open_map = is_type("object")
        && map
            .get("additionalProperties")
            .is_none_or(|a| a != &Value::Bool(false));
    if free_text {
        map.insert("pattern".into(), json!(pattern));
    }
    if open_map && !map.contains_key("propertyNames") {
        map.insert("propertyNames".into(), json!({"type": "string"}));
    }
    for (key, value) in map.iter_mut() {
        if !matches!(key.as_str(), "example" | "examples" | "default") {
            text_without_controls(value, pattern);
        }
    }
}

/// The scopes an operation's security requirements name (any one of them suffices).
fn scopes_of(op: &Value) -> Vec<String> {
    op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|r| r.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// A `problem+json` response described by `description`.
fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// The answers every operation may give for reasons common to all, declared once here rather
/// than on each operation (an operation's own description of a status wins):
///
/// - secured operations: 401 (no valid token) and 403 (the token lacks the scope);
/// - operations with path parameters: 404 (a parameter names nothing, or nothing the caller
///   may see);
/// - operations with parameters or a body: 400 naming the field;
/// - operations with a body: 413 (too large) and 415 (not a media type it reads);
/// - POST with a token: 409 and 422 of `Idempotency-Key` (added to an operation's own 409 and
///   422, which other causes give);
/// - operations taking `If-Match`: 412;
/// - operations that read the database: 503 with `Retry-After` when it is busy or unreachable;
/// - GET: `If-None-Match` and 304 (conditional GET on every answer, see the middleware).
fn common_responses(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let scopes = scopes_of(op);
            let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
            if method == "get"
                && let Some(op) = op.as_object_mut()
            {
                let list = op.entry("parameters").or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(json!({
                        "name": "If-None-Match", "in": "header", "required": false,
                        "description": "The `ETag` of the answer you hold: 304 without a body while it is current",
                        "schema": {"type": "string"}
                    }));
                }
            }
            let has_body = op.get("requestBody").is_some();
            let if_match = parameters
                .iter()
                .any(|p| p["name"].as_str() == Some("If-Match"));
            let uses_database = !matches!(path.as_str(), "/healthz" | "/metrics");
            if !scopes.is_empty() {
                add(
                    op,
                    "401",
                    problem("Missing, expired or invalid access token"),
                );
                add(
                    op,
                    "403",
                    problem(&format!(
                        "The token lacks the scope {}",
                        scopes.join(" or ")
                    )),
                );
            }
            if parameters.iter().any(|p| p["in"].as_str() == Some("path")) {
                add(
                    op,
                    "404",
                    problem("A path parameter names no record, or one outside the caller's grant"),
                );
            }
            let idempotent_post = method == "post" && !scopes.is_empty();
            if has_body || !parameters.is_empty() {
                add(
                    op,
                    "400",
                    problem(
                        "The request breaks this document (type, pattern, range, length …); \
                         `invalidParams` names the field",
                    ),
                );
                let rule = "The request is well formed, but a rule of the service refuses it: \
                            fields that contradict each other, a reference to no record, a \
                            cursor this service never returned, a stored history that does not \
                            allow it; `invalidParams` names the fields";
                add(op, "422", problem(rule));
            }
            if has_body {
                add(op, "413", problem("The body is too large"));
                add(
                    op,
                    "415",
                    problem("The body is not of a media type this operation reads"),
                );
            }
            if idempotent_post {
                add_or_mention(
                    op,
                    "409",
                    "The first request with this `Idempotency-Key` is still being answered \
                     (`idempotencyKeyInFlight`, with `Retry-After`), or took effect without \
                     an answer kept (`idempotencyKeyTookEffect`: read what it changed)",
                );
                add_or_mention(
                    op,
                    "422",
                    "The `Idempotency-Key` was used before for a different request",
                );
            }
            if if_match {
                add(
                    op,
                    "412",
                    problem("The resource changed since the `ETag` in `If-Match`"),
                );
            }
            if method == "get" {
                add(
                    op,
                    "304",
                    json!({"description": "Not modified: the `ETag` named in `If-None-Match` is current"}),
                );
            }
            if uses_database {
                let mut busy = problem(
                    "The database is busy or unreachable; retry after `Retry-After` seconds",
                );
                busy["headers"] = json!({"Retry-After": {
                    "description": "Seconds to wait before retrying",
                    "schema": {"type": "integer", "minimum": 1}
                }});
                add(op, "503", busy);
            }
        }
    }
}

/// Declares `response` for `status` on `op`, unless the operation describes that status itself.
fn add(op: &mut Value, status: &str, response: Value) {
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses.entry(status).or_insert(response);
    }
}

/// Declares `status` on `op` for the common reason `reason`; an operation that describes that
/// status itself keeps its description, with the common reason added to it.
fn add_or_mention(op: &mut Value, status: &str, reason: &str) {
    let own = op
        .get_mut("responses")
        .and_then(|r| r.get_mut(status))
        .and_then(|r| r.get_mut("description"));
    match own {
        Some(Value::String(text)) => text.push_str(&format!(". Also: {}", lowercase_first(reason))),
        _ => add(op, status, problem(reason)),
    }
}

/// `text` with its first letter in lower case.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The document as pretty JSON with a final newline, the form committed to the repository.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// What the document says of each path: the methods it takes and, for POST, the scopes it
/// needs (any one suffices). Read once at start from the document the routes describe, so that
/// the middleware that needs it (idempotency, 405 answers) follows the routes themselves.
#[derive(Debug, Default)]
pub struct RouteIndex {
    paths: Vec<IndexedPath>,
}

#[derive(Debug)]
struct IndexedPath {
    template: String,
    segments: Vec<Option<String>>,
    methods: Vec<String>,
    post_scopes: Vec<String>,
}

impl RouteIndex {
    /// Indexes `doc`'s paths.
    pub fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(doc).unwrap_or_default();
        let mut paths = Vec::new();
        for (template, item) in value["paths"].as_object().into_iter().flatten() {
            let Some(item) = item.as_object() else {
                continue;
            };
            let methods = item.keys().map(|m| m.to_ascii_uppercase()).collect();
            let post_scopes = item.get("post").map(scopes_of).unwrap_or_default();
            let segments = template
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            paths.push(IndexedPath {
                template: template.clone(),
                segments,
                methods,
                post_scopes,
            });
        }
        Self { paths }
    }

    /// The path of the document `path` is an instance of: the one with the most fixed segments
    /// when several match (`/dossiers/bulk` before `/dossiers/{code}`).
    fn find(&self, path: &str) -> Option<&IndexedPath> {
        let parts: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .filter(|p| {
                p.segments.len() == parts.len()
                    && p.segments.iter().zip(&parts).all(|(s, part)| match s {
                        Some(fixed) => fixed == part,
                        None => !part.is_empty(),
                    })
            })
            .max_by_key(|p| p.segments.iter().filter(|s| s.is_some()).count())
    }

    /// The methods `path` takes, as an `Allow` header value; `None` for a path the document
    /// does not have.
    pub fn allow(&self, path: &str) -> Option<String> {
        self.find(path).map(|p| p.methods.join(", "))
    }

    /// Whether a token holding `held` (space-separated) may call POST on the route `pattern`:
    /// it holds one of the operation's scopes, or the operation needs none.
    pub fn post_allows(&self, pattern: Option<&str>, held: &str) -> bool {
        let needed = pattern.and_then(|p| self.paths.iter().find(|i| i.template == p));
        match needed {
            Some(p) if !p.post_scopes.is_empty() => held
                .split_whitespace()
                .any(|h| p.post_scopes.iter().any(|n| n == h)),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_changes_survive_reading_it_back() {
        // Were they not, the document would be served without them.
        serde_json::from_value::<utoipa::openapi::OpenApi>(generated().1).unwrap();
        let doc = serde_json::to_value(document()).unwrap();
        let bulk = &doc["paths"]["/api/v1/dossiers/bulk"]["post"]["responses"];
        assert!(
            bulk.get("401").is_some() && bulk.get("413").is_some(),
            "{bulk}"
        );
    }

    #[test]
    fn paths_are_matched_most_specific_first_with_their_methods() {
        let index = RouteIndex::from_document(&document());
        assert_eq!(
            index.allow("/api/v1/dossiers/bulk").as_deref(),
            Some("POST")
        );
        assert_eq!(
            index.allow("/api/v1/dossiers/C1-1").as_deref(),
            Some("GET, PUT")
        );
        assert_eq!(index.allow("/api/v1/nothing"), None);
        assert!(!index.post_allows(Some("/api/v1/dossiers/bulk"), "units:read"));
        assert!(index.post_allows(Some("/api/v1/dossiers/bulk"), "units:read dossiers:write"));
        assert!(index.post_allows(Some("/api/v1/auth/token"), ""));
    }
}
