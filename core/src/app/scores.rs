//! The score use cases: which rule set scores a period, a unit's live score, the score it
//! stands at (a closed month's snapshot, else live), and both side by side for late data.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::{AppError, AppResult};
use crate::InvalidParam;
use crate::db::units::{self, UnitRow};
use crate::db::{DbConnection, periods, rule_sets, scores};
use crate::period::Period;
use crate::scoring::counts::{Count, Source};
use crate::scoring::{Evaluation, RuleSet, RuleSets};
use crate::unit::UnitScope;

/// An evaluation and where each of its figures comes from.
pub type Standing = (Evaluation, BTreeMap<String, Source>);

/// Every rule set the service knows, shipped and added (read for each request, so that several
/// instances on one database score alike).
pub fn rule_sets(conn: &mut DbConnection) -> AppResult<RuleSets> {
    Ok(rule_sets::catalogue(conn)?)
}

/// The period `text` names, and the rule set of `sets` in force on its first day.
pub fn period_in(sets: &RuleSets, text: &str) -> AppResult<(Period, Arc<RuleSet>)> {
    let invalid = |reason: String| AppError::Invalid(vec![InvalidParam::new("period", reason)]);
    let period = Period::parse(text).map_err(invalid)?;
    let rule_set = sets.in_force(period.first_day()).ok_or_else(|| {
        invalid("no rule set of the 766 index applies to it (qd766 applies from 2022-06-23)".into())
    })?;
    Ok((period, rule_set))
}

/// The unit `code` when `scope` allows it.
pub fn unit_in(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> AppResult<UnitRow> {
    units::find_row(conn, code)?
        .filter(|u| scope.allows(&u.path))
        .ok_or_else(|| AppError::NotFound(format!("no unit has the code {code}")))
}

/// The evaluation of a unit's figures against `rule_set`
/// ([`crate::scoring::counts::evaluate_counts`]).
pub fn evaluate(counts: &BTreeMap<String, Count>, rule_set: &RuleSet) -> AppResult<Standing> {
    crate::scoring::counts::evaluate_counts(counts, rule_set).map_err(AppError::Refused)
}

/// The live evaluation of `unit` for `period`, counted from the records now.
pub fn live(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> AppResult<Standing> {
    let counts = scores::figures(conn, unit, period, now, &rule_set.counting)?;
    evaluate(&counts, rule_set)
}

/// The score a unit stands at for `period`: a closed month's snapshot, else live.
pub fn standing(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> AppResult<Standing> {
    standing_frozen(conn, unit, period, rule_set, now).map(|(standing, _)| standing)
}

/// [`standing`], and whether it comes from a closed month's snapshot.
pub fn standing_frozen(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> AppResult<(Standing, bool)> {
    Ok(match periods::snapshot(conn, unit, period)? {
        Some(frozen) => (evaluate_snapshot(conn, &frozen, rule_set)?, true),
        None => (live(conn, unit, period, rule_set, now)?, false),
    })
}

/// The evaluation of `unit`'s snapshot for the closed month `period`, or `None` when the month
/// is not closed or the unit did not exist then.
pub fn snapshot_standing(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    rule_set: &RuleSet,
) -> AppResult<Option<Standing>> {
    periods::snapshot(conn, unit, period)?
        .map(|frozen| evaluate_snapshot(conn, &frozen, rule_set))
        .transpose()
}

/// A unit's score for a period, and for a closed month the live score beside it (late data).
pub struct Scored {
    /// A closed month's snapshot, else the live score.
    pub standing: Standing,
    /// For a closed month, the live evaluation now.
    pub live: Option<Evaluation>,
}

/// The score of `unit` for `period` with, for a closed month, the live one beside it.
pub fn scored(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> AppResult<Scored> {
    let live_standing = live(conn, unit, period, rule_set, now)?;
    Ok(match periods::snapshot(conn, unit, period)? {
        Some(frozen) => Scored {
            standing: evaluate_snapshot(conn, &frozen, rule_set)?,
            live: Some(live_standing.0),
        },
        None => Scored {
            standing: live_standing,
            live: None,
        },
    })
}

/// A snapshot's figures scored by the rule set it was closed with (`rule_set` if that one is
/// no longer known: a rule set closed months were scored with cannot change or go).
fn evaluate_snapshot(
    conn: &mut DbConnection,
    frozen: &periods::Snapshot,
    rule_set: &RuleSet,
) -> AppResult<Standing> {
    if frozen.rule_set == rule_set.code {
        return evaluate(&frozen.figures, rule_set);
    }
    let closed_with = rule_sets::catalogue(conn)?.get(&frozen.rule_set);
    evaluate(&frozen.figures, closed_with.as_deref().unwrap_or(rule_set))
}
