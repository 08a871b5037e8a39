//! `/api/v1/users`: the people who sign in to the office console, their roles and unit grants.
//! (API clients, machines, are at `/api/v1/clients`.) Managed with `clients:admin`; an
//! administrator never grants more than its own token holds.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::db::DbConnection;
use tthc_core::db::users::{self as store, User, UserInsertForm, UserUpdateForm};
use tthc_core::unit::{UnitCode, UnitScope};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::clients::{check_grant, holds_grant, judged_on, valid_client_id};
use crate::auth::roles::Role;
use crate::auth::{Principal, Scope, hash_secret};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, decode_cursor, etag, if_match,
};
use crate::state::AppState;

/// A person who signs in to the console.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "username": "lan.nguyen", "name": "Nguyễn Thị Lan", "role": "viewer",
    "scopes": ["units:read", "scores:read", "reports:read"], "units": ["000.00.02.H12"],
    "allUnits": false, "disabled": false, "version": 1,
    "createdAt": "2026-12-03T02:44:00Z", "updatedAt": "2026-12-03T02:44:00Z",
    "passwordSetAt": "2026-12-03T02:44:00Z"
}))]
pub struct UserView {
    /// Sign-in name.
    pub username: String,
    /// Full name.
    pub name: String,
    /// `viewer` (reads), `officer` (also records the units' reports, task parts and figures)
    /// or `admin` (every scope).
    pub role: String,
    /// The scopes the role gives.
    pub scopes: Vec<String>,
    /// Unit codes the person acts for, each with its whole subtree.
    pub units: Vec<String>,
    /// Whether the person acts for every unit.
    pub all_units: bool,
    /// A disabled person cannot sign in.
    pub disabled: bool,
    /// Version, also the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// When the password was last set.
    pub password_set_at: DateTime<Utc>,
}

fn role_scopes(role: &str) -> Vec<String> {
    Role::parse(role)
        .map(|r| r.scopes().iter().map(|s| s.as_str().to_owned()).collect())
        .unwrap_or_default()
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            scopes: role_scopes(&u.role),
            username: u.username,
            name: u.name,
            role: u.role,
            units: u.units,
            all_units: u.all_units,
            disabled: u.disabled,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
            password_set_at: u.password_set_at,
        }
    }
}

/// A new person.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "username": "lan.nguyen", "name": "Nguyễn Thị Lan", "password": "một câu dài dễ nhớ 2026",
    "role": "viewer", "units": ["000.00.02.H12"]
}))]
pub struct UserCreate {
    /// Sign-in name: 3–64 lowercase letters, digits, `-`, `_` or `.`.
    #[validate(length(min = 3, max = 64), custom(function = "valid_client_id"))]
    #[schema(min_length = 3, max_length = 64, pattern = "^[a-z0-9._-]{3,64}$")]
    pub username: String,
    /// Full name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, extensions(("x-not-blank" = json!(true))))]
    pub name: String,
    /// The password: 12–200 characters (a sentence is easier to remember than symbols).
    #[validate(length(min = 12, max = 200))]
    #[schema(min_length = 12, max_length = 200)]
    pub password: String,
    /// `viewer`, `officer` or `admin`.
    #[schema(pattern = "^(viewer|officer|admin)$")]
    pub role: String,
    /// Unit codes the person acts for, each with its subtree (at most 1000).
    #[serde(default)]
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub units: Vec<UnitCode>,
    /// Acts for every unit (the provincial office).
    #[serde(default)]
    pub all_units: bool,
}

/// A change to a person: fields left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"role": "officer", "disabled": false}))]
pub struct UserPatch {
    /// New name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, extensions(("x-not-blank" = json!(true))))]
    pub name: Option<String>,
    /// A new password (12–200 characters).
    #[validate(length(min = 12, max = 200))]
    #[schema(min_length = 12, max_length = 200)]
    pub password: Option<String>,
    /// New role.
    #[schema(pattern = "^(viewer|officer|admin)$")]
    pub role: Option<String>,
    /// New unit codes (replace the old; at most 1000).
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub units: Option<Vec<UnitCode>>,
    /// Acts for every unit.
    pub all_units: Option<bool>,
    /// Refuse (`true`) or allow (`false`) signing in.
    pub disabled: Option<bool>,
}

/// The role named `name`, or a refusal naming the field.
fn role(name: &str) -> Result<Role, ApiError> {
    Role::parse(name).ok_or_else(|| ApiError::invalid("role", "must be viewer, officer or admin"))
}

/// The hash of `password`, made on the hashing thread (slow on purpose).
async fn hash(state: &AppState, password: String) -> Result<String, ApiError> {
    state.hasher.run(move || hash_secret(&password)).await?
}

/// Person `username`, when `principal` holds all of their grant; otherwise they do not exist
/// for the caller.
fn managed(
    conn: &mut DbConnection,
    principal: &Principal,
    username: &str,
) -> Result<User, ApiError> {
    let user = store::get(conn, username)?;
    if manages(conn, principal, &user)? {
        Ok(user)
    } else {
        Err(ApiError::NotFound(format!("no user {username:?}")))
    }
}

fn manages(conn: &mut DbConnection, principal: &Principal, user: &User) -> Result<bool, ApiError> {
    let scope = principal.unit_scope(conn)?;
    manages_within(conn, principal, &scope, user)
}

/// [`manages`] with the caller's units read already (`scope`).
fn manages_within(
    conn: &mut DbConnection,
    principal: &Principal,
    scope: &UnitScope,
    user: &User,
) -> Result<bool, ApiError> {
    holds_grant(
        conn,
        principal,
        scope,
        &role_scopes(&user.role),
        &user.units,
        user.all_units,
    )
}

/// Query of the user list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List people
///
/// The people the caller may manage (whose grant its token holds), by username.
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of people, ordered by username", body = Page<UserView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<UserListQuery>,
) -> Result<web::Json<Page<UserView>>, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let limit = query.0.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let after = query.0.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = state
        .run(move |conn| {
            // Only the people the caller may manage.
            let scope = principal.unit_scope(conn)?;
            crate::http::kept_rows(
                conn,
                |conn, after, n| Ok(store::list(conn, after, n)?),
                |conn, u| manages_within(conn, &principal, &scope, u),
                |u| u.username.clone(),
                (after, limit),
            )
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |u| u.username.clone(),
        UserView::from,
    )))
}

/// Create a person
///
/// A person who signs in to the console with a password. Their role gives their scopes; the
/// caller must hold them, and the units granted. Audited (never the password).
#[utoipa::path(
    tag = "users",
    request_body = UserCreate,
    responses(
        (status = 201, description = "Created", body = UserView, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields or role", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The username is taken", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A unit that does not exist, or a grant the caller does not hold", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<UserCreate>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let b = body.0;
    let role = role(&b.role)?;
    let password_hash = hash(&state, b.password).await?;
    let user = state
        .run(move |conn| {
            let scopes = role_scopes(role.as_str());
            check_grant(
                conn,
                &principal,
                Some(&scopes),
                Some(&b.units),
                Some(b.all_units),
            )
            .map_err(|e| rename_scopes(e, role))?;
            let form = UserInsertForm {
                username: b.username,
                name: b.name.trim().to_owned(),
                password_hash,
                role: role.as_str().to_owned(),
                units: b.units.iter().map(ToString::to_string).collect(),
                all_units: b.all_units,
            };
            Ok(store::create(conn, &principal.actor(), &form)?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.username)))
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserView::from(user)))
}

/// A refusal of the role's scopes names the field the caller sent: `role`.
fn rename_scopes(e: ApiError, role: Role) -> ApiError {
    match e {
        ApiError::Unprocessable { invalid, .. } => {
            let mut named = Vec::new();
            let mut scopes = false;
            for p in invalid {
                if p.name.starts_with("scopes[") {
                    scopes = true;
                } else {
                    named.push(p);
                }
            }
            if scopes {
                named.push(InvalidParam::new(
                    "role",
                    format!(
                        "{} gives scopes your token does not hold; you grant only what you hold",
                        role.as_str()
                    ),
                ));
            }
            ApiError::rules(named)
        }
        other => other,
    }
}

/// Get a person
#[utoipa::path(
    tag = "users",
    params(("username" = String, Path, description = "Sign-in name", example = "lan.nguyen")),
    responses(
        (status = 200, description = "The person", body = UserView, headers(("ETag" = String))),
        (status = 404, description = "No such person (or not one the caller may manage)", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[get("/users/{username}")]
pub async fn get_user(
    state: web::Data<AppState>,
    principal: Principal,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let username = username.into_inner();
    let user = state
        .run(move |conn| managed(conn, &principal, &username))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserView::from(user)))
}

/// Change a person
///
/// Name, password, role, units, or the disabled flag. A new password, another role or units,
/// or disabling the person revokes the sessions they hold (refused by every instance within a
/// second). Audited (a new password as `setPassword`, never its value).
#[utoipa::path(
    tag = "users",
    request_body = UserPatch,
    params(
        ("username" = String, Path, description = "Sign-in name", example = "lan.nguyen"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed person", body = UserView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields or role", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such person (or not one the caller may manage)", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The person's grant changed while the request was checked against it: read it again and retry", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The person changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A unit that does not exist, or a grant the caller does not hold", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[patch("/users/{username}")]
pub async fn patch_user(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    username: web::Path<String>,
    body: ValidJson<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let expected = if_match(&req)?;
    let b = body.0;
    let role = b.role.as_deref().map(role).transpose()?;
    let password_hash = match b.password {
        Some(p) => Some(hash(&state, p).await?),
        None => None,
    };
    let username = username.into_inner();
    let user = state
        .run(move |conn| {
            let checked = managed(conn, &principal, &username)?;
            let scopes = role.map(|r| role_scopes(r.as_str()));
            check_grant(
                conn,
                &principal,
                scopes.as_deref(),
                b.units.as_deref(),
                b.all_units,
            )
            .map_err(|e| match role {
                Some(r) => rename_scopes(e, r),
                None => e,
            })?;
            let form = UserUpdateForm {
                name: b.name.map(|n| n.trim().to_owned()),
                role: role.map(|r| r.as_str().to_owned()),
                units: b.units.map(|u| u.iter().map(ToString::to_string).collect()),
                all_units: b.all_units,
                disabled: b.disabled,
                password_hash,
                checked_grant: judged_on(&principal, checked.grant()),
            };
            Ok(store::update(
                conn,
                &principal.actor(),
                &username,
                &form,
                expected.as_ref(),
            )?)
        })
        .await?;
    state.revocations.reload(&state.db).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserView::from(user)))
}
