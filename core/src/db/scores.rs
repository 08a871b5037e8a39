//! The figures behind a unit's 766 score for a period: what tthc counts from its own records of
//! the unit's whole subtree, and what was entered by hand for what it cannot observe.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Change};
use super::schema::{dossiers, unit_figures};
use super::timestamp::Stamp;
use super::units::UnitRow;
use super::{DbConnection, StoreResult, write_tx};
use crate::period::Period;

type Db = <DbConnection as Connection>::Backend;

/// The indicators tthc counts from its dossiers.
pub const OBSERVED: [&str; 3] = [
    "ON_TIME_PROCESSING",
    "ONLINE_DOSSIER_SUBMISSION",
    "DOSSIER_SYNC",
];

/// Where an indicator's figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// Counted by tthc from its records.
    Observed,
    /// Entered by hand.
    Entered,
    /// tthc's count over a denominator entered by hand (e.g. the national reporting system's
    /// dossier count for `DOSSIER_SYNC`).
    ObservedOverEntered,
}

/// An indicator's numerator and denominator, and where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    /// Numerator.
    pub numerator: u64,
    /// Denominator.
    pub denominator: u64,
    /// Where they come from.
    pub source: Source,
}

/// A figure entered by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnteredFigure {
    /// The numerator; left out, tthc's own count is used (only for the indicators it observes).
    pub numerator: Option<u64>,
    /// The denominator.
    pub denominator: u64,
    /// Where the figure comes from (a report's number, say).
    pub note: Option<String>,
}

fn count(q: dossiers::BoxedQuery<'_, Db>, conn: &mut DbConnection) -> StoreResult<u64> {
    let n: i64 = q.count().get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// What tthc counts from the dossiers of `unit`'s subtree for `period`, judged at `now` when the
/// period is not over:
/// - `ON_TIME_PROCESSING`: dossiers received or processed in the period (received before its end
///   and not ended before its start); on time are those that ended in the period early or on
///   time, and those still open at its end (or now) within their due instant.
/// - `ONLINE_DOSSIER_SUBMISSION`: dossiers received in the period online, of all received.
/// - `DOSSIER_SYNC`: dossiers received or processed in the period that were synced to the
///   national portal, of all of them.
pub fn observe(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
) -> StoreResult<BTreeMap<&'static str, Count>> {
    let start = Stamp(period.start().naive_local());
    let end_instant = period.end().naive_local();
    let end = Stamp(end_instant);
    let judged = Stamp(end_instant.min(now));
    let prefix = format!("{}%", unit.path);
    let subtree = || {
        dossiers::table
            .filter(dossiers::unit_path.like(prefix.clone()))
            .into_boxed::<Db>()
    };
    let handled = || {
        subtree().filter(dossiers::received_at.lt(end)).filter(
            dossiers::ended_at
                .is_null()
                .or(dossiers::ended_at.ge(start)),
        )
    };
    let all = count(handled(), conn)?;
    let on_time = count(
        handled().filter(
            dossiers::ended_at
                .lt(end)
                .and(dossiers::timing.eq_any(["finishedEarly", "finishedOnTime"]))
                .or(dossiers::ended_at
                    .is_null()
                    .or(dossiers::ended_at.ge(end))
                    .and(
                        dossiers::effective_due_at
                            .is_null()
                            .or(dossiers::effective_due_at.ge(judged)),
                    )),
        ),
        conn,
    )?;
    let synced = count(handled().filter(dossiers::synced_at.is_not_null()), conn)?;
    let received = || {
        subtree()
            .filter(dossiers::received_at.ge(start))
            .filter(dossiers::received_at.lt(end))
    };
    let received_all = count(received(), conn)?;
    let online = count(received().filter(dossiers::channel.eq("online")), conn)?;
    let observed = |numerator, denominator| Count {
        numerator,
        denominator,
        source: Source::Observed,
    };
    Ok(BTreeMap::from([
        ("ON_TIME_PROCESSING", observed(on_time, all)),
        ("ONLINE_DOSSIER_SUBMISSION", observed(online, received_all)),
        ("DOSSIER_SYNC", observed(synced, all)),
    ]))
}

/// The figures entered for `unit` and `period`, by indicator.
pub fn entered(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
) -> StoreResult<BTreeMap<String, EnteredFigure>> {
    let rows: Vec<(String, Option<i64>, i64, Option<String>)> = unit_figures::table
        .filter(unit_figures::unit_id.eq(unit.id))
        .filter(unit_figures::period.eq(period.to_string()))
        .select((
            unit_figures::indicator,
            unit_figures::numerator,
            unit_figures::denominator,
            unit_figures::note,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(indicator, numerator, denominator, note)| {
            (
                indicator,
                EnteredFigure {
                    numerator: numerator.and_then(|n| u64::try_from(n).ok()),
                    denominator: u64::try_from(denominator).unwrap_or(0),
                    note,
                },
            )
        })
        .collect())
}

/// Replaces the figures entered for `unit` and `period` (checked by the caller). Audited.
pub fn put_entered(
    conn: &mut DbConnection,
    actor: &Actor,
    unit: &UnitRow,
    period: Period,
    figures: &BTreeMap<String, EnteredFigure>,
) -> StoreResult<()> {
    write_tx(conn, |conn| {
        let before = entered(conn, unit, period)?;
        diesel::delete(
            unit_figures::table
                .filter(unit_figures::unit_id.eq(unit.id))
                .filter(unit_figures::period.eq(period.to_string())),
        )
        .execute(conn)?;
        let now = Stamp(super::now());
        for (indicator, figure) in figures {
            diesel::insert_into(unit_figures::table)
                .values((
                    unit_figures::unit_id.eq(unit.id),
                    unit_figures::period.eq(period.to_string()),
                    unit_figures::indicator.eq(indicator),
                    unit_figures::numerator.eq(figure
                        .numerator
                        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))),
                    unit_figures::denominator
                        .eq(i64::try_from(figure.denominator).unwrap_or(i64::MAX)),
                    unit_figures::note.eq(figure.note.as_deref()),
                    unit_figures::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            actor,
            &Change {
                action: "update",
                resource_type: "figures",
                resource_id: &format!("{}/{period}", unit.code),
                before: Some(&before),
                after: Some(figures),
            },
        )
    })
}

/// The figures of every indicator that has some: tthc's counts, with entered figures replacing
/// them (or, with only a denominator entered, dividing tthc's count by it).
pub fn figures(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
) -> StoreResult<BTreeMap<String, Count>> {
    let mut counts: BTreeMap<String, Count> = observe(conn, unit, period, now)?
        .into_iter()
        .map(|(code, c)| (code.to_owned(), c))
        .collect();
    for (code, figure) in entered(conn, unit, period)? {
        let count = match (figure.numerator, counts.get(&code)) {
            (Some(numerator), _) => Count {
                numerator,
                denominator: figure.denominator,
                source: Source::Entered,
            },
            (None, Some(observed)) => Count {
                numerator: observed.numerator,
                denominator: figure.denominator.max(observed.denominator),
                source: Source::ObservedOverEntered,
            },
            // Refused at entry; ignored if the rules changed since.
            (None, None) => continue,
        };
        counts.insert(code, count);
    }
    Ok(counts)
}
