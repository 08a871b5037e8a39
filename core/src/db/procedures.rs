//! Storage of the procedure catalogue: procedures, their versions, fields.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::schema::{fields, procedure_version_units, procedure_versions, procedures, units};
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::InvalidParam;
use crate::calendar::TimeLimit;
use crate::procedure::{ContentPart, ProcedureCode, ProcedureContent, missing_parts};
use crate::text::fold;
use crate::unit::UnitScope;
use crate::version::Versions;

type Db = <DbConnection as Connection>::Backend;

/// A field (lĩnh vực).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"code": "HT", "name": "Hộ tịch"})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = fields)]
pub struct Field {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// Every field, by code.
pub fn list_fields(conn: &mut DbConnection) -> StoreResult<Vec<Field>> {
    Ok(fields::table
        .order(fields::code.asc())
        .select(Field::as_select())
        .load(conn)?)
}

/// Creates or renames a field. Audited.
pub fn put_field(conn: &mut DbConnection, actor: &Actor, field: &Field) -> StoreResult<Field> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("field:{}", field.code))?;
        let before: Option<Field> = fields::table
            .find(&field.code)
            .select(Field::as_select())
            .first(conn)
            .optional()?;
        if before.is_some() {
            diesel::update(fields::table.find(&field.code))
                .set(fields::name.eq(&field.name))
                .execute(conn)?;
        } else {
            diesel::insert_into(fields::table)
                .values((fields::code.eq(&field.code), fields::name.eq(&field.name)))
                .execute(conn)?;
        }
        audit::record(
            conn,
            actor,
            &Change {
                action: if before.is_some() { "update" } else { "create" },
                resource_type: "field",
                resource_id: &field.code,
                before: before.as_ref(),
                after: Some(field),
            },
        )?;
        Ok(field.clone())
    })
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = procedures)]
struct ProcedureRow {
    id: i64,
    code: String,
    base_code: String,
    localized: bool,
    published_on: Option<NaiveDate>,
    abolished_on: Option<NaiveDate>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = procedure_versions)]
struct VersionRow {
    id: i64,
    seq: i32,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    decision: Option<String>,
    missing: String,
    content: String,
}

/// One version of a procedure's content.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcedureVersion {
    /// 1, 2, … in order.
    pub seq: i32,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force; `None` while in force.
    pub valid_to: Option<NaiveDate>,
    /// The decision that made it.
    pub decision: Option<String>,
    /// Required parts the content lacks.
    pub missing: Vec<ContentPart>,
    /// The content.
    pub content: ProcedureContent,
}

/// A procedure with the version in force on the day asked about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Procedure {
    /// Code.
    pub code: String,
    /// The national code it is based on (itself when national).
    pub base_code: String,
    /// Whether it is a province's localized copy.
    pub localized: bool,
    /// Published on the national database (a draft until then).
    pub published_on: Option<NaiveDate>,
    /// Abolished on.
    pub abolished_on: Option<NaiveDate>,
    /// Row version, the API's `ETag`.
    pub version: i64,
    /// The version in force.
    pub current: ProcedureVersion,
    /// Created at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Updated at.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn parse_missing(text: &str) -> Vec<ContentPart> {
    text.split_whitespace()
        .filter_map(|p| ContentPart::ALL.into_iter().find(|c| c.as_str() == p))
        .collect()
}

fn version_of(row: VersionRow) -> StoreResult<ProcedureVersion> {
    Ok(ProcedureVersion {
        seq: row.seq,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        decision: row.decision,
        missing: parse_missing(&row.missing),
        content: serde_json::from_str(&row.content).map_err(|e| {
            StoreError::Setup(format!("procedure version {} unreadable: {e}", row.id))
        })?,
    })
}

fn procedure_of(row: ProcedureRow, version: VersionRow) -> StoreResult<Procedure> {
    Ok(Procedure {
        code: row.code,
        base_code: row.base_code,
        localized: row.localized,
        published_on: row.published_on,
        abolished_on: row.abolished_on,
        version: row.version,
        current: version_of(version)?,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn not_found(code: &str) -> StoreError {
    StoreError::NotFound {
        resource: "procedure",
        id: code.to_owned(),
    }
}

fn find_row(conn: &mut DbConnection, code: &str) -> StoreResult<Option<ProcedureRow>> {
    Ok(procedures::table
        .filter(procedures::code.eq(code))
        .select(ProcedureRow::as_select())
        .first(conn)
        .optional()?)
}

fn latest_version(conn: &mut DbConnection, procedure_id: i64) -> StoreResult<Option<VersionRow>> {
    Ok(procedure_versions::table
        .filter(procedure_versions::procedure_id.eq(procedure_id))
        .order(procedure_versions::seq.desc())
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// The procedure `code` with the version in force on `on` (the latest version when none is);
/// drafts only when `drafts` is true.
pub fn get(
    conn: &mut DbConnection,
    code: &str,
    on: NaiveDate,
    drafts: bool,
) -> StoreResult<Procedure> {
    let row = find_row(conn, code)?
        .filter(|r| drafts || r.published_on.is_some())
        .ok_or_else(|| not_found(code))?;
    let in_force = procedure_versions::table
        .filter(procedure_versions::procedure_id.eq(row.id))
        .filter(in_force_on(on))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?;
    let version = match in_force {
        Some(v) => v,
        None => latest_version(conn, row.id)?.ok_or_else(|| not_found(code))?,
    };
    procedure_of(row, version)
}

/// Every version of procedure `code`, oldest first.
pub fn versions(
    conn: &mut DbConnection,
    code: &str,
    drafts: bool,
) -> StoreResult<Vec<ProcedureVersion>> {
    let row = find_row(conn, code)?
        .filter(|r| drafts || r.published_on.is_some())
        .ok_or_else(|| not_found(code))?;
    procedure_versions::table
        .filter(procedure_versions::procedure_id.eq(row.id))
        .order(procedure_versions::seq.asc())
        .select(VersionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(version_of)
        .collect()
}

/// Which procedures to list, ordered by code.
#[derive(Debug, Clone, Default)]
pub struct ProcedureFilter {
    /// Only this field.
    pub field: Option<String>,
    /// Only procedures handled at this level.
    pub level: Option<String>,
    /// Only procedures handled by a unit within this tree path.
    pub unit_path: Option<String>,
    /// Only published (`Some(true)`) or draft (`Some(false)`) procedures.
    pub published: Option<bool>,
    /// Only abolished (`Some(true)`: an abolition recorded, whatever its day) or not abolished
    /// (`Some(false)`) procedures.
    pub abolished: Option<bool>,
    /// Only this online service level.
    pub online_level: Option<String>,
    /// Only localized (`true`) or national (`false`) procedures.
    pub localized: Option<bool>,
    /// Only complete (`true`) or incomplete (`false`) content.
    pub complete: Option<bool>,
    /// The day whose versions count.
    pub valid_on: NaiveDate,
    /// Words of the name, with or without diacritics.
    pub search: Option<String>,
    /// Codes after this one (the cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// The procedure versions in force on `day`: valid from it or earlier, to it or later.
#[diesel::dsl::auto_type]
pub(super) fn in_force_on(day: NaiveDate) -> _ {
    procedure_versions::valid_from.le(day).and(
        procedure_versions::valid_to
            .is_null()
            .or(procedure_versions::valid_to.ge(day)),
    )
}

/// Procedures in force on the filter's day, ordered by code.
pub fn list(conn: &mut DbConnection, filter: &ProcedureFilter) -> StoreResult<Vec<Procedure>> {
    let mut q = procedure_versions::table
        .inner_join(procedures::table)
        .filter(in_force_on(filter.valid_on))
        .select((ProcedureRow::as_select(), VersionRow::as_select()))
        .order(procedures::code.asc())
        .limit(filter.limit)
        .into_boxed::<Db>();
    if let Some(field) = &filter.field {
        q = q.filter(procedure_versions::field.eq(field.clone()));
    }
    if let Some(level) = &filter.level {
        q = q.filter(procedure_versions::levels.like(format!("%{level}%")));
    }
    if let Some(path) = &filter.unit_path {
        let in_tree = procedure_version_units::table
            .inner_join(units::table)
            .filter(units::path.like(format!("{path}%")))
            .select(procedure_version_units::version_id);
        q = q.filter(procedure_versions::id.eq_any(in_tree));
    }
    match filter.published {
        Some(true) => q = q.filter(procedures::published_on.is_not_null()),
        Some(false) => q = q.filter(procedures::published_on.is_null()),
        None => {}
    }
    match filter.abolished {
        Some(true) => q = q.filter(procedures::abolished_on.is_not_null()),
        Some(false) => q = q.filter(procedures::abolished_on.is_null()),
        None => {}
    }
    if let Some(level) = &filter.online_level {
        q = q.filter(procedure_versions::online_level.eq(level.clone()));
    }
    if let Some(localized) = filter.localized {
        q = q.filter(procedures::localized.eq(localized));
    }
    match filter.complete {
        Some(true) => q = q.filter(procedure_versions::missing.eq("")),
        Some(false) => q = q.filter(procedure_versions::missing.ne("")),
        None => {}
    }
    if let Some(words) = &filter.search {
        for word in fold(words).split_whitespace() {
            // The caller's text is matched literally: `%` and `_` are not wildcards.
            q = q.filter(
                procedure_versions::search_name
                    .like(format!("%{}%", super::encode::escape_like(word)))
                    .escape('\\'),
            );
        }
    }
    if let Some(after) = &filter.after {
        q = q.filter(procedures::code.gt(after.clone()));
    }
    q.load::<(ProcedureRow, VersionRow)>(conn)?
        .into_iter()
        .map(|(p, v)| procedure_of(p, v))
        .collect()
}

/// What a write did to a procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A new procedure.
    Created,
    /// A new version, or a correction of the current one.
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// A procedure's content to store.
#[derive(Debug, Clone)]
pub struct ProcedureWrite {
    /// Code.
    pub code: ProcedureCode,
    /// Content.
    pub content: ProcedureContent,
    /// First day the content is in force. A later day than the current version's makes a new
    /// version; the same day corrects the current version.
    pub valid_from: NaiveDate,
    /// The decision that made it.
    pub decision: Option<String>,
    /// Published on the national database: `Some(None)` makes it a draft again.
    pub published_on: Option<Option<NaiveDate>>,
}

fn check_content(
    conn: &mut DbConnection,
    scope: &UnitScope,
    content: &ProcedureContent,
) -> StoreResult<Vec<i64>> {
    let mut invalid = Vec::new();
    if content.name.trim().is_empty() {
        invalid.push(InvalidParam::new("content.name", "must not be empty"));
    } else if content.name.chars().count() > crate::procedure::NAME_MAX {
        invalid.push(InvalidParam::new(
            "content.name",
            format!("must be at most {} characters", crate::procedure::NAME_MAX),
        ));
    }
    let known_field: Option<String> = fields::table
        .find(&content.field)
        .select(fields::code)
        .first(conn)
        .optional()?;
    if known_field.is_none() {
        invalid.push(InvalidParam::new(
            "content.field",
            format!("no field has the code {:?}", content.field),
        ));
    }
    // Read with `TimeLimit::new` when a dossier is judged: a limit it refuses was stored, and
    // every dossier of the procedure was then judged as having none, never late.
    if let Some(limit) = content.time_limit
        && let Err(e) = TimeLimit::new(limit.amount, limit.measure)
    {
        invalid.push(InvalidParam::new("content.timeLimit.amount", e.reason));
    }
    // A procedure no unit handles is the whole province's (`check_owned`): a client granted
    // only some units may not make one.
    if content.handling_units.is_empty() && !matches!(scope, UnitScope::All) {
        invalid.push(InvalidParam::new(
            "content.handlingUnits",
            "must name a unit of your grant: a procedure no unit handles is the whole province's, \
             which only a client granted every unit may create or make",
        ));
    }
    let mut unit_ids = Vec::new();
    for (i, code) in content.handling_units.iter().enumerate() {
        // Twice, it broke the version's units' primary key: a 500.
        if content.handling_units[..i].contains(code) {
            invalid.push(InvalidParam::new(
                format!("content.handlingUnits[{i}]"),
                format!("{code} is listed twice"),
            ));
            continue;
        }
        let unit: Option<(i64, String)> = units::table
            .filter(units::code.eq(code))
            .select((units::id, units::path))
            .first(conn)
            .optional()?;
        // A unit outside the caller's grant does not exist for it.
        match unit.filter(|(_, path)| scope.allows(path)) {
            Some((id, _)) => unit_ids.push(id),
            None => invalid.push(InvalidParam::new(
                format!("content.handlingUnits[{i}]"),
                format!("no unit has the code {code}"),
            )),
        }
    }
    if invalid.is_empty() {
        Ok(unit_ids)
    } else {
        Err(StoreError::Invalid(invalid))
    }
}

fn insert_version(
    conn: &mut DbConnection,
    procedure_id: i64,
    seq: i32,
    write: &ProcedureWrite,
    unit_ids: &[i64],
) -> StoreResult<()> {
    let c = &write.content;
    let missing: Vec<&str> = missing_parts(c)
        .into_iter()
        .map(ContentPart::as_str)
        .collect();
    let levels: Vec<String> = c
        .levels
        .iter()
        .filter_map(|l| serde_json::to_value(l).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let online = c
        .online_level
        .and_then(|l| serde_json::to_value(l).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    let content = serde_json::to_string(c).map_err(|e| StoreError::Setup(e.to_string()))?;
    diesel::insert_into(procedure_versions::table)
        .values((
            procedure_versions::procedure_id.eq(procedure_id),
            procedure_versions::seq.eq(seq),
            procedure_versions::valid_from.eq(write.valid_from),
            procedure_versions::decision.eq(&write.decision),
            procedure_versions::name.eq(c.name.trim()),
            procedure_versions::search_name.eq(fold(&c.name)),
            procedure_versions::field.eq(&c.field),
            procedure_versions::online_level.eq(online),
            procedure_versions::levels.eq(levels.join(" ")),
            procedure_versions::missing.eq(missing.join(" ")),
            procedure_versions::content.eq(content),
            procedure_versions::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    let version_id: i64 = procedure_versions::table
        .filter(procedure_versions::procedure_id.eq(procedure_id))
        .filter(procedure_versions::seq.eq(seq))
        .select(procedure_versions::id)
        .first(conn)?;
    for unit_id in unit_ids {
        diesel::insert_into(procedure_version_units::table)
            .values((
                procedure_version_units::version_id.eq(version_id),
                procedure_version_units::unit_id.eq(unit_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The tree paths of the units handling procedure `procedure_id`'s latest version.
fn handling_paths(conn: &mut DbConnection, procedure_id: i64) -> StoreResult<Vec<String>> {
    let Some(latest) = latest_version(conn, procedure_id)? else {
        return Ok(Vec::new());
    };
    Ok(procedure_version_units::table
        .inner_join(units::table)
        .filter(procedure_version_units::version_id.eq(latest.id))
        .select(units::path)
        .load(conn)?)
}

/// Where a change to a procedure is kept in the audit trail: under the deepest unit whose
/// subtree holds every unit handling it (the whole service when none does).
fn audit_path(conn: &mut DbConnection, procedure_id: i64) -> StoreResult<Option<String>> {
    let paths = handling_paths(conn, procedure_id)?;
    Ok(crate::unit::common_ancestor(
        paths.iter().map(String::as_str),
    ))
}

/// Refuses a write to stored procedure `code` unless the caller's grant covers it: every unit
/// handling its latest version lies within `scope`. A procedure no unit handles belongs to the
/// whole province: only a client acting for every unit changes it.
fn check_owned(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> StoreResult<()> {
    if matches!(scope, UnitScope::All) {
        return Ok(());
    }
    let Some(row) = find_row(conn, code)? else {
        return Ok(());
    };
    let paths = handling_paths(conn, row.id)?;
    if !paths.is_empty() && paths.iter().all(|p| scope.allows(p)) {
        Ok(())
    } else {
        Err(StoreError::OutsideGrant(format!(
            "the procedure {code} is handled by units outside your grant; only a client whose \
             grant covers every unit handling it may change it"
        )))
    }
}

/// Stores a procedure's content inside the caller's transaction: creates it, adds a version,
/// corrects the current version, or does nothing when nothing changed. Audited.
pub fn write_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &ProcedureWrite,
) -> StoreResult<Outcome> {
    super::lock_record(conn, &lock_key(write.code.as_str()))?;
    check_owned(conn, scope, write.code.as_str())?;
    let unit_ids = check_content(conn, scope, &write.content)?;
    let code = write.code.as_str();
    let now = super::now();
    let Some(row) = find_row(conn, code)? else {
        diesel::insert_into(procedures::table)
            .values((
                procedures::code.eq(code),
                procedures::base_code.eq(write.code.base()),
                procedures::localized.eq(write.code.is_localized()),
                procedures::published_on.eq(write.published_on.flatten()),
                procedures::version.eq(1),
                procedures::created_at.eq(now),
                procedures::updated_at.eq(now),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "code",
                    &format!("the procedure {code} exists already"),
                )
            })?;
        let row = find_row(conn, code)?.ok_or_else(|| not_found(code))?;
        insert_version(conn, row.id, 1, write, &unit_ids)?;
        let after = get(conn, code, write.valid_from, true)?;
        let unit_path = audit_path(conn, row.id)?;
        audit::record_in_unit(
            conn,
            actor,
            unit_path.as_deref(),
            &Change {
                action: "create",
                resource_type: "procedure",
                resource_id: code,
                before: None,
                after: Some(&after),
            },
        )?;
        return Ok(Outcome::Created);
    };
    let latest = latest_version(conn, row.id)?.ok_or_else(|| not_found(code))?;
    let before = procedure_of(row.clone(), latest.clone())?;
    let same_content =
        before.current.content == write.content && before.current.decision == write.decision;
    let published_on = write.published_on.unwrap_or(row.published_on);
    if same_content && published_on == row.published_on && row.abolished_on.is_none() {
        return Ok(Outcome::Unchanged);
    }
    if write.valid_from < latest.valid_from {
        return Err(StoreError::invalid(InvalidParam::new(
            "validFrom",
            format!(
                "must not be before the current version's start, {}",
                latest.valid_from
            ),
        )));
    }
    if !same_content || row.abolished_on.is_some() {
        if write.valid_from == latest.valid_from {
            // A correction of the version in force: replace it.
            diesel::delete(
                procedure_version_units::table
                    .filter(procedure_version_units::version_id.eq(latest.id)),
            )
            .execute(conn)?;
            diesel::delete(procedure_versions::table.find(latest.id)).execute(conn)?;
            insert_version(conn, row.id, latest.seq, write, &unit_ids)?;
        } else {
            let end = write.valid_from - TimeDelta::days(1);
            diesel::update(procedure_versions::table.find(latest.id))
                .set(procedure_versions::valid_to.eq(latest.valid_to.map_or(end, |t| t.min(end))))
                .execute(conn)?;
            insert_version(conn, row.id, latest.seq + 1, write, &unit_ids)?;
        }
    }
    diesel::update(procedures::table.find(row.id))
        .set((
            procedures::published_on.eq(published_on),
            procedures::abolished_on.eq(None::<NaiveDate>),
            procedures::version.eq(row.version + 1),
            procedures::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = get(conn, code, write.valid_from, true)?;
    audit_change(conn, actor, row.id, ("update", &before), &after)?;
    Ok(Outcome::Updated)
}

/// [`write_in`] in a transaction of its own; with `expected_version`, refuses when the
/// procedure changed since.
pub fn write(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &ProcedureWrite,
    expected_version: Option<&Versions>,
) -> StoreResult<Outcome> {
    write_tx(conn, |conn| {
        // Before the version is read; `write_in` takes it again, which costs nothing.
        super::lock_record(conn, &lock_key(write.code.as_str()))?;
        // Before the version check, which would tell the version of a procedure not ours.
        check_owned(conn, scope, write.code.as_str())?;
        if let Some(expected) = expected_version {
            let current = find_row(conn, write.code.as_str())?.map_or(0, |r| r.version);
            if !expected.allows(current) {
                return Err(StoreError::VersionMismatch { current });
            }
        }
        write_in(conn, actor, scope, write)
    })
}

/// Ends procedure `code`'s validity the day before `on` (abolition), inside the caller's
/// transaction. Audited.
pub fn abolish_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    on: NaiveDate,
) -> StoreResult<()> {
    super::lock_record(conn, &lock_key(code))?;
    check_owned(conn, scope, code)?;
    let row = find_row(conn, code)?.ok_or_else(|| not_found(code))?;
    let latest = latest_version(conn, row.id)?.ok_or_else(|| not_found(code))?;
    let before = procedure_of(row.clone(), latest.clone())?;
    let end = (on - TimeDelta::days(1)).max(latest.valid_from);
    diesel::update(procedure_versions::table.find(latest.id))
        .set(procedure_versions::valid_to.eq(latest.valid_to.map_or(end, |t| t.min(end))))
        .execute(conn)?;
    diesel::update(procedures::table.find(row.id))
        .set((
            procedures::abolished_on.eq(on),
            procedures::version.eq(row.version + 1),
            procedures::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    let after = get(conn, code, end, true)?;
    audit_change(conn, actor, row.id, ("abolish", &before), &after)
}

/// Marks procedures published on the national database on `on`, where not marked yet, each a
/// new version. Audited, so that the change feed and webhooks carry it. Refused, as any change
/// of them, unless `scope` covers every unit handling each one ([`check_owned`]).
pub fn mark_published_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    codes: &[String],
    on: NaiveDate,
) -> StoreResult<usize> {
    lock(conn, codes.iter().map(String::as_str))?;
    let unmarked: Vec<ProcedureRow> = procedures::table
        .filter(procedures::code.eq_any(codes))
        .filter(procedures::published_on.is_null())
        .select(ProcedureRow::as_select())
        .load(conn)?;
    for row in &unmarked {
        check_owned(conn, scope, &row.code)?;
    }
    for row in &unmarked {
        let latest = latest_version(conn, row.id)?.ok_or_else(|| not_found(&row.code))?;
        let before = procedure_of(row.clone(), latest.clone())?;
        diesel::update(procedures::table.find(row.id))
            .set((
                procedures::published_on.eq(on),
                procedures::version.eq(row.version + 1),
                procedures::updated_at.eq(super::now()),
            ))
            .execute(conn)?;
        let marked = find_row(conn, &row.code)?.ok_or_else(|| not_found(&row.code))?;
        let after = procedure_of(marked, latest)?;
        audit_change(conn, actor, row.id, ("update", &before), &after)?;
    }
    Ok(unmarked.len())
}

/// Audits a change of a stored procedure (`row_id`) under the units handling it.
fn audit_change(
    conn: &mut DbConnection,
    actor: &Actor,
    row_id: i64,
    (action, before): (&str, &Procedure),
    after: &Procedure,
) -> StoreResult<()> {
    let unit_path = audit_path(conn, row_id)?;
    audit::record_in_unit(
        conn,
        actor,
        unit_path.as_deref(),
        &Change {
            action,
            resource_type: "procedure",
            resource_id: &after.code,
            before: Some(before),
            after: Some(after),
        },
    )
}

/// The key a writer of procedure `code` holds ([`super::lock_record`]).
fn lock_key(code: &str) -> String {
    format!("procedure:{code}")
}

/// Holds procedures `codes` for the rest of the caller's write transaction, all at once
/// ([`super::lock_each`]): a writer of several (a decision's application) takes them before
/// the first, so that two such writers cannot wait on each other.
pub(crate) fn lock<'a>(
    conn: &mut DbConnection,
    codes: impl IntoIterator<Item = &'a str>,
) -> StoreResult<()> {
    let keys: Vec<String> = codes.into_iter().map(lock_key).collect();
    super::lock_each(conn, &keys)
}

/// A national procedure handled locally that the province has not localized.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"code": "1.012345", "name": "Cấp giấy phép khai thác nước dưới đất", "field": "TNN", "units": ["000.00.06.H12"]})))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotLocalized {
    /// National code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Field code.
    pub field: String,
    /// Codes of the units that handle it.
    pub units: Vec<String>,
}

/// National procedures in force on `on`, handled at province, district or commune level within
/// `scope`, that no localized procedure is based on.
pub fn not_localized(
    conn: &mut DbConnection,
    scope: &UnitScope,
    on: NaiveDate,
) -> StoreResult<Vec<NotLocalized>> {
    let localized_bases = procedures::table
        .filter(procedures::localized.eq(true))
        .select(procedures::base_code);
    let localized_bases: Vec<String> = localized_bases.load(conn)?;
    let rows: Vec<(ProcedureRow, VersionRow)> = procedure_versions::table
        .inner_join(procedures::table)
        .filter(procedures::localized.eq(false))
        .filter(in_force_on(on))
        .select((ProcedureRow::as_select(), VersionRow::as_select()))
        .order(procedures::code.asc())
        .load(conn)?;
    let mut out = Vec::new();
    for (p, v) in rows {
        if localized_bases.contains(&p.code) {
            continue;
        }
        let content: ProcedureContent = match serde_json::from_str(&v.content) {
            Ok(c) => c,
            Err(_) => continue,
        };
        let local = content
            .levels
            .iter()
            .any(|l| !matches!(l, crate::procedure::ProcedureLevel::Central));
        if !local {
            continue;
        }
        let paths: Vec<(String, String)> = procedure_version_units::table
            .inner_join(units::table)
            .filter(procedure_version_units::version_id.eq(v.id))
            .select((units::code, units::path))
            .load(conn)?;
        let in_scope = match scope {
            UnitScope::All => true,
            UnitScope::Within(_) => paths.iter().any(|(_, path)| scope.allows(path)),
        };
        if !in_scope {
            continue;
        }
        out.push(NotLocalized {
            code: p.code,
            name: content.name,
            field: content.field,
            units: paths.into_iter().map(|(code, _)| code).collect(),
        });
    }
    Ok(out)
}
