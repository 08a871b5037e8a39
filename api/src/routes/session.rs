//! `/api/v1/auth/session`: people sign in to the office console with their username and
//! password, and get a session: the same signed token a client gets, in an HttpOnly,
//! `SameSite=Strict`, `Secure` cookie, which the browser then sends with every request to the
//! service (report downloads included). Machines keep bearer tokens (`/api/v1/auth/token`).

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::db::{revocations, users};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::roles::Role;
use crate::auth::sign_in::Attempt;
use crate::auth::{Claims, MaybePrincipal, SESSION_COOKIE, require_csrf_header};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::ValidJson;
use crate::idempotency::SecretBearing;
use crate::state::AppState;

/// A person signing in.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"username": "lan.nguyen", "password": "một câu dài dễ nhớ 2026"}))]
pub struct SignIn {
    /// Sign-in name.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// Password.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub password: String,
}

/// Who a session (or a token) is, and what it may do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "subject": "user:lan.nguyen", "username": "lan.nguyen", "name": "Nguyễn Thị Lan",
    "role": "viewer", "scopes": ["units:read", "scores:read", "reports:read"],
    "units": ["000.00.02.H12"], "allUnits": false, "expiresAt": "2026-12-03T03:44:00Z"
}))]
pub struct SessionView {
    /// The token's subject: `user:<username>` for a person, the client id for a machine.
    pub subject: String,
    /// The person's username (none for a machine).
    pub username: Option<String>,
    /// The person's name.
    pub name: Option<String>,
    /// The person's role.
    pub role: Option<String>,
    /// The scopes held.
    pub scopes: Vec<String>,
    /// The units acted for, each with its subtree.
    pub units: Vec<String>,
    /// Whether every unit is.
    pub all_units: bool,
    /// When the session ends; sign in again then.
    pub expires_at: DateTime<Utc>,
}

fn view(claims: &Claims, role: Option<String>) -> SessionView {
    SessionView {
        subject: claims.sub.clone(),
        username: claims
            .sub
            .strip_prefix(users::SUBJECT_PREFIX)
            .map(str::to_owned),
        name: claims.uname.clone(),
        role,
        scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
        units: claims.units.clone(),
        all_units: claims.all_units,
        expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
    }
}

fn wrong_credentials() -> ApiError {
    ApiError::Unauthorized {
        code: "invalidCredentials",
        detail: "unknown user, wrong password, or disabled user".into(),
    }
}

/// The session cookie holding `token`, or (empty, already expired) the one that ends it.
fn session_cookie(token: &str, seconds: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(seconds))
        .finish()
}

/// Sign in
///
/// A person's username and password for a session: answered with who they are and what they
/// may do, and the session in the `__Host-tthc_session` cookie (HttpOnly, `SameSite=Strict`,
/// `Secure`, for the tokens' lifetime). With the cookie, the browser's requests are
/// authenticated like a bearer token's; a change (any method but GET, HEAD, OPTIONS) must also
/// carry the header `X-Requested-With`. Failed sign-ins are limited per user and per address.
#[utoipa::path(
    tag = "auth",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the session is in the Set-Cookie header", body = SessionView,
         headers(("Set-Cookie" = String, description = "__Host-tthc_session=<token>; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=<seconds>"))),
        (status = 400, description = "Missing or invalid fields", body = Problem, content_type = PROBLEM),
        (status = 401, description = "Unknown user, wrong password, or disabled user", body = Problem, content_type = PROBLEM),
        (status = 429, description = "Too many failed sign-ins for this user or from this address; `Retry-After` says when to retry", body = Problem, content_type = PROBLEM,
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(())
)]
#[post("/auth/session")]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<SignIn>,
) -> Result<HttpResponse, ApiError> {
    let SignIn { username, password } = body.0;
    let attempt = Attempt::start(&state, &users::subject(&username), &req, "user")?;
    // Read with the row, as a client's sign-in does (routes::token).
    let found = state
        .run(move |conn| {
            let generation = revocations::generation(conn, &users::subject(&username))?;
            Ok(users::find_row(conn, &username)?.map(|row| (row, generation)))
        })
        .await?;
    let (row, generation) = found.unzip();
    // A disabled person's password is checked against nothing, at the same cost.
    let stored = row.as_ref().filter(|r| !r.disabled);
    let matches = attempt
        .verify(&state, stored.map(|r| r.password_hash.clone()), password)
        .await?;
    let row = match row {
        Some(row) if matches => row,
        _ => return Err(wrong_credentials()),
    };
    let role = Role::parse(&row.role)
        .ok_or_else(|| ApiError::Internal(format!("user {} has an unknown role", row.username)))?;
    let (token, claims) = state.jwt.issue(Claims {
        iss: String::new(),
        sub: users::subject(&row.username),
        iat: 0,
        exp: 0,
        jti: String::new(),
        scope: role.scope_string(),
        units: row.units.split_whitespace().map(str::to_owned).collect(),
        all_units: row.all_units,
        uid: Some(row.username.clone()),
        uname: Some(row.name.clone()),
        generation: generation.unwrap_or(0),
    })?;
    let seconds = i64::try_from(state.jwt.ttl.as_secs()).unwrap_or(i64::MAX);
    let mut res = HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie(&token, seconds))
        .json(view(&claims, Some(row.role)));
    res.extensions_mut().insert(SecretBearing);
    Ok(res)
}

/// Who am I
///
/// The caller's session (or token): who it is, its scopes and units, when it ends; 204 without
/// a body when the request carries neither (nobody is signed in). The console asks this on
/// load to know whether its person is signed in.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = SessionView),
        (status = 204, description = "No session cookie or bearer token: nobody is signed in"),
        (status = 401, description = "A bad or expired session cookie or bearer token", body = Problem, content_type = PROBLEM),
    ),
    security((), ("bearer" = []))
)]
#[get("/auth/session")]
pub async fn current_session(
    state: web::Data<AppState>,
    caller: MaybePrincipal,
) -> Result<HttpResponse, ApiError> {
    let Some(principal) = caller.0 else {
        return Ok(HttpResponse::NoContent().finish());
    };
    let claims = principal.claims;
    let role = match claims.sub.strip_prefix(users::SUBJECT_PREFIX) {
        Some(username) => {
            let username = username.to_owned();
            state
                .run(move |conn| Ok(users::find_row(conn, &username)?))
                .await?
                .map(|u| u.role)
        }
        None => None,
    };
    Ok(HttpResponse::Ok().json(view(&claims, role)))
}

/// Sign out
///
/// Ends the session in this browser: the token the cookie held is revoked (refused from now on,
/// by every instance within a second) and the cookie is replaced by an expired one. The
/// person's sessions in other browsers go on. Without a cookie, or with one this service did
/// not sign or already refuses, only the cookie is expired. Ending a live session needs the
/// header `X-Requested-With`, as every change made with the cookie.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out; the Set-Cookie header expires the session",
         headers(("Set-Cookie" = String, description = "__Host-tthc_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"))),
        (status = 403, description = "A live session's cookie without the header `X-Requested-With`", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[delete("/auth/session")]
pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // A token already refused (signed out before, say) is not recorded again: sending one
    // cookie over and over adds no rows.
    if let Some(cookie) = req.cookie(SESSION_COOKIE)
        && let Ok(claims) = state.jwt.verify(cookie.value())
        && !state.revocations.is_revoked(&claims)
    {
        // Ending a live session is a change made with the cookie, guarded as every other one
        // (until 2026-12-07 a sign-out without the header was taken).
        require_csrf_header(&req)?;
        let expires_at = DateTime::<Utc>::from_timestamp(claims.exp, 0)
            .unwrap_or_else(Utc::now)
            .naive_utc();
        state
            .run(move |conn| {
                Ok(revocations::revoke_token(
                    conn,
                    &claims.sub,
                    &claims.jti,
                    expires_at,
                )?)
            })
            .await?;
        state.revocations.reload(&state.db).await;
    }
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie("", 0))
        .finish())
}
