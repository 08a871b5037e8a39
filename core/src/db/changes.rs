//! The change feed: every write, in commit order, read from the audit log that each write appends
//! to in its own transaction (so a change is in the feed exactly when it is stored).
//!
//! Rows are ordered by (writing transaction, sequence). On PostgreSQL, where writers commit
//! concurrently, only rows of transactions older than every transaction still running are
//! returned: none can be followed later by a row sorting before it, so a reader that keeps the
//! last position it saw never misses a change (migration 000019). SQLite writes one transaction
//! at a time, and its sequence alone is the commit order.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::schema::audit_log;
use super::{DbConnection, StoreResult};
use crate::unit::UnitScope;

type Db = <DbConnection as Connection>::Backend;

/// A position in the feed: the writing transaction and the sequence number of the last change
/// read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The writing transaction (0 on SQLite).
    pub txid: i64,
    /// The sequence number.
    pub id: i64,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct ChangeRow {
    /// The writing transaction.
    pub txid: i64,
    /// The sequence number.
    pub id: i64,
    /// When (UTC).
    pub at: NaiveDateTime,
    /// What was done (`create`, `update`, `delete` …).
    pub action: String,
    /// The kind of record (`dossier`, `petition`, `unit` …).
    pub resource_type: String,
    /// The record's code or id.
    pub resource_id: String,
    /// The tree path of the unit it concerns; none for the whole service.
    pub unit_path: Option<String>,
}

impl ChangeRow {
    /// The feed's position just after this change.
    pub fn position(&self) -> Position {
        Position {
            txid: self.txid,
            id: self.id,
        }
    }
}

/// What to read of the feed.
#[derive(Debug, Clone)]
pub struct ChangeFilter {
    /// Read the changes after this position.
    pub after: Position,
    /// And up to this one, included (none: to the newest).
    pub until: Option<Position>,
    /// Only these kinds of record (none: every kind).
    pub resource_types: Vec<String>,
    /// Only changes of records of this subtree (a unit's tree path).
    pub within: Option<String>,
    /// The caller's units: a unit-limited caller reads the changes of its units only, never
    /// those of the whole service.
    pub scope: UnitScope,
    /// Leave out the changes this client made (the relay's own records of its attempts).
    pub exclude_client: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// The newest position a reader may see now (the start when the feed is empty). Every change up
/// to it is visible, and stays so: a change that becomes visible later sorts after it.
pub fn newest(conn: &mut DbConnection) -> StoreResult<Position> {
    let mut q = audit_log::table
        .select((audit_log::txid, audit_log::id))
        .order((audit_log::txid.desc(), audit_log::id.desc()))
        .limit(1)
        .into_boxed::<Db>();
    if let DbConnection::Pg(_) = conn {
        q = q.filter(diesel::dsl::sql::<Bool>(VISIBLE_ON_POSTGRES));
    }
    Ok(q.first::<(i64, i64)>(conn)
        .optional()?
        .map(|(txid, id)| Position { txid, id })
        .unwrap_or_default())
}

/// A condition on the feed's rows.
type Condition = Box<dyn BoxableExpression<audit_log::table, Db, SqlType = Bool>>;

/// The rows after `after`, up to `until`, that a reader may see now. The backend-specific part
/// of the feed: on SQLite every row's transaction is 0 and the sequence alone orders it (a
/// range of the primary key); on PostgreSQL the (transaction, sequence) pair does, compared as
/// a row value so that the index serves it, and rows of transactions still running, or that
/// may yet be followed by older ones, are held back.
fn range(conn: &DbConnection, after: Position, until: Option<Position>) -> Condition {
    match conn {
        DbConnection::Sqlite(_) => match until {
            None => Box::new(audit_log::id.gt(after.id)),
            Some(u) => Box::new(audit_log::id.gt(after.id).and(audit_log::id.le(u.id))),
        },
        DbConnection::Pg(_) => {
            let after = diesel::dsl::sql::<Bool>("(txid, id) > (")
                .bind::<BigInt, _>(after.txid)
                .sql(", ")
                .bind::<BigInt, _>(after.id)
                .sql(") AND ")
                .sql(VISIBLE_ON_POSTGRES);
            match until {
                None => Box::new(after),
                Some(u) => Box::new(
                    after.and(
                        diesel::dsl::sql::<Bool>("(txid, id) <= (")
                            .bind::<BigInt, _>(u.txid)
                            .sql(", ")
                            .bind::<BigInt, _>(u.id)
                            .sql(")"),
                    ),
                ),
            }
        }
    }
}

/// Rows of transactions older than every one still running (PostgreSQL only).
const VISIBLE_ON_POSTGRES: &str = "txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// The changes `filter` selects, in no order and without its limit.
fn matching(conn: &mut DbConnection, filter: &ChangeFilter) -> audit_log::BoxedQuery<'static, Db> {
    let mut q = audit_log::table
        .filter(range(conn, filter.after, filter.until))
        .into_boxed::<Db>();
    if !filter.resource_types.is_empty() {
        q = q.filter(audit_log::resource_type.eq_any(filter.resource_types.clone()));
    }
    if let Some(path) = &filter.within {
        q = q.filter(
            audit_log::unit_path
                .assume_not_null()
                .like(format!("{}%", super::encode::escape_like(path)))
                .escape('\\'),
        );
    }
    if let Some(within) = super::audit::within_scope(&filter.scope) {
        q = q.filter(within);
    }
    if let Some(client) = &filter.exclude_client {
        q = q.filter(audit_log::client_id.ne(client.clone()));
    }
    q
}

/// The changes after `filter.after`, oldest first.
pub fn list(conn: &mut DbConnection, filter: &ChangeFilter) -> StoreResult<Vec<ChangeRow>> {
    let q = matching(conn, filter)
        .select(ChangeRow::as_select())
        .limit(filter.limit);
    let q = match conn {
        DbConnection::Sqlite(_) => q.order(audit_log::id.asc()),
        DbConnection::Pg(_) => q.order((audit_log::txid.asc(), audit_log::id.asc())),
    };
    Ok(q.load(conn)?)
}

/// How many changes `filter` selects (its limit aside).
pub fn count(conn: &mut DbConnection, filter: &ChangeFilter) -> StoreResult<i64> {
    Ok(matching(conn, filter).count().get_result(conn)?)
}

/// Changes waiting in one unit: how many records, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The unit's tree path.
    pub unit_path: String,
    /// Distinct records with a change waiting.
    pub records: i64,
    /// The oldest change waiting (UTC).
    pub oldest: NaiveDateTime,
}

/// The records of one kind, by unit, with changes after `after` (up to `until`) in the subtree
/// `within`, leaving out those `exclude_client` made: what a subscription still has to deliver.
pub fn waiting_by_unit(
    conn: &mut DbConnection,
    resource_type: &str,
    within: &str,
    after: Position,
    until: Option<Position>,
    exclude_client: &str,
) -> StoreResult<Vec<Waiting>> {
    use diesel::dsl::min;
    let q = audit_log::table
        .filter(range(conn, after, until))
        .filter(audit_log::resource_type.eq(resource_type.to_owned()))
        .filter(audit_log::client_id.ne(exclude_client.to_owned()))
        .filter(
            audit_log::unit_path
                .assume_not_null()
                .like(format!("{}%", super::encode::escape_like(within)))
                .escape('\\'),
        )
        .group_by(audit_log::unit_path)
        .select((
            audit_log::unit_path.assume_not_null(),
            diesel::dsl::count(audit_log::resource_id).aggregate_distinct(),
            min(audit_log::at),
        ))
        .into_boxed::<Db>();
    Ok(q.load::<(String, i64, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(unit_path, records, oldest)| {
            Some(Waiting {
                unit_path,
                records,
                oldest: oldest?,
            })
        })
        .collect())
}
