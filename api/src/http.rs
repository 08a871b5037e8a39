//! Request and response plumbing shared by every handler: bodies and queries that name the
//! field they refuse, ETags, cursors and pages.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tthc_core::InvalidParam;
use tthc_core::version::Versions;
use utoipa::ToSchema;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use actix_web::ResponseError;

use crate::error::ApiError;

/// Largest JSON body accepted, in bytes.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A JSON body, deserialized and validated. A refusal names the field (`units[2]`, `validTo`)
/// and the reason, and nothing of the request is acted on.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = content_type(req);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json(&content_type) {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "the body must be application/json, not {:?}",
                    if content_type.is_empty() {
                        "(none)"
                    } else {
                        &content_type
                    }
                )));
            }
            let bytes = body.await.map_err(payload_error)?;
            parse_json(&bytes).map(ValidJson)
        })
    }
}

/// The request's `Content-Type`, lowercased; empty when absent.
pub fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Whether a `Content-Type` is JSON.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// Maps a body-reading failure to the error a client can act on.
pub fn payload_error(e: actix_web::Error) -> ApiError {
    let status = e.as_response_error().status_code();
    if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(format!("the body is larger than {MAX_JSON_BODY} bytes"))
    } else {
        ApiError::BadRequest {
            code: "unreadableBody",
            detail: format!("the body could not be read: {e}"),
            invalid: Vec::new(),
        }
    }
}

/// Whether `c` is a control character no text field takes: C0 controls other than tab, line
/// feed and carriage return, and DEL. NUL in particular cannot be stored by PostgreSQL; the
/// rule is the same on both backends so that a record is accepted or refused the same way.
pub fn is_refused_control(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// Whether a JSON text may hold a refused control character: one written as a `\u00XX` escape
/// (raw ones are not JSON), or a raw DEL. A cheap scan, so that only such bodies are walked.
fn may_hold_control(bytes: &[u8]) -> bool {
    bytes.contains(&0x7f)
        || bytes.windows(6).any(|w| {
            w[0] == b'\\'
                && w[1] == b'u'
                && w[2] == b'0'
                && w[3] == b'0'
                && (matches!(w[4], b'0' | b'1') || (w[4] == b'7' && matches!(w[5], b'f' | b'F')))
        })
}

/// The fields of a JSON document (names or values) holding a refused control character, named
/// as validation errors name them (`events[2].note`; a member's name names its object).
fn control_fields(value: &serde_json::Value, path: &str, out: &mut Vec<InvalidParam>) {
    let mut more = 0_usize;
    each_text(value, path, &mut |field, text, _| {
        let refused = text.chars().any(is_refused_control);
        if refused {
            name_or_count(out, &mut more, || {
                InvalidParam::new(
                    field,
                    "must not contain control characters (such as U+0000)",
                )
            });
        }
        // A member whose name is refused is named once, by its object, and not walked.
        !refused
    });
    name_the_rest(out, path, more);
}

/// Fields named at most in one answer about control characters: a body of millions of such
/// strings would otherwise be answered by a list many times its size.
pub(crate) const MAX_NAMED: usize = 50;

/// Names the problem `param` makes in `out` while it holds fewer than [`MAX_NAMED`], else
/// counts it in `more` (for [`name_the_rest`]).
fn name_or_count(
    out: &mut Vec<InvalidParam>,
    more: &mut usize,
    param: impl FnOnce() -> InvalidParam,
) {
    if out.len() < MAX_NAMED {
        out.push(param());
    } else {
        *more += 1;
    }
}

/// Refuses a text of white space only: names and numbers are stored trimmed, and such a one
/// would be stored empty.
pub(crate) fn not_blank(text: &str) -> Result<(), validator::ValidationError> {
    // An empty one is refused by its length, named once.
    if !text.is_empty() && text.trim().is_empty() {
        let mut e = validator::ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// A validator `length` error saying `message`, for the bounds a custom validator checks.
pub(crate) fn length_error(message: String) -> validator::ValidationError {
    let mut e = validator::ValidationError::new("length");
    e.message = Some(message.into());
    e
}

/// Counts, in one entry, the `more` fields past [`MAX_NAMED`].
fn name_the_rest(out: &mut Vec<InvalidParam>, path: &str, more: usize) {
    if more > 0 {
        out.push(InvalidParam::new(
            body_field_or(path),
            format!(
                "and {more} more fields with control characters (the first {MAX_NAMED} are named)"
            ),
        ));
    }
}

/// The texts of a JSON document, string values and members' names (`true`), each with its
/// field's name as validation errors name it (`events[2].at`; a member's name, its object's).
/// `visit` answers, for a member's name, whether its value is walked.
fn each_text<'v>(
    value: &'v serde_json::Value,
    path: &str,
    visit: &mut impl FnMut(&str, &'v str, bool) -> bool,
) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            visit(&body_field_or(path), text, false);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                each_text(item, &format!("{path}[{i}]"), visit);
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                if !visit(&body_field_or(path), name, true) {
                    continue;
                }
                let inner = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                each_text(item, &inner, visit);
            }
        }
        _ => {}
    }
}

fn body_field_or(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.to_owned()
    }
}

/// Refuses a JSON document with a control character in any name or text, naming each field.
pub(crate) fn refuse_control_characters(bytes: &[u8]) -> Result<(), ApiError> {
    if !may_hold_control(bytes) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        // Not JSON: the typed parse says why.
        return Ok(());
    };
    let mut invalid = Vec::new();
    control_fields(&value, "", &mut invalid);
    ApiError::unless_invalid(invalid)
}

/// The fields of a JSON text holding a refused control character, named under `path`
/// (`data[2].GhiChu`); `names_only`: only the names of its own members (not deeper).
pub(crate) fn control_problems(text: &str, path: &str, names_only: bool) -> Vec<InvalidParam> {
    if !may_hold_control(text.as_bytes()) {
        return Vec::new();
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut invalid = Vec::new();
    if names_only {
        if let Some(fields) = value.as_object() {
            let refused = fields.keys().filter(|n| n.chars().any(is_refused_control));
            let mut more = 0_usize;
            for name in refused {
                name_or_count(&mut invalid, &mut more, || {
                    InvalidParam::new(
                        body_field_or(path),
                        format!("has a member name with a control character ({name:?})"),
                    )
                });
            }
            name_the_rest(&mut invalid, path, more);
        }
    } else {
        let mut inner = Vec::new();
        control_fields(&value, "", &mut inner);
        invalid.extend(inner.into_iter().map(|p| {
            let name = if p.name == "body" {
                path.to_owned()
            } else {
                format!("{path}.{}", p.name)
            };
            InvalidParam::new(name, p.reason)
        }));
    }
    invalid
}

/// The year of `text` when serde would read it as a date, a date and time or an instant
/// (chrono's `FromStr`, as the API's date fields are read), else `None`. chrono reads a year of
/// any width and sign (`+262143-12-31`, `-5000-01-01`): such a year overflowed the conversion
/// to Vietnam time (a panic) or PostgreSQL's range (a 500).
fn chrono_year(text: &str) -> Option<i32> {
    use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime};
    text.parse::<DateTime<FixedOffset>>()
        .map(|t| t.year())
        .or_else(|_| text.parse::<NaiveDateTime>().map(|t| t.year()))
        .or_else(|_| text.parse::<NaiveDate>().map(|d| d.year()))
        .ok()
}

/// The years a date or an instant of a body may name: those every conversion and both
/// backends take.
const BODY_YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// Why a date of a body was refused.
const BODY_YEARS_REASON: &str = "must be a date in the years 0000 to 9999 (YYYY-MM-DD)";

/// Whether a JSON text may hold a date whose year is past [`BODY_YEARS`]: a string that starts
/// (after any spaces) with a sign and a digit, or with five digits or more and then a `-`, or
/// any escape (which may write either). A cheap scan, so that only such bodies are walked; an
/// identity number (digits to the end) or a code (`000.21.30.H12-…`) is no such start.
fn may_hold_far_year(bytes: &[u8]) -> bool {
    if bytes.contains(&b'\\') {
        return true;
    }
    bytes.iter().enumerate().any(|(i, &b)| {
        if b != b'"' {
            return false;
        }
        let rest = &bytes[i + 1..];
        let start = rest.iter().position(|b| *b != b' ').unwrap_or(rest.len());
        let t = &rest[start..];
        match t.first() {
            Some(b'+' | b'-') => t.get(1).is_some_and(u8::is_ascii_digit),
            _ => {
                let digits = t.iter().take_while(|b| b.is_ascii_digit()).count();
                digits >= 5
                    && t[digits..]
                        .iter()
                        .find(|b| **b != b' ')
                        .is_some_and(|b| *b == b'-')
            }
        }
    })
}

/// Refuses a JSON document holding a date or an instant whose year is past [`BODY_YEARS`],
/// naming each field. A text that is not a whole date is left to its field.
fn refuse_far_years(bytes: &[u8]) -> Result<(), ApiError> {
    if !may_hold_far_year(bytes) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        // Not JSON: the typed parse says why.
        return Ok(());
    };
    let mut invalid = Vec::new();
    each_text(&value, "", &mut |name, text, is_name| {
        if !is_name && chrono_year(text).is_some_and(|y| !BODY_YEARS.contains(&y)) {
            invalid.push(InvalidParam::new(name, BODY_YEARS_REASON));
        }
        true
    });
    ApiError::unless_invalid(invalid)
}

/// Deserializes and validates a JSON document.
pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_control_characters(bytes)?;
    refuse_far_years(bytes)?;
    // Every body is an object; serde would also read a struct from an array of its fields in
    // order, which no document describes.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(de) {
        Ok(value) => value,
        Err(e) if e.inner().is_syntax() || e.inner().is_eof() => {
            return Err(ApiError::BadRequest {
                code: "malformedJson",
                detail: format!("the body is not valid JSON: {}", e.into_inner()),
                invalid: Vec::new(),
            });
        }
        // JSON Schema's `integer` is a number with no fraction: `56.0` is one. serde refuses
        // it for an integer field, so only then is the body read again with such numbers
        // written as integers (the common path parses straight into its type).
        Err(e)
            if e.inner()
                .to_string()
                .starts_with("invalid type: floating point") =>
        {
            let mut tree: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| ApiError::invalid("body", strip_position(&e.to_string())))?;
            integral_floats_as_integers(&mut tree);
            serde_path_to_error::deserialize(tree).map_err(|e| {
                let path = e.path().to_string();
                ApiError::invalid(
                    body_field(&path),
                    strip_position(&e.into_inner().to_string()),
                )
            })?
        }
        Err(e) => {
            let path = e.path().to_string();
            return Err(ApiError::invalid(
                body_field(&path),
                strip_position(&e.into_inner().to_string()),
            ));
        }
    };
    value.validate().map_err(validation_error)?;
    Ok(value)
}

/// Rewrites every number with no fractional part (`56.0`) as an integer (`56`).
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // Exact: |f| < 2^53, so the cast neither rounds nor saturates.
                #[allow(clippy::cast_possible_truncation)]
                let int = f as i64;
                *value = serde_json::Value::from(int);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// serde_path_to_error says `.` for the document itself.
fn body_field(path: &str) -> String {
    if path == "." {
        "body".into()
    } else {
        path.to_owned()
    }
}

/// serde_json appends " at line 1 column 42"; the field name says more.
fn strip_position(reason: &str) -> String {
    match reason.rfind(" at line ") {
        Some(i) => reason[..i].to_owned(),
        None => reason.to_owned(),
    }
}

/// Query parameters, deserialized and validated, naming the parameter they refuse.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

/// Refuses a query string (or form body) with a control character in a parameter, naming it.
pub fn refuse_control_in_query(query: &str) -> Result<(), ApiError> {
    let invalid: Vec<InvalidParam> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, value)| {
            name.chars().any(|c| c.is_ascii_control())
                || value.chars().any(|c| c.is_ascii_control())
        })
        .map(|(name, _)| {
            let name: String = name.chars().filter(|c| !c.is_ascii_control()).collect();
            InvalidParam::new(
                if name.is_empty() {
                    "query".into()
                } else {
                    name
                },
                "must not contain control characters (such as %00)",
            )
        })
        .collect();
    ApiError::unless_invalid(invalid)
}

/// The years a date or instant in a query may name: the calendar's. A day in year 275 made a
/// deadline computation walk seventeen centuries of working days.
pub const QUERY_YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// Refuses a query parameter holding a date or an instant outside [`QUERY_YEARS`], naming it:
/// any value serde would read as one ([`chrono_year`]: `275-01-01`, `-5000-01-01`, a `+` arriving
/// as a space), but the free text of `q`.
fn refuse_far_dates(query: &str) -> Result<(), ApiError> {
    let invalid: Vec<InvalidParam> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, value)| {
            name != "q" && chrono_year(value).is_some_and(|y| !QUERY_YEARS.contains(&y))
        })
        .map(|(name, _)| InvalidParam::new(name, "must be in the years 1990 to 2100"))
        .collect();
    ApiError::unless_invalid(invalid)
}

/// Deserializes and validates a query string.
pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    refuse_control_in_query(query)?;
    refuse_far_dates(query)?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // A bad value of a scalar parameter is reported at the document level by
        // serde_urlencoded; the message then carries the parameter's name.
        ApiError::invalid(if path == "." { "query".into() } else { path }, inner)
    })?;
    value.validate().map_err(validation_error)?;
    Ok(value)
}

/// Turns validator's errors into named fields, camelCase and dotted.
pub fn validation_error(errors: ValidationErrors) -> ApiError {
    let mut params = Vec::new();
    collect_validation(&errors, "", &mut params);
    params.sort_by(|a, b| a.name.cmp(&b.name));
    ApiError::invalid_params(params)
}

fn collect_validation(errors: &ValidationErrors, prefix: &str, out: &mut Vec<InvalidParam>) {
    for (field, kind) in errors.errors() {
        let name = format!("{prefix}{}", camel_case(field));
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let reason = e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| describe_rule(e));
                    out.push(InvalidParam::new(name.clone(), reason));
                }
            }
            ValidationErrorsKind::Struct(inner) => {
                collect_validation(inner, &format!("{name}."), out)
            }
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect_validation(inner, &format!("{name}[{i}]."), out);
                }
            }
        }
    }
}

fn describe_rule(e: &validator::ValidationError) -> String {
    let param = |k: &str| e.params.get(k).map(ToString::to_string);
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be {min} to {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be from {min} to {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        other => format!("fails the rule {other}"),
    }
}

fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The `ETag` of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `ETag` of a resource shown as it stands on a day: its row version and the content
/// version shown (`"7-2"`). The same row shows another content once a later version takes
/// effect, so a tag of the row version alone would answer `304` with the content of the day
/// it was read. `If-Match` reads the row version before the dash.
pub fn etag_shown(version: i64, shown: i32) -> String {
    format!("\"{version}-{shown}\"")
}

/// The versions an `If-Match` header accepts: `None` when it is absent or `*`. The header is
/// a list of entity tags (RFC 9110 §13.1.1), weak or strong; a tag this service never returned
/// (anything but a quoted version number) matches nothing, so the write answers 412. A bare
/// number is read as the tag it was meant to be.
pub fn if_match(req: &HttpRequest) -> Result<Option<Versions>, ApiError> {
    versions_matched(req, false)
}

/// [`if_match`] of a resource whose `ETag` is [`etag_shown`]: its tags name the row version and
/// the content shown, and the row version is what a write checks (a bare version is read too).
pub fn if_match_shown(req: &HttpRequest) -> Result<Option<Versions>, ApiError> {
    versions_matched(req, true)
}

fn versions_matched(req: &HttpRequest, shown: bool) -> Result<Option<Versions>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::invalid(
            "If-Match",
            "must be visible ASCII: entity tags such as \"3\"",
        )
    })?;
    if text.trim() == "*" {
        return Ok(None);
    }
    let versions = text
        .split(',')
        .filter_map(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            let tag = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(tag);
            let tag = match tag.split_once('-') {
                Some((version, seq))
                    if shown
                        && !seq.is_empty()
                        && seq.len() <= 9
                        && seq.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    version
                }
                _ => tag,
            };
            (!tag.is_empty() && tag.len() <= 18 && tag.bytes().all(|b| b.is_ascii_digit()))
                .then(|| tag.parse::<i64>().ok())
                .flatten()
        })
        .collect();
    Ok(Some(Versions::new(versions)))
}

/// The `X-Audit-Reason` header: UTF-8, at most 1,000 characters.
pub fn audit_reason(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("x-audit-reason") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| ApiError::invalid("X-Audit-Reason", "must be UTF-8 text"))?
        .trim();
    if text.chars().count() > 1000 {
        return Err(ApiError::invalid(
            "X-Audit-Reason",
            "must be at most 1000 characters",
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Encodes a keyset position as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("k:{key}"))
}

/// The cursor of a position in the change feed (`GET /changes`' `nextCursor`).
pub fn feed_cursor(p: tthc_core::db::changes::Position) -> String {
    encode_cursor(&format!("{}.{}", p.txid, p.id))
}

/// The position of a change feed cursor given as `field`.
pub fn feed_position(
    field: &str,
    cursor: &str,
) -> Result<tthc_core::db::changes::Position, ApiError> {
    let unknown = || ApiError::rule(field, "is not a cursor of the change feed");
    let key = decode_cursor(cursor).map_err(|_| unknown())?;
    let (txid, id) = key.split_once('.').ok_or_else(unknown)?;
    Ok(tthc_core::db::changes::Position {
        txid: txid.parse().map_err(|_| unknown())?,
        id: id.parse().map_err(|_| unknown())?,
    })
}

/// Decodes a cursor made by [`encode_cursor`]. One holding a control character was not made
/// by it (and PostgreSQL could not take a NUL as a parameter).
pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.chars().any(is_refused_control))
        .and_then(|text| text.strip_prefix("k:").map(str::to_owned))
        .ok_or_else(ApiError::unknown_cursor)
}

/// The cursor key of a row ordered by an instant then a code: `{instant}|{code}`.
pub fn instant_cursor_key(at: chrono::NaiveDateTime, code: &str) -> String {
    format!("{}|{code}", at.format("%Y-%m-%dT%H:%M:%S%.f"))
}

/// [`instant_cursor_key`] of a list read in its default order (`order` `None`) or in another
/// (`order`, e.g. by due instant), which is named in it, so that a cursor of one order is
/// refused in the other rather than read as a position in it (a receipt instant taken for a due
/// instant skipped or repeated rows).
pub fn ordered_cursor_key(order: Option<&str>, at: chrono::NaiveDateTime, code: &str) -> String {
    match order {
        None => instant_cursor_key(at, code),
        Some(order) => format!("{order}~{}", instant_cursor_key(at, code)),
    }
}

/// Reads a cursor made of [`instant_cursor_key`] (`order` `None`) or of [`ordered_cursor_key`]
/// with `order`.
pub fn parse_ordered_cursor(
    cursor: &str,
    order: Option<&str>,
) -> Result<(chrono::NaiveDateTime, String), ApiError> {
    let text = decode_cursor(cursor)?;
    // An instant starts with a digit, an order's name with a letter.
    let key = match order {
        None if text.starts_with(|c: char| c.is_ascii_digit()) => Some(text.as_str()),
        None => None,
        Some(order) => text.strip_prefix(order).and_then(|t| t.strip_prefix('~')),
    };
    instant_of_key(key.ok_or_else(ApiError::unknown_cursor)?)
}

fn instant_of_key(text: &str) -> Result<(chrono::NaiveDateTime, String), ApiError> {
    let bad = ApiError::unknown_cursor;
    let (at, code) = text.split_once('|').ok_or_else(bad)?;
    let at =
        chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| bad())?;
    // This service writes four-digit years; chrono would also read `-5000`.
    if !BODY_YEARS.contains(&chrono::Datelike::year(&at)) {
        return Err(bad());
    }
    Ok((at, code.to_owned()))
}

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 500;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many items match in all; only with `count=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

impl<T: ToSchema> Page<T> {
    /// Builds a page from up to `limit + 1` loaded rows: the extra row only says there is more.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> String,
        view: impl Fn(R) -> T,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(&key(r)))
        } else {
            None
        };
        Self {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
            total: None,
        }
    }
}

/// How many rows [`kept_rows`] reads at a time, at least.
const KEPT_ROWS_BATCH: i64 = 200;

/// The rows of a keyset page of `limit` that `keep` lets through, and one more when there are
/// more: `read(conn, after, n)` reads the next `n` rows after the key `after`, in key order.
/// Rows are read on past those `keep` refuses, so that a page comes out full and its cursor
/// right (a page filtered after one read came out short, its cursor lost, and what followed
/// unlisted).
pub fn kept_rows<C, R, E>(
    conn: &mut C,
    mut read: impl FnMut(&mut C, Option<&str>, i64) -> Result<Vec<R>, E>,
    mut keep: impl FnMut(&mut C, &R) -> Result<bool, E>,
    key: impl Fn(&R) -> String,
    (mut after, limit): (Option<String>, i64),
) -> Result<Vec<R>, E> {
    let wanted = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // Read in batches of a few hundred however small the page: most rows may be refused.
    let batch = limit.saturating_add(1).max(KEPT_ROWS_BATCH);
    let mut kept = Vec::new();
    loop {
        let rows = read(conn, after.as_deref(), batch)?;
        let last_read = rows.len() < usize::try_from(batch).unwrap_or(usize::MAX);
        after = rows.last().map(&key);
        for row in rows {
            if keep(conn, &row)? {
                kept.push(row);
                if kept.len() == wanted {
                    return Ok(kept);
                }
            }
        }
        if last_read || after.is_none() {
            return Ok(kept);
        }
    }
}

/// The API name of a unit-only enum value (`"created"`, `"online"` …).
pub fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether the client asked for CSV (`Accept: text/csv`).
pub fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/csv"))
}

/// A CSV download: UTF-8 with a byte-order mark, so that Excel shows Vietnamese correctly.
pub fn csv_response(
    name: &str,
    header_row: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let fail = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
    writer.write_record(header_row).map_err(fail)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| csv_text(cell).into_owned()))
            .map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(bytes))
}

/// Rows read per page while a CSV export streams.
pub const CSV_PAGE: i64 = 2_000;

/// How long a CSV export waits for its client to take the next chunk before it stops.
const CSV_CLIENT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Hands `chunk` to the response; `false` when the client went away or has taken nothing for
/// `wait` ([`CSV_CLIENT_WAIT`]: the export then stops, and its thread ends).
fn send_or_give_up<T>(
    tx: &tokio::sync::mpsc::Sender<T>,
    mut chunk: T,
    wait: std::time::Duration,
) -> bool {
    use tokio::sync::mpsc::error::TrySendError;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match tx.try_send(chunk) {
            Ok(()) => return true,
            Err(TrySendError::Closed(_)) => return false,
            Err(TrySendError::Full(back)) => {
                if std::time::Instant::now() > deadline {
                    tracing::info!(?wait, "a CSV export's client took nothing: stopped");
                    return false;
                }
                chunk = back;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// A CSV download of a whole list, streamed page by page while the client reads it (UTF-8 with
/// a byte-order mark, `header` first). `next_page` reads the next page of rows on a database
/// connection taken for that page, and answers `None` when the list is done. The pages are read
/// on a thread of their own; a client that stops reading stops the export. The first page is
/// read before the answer starts, so that its failure is the answer (503 for a busy database;
/// until 2026-12-07 a 200 with a broken body); a failure after the first bytes is logged and
/// breaks the response off ([`csv_body`]): the client sees a transfer that did not finish,
/// never a short file that looks whole.
pub async fn csv_stream<F>(
    state: &crate::state::AppState,
    name: &str,
    header: &[&str],
    next_page: F,
) -> actix_web::HttpResponse
where
    F: FnMut(&mut tthc_core::db::DbConnection) -> Result<Option<Vec<Vec<String>>>, ApiError>
        + Send
        + 'static,
{
    csv_stream_on(state.db.clone(), name, header, next_page).await
}

/// [`csv_stream`] over the pool `db`.
async fn csv_stream_on<F>(
    db: tthc_core::db::Database,
    name: &str,
    header: &[&str],
    mut next_page: F,
) -> actix_web::HttpResponse
where
    F: FnMut(&mut tthc_core::db::DbConnection) -> Result<Option<Vec<Vec<String>>>, ApiError>
        + Send
        + 'static,
{
    use CsvChunk::{Data, Done, Failed};
    use actix_web::web::Bytes;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<CsvChunk>(4);
    let head = {
        let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        let _ = writer.write_record(header);
        writer.into_inner().unwrap_or_default()
    };
    let export = name.to_owned();
    let spawned = std::thread::Builder::new()
        .name("tthc-csv".into())
        .spawn(move || {
            let answered = std::cell::Cell::new(false);
            let result = (|| -> Result<(), ApiError> {
                // The header goes out with the first page.
                let mut chunk = head;
                loop {
                    // A connection per page, given back before the page is sent (the statement
                    // ends here): a client that reads slowly, or not at all, holds none.
                    let page = next_page(&mut *db.conn()?)?;
                    let Some(rows) = page else { break };
                    let mut writer = csv::Writer::from_writer(std::mem::take(&mut chunk));
                    for row in rows {
                        writer
                            .write_record(row.iter().map(|cell| csv_text(cell).into_owned()))
                            .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
                    }
                    let bytes = writer
                        .into_inner()
                        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
                    answered.set(true);
                    if !send_or_give_up(&tx, Data(Bytes::from(bytes)), CSV_CLIENT_WAIT) {
                        return Ok(());
                    }
                }
                if !chunk.is_empty() {
                    // An empty list: the header alone.
                    answered.set(true);
                    if !send_or_give_up(&tx, Data(Bytes::from(chunk)), CSV_CLIENT_WAIT) {
                        return Ok(());
                    }
                }
                send_or_give_up(&tx, Done, CSV_CLIENT_WAIT);
                Ok(())
            })();
            // Without `Done` (an error, a panic, a client that took nothing for a minute) the
            // body fails when `tx` is dropped here ([`csv_body`]); until 2026-12-07 it then
            // ended as a whole file does.
            // A failure before the first bytes is the answer itself (logged as any error
            // answer is); after them, only the log says why the download broke off.
            if let Err(e) = result {
                if answered.get() {
                    tracing::error!(error = %e, export, "a CSV export stopped short");
                } else {
                    send_or_give_up(&tx, Failed(e), CSV_CLIENT_WAIT);
                }
            }
        });
    if let Err(e) = spawned {
        return ApiError::Unavailable(format!("no thread for the export: {e}")).error_response();
    }
    let first = match rx.recv().await {
        Some(Data(bytes)) => bytes,
        Some(Failed(e)) => return e.error_response(),
        // The thread ended before its first page without a word: a panic.
        Some(Done) | None => {
            return ApiError::Internal(format!("the {name} export ended before its first page"))
                .error_response();
        }
    };
    let first = futures_util::stream::once(std::future::ready(Ok(first)));
    actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .streaming(futures_util::StreamExt::chain(first, csv_body(rx)))
}

/// A CSV export's piece: the next bytes, word that the file is whole, or why its first page
/// could not be read (the answer then, before any byte of the file).
enum CsvChunk {
    Data(actix_web::web::Bytes),
    Done,
    Failed(ApiError),
}

/// An export that ended before its last page (the reason is logged, never sent).
#[derive(Debug)]
struct StoppedShort;

impl std::fmt::Display for StoppedShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the export stopped short")
    }
}

impl actix_web::ResponseError for StoppedShort {}

/// The response body of the chunks `rx` receives. It ends at [`CsvChunk::Done`]; the sender
/// gone before it is an error of the body ([`StoppedShort`]), on which the server breaks the
/// connection off without the chunked encoding's last chunk, so that the client's download
/// fails rather than ends.
fn csv_body(
    rx: tokio::sync::mpsc::Receiver<CsvChunk>,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(CsvChunk::Data(bytes)) => Some((Ok(bytes), Some(rx))),
            Some(CsvChunk::Done) => None,
            Some(CsvChunk::Failed(_)) | None => Some((Err(StoppedShort.into()), None)),
        }
    })
}

/// [`csv_stream`] of a keyset-paginated list: `read(conn, after, limit)` reads up to `limit`
/// rows after the position `after` (from `start`, the cursor the request named); `position`
/// names a row's place in the order, and `row` makes its cells.
pub async fn csv_list<R, K, Read, Pos, Row>(
    state: &crate::state::AppState,
    name: &str,
    header: &[&str],
    start: Option<K>,
    mut read: Read,
    position: Pos,
    row: Row,
) -> actix_web::HttpResponse
where
    K: Send + 'static,
    Read: FnMut(&mut tthc_core::db::DbConnection, Option<&K>, i64) -> Result<Vec<R>, ApiError>
        + Send
        + 'static,
    Pos: Fn(&R) -> K + Send + 'static,
    Row: Fn(R) -> Vec<String> + Send + 'static,
{
    let mut after = start;
    let mut done = false;
    let page = usize::try_from(CSV_PAGE).unwrap_or(usize::MAX);
    csv_stream(state, name, header, move |conn| {
        if done {
            return Ok(None);
        }
        let mut rows = read(conn, after.as_ref(), CSV_PAGE + 1)?;
        done = rows.len() <= page;
        rows.truncate(page);
        after = rows.last().map(&position);
        Ok((!rows.is_empty()).then(|| rows.into_iter().map(&row).collect()))
    })
    .await
}

/// A text cell as a spreadsheet must read it: text that starts like a formula (`=`, `+`, `-`,
/// `@` or a tab) gets a leading `'`, so that a unit or petitioner named
/// `=HYPERLINK(…)` is shown, never run, when the CSV is opened. Numbers stay numbers.
///
/// So does each part of the text after a `;`, a tab or a line break: a spreadsheet whose list
/// separator is `;` (Excel under Windows' Vietnamese settings, among others) splits the file on
/// it, quoted or not, and `Khai sinh;=HYPERLINK(…)` would give a cell of its own to the formula;
/// read so, the file's quotes no longer hold a line break in its cell either, and the line after
/// it starts a row of its own (until 2026-12-07 the first did, and the line break still does).
pub fn csv_text(text: &str) -> std::borrow::Cow<'_, str> {
    const BREAKS: [char; 4] = [';', '\t', '\n', '\r'];
    let formula_like = |part: &str| {
        // A line break ends its part, so no part starts with one: what follows a break is a
        // part of its own, judged itself.
        part.starts_with(['=', '+', '-', '@', '\t'])
            && part.trim_end_matches(BREAKS).parse::<f64>().is_err()
    };
    let parts = || text.split_inclusive(BREAKS);
    if !parts().any(formula_like) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    for part in parts() {
        if formula_like(part) {
            out.push('\'');
        }
        out.push_str(part);
    }
    std::borrow::Cow::Owned(out)
}

/// Text of an optional value for a CSV cell.
pub fn cell<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Today in Vietnam, or the `asOf` day a report asks about.
pub fn today_or(as_of: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
    as_of.unwrap_or_else(|| tthc_core::db::now_local().date())
}

/// For `#[serde(default, deserialize_with = "present")]`: tells a field sent as `null`
/// (`Some(None)`) from a field left out (`None`).
pub fn present<'de, T: serde::Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Validate, Debug)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Body {
        #[validate(length(min = 1, max = 5))]
        display_name: String,
        #[validate(range(min = 1, max = 500))]
        limit: Option<i64>,
    }

    fn invalid_names(e: ApiError) -> Vec<(String, String)> {
        match e {
            ApiError::BadRequest { invalid, .. } => {
                invalid.into_iter().map(|p| (p.name, p.reason)).collect()
            }
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"displayName": 5}"#).unwrap_err();
        let names = invalid_names(e);
        assert_eq!(names[0].0, "displayName");
        assert!(names[0].1.contains("invalid type"), "{names:?}");

        let e = parse_json::<Body>(br#"{"displayName": "too long here"}"#).unwrap_err();
        assert_eq!(
            invalid_names(e),
            [(
                "displayName".into(),
                "must be 1 to 5 characters long".into()
            )]
        );

        let e = parse_json::<Body>(br#"{"displayName": "ok", "extra": 1}"#).unwrap_err();
        assert!(invalid_names(e)[0].1.contains("unknown field `extra`"));

        assert!(matches!(
            parse_json::<Body>(b"{"),
            Err(ApiError::BadRequest {
                code: "malformedJson",
                ..
            })
        ));
    }

    #[test]
    fn integers_written_with_a_zero_fraction_are_integers() {
        // JSON Schema's `integer` holds 56.0; serde alone refuses it for an i64.
        let b = parse_json::<Body>(br#"{"displayName": "abc", "limit": 56.0}"#).unwrap();
        assert_eq!(b.limit, Some(56));
        let e = parse_json::<Body>(br#"{"displayName": "abc", "limit": 56.5}"#).unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "limit");
        // Still checked against the rules once read.
        let e = parse_json::<Body>(br#"{"displayName": "abc", "limit": 900.0}"#).unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "limit");
    }

    #[test]
    fn a_body_is_an_object_never_an_array_of_its_fields() {
        assert!(parse_json::<Body>(br#"{"displayName": "abc", "limit": 5}"#).is_ok());
        let e = parse_json::<Body>(br#" ["abc", 5]"#).unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "body");
    }

    #[test]
    fn control_characters_are_refused_by_field() {
        let e = parse_json::<Body>(br#"{"displayName": "a\u0000b"}"#).unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "displayName");
        let e = parse_json::<Body>(br#"{"displayName": "ok\u007F"}"#).unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "displayName");
        // A tab, a line break and an escaped backslash followed by "u0000" are text.
        assert!(parse_json::<Body>(br#"{"displayName": "a\tb"}"#).is_ok());
        assert!(
            parse_json::<Body>(br#"{"displayName": "\\u0000"}"#).is_err_and(|e| {
                // Too long for the rule, not refused as a control character.
                invalid_names(e)[0].1.contains("characters long")
            })
        );
        let mut names = Vec::new();
        control_fields(
            &serde_json::json!({"events": [{"note": "ok"}, {"note": "x\u{1}"}]}),
            "",
            &mut names,
        );
        assert_eq!(names[0].name, "events[1].note");
        let e = parse_query::<Body>("displayName=a%00b").unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "displayName");
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let q: Body = parse_query("displayName=abc&limit=5").unwrap();
        assert_eq!(q.limit, Some(5));
        let e = parse_query::<Body>("displayName=abc&limit=900").unwrap_err();
        assert_eq!(invalid_names(e)[0].0, "limit");
        let e = parse_query::<Body>("displayName=abc&limit=x").unwrap_err();
        assert!(format!("{e}").contains("invalid digit"), "{e}");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("+84 912"), "'+84 912");
        assert_eq!(csv_text("-12.5"), "-12.5");
        assert_eq!(csv_text("Phường 1"), "Phường 1");
        // Split on `;` or a tab, as a spreadsheet whose list separator is `;` reads the file.
        assert_eq!(csv_text("Khai sinh;=1+2*CMD;"), "Khai sinh;'=1+2*CMD;");
        assert_eq!(csv_text("a\t@SUM(A1)"), "a\t'@SUM(A1)");
        // After a line break, as after a `;`: the line is a row of its own there.
        assert_eq!(
            csv_text("12/BC\n=cmd|' /C calc'!A0\r\n@x\n-3"),
            "12/BC\n'=cmd|' /C calc'!A0\r\n'@x\n-3"
        );
        assert_eq!(csv_text("=1;=2"), "'=1;'=2");
        assert_eq!(csv_text("3,5; -12.5; 7"), "3,5; -12.5; 7");
        assert_eq!(csv_text("-12.5;-3"), "-12.5;-3");
        assert_eq!(csv_text("\tx"), "'\tx");
    }

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        assert_eq!(
            decode_cursor(&encode_cursor("000.00.12.H12")).unwrap(),
            "000.00.12.H12"
        );
        assert!(decode_cursor("not a cursor").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("x")).is_err());
    }

    #[test]
    fn pages_keep_limit_items_and_point_past_the_last() {
        let page =
            Page::<String>::from_rows(vec!["a", "b", "c"], 2, |s| (*s).to_owned(), str::to_owned);
        assert_eq!(page.items, ["a", "b"]);
        assert_eq!(
            decode_cursor(page.next_cursor.as_deref().unwrap()).unwrap(),
            "b"
        );
        let last = Page::<String>::from_rows(vec!["a"], 2, |s| (*s).to_owned(), str::to_owned);
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn far_years_are_told_as_serde_would_read_them() {
        assert_eq!(chrono_year("2026-03-02"), Some(2026));
        assert_eq!(chrono_year("2026-03-02T08:00:00+07:00"), Some(2026));
        assert_eq!(chrono_year("-5000-01-01T00:00:00+07:00"), Some(-5000));
        assert_eq!(chrono_year("+20260-03-02"), Some(20_260));
        assert_eq!(chrono_year("-5000-01-01"), Some(-5000));
        assert_eq!(chrono_year("-5000-1-1"), Some(-5000));
        // Not whole dates: free text, codes, identity numbers.
        for text in [
            "10-12-14 Nguyễn Huệ",
            "12-05-2026 Nguyễn Văn An",
            "000.21.30.H12-260302-0001",
            "001090012345",
        ] {
            assert_eq!(chrono_year(text), None, "{text}");
        }
        assert!(may_hold_far_year(br#"{"at": "-5000-01-01"}"#));
        assert!(may_hold_far_year(br#"{"at": " +262143-01-01"}"#));
        assert!(may_hold_far_year(
            br#"{"at": "20260-03-02T09:00:00+07:00"}"#
        ));
        assert!(may_hold_far_year(br#"{"at": "-5000-01-0\u0031"}"#));
        assert!(!may_hold_far_year(
            r#"{"at": "2026-03-02T08:00:00+07:00", "code": "000.21.30.H12-260302-0001",
                "id": "001090012345", "name": "10-12-14 Nguyễn Huệ"}"#
                .as_bytes()
        ));
        let e = parse_json::<Body>(br#"{"displayName": "-5000-1-1"}"#).unwrap_err();
        assert_eq!(
            invalid_names(e),
            [("displayName".to_owned(), BODY_YEARS_REASON.to_owned())]
        );
        // Free text shaped like a date of an ordinary year is the field's to judge.
        let e = parse_json::<Body>(br#"{"displayName": "10-12-14"}"#).unwrap_err();
        let names = invalid_names(e);
        assert_eq!(names[0].0, "displayName");
        assert_ne!(names[0].1, BODY_YEARS_REASON);
    }

    #[actix_web::test]
    async fn a_csv_export_that_stops_short_fails_its_body_rather_than_ending_it() {
        use actix_web::body::{BodyStream, to_bytes};
        use actix_web::web::Bytes;
        let body = |chunks: Vec<CsvChunk>| async move {
            let (tx, rx) = tokio::sync::mpsc::channel::<CsvChunk>(4);
            for c in chunks {
                tx.try_send(c).ok().unwrap();
            }
            drop(tx);
            to_bytes(BodyStream::new(csv_body(rx))).await
        };
        let (head, row) = (Bytes::from_static(b"a,b\n"), Bytes::from_static(b"1,2\n"));
        let whole = body(vec![
            CsvChunk::Data(head.clone()),
            CsvChunk::Data(row),
            CsvChunk::Done,
        ]);
        assert_eq!(whole.await.unwrap(), Bytes::from_static(b"a,b\n1,2\n"));
        // The export's thread gone without saying the file is whole (a page it could not
        // read, a panic, a client that took nothing for a minute): an error, not a short file.
        let cut = body(vec![CsvChunk::Data(head)]);
        assert!(
            cut.await.is_err(),
            "a cut body is an error, not a shorter file"
        );
    }

    #[actix_web::test]
    async fn a_csv_export_answers_its_first_pages_failure_and_breaks_off_on_a_later_one() {
        use actix_web::body::{MessageBody, to_bytes};
        let file = std::env::temp_dir().join(format!("tthc-csv-{}.db", std::process::id()));
        let url =
            tthc_core::db::DatabaseUrl::parse(&format!("sqlite://{}", file.display())).unwrap();
        let db = tthc_core::db::Database::open(&url, 1).unwrap();
        // `pages` answers: a page of one row, the end, or the database busy.
        let export = |pages: Vec<Option<Option<&'static str>>>| {
            let mut pages = pages.into_iter();
            csv_stream_on(db.clone(), "x", &["a"], move |_| {
                match pages.next().flatten() {
                    Some(Some(cell)) => Ok(Some(vec![vec![cell.to_owned()]])),
                    Some(None) => Ok(None),
                    None => Err(ApiError::Unavailable("the database is busy".into())),
                }
            })
        };
        let body = |r: actix_web::HttpResponse| async move {
            to_bytes(r.into_body().boxed()).await.map(|b| b.to_vec())
        };
        let head = b"\xEF\xBB\xBFa\n".to_vec();
        // Whole: the header with the first page, then the rest.
        let r = export(vec![Some(Some("1")), Some(Some("2")), Some(None)]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            body(r).await.unwrap(),
            [head.as_slice(), b"1\n2\n"].concat()
        );
        // An empty list: the header alone.
        let r = export(vec![Some(None)]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(body(r).await.unwrap(), head);
        // The first page failing is the answer: 503 with `Retry-After`, no file.
        let r = export(vec![None]).await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers().get("retry-after").unwrap(), "1");
        // A later page failing breaks the body off.
        let r = export(vec![Some(Some("1")), None]).await;
        assert_eq!(r.status(), 200);
        assert!(body(r).await.is_err());
        drop(db);
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn a_csv_chunk_waits_for_its_client_only_so_long() {
        use actix_web::web::Bytes;
        use std::time::{Duration, Instant};
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        let wait = Duration::from_millis(100);
        assert!(send_or_give_up(&tx, Bytes::from_static(b"a"), wait));
        // Full, and nobody reads: given up after the wait.
        let started = Instant::now();
        assert!(!send_or_give_up(&tx, Bytes::from_static(b"b"), wait));
        assert!(started.elapsed() >= wait);
        // Read meanwhile: taken.
        assert_eq!(rx.try_recv().ok(), Some(Bytes::from_static(b"a")));
        assert!(send_or_give_up(&tx, Bytes::from_static(b"c"), wait));
        // The client went away: at once.
        drop(rx);
        let started = Instant::now();
        assert!(!send_or_give_up(&tx, Bytes::from_static(b"d"), wait));
        assert!(started.elapsed() < wait);
    }
}
