//! `/api/v1/tasks`: the work the provincial office assigns by letter with a deadline (seed
//! `002_…`, `001_…`), each unit's part tracked on its own, the notice's late dossiers to explain
//! (seed `004_…`), reminders, overdue parts, and a unit's yearly record beside its reporting
//! duties.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::app::AppError;
use tthc_core::app::notice as app_notice;
use tthc_core::app::tasks::{self as app_tasks, Figure};
use tthc_core::calendar::from_local;
use tthc_core::db::tasks::{
    self as store, Evidence, Letter, Part, PartChange, PartForm, Task, TaskChange, TaskFilter,
    TaskForm, TaskKind,
};
use tthc_core::db::{DbConnection, StoreError};
use tthc_core::period::Period;
use tthc_core::report::duties::Tally;
use tthc_core::task::{self, PartStanding, PartState, Target, TaskTally};
use tthc_core::unit::UnitScope;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::duties::file_problems;
use crate::auth::{Principal, Scope};
use crate::context::unit_in_scope;
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, Problem};
use crate::http::{
    DEFAULT_LIMIT, MAX_LIMIT, Page, ValidJson, ValidQuery, decode_cursor, encode_cursor, etag,
    if_match,
};
use crate::state::AppState;
use crate::table::{self, Cell, Column, Format, Table};
use tthc_core::db::now_local;

/// The problems of a letter's fields, named under `field` (`source.`).
fn source_problems(s: &Letter, field: &str, invalid: &mut Vec<InvalidParam>) {
    let mut length = |name: &str, value: &str, max: usize| {
        if value.trim().is_empty() || value.chars().count() > max {
            invalid.push(InvalidParam::new(
                format!("{field}{name}"),
                format!("must have 1 to {max} characters"),
            ));
        }
    };
    length("number", &s.number, 100);
    length("signer", &s.signer, 200);
    if let Some(t) = &s.title {
        length("title", t, 1000);
    }
    if !(2000..=2100).contains(&s.date.year()) {
        invalid.push(InvalidParam::new(
            format!("{field}date"),
            "must be from 2000 to 2100",
        ));
    }
}

/// The problems of a task's own fields (beyond its letter), named under `field` (`tasks[2].`).
fn task_problems(
    conn: &mut DbConnection,
    item: &TaskItem,
    source: &Letter,
    field: &str,
) -> Result<Vec<InvalidParam>, ApiError> {
    let mut invalid = Vec::new();
    if let Some(key) = &item.key
        && (key.is_empty()
            || key.chars().count() > 100
            || key.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        invalid.push(InvalidParam::new(
            format!("{field}key"),
            "must have 1 to 100 characters, without spaces",
        ));
    }
    if let Some(key) = &item.key
        && key.starts_with(app_tasks::EXPLANATION_KEY_PREFIX)
    {
        invalid.push(InvalidParam::new(
            format!("{field}key"),
            format!(
                "may not begin with {}: those keys name the explanation tasks of monthly notices",
                app_tasks::EXPLANATION_KEY_PREFIX
            ),
        ));
    }
    if item.text.trim().is_empty() || item.text.chars().count() > 4000 {
        invalid.push(InvalidParam::new(
            format!("{field}text"),
            "must have 1 to 4000 characters",
        ));
    }
    if !(2000..=2100).contains(&item.due_before.year()) {
        invalid.push(InvalidParam::new(
            format!("{field}dueBefore"),
            "must be from 2000 to 2100",
        ));
    } else if item.due_before <= source.date {
        invalid.push(InvalidParam::new(
            format!("{field}dueBefore"),
            format!("must come after the letter's date {}", source.date),
        ));
    }
    if item.units.is_empty() || item.units.len() > 5000 {
        invalid.push(InvalidParam::new(
            format!("{field}units"),
            "must list 1 to 5000 units",
        ));
    }
    if let Some(t) = &item.target {
        if t.text.trim().is_empty() || t.text.chars().count() > 1000 {
            invalid.push(InvalidParam::new(
                format!("{field}target.text"),
                "must have 1 to 1000 characters",
            ));
        }
        invalid.extend(app_tasks::check_target(
            conn,
            t,
            &format!("{field}target."),
        )?);
    }
    Ok(invalid)
}

/// A task of a letter: what is to be done, by whom, by when.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "key": "3512/UBND-KSTT#1",
    "text": "Rà soát, làm sạch toàn bộ TTHC đã công bố, công khai trên Cơ sở dữ liệu quốc gia về TTHC",
    "dueBefore": "2023-10-20", "units": ["000.00.02.H12", "000.00.21.H12"]
}))]
pub struct TaskItem {
    /// Your unique key for the task (e.g. the letter's number and item): a second task with
    /// the same key is refused (409), so that importing a letter twice does not duplicate it.
    pub key: Option<String>,
    /// What is to be done, in the letter's words.
    pub text: String,
    /// The day the letter names in "trước ngày …": done on or after it is late ("xong trước ngày
    /// 20/10/2023" is `2023-10-20`).
    #[schema(value_type = String, format = Date, example = "2023-10-20")]
    pub due_before: NaiveDate,
    /// A measurable target, if any; with an indicator and a period tthc computes each unit's
    /// figure.
    pub target: Option<Target>,
    /// The codes of the units it is assigned to; each unit's part is tracked on its own.
    #[schema(value_type = Vec<tthc_core::unit::UnitCode>, min_items = 1, max_items = 5000)]
    pub units: Vec<String>,
}

/// One task and its letter.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "source": {"number": "1826/VP-KSTT", "date": "2024-09-06", "signer": "Phó Chánh Văn phòng"},
    "text": "Hoàn thiện hồ sơ trình Chủ tịch UBND tỉnh công bố Danh mục TTHC chưa được địa phương hóa",
    "dueBefore": "2024-09-12", "units": ["000.00.02.H12"]
}))]
pub struct TaskBody {
    /// The letter that assigns it.
    pub source: Letter,
    /// Your unique key for the task: a second task with the same key is refused (409).
    pub key: Option<String>,
    /// What is to be done, in the letter's words.
    pub text: String,
    /// The day the letter names in "trước ngày …": done on or after it is late.
    #[schema(value_type = String, format = Date, example = "2024-09-12")]
    pub due_before: NaiveDate,
    /// A measurable target, if any; with an indicator and a period tthc computes each unit's
    /// figure.
    pub target: Option<Target>,
    /// The codes of the units it is assigned to; each unit's part is tracked on its own.
    #[schema(value_type = Vec<tthc_core::unit::UnitCode>, min_items = 1, max_items = 5000)]
    pub units: Vec<String>,
}

impl TaskBody {
    fn split(self) -> (Letter, TaskItem) {
        (
            self.source,
            TaskItem {
                key: self.key,
                text: self.text,
                due_before: self.due_before,
                target: self.target,
                units: self.units,
            },
        )
    }
}

/// A letter's tasks, imported in one request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "source": {"number": "3512/UBND-KSTT", "date": "2023-08-25", "signer": "Chủ tịch UBND tỉnh",
               "title": "Kế hoạch cải cách TTHC năm 2023"},
    "tasks": [
        {"key": "3512#2", "text": "Rà soát, làm sạch toàn bộ TTHC trên Cơ sở dữ liệu quốc gia",
         "dueBefore": "2023-10-20", "units": ["000.00.00.H12"]},
        {"key": "3512#3", "text": "Cắt giảm thông tin phải khai báo khi thực hiện dịch vụ công trực tuyến",
         "dueBefore": "2023-09-15", "units": ["000.00.02.H12", "000.00.21.H12"],
         "target": {"text": "Cắt giảm ít nhất 20% thông tin phải khai báo"}}
    ]
}))]
pub struct ImportBody {
    /// The letter.
    pub source: Letter,
    /// Its tasks: 1 to 500, created together or not at all.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_items = 1, max_items = 500)]
    pub tasks: Vec<TaskItem>,
}

/// The figure tthc computes for a unit's part against the task's target.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FigureView {
    /// The indicator's ratio for the unit and the target's period, in percent; null when the
    /// unit had nothing to measure.
    pub ratio: Option<f64>,
    /// Whether it reaches `target.atLeast`; null when unknown.
    pub met: Option<bool>,
}

/// A unit's part of a task.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartView {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub unit_name: String,
    /// As recorded: `open`, `done` or `cancelled`.
    pub state: PartState,
    /// As judged today: `open`, `overdue`, `done`, `doneLate`, `cancelled`.
    pub standing: PartStanding,
    /// What the part is about beyond the task (the explanation task: the unit's late dossiers).
    pub note: Option<String>,
    /// What shows it done.
    pub evidence: Option<Evidence>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The target's figure for this unit, when the target names an indicator and a period.
    pub figure: Option<FigureView>,
    /// The part's version: its `ETag` for `If-Match` on `PUT …/parts/{unit}`.
    pub etag: String,
    /// Last written.
    pub updated_at: DateTime<Utc>,
    /// By which client.
    pub updated_by: String,
}

/// A task and the parts the caller may see.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": 7, "key": "3512#2", "kind": "task",
    "source": {"number": "3512/UBND-KSTT", "date": "2023-08-25", "signer": "Chủ tịch UBND tỉnh", "title": null},
    "text": "Rà soát, làm sạch toàn bộ TTHC trên Cơ sở dữ liệu quốc gia",
    "dueBefore": "2023-10-20", "lastDay": "2023-10-19", "target": null,
    "parts": [{"unit": "000.00.00.H12", "unitName": "Văn phòng UBND tỉnh", "state": "done", "standing": "done",
               "note": null, "evidence": {"documentNumber": "402/BC-VP", "date": "2023-10-18", "file": null, "figure": null},
               "cancelReason": null, "figure": null, "etag": "\"2\"", "updatedAt": "2023-10-18T09:00:00Z", "updatedBy": "vp-office"}],
    "createdAt": "2023-08-25T08:00:00Z", "createdBy": "vp-office"
}))]
pub struct TaskView {
    /// Id.
    pub id: i64,
    /// Your key, if given.
    pub key: Option<String>,
    /// `task`, or `explanation` (a notice's late dossiers to explain).
    pub kind: TaskKind,
    /// The letter.
    pub source: Letter,
    /// What is to be done.
    pub text: String,
    /// Done on or after this day is late.
    #[schema(value_type = String, format = Date)]
    pub due_before: NaiveDate,
    /// The last day it is on time.
    #[schema(value_type = String, format = Date)]
    pub last_day: NaiveDate,
    /// The measurable target.
    pub target: Option<Target>,
    /// The units' parts the caller may see, by unit code.
    pub parts: Vec<PartView>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// By which client.
    pub created_by: String,
}

fn part_view(task: &Task, p: Part, today: NaiveDate, figure: Option<&Figure>) -> PartView {
    PartView {
        standing: task::judge(
            p.state,
            task.due_before,
            p.evidence.as_ref().map(|e| e.date),
            today,
        ),
        unit: p.unit,
        unit_name: p.unit_name,
        state: p.state,
        note: p.note,
        evidence: p.evidence,
        cancel_reason: p.cancel_reason,
        figure: figure.map(|f| FigureView {
            ratio: f.ratio,
            met: f.met,
        }),
        etag: etag(p.version),
        updated_at: p.updated_at.and_utc(),
        updated_by: p.updated_by,
    }
}

fn task_view(mut task: Task, today: NaiveDate, figures: &BTreeMap<String, Figure>) -> TaskView {
    let parts = std::mem::take(&mut task.parts);
    TaskView {
        parts: parts
            .into_iter()
            .map(|p| {
                let figure = figures.get(&p.unit);
                part_view(&task, p, today, figure)
            })
            .collect(),
        id: task.id,
        key: task.key,
        kind: task.kind,
        source: task.source,
        text: task.text,
        due_before: task.due_before,
        last_day: task::last_day(task.due_before),
        target: task.target,
        created_at: task.created_at.and_utc(),
        created_by: task.created_by,
    }
}

/// The tasks as their views, with their targets' figures.
fn views(
    conn: &mut DbConnection,
    tasks: Vec<Task>,
    now: NaiveDateTime,
) -> Result<Vec<TaskView>, ApiError> {
    // The rule sets are read once, and only when some target is measured.
    let sets = if tasks.iter().any(app_tasks::is_measured) {
        Some(tthc_core::app::scores::rule_sets(conn)?)
    } else {
        None
    };
    let mut seen = app_tasks::Evaluations::new();
    tasks
        .into_iter()
        .map(|t| {
            // Best effort: the task is stored whatever the index says; a figure that cannot be
            // computed now is left out rather than failing a write already committed.
            let figures = match sets
                .as_ref()
                .map(|s| app_tasks::figures(conn, s, &t, now, &mut seen))
            {
                Some(Ok(f)) => f,
                Some(Err(AppError::Store(e))) => return Err(e.into()),
                Some(Err(_)) | None => BTreeMap::new(),
            };
            Ok(task_view(t, now.date(), &figures))
        })
        .collect()
}

/// The forms of a letter's tasks, checked; every problem named (`tasks[1].units[0]`).
fn forms(
    conn: &mut DbConnection,
    scope: &UnitScope,
    source: &Letter,
    items: Vec<TaskItem>,
    field: impl Fn(usize) -> String,
) -> Result<Vec<TaskForm>, ApiError> {
    let mut invalid = Vec::new();
    source_problems(source, "source.", &mut invalid);
    for (i, item) in items.iter().enumerate() {
        invalid.extend(task_problems(conn, item, source, &field(i))?);
    }
    let forms: Vec<TaskForm> = items
        .into_iter()
        .map(|item| TaskForm {
            key: item.key,
            kind: TaskKind::Task,
            source: source.clone(),
            text: item.text,
            due_before: item.due_before,
            target: item.target,
            parts: item
                .units
                .into_iter()
                .map(|unit| PartForm { unit, note: None })
                .collect(),
        })
        .collect();
    // The units and keys too, so that one answer names every problem.
    invalid.extend(store::problems(conn, scope, &forms, &field)?);
    ApiError::unless_rules(invalid)?;
    Ok(forms)
}

fn task_response(
    builder: &mut actix_web::HttpResponseBuilder,
    version: i64,
    view: TaskView,
) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag(version)))
        .json(view)
}

/// Assign a task
///
/// One task of a letter, assigned to one or many units; each unit's part is tracked on its
/// own. The units must be among the caller's. Audited (the task, and each part under its unit,
/// so that the change feed tells each unit of its new part).
#[utoipa::path(
    tag = "tasks",
    request_body = TaskBody,
    responses(
        (status = 201, description = "Created", body = TaskView, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A task with the key exists", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Unknown units, a deadline before the letter, a target tthc cannot measure", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:admin"]))
)]
#[post("/tasks")]
pub async fn create_task(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<TaskBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksAdmin)?;
    let body = body.0;
    let now = now_local();
    let (task, view) = state
        .run(move |conn| {
            let (source, item) = body.split();
            let scope = principal.unit_scope(conn)?;
            let forms = forms(conn, &scope, &source, vec![item], |_| String::new())?;
            let created =
                store::create_many(conn, &principal.actor(), &scope, &forms, |_| String::new())?;
            let task = created
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::Internal("no task created".into()))?;
            let version = task.version;
            let id = task.id;
            let view = views(conn, vec![task], now)?
                .pop()
                .ok_or_else(|| ApiError::Internal("no task created".into()))?;
            Ok(((id, version), view))
        })
        .await?;
    Ok(task_response(
        HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/tasks/{}", task.0))),
        task.1,
        view,
    ))
}

/// Tasks created together.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    /// By deadline, then id.
    pub items: Vec<TaskView>,
}

/// Import a letter's tasks
///
/// Every task of one letter in one request (seed `002_…`'s plan: clean the catalogue before
/// 20/10/2023, cut 20% of the declared information before 15/9/2023 …): created together or
/// not at all, every problem named (`tasks[1].units[0]`). With keys, a second import of the
/// same letter is refused (409) instead of duplicating it; `Idempotency-Key` replays a retried
/// request's answer. Audited.
#[utoipa::path(
    tag = "tasks",
    request_body = ImportBody,
    responses(
        (status = 201, description = "Created, in the order given", body = TaskList),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A task with one of the keys exists", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Unknown units, a deadline before the letter, a target tthc cannot measure", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:admin"]))
)]
#[post("/tasks/import")]
pub async fn import_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<ImportBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksAdmin)?;
    let body = body.0;
    let now = now_local();
    let items = state
        .run(move |conn| {
            let field = |i: usize| format!("tasks[{i}].");
            let scope = principal.unit_scope(conn)?;
            let forms = forms(conn, &scope, &body.source, body.tasks, field)?;
            let created = store::create_many(conn, &principal.actor(), &scope, &forms, field)?;
            views(conn, created, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(TaskList { items }))
}

/// The notice whose late dossiers are to be explained.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "unit": "000.00.00.H12", "period": "2024-04", "explainBy": "2024-05-17",
    "source": {"number": "1234/TB-VP", "date": "2024-05-08", "signer": "Chánh Văn phòng"}
}))]
pub struct ExplanationsBody {
    /// The notice's unit (usually the province).
    #[validate(length(min = 1, max = 64))]
    #[schema(value_type = tthc_core::unit::UnitCode)]
    pub unit: String,
    /// The notice's period: a month, a quarter or a year.
    #[schema(
        example = "2024-04",
        pattern = "^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$"
    )]
    pub period: String,
    /// The day the notice names in "gửi … trước ngày …"; by default the 17th of the month after
    /// the period, as the notice says.
    #[schema(value_type = Option<String>, format = Date)]
    pub explain_by: Option<NaiveDate>,
    /// The notice as a letter: its number, date and signer.
    pub source: Letter,
}

/// Track the notice's explanations
///
/// The monthly notice asks every unit with late dossiers in the period to explain them by a
/// day (seed `004_…`). This turns that list into a task (kind `explanation`) with one part per
/// unit, noting its late dossiers, so that the explanations' arrival is tracked like any task.
/// The task is keyed by unit and period: asking again answers the task made the first time
/// (200). 422 when no unit had a late dossier. Audited.
#[utoipa::path(
    tag = "tasks",
    request_body = ExplanationsBody,
    responses(
        (status = 201, description = "Created", body = TaskView, headers(("Location" = String), ("ETag" = String))),
        (status = 200, description = "Made before for this notice", body = TaskView, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 422, description = "No unit had a late dossier, or no rule set applies to the period", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:admin"]))
)]
#[post("/tasks/explanations")]
pub async fn explanation_task(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<ExplanationsBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksAdmin)?;
    let body = body.0;
    let period = Period::parse(&body.period).map_err(|r| ApiError::invalid("period", r))?;
    let due_before = body
        .explain_by
        .unwrap_or_else(|| app_notice::default_explain_by(period));
    let now = now_local();
    let (created, version, view) = state
        .run(move |conn| {
            let mut invalid = Vec::new();
            source_problems(&body.source, "source.", &mut invalid);
            if !(2000..=2100).contains(&due_before.year()) {
                invalid.push(InvalidParam::new("explainBy", "must be from 2000 to 2100"));
            } else if due_before <= body.source.date {
                invalid.push(InvalidParam::new(
                    "explainBy",
                    format!("must come after the letter's date {}", body.source.date),
                ));
            }
            ApiError::unless_rules(invalid)?;
            let scope = principal.unit_scope(conn)?;
            let unit = unit_in_scope(conn, &principal, &body.unit)?;
            let key = app_tasks::explanation_key(&unit.code, period);
            let (created, task) = match store::find_by_key(conn, &key)? {
                Some(id) => {
                    let task = store::get(conn, &scope, id)?;
                    // Imported before its prefix was reserved.
                    if task.kind != TaskKind::Explanation {
                        return Err(ApiError::Conflict(InvalidParam::new(
                            "unit",
                            format!(
                                "another task holds the key {key} of this notice's explanations"
                            ),
                        )));
                    }
                    (false, task)
                }
                None => {
                    let form = app_tasks::explanation_task(
                        conn,
                        &scope,
                        &unit.code,
                        period,
                        due_before,
                        body.source,
                        now,
                    )?
                    .ok_or_else(|| {
                        ApiError::rule(
                            "period",
                            format!("no unit under {} had a late dossier in {period}", unit.code),
                        )
                    })?;
                    // Another instance may make it at the same time: then answer theirs.
                    match store::create_many(conn, &principal.actor(), &scope, &[form], |_| {
                        String::new()
                    }) {
                        Ok(mut made) => (
                            true,
                            made.pop()
                                .ok_or_else(|| ApiError::Internal("no task created".into()))?,
                        ),
                        Err(StoreError::Conflict(_)) => {
                            let id = store::find_by_key(conn, &key)?
                                .ok_or_else(|| ApiError::NotFound(format!("no task {key}")))?;
                            (false, store::get(conn, &scope, id)?)
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let version = task.version;
            let view = views(conn, vec![task], now)?
                .pop()
                .ok_or_else(|| ApiError::Internal("no task read".into()))?;
            Ok((created, version, view))
        })
        .await?;
    let location = format!("/api/v1/tasks/{}", view.id);
    let mut builder = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(task_response(
        builder.insert_header((header::LOCATION, location)),
        version,
        view,
    ))
}

/// Which tasks to list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// Only the parts of this unit.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub unit: Option<String>,
    /// Only the parts that stand so today: `open`, `overdue`, `done`, `doneLate`, `cancelled`.
    #[param(pattern = "^(open|overdue|done|doneLate|cancelled)$")]
    pub standing: Option<String>,
    /// Only the tasks whose last day falls in this year.
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Only the tasks of the letter with this number.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub source: Option<String>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
    /// Page size, 1–500 (default 50); JSON only: CSV and XLSX hold every task from the cursor
    /// on (the whole list without one).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A task's position in the list's order (its deadline, then its id) as a cursor key.
fn task_cursor_key(t: &Task) -> String {
    format!("{}|{}", t.due_before, t.id)
}

/// The position a cursor of [`task_cursor_key`] holds.
fn task_position(cursor: &str) -> Result<(NaiveDate, i64), ApiError> {
    let key = decode_cursor(cursor)?;
    key.split_once('|')
        .and_then(|(due, id)| Some((due.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(ApiError::unknown_cursor)
}

/// List tasks
///
/// The tasks with the caller's units' parts, by deadline then id, keyset-paginated (`limit`,
/// `cursor`): each part's state, its standing today, its evidence, and the target's figure.
/// CSV or XLSX (`Accept` or `?format=`): the whole list (from the cursor on, if one is given),
/// one row per part.
#[utoipa::path(
    tag = "tasks",
    params(TasksQuery),
    responses(
        (status = 200, description = "A page of tasks; CSV and XLSX hold them all", content(
            (Page<TaskView> = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:read"]))
)]
#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<TasksQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksRead)?;
    let q = query.0;
    let format = table::negotiate(
        &req,
        q.format.as_deref(),
        &[Format::Json, Format::Csv, Format::Xlsx],
    )?;
    let standing = q
        .standing
        .as_deref()
        .map(|s| {
            PartStanding::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    "standing",
                    "must be open, overdue, done, doneLate or cancelled",
                )
            })
        })
        .transpose()?;
    let after = q.cursor.as_deref().map(task_position).transpose()?;
    // A page of a JSON answer; the spreadsheets take the whole list.
    let page = (format == Format::Json).then(|| q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT));
    let now = now_local();
    let (items, next_cursor) = state
        .run(move |conn| {
            let unit_id = match &q.unit {
                Some(u) => Some(unit_in_scope(conn, &principal, u)?.id),
                None => None,
            };
            let scope = principal.unit_scope(conn)?;
            let window = q.year.and_then(task::due_before_in);
            let filter = TaskFilter {
                due_from: window.map(|w| w.0),
                due_to: window.map(|w| w.1),
                source_number: q.source,
                unit_id,
                ..TaskFilter::default()
            };
            // A year's tasks are hundreds: the list is read whole, filtered and cut here, and
            // only the page's targets are measured.
            let mut tasks = store::list(conn, &scope, &filter)?;
            if let Some(s) = standing {
                for t in &mut tasks {
                    let due = t.due_before;
                    t.parts.retain(|p| {
                        task::judge(
                            p.state,
                            due,
                            p.evidence.as_ref().map(|e| e.date),
                            now.date(),
                        ) == s
                    });
                }
                tasks.retain(|t| !t.parts.is_empty());
            }
            if let Some(after) = after {
                tasks.retain(|t| (t.due_before, t.id) > after);
            }
            let mut next_cursor = None;
            if let Some(limit) = page.and_then(|l| usize::try_from(l).ok())
                && tasks.len() > limit
            {
                tasks.truncate(limit);
                next_cursor = tasks.last().map(|t| encode_cursor(&task_cursor_key(t)));
            }
            Ok((views(conn, tasks, now)?, next_cursor))
        })
        .await?;
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(Page {
            items,
            next_cursor,
            total: None,
        }));
    }
    table::download_table(format, "tasks", tasks_table(&items))
}

fn tasks_table(items: &[TaskView]) -> Table {
    let mut rows = Vec::new();
    for t in items {
        for p in &t.parts {
            rows.push(vec![
                Cell::Count(rows.len() as u64 + 1),
                Cell::Id(t.id),
                Cell::text(&t.source.number),
                Cell::text(t.source.date),
                Cell::text(&t.text),
                Cell::text(t.last_day),
                Cell::text(&p.unit),
                Cell::text(&p.unit_name),
                Cell::text(p.standing.as_str()),
                p.evidence
                    .as_ref()
                    .map_or(Cell::Empty, |e| Cell::text(&e.document_number)),
                p.evidence
                    .as_ref()
                    .map_or(Cell::Empty, |e| Cell::text(e.date)),
                t.target
                    .as_ref()
                    .map_or(Cell::Empty, |g| Cell::text(&g.text)),
                p.evidence
                    .as_ref()
                    .and_then(|e| e.figure)
                    .map_or(Cell::Empty, Cell::Number),
                p.figure
                    .as_ref()
                    .and_then(|f| f.ratio)
                    .map_or(Cell::Empty, Cell::Number),
                p.note.as_ref().map_or(Cell::Empty, Cell::text),
            ]);
        }
    }
    Table {
        sheet: "Nhiệm vụ".into(),
        title: "Danh sách nhiệm vụ được giao".into(),
        notes: Vec::new(),
        columns: vec![
            Column::new("no", "STT"),
            Column::new("task", "Mã nhiệm vụ"),
            Column::new("sourceNumber", "Số văn bản giao"),
            Column::new("sourceDate", "Ngày văn bản"),
            Column::new("text", "Nội dung"),
            Column::new("lastDay", "Hạn hoàn thành"),
            Column::new("unit", "Mã đơn vị"),
            Column::new("unitName", "Đơn vị"),
            Column::new("standing", "Tình trạng"),
            Column::new("documentNumber", "Số văn bản báo cáo"),
            Column::new("doneOn", "Ngày hoàn thành"),
            Column::new("target", "Chỉ tiêu"),
            Column::new("reportedFigure", "Kết quả đơn vị báo cáo"),
            Column::new("computedRatio", "Tỷ lệ tính từ Bộ chỉ số (%)"),
            Column::new("note", "Ghi chú"),
        ],
        rows,
        total: None,
    }
}

fn task_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("no task {id:?}")))
}

/// Get a task
///
/// With the caller's units' parts; a task none of whose parts is the caller's is not found.
#[utoipa::path(
    tag = "tasks",
    params(("id" = i64, Path, description = "Task id", example = 7)),
    responses(
        (status = 200, description = "The task", body = TaskView, headers(("ETag" = String))),
        (status = 404, description = "No such task with a part of the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:read"]))
)]
#[get("/tasks/{id:\\d+}")]
pub async fn get_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksRead)?;
    let id = task_id(&id)?;
    let now = now_local();
    let (version, view) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let task = store::get(conn, &scope, id)?;
            let version = task.version;
            let view = views(conn, vec![task], now)?
                .pop()
                .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
            Ok((version, view))
        })
        .await?;
    Ok(task_response(&mut HttpResponse::Ok(), version, view))
}

/// A field given, `null` included (`Some(None)`), as against left out (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A change to a task.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"dueBefore": "2023-10-31"}))]
pub struct TaskPatch {
    /// New text.
    pub text: Option<String>,
    /// New deadline (a letter that extends it).
    #[schema(value_type = Option<String>, format = Date)]
    pub due_before: Option<NaiveDate>,
    /// New target; `null` removes it, left out it stays.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Target>, nullable)]
    pub target: Option<Option<Target>>,
    /// Cancels every open part, for this reason (the letter was withdrawn).
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub cancel_reason: Option<String>,
}

/// Change a task
///
/// Its text, its deadline (a letter extends it), its target; or cancel every open part with a
/// reason. Parts are judged against the deadline as it stands. Every part must be among the
/// caller's units. `If-Match` with the task's `ETag` refuses a stale write (412). Audited.
#[utoipa::path(
    tag = "tasks",
    params(("id" = i64, Path, description = "Task id", example = 7)),
    request_body = TaskPatch,
    responses(
        (status = 200, description = "Changed", body = TaskView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such task among the caller's", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The task changed since the ETag given", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A deadline before the letter, a target tthc cannot measure", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:admin"]))
)]
#[patch("/tasks/{id:\\d+}")]
pub async fn patch_task(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: ValidJson<TaskPatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksAdmin)?;
    let id = task_id(&id)?;
    let expected = if_match(&req)?;
    let body = body.0;
    let now = now_local();
    let (version, view) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let current = store::get(conn, &scope, id)?;
            let item = TaskItem {
                key: None,
                text: body.text.clone().unwrap_or_else(|| current.text.clone()),
                due_before: body.due_before.unwrap_or(current.due_before),
                target: body.target.clone().flatten(),
                units: vec![String::new()],
            };
            ApiError::unless_rules(task_problems(conn, &item, &current.source, "")?)?;
            let change = TaskChange {
                text: body.text,
                due_before: body.due_before,
                target: body.target,
                cancel_reason: body.cancel_reason,
            };
            let task = store::update(
                conn,
                &principal.actor(),
                &scope,
                id,
                &change,
                expected.as_ref(),
            )?;
            let version = task.version;
            let view = views(conn, vec![task], now)?
                .pop()
                .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
            Ok((version, view))
        })
        .await?;
    Ok(task_response(&mut HttpResponse::Ok(), version, view))
}

/// What becomes of a unit's part.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "state": "done",
    "evidence": {"documentNumber": "215/BC-STP", "date": "2024-09-11",
                 "file": {"name": "215-BC-STP.pdf", "mediaType": "application/pdf", "size": 120331}}
}))]
pub struct PartBody {
    /// `done` (with `evidence`; `tasks:write` or `tasks:admin`), `cancelled` (with `reason`;
    /// `tasks:admin`), or `open` again (`tasks:admin`).
    pub state: PartState,
    /// The document that reports the part done: its number and date (judged against the
    /// deadline), its file's metadata, the figure reported against the target.
    pub evidence: Option<Evidence>,
    /// Why the part is cancelled.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

/// Record a unit's part
///
/// A unit records its part done with the evidence (the report's number and date; the date is
/// judged against the deadline: on or after `dueBefore` the part is `doneLate`); the office
/// cancels a part with a reason, or opens it again (evidence refused). `If-Match` with the
/// part's `etag` refuses a stale write (412). Audited under the unit.
#[utoipa::path(
    tag = "tasks",
    params(
        ("id" = i64, Path, description = "Task id", example = 7),
        ("unit" = String, Path, description = "Unit code", example = "000.00.02.H12"),
    ),
    request_body = PartBody,
    responses(
        (status = 200, description = "The task (its `ETag` is the task's; each part has its own `etag`)", body = TaskView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Cancelling or reopening without tasks:admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such task, or no part of this unit among the caller's", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The part changed since the ETag given", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Done without evidence, cancelled without a reason, evidence dated in the future or before the letter, a unit changing a part that is not open", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:write"]), ("bearer" = ["tasks:admin"]))
)]
#[put("/tasks/{id:\\d+}/parts/{unit}")]
pub async fn put_part(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: ValidJson<PartBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, unit) = path.into_inner();
    let body = body.0;
    match body.state {
        // The office may record a part done for a unit too.
        PartState::Done => principal
            .require(Scope::TasksWrite)
            .or_else(|_| principal.require(Scope::TasksAdmin))?,
        PartState::Cancelled | PartState::Open => principal.require(Scope::TasksAdmin)?,
    }
    let id = task_id(&id)?;
    let expected = if_match(&req)?;
    let admin = principal.require(Scope::TasksAdmin).is_ok();
    let now = now_local();
    let (version, view) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let current = store::get(conn, &scope, id)?;
            let change = part_change(body, &current.source, now.date())?;
            let task = store::set_part(
                conn,
                &principal.actor(),
                &scope,
                (id, &unit),
                &change,
                admin,
                expected.as_ref(),
            )?;
            let version = task.version;
            let view = views(conn, vec![task], now)?
                .pop()
                .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
            Ok((version, view))
        })
        .await?;
    Ok(task_response(&mut HttpResponse::Ok(), version, view))
}

/// The change a part's body asks for, checked.
fn part_change(body: PartBody, source: &Letter, today: NaiveDate) -> Result<PartChange, ApiError> {
    let mut invalid = Vec::new();
    let change = match (body.state, body.evidence, body.reason) {
        (PartState::Done, Some(e), None) => {
            if e.document_number.trim().is_empty() || e.document_number.chars().count() > 100 {
                invalid.push(InvalidParam::new(
                    "evidence.documentNumber",
                    "must have 1 to 100 characters",
                ));
            }
            if e.date > today {
                invalid.push(InvalidParam::new("evidence.date", "is in the future"));
            }
            if e.date < source.date {
                invalid.push(InvalidParam::new(
                    "evidence.date",
                    format!("is before the letter's date {}", source.date),
                ));
            }
            if e.figure.is_some_and(|f| !f.is_finite()) {
                invalid.push(InvalidParam::new("evidence.figure", "must be a number"));
            }
            if let Some(f) = &e.file {
                file_problems(f, "evidence.file.", &mut invalid);
            }
            Some(PartChange::Done(e))
        }
        (PartState::Done, None, _) => {
            invalid.push(InvalidParam::new(
                "evidence",
                "is required to record a part done",
            ));
            None
        }
        (PartState::Cancelled, None, Some(r)) => Some(PartChange::Cancelled(r)),
        (PartState::Cancelled, _, None) => {
            invalid.push(InvalidParam::new("reason", "is required to cancel a part"));
            None
        }
        (PartState::Open, None, None) => Some(PartChange::Reopened),
        (state, evidence, reason) => {
            if evidence.is_some() {
                invalid.push(InvalidParam::new(
                    "evidence",
                    format!(
                        "is given only to record a part done, not {}",
                        state.as_str()
                    ),
                ));
            }
            if reason.is_some() {
                invalid.push(InvalidParam::new(
                    "reason",
                    format!("is given only to cancel a part, not {}", state.as_str()),
                ));
            }
            None
        }
    };
    ApiError::unless_rules(invalid)?;
    change.ok_or_else(|| ApiError::rule("state", "cannot be recorded so"))
}

/// Which parts are due.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Days ahead, today included: 0 to 366 (default 7).
    #[validate(range(min = 0, max = 366))]
    #[param(minimum = 0, maximum = 366)]
    pub days: Option<i64>,
    /// Only this unit's parts.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub unit: Option<String>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// A unit's open part of a task, with its deadline.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartLine {
    /// The task's id.
    pub task: i64,
    /// Its kind.
    pub kind: TaskKind,
    /// What is to be done.
    pub text: String,
    /// The letter's number.
    pub source: String,
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub unit_name: String,
    /// The part's note.
    pub note: Option<String>,
    /// The last day it is on time.
    #[schema(value_type = String, format = Date)]
    pub last_day: NaiveDate,
    /// Days from today to `lastDay`: negative when overdue (−3: three days past it).
    pub days_left: i64,
}

/// Open parts, with their deadlines.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"asOf": "2024-09-09", "items": [
    {"task": 12, "kind": "task", "text": "Báo cáo kết quả rà soát TTHC chưa địa phương hóa", "source": "1826/VP-KSTT",
     "unit": "000.00.02.H12", "unitName": "Sở Tư pháp", "note": null, "lastDay": "2024-09-14", "daysLeft": 5}]}))]
pub struct PartLines {
    /// Today.
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    /// Soonest (or most overdue) first, then by unit.
    pub items: Vec<PartLine>,
}

/// The open parts (of `unit`, or of the caller's units) whose last day falls in `days`.
fn open_parts(
    conn: &mut DbConnection,
    principal: &Principal,
    unit: Option<&str>,
    last_days: (Option<NaiveDate>, Option<NaiveDate>),
    today: NaiveDate,
) -> Result<Vec<PartLine>, ApiError> {
    let unit_id = match unit {
        Some(u) => Some(unit_in_scope(conn, principal, u)?.id),
        None => None,
    };
    let scope = principal.unit_scope(conn)?;
    let after = |d: NaiveDate| d.succ_opt().unwrap_or(d);
    let filter = TaskFilter {
        due_from: last_days.0.map(after),
        due_to: last_days.1.map(after),
        unit_id,
        state: Some(PartState::Open),
        ..TaskFilter::default()
    };
    let mut lines = Vec::new();
    for t in store::list(conn, &scope, &filter)? {
        let last_day = task::last_day(t.due_before);
        for p in t.parts {
            lines.push(PartLine {
                task: t.id,
                kind: t.kind,
                text: t.text.clone(),
                source: t.source.number.clone(),
                unit: p.unit,
                unit_name: p.unit_name,
                note: p.note,
                last_day,
                days_left: (last_day - today).num_days(),
            });
        }
    }
    lines.sort_by(|a, b| (a.last_day, &a.unit, a.task).cmp(&(b.last_day, &b.unit, b.task)));
    Ok(lines)
}

fn lines_table(title: &str, lines: &[PartLine]) -> Table {
    Table {
        sheet: "Nhiệm vụ".into(),
        title: title.into(),
        notes: Vec::new(),
        columns: vec![
            Column::new("no", "STT"),
            Column::new("task", "Mã nhiệm vụ"),
            Column::new("source", "Số văn bản giao"),
            Column::new("text", "Nội dung"),
            Column::new("unit", "Mã đơn vị"),
            Column::new("unitName", "Đơn vị"),
            Column::new("lastDay", "Hạn hoàn thành"),
            Column::new("daysLeft", "Số ngày còn lại"),
            Column::new("note", "Ghi chú"),
        ],
        rows: lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    Cell::Count(i as u64 + 1),
                    Cell::Id(l.task),
                    Cell::text(&l.source),
                    Cell::text(&l.text),
                    Cell::text(&l.unit),
                    Cell::text(&l.unit_name),
                    Cell::text(l.last_day),
                    Cell::Integer(l.days_left),
                    l.note.as_ref().map_or(Cell::Empty, Cell::text),
                ]
            })
            .collect(),
        total: None,
    }
}

/// Parts due in the next days
///
/// The reminders: the open parts (of the caller's units) whose last on-time day falls from
/// today to `days` days ahead, soonest first.
#[utoipa::path(
    tag = "tasks",
    params(DueQuery),
    responses(
        (status = 200, description = "Parts due", content(
            (PartLines = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:read"]))
)]
#[get("/tasks/due")]
pub async fn due_parts(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<DueQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksRead)?;
    let q = query.0;
    let today = now_local().date();
    let until = today + TimeDelta::days(q.days.unwrap_or(7));
    let ask = LinesAsked {
        unit: q.unit,
        format: q.format,
        last_days: (Some(today), Some(until)),
        title: "Nhiệm vụ sắp đến hạn",
        name: "tasks-due",
    };
    lines_response(&state, principal, &req, ask, today).await
}

/// What a list of open parts is asked for.
struct LinesAsked {
    unit: Option<String>,
    format: Option<String>,
    last_days: (Option<NaiveDate>, Option<NaiveDate>),
    title: &'static str,
    name: &'static str,
}

/// The open parts `ask` selects, as JSON or a table.
async fn lines_response(
    state: &AppState,
    principal: Principal,
    req: &HttpRequest,
    ask: LinesAsked,
    today: NaiveDate,
) -> Result<HttpResponse, ApiError> {
    let format = table::negotiate(
        req,
        ask.format.as_deref(),
        &[Format::Json, Format::Csv, Format::Xlsx],
    )?;
    let (unit, last_days) = (ask.unit, ask.last_days);
    let items = state
        .run(move |conn| open_parts(conn, &principal, unit.as_deref(), last_days, today))
        .await?;
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(PartLines {
            as_of: today,
            items,
        }));
    }
    table::download_table(
        format,
        &format!("{}-{today}", ask.name),
        lines_table(ask.title, &items),
    )
}

/// Which overdue parts.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverdueQuery {
    /// Only this unit's parts.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub unit: Option<String>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// Overdue parts
///
/// The open parts (of the caller's units) past their deadline, most overdue first.
#[utoipa::path(
    tag = "tasks",
    params(OverdueQuery),
    responses(
        (status = 200, description = "Overdue parts", content(
            (PartLines = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:read"]))
)]
#[get("/tasks/overdue")]
pub async fn overdue_parts(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<OverdueQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksRead)?;
    let q = query.0;
    let today = now_local().date();
    let ask = LinesAsked {
        unit: q.unit,
        format: q.format,
        last_days: (None, Some(today.pred_opt().unwrap_or(today))),
        title: "Nhiệm vụ quá hạn",
        name: "tasks-overdue",
    };
    lines_response(&state, principal, &req, ask, today).await
}

/// Whose record, for which year.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// The year.
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100, example = 2024)]
    pub year: i32,
    /// Only this unit.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub unit: Option<String>,
    /// `json`, `csv` or `xlsx`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// A unit's record for the year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitRecord {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its parts of the tasks due in the year.
    pub tasks: TaskTally,
    /// Its reports owed for the year (every reporting duty) and the PAR-index points they cost.
    pub reports: Tally,
}

/// Units' records of tasks and reports for a year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"year": 2024, "judgedAt": "2024-12-31T17:00:00+07:00", "units": [
    {"unit": "000.00.02.H12", "name": "Sở Tư pháp",
     "tasks": {"assigned": 4, "done": 2, "doneLate": 1, "overdue": 1, "open": 0, "cancelled": 0, "onTimeRate": 50.0},
     "reports": {"onTime": 10, "late": 1, "poorQuality": 0, "excused": 1, "missing": 0, "pending": 0, "deduction": 0.25}}]}))]
pub struct TaskCompliance {
    /// The year.
    pub year: i32,
    /// When it was judged.
    pub judged_at: DateTime<FixedOffset>,
    /// By unit code.
    pub units: Vec<UnitRecord>,
}

/// Yearly record of tasks, beside reporting duties
///
/// For each of the caller's units with a task part due in the year or a reporting duty: its
/// parts done on time, done late, overdue, open and cancelled, the on-time rate among those
/// judged, and beside them its reports for the year and the PAR-index points they cost.
#[utoipa::path(
    tag = "tasks",
    params(ComplianceQuery),
    responses(
        (status = 200, description = "The records", content(
            (TaskCompliance = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit among the caller's units", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["tasks:read"]))
)]
#[get("/tasks/compliance")]
pub async fn task_compliance(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: ValidQuery<ComplianceQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::TasksRead)?;
    let q = query.0;
    let format = table::negotiate(
        &req,
        q.format.as_deref(),
        &[Format::Json, Format::Csv, Format::Xlsx],
    )?;
    let now = now_local();
    let year = q.year;
    let units = state
        .run(move |conn| {
            let only = match &q.unit {
                Some(u) => Some(unit_in_scope(conn, &principal, u)?.code),
                None => None,
            };
            let scope = principal.unit_scope(conn)?;
            Ok(app_tasks::compliance(conn, &scope, year, now)?
                .into_iter()
                .filter(|r| only.as_ref().is_none_or(|u| *u == r.unit))
                .map(|r| UnitRecord {
                    unit: r.unit,
                    name: r.name,
                    tasks: r.tasks,
                    reports: r.reports,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(TaskCompliance {
            year,
            judged_at: from_local(now),
            units,
        }));
    }
    table::download_table(
        format,
        &format!("task-compliance-{year}"),
        compliance_table(year, &units),
    )
}

fn compliance_table(year: i32, units: &[UnitRecord]) -> Table {
    let tasks = "Nhiệm vụ được giao";
    let reports = "Chế độ báo cáo";
    let rate = |r: Option<f64>| r.map_or(Cell::Empty, Cell::Number);
    Table {
        sheet: "Thực hiện nhiệm vụ".into(),
        title: format!("Kết quả thực hiện nhiệm vụ được giao và chế độ báo cáo năm {year}"),
        notes: vec!["Tỷ lệ đúng hạn: số nhiệm vụ hoàn thành đúng hạn trên số nhiệm vụ đã đến hạn (hoàn thành đúng hạn, hoàn thành chậm, quá hạn).".into()],
        columns: vec![
            Column::new("no", "STT"),
            Column::new("unit", "Mã đơn vị"),
            Column::new("name", "Đơn vị"),
            Column::under(tasks, "assigned", "Được giao"),
            Column::under(tasks, "done", "Hoàn thành đúng hạn"),
            Column::under(tasks, "doneLate", "Hoàn thành chậm"),
            Column::under(tasks, "overdue", "Quá hạn"),
            Column::under(tasks, "open", "Đang thực hiện"),
            Column::under(tasks, "cancelled", "Hủy"),
            Column::under(tasks, "onTimeRate", "Tỷ lệ đúng hạn (%)"),
            Column::under(reports, "reportsOnTime", "Đúng hạn"),
            Column::under(reports, "reportsLate", "Chậm"),
            Column::under(reports, "reportsPoorQuality", "Chưa đạt chất lượng"),
            Column::under(reports, "reportsExcused", "Chậm được miễn trừ"),
            Column::under(reports, "reportsMissing", "Không gửi"),
            Column::under(reports, "deduction", "Điểm bị trừ"),
        ],
        rows: units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let (t, r) = (u.tasks, u.reports);
                vec![
                    Cell::Count(i as u64 + 1),
                    Cell::text(&u.unit),
                    Cell::text(&u.name),
                    Cell::Count(t.assigned.into()),
                    Cell::Count(t.done.into()),
                    Cell::Count(t.done_late.into()),
                    Cell::Count(t.overdue.into()),
                    Cell::Count(t.open.into()),
                    Cell::Count(t.cancelled.into()),
                    rate(t.on_time_rate),
                    Cell::Count(r.on_time.into()),
                    Cell::Count(r.late.into()),
                    Cell::Count(r.poor_quality.into()),
                    Cell::Count(r.excused.into()),
                    Cell::Count(r.missing.into()),
                    Cell::Number(r.deduction),
                ]
            })
            .collect(),
        total: None,
    }
}
