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

/// What the counts read of a dossier.
type Facts = (
    Stamp,
    Option<Stamp>,
    Option<String>,
    Option<Stamp>,
    Option<Stamp>,
    String,
);

/// What tthc counts from the dossiers of `unit`'s subtree for `period`, judged at `now` when the
/// period is not over:
/// - `ON_TIME_PROCESSING`: dossiers received or processed in the period (received before its end
///   and not ended before its start); on time are those that ended in the period early or on
///   time, and those still open at its end (or now) within their due instant.
/// - `ONLINE_DOSSIER_SUBMISSION`: dossiers received in the period online, of all received.
/// - `DOSSIER_SYNC`: dossiers received or processed in the period that were synced to the
///   national portal, of all of them.
///
/// The dossiers are read in three disjoint parts, each on its own index: received in the period;
/// received before it and ended in or after it; received before it and still open.
pub fn observe(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
) -> StoreResult<BTreeMap<&'static str, Count>> {
    let start = period.start().naive_local();
    let end = period.end().naive_local();
    let judged = end.min(now);
    let prefix = format!("{}%", unit.path);
    let facts = || {
        dossiers::table
            .filter(dossiers::unit_path.like(prefix.clone()))
            .select((
                dossiers::received_at,
                dossiers::ended_at,
                dossiers::timing,
                dossiers::effective_due_at,
                dossiers::synced_at,
                dossiers::channel,
            ))
            .into_boxed::<Db>()
    };
    let mut rows: Vec<Facts> = facts()
        .filter(dossiers::received_at.ge(Stamp(start)))
        .filter(dossiers::received_at.lt(Stamp(end)))
        .load(conn)?;
    rows.extend(
        facts()
            .filter(dossiers::ended_at.ge(Stamp(start)))
            .filter(dossiers::received_at.lt(Stamp(start)))
            .load::<Facts>(conn)?,
    );
    rows.extend(
        facts()
            .filter(dossiers::ended_at.is_null())
            .filter(dossiers::received_at.lt(Stamp(start)))
            .load::<Facts>(conn)?,
    );
    let (mut on_time, mut synced, mut received, mut online) = (0, 0, 0, 0);
    for (received_at, ended_at, timing, due, synced_at, channel) in &rows {
        let ended_in_period = ended_at.is_some_and(|e| e.0 < end);
        let in_time = if ended_in_period {
            matches!(timing.as_deref(), Some("finishedEarly" | "finishedOnTime"))
        } else {
            // Open at the end of the period (or now): judged by its due instant then.
            due.is_none_or(|d| d.0 >= judged)
        };
        on_time += u64::from(in_time);
        synced += u64::from(synced_at.is_some());
        if received_at.0 >= start {
            received += 1;
            online += u64::from(channel == "online");
        }
    }
    let all = rows.len() as u64;
    let observed = |numerator, denominator| Count {
        numerator,
        denominator,
        source: Source::Observed,
    };
    Ok(BTreeMap::from([
        ("ON_TIME_PROCESSING", observed(on_time, all)),
        ("ONLINE_DOSSIER_SUBMISSION", observed(online, received)),
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
