//! The deliverer every instance runs: it takes subscriptions that have changes waiting (a lease
//! in the database, so one instance at a time serves each), sends their next batch, and records
//! the outcome. A batch is fixed before its first attempt and resent unchanged until the
//! receiver takes it or its attempts run out (then it becomes a dead letter and the cursor moves
//! past it). An instance stopped in the middle loses nothing: its lease runs out and another
//! instance, or the same one started again, sends the batch again.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta, Utc};
use tthc_core::db::audit::Actor;
use tthc_core::db::changes::{self, ChangeFilter, ChangeRow, Position};
use tthc_core::db::dossiers::{self, Dossier, RelayOutcome};
use tthc_core::db::subscriptions::{self as store, Attempt, DeadLetterRow, Kind, SubscriptionRow};
use tthc_core::db::{Database, DbConnection, StoreError, clients, units};
use tthc_core::dossier::Status;
use tthc_core::dossier::portal_sync::{self, Outgoing, PortalDossier};
use tthc_core::unit::UnitScope;

use super::signature::sign;
use super::{WebhookDelivery, delivery_id};
use crate::auth::Scope;
use crate::config::WebhookConfig;
use crate::routes::changes::Change;

/// Changes per delivery at most.
pub const BATCH: i64 = 100;
/// Subscriptions one instance takes at once.
const CLAIMS: i64 = 16;
/// How long a subscription waits when nothing may be delivered (its owner is disabled).
const HELD_FOR: TimeDelta = TimeDelta::seconds(60);

/// One instance's deliverer.
pub struct Deliverer {
    db: Database,
    config: WebhookConfig,
    http: reqwest::Client,
    /// This instance, as lease owner.
    instance: String,
    /// The outbound proxies' hosts, read from the environment at start-up ([`proxy_hosts`]).
    proxies: Vec<String>,
}

/// What a subscription has to send, read before sending.
enum Plan {
    /// Nothing may be sent: hold it.
    Held(String),
    /// Send the queued dead letter (if any), then the next batch (when due).
    Send {
        letter: Option<(DeadLetterRow, Vec<ChangeRow>)>,
        batch: Option<(Position, Vec<ChangeRow>)>,
        reach: Box<Reach>,
    },
}

/// Where the records a subscription sends may lie now, as its plan read it: its owner's grant
/// and its unit's path.
type Reach = (UnitScope, Option<String>);

impl Deliverer {
    /// A deliverer over `db`.
    pub fn new(db: Database, config: WebhookConfig) -> Result<Self, String> {
        let mut http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tthc/", env!("CARGO_PKG_VERSION")));
        let proxies = proxy_hosts(|v| std::env::var(v).ok());
        if !config.private_networks {
            http = http.dns_resolver(PublicOnly {
                proxies: proxies.clone(),
            });
        }
        let http = http
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        Ok(Self {
            db,
            config,
            http,
            instance: uuid::Uuid::new_v4().to_string(),
            proxies,
        })
    }

    /// Runs until the runtime it was spawned on stops.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.tick().await {
                Ok(true) => {}
                Ok(false) => actix_web::rt::time::sleep(self.config.poll).await,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery");
                    actix_web::rt::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    /// Serves the subscriptions due now; `true` when one had more waiting than one batch.
    async fn tick(self: &Arc<Self>) -> Result<bool, String> {
        let lease = TimeDelta::from_std(self.config.lease()).map_err(|e| e.to_string())?;
        let instance = self.instance.clone();
        let (newest, claimed) = self
            .db(move |conn| {
                let newest = changes::newest(conn)?;
                Ok((
                    newest,
                    store::claim_due(conn, &instance, newest, lease, CLAIMS)?,
                ))
            })
            .await?;
        let tasks: Vec<_> = claimed
            .into_iter()
            .map(|sub| {
                let me = Arc::clone(self);
                actix_web::rt::spawn(async move { me.serve(sub, newest).await })
            })
            .collect();
        let mut more = false;
        for task in tasks {
            match task.await {
                Ok(Ok(m)) => more |= m,
                Ok(Err(e)) => tracing::warn!(error = %e, "webhook delivery"),
                Err(e) => tracing::warn!(error = %e, "webhook delivery task"),
            }
        }
        Ok(more)
    }

    /// Sends what subscription `sub` (held by this instance) has waiting.
    async fn serve(&self, sub: SubscriptionRow, newest: Position) -> Result<bool, String> {
        let plan = {
            let sub = sub.clone();
            self.db(move |conn| plan(conn, &sub, newest)).await?
        };
        let (id, instance) = (sub.id.clone(), self.instance.clone());
        let (letter, batch, reach) = match plan {
            Plan::Held(reason) => {
                tracing::info!(subscription = %id, %reason, "webhook held");
                self.db(move |conn| {
                    store::settle(
                        conn,
                        &id,
                        &instance,
                        &Attempt::Held {
                            error: reason,
                            retry_in: HELD_FOR,
                        },
                    )
                })
                .await?;
                return Ok(false);
            }
            Plan::Send {
                letter,
                batch,
                reach,
            } => (letter, batch, reach),
        };
        if let Some((letter, rows)) = letter {
            let (from, _) = letter.range();
            let outcome = match self
                .send(&sub, &delivery_id(&sub.id, from), true, rows, &reach)
                .await
            {
                Ok(outcome) => outcome,
                Err(lost) => return lost.end(&sub.id),
            };
            let instance = self.instance.clone();
            self.db(move |conn| {
                store::settle_dead_letter(conn, &instance, &letter, outcome.err().as_deref())
            })
            .await?;
        }
        let Some((end, rows)) = batch else {
            let (id, instance) = (sub.id.clone(), self.instance.clone());
            self.db(move |conn| store::release(conn, &id, &instance))
                .await?;
            return Ok(false);
        };
        let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let full = count >= BATCH;
        if rows.is_empty() {
            // Nothing after the cursor is for this subscription: move it on.
            self.settle(&sub, Attempt::Delivered { end, changes: 0 })
                .await?;
            return Ok(false);
        }
        if sub.batch_end().is_none() {
            let (id, instance) = (sub.id.clone(), self.instance.clone());
            if !self
                .db(move |conn| store::fix_batch(conn, &id, &instance, end))
                .await?
            {
                return Ok(false);
            }
        }
        let outcome = match self
            .send(
                &sub,
                &delivery_id(&sub.id, sub.cursor()),
                false,
                rows,
                &reach,
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(lost) => return lost.end(&sub.id),
        };
        let attempt = match outcome {
            Ok(()) => Attempt::Delivered {
                end,
                changes: count,
            },
            Err(error) => {
                let failures = u32::try_from(sub.failures).unwrap_or(0) + 1;
                match self.config.backoff.after(failures, rand::random::<f64>()) {
                    Some(wait) => Attempt::Failed {
                        error,
                        retry_in: TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX),
                    },
                    None => {
                        tracing::warn!(subscription = %sub.id, %error, "webhook batch dead-lettered");
                        Attempt::GaveUp {
                            error,
                            end,
                            changes: count,
                            attempts: i32::try_from(failures).unwrap_or(i32::MAX),
                        }
                    }
                }
            }
        };
        let delivered = matches!(attempt, Attempt::Delivered { .. });
        self.settle(&sub, attempt).await?;
        Ok(delivered && full)
    }

    async fn settle(&self, sub: &SubscriptionRow, attempt: Attempt) -> Result<bool, String> {
        let (id, instance) = (sub.id.clone(), self.instance.clone());
        self.db(move |conn| store::settle(conn, &id, &instance, &attempt))
            .await
    }

    /// Sends a batch where the subscription delivers: `Ok(Err)` says why it was not taken (by
    /// the receiver, or the database failing meanwhile: a failed attempt either way, retried
    /// after a back-off), `Err` that the lease was lost (nothing to record).
    async fn send(
        &self,
        sub: &SubscriptionRow,
        id: &str,
        redelivery: bool,
        rows: Vec<ChangeRow>,
        reach: &Reach,
    ) -> Result<Result<(), String>, LeaseLost> {
        match sub.kind() {
            Kind::Webhook => {
                let changes = rows.into_iter().map(Change::from).collect();
                if let Err(e) = self.keep_lease(sub).await? {
                    return Ok(Err(e));
                }
                Ok(self.post(sub, id, redelivery, changes).await)
            }
            Kind::Portal => self.relay(sub, rows, reach).await,
        }
    }

    /// Relays the dossiers a batch of changes names, as they are now, to the national portal:
    /// `DongBoHoSoMC` requests, one of those never synced (`isUpdating: false`) and one of the
    /// others, each attempt recorded on its dossiers.
    async fn relay(
        &self,
        sub: &SubscriptionRow,
        rows: Vec<ChangeRow>,
        reach: &Reach,
    ) -> Result<Result<(), String>, LeaseLost> {
        let mut codes: Vec<String> = Vec::new();
        for row in rows {
            if !codes.contains(&row.resource_id) {
                codes.push(row.resource_id);
            }
        }
        // Only the dossiers the relay may send now: those under its unit, by its owner's grant,
        // both as its plan read them. The feed keeps the path each change was made under, so a
        // dossier transferred, or whose unit moved, out of the relay's unit or its owner's grant
        // since would be sent, and written to, as it now is elsewhere (until 2026-12-07).
        let scope = match &reach.1 {
            None => reach.0.clone(),
            Some(within) => reach.0.narrowed_to(within),
        };
        let stored = self
            .db(move |conn| {
                let mut found = Vec::with_capacity(codes.len());
                for code in codes {
                    match dossiers::get(conn, &scope, &code) {
                        Ok(d) => found.push(d),
                        Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(found)
            })
            .await;
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) => return Ok(Err(e)),
        };
        let (new, synced): (Vec<Dossier>, Vec<Dossier>) =
            stored.into_iter().partition(|d| d.synced_at.is_none());
        let mut failure = None;
        for (updating, group) in [(false, new), (true, synced)] {
            if group.is_empty() {
                continue;
            }
            let data: Vec<PortalDossier> = group
                .iter()
                .map(|d| {
                    portal_sync::outgoing(&Outgoing {
                        code: &d.code,
                        procedure_code: &d.procedure_code,
                        unit: &d.unit,
                        channel: d.channel,
                        status: d.status,
                        received_at: d.received_at,
                        due_at: d.due_at,
                        effective_due_at: d.effective_due_at,
                        events: &d.events,
                        details: &d.details,
                    })
                })
                .collect();
            let body = serde_json::json!({
                "service": "DongBoHoSoMC", "isUpdating": updating, "data": data
            });
            if let Err(e) = self.keep_lease(sub).await? {
                return Ok(Err(e));
            }
            let answer = self.portal_post(sub, &body).await;
            let sent: Vec<(String, Option<Status>)> =
                group.iter().map(|d| (d.code.clone(), d.status)).collect();
            let answered = answer.clone();
            let (id, instance) = (sub.id.clone(), self.instance.clone());
            let recorded = self
                .db(move |conn| {
                    let outcome = match &answered {
                        Ok(()) => RelayOutcome::Accepted,
                        Err(why) => RelayOutcome::Refused(why),
                    };
                    dossiers::record_relay_attempt(
                        conn,
                        &relay_actor(),
                        (&id, &instance),
                        &sent,
                        outcome,
                    )
                })
                .await;
            match recorded {
                Ok(true) => {}
                // Taken over while this instance waited for the portal: the new holder sends
                // and records the dossiers as they are now.
                Ok(false) => return Err(LeaseLost),
                Err(e) => return Ok(Err(e)),
            }
            if let Err(why) = answer {
                failure = Some(why);
            }
        }
        Ok(failure.map_or(Ok(()), Err))
    }

    /// POSTs one request to the portal's sync service; `Ok` when it answers `error_code` 0.
    async fn portal_post(
        &self,
        sub: &SubscriptionRow,
        body: &serde_json::Value,
    ) -> Result<(), String> {
        if let Some(reason) = refused_target(&sub.url, self.config.private_networks, &self.proxies)
        {
            return Err(reason);
        }
        let answer = self
            .http
            .post(&sub.url)
            .header("session", &sub.secret)
            .json(body)
            .send()
            .await
            .map_err(|e| describe(e, self.config.timeout))?;
        let status = answer.status();
        let (bytes, whole) = read_at_most(answer, PORTAL_ANSWER_LIMIT)
            .await
            .map_err(|e| format!("reading the portal's answer: {}", e.without_url()))?;
        let text = String::from_utf8_lossy(&bytes);
        let short = quoted(&text);
        if !whole {
            return Err(format!(
                "the portal answered {status} with more than {PORTAL_ANSWER_LIMIT} bytes: {short}"
            ));
        }
        if !status.is_success() {
            return Err(format!("the portal answered {status}: {short}"));
        }
        let read: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| format!("the portal's answer is not JSON: {}", short.trim()))?;
        let code = match &read["error_code"] {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match code {
            Some(0) => Ok(()),
            Some(n) => Err(format!(
                "the portal answered error_code {n}: {}",
                quoted(read["message"].as_str().unwrap_or_default())
            )),
            None => Err(format!("the portal's answer has no error_code: {short}")),
        }
    }

    /// POSTs a batch, signed; `Err` says why the receiver did not take it.
    async fn post(
        &self,
        sub: &SubscriptionRow,
        id: &str,
        redelivery: bool,
        changes: Vec<Change>,
    ) -> Result<(), String> {
        let body = serde_json::to_vec(&WebhookDelivery {
            id: id.to_owned(),
            subscription: sub.id.clone(),
            redelivery,
            changes,
        })
        .map_err(|e| format!("encoding the delivery: {e}"))?;
        let timestamp = Utc::now().timestamp();
        let signature = sign(&sub.secret, id, timestamp, &body)
            .ok_or("the subscription's secret cannot sign (not whsec_…)")?;
        if let Some(reason) = refused_target(&sub.url, self.config.private_networks, &self.proxies)
        {
            return Err(reason);
        }
        let answer = self
            .http
            .post(&sub.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(e, self.config.timeout))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        // The start of the answer says enough, and a receiver streaming without end must not
        // fill the instance's memory (until 2026-12-07 the whole body was read).
        let (bytes, _) = read_at_most(answer, ERROR_ANSWER_LIMIT)
            .await
            .unwrap_or_default();
        Err(format!(
            "the receiver answered {status}: {}",
            quoted(&String::from_utf8_lossy(&bytes))
        ))
    }

    /// Renews this instance's lease of `sub` before a request (`store::renew`): `Err` when it
    /// is lost, `Ok(Err)` when the database failed to renew it.
    async fn keep_lease(&self, sub: &SubscriptionRow) -> Result<Result<(), String>, LeaseLost> {
        let lease = match TimeDelta::from_std(self.config.lease()) {
            Ok(lease) => lease,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let (id, instance) = (sub.id.clone(), self.instance.clone());
        match self
            .db(move |conn| store::renew(conn, &id, &instance, lease))
            .await
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => Err(LeaseLost),
            Err(e) => Ok(Err(format!("renewing the lease: {e}"))),
        }
    }

    /// Runs blocking database work on the runtime's blocking threads.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let db = self.db.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| format!("delivery task: {e}"))?
        .map_err(|e| e.to_string())
    }
}

/// An attempt stopped before a request: the subscription's lease is no longer this instance's
/// (another took it over, or the subscription was deleted). Nothing is recorded: the attempt is
/// the new holder's now.
struct LeaseLost;

impl LeaseLost {
    /// How `serve` ends on it.
    fn end(self, subscription: &str) -> Result<bool, String> {
        tracing::info!(
            %subscription,
            "the subscription's lease was lost (taken over by another instance, or the \
             subscription paused or deleted); this instance stopped sending"
        );
        Ok(false)
    }
}

/// Why a request got no answer, without the URL (it may carry a token).
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else if e.is_connect() {
        // Named when it is the refusal of a private address ([`PublicOnly`]), which the
        // subscriber can mend; other causes stay unnamed.
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            let why = c.to_string();
            if why.contains("no public address") {
                return format!("could not connect to the receiver: {why}");
            }
            cause = c.source();
        }
        "could not connect to the receiver".into()
    } else {
        format!("the request failed: {}", e.without_url())
    }
}

/// What a subscription's owner may receive now: the feed filtered by the subscription's kinds
/// and unit, within the owner's current grant.
pub struct Reading {
    scope: UnitScope,
    within: Option<String>,
    types: Vec<String>,
    exclude_client: Option<String>,
}

/// Who the relay records its attempts as; it leaves that client's changes out of what it sends.
pub const RELAY_CLIENT: &str = "portal-relay";

/// The relay, in the audit trail.
pub fn relay_actor() -> Actor {
    Actor {
        client_id: RELAY_CLIENT.into(),
        reason: Some("relay to the national portal".into()),
        ..Actor::default()
    }
}

impl Reading {
    /// What `sub`'s owner may receive, or why nothing may be delivered now (its owner is
    /// disabled, deleted or lost the scope, or its unit is gone).
    pub fn of(
        conn: &mut DbConnection,
        sub: &SubscriptionRow,
    ) -> Result<Result<Self, String>, StoreError> {
        let owner = clients::find_row(conn, &sub.owner_client)?;
        let Some(owner) = owner.filter(|c| !c.disabled) else {
            return Ok(Err(format!(
                "its client {} is disabled or deleted",
                sub.owner_client
            )));
        };
        // A webhook shows the feed to its owner; the relay is the owner's setting.
        let needed = match sub.kind() {
            Kind::Webhook => Scope::ChangesRead,
            Kind::Portal => Scope::RelayAdmin,
        };
        if !owner
            .scopes
            .split_whitespace()
            .any(|s| s == needed.as_str())
        {
            return Ok(Err(format!(
                "its client {} no longer holds {}",
                sub.owner_client,
                needed.as_str()
            )));
        }
        let scope = if owner.all_units {
            UnitScope::All
        } else {
            let codes: Vec<String> = owner.units.split_whitespace().map(str::to_owned).collect();
            UnitScope::Within(units::paths_of(conn, &codes)?)
        };
        let within = match &sub.unit_code {
            None => None,
            Some(code) => match units::find_row(conn, code)? {
                Some(unit) => Some(unit.path),
                None => return Ok(Err(format!("its unit {code} no longer exists"))),
            },
        };
        let portal = sub.kind() == Kind::Portal;
        Ok(Ok(Self {
            scope,
            within,
            // The relay sends dossiers, and not again for its own records of its attempts.
            types: if portal {
                vec!["dossier".to_owned()]
            } else {
                sub.types()
            },
            exclude_client: portal.then(|| RELAY_CLIENT.to_owned()),
        }))
    }

    /// How many changes after `after` wait, and when the oldest was made (UTC).
    pub fn waiting(
        &self,
        conn: &mut DbConnection,
        after: Position,
    ) -> Result<(i64, Option<NaiveDateTime>), StoreError> {
        let filter = ChangeFilter {
            after,
            until: None,
            resource_types: self.types.clone(),
            within: self.within.clone(),
            scope: self.scope.clone(),
            exclude_client: self.exclude_client.clone(),
            limit: 1,
        };
        let oldest = changes::list(conn, &filter)?.first().map(|c| c.at);
        let count = if oldest.is_some() {
            changes::count(conn, &filter)?
        } else {
            0
        };
        Ok((count, oldest))
    }

    /// The changes after `after` up to `until`, at most one batch.
    pub fn read(
        &self,
        conn: &mut DbConnection,
        after: Position,
        until: Position,
    ) -> Result<Vec<ChangeRow>, StoreError> {
        changes::list(
            conn,
            &ChangeFilter {
                after,
                until: Some(until),
                resource_types: self.types.clone(),
                within: self.within.clone(),
                scope: self.scope.clone(),
                exclude_client: self.exclude_client.clone(),
                limit: BATCH,
            },
        )
    }
}

/// What subscription `sub` has to send now.
fn plan(
    conn: &mut DbConnection,
    sub: &SubscriptionRow,
    newest: Position,
) -> Result<Plan, StoreError> {
    let reading = match Reading::of(conn, sub)? {
        Ok(reading) => reading,
        Err(reason) => return Ok(Plan::Held(reason)),
    };
    let letter = match store::queued_dead_letters(conn, &sub.id)?
        .into_iter()
        .next()
    {
        Some(letter) => {
            let (from, to) = letter.range();
            let rows = reading.read(conn, from, to)?;
            Some((letter, rows))
        }
        None => None,
    };
    let now: NaiveDateTime = tthc_core::db::database_now(conn)?;
    let batch = if sub.next_attempt_at > now {
        None
    } else if let Some(end) = sub.batch_end() {
        Some((end, reading.read(conn, sub.cursor(), end)?))
    } else if sub.cursor() < newest {
        let rows = reading.read(conn, sub.cursor(), newest)?;
        // A full batch ends at its last change; a short one saw everything up to `newest`.
        let end = match rows.last() {
            Some(last) if i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH => last.position(),
            _ => newest,
        };
        Some((end, rows))
    } else {
        None
    };
    Ok(Plan::Send {
        letter,
        batch,
        reach: Box::new((reading.scope, reading.within)),
    })
}

/// Sets the delivery gauges of `metrics` from every active subscription: the changes it has not
/// delivered yet and the age of the oldest (the relay's are its sync queue).
pub fn measure_lag(
    conn: &mut DbConnection,
    metrics: &crate::middleware::Metrics,
) -> Result<(), StoreError> {
    let now: NaiveDateTime = tthc_core::db::database_now(conn)?;
    metrics.delivery_lag.reset();
    metrics.delivery_waiting.reset();
    for sub in store::list(conn, None, None, 10_000)? {
        if !sub.active {
            continue;
        }
        let Ok(reading) = Reading::of(conn, &sub)? else {
            continue;
        };
        let (count, oldest) = reading.waiting(conn, sub.cursor())?;
        let labels = [sub.id.as_str(), sub.kind().as_str()];
        let age = oldest.map_or(0.0, |at| (now - at).as_seconds_f64().max(0.0));
        metrics.delivery_lag.with_label_values(&labels).set(age);
        metrics
            .delivery_waiting
            .with_label_values(&labels)
            .set(count);
    }
    Ok(())
}

/// The first 200 characters of a remote answer, trimmed, without control characters: it is
/// stored as the error of a subscription, a dead letter and dossiers, and PostgreSQL's text
/// refuses a NUL (a receiver answering one stopped its subscription's record of every attempt).
/// Resolves the names deliveries go to, keeping only public addresses
/// ([`super::non_public`]): a name a client points at the service's own host or network is
/// refused when it is sent to, whatever it resolved to when the URL was set. The outbound
/// proxies' own names are resolved as they are (a proxy is often on the private network);
/// the names a proxy carries are resolved by the proxy, which must refuse private ones.
pub struct PublicOnly {
    /// The hosts of the outbound proxies the environment names ([`proxy_hosts`]).
    pub proxies: Vec<String>,
}

/// The hosts of the outbound proxies the environment names (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, either case), as `lookup` reads the variables.
pub fn proxy_hosts(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let value = value.trim();
        let url = if value.contains("://") {
            value.to_owned()
        } else {
            format!("http://{value}")
        };
        if let Some(host) = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
    }
    hosts
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let proxy = self.proxies.contains(&host.to_ascii_lowercase());
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> = found
                .into_iter()
                .filter(|a| proxy || !super::non_public(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (TTHC_WEBHOOK_PRIVATE_NETWORKS=allow \
                     permits others)"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why `url` may not be sent to now, when private networks are denied: its host is written as
/// an address outside the public internet, or names this machine or the outbound proxy (a URL
/// set before they were denied, or through the database). A name is checked as it is resolved ([`PublicOnly`]).
fn refused_target(url: &str, private_networks: bool, proxies: &[String]) -> Option<String> {
    if private_networks {
        return None;
    }
    let u = reqwest::Url::parse(url).ok()?;
    super::private_host(&u, proxies).map(|reason| format!("the URL {reason}"))
}

/// How much of a refusing receiver's answer is read: its start, of which 200 characters are
/// kept.
const ERROR_ANSWER_LIMIT: usize = 1024;

/// The longest answer of the portal's sync service read: it acknowledges a batch in a few
/// hundred bytes.
const PORTAL_ANSWER_LIMIT: usize = 1 << 20;

/// The first `limit` bytes of `answer`'s body, and whether that is all of it. Reads no further:
/// the rest is dropped with the connection.
async fn read_at_most(
    mut answer: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = answer.chunk().await? {
        let room = limit - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, false));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, true))
}

fn quoted(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}
