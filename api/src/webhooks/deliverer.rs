//! The deliverer every instance runs: it takes subscriptions that have changes waiting (a lease
//! in the database, so one instance at a time serves each), sends their next batch, and records
//! the outcome. A batch is fixed before its first attempt and resent unchanged until the
//! receiver takes it or its attempts run out (then it becomes a dead letter and the cursor moves
//! past it). An instance stopped in the middle loses nothing: its lease runs out and another
//! instance, or the same one started again, sends the batch again.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta, Utc};
use tthc_core::db::changes::{self, ChangeFilter, ChangeRow, Position};
use tthc_core::db::subscriptions::{self as store, Attempt, DeadLetterRow, SubscriptionRow};
use tthc_core::db::{Database, DbConnection, StoreError, clients, units};
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
}

/// What a subscription has to send, read before sending.
enum Plan {
    /// Nothing may be sent: hold it.
    Held(String),
    /// Send the queued dead letter (if any), then the next batch (when due).
    Send {
        letter: Option<(DeadLetterRow, Vec<Change>)>,
        batch: Option<(Position, Vec<Change>)>,
    },
}

impl Deliverer {
    /// A deliverer over `db`.
    pub fn new(db: Database, config: WebhookConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tthc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        Ok(Self {
            db,
            config,
            http,
            instance: uuid::Uuid::new_v4().to_string(),
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
        let (letter, batch) = match plan {
            Plan::Held(reason) => {
                tracing::info!(subscription = %id, %reason, "webhook held");
                let retry_at = Utc::now().naive_utc() + HELD_FOR;
                self.db(move |conn| {
                    store::settle(
                        conn,
                        &id,
                        &instance,
                        &Attempt::Held {
                            error: reason,
                            retry_at,
                        },
                    )
                })
                .await?;
                return Ok(false);
            }
            Plan::Send { letter, batch } => (letter, batch),
        };
        if let Some((letter, rows)) = letter {
            let (from, _) = letter.range();
            let outcome = self
                .post(&sub, &delivery_id(&sub.id, from), true, rows)
                .await;
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
        let attempt = match self
            .post(&sub, &delivery_id(&sub.id, sub.cursor()), false, rows)
            .await
        {
            Ok(()) => Attempt::Delivered {
                end,
                changes: count,
            },
            Err(error) => {
                let failures = u32::try_from(sub.failures).unwrap_or(0) + 1;
                match self.config.backoff.after(failures, rand::random::<f64>()) {
                    Some(wait) => Attempt::Failed {
                        error,
                        retry_at: Utc::now().naive_utc()
                            + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX),
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
        let text = answer.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        Err(format!("the receiver answered {status}: {}", text.trim()))
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

/// Why a request got no answer, without the URL (it may carry a token).
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else if e.is_connect() {
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
        if !owner
            .scopes
            .split_whitespace()
            .any(|s| s == Scope::ChangesRead.as_str())
        {
            return Ok(Err(format!(
                "its client {} no longer holds {}",
                sub.owner_client,
                Scope::ChangesRead.as_str()
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
        Ok(Ok(Self {
            scope,
            within,
            types: sub.types(),
        }))
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
                limit: BATCH,
            },
        )
    }
}

fn views(rows: Vec<ChangeRow>) -> Vec<Change> {
    rows.into_iter().map(Change::from).collect()
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
            let rows = views(reading.read(conn, from, to)?);
            Some((letter, rows))
        }
        None => None,
    };
    let now: NaiveDateTime = store::database_now(conn)?;
    let batch = if sub.next_attempt_at > now {
        None
    } else if let Some(end) = sub.batch_end() {
        Some((end, views(reading.read(conn, sub.cursor(), end)?)))
    } else if sub.cursor() < newest {
        let rows = reading.read(conn, sub.cursor(), newest)?;
        // A full batch ends at its last change; a short one saw everything up to `newest`.
        let end = match rows.last() {
            Some(last) if i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH => last.position(),
            _ => newest,
        };
        Some((end, views(rows)))
    } else {
        None
    };
    Ok(Plan::Send { letter, batch })
}
