//! Webhook subscriptions and their delivery state: each follows the change feed with a cursor
//! of its own. The deliverer of an instance takes a subscription for a while (a lease), sends
//! the next batch of changes after its cursor, and moves the cursor only when the receiver has
//! taken them: delivery is at least once, in feed order, and never by two instances at once.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::changes::Position;
use super::schema::{subscriptions, webhook_dead_letters};
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::version::Versions;

use super::database_now;

/// A stored subscription, with its secret and delivery state.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct SubscriptionRow {
    /// Id.
    pub id: String,
    /// The client that made it.
    pub owner_client: String,
    /// Where changes are POSTed.
    pub url: String,
    /// Space-separated kinds of record; empty for all.
    pub resource_types: String,
    /// Only this unit's subtree.
    pub unit_code: Option<String>,
    /// The signing secret.
    pub secret: String,
    /// Delivered or paused.
    pub active: bool,
    /// Delivered up to: transaction.
    pub cursor_txid: i64,
    /// Delivered up to: sequence.
    pub cursor_id: i64,
    /// End of the batch being tried: transaction.
    pub batch_end_txid: Option<i64>,
    /// End of the batch being tried: sequence.
    pub batch_end_id: Option<i64>,
    /// Failed attempts of that batch.
    pub failures: i32,
    /// Not tried before (UTC).
    pub next_attempt_at: NaiveDateTime,
    /// Last attempt (UTC).
    pub last_attempt_at: Option<NaiveDateTime>,
    /// Last accepted delivery (UTC).
    pub last_success_at: Option<NaiveDateTime>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Changes delivered.
    pub delivered: i64,
    /// The instance delivering it.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until: Option<NaiveDateTime>,
    /// Version.
    pub version: i64,
    /// Created at (UTC).
    pub created_at: NaiveDateTime,
    /// Updated at (UTC).
    pub updated_at: NaiveDateTime,
    /// `webhook` or `portal`.
    pub kind: String,
}

/// Where a subscription delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A receiver's URL, signed batches of changes.
    Webhook,
    /// The national portal's sync service: whole dossiers in its dialect (the relay).
    Portal,
}

impl Kind {
    /// Its name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Portal => "portal",
        }
    }
}

impl SubscriptionRow {
    /// Where it delivers.
    pub fn kind(&self) -> Kind {
        if self.kind == Kind::Portal.as_str() {
            Kind::Portal
        } else {
            Kind::Webhook
        }
    }

    /// The feed position delivered up to.
    pub fn cursor(&self) -> Position {
        Position {
            txid: self.cursor_txid,
            id: self.cursor_id,
        }
    }

    /// The end of the batch being tried, when one is.
    pub fn batch_end(&self) -> Option<Position> {
        Some(Position {
            txid: self.batch_end_txid?,
            id: self.batch_end_id?,
        })
    }

    /// The kinds of record it receives (empty: every kind).
    pub fn types(&self) -> Vec<String> {
        self.resource_types
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

/// A subscription as the service shows it, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Id.
    pub id: String,
    /// `webhook` or `portal`.
    pub kind: String,
    /// The client that made it.
    pub owner_client: String,
    /// Where changes are POSTed.
    pub url: String,
    /// Kinds of record (empty: every kind).
    pub resource_types: Vec<String>,
    /// Only this unit's subtree.
    pub unit: Option<String>,
    /// Delivered or paused.
    pub active: bool,
    /// Delivered up to.
    pub cursor: (i64, i64),
    /// Whether a batch is being tried.
    pub retrying: bool,
    /// Failed attempts of the batch being tried.
    pub failures: i32,
    /// Next attempt not before.
    pub next_attempt_at: DateTime<Utc>,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Last accepted delivery.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Changes delivered.
    pub delivered: i64,
    /// Version.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
}

impl From<SubscriptionRow> for Subscription {
    fn from(r: SubscriptionRow) -> Self {
        Self {
            resource_types: r.types(),
            retrying: r.batch_end().is_some() && r.failures > 0,
            cursor: (r.cursor_txid, r.cursor_id),
            id: r.id,
            kind: r.kind,
            owner_client: r.owner_client,
            url: r.url,
            unit: r.unit_code,
            active: r.active,
            failures: r.failures,
            next_attempt_at: r.next_attempt_at.and_utc(),
            last_attempt_at: r.last_attempt_at.map(|t| t.and_utc()),
            last_success_at: r.last_success_at.map(|t| t.and_utc()),
            last_error: r.last_error,
            delivered: r.delivered,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// What a new subscription is made of; the caller checked the URL, kinds and unit.
#[derive(Debug, Clone)]
pub struct SubscriptionInsertForm {
    /// Id.
    pub id: String,
    /// The client making it.
    pub owner_client: String,
    /// Where changes go.
    pub url: String,
    /// Kinds of record (empty: every kind).
    pub resource_types: Vec<String>,
    /// Only this unit's subtree.
    pub unit_code: Option<String>,
    /// The signing secret.
    pub secret: String,
    /// Deliver the changes after this position.
    pub start: Position,
    /// Where it delivers.
    pub kind: Kind,
    /// Whether it delivers from the start (a relay may be created held).
    pub active: bool,
}

/// A change to a subscription; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionUpdateForm {
    /// New URL.
    pub url: Option<String>,
    /// New kinds.
    pub resource_types: Option<Vec<String>>,
    /// New unit (`Some(None)`: every unit of the owner's grant).
    pub unit_code: Option<Option<String>>,
    /// Pause or resume; resuming also tries a waiting batch at once.
    pub active: Option<bool>,
    /// New secret.
    pub secret: Option<String>,
    /// New owner, whose grant and scopes govern what is delivered from then on.
    pub owner_client: Option<String>,
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        resource: "subscription",
        id: id.to_owned(),
    }
}

/// The row of subscription `id`.
pub fn find_row(conn: &mut DbConnection, id: &str) -> StoreResult<Option<SubscriptionRow>> {
    Ok(subscriptions::table
        .find(id)
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Subscription `id`.
pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<SubscriptionRow> {
    find_row(conn, id)?.ok_or_else(|| not_found(id))
}

/// Subscriptions ordered by id after `after`, of one owner or of all.
pub fn list(
    conn: &mut DbConnection,
    owner: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<SubscriptionRow>> {
    let mut q = subscriptions::table
        .select(SubscriptionRow::as_select())
        .order(subscriptions::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(owner) = owner {
        q = q.filter(subscriptions::owner_client.eq(owner.to_owned()));
    }
    if let Some(after) = after {
        q = q.filter(subscriptions::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?)
}

fn audited(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    id: &str,
    before: Option<&Subscription>,
    after: Option<&Subscription>,
) -> StoreResult<()> {
    audit::record(
        conn,
        actor,
        &Change {
            action,
            resource_type: "subscription",
            resource_id: id,
            before,
            after,
        },
    )
}

/// Creates a subscription.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &SubscriptionInsertForm,
) -> StoreResult<SubscriptionRow> {
    write_tx(conn, |conn| insert(conn, actor, form))
}

/// Creates the relay to the national portal `form` (of kind portal) for the unit at `path`,
/// unless a relay of a unit above or below it exists: the portal would receive those units'
/// dossiers from both, twice. Relays are created one at a time across instances (an advisory
/// lock), so two nested ones created at once are not both made.
pub fn create_relay(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &SubscriptionInsertForm,
    path: &str,
) -> StoreResult<SubscriptionRow> {
    use super::schema::units;
    write_tx(conn, |conn| {
        super::lock_record(conn, "portal-relays")?;
        let others: Vec<String> = subscriptions::table
            .filter(subscriptions::kind.eq(Kind::Portal.as_str()))
            .filter(subscriptions::id.ne(&form.id))
            .select(subscriptions::unit_code)
            .load::<Option<String>>(conn)?
            .into_iter()
            .flatten()
            .collect();
        let nested = units::table
            .filter(units::code.eq_any(others))
            .select(units::path)
            .load::<String>(conn)?
            .into_iter()
            .any(|other| {
                crate::unit::is_within(path, &other) || crate::unit::is_within(&other, path)
            });
        if nested {
            return Err(StoreError::Conflict(crate::InvalidParam::new(
                "unit",
                "a relay of a unit above or below it exists: the portal would receive their \
                 dossiers twice (end that relay first, or relay the units apart)",
            )));
        }
        insert(conn, actor, form)
    })
}

/// Inserts subscription `form`, audited, inside the caller's transaction.
fn insert(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &SubscriptionInsertForm,
) -> StoreResult<SubscriptionRow> {
    let now = super::now();
    diesel::insert_into(subscriptions::table)
        .values((
            subscriptions::id.eq(&form.id),
            subscriptions::owner_client.eq(&form.owner_client),
            subscriptions::url.eq(&form.url),
            subscriptions::resource_types.eq(form.resource_types.join(" ")),
            subscriptions::unit_code.eq(form.unit_code.as_deref()),
            subscriptions::secret.eq(&form.secret),
            subscriptions::active.eq(form.active),
            subscriptions::cursor_txid.eq(form.start.txid),
            subscriptions::cursor_id.eq(form.start.id),
            subscriptions::failures.eq(0),
            // Due at once by the clock `claim_due` reads.
            subscriptions::next_attempt_at.eq(database_now(conn)?),
            subscriptions::delivered.eq(0),
            subscriptions::version.eq(1),
            subscriptions::created_at.eq(now),
            subscriptions::updated_at.eq(now),
            subscriptions::kind.eq(form.kind.as_str()),
        ))
        .execute(conn)
        .map_err(|e| {
            StoreError::unique_as_conflict(e, "id", &format!("{} exists already", form.id))
        })?;
    let created = get(conn, &form.id)?;
    audited(
        conn,
        actor,
        "create",
        &form.id,
        None,
        Some(&created.clone().into()),
    )?;
    Ok(created)
}

/// Changes subscription `id`; with `expected`, refuses when it changed since.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    form: &SubscriptionUpdateForm,
    expected: Option<&Versions>,
) -> StoreResult<SubscriptionRow> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("subscription:{id}"))?;
        let row = get(conn, id)?;
        if let Some(expected) = expected
            && !expected.allows(row.version)
        {
            return Err(StoreError::VersionMismatch {
                current: row.version,
            });
        }
        let now = super::now();
        let resumed = form.active == Some(true) && !row.active;
        diesel::update(subscriptions::table.find(id))
            .set((
                subscriptions::url.eq(form.url.as_deref().unwrap_or(&row.url)),
                subscriptions::resource_types.eq(form
                    .resource_types
                    .as_ref()
                    .map_or(row.resource_types.clone(), |t| t.join(" "))),
                subscriptions::unit_code.eq(form
                    .unit_code
                    .clone()
                    .unwrap_or_else(|| row.unit_code.clone())),
                subscriptions::active.eq(form.active.unwrap_or(row.active)),
                subscriptions::secret.eq(form.secret.as_deref().unwrap_or(&row.secret)),
                subscriptions::owner_client
                    .eq(form.owner_client.as_deref().unwrap_or(&row.owner_client)),
                subscriptions::version.eq(row.version + 1),
                subscriptions::updated_at.eq(now),
            ))
            .execute(conn)?;
        // The delivery's schedule belongs to the instance delivering (a backoff it set since
        // the read stays), unless the change resumes delivery.
        if resumed {
            diesel::update(subscriptions::table.find(id))
                .set(subscriptions::next_attempt_at.eq(database_now(conn)?))
                .execute(conn)?;
            // A hold (a lease of no instance, `Attempt::Held`) ends with it too.
            diesel::update(
                subscriptions::table
                    .find(id)
                    .filter(subscriptions::lease_owner.is_null()),
            )
            .set(subscriptions::lease_until.eq(None::<NaiveDateTime>))
            .execute(conn)?;
        }
        let after = get(conn, id)?;
        let action = if form.secret.is_some() {
            "rotateSecret"
        } else {
            "update"
        };
        audited(
            conn,
            actor,
            action,
            id,
            Some(&row.into()),
            Some(&after.clone().into()),
        )?;
        Ok(after)
    })
}

/// What a subscription of a deleted client is owned by: no client id can be it (ids hold no
/// `:`), so a client created later with the same id does not inherit it.
fn disowned_by(client: &str) -> String {
    format!("deleted:{client}")
}

/// Leaves the subscriptions (and relays) of client `client`, deleted in the same transaction,
/// owned by no client: held from then on, as an owner disabled or gone holds them, listed to
/// the clients granted every unit, who may delete them (or, for a relay, make themselves its
/// owner by its `PUT`). Until 2026-12-07 they kept the id, and a client created later under it
/// took them over: their URLs, secrets and cursors, delivered under its own grant.
pub fn disown(conn: &mut DbConnection, actor: &Actor, client: &str) -> StoreResult<()> {
    let ids: Vec<String> = subscriptions::table
        .filter(subscriptions::owner_client.eq(client))
        .select(subscriptions::id)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(());
    }
    // As every writer of a subscription: one that read it before this transaction does not
    // write its old owner back over this one.
    let keys: Vec<String> = ids.iter().map(|id| format!("subscription:{id}")).collect();
    super::lock_each(conn, &keys)?;
    let owner = disowned_by(client);
    let now = super::now();
    for id in &ids {
        let Some(row) = find_row(conn, id)?.filter(|r| r.owner_client == client) else {
            continue;
        };
        diesel::update(subscriptions::table.find(id))
            .set((
                subscriptions::owner_client.eq(&owner),
                subscriptions::version.eq(row.version + 1),
                subscriptions::updated_at.eq(now),
            ))
            .execute(conn)?;
        let after = get(conn, id)?;
        audited(
            conn,
            actor,
            "update",
            id,
            Some(&row.into()),
            Some(&after.into()),
        )?;
    }
    Ok(())
}

/// Deletes subscription `id` with its dead letters.
pub fn delete(conn: &mut DbConnection, actor: &Actor, id: &str) -> StoreResult<()> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("subscription:{id}"))?;
        let before = get(conn, id)?;
        diesel::delete(
            webhook_dead_letters::table.filter(webhook_dead_letters::subscription_id.eq(id)),
        )
        .execute(conn)?;
        // Another deletion committed since the read: it is the one recorded.
        if diesel::delete(subscriptions::table.find(id)).execute(conn)? == 0 {
            return Err(not_found(id));
        }
        audited(conn, actor, "delete", id, Some(&before.into()), None)
    })
}

/// Takes, for `lease`, up to `max` subscriptions that have something to deliver: changes up to
/// `newest` after their cursor, a batch being retried, or a dead letter queued again. A
/// subscription another instance holds is left to it; taking one is a conditional update, so
/// two instances never both take it.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    newest: Position,
    lease: TimeDelta,
    max: i64,
) -> StoreResult<Vec<SubscriptionRow>> {
    use subscriptions::dsl as s;
    let now = database_now(conn)?;
    let free = s::lease_until.is_null().or(s::lease_until.lt(now));
    let behind = s::cursor_txid.lt(newest.txid).or(s::cursor_txid
        .eq(newest.txid)
        .and(s::cursor_id.lt(newest.id)));
    let queued = diesel::dsl::exists(
        webhook_dead_letters::table
            .filter(webhook_dead_letters::subscription_id.eq(s::id))
            .filter(webhook_dead_letters::state.eq(DeadLetterState::Queued.as_str())),
    );
    let candidates: Vec<String> = subscriptions::table
        .filter(s::active.eq(true))
        .filter(free)
        .filter(
            s::next_attempt_at
                .le(now)
                .and(behind.or(s::batch_end_id.is_not_null()))
                .or(queued),
        )
        .order(s::next_attempt_at.asc())
        .select(s::id)
        .limit(max)
        .load(conn)?;
    let until = now + lease;
    let mut taken = Vec::new();
    for id in candidates {
        // Still active: a pause answered since the candidates were read takes it off.
        let won = diesel::update(
            subscriptions::table
                .find(&id)
                .filter(free)
                .filter(s::active.eq(true)),
        )
        .set((s::lease_owner.eq(owner), s::lease_until.eq(until)))
        .execute(conn)?;
        if won == 1
            && let Some(row) = find_row(conn, &id)?
        {
            taken.push(row);
        }
    }
    Ok(taken)
}

/// Fixes the batch about to be tried (the changes after the cursor up to `end`), so that its
/// retries send the same changes. `false` when the lease was lost.
pub fn fix_batch(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    end: Position,
) -> StoreResult<bool> {
    use subscriptions::dsl as s;
    Ok(diesel::update(
        subscriptions::table
            .find(id)
            .filter(s::lease_owner.eq(owner)),
    )
    .set((s::batch_end_txid.eq(end.txid), s::batch_end_id.eq(end.id)))
    .execute(conn)?
        == 1)
}

/// How an attempt at a subscription's batch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The receiver took the batch ending at `end` (`changes` changes; none: nothing matched,
    /// the cursor only moves on).
    Delivered {
        /// The batch's end.
        end: Position,
        /// How many changes it held.
        changes: i64,
    },
    /// The receiver failed; try again after `retry_in`.
    Failed {
        /// Why.
        error: String,
        /// How long from now (the database's clock) to try again.
        retry_in: TimeDelta,
    },
    /// The receiver failed the last allowed time: the batch becomes a dead letter and the
    /// cursor moves past it.
    GaveUp {
        /// Why.
        error: String,
        /// The batch's end.
        end: Position,
        /// How many changes it held.
        changes: i64,
        /// Attempts made.
        attempts: i32,
    },
    /// Nothing may be delivered now (its owner is disabled): look again after `retry_in`.
    Held {
        /// Why.
        error: String,
        /// How long from now (the database's clock) to look again.
        retry_in: TimeDelta,
    },
}

/// Records how an attempt ended and gives the lease back. `false` (and nothing recorded) when
/// the lease was lost meanwhile: another instance holds the subscription and will send the
/// batch again, which at-least-once delivery allows.
pub fn settle(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    attempt: &Attempt,
) -> StoreResult<bool> {
    use subscriptions::dsl as s;
    write_tx(conn, |conn| {
        let Some(row) = find_row(conn, id)?.filter(|r| r.lease_owner.as_deref() == Some(owner))
        else {
            return Ok(false);
        };
        // The database's clock, which `claim_due` compares the next attempt with: an instance
        // whose own clock runs ahead or behind schedules no earlier or later for it.
        let now = database_now(conn)?;
        // A day at most: the backoff's cap is an hour, and no instant beyond it can overflow.
        let later = |wait: TimeDelta| now + wait.clamp(TimeDelta::zero(), TimeDelta::days(1));
        // Conditional on the lease still being ours: it may have expired since the read and
        // another instance taken the subscription (`claim_due`, one statement of its own).
        let target = subscriptions::table
            .find(id)
            .filter(s::lease_owner.eq(owner));
        let release = || {
            (
                s::lease_owner.eq(None::<String>),
                s::lease_until.eq(None::<NaiveDateTime>),
            )
        };
        // The cursor past the batch, which is done with (delivered, or given up on).
        let past = |end: &Position| {
            (
                release(),
                (
                    s::batch_end_txid.eq(None::<i64>),
                    s::batch_end_id.eq(None::<i64>),
                    s::failures.eq(0),
                ),
                s::cursor_txid.eq(end.txid),
                s::cursor_id.eq(end.id),
                s::next_attempt_at.eq(now),
            )
        };
        match attempt {
            Attempt::Delivered { end, changes } => {
                let settled = diesel::update(target)
                    .set((past(end), s::delivered.eq(s::delivered + *changes)))
                    .execute(conn)?;
                if settled == 1 && *changes > 0 {
                    diesel::update(subscriptions::table.find(id))
                        .set((
                            s::last_attempt_at.eq(now),
                            s::last_success_at.eq(now),
                            s::last_error.eq(None::<String>),
                        ))
                        .execute(conn)?;
                }
                Ok(settled == 1)
            }
            Attempt::Failed { error, retry_in } => Ok(diesel::update(target)
                .set((
                    release(),
                    s::failures.eq(s::failures + 1),
                    s::next_attempt_at.eq(later(*retry_in)),
                    s::last_attempt_at.eq(now),
                    s::last_error.eq(error),
                ))
                .execute(conn)?
                == 1),
            // Left leased, to no instance, until the hold ends: a queued dead letter makes a
            // subscription due whatever its next attempt (`claim_due`), and a held one would
            // otherwise be taken and held again at every poll.
            Attempt::Held { error, retry_in } => Ok(diesel::update(target)
                .set((
                    s::lease_owner.eq(None::<String>),
                    s::lease_until.eq(later(*retry_in)),
                    s::next_attempt_at.eq(later(*retry_in)),
                    s::last_error.eq(error),
                ))
                .execute(conn)?
                == 1),
            Attempt::GaveUp {
                error,
                end,
                changes,
                attempts,
            } => {
                let settled = diesel::update(target)
                    .set((
                        past(end),
                        s::last_attempt_at.eq(now),
                        s::last_error.eq(error),
                    ))
                    .execute(conn)?;
                if settled == 0 {
                    return Ok(false);
                }
                diesel::insert_into(webhook_dead_letters::table)
                    .values((
                        webhook_dead_letters::subscription_id.eq(id),
                        webhook_dead_letters::from_txid.eq(row.cursor_txid),
                        webhook_dead_letters::from_id.eq(row.cursor_id),
                        webhook_dead_letters::to_txid.eq(end.txid),
                        webhook_dead_letters::to_id.eq(end.id),
                        webhook_dead_letters::changes
                            .eq(i32::try_from(*changes).unwrap_or(i32::MAX)),
                        webhook_dead_letters::attempts.eq(attempts),
                        webhook_dead_letters::last_error.eq(error),
                        webhook_dead_letters::state.eq(DeadLetterState::Dead.as_str()),
                        webhook_dead_letters::created_at.eq(now),
                        webhook_dead_letters::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(true)
            }
        }
    })
}

/// Where a dead letter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterState {
    /// Given up on.
    Dead,
    /// To be delivered again.
    Queued,
    /// Delivered again.
    Delivered,
}

impl DeadLetterState {
    /// Its name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dead => "dead",
            Self::Queued => "queued",
            Self::Delivered => "delivered",
        }
    }
}

/// A batch given up on.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = webhook_dead_letters)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterRow {
    /// Id.
    pub id: i64,
    /// The subscription.
    pub subscription_id: String,
    /// Starts after: transaction.
    pub from_txid: i64,
    /// Starts after: sequence.
    pub from_id: i64,
    /// Ends at: transaction.
    pub to_txid: i64,
    /// Ends at: sequence.
    pub to_id: i64,
    /// Changes it holds.
    pub changes: i32,
    /// Attempts made.
    pub attempts: i32,
    /// Why the last failed.
    pub last_error: String,
    /// `dead`, `queued` or `delivered`.
    pub state: String,
    /// Created at (UTC).
    pub created_at: NaiveDateTime,
    /// Updated at (UTC).
    pub updated_at: NaiveDateTime,
}

impl DeadLetterRow {
    /// The range of the feed it holds: after the first position, up to the second.
    pub fn range(&self) -> (Position, Position) {
        (
            Position {
                txid: self.from_txid,
                id: self.from_id,
            },
            Position {
                txid: self.to_txid,
                id: self.to_id,
            },
        )
    }
}

/// The dead letters of subscription `id`, oldest first, after `after`.
pub fn dead_letters(
    conn: &mut DbConnection,
    id: &str,
    after: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<DeadLetterRow>> {
    let mut q = webhook_dead_letters::table
        .filter(webhook_dead_letters::subscription_id.eq(id.to_owned()))
        .select(DeadLetterRow::as_select())
        .order(webhook_dead_letters::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(webhook_dead_letters::id.gt(after));
    }
    Ok(q.load(conn)?)
}

/// Dead letter `letter` of subscription `id`.
pub fn find_dead_letter(
    conn: &mut DbConnection,
    id: &str,
    letter: i64,
) -> StoreResult<Option<DeadLetterRow>> {
    Ok(webhook_dead_letters::table
        .find(letter)
        .filter(webhook_dead_letters::subscription_id.eq(id))
        .select(DeadLetterRow::as_select())
        .first(conn)
        .optional()?)
}

/// How many dead letters of subscription `id` are given up on and not delivered since.
pub fn count_dead(conn: &mut DbConnection, id: &str) -> StoreResult<i64> {
    Ok(webhook_dead_letters::table
        .filter(webhook_dead_letters::subscription_id.eq(id))
        .filter(webhook_dead_letters::state.eq(DeadLetterState::Dead.as_str()))
        .count()
        .get_result(conn)?)
}

/// The dead letters of subscription `id` queued for delivery, oldest first.
pub fn queued_dead_letters(conn: &mut DbConnection, id: &str) -> StoreResult<Vec<DeadLetterRow>> {
    Ok(webhook_dead_letters::table
        .filter(webhook_dead_letters::subscription_id.eq(id))
        .filter(webhook_dead_letters::state.eq(DeadLetterState::Queued.as_str()))
        .select(DeadLetterRow::as_select())
        .order(webhook_dead_letters::id.asc())
        .load(conn)?)
}

/// Queues dead letter `letter` of subscription `id` to be delivered again (a dead letter, or
/// one delivered already and wanted once more). Audited.
pub fn queue_dead_letter(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    letter: i64,
) -> StoreResult<DeadLetterRow> {
    write_tx(conn, |conn| {
        let missing = || StoreError::NotFound {
            resource: "dead letter",
            id: letter.to_string(),
        };
        let before = find_dead_letter(conn, id, letter)?.ok_or_else(missing)?;
        diesel::update(webhook_dead_letters::table.find(letter))
            .set((
                webhook_dead_letters::state.eq(DeadLetterState::Queued.as_str()),
                webhook_dead_letters::updated_at.eq(super::now()),
            ))
            .execute(conn)?;
        // Gone when its subscription was deleted since the read.
        let after: DeadLetterRow = webhook_dead_letters::table
            .find(letter)
            .select(DeadLetterRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(missing)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "redeliver",
                resource_type: "subscription",
                resource_id: id,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

/// Records an attempt to deliver dead letter `letter` again: delivered, or back to dead with
/// the error; still queued when it was queued again since it was read. Only while holding its
/// subscription's lease.
pub fn settle_dead_letter(
    conn: &mut DbConnection,
    owner: &str,
    letter: &DeadLetterRow,
    error: Option<&str>,
) -> StoreResult<bool> {
    use subscriptions::dsl as s;
    write_tx(conn, |conn| {
        let held = subscriptions::table
            .find(&letter.subscription_id)
            .filter(s::lease_owner.eq(owner))
            .count()
            .get_result::<i64>(conn)?
            == 1;
        if !held {
            return Ok(false);
        }
        let state = match error {
            None => DeadLetterState::Delivered,
            Some(_) => DeadLetterState::Dead,
        };
        let last_error = error.unwrap_or(&letter.last_error);
        // Only the letter as it was read: queued again while it was being sent (its
        // `updated_at` moved), it was asked for after this attempt began, so it stays queued
        // and goes once more; the attempt still counts.
        let settled = diesel::update(
            webhook_dead_letters::table
                .find(letter.id)
                .filter(webhook_dead_letters::updated_at.eq(letter.updated_at)),
        )
        .set((
            webhook_dead_letters::state.eq(state.as_str()),
            webhook_dead_letters::attempts.eq(webhook_dead_letters::attempts + 1),
            webhook_dead_letters::last_error.eq(last_error),
            webhook_dead_letters::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
        if settled == 0 {
            diesel::update(webhook_dead_letters::table.find(letter.id))
                .set((
                    webhook_dead_letters::attempts.eq(webhook_dead_letters::attempts + 1),
                    webhook_dead_letters::last_error.eq(last_error),
                ))
                .execute(conn)?;
        }
        Ok(true)
    })
}

/// Extends the lease of subscription `id` to `lease` from now (the database's clock), while
/// `owner` still holds it and it is active; `false` when another instance has taken it since,
/// or it was paused or deleted. A deliverer renews before each request it makes, so that the lease covers one request and not a whole attempt
/// (the relay makes up to four, with writes between them): an instance that fell behind its
/// lease stops before sending, and two never send a subscription's changes at once. A lease
/// run out and not yet taken by another is still the owner's to renew.
pub fn renew(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    lease: TimeDelta,
) -> StoreResult<bool> {
    use subscriptions::dsl as s;
    let until = database_now(conn)? + lease;
    // A paused subscription is not renewed: its holder sends nothing more once the pause is
    // answered (only a request already on its way ends).
    Ok(diesel::update(
        subscriptions::table
            .find(id)
            .filter(s::lease_owner.eq(owner))
            .filter(s::active.eq(true)),
    )
    .set(s::lease_until.eq(until))
    .execute(conn)?
        == 1)
}

/// Whether `owner` still holds the lease of subscription `id`, and keeps it so until the
/// caller's transaction ends: a no-op update of the row, whose lock makes another instance's
/// takeover ([`claim_due`]) wait for the caller's commit. A lease run out and not yet taken is
/// still the owner's, as for [`renew`].
pub fn keep_lease_while(conn: &mut DbConnection, id: &str, owner: &str) -> StoreResult<bool> {
    use subscriptions::dsl as s;
    Ok(diesel::update(
        subscriptions::table
            .find(id)
            .filter(s::lease_owner.eq(owner)),
    )
    .set(s::lease_until.eq(s::lease_until))
    .execute(conn)?
        == 1)
}

/// Gives the lease of subscription `id` back without recording anything (there was nothing
/// due, only a dead letter sent again).
pub fn release(conn: &mut DbConnection, id: &str, owner: &str) -> StoreResult<()> {
    use subscriptions::dsl as s;
    diesel::update(
        subscriptions::table
            .find(id)
            .filter(s::lease_owner.eq(owner)),
    )
    .set((
        s::lease_owner.eq(None::<String>),
        s::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}
