//! Storage of provinces' calendar years. A year not stored is the national default.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::schema::calendar_years;
use super::units::{UnitRow, find_row};
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::calendar::{Calendar, YearCalendar, YearSource, default_year};
use crate::unit::{UnitLevel, UnitScope};
use crate::version::Versions;

/// A year of a province's calendar and its version (0 when it is the national default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredYear {
    /// The year.
    pub calendar: YearCalendar,
    /// Version of the stored edit; 0 for a year never edited.
    pub version: i64,
}

/// The province whose calendar a unit follows: the unit itself or its nearest ancestor of level
/// `province`; `None` when the unit has no province above it (the national calendar applies).
pub fn province_of(conn: &mut DbConnection, unit: &UnitRow) -> StoreResult<Option<UnitRow>> {
    Ok(provinces_of(conn, &[unit])?.remove(&unit.id).flatten())
}

/// [`province_of`] each of `units`, by unit id, in one query per thousand codes in their paths.
pub fn provinces_of(
    conn: &mut DbConnection,
    units: &[&UnitRow],
) -> StoreResult<HashMap<i64, Option<UnitRow>>> {
    let paths: Vec<(i64, &str)> = units.iter().map(|u| (u.id, u.path.as_str())).collect();
    nearest_provinces(conn, &paths)
}

/// The province of the unit at tree path `path` ([`province_of`]).
pub fn province_at(conn: &mut DbConnection, path: &str) -> StoreResult<Option<UnitRow>> {
    Ok(nearest_provinces(conn, &[(0, path)])?.remove(&0).flatten())
}

/// Of each `(key, path)`, the nearest province on the path (of those on it, the one with the
/// longest path), by key.
fn nearest_provinces(
    conn: &mut DbConnection,
    paths: &[(i64, &str)],
) -> StoreResult<HashMap<i64, Option<UnitRow>>> {
    let segments = |path: &str| -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut codes: Vec<String> = paths.iter().flat_map(|(_, p)| segments(p)).collect();
    codes.sort_unstable();
    codes.dedup();
    let provinces = super::units::rows_by_code(conn, &codes, Some(UnitLevel::Province))?;
    Ok(paths
        .iter()
        .map(|(key, path)| {
            let nearest = segments(path)
                .iter()
                .filter_map(|code| provinces.get(code))
                .max_by_key(|p| p.path.len())
                .cloned();
            (*key, nearest)
        })
        .collect())
}

/// A province unit by code; `NotFound` when there is none of level `province` in `scope`.
pub fn province(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> StoreResult<UnitRow> {
    find_row(conn, code)?
        .filter(|u| u.level == UnitLevel::Province.as_str() && scope.allows(&u.path))
        .ok_or_else(|| StoreError::NotFound {
            resource: "province",
            id: code.to_owned(),
        })
}

fn stored(
    conn: &mut DbConnection,
    province_id: i64,
    years: std::ops::RangeInclusive<i32>,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(calendar_years::table
        .filter(calendar_years::unit_id.eq(province_id))
        .filter(calendar_years::year.between(*years.start(), *years.end()))
        .order(calendar_years::year.asc())
        .select((calendar_years::data, calendar_years::version))
        .load(conn)?)
}

fn parse(data: &str) -> StoreResult<YearCalendar> {
    serde_json::from_str(data)
        .map_err(|e| StoreError::Setup(format!("stored calendar year is unreadable: {e}")))
}

/// A year of a province's calendar: its edit, or the national default.
pub fn year(conn: &mut DbConnection, province: &UnitRow, year: i32) -> StoreResult<StoredYear> {
    match stored(conn, province.id, year..=year)?.into_iter().next() {
        Some((data, version)) => Ok(StoredYear {
            calendar: parse(&data)?,
            version,
        }),
        None => Ok(StoredYear {
            calendar: default_year(year),
            version: 0,
        }),
    }
}

/// The calendar a unit follows, with the years `from..=to` compiled ahead (others resolve to
/// the national default when reached). `None` as unit: the national calendar.
pub fn calendar_for(
    conn: &mut DbConnection,
    province: Option<&UnitRow>,
    from: i32,
    to: i32,
) -> StoreResult<Calendar> {
    let mut years: Vec<YearCalendar> = (from..=to).map(default_year).collect();
    if let Some(p) = province {
        for (data, _) in stored(conn, p.id, from..=to)? {
            let edited = parse(&data)?;
            if let Some(slot) = years.iter_mut().find(|y| y.year == edited.year) {
                *slot = edited;
            }
        }
    }
    Ok(Calendar::new(years))
}

/// Replaces a year of a province's calendar; with `expected_version`, refuses when it changed
/// since. Audited. Due dates computed before are not touched: they are stored where they are used.
pub fn put_year(
    conn: &mut DbConnection,
    actor: &Actor,
    province: &UnitRow,
    mut calendar: YearCalendar,
    expected_version: Option<&Versions>,
) -> StoreResult<StoredYear> {
    calendar.source = YearSource::Edited;
    calendar.validate().map_err(StoreError::Invalid)?;
    write_tx(conn, |conn| {
        super::lock_record(
            conn,
            &format!("calendar:{}:{}", province.code, calendar.year),
        )?;
        let before = year(conn, province, calendar.year)?;
        if let Some(expected) = expected_version
            && !expected.allows(before.version)
        {
            return Err(StoreError::VersionMismatch {
                current: before.version,
            });
        }
        let data =
            serde_json::to_string(&calendar).map_err(|e| StoreError::Setup(e.to_string()))?;
        let now = super::now();
        if before.version == 0 {
            diesel::insert_into(calendar_years::table)
                .values((
                    calendar_years::unit_id.eq(province.id),
                    calendar_years::year.eq(calendar.year),
                    calendar_years::data.eq(&data),
                    calendar_years::version.eq(1),
                    calendar_years::updated_at.eq(now),
                ))
                .execute(conn)
                .map_err(|e| {
                    StoreError::unique_as_conflict(
                        e,
                        "year",
                        "the year was edited at the same moment; retry",
                    )
                })?;
        } else {
            diesel::update(calendar_years::table.find((province.id, calendar.year)))
                .set((
                    calendar_years::data.eq(&data),
                    calendar_years::version.eq(before.version + 1),
                    calendar_years::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        let after = StoredYear {
            calendar,
            version: before.version + 1,
        };
        let id = format!("{}/{}", province.code, after.calendar.year);
        audit::record(
            conn,
            actor,
            &Change {
                action: if before.version == 0 {
                    "create"
                } else {
                    "update"
                },
                resource_type: "calendar",
                resource_id: &id,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}
