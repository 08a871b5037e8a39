//! The HTTP layer's error type and its `application/problem+json` form (RFC 9457).
//!
//! Every status code the API answers with an error is chosen in [`ApiError::status_code`].
//! Errors raised by actix itself (unknown route, wrong method, body too large …) are rewritten
//! into the same form by [`problem_for_framework_errors`].

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tthc_core::InvalidParam;
use tthc_core::app::AppError;
use tthc_core::db::StoreError;
use utoipa::ToSchema;

/// The error codes of RFC 6749 §5.2: a problem with one of them also carries it as `error`, so
/// that OAuth2 libraries read a failed token request as one.
const OAUTH_ERRORS: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request breaks the OpenAPI document (syntax, type, pattern, range …); `invalid`
    /// names the fields.
    #[error("{detail}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What is wrong, for a person.
        detail: String,
        /// The fields refused and why.
        invalid: Vec<InvalidParam>,
    },
    /// The request is well formed, but a rule of the service the document cannot express
    /// refuses it: fields that contradict each other, a reference to a record that does not
    /// exist, a cursor this service never returned, a stored history that does not allow it.
    #[error("{detail}")]
    Unprocessable {
        /// What is wrong, for a person.
        detail: String,
        /// The fields refused and why.
        invalid: Vec<InvalidParam>,
    },
    /// No valid credentials.
    #[error("{detail}")]
    Unauthorized {
        /// Machine-readable code (`invalid_token`, `invalid_client` …).
        code: &'static str,
        /// Why.
        detail: String,
    },
    /// The credentials lack a scope.
    #[error("{0}")]
    Forbidden(String),
    /// The record exists but lies outside the caller's unit grant (public records only).
    #[error("{0}")]
    OutsideGrant(String),
    /// The resource does not exist for this caller.
    #[error("{0}")]
    NotFound(String),
    /// The path exists, but not with this method; `allow` lists the methods it takes.
    #[error("{detail}")]
    MethodNotAllowed {
        /// Why.
        detail: String,
        /// The methods the path takes, for the `Allow` header (RFC 9110).
        allow: String,
    },
    /// The write conflicts with what is stored.
    #[error("{}", .0.reason)]
    Conflict(InvalidParam),
    /// The `Idempotency-Key` was used before for a different request.
    #[error("{}", .0.reason)]
    KeyReused(InvalidParam),
    /// The first request with this `Idempotency-Key` is still being answered: a 409 of its own
    /// code, with `Retry-After`, so that a client tells "retry in a moment" from a refusal.
    #[error("{}", .0.reason)]
    KeyInFlight(InvalidParam),
    /// The first request with this `Idempotency-Key` took effect but its answer was lost: kept
    /// under the key, so that a retry does not make the change again.
    #[error("{}", .0.reason)]
    KeyTookEffect(InvalidParam),
    /// `If-Match` did not match the stored version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is not of a media type the operation reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the operation accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A dependency (the database) is not ready or too busy now; retry after a moment.
    #[error("{0}")]
    Unavailable(String),
    /// Too many requests from one caller: retry after this many seconds.
    #[error("{detail}")]
    TooManyRequests {
        /// Why.
        detail: String,
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// A bug or an outage; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming one invalid field.
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::invalid_params(vec![InvalidParam::new(name, reason)])
    }

    /// A 422 naming one field a rule refuses.
    pub fn rule(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::rules(vec![InvalidParam::new(name, reason)])
    }

    /// A 422 naming every field a rule refuses.
    pub fn rules(invalid: Vec<InvalidParam>) -> Self {
        Self::Unprocessable {
            detail: summary(&invalid),
            invalid,
        }
    }

    /// A 422: a cursor of the right form that this service did not return (or no longer can
    /// read).
    pub fn unknown_cursor() -> Self {
        Self::rule("cursor", "is not a cursor this service returned")
    }

    /// `Ok` when no rule refuses anything, else the 422 naming every field refused.
    pub fn unless_rules(invalid: Vec<InvalidParam>) -> Result<(), Self> {
        if invalid.is_empty() {
            Ok(())
        } else {
            Err(Self::rules(invalid))
        }
    }

    /// `Ok` when nothing is invalid, else the 400 naming every invalid field.
    pub fn unless_invalid(invalid: Vec<InvalidParam>) -> Result<(), Self> {
        if invalid.is_empty() {
            Ok(())
        } else {
            Err(Self::invalid_params(invalid))
        }
    }

    /// A 400 naming several invalid fields.
    pub fn invalid_params(invalid: Vec<InvalidParam>) -> Self {
        Self::BadRequest {
            code: "validationFailed",
            detail: summary(&invalid),
            invalid,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::Unauthorized { code, .. } => code,
            Self::Unprocessable { .. } => "ruleViolated",
            Self::Forbidden(_) => "insufficientScope",
            Self::OutsideGrant(_) => "outsideGrant",
            Self::TooManyRequests { .. } => "tooManyRequests",
            Self::NotFound(_) => "notFound",
            Self::MethodNotAllowed { .. } => "methodNotAllowed",
            Self::Conflict(_) => "conflict",
            Self::KeyReused(_) => "idempotencyKeyReused",
            Self::KeyInFlight(_) => "idempotencyKeyInFlight",
            Self::KeyTookEffect(_) => "idempotencyKeyTookEffect",
            Self::PreconditionFailed(_) => "preconditionFailed",
            Self::UnsupportedMediaType(_) => "unsupportedMediaType",
            Self::PayloadTooLarge(_) => "payloadTooLarge",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status_code();
        let (detail, invalid) = match self {
            Self::BadRequest {
                invalid, detail, ..
            }
            | Self::Unprocessable { invalid, detail } => (detail.clone(), invalid.clone()),
            Self::Conflict(param)
            | Self::KeyReused(param)
            | Self::KeyInFlight(param)
            | Self::KeyTookEffect(param) => (param.reason.clone(), vec![param.clone()]),
            Self::Internal(_) => (
                "The service failed to answer; the error is logged with this request's id.".into(),
                Vec::new(),
            ),
            other => (other.to_string(), Vec::new()),
        };
        Problem::new(status, self.code(), detail, invalid)
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Store(e) => e.into(),
            AppError::Invalid(invalid) => Self::invalid_params(invalid),
            AppError::Refused(invalid) => Self::rules(invalid),
            AppError::NotFound(what) => Self::NotFound(what),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { resource, id } => {
                Self::NotFound(format!("no {resource} {id:?}"))
            }
            StoreError::Conflict(param) => Self::Conflict(param),
            // The store and the domain check what a well-formed request asks (references,
            // cross-field rules, the stored history); the document's rules are checked before.
            StoreError::Invalid(params) => Self::rules(params),
            StoreError::VersionMismatch { current } => Self::PreconditionFailed(format!(
                "the resource has changed: its version is now {current}; read it again and retry"
            )),
            StoreError::OutsideGrant(detail) => Self::OutsideGrant(detail),
            e if e.is_busy() => {
                tracing::warn!(error = %e, "database busy");
                Self::Unavailable("the database is busy; retry in a moment".into())
            }
            e if e.is_connection_lost() => {
                tracing::warn!(error = %e, "database connection lost");
                Self::Unavailable(
                    "the connection to the database was lost: a change asked for may or may not \
                     have been made; read it back, or retry with the same Idempotency-Key"
                        .into(),
                )
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::OutsideGrant(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::KeyInFlight(_) | Self::KeyTookEffect(_) => {
                StatusCode::CONFLICT
            }
            Self::KeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        if let Self::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized { .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tthc\""));
            }
            Self::Unavailable(_) | Self::KeyInFlight(_) => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::MethodNotAllowed { allow, .. } => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::TooManyRequests { retry_after, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            _ => {}
        }
        res.content_type(PROBLEM_JSON).json(self.problem())
    }
}

/// An error, as `application/problem+json` (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "type": "urn:tthc:problem:validationFailed",
    "title": "Bad Request",
    "status": 400,
    "detail": "parent: no unit has the code 000.00.99.H12",
    "code": "validationFailed",
    "invalidParams": [{"name": "parent", "reason": "no unit has the code 000.00.99.H12"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:tthc:problem:{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// Machine-readable code, stable across releases.
    pub code: String,
    /// The fields refused and why (validation failures only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParamView>,
    /// The OAuth2 error code (RFC 6749 §5.2) of a refused token request: `invalid_request`,
    /// `invalid_client`, `invalid_scope` or `unsupported_grant_type`; absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A refused field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvalidParamView {
    /// The field (camelCase, dotted for nested fields, `[i]` for array items).
    pub name: String,
    /// Why it was refused.
    pub reason: String,
}

impl From<InvalidParam> for InvalidParamView {
    fn from(p: InvalidParam) -> Self {
        Self {
            name: p.name,
            reason: p.reason,
        }
    }
}

impl Problem {
    fn new(status: StatusCode, code: &str, detail: String, invalid: Vec<InvalidParam>) -> Self {
        Self {
            type_: format!("urn:tthc:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            invalid_params: invalid.into_iter().map(InvalidParamView::from).collect(),
            error: OAUTH_ERRORS.contains(&code).then(|| code.to_owned()),
        }
    }
}

/// Rewrites every error response that is not yet `application/problem+json` (actix's own:
/// unknown route, wrong method, payload errors) into one, keeping its status.
pub fn problem_for_framework_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let req = res.request();
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("notFound", format!("no resource at {}", req.path())),
        StatusCode::METHOD_NOT_ALLOWED => (
            "methodNotAllowed",
            format!("{} is not allowed on {}", req.method(), req.path()),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payloadTooLarge", "the request body is too large".into())
        }
        s if s.is_server_error() => ("internal", "the service failed to answer".into()),
        s => (
            "badRequest",
            s.canonical_reason().unwrap_or("bad request").to_lowercase(),
        ),
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let problem = Problem::new(status, code, detail, Vec::new());
    let (req, _) = res.into_parts();
    let mut new = HttpResponse::build(status);
    if let Some(allow) = allow {
        new.insert_header((header::ALLOW, allow));
    }
    new.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    let new = new.json(problem);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body::<B>(),
    ))
}

/// A problem's detail naming the one refused field, or counting them.
fn summary(invalid: &[InvalidParam]) -> String {
    match invalid {
        [one] => format!("{}: {}", one.name, one.reason),
        _ => format!("{} fields are invalid", invalid.len()),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use tthc_core::db::StoreError;

    use super::ApiError;

    fn answer(kind: DatabaseErrorKind, message: &str) -> StatusCode {
        let e = StoreError::Database(DieselError::DatabaseError(
            kind,
            Box::new(message.to_owned()),
        ));
        ApiError::from(e).status_code()
    }

    /// A connection lost under a request is retryable (503); the kinds that also cover
    /// other faults count as a loss only by libpq's words for one.
    #[test]
    fn a_lost_connection_is_answered_503_and_other_send_failures_500() {
        let unavailable = StatusCode::SERVICE_UNAVAILABLE;
        let internal = StatusCode::INTERNAL_SERVER_ERROR;
        let closed = "terminating connection due to administrator command";
        assert_eq!(
            answer(DatabaseErrorKind::ClosedConnection, closed),
            unavailable
        );
        let gone = "no connection to the server\n";
        assert_eq!(
            answer(DatabaseErrorKind::UnableToSendCommand, gone),
            unavailable
        );
        let eof = "server closed the connection unexpectedly\n";
        assert_eq!(answer(DatabaseErrorKind::Unknown, eof), unavailable);
        let busy = "another command is already in progress\n";
        assert_eq!(
            answer(DatabaseErrorKind::UnableToSendCommand, busy),
            internal
        );
        assert_eq!(answer(DatabaseErrorKind::Unknown, "syntax error"), internal);
    }
}
