//! Reads the records a unit can still act on for a period's score (see
//! [`crate::scoring::gains`]), placed in the unit's children.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{dossiers, petitions, units};
use super::scores::load_handled;
use super::timestamp::Stamp;
use super::units::UnitRow;
use super::{DbConnection, StoreResult};
use crate::period::Period;
use crate::scoring::counting::Counting;
use crate::scoring::gains::{Action, Fixable};

/// The index of the child of `children` whose subtree holds `path`.
fn place(children: &[UnitRow], path: &str) -> Option<usize> {
    children.iter().position(|c| path.starts_with(&c.path))
}

/// The records of `unit`'s subtree that can still change `period`'s score at `now`, counted by
/// action and by child of `children` (the unit's children).
pub fn fixable(
    conn: &mut DbConnection,
    unit: &UnitRow,
    children: &[UnitRow],
    period: Period,
    now: NaiveDateTime,
    rules: &Counting,
) -> StoreResult<Vec<Fixable>> {
    let start = period.start().naive_local();
    let end = period.end().naive_local();
    let prefix = format!("{}%", unit.path);
    let mut paths: Vec<(Action, String)> = Vec::new();
    // A sync counts whenever it comes, even after the period; only dossiers received in the
    // period count for it.
    let unsynced = || {
        dossiers::table
            .filter(dossiers::synced_at.is_null())
            .filter(dossiers::received_at.ge(Stamp(start)))
            .select(dossiers::unit_path)
            .into_boxed()
    };
    let rows: Vec<String> = load_handled(conn, unsynced, &prefix, (start, end))?;
    paths.extend(rows.into_iter().map(|p| (Action::Sync, p)));
    if now < end {
        let falling_due: Vec<String> = dossiers::table
            .filter(super::subtree_by_time(conn, &prefix))
            .filter(super::scores::counted())
            .filter(dossiers::ended_at.is_null())
            .filter(dossiers::late_from.ge(Stamp(now)))
            .filter(dossiers::late_from.lt(Stamp(end)))
            .select(dossiers::unit_path)
            .load(conn)?;
        paths.extend(
            falling_due
                .into_iter()
                .map(|p| (Action::ResolveBeforeDue, p)),
        );
        let petitions_due: Vec<String> = petitions::table
            .filter(petitions::unit_path.like(prefix.clone()))
            .filter(petitions::ended_at.is_null())
            .filter(petitions::late_from.ge(Stamp(now)))
            .filter(petitions::late_from.lt(Stamp(end)))
            .select(petitions::unit_path)
            .load(conn)?;
        paths.extend(
            petitions_due
                .into_iter()
                .map(|p| (Action::AnswerBeforeDue, p)),
        );
        // The catalogue's misses can be fixed while the period runs.
        let misses =
            super::catalogue_figures::observe(conn, unit, (start, end, now), rules, None)?.misses;
        let ids: Vec<i64> = misses.iter().filter_map(|m| m.unit_id).collect();
        let unit_paths: std::collections::HashMap<i64, String> = units::table
            .filter(units::id.eq_any(ids))
            .select((units::id, units::path))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        for m in misses {
            let Some(action) = Action::of_catalogue(m.indicator) else {
                continue;
            };
            let path = m
                .unit_id
                .and_then(|id| unit_paths.get(&id).cloned())
                .unwrap_or_else(|| unit.path.clone());
            paths.push((action, path));
        }
    }
    Ok(paths
        .into_iter()
        .map(|(action, path)| Fixable {
            action,
            place: place(children, &path),
            records: 1,
        })
        .collect())
}
