//! `/api/v1/portal-relays/{unit}`: the relay of a province's dossiers to the national portal's
//! sync service, and its queue.

use actix_web::http::header;
use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::db::changes::{self as feed, Waiting};
use tthc_core::db::subscriptions::{
    self as store, Kind, SubscriptionInsertForm, SubscriptionRow, SubscriptionUpdateForm,
};
use tthc_core::db::{DbConnection, StoreError, units};
use tthc_core::unit::UnitCode;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::{ValidJson, etag};
use crate::state::AppState;
use crate::webhooks::deliverer::RELAY_CLIENT;

use crate::error::PROBLEM_JSON as PROBLEM;

/// The relay of a unit's dossiers to the national portal.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://dichvucong.gov.vn/api/sync", "session": "f3b2c1d0-portal-session", "active": true
}))]
pub struct RelayPut {
    /// The portal's sync service (`DongBoHoSoMC` is POSTed there): an `http` or `https` URL.
    #[validate(length(min = 8, max = 2000))]
    #[schema(min_length = 8, max_length = 2000, format = Uri)]
    pub url: String,
    /// The session token the portal's login gave, sent as the `session` header: no control
    /// character (a line break cannot be sent in a header).
    #[validate(length(min = 1, max = 2000), custom(function = "header_value"))]
    #[schema(min_length = 1, max_length = 2000, pattern = r"^[^\x00-\x1F\x7F]*$")]
    pub session: String,
    /// Relay (`true`, the default) or hold the queue.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Refuses a session no header can carry (the JSON body's own check lets tab, line feed and
/// carriage return through): every delivery would fail to be built.
fn header_value(session: &str) -> Result<(), validator::ValidationError> {
    if session.chars().any(|c| c.is_ascii_control()) {
        let mut e = validator::ValidationError::new("header");
        e.message = Some("must hold no control character (it is sent as a header value)".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// One unit's part of the relay's queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueRow {
    /// The unit.
    pub unit: String,
    /// Dossiers with a change not yet taken by the portal.
    pub waiting: i64,
    /// Of those, the dossiers of the batch being retried (its last attempt failed).
    pub failing: i64,
    /// The oldest change waiting.
    pub oldest_at: DateTime<Utc>,
    /// Its age, in seconds.
    pub oldest_age_seconds: i64,
}

/// The relay and how it stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "unit": "000.00.00.H12", "url": "https://dichvucong.gov.vn/api/sync", "active": true,
    "subscription": "portal-relay.000.00.00.H12", "delivered": 1042, "failures": 2,
    "lastError": "the portal answered error_code -1: Hệ thống đang bảo trì",
    "lastSuccessAt": "2026-12-03T02:44:00Z", "nextAttemptAt": "2026-12-03T02:45:00Z",
    "deadLetters": 0, "waiting": 3, "failing": 1,
    "queue": [{"unit": "000.21.30.H12", "waiting": 3, "failing": 1,
               "oldestAt": "2026-12-03T02:43:00Z", "oldestAgeSeconds": 95}],
    "version": 3
}))]
pub struct RelayView {
    /// The unit whose dossiers (and those of the units below it) are relayed.
    pub unit: String,
    /// The portal's sync service.
    pub url: String,
    /// Relaying, or held.
    pub active: bool,
    /// The subscription that carries it: its dead letters are at
    /// `/subscriptions/{subscription}/dead-letters`.
    pub subscription: String,
    /// Changes relayed so far.
    pub delivered: i64,
    /// Failed attempts of the batch being retried.
    pub failures: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The last batch the portal took.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The next attempt is not made before this.
    pub next_attempt_at: DateTime<Utc>,
    /// Batches given up on after their last retry, not delivered since.
    pub dead_letters: i64,
    /// Dossiers waiting, in all.
    pub waiting: i64,
    /// Dossiers of the batch being retried.
    pub failing: i64,
    /// The waiting dossiers by unit, oldest first.
    pub queue: Vec<QueueRow>,
    /// Version, also the `ETag`.
    pub version: i64,
}

fn relay_id(unit: &str) -> String {
    format!("portal-relay.{unit}")
}

/// The unit's tree path, when the caller may act for it.
fn unit_path(
    conn: &mut DbConnection,
    principal: &Principal,
    unit: &UnitCode,
) -> Result<String, ApiError> {
    let scope = principal.unit_scope(conn)?;
    units::find_row(conn, unit.as_str())?
        .filter(|u| scope.allows(&u.path))
        .map(|u| u.path)
        .ok_or_else(|| ApiError::NotFound(format!("no unit {unit}")))
}

fn view(conn: &mut DbConnection, sub: SubscriptionRow, path: &str) -> Result<RelayView, ApiError> {
    let now = Utc::now();
    let waiting = feed::waiting_by_unit(conn, "dossier", path, sub.cursor(), None, RELAY_CLIENT)?;
    let failing = match sub.batch_end().filter(|_| sub.failures > 0) {
        Some(end) => {
            feed::waiting_by_unit(conn, "dossier", path, sub.cursor(), Some(end), RELAY_CLIENT)?
        }
        None => Vec::new(),
    };
    let dead_letters = store::count_dead(conn, &sub.id)?;
    let mut queue: Vec<QueueRow> = waiting
        .iter()
        .map(|w: &Waiting| {
            let oldest = w.oldest.and_utc();
            QueueRow {
                unit: w
                    .unit_path
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                waiting: w.records,
                failing: failing
                    .iter()
                    .find(|f| f.unit_path == w.unit_path)
                    .map_or(0, |f| f.records),
                oldest_at: oldest,
                oldest_age_seconds: (now - oldest).num_seconds().max(0),
            }
        })
        .collect();
    queue.sort_by_key(|q| q.oldest_at);
    Ok(RelayView {
        unit: sub.unit_code.clone().unwrap_or_default(),
        url: sub.url.clone(),
        active: sub.active,
        subscription: sub.id.clone(),
        delivered: sub.delivered,
        failures: sub.failures,
        last_error: sub.last_error.clone(),
        last_success_at: sub.last_success_at.map(|t| t.and_utc()),
        next_attempt_at: sub.next_attempt_at.and_utc(),
        dead_letters,
        waiting: queue.iter().map(|q| q.waiting).sum(),
        failing: queue.iter().map(|q| q.failing).sum(),
        queue,
        version: sub.version,
    })
}

/// Relay a unit's dossiers to the national portal
///
/// From now on, every change to a dossier of the unit or of a unit below it sends the dossier,
/// as tthc holds it then, to the portal's sync service in its own dialect (`DongBoHoSoMC`,
/// `isUpdating` false until the portal first took it), in the order of the change feed, in
/// batches of up to 100, with the retries, back-off and dead letters of webhooks. Each attempt
/// is recorded on its dossiers: taken, the status sent becomes the dossier's `sync`; refused,
/// the portal's answer becomes its `syncError`. A change of an existing relay (URL, session,
/// held or not) keeps its queue. Relays do not nest: a unit above or below one with a relay
/// gets none (409), since the portal would receive their dossiers twice. Audited (without the
/// session).
#[utoipa::path(
    tag = "dossiers",
    request_body = RelayPut,
    params(("unit" = String, Path, description = "The province (or any unit) whose dossiers are relayed", example = "000.00.00.H12")),
    responses(
        (status = 200, description = "The relay, changed", body = RelayView, headers(("ETag" = String))),
        (status = 201, description = "The relay, set up", body = RelayView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "The token lacks relay:admin, or is a person's console session (a relay belongs to an API client)", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A unit above or below it has a relay", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The URL is not an http or https URL", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["relay:admin"]))
)]
#[put("/portal-relays/{unit}")]
pub async fn put_relay(
    state: web::Data<AppState>,
    principal: Principal,
    unit: web::Path<UnitCode>,
    body: ValidJson<RelayPut>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::RelayAdmin)?;
    principal.require_client("a relay")?;
    let unit = unit.into_inner();
    let b = body.0;
    let private_networks = state.config.webhooks.private_networks;
    let (created, view) = state
        .run(move |conn| {
            let path = unit_path(conn, &principal, &unit)?;
            if let Some(reason) = crate::webhooks::url_problem(&b.url, private_networks) {
                return Err(ApiError::rules(vec![InvalidParam::new("url", reason)]));
            }
            let id = relay_id(unit.as_str());
            let actor = principal.actor();
            let created = match store::find_row(conn, &id)? {
                None => {
                    let form = SubscriptionInsertForm {
                        id: id.clone(),
                        owner_client: principal.claims.sub.clone(),
                        url: b.url.clone(),
                        resource_types: vec!["dossier".into()],
                        unit_code: Some(unit.to_string()),
                        secret: b.session.clone(),
                        start: feed::newest(conn)?,
                        kind: Kind::Portal,
                        // Created held, not paused after: an instance could take it between.
                        active: b.active,
                    };
                    match store::create_relay(conn, &actor, &form, &path) {
                        Ok(sub) => Some(sub),
                        // Another request created it since the read (a retry of a PUT that
                        // timed out): this one sets it, as a PUT of an existing relay does.
                        Err(StoreError::Conflict(p)) if p.name == "id" => None,
                        Err(e) => return Err(e.into()),
                    }
                }
                Some(_) => None,
            };
            let (created, sub) = match created {
                Some(sub) => (true, sub),
                None => {
                    // Whoever sets where the dossiers go owns the relay: its grant governs what
                    // is sent from then on (until 2026-12-07 the creator's did, so a client that
                    // pointed the relay at its server kept receiving after losing the unit).
                    let form = SubscriptionUpdateForm {
                        url: Some(b.url),
                        secret: Some(b.session),
                        active: Some(b.active),
                        owner_client: Some(principal.claims.sub.clone()),
                        ..SubscriptionUpdateForm::default()
                    };
                    (false, store::update(conn, &actor, &id, &form, None)?)
                }
            };
            Ok((created, view(conn, sub, &path)?))
        })
        .await?;
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res
        .insert_header((header::ETAG, etag(view.version)))
        .json(view))
}

/// See a relay and its queue
///
/// The dossiers waiting for the portal by unit (how many, how many failing, the oldest's
/// age), the last error and the dead letters.
#[utoipa::path(
    tag = "dossiers",
    params(("unit" = String, Path, description = "The unit whose dossiers are relayed", example = "000.00.00.H12")),
    responses(
        (status = 200, description = "The relay and its queue", body = RelayView, headers(("ETag" = String))),
        (status = 404, description = "No relay for that unit among the caller's", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["relay:admin"]))
)]
#[get("/portal-relays/{unit}")]
pub async fn get_relay(
    state: web::Data<AppState>,
    principal: Principal,
    unit: web::Path<UnitCode>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::RelayAdmin)?;
    let unit = unit.into_inner();
    let view = state
        .run(move |conn| {
            let path = unit_path(conn, &principal, &unit)?;
            let sub = store::find_row(conn, &relay_id(unit.as_str()))?
                .ok_or_else(|| ApiError::NotFound(format!("no relay for unit {unit}")))?;
            view(conn, sub, &path)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.version)))
        .json(view))
}
