//! Closed months: every unit's 766 figures frozen as a snapshot that later data does not change.
//! Closing computes the figures of every unit first and then writes them in one transaction
//! whose first insert claims the month, so that two instances closing the same month at once
//! store one snapshot and the other is told the month is closed.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::schema::{closed_periods, score_snapshots, units};
use super::scores::{Count, figures};
use super::timestamp::Stamp;
use super::units::UnitRow;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::InvalidParam;
use crate::period::Period;
use crate::scoring::RuleSet;

/// A closed month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosedPeriod {
    /// The month.
    pub period: String,
    /// When it was closed (local time).
    pub closed_at: NaiveDateTime,
    /// The client (and end user) that closed it.
    pub closed_by: String,
    /// How many units have a snapshot.
    pub units: i64,
}

/// A unit's frozen figures for a closed month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The rule set they were scored by.
    pub rule_set: String,
    /// The figures, by indicator.
    pub figures: BTreeMap<String, Count>,
}

fn closed_row(
    conn: &mut DbConnection,
    period: &str,
) -> StoreResult<Option<(String, Stamp, String)>> {
    Ok(closed_periods::table
        .filter(closed_periods::period.eq(period))
        .select((
            closed_periods::period,
            closed_periods::closed_at,
            closed_periods::closed_by,
        ))
        .first(conn)
        .optional()?)
}

fn with_count(conn: &mut DbConnection, row: (String, Stamp, String)) -> StoreResult<ClosedPeriod> {
    let units: i64 = score_snapshots::table
        .filter(score_snapshots::period.eq(&row.0))
        .count()
        .get_result(conn)?;
    Ok(ClosedPeriod {
        period: row.0,
        closed_at: row.1.0,
        closed_by: row.2,
        units,
    })
}

/// The month `period` if it is closed.
pub fn closed(conn: &mut DbConnection, period: Period) -> StoreResult<Option<ClosedPeriod>> {
    closed_row(conn, &period.to_string())?
        .map(|row| with_count(conn, row))
        .transpose()
}

/// Every closed month, latest first.
pub fn list_closed(conn: &mut DbConnection) -> StoreResult<Vec<ClosedPeriod>> {
    let rows: Vec<(String, Stamp, String)> = closed_periods::table
        .order(closed_periods::period.desc())
        .select((
            closed_periods::period,
            closed_periods::closed_at,
            closed_periods::closed_by,
        ))
        .load(conn)?;
    rows.into_iter().map(|row| with_count(conn, row)).collect()
}

/// The snapshot of `unit` for `period`, if the month is closed and the unit existed then.
pub fn snapshot(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
) -> StoreResult<Option<Snapshot>> {
    let row: Option<(String, String)> = score_snapshots::table
        .filter(score_snapshots::period.eq(period.to_string()))
        .filter(score_snapshots::unit_id.eq(unit.id))
        .select((score_snapshots::rule_set, score_snapshots::figures))
        .first(conn)
        .optional()?;
    row.map(|(rule_set, figures)| {
        let figures = serde_json::from_str(&figures)
            .map_err(|e| StoreError::Setup(format!("snapshot of {}: {e}", unit.code)))?;
        Ok(Snapshot { rule_set, figures })
    })
    .transpose()
}

fn already_closed(period: &str, at: NaiveDateTime) -> StoreError {
    StoreError::Conflict(InvalidParam::new(
        "period",
        format!("{period} was closed at {at}; reopen it first"),
    ))
}

/// Closes the month `period` (over at `now`; checked by the caller): freezes the figures of every
/// unit, scored by `rule_set`. Audited.
pub fn close(
    conn: &mut DbConnection,
    actor: &Actor,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> StoreResult<ClosedPeriod> {
    let key = period.to_string();
    if let Some((_, at, _)) = closed_row(conn, &key)? {
        return Err(already_closed(&key, at.0));
    }
    // Every unit counted on one snapshot: counted statement by statement, a unit moved
    // meanwhile was counted under its old path (its subtree frozen at zero, or its dossiers in
    // two districts), and dossiers pushed meanwhile were in a department's figures and not in
    // its province's (until 2026-12-07).
    let frozen = super::read_tx(conn, |conn| {
        let all: Vec<UnitRow> = units::table
            .order(units::path.asc())
            .select(UnitRow::as_select())
            .load(conn)?;
        let mut frozen = Vec::with_capacity(all.len());
        for unit in &all {
            let counts = figures(conn, unit, period, now, &rule_set.counting)?;
            let json =
                serde_json::to_string(&counts).map_err(|e| StoreError::Setup(e.to_string()))?;
            frozen.push((unit.id, json));
        }
        Ok(frozen)
    })?;
    let closed_by = match &actor.end_user_name {
        Some(name) => format!("{} ({name})", actor.client_id),
        None => actor.client_id.clone(),
    };
    write_tx(conn, |conn| {
        // The rule set in force may have changed while the figures were counted (a `PUT` of
        // it, or another taking effect earlier): its writers hold this lock and refuse to
        // change a rule set that closed months were scored with.
        super::lock_record(conn, "rule_sets")?;
        let in_force = super::rule_sets::catalogue(conn)?.in_force(period.first_day());
        if in_force.as_deref() != Some(rule_set) {
            return Err(StoreError::Conflict(InvalidParam::new(
                "period",
                "the rule set in force for the month changed while it was being closed: close it again",
            )));
        }
        diesel::insert_into(closed_periods::table)
            .values((
                closed_periods::period.eq(&key),
                closed_periods::closed_at.eq(Stamp(now)),
                closed_periods::closed_by.eq(&closed_by),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(e, "period", "the month is closed already")
            })?;
        // One row at a time: the multi-backend connection has no batch insert.
        for (unit_id, json) in &frozen {
            diesel::insert_into(score_snapshots::table)
                .values((
                    score_snapshots::period.eq(&key),
                    score_snapshots::unit_id.eq(*unit_id),
                    score_snapshots::rule_set.eq(&rule_set.code),
                    score_snapshots::figures.eq(json),
                ))
                .execute(conn)?;
        }
        let closed = ClosedPeriod {
            period: key.clone(),
            closed_at: now,
            closed_by: closed_by.clone(),
            units: i64::try_from(frozen.len()).unwrap_or(i64::MAX),
        };
        audit::record(
            conn,
            actor,
            &Change {
                action: "close",
                resource_type: "period",
                resource_id: &key,
                before: None,
                after: Some(&closed),
            },
        )?;
        Ok(closed)
    })
}

/// Reopens the closed month `period`: its snapshots are dropped and its scores are live again.
/// Audited. Closed again by another writer since this reopening read the close: a conflict,
/// and nothing changes.
pub fn reopen(conn: &mut DbConnection, actor: &Actor, period: Period) -> StoreResult<()> {
    let key = period.to_string();
    write_tx(conn, |conn| {
        let Some(before) = closed(conn, period)? else {
            return Err(StoreError::NotFound {
                resource: "closed period",
                id: key.clone(),
            });
        };
        // Only the close that was read. On PostgreSQL another instance may have reopened the
        // month and closed it again since the read: undoing that close would record the one
        // read as undone. It waits here for a writer of the row, and is then the row's newest.
        let reopened = diesel::delete(
            closed_periods::table
                .filter(closed_periods::period.eq(&key))
                .filter(closed_periods::closed_at.eq(Stamp(before.closed_at))),
        )
        .execute(conn)?;
        if reopened == 0 {
            match closed_row(conn, &key)? {
                // Another reopening committed since the read: it is the one recorded.
                None => {
                    return Err(StoreError::NotFound {
                        resource: "closed period",
                        id: key.clone(),
                    });
                }
                // The close read, its instant stored in a form other than this version writes
                // (by hand, say), which SQLite compares as text: it is still the one to undo.
                Some((_, at, by)) if at.0 == before.closed_at && by == before.closed_by => {
                    diesel::delete(closed_periods::table.filter(closed_periods::period.eq(&key)))
                        .execute(conn)?;
                }
                Some(_) => {
                    return Err(StoreError::Conflict(InvalidParam::new(
                        "period",
                        "the month was closed again since this reopening read it; reopen it again",
                    )));
                }
            }
        }
        diesel::delete(score_snapshots::table.filter(score_snapshots::period.eq(&key)))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "reopen",
                resource_type: "period",
                resource_id: &key,
                before: Some(&before),
                after: None,
            },
        )
    })
}
