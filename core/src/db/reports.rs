//! Reading form II.06a: a unit's dossiers handled in a period, read as the 766 score reads
//! them ([`super::scores::load_handled`]) and counted by [`crate::report::ii06a`].

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::{dossiers, fields, procedure_versions, procedures};
use super::scores::load_handled;
use super::timestamp::Stamp;
use super::units::{self, UnitRow};
use super::{DbConnection, StoreResult};
use crate::period::Period;
use crate::report::ii06a::{Counts, DossierFacts, Window};

type Db = <DbConnection as Connection>::Backend;

/// What the lines of the report are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    /// One line per field (lĩnh vực).
    Field,
    /// One line per procedure.
    Procedure,
    /// One line per direct child unit, and one for the unit's own dossiers if it has any.
    Unit,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The field's, procedure's or unit's code (empty for dossiers without a field).
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its counts.
    pub counts: Counts,
}

type Row = (
    Stamp,
    Option<Stamp>,
    Option<String>,
    Option<Stamp>,
    String,
    Option<String>,
    String,
    String,
);

/// Form II.06a of `unit`'s subtree for `period`, judged at `now` while the period runs, one
/// line per `by`.
pub fn ii06a(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
    by: GroupBy,
) -> StoreResult<Vec<Line>> {
    let window = Window {
        start: period.start().naive_local(),
        end: period.end().naive_local(),
        judged: period.end().naive_local().min(now),
    };
    let query = || {
        dossiers::table
            .select((
                dossiers::received_at,
                dossiers::ended_at,
                dossiers::timing,
                dossiers::late_from,
                dossiers::channel,
                dossiers::field,
                dossiers::procedure_code,
                dossiers::unit_path,
            ))
            .into_boxed::<Db>()
    };
    let prefix = format!("{}%", unit.path);
    let rows: Vec<Row> = load_handled(conn, query, &prefix, (window.start, window.end))?;
    let children = match by {
        GroupBy::Unit => units::children_rows(conn, unit)?,
        _ => Vec::new(),
    };
    let mut lines: BTreeMap<String, Counts> = BTreeMap::new();
    for child in &children {
        lines.insert(child.code.clone(), Counts::default());
    }
    for (received_at, ended_at, timing, due, channel, field, procedure, path) in &rows {
        let key = match by {
            GroupBy::Field => field.clone().unwrap_or_default(),
            GroupBy::Procedure => procedure.clone(),
            GroupBy::Unit => children
                .iter()
                .find(|c| path.starts_with(&c.path))
                .map_or_else(|| unit.code.clone(), |c| c.code.clone()),
        };
        lines.entry(key).or_default().add(
            &DossierFacts {
                received_at: received_at.0,
                ended_at: ended_at.map(|e| e.0),
                timing: timing.as_deref(),
                late_from: due.map(|d| d.0),
                channel,
            },
            window,
        );
    }
    let names = match by {
        GroupBy::Field => field_names(conn)?,
        GroupBy::Procedure => procedure_names(conn, lines.keys().cloned().collect())?,
        GroupBy::Unit => children
            .iter()
            .chain([unit])
            .map(|u| (u.code.clone(), u.name.clone()))
            .collect(),
    };
    let mut out: Vec<Line> = lines
        .into_iter()
        .map(|(key, counts)| Line {
            name: names.get(&key).cloned().unwrap_or_else(|| match by {
                GroupBy::Field if key.is_empty() => "Chưa xác định lĩnh vực".to_owned(),
                _ => key.clone(),
            }),
            key,
            counts,
        })
        .collect();
    if by == GroupBy::Unit {
        // The form lists units in the tree's order: the children, then the unit's own desk.
        out.sort_by_key(|l| (l.key == unit.code, l.key.clone()));
    }
    Ok(out)
}

fn field_names(conn: &mut DbConnection) -> StoreResult<HashMap<String, String>> {
    Ok(fields::table
        .select((fields::code, fields::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The name of each procedure's latest version.
fn procedure_names(
    conn: &mut DbConnection,
    codes: Vec<String>,
) -> StoreResult<HashMap<String, String>> {
    let mut latest: HashMap<String, (i32, String)> = HashMap::new();
    for chunk in codes.chunks(5_000) {
        let rows: Vec<(String, i32, String)> = procedures::table
            .inner_join(procedure_versions::table)
            .filter(procedures::code.eq_any(chunk.to_vec()))
            .select((
                procedures::code,
                procedure_versions::seq,
                procedure_versions::name,
            ))
            .load(conn)?;
        for (code, seq, name) in rows {
            let slot = latest.entry(code).or_insert((seq, name.clone()));
            if seq >= slot.0 {
                *slot = (seq, name);
            }
        }
    }
    Ok(latest.into_iter().map(|(c, (_, n))| (c, n)).collect())
}
