//! `/api/v1/subscriptions`: webhook subscriptions to the change feed, their delivery state and
//! their dead letters.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::db::changes::{self as feed, Position};
use tthc_core::db::subscriptions::{
    self as store, DeadLetterRow, Kind, SubscriptionInsertForm, SubscriptionRow,
    SubscriptionUpdateForm,
};
use tthc_core::db::{DbConnection, units};
use tthc_core::unit::UnitCode;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, decode_cursor, etag, feed_cursor,
    feed_position, if_match,
};
use crate::idempotency::SecretBearing;
use crate::routes::changes::Change;
use crate::state::AppState;
use crate::webhooks::deliverer::Reading;
use crate::webhooks::signature::{key_of, new_secret};
use crate::webhooks::{WebhookDelivery, delivery_id};

use crate::error::PROBLEM_JSON as PROBLEM;

/// A webhook subscription and how its delivery stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90", "kind": "webhook", "url": "https://dashboard.example.gov.vn/hooks/tthc",
    "resourceTypes": ["dossier"], "unit": "000.21.30.H12", "active": true,
    "ownerClient": "dashboard", "cursor": "azoxMjM0NTYuMTA0Mg", "delivered": 1042,
    "failures": 0, "nextAttemptAt": "2026-12-03T02:44:01Z", "lastAttemptAt": "2026-12-03T02:44:00Z",
    "lastSuccessAt": "2026-12-03T02:44:00Z", "lastError": null, "version": 1,
    "createdAt": "2026-12-01T02:44:00Z", "updatedAt": "2026-12-01T02:44:00Z"
}))]
pub struct SubscriptionView {
    /// Id.
    pub id: String,
    /// `webhook`, or `portal`: the relay to the national portal (set with
    /// `PUT /portal-relays/{unit}`).
    #[schema(pattern = "^(webhook|portal)$")]
    pub kind: String,
    /// Where changes are POSTed.
    pub url: String,
    /// The kinds of record delivered; empty for every kind.
    pub resource_types: Vec<String>,
    /// Only changes of this unit's records and those of the units below it.
    pub unit: Option<String>,
    /// Delivered (`true`) or paused.
    pub active: bool,
    /// The client that made it; what it receives is limited to that client's units.
    pub owner_client: String,
    /// Delivered up to this position of the change feed (a `GET /changes` cursor: the changes
    /// after it are still to come).
    pub cursor: String,
    /// Changes delivered so far.
    pub delivered: i64,
    /// Failed attempts of the batch being tried now (0 when none is failing).
    pub failures: i32,
    /// The next attempt is not made before this.
    pub next_attempt_at: DateTime<Utc>,
    /// The last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last batch the receiver took.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed, or why delivery is held.
    pub last_error: Option<String>,
    /// Version, also the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
}

impl From<SubscriptionRow> for SubscriptionView {
    fn from(r: SubscriptionRow) -> Self {
        Self {
            cursor: feed_cursor(r.cursor()),
            resource_types: r.types(),
            kind: r.kind,
            id: r.id,
            url: r.url,
            unit: r.unit_code,
            active: r.active,
            owner_client: r.owner_client,
            delivered: r.delivered,
            failures: r.failures,
            next_attempt_at: r.next_attempt_at.and_utc(),
            last_attempt_at: r.last_attempt_at.map(|t| t.and_utc()),
            last_success_at: r.last_success_at.map(|t| t.and_utc()),
            last_error: r.last_error,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A subscription with its signing secret, shown once when it is created.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "subscription": {
        "id": "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90", "kind": "webhook", "url": "https://dashboard.example.gov.vn/hooks/tthc",
        "resourceTypes": ["dossier"], "unit": null, "active": true, "ownerClient": "dashboard",
        "cursor": "azoxMjM0NTYuMTA0Mg", "delivered": 0, "failures": 0,
        "nextAttemptAt": "2026-12-01T02:44:00Z", "lastAttemptAt": null, "lastSuccessAt": null,
        "lastError": null, "version": 1,
        "createdAt": "2026-12-01T02:44:00Z", "updatedAt": "2026-12-01T02:44:00Z"
    },
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
}))]
pub struct SubscriptionWithSecret {
    /// The subscription.
    pub subscription: SubscriptionView,
    /// The signing secret (`whsec_` and base64): keep it to check `webhook-signature`.
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://dashboard.example.gov.vn/hooks/tthc", "resourceTypes": ["dossier", "petition"],
    "unit": "000.21.30.H12"
}))]
pub struct SubscriptionCreate {
    /// Where to POST the changes: an `http` or `https` URL.
    #[validate(length(min = 8, max = 2000))]
    #[schema(min_length = 8, max_length = 2000, format = Uri)]
    pub url: String,
    /// Only these kinds of record (`dossier`, `petition`, `unit` …); left out or empty, every
    /// kind.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub resource_types: Vec<ResourceType>,
    /// Only changes of this unit's records and those below it (within the caller's units).
    pub unit: Option<UnitCode>,
    /// The signing secret, `whsec_` and 24–64 bytes in base64; left out, one is made.
    #[validate(length(max = 100))]
    #[schema(max_length = 100, pattern = "^whsec_[A-Za-z0-9+/=]+$")]
    pub secret: Option<String>,
    /// Start after this `GET /changes` cursor (to hand a reader's catch-up over to webhooks);
    /// left out, delivery starts with the changes made from now on.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub after: Option<String>,
}

/// A kind of record: letters only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(value_type = String, min_length = 1, max_length = 40, pattern = "^[A-Za-z]+$", example = "dossier")]
pub struct ResourceType(String);

impl ResourceType {
    fn checked(&self, at: String) -> Option<InvalidParam> {
        let ok = !self.0.is_empty()
            && self.0.len() <= 40
            && self.0.chars().all(|c| c.is_ascii_alphabetic());
        (!ok).then(|| InvalidParam::new(at, "must be 1 to 40 letters"))
    }
}

/// A change to a subscription: fields left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct SubscriptionPatch {
    /// New URL.
    #[validate(length(min = 8, max = 2000))]
    #[schema(min_length = 8, max_length = 2000, format = Uri)]
    pub url: Option<String>,
    /// New kinds (empty: every kind).
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub resource_types: Option<Vec<ResourceType>>,
    /// New unit; `null` for every unit of the owner's.
    #[serde(default, deserialize_with = "crate::http::present")]
    #[schema(value_type = Option<UnitCode>)]
    pub unit: Option<Option<UnitCode>>,
    /// Pause (`false`) or resume (`true`; a failing batch is tried again at once).
    pub active: Option<bool>,
    /// A new signing secret, `whsec_` and 24–64 bytes in base64.
    #[validate(length(max = 100))]
    #[schema(max_length = 100, pattern = "^whsec_[A-Za-z0-9+/=]+$")]
    pub secret: Option<String>,
}

/// A batch given up on after its last retry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": 7, "deliveryId": "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90.0.1041",
    "after": "azoxMjM0NTYuMTA0MQ", "until": "azoxMjM0NTYuMTE0MA", "changes": 100, "attempts": 20,
    "lastError": "the receiver answered 503 Service Unavailable", "state": "dead",
    "createdAt": "2026-12-03T02:44:00Z", "updatedAt": "2026-12-03T02:44:00Z"
}))]
pub struct DeadLetterView {
    /// Id.
    pub id: i64,
    /// The delivery id its attempts carried (`webhook-id`).
    pub delivery_id: String,
    /// It holds the changes after this feed cursor…
    pub after: String,
    /// …up to this one, included.
    pub until: String,
    /// How many changes.
    pub changes: i32,
    /// Attempts made.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: String,
    /// `dead`, `queued` (to be delivered again) or `delivered` (delivered again).
    #[schema(pattern = "^(dead|queued|delivered)$")]
    pub state: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
}

impl From<DeadLetterRow> for DeadLetterView {
    fn from(r: DeadLetterRow) -> Self {
        let (from, to) = r.range();
        Self {
            id: r.id,
            delivery_id: delivery_id(&r.subscription_id, from),
            after: feed_cursor(from),
            until: feed_cursor(to),
            changes: r.changes,
            attempts: r.attempts,
            last_error: r.last_error,
            state: r.state,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Query of a list of subscriptions or dead letters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionListQuery {
    /// Page size, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Subscription `id`, when `principal` may see it: its owner, or a client acting for every
/// unit. Others' subscriptions do not exist for the caller.
fn owned(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
) -> Result<SubscriptionRow, ApiError> {
    store::find_row(conn, id)?
        .filter(|s| principal.claims.all_units || s.owner_client == principal.claims.sub)
        .ok_or_else(|| ApiError::NotFound(format!("no subscription {id:?}")))
}

/// Checks a URL, kinds, unit and secret being set; `Ok` holds the unit's code.
fn check(
    conn: &mut DbConnection,
    principal: &Principal,
    url: Option<&str>,
    types: Option<&[ResourceType]>,
    unit: Option<&UnitCode>,
    secret: Option<&str>,
    private_networks: bool,
) -> Result<(), ApiError> {
    let mut invalid = Vec::new();
    if let Some(reason) = url.and_then(|u| crate::webhooks::url_problem(u, private_networks)) {
        invalid.push(InvalidParam::new("url", reason));
    }
    for (i, t) in types.unwrap_or_default().iter().enumerate() {
        invalid.extend(t.checked(format!("resourceTypes[{i}]")));
    }
    if secret.is_some_and(|s| key_of(s).is_none()) {
        invalid.push(InvalidParam::new(
            "secret",
            "must be whsec_ followed by 24 to 64 bytes in base64",
        ));
    }
    ApiError::unless_rules(invalid.clone())?;
    if let Some(code) = unit {
        let scope = principal.unit_scope(conn)?;
        if !units::find_row(conn, code.as_str())?.is_some_and(|u| scope.allows(&u.path)) {
            invalid.push(InvalidParam::new(
                "unit",
                format!("no unit has the code {code}"),
            ));
        }
    }
    ApiError::unless_rules(invalid)
}

fn names(types: &[ResourceType]) -> Vec<String> {
    let mut names: Vec<String> = types.iter().map(|t| t.0.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// List subscriptions
///
/// The caller's own subscriptions; a client acting for every unit sees every client's.
#[utoipa::path(
    tag = "webhooks",
    params(SubscriptionListQuery),
    responses(
        (status = 200, description = "A page of subscriptions, ordered by id", body = Page<SubscriptionView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write"]))
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<SubscriptionListQuery>,
) -> Result<web::Json<Page<SubscriptionView>>, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    let limit = query.0.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let after = query.0.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = state
        .run(move |conn| {
            let owner = (!principal.claims.all_units).then_some(principal.claims.sub.as_str());
            Ok(store::list(conn, owner, after.as_deref(), limit + 1)?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |s| s.id.clone(),
        SubscriptionView::from,
    )))
}

/// Subscribe to the change feed
///
/// Every change the caller may read (`changes:read`, within its units), filtered by kind and
/// unit, is POSTed to `url` in batches of up to 100, oldest first, as `GET /changes` lists
/// them, signed (`webhook-id`, `webhook-timestamp`, `webhook-signature`: Standard Webhooks,
/// HMAC-SHA256 with the secret). A batch the receiver does not take (no 2xx in time) is tried
/// again with growing waits, then kept as a dead letter. Answers the subscription with its
/// secret, shown this once. Audited (without the secret). Owned by the API client that makes
/// it: a person signed in to the console cannot make one (403).
#[utoipa::path(
    tag = "webhooks",
    request_body = SubscriptionCreate,
    responses(
        (status = 201, description = "Created, with its secret", body = SubscriptionWithSecret, headers(("Location" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks a scope, or is a person's console session (a subscription belongs to an API client)", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A bad URL, kind, secret or cursor, or a unit outside the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write", "changes:read"]))
)]
#[post("/subscriptions")]
pub async fn create_subscription(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<SubscriptionCreate>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    principal.require(Scope::ChangesRead)?;
    principal.require_client("a subscription")?;
    let b = body.0;
    let start = b
        .after
        .as_deref()
        .map(|c| feed_position("after", c))
        .transpose()?;
    let secret = b.secret.clone().unwrap_or_else(new_secret);
    let shown = secret.clone();
    let private_networks = state.config.webhooks.private_networks;
    let row = state
        .run(move |conn| {
            check(
                conn,
                &principal,
                Some(&b.url),
                Some(&b.resource_types),
                b.unit.as_ref(),
                b.secret.as_deref(),
                private_networks,
            )?;
            let newest = feed::newest(conn)?;
            // Past the newest change: not a cursor the feed gave, and such a subscription
            // was never behind, so nothing was ever delivered.
            if start.is_some_and(|p| p > newest) {
                return Err(ApiError::rule(
                    "after",
                    "is past the newest change: not a cursor of the change feed",
                ));
            }
            let start = start.unwrap_or(newest);
            let form = SubscriptionInsertForm {
                id: uuid::Uuid::new_v4().to_string(),
                owner_client: principal.claims.sub.clone(),
                url: b.url,
                resource_types: names(&b.resource_types),
                unit_code: b.unit.map(|u| u.to_string()),
                secret,
                start,
                kind: Kind::Webhook,
                active: true,
            };
            Ok(store::create(conn, &principal.actor(), &form)?)
        })
        .await?;
    let mut res = HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/subscriptions/{}", row.id),
        ))
        .insert_header((header::ETAG, etag(row.version)))
        .json(SubscriptionWithSecret {
            subscription: row.into(),
            secret: shown,
        });
    res.extensions_mut().insert(SecretBearing);
    Ok(res)
}

/// Get a subscription
///
/// With how its delivery stands: the cursor delivered up to, the failing batch's attempts and
/// last error.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id", example = "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90")),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionView, headers(("ETag" = String))),
        (status = 404, description = "No such subscription among the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write"]))
)]
#[get("/subscriptions/{id}")]
pub async fn get_subscription(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    let id = id.into_inner();
    let row = state.run(move |conn| owned(conn, &principal, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(SubscriptionView::from(row)))
}

/// Change a subscription
///
/// Its URL, kinds, unit or secret; pause it (`active: false`: changes wait, none is lost) or
/// resume it. A new URL or secret also needs `changes:read`, since it decides who receives the
/// changes. Audited.
#[utoipa::path(
    tag = "webhooks",
    request_body = SubscriptionPatch,
    params(
        ("id" = String, Path, description = "Subscription id", example = "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed subscription", body = SubscriptionView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such subscription among the caller's", body = Problem, content_type = PROBLEM),
        (status = 409, description = "It is the relay to the national portal (set with PUT /portal-relays/{unit})", body = Problem, content_type = PROBLEM),
        (status = 412, description = "It changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A bad URL, kind or secret, or a unit outside the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write"]))
)]
#[patch("/subscriptions/{id}")]
pub async fn patch_subscription(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: ValidJson<SubscriptionPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    let b = body.0;
    if b.url.is_some() || b.secret.is_some() {
        // Where a subscription's changes go decides who reads them: a client acting for every
        // unit could otherwise point another client's subscription at itself and read what
        // `changes:read` guards.
        principal.require(Scope::ChangesRead)?;
    }
    let expected = if_match(&req)?;
    let id = id.into_inner();
    let private_networks = state.config.webhooks.private_networks;
    let row = state
        .run(move |conn| {
            if owned(conn, &principal, &id)?.kind() == Kind::Portal {
                return Err(ApiError::Conflict(InvalidParam::new(
                    "id",
                    "is the relay to the national portal: change it with PUT /portal-relays/{unit}",
                )));
            }
            check(
                conn,
                &principal,
                b.url.as_deref(),
                b.resource_types.as_deref(),
                b.unit.as_ref().and_then(Option::as_ref),
                b.secret.as_deref(),
                private_networks,
            )?;
            let form = SubscriptionUpdateForm {
                url: b.url,
                resource_types: b.resource_types.as_deref().map(names),
                unit_code: b.unit.map(|u| u.map(|c| c.to_string())),
                active: b.active,
                secret: b.secret,
                owner_client: None,
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
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(SubscriptionView::from(row)))
}

/// Delete a subscription
///
/// Nothing more is delivered (a batch being sent at this moment may still arrive); its dead
/// letters go with it. The relay to the national portal also needs `relay:admin`. Audited.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id", example = "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The token lacks subscriptions:write, or relay:admin for the relay to the national portal", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such subscription among the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write"]))
)]
#[delete("/subscriptions/{id}")]
pub async fn delete_subscription(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    let id = id.into_inner();
    state
        .run(move |conn| {
            // The relay to the national portal is set by a relay administrator alone, and so
            // ended: a client holding subscriptions:write for every unit may not stop it.
            if owned(conn, &principal, &id)?.kind() == Kind::Portal {
                principal.require(Scope::RelayAdmin)?;
            }
            Ok(store::delete(conn, &principal.actor(), &id)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a subscription's dead letters
///
/// The batches given up on after their last retry, oldest first, with the error of their last
/// attempt and whether they were delivered again.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "Subscription id", example = "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90"),
        SubscriptionListQuery,
    ),
    responses(
        (status = 200, description = "A page of dead letters, oldest first", body = Page<DeadLetterView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such subscription among the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write"]))
)]
#[get("/subscriptions/{id}/dead-letters")]
pub async fn list_dead_letters(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: ValidQuery<SubscriptionListQuery>,
) -> Result<web::Json<Page<DeadLetterView>>, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    let id = id.into_inner();
    let limit = query.0.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let after = match query.0.cursor.as_deref().map(decode_cursor).transpose()? {
        None => None,
        Some(key) => Some(key.parse::<i64>().map_err(|_| ApiError::unknown_cursor())?),
    };
    let rows = state
        .run(move |conn| {
            owned(conn, &principal, &id)?;
            Ok(store::dead_letters(conn, &id, after, limit + 1)?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.id.to_string(),
        DeadLetterView::from,
    )))
}

/// The dead letter `letter` of subscription `id`, when the caller may see it.
fn letter_of(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    letter: i64,
) -> Result<(SubscriptionRow, DeadLetterRow), ApiError> {
    let sub = owned(conn, principal, id)?;
    let row = store::find_dead_letter(conn, id, letter)?.ok_or_else(|| {
        ApiError::NotFound(format!("no dead letter {letter} of subscription {id:?}"))
    })?;
    Ok((sub, row))
}

/// Read a dead letter's content
///
/// The body its delivery carried (as it would be sent again now: the changes its range holds
/// that the owner may still read). Needs `changes:read` too, as the changes themselves do.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "Subscription id", example = "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90"),
        ("letter" = i64, Path, description = "Dead letter id", example = 7),
    ),
    responses(
        (status = 200, description = "The delivery's body", body = WebhookDelivery),
        (status = 404, description = "No such subscription among the caller's, or no such dead letter", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Nothing may be delivered to it now (its owner is disabled or its unit is gone)", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write", "changes:read"]))
)]
#[get("/subscriptions/{id}/dead-letters/{letter}")]
pub async fn get_dead_letter(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, i64)>,
) -> Result<web::Json<WebhookDelivery>, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    // The changes themselves, as `GET /changes` lists them.
    principal.require(Scope::ChangesRead)?;
    let (id, letter) = path.into_inner();
    let body = state
        .run(move |conn| {
            let (sub, letter) = letter_of(conn, &principal, &id, letter)?;
            let reading = Reading::of(conn, &sub)?.map_err(|reason| {
                ApiError::Conflict(InvalidParam::new(
                    "subscription",
                    format!("nothing may be delivered to it now: {reason}"),
                ))
            })?;
            let (from, to): (Position, Position) = letter.range();
            Ok(WebhookDelivery {
                id: delivery_id(&sub.id, from),
                subscription: sub.id,
                redelivery: true,
                changes: reading
                    .read(conn, from, to)?
                    .into_iter()
                    .map(Change::from)
                    .collect(),
            })
        })
        .await?;
    Ok(web::Json(body))
}

/// Deliver a dead letter again
///
/// Queues the batch: the deliverer sends it (with `redelivery: true`) before the
/// subscription's next batch, once; queued again while it is being sent, it is sent once more
/// after. Its state tells how that went. Audited.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "Subscription id", example = "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90"),
        ("letter" = i64, Path, description = "Dead letter id", example = 7),
    ),
    responses(
        (status = 202, description = "Queued", body = DeadLetterView),
        (status = 404, description = "No such subscription among the caller's, or no such dead letter", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["subscriptions:write"]))
)]
#[post("/subscriptions/{id}/dead-letters/{letter}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::SubscriptionsWrite)?;
    let (id, letter) = path.into_inner();
    let row = state
        .run(move |conn| {
            letter_of(conn, &principal, &id, letter)?;
            Ok(store::queue_dead_letter(
                conn,
                &principal.actor(),
                &id,
                letter,
            )?)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(DeadLetterView::from(row)))
}
