//! The overdue stock of a unit's subtree at an instant, from the records as they stood: the
//! received dossiers open at that instant and late by then (`late_from` before it, which the
//! events up to that instant decide; `dossier::timing`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::dossiers;
use super::timestamp::Stamp;
use super::{DbConnection, StoreResult};

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
    use diesel::dsl::{case_when, count_star, sum};
    let prefix = format!("{path}%");
    let late = dossiers::late_from.lt(Stamp(at));
    let (open, overdue): (i64, Option<i64>) = dossiers::table
        .filter(super::subtree_by_time(conn, &prefix))
        .filter(super::scores::counted())
        .filter(dossiers::received_at.le(Stamp(at)))
        .filter(
            dossiers::ended_at
                .is_null()
                .or(dossiers::ended_at.gt(Stamp(at))),
        )
        .select((
            count_star(),
            sum(case_when::<_, _, diesel::sql_types::Integer>(late, 1).otherwise(0)),
        ))
        .first(conn)?;
    Ok(Stock {
        at,
        open,
        overdue: overdue.unwrap_or(0),
    })
}
