//! Tasks assigned by letter and each unit's part of them ([`crate::task`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Change};
use super::duties::FileMeta;
use super::schema::{task_parts, tasks, units};
use super::timestamp::Stamp;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::InvalidParam;
use crate::task::{PartState, Target};
use crate::unit::UnitScope;
use crate::version::Versions;

/// The letter a task comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Letter {
    /// The letter's number, e.g. `3512/UBND-KSTT`.
    pub number: String,
    /// Its date.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// Who signed it.
    pub signer: String,
    /// Its title (trích yếu), if given.
    #[serde(default)]
    pub title: Option<String>,
}

/// What shows a unit's part done: the document that reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evidence {
    /// The document's number, e.g. `215/BC-STP`.
    pub document_number: String,
    /// Its date: the day the part was done (judged against the deadline).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// The file's metadata (tthc keeps the metadata, not the file).
    #[serde(default)]
    pub file: Option<FileMeta>,
    /// The figure the unit reports against the task's target, if any (e.g. 23.5 for "23.5%
    /// fewer fields").
    #[serde(default)]
    pub figure: Option<f64>,
}

/// What kind of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum TaskKind {
    /// Assigned by a letter.
    Task,
    /// A monthly notice's late dossiers to explain (seed `004_…`).
    Explanation,
}

impl TaskKind {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Explanation => "explanation",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::Task, Self::Explanation]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// A unit's part of a task being created.
#[derive(Debug, Clone, PartialEq)]
pub struct PartForm {
    /// The unit's code.
    pub unit: String,
    /// What the part is about beyond the task, if anything.
    pub note: Option<String>,
}

/// A task being created.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskForm {
    /// The caller's unique key, if any.
    pub key: Option<String>,
    /// Its kind.
    pub kind: TaskKind,
    /// The letter.
    pub source: Letter,
    /// What is to be done.
    pub text: String,
    /// Done on or after this day is late.
    pub due_before: NaiveDate,
    /// Its measurable target, if any.
    pub target: Option<Target>,
    /// The units it is assigned to.
    pub parts: Vec<PartForm>,
}

/// A unit's part of a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub unit_name: String,
    /// Its tree path.
    #[serde(skip)]
    pub unit_path: String,
    /// As recorded.
    pub state: PartState,
    /// What the part is about beyond the task.
    pub note: Option<String>,
    /// What shows it done.
    pub evidence: Option<Evidence>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Version, for `If-Match`.
    pub version: i64,
    /// Last written (UTC).
    pub updated_at: NaiveDateTime,
    /// By which client.
    pub updated_by: String,
}

/// A stored task, with the parts the reader may see.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Id.
    pub id: i64,
    /// The caller's key.
    pub key: Option<String>,
    /// Its kind.
    pub kind: TaskKind,
    /// The letter.
    pub source: Letter,
    /// What is to be done.
    pub text: String,
    /// Done on or after this day is late.
    pub due_before: NaiveDate,
    /// Its measurable target.
    pub target: Option<Target>,
    /// Version, for `If-Match`.
    pub version: i64,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// By which client.
    pub created_by: String,
    /// The units' parts, by unit code.
    pub parts: Vec<Part>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks)]
struct TaskRow {
    id: i64,
    task_key: Option<String>,
    kind: String,
    source_number: String,
    source_date: NaiveDate,
    source_signer: String,
    source_title: Option<String>,
    body: String,
    due_before: NaiveDate,
    target: Option<String>,
    version: i64,
    created_at: Stamp,
    created_by: String,
}

type PartRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    (Option<String>, Option<NaiveDate>, Option<String>),
    Option<String>,
    i64,
    Stamp,
    String,
);

fn part_of(row: PartRow) -> StoreResult<(i64, Part)> {
    let (
        task_id,
        unit,
        unit_name,
        unit_path,
        state,
        note,
        (document_number, done_on, evidence),
        cancel_reason,
        version,
        updated_at,
        updated_by,
    ) = row;
    let bad = |what: &str| StoreError::Setup(format!("task {task_id}, part of {unit}: bad {what}"));
    let state = PartState::parse(&state).ok_or_else(|| bad("state"))?;
    let evidence = match (document_number, done_on) {
        (Some(document_number), Some(date)) => {
            #[derive(Deserialize, Default)]
            struct Extra {
                file: Option<FileMeta>,
                figure: Option<f64>,
            }
            let extra: Extra = evidence
                .map(|e| serde_json::from_str(&e))
                .transpose()
                .map_err(|_| bad("evidence"))?
                .unwrap_or_default();
            Some(Evidence {
                document_number,
                date,
                file: extra.file,
                figure: extra.figure,
            })
        }
        _ => None,
    };
    Ok((
        task_id,
        Part {
            unit,
            unit_name,
            unit_path,
            state,
            note,
            evidence,
            cancel_reason,
            version,
            updated_at: updated_at.0,
            updated_by,
        },
    ))
}

fn task_of(row: TaskRow, parts: Vec<Part>) -> StoreResult<Task> {
    let id = row.id;
    let bad = |what: &str| StoreError::Setup(format!("task {id}: bad {what}"));
    Ok(Task {
        id,
        key: row.task_key,
        kind: TaskKind::parse(&row.kind).ok_or_else(|| bad("kind"))?,
        source: Letter {
            number: row.source_number,
            date: row.source_date,
            signer: row.source_signer,
            title: row.source_title,
        },
        text: row.body,
        due_before: row.due_before,
        target: row
            .target
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|_| bad("target"))?,
        version: row.version,
        created_at: row.created_at.0,
        created_by: row.created_by,
        parts,
    })
}

/// Which tasks to read.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// This one.
    pub id: Option<i64>,
    /// Due before a day from this one on (inclusive).
    pub due_from: Option<NaiveDate>,
    /// Due before a day up to this one (inclusive).
    pub due_to: Option<NaiveDate>,
    /// From the letter with this number.
    pub source_number: Option<String>,
    /// Of this kind.
    pub kind: Option<TaskKind>,
    /// Only the parts of this unit (id).
    pub unit_id: Option<i64>,
    /// Only the parts in this state.
    pub state: Option<PartState>,
}

/// The tasks `filter` selects with the parts `scope` allows, by deadline then id. A task none of
/// whose parts the scope allows is left out, unless the scope is every unit.
pub fn list(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &TaskFilter,
) -> StoreResult<Vec<Task>> {
    let mut q = tasks::table
        .select(TaskRow::as_select())
        .into_boxed::<<DbConnection as Connection>::Backend>();
    if let Some(id) = filter.id {
        q = q.filter(tasks::id.eq(id));
    }
    if let Some(from) = filter.due_from {
        q = q.filter(tasks::due_before.ge(from));
    }
    if let Some(to) = filter.due_to {
        q = q.filter(tasks::due_before.le(to));
    }
    if let Some(n) = &filter.source_number {
        q = q.filter(tasks::source_number.eq(n.clone()));
    }
    if let Some(k) = filter.kind {
        q = q.filter(tasks::kind.eq(k.as_str()));
    }
    let rows: Vec<TaskRow> = q
        .order((tasks::due_before.asc(), tasks::id.asc()))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut parts: BTreeMap<i64, Vec<Part>> = BTreeMap::new();
    // Bound the IN list: a year's tasks are hundreds, not thousands.
    for chunk in ids.chunks(500) {
        let mut pq = task_parts::table
            .inner_join(units::table)
            .filter(task_parts::task_id.eq_any(chunk.to_vec()))
            .select((
                task_parts::task_id,
                units::code,
                units::name,
                units::path,
                task_parts::state,
                task_parts::note,
                (
                    task_parts::document_number,
                    task_parts::done_on,
                    task_parts::evidence,
                ),
                task_parts::cancel_reason,
                task_parts::version,
                task_parts::updated_at,
                task_parts::updated_by,
            ))
            .into_boxed::<<DbConnection as Connection>::Backend>();
        if let Some(u) = filter.unit_id {
            pq = pq.filter(task_parts::unit_id.eq(u));
        }
        if let Some(s) = filter.state {
            pq = pq.filter(task_parts::state.eq(s.as_str()));
        }
        for row in pq.order(units::code.asc()).load::<PartRow>(conn)? {
            let (task_id, part) = part_of(row)?;
            if scope.allows(&part.unit_path) {
                parts.entry(task_id).or_default().push(part);
            }
        }
    }
    let unfiltered =
        matches!(scope, UnitScope::All) && filter.unit_id.is_none() && filter.state.is_none();
    rows.into_iter()
        .filter_map(|row| {
            let mine = parts.remove(&row.id).unwrap_or_default();
            (unfiltered || !mine.is_empty()).then(|| task_of(row, mine))
        })
        .collect()
}

/// Task `id` with the parts `scope` allows; not found when it allows none.
pub fn get(conn: &mut DbConnection, scope: &UnitScope, id: i64) -> StoreResult<Task> {
    let filter = TaskFilter {
        id: Some(id),
        ..TaskFilter::default()
    };
    list(conn, scope, &filter)?
        .pop()
        .ok_or_else(|| StoreError::NotFound {
            resource: "task",
            id: id.to_string(),
        })
}

fn json(value: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Setup(e.to_string()))
}

/// The evidence's file and figure, as stored beside its number and date.
fn evidence_extra(e: &Evidence) -> StoreResult<Option<String>> {
    if e.file.is_none() && e.figure.is_none() {
        return Ok(None);
    }
    json(&serde_json::json!({"file": e.file, "figure": e.figure})).map(Some)
}

/// Inserts a task row and gives its id (backend-specific: PostgreSQL returns it, SQLite's
/// writer is alone in its transaction and reads its last row id).
fn insert_task(
    conn: &mut DbConnection,
    form: &TaskForm,
    target: Option<String>,
    actor: &Actor,
    now: NaiveDateTime,
) -> diesel::QueryResult<i64> {
    let values = (
        tasks::task_key.eq(form.key.clone()),
        tasks::kind.eq(form.kind.as_str()),
        tasks::source_number.eq(form.source.number.clone()),
        tasks::source_date.eq(form.source.date),
        tasks::source_signer.eq(form.source.signer.clone()),
        tasks::source_title.eq(form.source.title.clone()),
        tasks::body.eq(form.text.clone()),
        tasks::due_before.eq(form.due_before),
        tasks::target.eq(target),
        tasks::version.eq(1_i64),
        tasks::created_at.eq(Stamp(now)),
        tasks::created_by.eq(actor.client_id.clone()),
        tasks::updated_at.eq(Stamp(now)),
    );
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(tasks::table)
            .values(values)
            .returning(tasks::id)
            .get_result(c),
        DbConnection::Sqlite(c) => {
            diesel::insert_into(tasks::table)
                .values(values)
                .execute(c)?;
            diesel::select(diesel::dsl::sql::<BigInt>("last_insert_rowid()")).get_result(c)
        }
    }
}

/// The units `forms` name that `scope` allows: code → (id, path).
fn known_units(
    conn: &mut DbConnection,
    scope: &UnitScope,
    forms: &[TaskForm],
) -> StoreResult<BTreeMap<String, (i64, String)>> {
    let codes: BTreeSet<String> = forms
        .iter()
        .flat_map(|f| f.parts.iter().map(|p| p.unit.clone()))
        .collect();
    let mut known = BTreeMap::new();
    let codes: Vec<String> = codes.into_iter().collect();
    for chunk in codes.chunks(500) {
        for (code, id, path) in units::table
            .filter(units::code.eq_any(chunk.to_vec()))
            .select((units::code, units::id, units::path))
            .load::<(String, i64, String)>(conn)?
        {
            if scope.allows(&path) {
                known.insert(code, (id, path));
            }
        }
    }
    Ok(known)
}

/// What refuses `forms` whole, named under `field(i)` (`tasks[3].`): a unit unknown or outside
/// `scope`, a unit listed twice, a key given twice (a key already taken is a conflict, checked
/// when writing).
pub fn problems(
    conn: &mut DbConnection,
    scope: &UnitScope,
    forms: &[TaskForm],
    field: &impl Fn(usize) -> String,
) -> StoreResult<Vec<InvalidParam>> {
    let known = known_units(conn, scope, forms)?;
    Ok(problems_with(&known, forms, field))
}

fn problems_with(
    known: &BTreeMap<String, (i64, String)>,
    forms: &[TaskForm],
    field: &impl Fn(usize) -> String,
) -> Vec<InvalidParam> {
    let mut invalid = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        for (j, part) in form.parts.iter().enumerate() {
            if !known.contains_key(&part.unit) {
                invalid.push(InvalidParam::new(
                    format!("{}units[{j}]", field(i)),
                    format!(
                        "no unit has the code {} among the caller's units",
                        part.unit
                    ),
                ));
            } else if form.parts[..j].iter().any(|p| p.unit == part.unit) {
                invalid.push(InvalidParam::new(
                    format!("{}units[{j}]", field(i)),
                    format!("{} is listed twice", part.unit),
                ));
            }
        }
        if let Some(key) = &form.key
            && forms[..i].iter().any(|f| f.key.as_ref() == Some(key))
        {
            invalid.push(InvalidParam::new(
                format!("{}key", field(i)),
                format!("{key} is given twice"),
            ));
        }
    }
    invalid
}

/// Creates `forms` in one transaction, each assigned to units `scope` allows; refused whole,
/// with every problem named under `field(i)` (`tasks[3].`): a unit unknown or outside the
/// scope, a unit listed twice, a key given twice or taken. Audited: the task, and each part
/// under its unit (so that a unit-limited reader of the change feed learns of it).
pub fn create_many(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    forms: &[TaskForm],
    field: impl Fn(usize) -> String,
) -> StoreResult<Vec<Task>> {
    write_tx(conn, |conn| {
        let known = known_units(conn, scope, forms)?;
        let invalid = problems_with(&known, forms, &field);
        if !invalid.is_empty() {
            return Err(StoreError::Invalid(invalid));
        }
        let keys: Vec<String> = forms.iter().filter_map(|f| f.key.clone()).collect();
        let taken: BTreeSet<String> = tasks::table
            .filter(tasks::task_key.eq_any(keys))
            .select(tasks::task_key)
            .load::<Option<String>>(conn)?
            .into_iter()
            .flatten()
            .collect();
        let taken_by = |i: usize, key: &str| {
            InvalidParam::new(
                format!("{}key", field(i)),
                format!("a task with the key {key} exists already"),
            )
        };
        if let Some((i, key)) = forms.iter().enumerate().find_map(|(i, f)| {
            f.key
                .as_ref()
                .filter(|k| taken.contains(*k))
                .map(|k| (i, k))
        }) {
            return Err(StoreError::Conflict(taken_by(i, key)));
        }
        let now = super::now();
        let mut created = Vec::with_capacity(forms.len());
        for (i, form) in forms.iter().enumerate() {
            let target = form.target.as_ref().map(json).transpose()?;
            // Another instance may have taken the key since it was looked up.
            let id = insert_task(conn, form, target, actor, now).map_err(|e| {
                let taken = taken_by(i, form.key.as_deref().unwrap_or_default());
                StoreError::unique_as_conflict(e, &taken.name, &taken.reason)
            })?;
            for part in &form.parts {
                let Some((unit_id, _)) = known.get(&part.unit) else {
                    continue;
                };
                diesel::insert_into(task_parts::table)
                    .values((
                        task_parts::task_id.eq(id),
                        task_parts::unit_id.eq(unit_id),
                        task_parts::state.eq(PartState::Open.as_str()),
                        task_parts::note.eq(part.note.clone()),
                        task_parts::version.eq(1_i64),
                        task_parts::updated_at.eq(Stamp(now)),
                        task_parts::updated_by.eq(actor.client_id.clone()),
                    ))
                    .execute(conn)?;
            }
            let task = get(conn, &UnitScope::All, id)?;
            let task_id = id.to_string();
            audit::record(
                conn,
                actor,
                &Change {
                    action: "create",
                    resource_type: "task",
                    resource_id: &task_id,
                    before: None,
                    after: Some(&task),
                },
            )?;
            for part in &task.parts {
                audit::record_in_unit(
                    conn,
                    actor,
                    Some(&part.unit_path),
                    &Change {
                        action: "create",
                        resource_type: "taskPart",
                        resource_id: &format!("{id}/{}", part.unit),
                        before: None,
                        after: Some(part),
                    },
                )?;
            }
            created.push(task);
        }
        Ok(created)
    })
}

/// The key a task has, if one exists with it.
pub fn find_by_key(conn: &mut DbConnection, key: &str) -> StoreResult<Option<i64>> {
    Ok(tasks::table
        .filter(tasks::task_key.eq(key))
        .select(tasks::id)
        .first(conn)
        .optional()?)
}

/// A change to a task (fields left `None` stay).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskChange {
    /// New text.
    pub text: Option<String>,
    /// New deadline.
    pub due_before: Option<NaiveDate>,
    /// New target (`Some(None)` removes it).
    pub target: Option<Option<Target>>,
    /// Cancels every open part, for this reason.
    pub cancel_reason: Option<String>,
}

/// The error for a conditional write that found the row at another version than it read.
fn version_moved<Q>(conn: &mut DbConnection, current: Q) -> StoreResult<StoreError>
where
    Q: diesel::query_dsl::LoadQuery<'static, DbConnection, i64>,
{
    let current = current.get_result(conn)?;
    Ok(StoreError::VersionMismatch { current })
}

fn check_version(expected: Option<&Versions>, current: i64) -> StoreResult<()> {
    match expected {
        Some(e) if !e.allows(current) => Err(StoreError::VersionMismatch { current }),
        _ => Ok(()),
    }
}

/// Changes task `id`, every part of which `scope` must allow. `If-Match` when `expected` is
/// given. Audited.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    id: i64,
    change: &TaskChange,
    expected: Option<&Versions>,
) -> StoreResult<Task> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("task:{id}"))?;
        let before = get(conn, &UnitScope::All, id)?;
        if before.parts.iter().any(|p| !scope.allows(&p.unit_path)) {
            return Err(StoreError::NotFound {
                resource: "task",
                id: id.to_string(),
            });
        }
        check_version(expected, before.version)?;
        let target = match &change.target {
            Some(t) => t.as_ref().map(json).transpose()?,
            None => before.target.as_ref().map(json).transpose()?,
        };
        let now = super::now();
        // Conditional on the version read, so that a concurrent writer cannot be overwritten.
        let written = diesel::update(
            tasks::table
                .find(id)
                .filter(tasks::version.eq(before.version)),
        )
        .set((
            tasks::body.eq(change.text.clone().unwrap_or_else(|| before.text.clone())),
            tasks::due_before.eq(change.due_before.unwrap_or(before.due_before)),
            tasks::target.eq(target),
            tasks::version.eq(before.version + 1),
            tasks::updated_at.eq(Stamp(now)),
        ))
        .execute(conn)?;
        if written == 0 {
            return Err(version_moved(
                conn,
                tasks::table.find(id).select(tasks::version),
            )?);
        }
        if let Some(reason) = &change.cancel_reason {
            diesel::update(
                task_parts::table
                    .filter(task_parts::task_id.eq(id))
                    .filter(task_parts::state.eq(PartState::Open.as_str())),
            )
            .set((
                task_parts::state.eq(PartState::Cancelled.as_str()),
                task_parts::cancel_reason.eq(reason),
                task_parts::version.eq(task_parts::version + 1),
                task_parts::updated_at.eq(Stamp(now)),
                task_parts::updated_by.eq(actor.client_id.clone()),
            ))
            .execute(conn)?;
        }
        let after = get(conn, &UnitScope::All, id)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "update",
                resource_type: "task",
                resource_id: &id.to_string(),
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        // Each unit learns from the feed that its part's task changed (deadline, text, a
        // cancellation), under its own unit.
        for (old, new) in before.parts.iter().zip(&after.parts) {
            audit::record_in_unit(
                conn,
                actor,
                Some(&new.unit_path),
                &Change {
                    action: "update",
                    resource_type: "taskPart",
                    resource_id: &format!("{id}/{}", new.unit),
                    before: Some(old),
                    after: Some(new),
                },
            )?;
        }
        Ok(after)
    })
}

/// What becomes of a unit's part.
#[derive(Debug, Clone, PartialEq)]
pub enum PartChange {
    /// Done, with its evidence.
    Done(Evidence),
    /// Cancelled, for a reason.
    Cancelled(String),
    /// Open again.
    Reopened,
}

/// Records `change` to the part of unit `unit` (a code `scope` allows) in task `id`. A unit changes
/// only its open part; a done or cancelled part is the `office`'s to change (it reopens it
/// first), so a unit cannot undo a cancellation or redate its evidence. `If-Match` on the
/// part's version when `expected` is given. Audited under the unit.
pub fn set_part(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    (id, unit): (i64, &str),
    change: &PartChange,
    office: bool,
    expected: Option<&Versions>,
) -> StoreResult<Task> {
    write_tx(conn, |conn| {
        // The task's lock, not the part's: changing the task changes its parts' versions.
        super::lock_record(conn, &format!("task:{id}"))?;
        let task = get(conn, scope, id)?;
        let before = task
            .parts
            .iter()
            .find(|p| p.unit == unit)
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                resource: "part of task",
                id: format!("{id}/{unit}"),
            })?;
        if !office && before.state != PartState::Open {
            return Err(StoreError::invalid(InvalidParam::new(
                "state",
                format!(
                    "the part of {unit} is {}: only the office (tasks:admin) changes it",
                    before.state.as_str()
                ),
            )));
        }
        check_version(expected, before.version)?;
        let unit_id: i64 = units::table
            .filter(units::code.eq(unit))
            .select(units::id)
            .first(conn)?;
        let (state, number, date, extra, reason) = match change {
            PartChange::Done(e) => (
                PartState::Done,
                Some(e.document_number.clone()),
                Some(e.date),
                evidence_extra(e)?,
                None,
            ),
            PartChange::Cancelled(r) => (PartState::Cancelled, None, None, None, Some(r.clone())),
            PartChange::Reopened => (PartState::Open, None, None, None, None),
        };
        let part = task_parts::table
            .filter(task_parts::task_id.eq(id))
            .filter(task_parts::unit_id.eq(unit_id));
        // Conditional on the version read, so that a concurrent writer cannot be overwritten.
        let written = diesel::update(part.filter(task_parts::version.eq(before.version)))
            .set((
                task_parts::state.eq(state.as_str()),
                task_parts::document_number.eq(number),
                task_parts::done_on.eq(date),
                task_parts::evidence.eq(extra),
                task_parts::cancel_reason.eq(reason),
                task_parts::version.eq(before.version + 1),
                task_parts::updated_at.eq(Stamp(super::now())),
                task_parts::updated_by.eq(actor.client_id.clone()),
            ))
            .execute(conn)?;
        if written == 0 {
            return Err(version_moved(conn, part.select(task_parts::version))?);
        }
        let after_task = get(conn, scope, id)?;
        if let Some(after) = after_task.parts.iter().find(|p| p.unit == unit) {
            audit::record_in_unit(
                conn,
                actor,
                Some(&after.unit_path),
                &Change {
                    action: "update",
                    resource_type: "taskPart",
                    resource_id: &format!("{id}/{unit}"),
                    before: Some(&before),
                    after: Some(after),
                },
            )?;
        }
        Ok(after_task)
    })
}
