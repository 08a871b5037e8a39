//! The task use cases that reach past the tasks' own tables: a target's figure computed from the
//! 766 index, the monthly notice's explanation list turned into a task, and a unit's yearly
//! record of tasks beside its reporting duties.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};

use super::notice::{Owing, owing};
use super::scores::{period_in, rule_sets, standing, unit_in};
use super::{AppError, AppResult};
use crate::InvalidParam;
use crate::db::DbConnection;
use crate::db::duties;
use crate::db::reports::{self, GroupBy};
use crate::db::tasks::{self, Letter, PartForm, Task, TaskFilter, TaskForm, TaskKind};
use crate::db::units;
use crate::period::Period;
use crate::report::duties::Tally;
use crate::scoring::{Evaluation, RuleSets};
use crate::task::{Target, TaskTally, judge};
use crate::unit::UnitScope;

/// The figure tthc computes for a unit's part of a task with a measurable target.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The indicator's ratio for the unit and the target's period, in percent; null when the
    /// unit had nothing to measure.
    pub ratio: Option<f64>,
    /// Whether it reaches the target; null when unknown.
    pub met: Option<bool>,
}

/// Refuses a target tthc would not know how to measure: an indicator without a period or the
/// reverse, a period no rule set applies to, an indicator not of that rule set, a threshold
/// outside 0–100. Problems are named under `field` (`target.` or `tasks[2].target.`).
pub fn check_target(
    conn: &mut DbConnection,
    target: &Target,
    field: &str,
) -> AppResult<Vec<InvalidParam>> {
    let mut invalid = Vec::new();
    if target.at_least.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
        invalid.push(InvalidParam::new(
            format!("{field}atLeast"),
            "must be a percentage from 0 to 100",
        ));
    }
    match (&target.indicator, &target.period) {
        (Some(code), Some(period)) => {
            let sets = rule_sets(conn)?;
            match period_in(&sets, period) {
                Ok((_, rule_set)) if rule_set.indicator(code).is_none() => {
                    invalid.push(InvalidParam::new(
                        format!("{field}indicator"),
                        format!(
                            "{code} is not an indicator of rule set {} in force for {period}",
                            rule_set.code
                        ),
                    ));
                }
                Ok(_) => {}
                Err(AppError::Invalid(params)) => {
                    invalid.extend(
                        params
                            .into_iter()
                            .map(|p| InvalidParam::new(format!("{field}period"), p.reason)),
                    );
                }
                Err(e) => return Err(e),
            }
        }
        (Some(_), None) => invalid.push(InvalidParam::new(
            format!("{field}period"),
            "is required with an indicator",
        )),
        (None, Some(_)) => invalid.push(InvalidParam::new(
            format!("{field}indicator"),
            "is required with a period",
        )),
        (None, None) => {}
    }
    Ok(invalid)
}

/// Whether `task`'s target is one tthc measures (it names an indicator and a period).
pub fn is_measured(task: &Task) -> bool {
    task.target
        .as_ref()
        .is_some_and(|t| t.indicator.is_some() && t.period.is_some())
}

/// The evaluations made while computing a list's figures, by unit code and period: tasks of
/// one letter target the same units and period, and each evaluation scores a unit's whole
/// period, so each pair is scored once per list rather than once per part.
pub type Evaluations = HashMap<(String, Period), Evaluation>;

/// The target's figure for each part of `task` (by unit code), when its target names an
/// indicator and a period: each unit's live or snapshot ratio of that indicator, scored by
/// `sets` (read once by the caller for a whole list), taken from `seen` when that unit and
/// period were scored for an earlier task of the list.
pub fn figures(
    conn: &mut DbConnection,
    sets: &RuleSets,
    task: &Task,
    now: NaiveDateTime,
    seen: &mut Evaluations,
) -> AppResult<BTreeMap<String, Figure>> {
    let mut out = BTreeMap::new();
    let Some(target) = &task.target else {
        return Ok(out);
    };
    let (Some(code), Some(period)) = (&target.indicator, &target.period) else {
        return Ok(out);
    };
    let Ok((period, rule_set)) = period_in(sets, period) else {
        return Ok(out);
    };
    for part in &task.parts {
        let key = (part.unit.clone(), period);
        let evaluation = match seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let Some(unit) = units::find_row(conn, &part.unit)? else {
                    continue;
                };
                e.insert(standing(conn, &unit, period, &rule_set, now)?.0)
            }
        };
        let ratio = evaluation
            .groups
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| i.code == *code)
            .and_then(|i| i.ratio);
        out.insert(
            part.unit.clone(),
            Figure {
                ratio,
                met: target.met_by(ratio),
            },
        );
    }
    Ok(out)
}

/// How the keys of explanation tasks begin: reserved, so that no imported task can take the
/// key of a notice's explanations before they are asked for.
pub const EXPLANATION_KEY_PREFIX: &str = "explanations:";

/// The key of the explanation task of unit `code`'s notice for `period`.
pub fn explanation_key(code: &str, period: Period) -> String {
    format!("{EXPLANATION_KEY_PREFIX}{code}:{period}")
}

/// The task that asks the units with late dossiers in unit `code`'s notice for `period` to
/// explain them before `due_before` (seed `004_…`), one part per unit with its counts; `None`
/// when no unit had a late dossier.
pub fn explanation_task(
    conn: &mut DbConnection,
    scope: &UnitScope,
    code: &str,
    period: Period,
    due_before: NaiveDate,
    source: Letter,
    now: NaiveDateTime,
) -> AppResult<Option<TaskForm>> {
    let unit = unit_in(conn, scope, code)?;
    let lines = reports::ii06a(conn, &unit, period, now, GroupBy::Unit)?;
    let owed: Vec<Owing> = owing(&lines);
    if owed.is_empty() {
        return Ok(None);
    }
    Ok(Some(TaskForm {
        key: Some(explanation_key(&unit.code, period)),
        kind: TaskKind::Explanation,
        source,
        text: format!(
            "Rà soát, báo cáo giải trình rõ nguyên nhân hồ sơ trễ hạn {} và đề xuất giải pháp xử lý",
            period_words(period)
        ),
        due_before,
        target: None,
        parts: owed
            .into_iter()
            .map(|o| PartForm {
                unit: o.unit,
                note: Some(format!(
                    "{} hồ sơ giải quyết quá hạn, {} hồ sơ đang quá hạn",
                    o.resolved_late, o.in_progress_overdue
                )),
            })
            .collect(),
    }))
}

fn period_words(period: Period) -> String {
    match period {
        Period::Month { year, month } => format!("tháng {month}/{year}"),
        Period::Quarter { year, quarter } => format!("quý {quarter}/{year}"),
        Period::Year(year) => format!("năm {year}"),
    }
}

/// A unit's record for a year: its parts of the tasks due in it, beside its reporting duties.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its parts of the tasks due before a day of the year.
    pub tasks: TaskTally,
    /// Its reports owed for the year, all duties together, and the PAR points they cost.
    pub reports: Tally,
}

/// Every unit (within `scope`) with a task part or a reporting duty in `year`, by code, judged
/// on `now`'s day.
pub fn compliance(
    conn: &mut DbConnection,
    scope: &UnitScope,
    year: i32,
    now: NaiveDateTime,
) -> AppResult<Vec<UnitRecord>> {
    let today = now.date();
    let window = crate::task::due_before_in(year);
    let filter = TaskFilter {
        due_from: window.map(|w| w.0),
        due_to: window.map(|w| w.1),
        ..TaskFilter::default()
    };
    let mut records: BTreeMap<String, UnitRecord> = BTreeMap::new();
    let blank = |code: &str, name: &str| UnitRecord {
        unit: code.to_owned(),
        name: name.to_owned(),
        tasks: TaskTally::default(),
        reports: Tally::default(),
    };
    for task in tasks::list(conn, scope, &filter)? {
        for part in &task.parts {
            let standing = judge(
                part.state,
                task.due_before,
                part.evidence.as_ref().map(|e| e.date),
                today,
            );
            records
                .entry(part.unit.clone())
                .or_insert_with(|| blank(&part.unit, &part.unit_name))
                .tasks
                .add(standing);
        }
    }
    for c in duties::compliance(conn, scope, year, now)? {
        let r = records
            .entry(c.unit.code.clone())
            .or_insert_with(|| blank(&c.unit.code, &c.unit.name));
        r.reports = r.reports.plus(c.tally);
    }
    Ok(records.into_values().collect())
}
