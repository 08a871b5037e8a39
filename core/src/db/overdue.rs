//! The overdue stock of a unit's subtree at an instant, from the records as they stood: the
//! received dossiers open at that instant and late by then (`late_from` before it, which the
//! events up to that instant decide; `dossier::timing`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use super::schema::dossiers;
use super::timestamp::Stamp;
use super::union_all::load_all;
use super::{DbConnection, StoreResult};

type Db = <DbConnection as Connection>::Backend;

/// Open and overdue dossiers of a subtree at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock {
    /// The instant.
    pub at: NaiveDateTime,
    /// Received dossiers not ended by then.
    pub open: i64,
    /// Of those, the ones late by then.
    pub overdue: i64,
}

/// The stock of the subtree under `path` at `at`.
pub fn stock_at(conn: &mut DbConnection, path: &str, at: NaiveDateTime) -> StoreResult<Stock> {
    let prefix = format!("{path}%");
    // In two disjoint parts, each a range of one index on PostgreSQL: those still open (the
    // open dossiers' receipt index) and those ended since `at` (the index by end). As one
    // condition, `ended_at IS NULL OR ended_at > at`, no index served it, and PostgreSQL read
    // the whole table (187 ms at 1,000,000 dossiers, for each point of a series). The parts
    // are read on one snapshot (`load_all`): a dossier ending meanwhile is not counted twice.
    let open = dossiers::table
        .filter(dossiers::ended_at.is_null())
        .into_boxed();
    let ended_since = dossiers::table
        .filter(dossiers::ended_at.gt(Stamp(at)))
        .into_boxed();
    let parts = [open, ended_since].map(|rows| open_at(conn, rows, &prefix, at));
    let counts: Vec<(i64, Option<i64>)> = load_all(conn, parts)?;
    let (open, overdue) = counts
        .into_iter()
        .fold((0, 0), |(open, overdue), (n, late)| {
            (open + n, overdue + late.unwrap_or(0))
        });
    Ok(Stock { at, open, overdue })
}

/// Of the counted dossiers of the subtree `prefix` that `rows` selects, those received by `at`:
/// how many, and how many of them were late by then.
fn open_at(
    conn: &DbConnection,
    rows: dossiers::BoxedQuery<'static, Db>,
    prefix: &str,
    at: NaiveDateTime,
) -> dossiers::BoxedQuery<'static, Db, (BigInt, Nullable<BigInt>)> {
    use diesel::dsl::{case_when, count_star, sum};
    let late = dossiers::late_from.lt(Stamp(at));
    rows.filter(super::subtree_by_time(conn, prefix))
        .filter(super::scores::counted())
        .filter(dossiers::received_at.le(Stamp(at)))
        .select((
            count_star(),
            sum(case_when::<_, _, diesel::sql_types::Integer>(late, 1).otherwise(0)),
        ))
}
