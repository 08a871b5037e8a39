//! `/api/v1/clients`: API clients, their scopes, unit grants and secrets.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::db::clients::{self as store, Client, ClientInsertForm, ClientUpdateForm};
use tthc_core::db::units;
use tthc_core::unit::UnitCode;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope, generate_secret, hash_secret};
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, decode_cursor, etag, if_match,
};
use crate::idempotency::SecretBearing;
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// An API client.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "vnpt-igate", "name": "VNPT iGate một cửa", "scopes": ["units:read"],
    "units": ["000.00.00.H12"], "allUnits": false, "disabled": false, "version": 1,
    "createdAt": "2026-11-21T02:44:00Z", "updatedAt": "2026-11-21T02:44:00Z",
    "secretRotatedAt": "2026-11-21T02:44:00Z"
}))]
pub struct ClientView {
    /// Client id, used as `client_id` when getting tokens.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Unit codes the client acts for, each with its whole subtree.
    pub units: Vec<String>,
    /// Whether it acts for every unit.
    pub all_units: bool,
    /// A disabled client gets no tokens.
    pub disabled: bool,
    /// Version, also the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// When the secret was last set.
    pub secret_rotated_at: DateTime<Utc>,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        Self {
            id: c.id,
            name: c.name,
            scopes: c.scopes,
            units: c.units,
            all_units: c.all_units,
            disabled: c.disabled,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            secret_rotated_at: c.secret_rotated_at,
        }
    }
}

/// A client with its secret, shown once when it is created or rotated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "client": {"id": "vnpt-igate", "name": "VNPT iGate một cửa", "scopes": ["units:read"],
               "units": ["000.00.00.H12"], "allUnits": false, "disabled": false, "version": 1,
               "createdAt": "2026-11-21T02:44:00Z", "updatedAt": "2026-11-21T02:44:00Z",
               "secretRotatedAt": "2026-11-21T02:44:00Z"},
    "clientSecret": "q8Xv0Yb3kR7tN2mC5wZ9pL4sH6jD1fG8aE0uI3oK"
}))]
pub struct ClientWithSecret {
    /// The client.
    pub client: ClientView,
    /// Its secret: store it now, it is not shown again.
    pub client_secret: String,
}

/// A new client.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "id": "vnpt-igate", "name": "VNPT iGate một cửa", "scopes": ["units:read", "units:write"],
    "units": ["000.00.00.H12"]
}))]
pub struct ClientCreate {
    /// Client id: 3–64 lowercase letters, digits, `-`, `_` or `.`.
    #[validate(length(min = 3, max = 64), custom(function = "valid_client_id"))]
    #[schema(min_length = 3, max_length = 64, pattern = "^[a-z0-9._-]{3,64}$")]
    pub id: String,
    /// Name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, extensions(("x-not-blank" = json!(true))))]
    pub name: String,
    /// Scopes: any of `units:read`, `units:write`, `clients:admin`, `audit:read`.
    pub scopes: Vec<String>,
    /// Unit codes the client acts for, each with its subtree (at most 1000).
    #[serde(default)]
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub units: Vec<UnitCode>,
    /// Acts for every unit (a provincial office's own systems).
    #[serde(default)]
    pub all_units: bool,
}

/// A change to a client: fields left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"scopes": ["units:read"], "disabled": false}))]
pub struct ClientPatch {
    /// New name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, extensions(("x-not-blank" = json!(true))))]
    pub name: Option<String>,
    /// New scopes (replace the old).
    pub scopes: Option<Vec<String>>,
    /// New unit codes (replace the old; at most 1000).
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub units: Option<Vec<UnitCode>>,
    /// Acts for every unit.
    pub all_units: Option<bool>,
    /// Refuse (`true`) or allow (`false`) new tokens.
    pub disabled: Option<bool>,
}

/// A client id or a person's username: lowercase letters, digits, `-`, `_` and `.`.
pub(crate) fn valid_client_id(id: &str) -> Result<(), validator::ValidationError> {
    if id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        Ok(())
    } else {
        Err(validator::ValidationError::new("identifier")
            .with_message("may contain only lowercase letters, digits, '-', '_' and '.'".into()))
    }
}

/// A new secret and its hash; hashing is slow on purpose, so it runs on the hashing thread.
async fn new_secret(state: &AppState) -> Result<(String, String), ApiError> {
    let secret = generate_secret();
    let hash = state
        .hasher
        .run({
            let secret = secret.clone();
            move || hash_secret(&secret)
        })
        .await??;
    Ok((secret, hash))
}

/// Checks a grant being given: scope names and units exist, and the giver holds all of it (its
/// token's scopes; its units, or every unit). A client never grants more than it holds.
pub(crate) fn check_grant(
    conn: &mut tthc_core::db::DbConnection,
    principal: &Principal,
    scopes: Option<&[String]>,
    unit_codes: Option<&[UnitCode]>,
    all_units: Option<bool>,
) -> Result<(), ApiError> {
    let mut invalid = Vec::new();
    let held: Vec<&str> = principal.claims.scope.split_whitespace().collect();
    for (i, s) in scopes.unwrap_or_default().iter().enumerate() {
        if Scope::parse(s).is_none() {
            invalid.push(InvalidParam::new(
                format!("scopes[{i}]"),
                format!("unknown scope {s:?}; known: {}", Scope::names().join(", ")),
            ));
        } else if !held.contains(&s.as_str()) {
            invalid.push(InvalidParam::new(
                format!("scopes[{i}]"),
                format!("{s:?} is not held by your token; a client grants only what it holds"),
            ));
        }
    }
    if all_units == Some(true) && !principal.claims.all_units {
        invalid.push(InvalidParam::new(
            "allUnits",
            "only a client that acts for every unit may grant every unit",
        ));
    }
    if let Some(codes) = unit_codes {
        let scope = principal.unit_scope(conn)?;
        let wanted: Vec<String> = codes.iter().map(ToString::to_string).collect();
        let known = units::paths_of(conn, &wanted)?;
        for (i, code) in wanted.iter().enumerate() {
            // Stored twice, the grant no longer matched its units' paths one for one, and only
            // a client granted every unit could manage the client or person again.
            if wanted[..i].contains(code) {
                invalid.push(InvalidParam::new(
                    format!("units[{i}]"),
                    format!("{code} is listed twice"),
                ));
                continue;
            }
            let suffix = format!("/{code}/");
            // A unit outside the giver's grant does not exist for it.
            if !known
                .iter()
                .any(|p| p.ends_with(&suffix) && scope.allows(p))
            {
                invalid.push(InvalidParam::new(
                    format!("units[{i}]"),
                    format!("no unit has the code {code}"),
                ));
            }
        }
    }
    ApiError::unless_rules(invalid)
}

/// Whether `principal` holds all of `client`'s grant: its scopes, and its units (or every unit).
/// Only such a client may be read, changed, disabled, deleted or given a new secret by it.
fn holds_grant_of(
    conn: &mut tthc_core::db::DbConnection,
    principal: &Principal,
    scope: &tthc_core::unit::UnitScope,
    client: &Client,
) -> Result<bool, ApiError> {
    holds_grant(
        conn,
        principal,
        scope,
        &client.scopes,
        &client.units,
        client.all_units,
    )
}

/// The grant of a client or person (`grant`) that `principal`'s right to manage them was judged
/// on, for the store to check again under the record's lock: another administrator may change it
/// meanwhile. `None` for a caller holding every scope and every unit, whom no grant puts out of
/// reach (so its changes are never refused for another's).
pub(crate) fn judged_on<G>(principal: &Principal, grant: G) -> Option<G> {
    let held: Vec<&str> = principal.claims.scope.split_whitespace().collect();
    let unlimited =
        principal.claims.all_units && Scope::ALL.iter().all(|s| held.contains(&s.as_str()));
    (!unlimited).then_some(grant)
}

/// Whether `principal` holds all of a grant (`scopes`, and `units` or every unit), `scope`
/// being its own units: what it may manage, whether a client or a person holds the grant.
pub(crate) fn holds_grant(
    conn: &mut tthc_core::db::DbConnection,
    principal: &Principal,
    scope: &tthc_core::unit::UnitScope,
    scopes: &[String],
    units: &[String],
    all_units: bool,
) -> Result<bool, ApiError> {
    let held: Vec<&str> = principal.claims.scope.split_whitespace().collect();
    if !scopes.iter().all(|s| held.contains(&s.as_str())) {
        return Ok(false);
    }
    if principal.claims.all_units {
        return Ok(true);
    }
    if all_units {
        return Ok(false);
    }
    let paths = units::paths_of(conn, units)?;
    Ok(paths.len() == units.len() && paths.iter().all(|p| scope.allows(p)))
}

/// Client `id`, when `principal` may manage it; otherwise it does not exist for the caller.
fn managed(
    conn: &mut tthc_core::db::DbConnection,
    principal: &Principal,
    id: &str,
) -> Result<Client, ApiError> {
    let client = store::get(conn, id)?;
    let scope = principal.unit_scope(conn)?;
    if holds_grant_of(conn, principal, &scope, &client)? {
        Ok(client)
    } else {
        Err(ApiError::NotFound(format!("no client {id:?}")))
    }
}

/// Query of the client list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientListQuery {
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List clients
#[utoipa::path(
    tag = "clients",
    params(ClientListQuery),
    responses(
        (status = 200, description = "A page of clients, ordered by id", body = Page<ClientView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<ClientListQuery>,
) -> Result<web::Json<Page<ClientView>>, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let limit = query.0.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let after = query.0.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = state
        .run(move |conn| {
            // Only the clients the caller may manage.
            let scope = principal.unit_scope(conn)?;
            crate::http::kept_rows(
                conn,
                |conn, after, n| Ok(store::list(conn, after, n)?),
                |conn, c| holds_grant_of(conn, &principal, &scope, c),
                |c| c.id.clone(),
                (after, limit),
            )
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |c| c.id.clone(),
        ClientView::from,
    )))
}

/// Create a client
///
/// Answers the client with its secret, shown this once. Audited (without the secret).
#[utoipa::path(
    tag = "clients",
    request_body = ClientCreate,
    responses(
        (status = 201, description = "Created, with its secret", body = ClientWithSecret, headers(("Location" = String))),
        (status = 400, description = "Invalid fields, unknown scope or unit", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The id is taken", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<ClientCreate>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let b = body.0;
    let (secret, secret_hash) = new_secret(&state).await?;
    let client = state
        .run(move |conn| {
            check_grant(
                conn,
                &principal,
                Some(&b.scopes),
                Some(&b.units),
                Some(b.all_units),
            )?;
            let form = ClientInsertForm {
                id: b.id,
                name: b.name.trim().to_owned(),
                secret_hash,
                scopes: b.scopes,
                units: b.units.iter().map(ToString::to_string).collect(),
                all_units: b.all_units,
            };
            Ok(store::create(conn, &principal.actor(), &form)?)
        })
        .await?;
    let mut res = HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/clients/{}", client.id)))
        .insert_header((header::ETAG, etag(client.version)))
        .json(ClientWithSecret {
            client: client.into(),
            client_secret: secret,
        });
    res.extensions_mut().insert(SecretBearing);
    Ok(res)
}

/// Get a client
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id", example = "vnpt-igate")),
    responses(
        (status = 200, description = "The client", body = ClientView, headers(("ETag" = String))),
        (status = 404, description = "No such client", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[get("/clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let id = id.into_inner();
    let client = state
        .run(move |conn| managed(conn, &principal, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(client.version)))
        .json(ClientView::from(client)))
}

/// Change a client
///
/// Changes name, scopes, units or the disabled flag. Another grant or disabling the client
/// revokes the tokens it holds (refused by every instance within a second). Audited.
#[utoipa::path(
    tag = "clients",
    request_body = ClientPatch,
    params(
        ("id" = String, Path, description = "Client id", example = "vnpt-igate"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed client", body = ClientView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields, unknown scope or unit", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such client", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The client's grant changed while the request was checked against it: read it again and retry", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The client changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[patch("/clients/{id}")]
pub async fn patch_client(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: ValidJson<ClientPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let expected = if_match(&req)?;
    let b = body.0;
    let id = id.into_inner();
    let client = state
        .run(move |conn| {
            let checked = managed(conn, &principal, &id)?;
            check_grant(
                conn,
                &principal,
                b.scopes.as_deref(),
                b.units.as_deref(),
                b.all_units,
            )?;
            let form = ClientUpdateForm {
                name: b.name.map(|n| n.trim().to_owned()),
                scopes: b.scopes,
                units: b.units.map(|u| u.iter().map(ToString::to_string).collect()),
                all_units: b.all_units,
                disabled: b.disabled,
                secret_hash: None,
                checked_grant: judged_on(&principal, checked.grant()),
            };
            Ok(store::update(
                conn,
                &principal.actor(),
                &id,
                &form,
                expected.as_ref(),
            )?)
        })
        .await?;
    state.revocations.reload(&state.db).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(client.version)))
        .json(ClientView::from(client)))
}

/// Delete a client
///
/// The client gets no more tokens, and those it holds are revoked. Audited.
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id", example = "vnpt-igate")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such client", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The client's grant changed while the request was checked against it: read it again and retry", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[delete("/clients/{id}")]
pub async fn delete_client(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let id = id.into_inner();
    state
        .run(move |conn| {
            let checked = managed(conn, &principal, &id)?;
            let grant = checked.grant();
            Ok(store::delete(
                conn,
                &principal.actor(),
                &id,
                judged_on(&principal, grant).as_ref(),
            )?)
        })
        .await?;
    state.revocations.reload(&state.db).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a client's secret
///
/// Replaces the secret with a new one, answered this once; the old one stops working at once,
/// and the tokens it got are revoked. Audited.
#[utoipa::path(
    tag = "clients",
    params(("id" = String, Path, description = "Client id", example = "vnpt-igate")),
    responses(
        (status = 201, description = "The new secret", body = ClientWithSecret),
        (status = 404, description = "No such client", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The client's grant changed while the request was checked against it: read it again and retry", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["clients:admin"]))
)]
#[post("/clients/{id}/secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ClientsAdmin)?;
    let id = id.into_inner();
    let (secret, secret_hash) = new_secret(&state).await?;
    let client = state
        .run(move |conn| {
            let checked = managed(conn, &principal, &id)?;
            let form = ClientUpdateForm {
                secret_hash: Some(secret_hash),
                checked_grant: judged_on(&principal, checked.grant()),
                ..ClientUpdateForm::default()
            };
            Ok(store::update(conn, &principal.actor(), &id, &form, None)?)
        })
        .await?;
    state.revocations.reload(&state.db).await;
    let mut res = HttpResponse::Created()
        .insert_header((header::ETAG, etag(client.version)))
        .json(ClientWithSecret {
            client: client.into(),
            client_secret: secret,
        });
    res.extensions_mut().insert(SecretBearing);
    Ok(res)
}
