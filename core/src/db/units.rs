//! Storage of organisational units.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::schema::units;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::InvalidParam;
use crate::unit::{
    Unit, UnitCode, UnitLevel, UnitScope, check_move, check_validity, parent_in_path, parent_path,
    tree_path,
};
use crate::version::Versions;

/// A stored unit row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    /// Surrogate key.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level name.
    pub level: String,
    /// Parent key.
    pub parent_id: Option<i64>,
    /// Materialised path.
    pub path: String,
    /// Validity start.
    pub valid_from: Option<NaiveDate>,
    /// Validity end.
    pub valid_to: Option<NaiveDate>,
    /// Version.
    pub version: i64,
    /// Created at (UTC).
    pub created_at: NaiveDateTime,
    /// Updated at (UTC).
    pub updated_at: NaiveDateTime,
}

impl UnitRow {
    /// The domain view of the row. Rows are written only through this module, so their codes
    /// and levels are valid; a row edited by hand into nonsense is reported, not trusted.
    pub fn into_unit(self) -> StoreResult<Unit> {
        let bad = |what: String| StoreError::Setup(format!("unit row {}: {what}", self.id));
        let code = UnitCode::parse(&self.code).map_err(|e| bad(format!("code {e}")))?;
        let level = self.level.parse::<UnitLevel>().map_err(&bad)?;
        let parent = parent_in_path(&self.path)
            .map(UnitCode::parse)
            .transpose()
            .map_err(|e| bad(format!("path {e}")))?;
        Ok(Unit {
            code,
            name: self.name,
            level,
            parent,
            path: self.path,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// What a new unit is made of.
#[derive(Debug, Clone)]
pub struct UnitInsertForm {
    /// Identifier code, unique.
    pub code: UnitCode,
    /// Official name.
    pub name: String,
    /// Level.
    pub level: UnitLevel,
    /// Parent's code; `None` for a root.
    pub parent: Option<UnitCode>,
    /// First day of validity.
    pub valid_from: Option<NaiveDate>,
    /// Last day of validity.
    pub valid_to: Option<NaiveDate>,
}

/// A change to a unit; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UnitUpdateForm {
    /// New name.
    pub name: Option<String>,
    /// New level.
    pub level: Option<UnitLevel>,
    /// New parent (moves the unit and its subtree); `Some(None)` makes it a root.
    pub parent: Option<Option<UnitCode>>,
    /// New validity start.
    pub valid_from: Option<Option<NaiveDate>>,
    /// New validity end.
    pub valid_to: Option<Option<NaiveDate>>,
}

#[derive(Insertable)]
#[diesel(table_name = units)]
struct NewUnitRow<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent_id: Option<i64>,
    path: &'a str,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Which units to list, ordered by code.
#[derive(Debug, Clone)]
pub struct UnitFilter {
    /// Only the direct children of this unit.
    pub parent: Option<UnitCode>,
    /// Only units of this level.
    pub level: Option<UnitLevel>,
    /// Only this unit and its whole subtree.
    pub within: Option<UnitCode>,
    /// Only units valid on this day.
    pub valid_on: Option<NaiveDate>,
    /// Only units with codes after this one (the cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// The row of `code`, whatever the scope.
pub fn find_row(conn: &mut DbConnection, code: &str) -> StoreResult<Option<UnitRow>> {
    Ok(units::table
        .filter(units::code.eq(code))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?)
}

/// The rows of those of `codes` that exist (of `level` only, when given), by code, whatever the
/// scope: one query per thousand codes, where a batch naming many units would otherwise cost a
/// round trip each.
pub fn rows_by_code<S: AsRef<str>>(
    conn: &mut DbConnection,
    codes: &[S],
    level: Option<UnitLevel>,
) -> StoreResult<std::collections::HashMap<String, UnitRow>> {
    let mut out = std::collections::HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(1000) {
        let mut q = units::table
            .filter(units::code.eq_any(chunk.iter().map(AsRef::as_ref)))
            .select(UnitRow::as_select())
            .into_boxed();
        if let Some(level) = level {
            q = q.filter(units::level.eq(level.as_str()));
        }
        let rows: Vec<UnitRow> = q.load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.code.clone(), r)));
    }
    Ok(out)
}

/// The rows of the units without a parent (the provinces), by code.
pub fn root_rows(conn: &mut DbConnection) -> StoreResult<Vec<UnitRow>> {
    Ok(units::table
        .filter(units::parent_id.is_null())
        .order(units::code.asc())
        .select(UnitRow::as_select())
        .load(conn)?)
}

/// The rows of `parent`'s direct children, by code.
pub fn children_rows(conn: &mut DbConnection, parent: &UnitRow) -> StoreResult<Vec<UnitRow>> {
    Ok(units::table
        .filter(units::parent_id.eq(parent.id))
        .order(units::code.asc())
        .select(UnitRow::as_select())
        .load(conn)?)
}

/// The unit `code` if it exists within `scope`; otherwise `NotFound`, so that units outside a
/// caller's grant do not exist for it.
pub fn get(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> StoreResult<Unit> {
    find_row(conn, code)?
        .filter(|row| scope.allows(&row.path))
        .ok_or_else(|| not_found(code))?
        .into_unit()
}

fn not_found(code: &str) -> StoreError {
    StoreError::NotFound {
        resource: "unit",
        id: code.to_owned(),
    }
}

/// The id, code and current tree path of each of the units `ids`, in one query.
fn rows_by_id(
    conn: &mut DbConnection,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<Vec<(i64, String, String)>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(units::table
        .filter(units::id.eq_any(ids))
        .select((units::id, units::code, units::path))
        .load(conn)?)
}

/// The codes of the units `ids` (one query for a page of records), by id.
pub fn codes_by_id(
    conn: &mut DbConnection,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<std::collections::HashMap<i64, String>> {
    Ok(rows_by_id(conn, ids)?
        .into_iter()
        .map(|(id, code, _)| (id, code))
        .collect())
}

/// The current tree paths of the units `ids`, by id: stored records keep their unit's id, and
/// a unit's path changes when it moves.
pub fn paths_by_id(
    conn: &mut DbConnection,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<std::collections::HashMap<i64, String>> {
    Ok(rows_by_id(conn, ids)?
        .into_iter()
        .map(|(id, _, path)| (id, path))
        .collect())
}

/// `scope` as the tree is now: a grant's units by their current paths (`scope`'s paths must be
/// units' paths, as a principal's grant resolves them). Writers read it after their locks
/// ([`super::lock_records`]).
pub fn current_scope(conn: &mut DbConnection, scope: &UnitScope) -> StoreResult<UnitScope> {
    match scope {
        UnitScope::All => Ok(UnitScope::All),
        UnitScope::Within(paths) => {
            let codes: Vec<String> = paths
                .iter()
                .filter_map(|p| crate::unit::code_in_path(p))
                .map(str::to_owned)
                .collect();
            Ok(UnitScope::Within(paths_of(conn, &codes)?))
        }
    }
}

/// The codes and materialised paths of those of `codes` that exist, in no order.
pub fn codes_and_paths(
    conn: &mut DbConnection,
    codes: &[String],
) -> StoreResult<Vec<(String, String)>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(units::table
        .filter(units::code.eq_any(codes))
        .select((units::code, units::path))
        .load(conn)?)
}

/// The materialised paths of `codes`, in no order; unknown codes are left out.
pub fn paths_of(conn: &mut DbConnection, codes: &[String]) -> StoreResult<Vec<String>> {
    Ok(codes_and_paths(conn, codes)?
        .into_iter()
        .map(|(_, path)| path)
        .collect())
}

/// The ids of the units in `scope`; `None` for every unit.
pub fn ids_in_scope(conn: &mut DbConnection, scope: &UnitScope) -> StoreResult<Option<Vec<i64>>> {
    match scope {
        UnitScope::All => Ok(None),
        UnitScope::Within(roots) => Ok(Some(
            units::table
                .filter(within_any(roots))
                .select(units::id)
                .load(conn)?,
        )),
    }
}

/// How many units are stored.
pub fn count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(units::table.count().get_result(conn)?)
}

type Db = <DbConnection as Connection>::Backend;
type BoxedCondition =
    Box<dyn BoxableExpression<units::table, Db, SqlType = diesel::sql_types::Bool>>;

/// `path LIKE root%` for any of `roots`; an empty list matches nothing.
fn within_any(roots: &[String]) -> BoxedCondition {
    let mut condition: BoxedCondition =
        Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
    for root in roots {
        condition = Box::new(condition.or(units::path.like(format!("{root}%"))));
    }
    condition
}

/// The units in `scope` matching `filter` (all but its cursor and limit); `None` when the
/// filter names a unit that does not exist, so nothing can match.
fn matching(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &UnitFilter,
) -> StoreResult<Option<units::BoxedQuery<'static, Db>>> {
    let mut q = units::table.into_boxed();
    if let UnitScope::Within(roots) = scope {
        q = q.filter(within_any(roots));
    }
    if let Some(parent) = &filter.parent {
        let Some(parent) = find_row(conn, parent.as_str())? else {
            return Ok(None);
        };
        q = q.filter(units::parent_id.eq(parent.id));
    }
    if let Some(within) = &filter.within {
        let Some(root) = find_row(conn, within.as_str())? else {
            return Ok(None);
        };
        q = q.filter(units::path.like(format!("{}%", root.path)));
    }
    if let Some(level) = filter.level {
        q = q.filter(units::level.eq(level.as_str()));
    }
    if let Some(day) = filter.valid_on {
        q = q
            .filter(units::valid_from.is_null().or(units::valid_from.le(day)))
            .filter(units::valid_to.is_null().or(units::valid_to.ge(day)));
    }
    Ok(Some(q))
}

/// Lists units in `scope` matching `filter`, ordered by code, after its cursor.
pub fn list(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &UnitFilter,
) -> StoreResult<Vec<Unit>> {
    let Some(mut q) = matching(conn, scope, filter)? else {
        return Ok(Vec::new());
    };
    if let Some(after) = &filter.after {
        q = q.filter(units::code.gt(after.clone()));
    }
    q.select(UnitRow::as_select())
        .order(units::code.asc())
        .limit(filter.limit)
        .load(conn)?
        .into_iter()
        .map(UnitRow::into_unit)
        .collect()
}

/// How many units in `scope` match `filter`, whatever its cursor and limit.
pub fn count_matching(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &UnitFilter,
) -> StoreResult<i64> {
    match matching(conn, scope, filter)? {
        Some(q) => Ok(q.count().get_result(conn)?),
        None => Ok(0),
    }
}

/// The parent named by a write, which must exist within the caller's scope.
fn parent_row(conn: &mut DbConnection, scope: &UnitScope, code: &UnitCode) -> StoreResult<UnitRow> {
    find_row(conn, code.as_str())?
        .filter(|row| scope.allows(&row.path))
        .ok_or_else(|| {
            StoreError::invalid(InvalidParam::new(
                "parent",
                format!("no unit has the code {code}"),
            ))
        })
}

/// What a unit's level decides, why only a client granted every unit sets it: a unit of level
/// province and its subtree keep its calendar, and each level's indicators are counted by the
/// rule set's policy for it.
const LEVEL_DECIDES: &str = "the level decides the calendar a unit's deadlines are counted on and \
                             how its scores are counted";

/// Creates a unit under a parent in `scope`, recording it in the audit trail.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    form: &UnitInsertForm,
) -> StoreResult<Unit> {
    check_validity(form.valid_from, form.valid_to).map_err(StoreError::invalid)?;
    write_tx(conn, |conn| {
        // The parent's path is stored as read: no move meanwhile.
        super::hold_unit_tree(conn, false)?;
        let scope = &current_scope(conn, scope)?;
        if form.level == UnitLevel::Province && !matches!(scope, UnitScope::All) {
            return Err(StoreError::OutsideGrant(format!(
                "only a client granted every unit may create a unit of level province: {LEVEL_DECIDES}"
            )));
        }
        let parent = form
            .parent
            .as_ref()
            .map(|code| parent_row(conn, scope, code))
            .transpose()?;
        let path = tree_path(parent.as_ref().map(|p| p.path.as_str()), &form.code);
        let now = super::now();
        diesel::insert_into(units::table)
            .values(NewUnitRow {
                code: form.code.as_str(),
                name: &form.name,
                level: form.level.as_str(),
                parent_id: parent.as_ref().map(|p| p.id),
                path: &path,
                valid_from: form.valid_from,
                valid_to: form.valid_to,
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "code",
                    &format!("a unit with the code {} exists already", form.code),
                )
            })?;
        let created = get(conn, &UnitScope::All, form.code.as_str())?;
        audit::record_in_unit(
            conn,
            actor,
            Some(&path),
            &Change {
                action: "create",
                resource_type: "unit",
                resource_id: form.code.as_str(),
                before: None,
                after: Some(&created),
            },
        )?;
        Ok(created)
    })
}

/// Changes unit `code` in `scope`. With `expected_version`, refuses when the unit has changed
/// since. Moving a unit moves its whole subtree.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    form: &UnitUpdateForm,
    expected_version: Option<&Versions>,
) -> StoreResult<Unit> {
    write_tx(conn, |conn| {
        // Before any path is relied on: a move waits for the records being written with the
        // old paths; any other change keeps the paths it read. Naming the parent the unit has
        // is no move, and holds up no writer.
        let moving = match &form.parent {
            None => false,
            Some(wanted) => {
                let current = find_row(conn, code)?.map(|r| r.parent_id);
                let wanted = match wanted {
                    None => Some(None),
                    Some(p) => find_row(conn, p.as_str())?.map(|r| Some(r.id)),
                };
                // An unknown unit or parent is refused below, under the shared hold.
                current.is_some() && wanted.is_some() && current != wanted
            }
        };
        super::hold_unit_tree(conn, moving)?;
        super::lock_record(conn, &format!("unit:{code}"))?;
        let scope = &current_scope(conn, scope)?;
        let row = find_row(conn, code)?
            .filter(|row| scope.allows(&row.path))
            .ok_or_else(|| not_found(code))?;
        let before = row.clone().into_unit()?;
        if let Some(expected) = expected_version
            && !expected.allows(row.version)
        {
            return Err(StoreError::VersionMismatch {
                current: row.version,
            });
        }
        if form.level.is_some_and(|l| l.as_str() != row.level) && !matches!(scope, UnitScope::All) {
            return Err(StoreError::OutsideGrant(format!(
                "only a client granted every unit may change a unit's level: {LEVEL_DECIDES}"
            )));
        }
        let valid_from = form.valid_from.unwrap_or(row.valid_from);
        let valid_to = form.valid_to.unwrap_or(row.valid_to);
        check_validity(valid_from, valid_to).map_err(StoreError::invalid)?;

        let (parent_id, path) = match &form.parent {
            None => (row.parent_id, row.path.clone()),
            Some(new_parent) => {
                let parent = new_parent
                    .as_ref()
                    .map(|p| parent_row(conn, scope, p))
                    .transpose()?;
                if let Some(parent) = &parent {
                    check_move(&row.path, &parent.path).map_err(StoreError::invalid)?;
                }
                let path = tree_path(parent.as_ref().map(|p| p.path.as_str()), &before.code);
                (parent.map(|p| p.id), path)
            }
        };
        // A move takes the unit's records out of its old parent's figures and into the new
        // one's: a client limited to some units needs its old parent in its grant too (the new
        // one is checked above; making a unit a root, by the handler), until 2026-12-07 it
        // moved a unit out of a parent it was not granted.
        if path != row.path
            && !matches!(scope, UnitScope::All)
            && !parent_path(&row.path).is_some_and(|p| scope.allows(p))
        {
            return Err(StoreError::OutsideGrant(
                "moving a unit needs its old parent and its new one in your grant".into(),
            ));
        }
        if path != row.path && !moving {
            // The unit moved between the first read and the hold: judged as no move, it holds
            // the tree shared only.
            return Err(StoreError::Conflict(InvalidParam::new(
                "parent",
                "the unit moved meanwhile: read it again and retry",
            )));
        }
        if path != row.path {
            move_descendants(conn, &row.path, &path)?;
        }
        diesel::update(units::table.find(row.id))
            .set((
                units::name.eq(form.name.as_deref().unwrap_or(&row.name)),
                units::level.eq(form
                    .level
                    .map_or(row.level.clone(), |l| l.as_str().to_owned())),
                units::parent_id.eq(parent_id),
                units::path.eq(&path),
                units::valid_from.eq(valid_from),
                units::valid_to.eq(valid_to),
                units::version.eq(row.version + 1),
                units::updated_at.eq(super::now()),
            ))
            .execute(conn)?;
        if path != row.path {
            move_records(conn, &row.path, &path)?;
        }
        let after = get(conn, &UnitScope::All, code)?;
        audit::record_in_unit(
            conn,
            actor,
            Some(&path),
            &Change {
                action: "update",
                resource_type: "unit",
                resource_id: code,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

diesel::define_sql_function! {
    /// The text from the 1-based character `from` to its end (`substr` on both backends).
    fn substr(text: diesel::sql_types::Text, from: diesel::sql_types::Integer) -> diesel::sql_types::Text;
}

/// Rewrites the stored tree path of the dossiers and petitions of the subtree that moved from
/// `old_path` to `new_path`: lists, scores, misses and grants find a record by the stored path
/// of its unit. The audit trail keeps the path each change was made under: it is history.
/// A moved dossier that a petition names is marked again: a petition of its old parent no
/// longer concerns it, one of its new parent does.
fn move_records(conn: &mut DbConnection, old_path: &str, new_path: &str) -> StoreResult<()> {
    use super::schema::{dossiers, petitions};
    use diesel::sql_types::Text;
    let under = format!("{old_path}%");
    // Codes hold no LIKE wildcard (`UnitCode`), so the old path is its own pattern.
    let rest = i32::try_from(old_path.chars().count() + 1)
        .map_err(|_| StoreError::Setup("a unit path longer than 2^31 characters".into()))?;
    // The same statement over two tables, which diesel types apart.
    macro_rules! move_paths {
        ($table:ident) => {
            diesel::update($table::table.filter($table::unit_path.like(&under)))
                .set(
                    $table::unit_path.eq(new_path
                        .to_owned()
                        .into_sql::<Text>()
                        .concat(substr($table::unit_path, rest))),
                )
                .execute(conn)?
        };
    }
    move_paths!(dossiers);
    move_paths!(petitions);
    let named: std::collections::BTreeSet<String> = dossiers::table
        .filter(dossiers::unit_path.like(format!("{new_path}%")))
        .filter(
            dossiers::code
                .nullable()
                .eq_any(petitions::table.select(petitions::dossier_code)),
        )
        .select(dossiers::code)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    if !named.is_empty() {
        super::petitions::refresh_petitioned(conn, &named)?;
    }
    Ok(())
}

/// Rewrites the paths of every strict descendant of the unit at `old_path`.
fn move_descendants(conn: &mut DbConnection, old_path: &str, new_path: &str) -> StoreResult<()> {
    let descendants: Vec<(i64, String)> = units::table
        .filter(units::path.like(format!("{old_path}%")))
        .filter(units::path.ne(old_path))
        .select((units::id, units::path))
        .load(conn)?;
    for (id, path) in descendants {
        let Some(rest) = path.strip_prefix(old_path) else {
            continue;
        };
        let moved = format!("{new_path}{rest}");
        diesel::update(units::table.find(id))
            .set((units::path.eq(moved), units::version.eq(units::version + 1)))
            .execute(conn)?;
    }
    Ok(())
}
