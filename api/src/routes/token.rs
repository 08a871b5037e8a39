//! `POST /api/v1/auth/token`: the OAuth2 client-credentials grant (RFC 6749 §4.4).

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tthc_core::db::{clients, revocations};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::Claims;
use crate::auth::sign_in::Attempt;
use crate::error::{ApiError, Problem};
use crate::http::{content_type, is_json, parse_json};
use crate::idempotency::SecretBearing;
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// A token request, as a form (`application/x-www-form-urlencoded`) or JSON. The client may
/// instead authenticate with HTTP Basic (`client_id:client_secret`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({
    "grant_type": "client_credentials", "client_id": "admin",
    "client_secret": "q8Xv0Yb3kR7tN2mC5wZ9pL4sH6jD1fG8aE0uI3oK"
}))]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(pattern = "^client_credentials$")]
    pub grant_type: String,
    /// The client id (or in HTTP Basic).
    pub client_id: Option<String>,
    /// The client secret (or in HTTP Basic).
    pub client_secret: Option<String>,
    /// Space-separated scopes to narrow the token to; all of the client's when left out.
    pub scope: Option<String>,
    /// The end user on whose behalf the client acts, recorded in the audit trail.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub end_user_id: Option<String>,
    /// That end user's name.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub end_user_name: Option<String>,
}

/// An access token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ0dGhjIn0.c2lnbmF0dXJl",
    "token_type": "Bearer", "expires_in": 3600, "scope": "units:read units:write"
}))]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scopes it holds.
    pub scope: String,
}

fn invalid_client() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_client",
        detail: "unknown client, wrong secret, or disabled client".into(),
    }
}

fn parse_request(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, ApiError> {
    let content_type = content_type(req);
    let mut request: TokenRequest = if is_json(&content_type) {
        parse_json(body)?
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let text =
            std::str::from_utf8(body).map_err(|_| ApiError::invalid("body", "must be UTF-8"))?;
        crate::http::parse_query(text)?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send the token request as application/x-www-form-urlencoded or application/json"
                .into(),
        ));
    };
    if let Some((id, secret)) = basic_credentials(req) {
        request.client_id = Some(id);
        request.client_secret = Some(secret);
    }
    Ok(request)
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    // No client id or secret holds a control character, and PostgreSQL takes no NUL in a
    // parameter: such a header is no credentials at all.
    if decoded.chars().any(char::is_control) {
        return None;
    }
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Get an access token
///
/// OAuth2 client credentials: exchange a client id and secret for a JWT holding the client's
/// scopes and unit grants. Errors are `problem+json` whose `code` and `error` are the OAuth2
/// codes (`invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type`).
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 400, description = "Unsupported grant type, unknown scope, or missing fields", body = Problem, content_type = PROBLEM),
        (status = 401, description = "Unknown client, wrong secret, or disabled client", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Neither a form nor JSON", body = Problem, content_type = PROBLEM),
        (status = 429, description = "Too many failed sign-ins for this client or from this address; `Retry-After` says when to retry", body = Problem, content_type = PROBLEM,
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(())
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    answer_token(state, req, body).await.map_err(oauth_error)
}

/// A malformed token request is `invalid_request` in OAuth2's words, whatever field it lacks.
fn oauth_error(e: ApiError) -> ApiError {
    match e {
        ApiError::BadRequest {
            code: "validationFailed" | "malformedJson" | "unreadableBody",
            detail,
            invalid,
        } => ApiError::BadRequest {
            code: "invalid_request",
            detail,
            invalid,
        },
        other => other,
    }
}

async fn answer_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = parse_request(&req, &body)?;
    if request.grant_type != "client_credentials" {
        return Err(ApiError::BadRequest {
            code: "unsupported_grant_type",
            detail: "grant_type must be client_credentials".into(),
            invalid: vec![tthc_core::InvalidParam::new(
                "grant_type",
                "must be client_credentials",
            )],
        });
    }
    let (Some(client_id), Some(secret)) =
        (request.client_id.clone(), request.client_secret.clone())
    else {
        // RFC 6749 §5.2: no client authentication included is `invalid_client`.
        return Err(ApiError::Unauthorized {
            code: "invalid_client",
            detail: "send client_id and client_secret, in the form or with HTTP Basic".into(),
        });
    };
    // No client can have another id: refused before the limiter keeps it (until 2026-12-07 an
    // id of any length, up to the body's mebibyte, was kept as a key of the failures counted).
    let possible =
        (3..=64).contains(&client_id.len()) && super::clients::valid_client_id(&client_id).is_ok();
    if !possible {
        return Err(invalid_client());
    }
    let attempt = Attempt::start(&state, &client_id, &req, "client")?;
    // The subject's revocation generation is read with its row: revoked after this read (say,
    // disabled while the secret is hashed), the token issued below is refused.
    let found = state
        .run(move |conn| {
            let generation = revocations::generation(conn, &client_id)?;
            Ok(clients::find_row(conn, &client_id)?.map(|row| (row, generation)))
        })
        .await?;
    let (row, generation) = found.unzip();
    // A disabled client's secret is checked against nothing, at the same cost.
    let stored = row.as_ref().filter(|r| !r.disabled);
    let matches = attempt
        .verify(&state, stored.map(|r| r.secret_hash.clone()), secret)
        .await?;
    let row = match row {
        Some(row) if matches => row,
        _ => return Err(invalid_client()),
    };
    let granted: Vec<&str> = row.scopes.split_whitespace().collect();
    let scope = match &request.scope {
        None => granted.join(" "),
        Some(asked) => {
            if let Some(extra) = asked.split_whitespace().find(|s| !granted.contains(s)) {
                return Err(ApiError::BadRequest {
                    code: "invalid_scope",
                    detail: format!("the client does not hold the scope {extra:?}"),
                    invalid: vec![tthc_core::InvalidParam::new(
                        "scope",
                        format!("{extra:?} is not granted"),
                    )],
                });
            }
            asked.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    let (token, _) = state.jwt.issue(Claims {
        iss: String::new(),
        sub: row.id,
        iat: 0,
        exp: 0,
        jti: String::new(),
        scope: scope.clone(),
        units: row.units.split_whitespace().map(str::to_owned).collect(),
        all_units: row.all_units,
        uid: request.end_user_id,
        uname: request.end_user_name,
        generation: generation.unwrap_or(0),
    })?;
    let mut res = HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: state.jwt.ttl.as_secs(),
            scope,
        });
    res.extensions_mut().insert(SecretBearing);
    Ok(res)
}
