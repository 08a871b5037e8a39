//! Answers to POST requests sent with an `Idempotency-Key`, so that a client retrying on a flaky
//! link gets the first answer again instead of a second effect.

use std::cell::RefCell;

use chrono::TimeDelta;
use diesel::dsl::{Eq, Filter, Find, IsNull};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::idempotency_keys as keys;
use super::{DbConnection, StoreResult, write_tx};

/// How long a key is remembered.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);

/// How long a claimed key stays in flight without an answer. A request that has not answered
/// by then died with its instance (a crash, a restart): its key may be claimed again, so that
/// the client can deliver the same request. No request runs this long: a bulk batch of the
/// largest size is stored in seconds.
pub const LEASE: TimeDelta = TimeDelta::minutes(2);

/// A stored key: request hash, status, media type, body, when it was claimed, whether its
/// request took effect.
type KeyRow = (
    String,
    Option<i32>,
    Option<String>,
    Option<Vec<u8>>,
    chrono::NaiveDateTime,
    bool,
);

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or taken over from a request that died): answer the request, then
    /// [`complete`] (or [`release`] on failure) with this lease.
    New(Lease),
    /// The same request was answered before: send this answer again.
    Replay(StoredAnswer),
    /// The first request with this key is still being answered.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// A request's hold on a key: the instant it claimed it. A request that outlives its
/// [`LEASE`] may find its key taken over by a retry; its answer is then not kept, nor is the
/// key released under the retry, which still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    claimed: chrono::NaiveDateTime,
}

impl Lease {
    /// The mark that the write transactions of the request holding `key` of `client` under
    /// this lease set, while [`with_mark`] runs them.
    pub fn mark(&self, client: &str, key: &str) -> Mark {
        Mark {
            client: client.to_owned(),
            key: key.to_owned(),
            lease: self.clone(),
        }
    }
}

/// A request's key, marked as having taken effect by the write transactions it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    client: String,
    key: String,
    lease: Lease,
}

thread_local! {
    /// The mark of the request whose database work runs on this thread now.
    static MARK: RefCell<Option<Mark>> = const { RefCell::new(None) };
}

/// Puts back the mark a [`with_mark`] found, however it ends (a pooled thread runs other
/// requests' work next).
struct Restore(Option<Mark>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        MARK.with(|m| *m.borrow_mut() = previous);
    }
}

/// Runs `f` with `mark` set: every write transaction ([`super::write_tx`]) committed meanwhile
/// on this thread marks the key as having taken effect, in the same transaction, so that the
/// mark is stored if and only if the write is.
pub fn with_mark<T>(mark: Option<Mark>, f: impl FnOnce() -> T) -> T {
    let _restore = Restore(MARK.with(|m| m.replace(mark)));
    f()
}

/// Rows changed so far, or whether the transaction took an id, as the backend tells.
#[derive(diesel::QueryableByName)]
struct Written {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn written(conn: &mut DbConnection) -> StoreResult<i64> {
    let query = match conn {
        // The rows this connection changed since it opened.
        DbConnection::Sqlite(_) => "SELECT total_changes() AS n",
        // Whether this transaction wrote: an id is assigned at its first write.
        DbConnection::Pg(_) => {
            "SELECT CAST(txid_current_if_assigned() IS NOT NULL AS integer)::bigint AS n"
        }
    };
    Ok(diesel::sql_query(query).get_result::<Written>(conn)?.n)
}

/// Where a write transaction of a request holding a key started, to tell at its end whether
/// it wrote; `None` for the other requests' (read before the transaction's work).
pub(super) fn start(conn: &mut DbConnection) -> StoreResult<Option<i64>> {
    if MARK.with(|m| m.borrow().is_none()) {
        return Ok(None);
    }
    Ok(Some(match conn {
        DbConnection::Sqlite(_) => written(conn)?,
        DbConnection::Pg(_) => 0,
    }))
}

/// Marks the key of the request running on this thread as having taken effect, when the write
/// transaction that began at `start` wrote something: called by [`super::write_tx`] before it
/// commits. One that wrote nothing (a duplicate, a refusal judged inside a write transaction)
/// marks nothing, nor does a lease lost meanwhile.
pub(super) fn mark_took_effect(conn: &mut DbConnection, start: Option<i64>) -> StoreResult<()> {
    let (Some(before), Some(mark)) = (start, MARK.with(|m| m.borrow().clone())) else {
        return Ok(());
    };
    if written(conn)? <= before {
        return Ok(());
    }
    diesel::update(held(&mark.client, &mark.key, &mark.lease))
        .set(keys::took_effect.eq(true))
        .execute(conn)?;
    Ok(())
}

/// An answer kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status.
    pub status: u16,
    /// Media type.
    pub content_type: Option<String>,
    /// Body.
    pub body: Vec<u8>,
}

/// Claims `key` of `client` for a request whose hash is `request_hash`, forgetting keys older
/// than [`RETENTION`] on the way. Safe across instances: the key is the primary key, so of two
/// instances claiming it at once one sees [`Claim::InFlight`].
///
/// A key whose request died unanswered after its write committed (its instance stopped, or
/// its key could not be released) is not claimed again: `if_took_effect` is kept as its
/// answer and replayed, so that the retry does not write a second time.
pub fn claim(
    conn: &mut DbConnection,
    client: &str,
    key: &str,
    request_hash: &str,
    if_took_effect: &StoredAnswer,
) -> StoreResult<Claim> {
    write_tx(conn, |conn| {
        // The database's clock: instances whose clocks differ judge one lease alike.
        let now = super::database_now(conn)?;
        diesel::delete(keys::table.filter(keys::created_at.lt(now - RETENTION))).execute(conn)?;
        let found: Option<KeyRow> = keys::table
            .find((client, key))
            .select((
                keys::request_hash,
                keys::status,
                keys::content_type,
                keys::body,
                keys::created_at,
                keys::took_effect,
            ))
            .first(conn)
            .optional()?;
        Ok(match found {
            Some((hash, _, _, _, _, _)) if hash != request_hash => Claim::Mismatch,
            Some((_, Some(status), content_type, body, _, _)) => Claim::Replay(StoredAnswer {
                status: u16::try_from(status).unwrap_or(500),
                content_type,
                body: body.unwrap_or_default(),
            }),
            Some((_, None, _, _, claimed, true)) if claimed < now - LEASE => {
                // It died after its write: its retry is told so, once and for all.
                let kept = diesel::update(held(client, key, &Lease { claimed }))
                    .set((
                        keys::status.eq(i32::from(if_took_effect.status)),
                        keys::content_type.eq(if_took_effect.content_type.as_deref()),
                        keys::body.eq(&if_took_effect.body),
                    ))
                    .execute(conn)?;
                if kept == 1 {
                    Claim::Replay(if_took_effect.clone())
                } else {
                    Claim::InFlight
                }
            }
            Some((_, None, _, _, claimed, false)) if claimed < now - LEASE => {
                // The request holding it died unanswered: this one takes the key over. Of two
                // instances doing so at once, one updates the row, the other finds it renewed.
                let renewed = diesel::update(
                    keys::table
                        .find((client, key))
                        .filter(keys::status.is_null())
                        .filter(keys::created_at.eq(claimed)),
                )
                .set(keys::created_at.eq(now))
                .execute(conn)?;
                if renewed == 1 {
                    Claim::New(Lease { claimed: now })
                } else {
                    Claim::InFlight
                }
            }
            Some((_, None, _, _, _, _)) => Claim::InFlight,
            None => {
                let inserted = diesel::insert_into(keys::table)
                    .values((
                        keys::client_id.eq(client),
                        keys::idem_key.eq(key),
                        keys::request_hash.eq(request_hash),
                        keys::created_at.eq(now),
                    ))
                    .execute(conn);
                match inserted {
                    Ok(_) => Claim::New(Lease { claimed: now }),
                    // Another instance claimed it between our read and our insert.
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                        Claim::InFlight
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        })
    })
}

/// The query of [`held`].
type Held<'a> = Filter<
    Filter<Find<keys::table, (&'a str, &'a str)>, IsNull<keys::status>>,
    Eq<keys::created_at, chrono::NaiveDateTime>,
>;

/// The key `key` of `client` while `lease` still holds it: claimed at the lease's instant and
/// not yet answered.
fn held<'a>(client: &'a str, key: &'a str, lease: &Lease) -> Held<'a> {
    keys::table
        .find((client, key))
        .filter(keys::status.is_null())
        .filter(keys::created_at.eq(lease.claimed))
}

/// Keeps the answer to a key claimed with `lease` for replay. Returns `false`, keeping
/// nothing, when the lease was lost: the key was taken over by a retry after [`LEASE`], whose
/// answer will be kept instead.
pub fn complete(
    conn: &mut DbConnection,
    client: &str,
    key: &str,
    lease: &Lease,
    answer: &StoredAnswer,
) -> StoreResult<bool> {
    write_tx(conn, |conn| {
        let kept = diesel::update(held(client, key, lease))
            .set((
                keys::status.eq(i32::from(answer.status)),
                keys::content_type.eq(answer.content_type.as_deref()),
                keys::body.eq(&answer.body),
            ))
            .execute(conn)?;
        Ok(kept == 1)
    })
}

/// What [`release`] did with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Forgotten: a retry runs again.
    Forgotten,
    /// The request took effect (a write transaction of it committed), so the key keeps the
    /// answer given for that case, and a retry gets it instead of making the write again.
    TookEffect,
    /// The lease was lost to a retry still running: nothing was done.
    LeaseLost,
}

/// Lets go of a key claimed with `lease` whose answer is not kept: a failure a retry may
/// fix (a 5xx, a refusal the stored records decide), or an answer carrying a secret.
///
/// `if_took_effect`, given for a request that failed to answer (a 5xx: the connection lost as
/// it committed, a failure after its write), is kept as the key's answer when a write
/// transaction of the request committed, so that a retry does not write again. Without it
/// (a refusal, which a retry is judged again for; an answer with a secret, never kept) the key
/// is forgotten whatever was written.
pub fn release(
    conn: &mut DbConnection,
    client: &str,
    key: &str,
    lease: &Lease,
    if_took_effect: Option<&StoredAnswer>,
) -> StoreResult<Released> {
    write_tx(conn, |conn| {
        if let Some(answer) = if_took_effect {
            // Waits, on PostgreSQL, for the row's lock while the request's own transaction is
            // still being ended by the server: its mark is then read as it ended.
            let kept = diesel::update(held(client, key, lease).filter(keys::took_effect))
                .set((
                    keys::status.eq(i32::from(answer.status)),
                    keys::content_type.eq(answer.content_type.as_deref()),
                    keys::body.eq(&answer.body),
                ))
                .execute(conn)?;
            if kept == 1 {
                return Ok(Released::TookEffect);
            }
        }
        let released = diesel::delete(held(client, key, lease)).execute(conn)?;
        Ok(if released == 1 {
            Released::Forgotten
        } else {
            Released::LeaseLost
        })
    })
}
