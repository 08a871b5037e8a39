//! The published results: the 766 scores of closed months, which the provincial office
//! publishes every month (seed `002_…`, item 5) and anyone may read without signing in. Only
//! closed months' snapshots are published, never live figures: what a month says, once
//! published, does not move.

use chrono::NaiveDateTime;

use super::AppResult;
use super::scores::snapshot_standing;
use crate::db::units::{self, UnitRow};
use crate::db::{DbConnection, periods};
use crate::period::Period;
use crate::scoring::{Evaluation, RuleSets, ranks, round2};

/// At most this many closed months are listed (two years of a trend).
pub const MONTHS_LISTED: usize = 24;

/// A unit's published score.
#[derive(Debug, Clone)]
pub struct PublishedScore {
    /// The unit.
    pub unit: UnitRow,
    /// Its evaluation from the month's snapshot.
    pub evaluation: Evaluation,
}

/// A child unit in its province's published ranking.
#[derive(Debug, Clone)]
pub struct RankedChild {
    /// Rank by total score (1 = best; equal scores share a rank).
    pub rank: usize,
    /// The unit and its score.
    pub score: PublishedScore,
    /// Its total in the month before, when that month is published too.
    pub previous: Option<f64>,
}

/// A province (a unit without a parent) in a published month.
#[derive(Debug, Clone)]
pub struct PublishedProvince {
    /// The province and its score.
    pub score: PublishedScore,
    /// Its total in the month before, when that month is published too.
    pub previous: Option<f64>,
    /// Its direct children ranked, best first.
    pub children: Vec<RankedChild>,
}

/// A published month.
#[derive(Debug, Clone)]
pub struct PublishedMonth {
    /// The month.
    pub period: Period,
    /// When it was closed (local time).
    pub closed_at: NaiveDateTime,
    /// Each province.
    pub provinces: Vec<PublishedProvince>,
}

/// A published month in the list: each province's total.
#[derive(Debug, Clone)]
pub struct MonthTotals {
    /// The month.
    pub period: Period,
    /// When it was closed (local time).
    pub closed_at: NaiveDateTime,
    /// Each province and its total.
    pub totals: Vec<(UnitRow, Option<f64>)>,
}

/// The snapshot's evaluation of `unit` for `period`, scored by the rule set in force then.
fn published_score(
    conn: &mut DbConnection,
    sets: &RuleSets,
    unit: &UnitRow,
    period: Period,
) -> AppResult<Option<Evaluation>> {
    let Some(rule_set) = sets.in_force(period.first_day()) else {
        return Ok(None);
    };
    Ok(snapshot_standing(conn, unit, period, &rule_set)?.map(|(evaluation, _)| evaluation))
}

/// The published months, latest first (at most [`MONTHS_LISTED`]), with each province's total.
pub fn months(conn: &mut DbConnection, sets: &RuleSets) -> AppResult<Vec<MonthTotals>> {
    let roots = units::root_rows(conn)?;
    let mut out = Vec::new();
    for closed in periods::list_closed(conn)?.into_iter().take(MONTHS_LISTED) {
        let Ok(period) = Period::parse(&closed.period) else {
            continue;
        };
        let mut totals = Vec::with_capacity(roots.len());
        for root in &roots {
            // A province created after the month was closed has no snapshot: not published.
            if let Some(evaluation) = published_score(conn, sets, root, period)? {
                totals.push((root.clone(), evaluation.score));
            }
        }
        out.push(MonthTotals {
            period,
            closed_at: closed.closed_at,
            totals,
        });
    }
    Ok(out)
}

/// The published month `period`, or `None` when it is not closed.
pub fn month(
    conn: &mut DbConnection,
    sets: &RuleSets,
    period: Period,
) -> AppResult<Option<PublishedMonth>> {
    let Some(closed) = periods::closed(conn, period)? else {
        return Ok(None);
    };
    let before = period.previous();
    let before_published = periods::closed(conn, before)?.is_some();
    let previous_total = |conn: &mut DbConnection, unit: &UnitRow| -> AppResult<Option<f64>> {
        if !before_published {
            return Ok(None);
        }
        Ok(published_score(conn, sets, unit, before)?.and_then(|e| e.score))
    };
    let mut provinces = Vec::new();
    for root in units::root_rows(conn)? {
        // A province created after the month was closed has no snapshot: not published.
        let Some(evaluation) = published_score(conn, sets, &root, period)? else {
            continue;
        };
        let previous = previous_total(conn, &root)?;
        let mut scored = Vec::new();
        for child in units::children_rows(conn, &root)? {
            if let Some(evaluation) = published_score(conn, sets, &child, period)? {
                let previous = previous_total(conn, &child)?;
                scored.push((
                    PublishedScore {
                        unit: child,
                        evaluation,
                    },
                    previous,
                ));
            }
        }
        let totals: Vec<f64> = scored
            .iter()
            .map(|(s, _)| s.evaluation.score.unwrap_or(0.0))
            .collect();
        let mut children: Vec<RankedChild> = scored
            .into_iter()
            .zip(ranks(&totals))
            .map(|((score, previous), rank)| RankedChild {
                rank,
                score,
                previous,
            })
            .collect();
        children.sort_by(|a, b| {
            a.rank
                .cmp(&b.rank)
                .then_with(|| a.score.unit.code.cmp(&b.score.unit.code))
        });
        provinces.push(PublishedProvince {
            score: PublishedScore {
                unit: root,
                evaluation,
            },
            previous,
            children,
        });
    }
    Ok(Some(PublishedMonth {
        period,
        closed_at: closed.closed_at,
        provinces,
    }))
}

/// The change from `previous` to `now`, rounded to two decimals.
pub fn change(now: Option<f64>, previous: Option<f64>) -> Option<f64> {
    Some(round2(now? - previous?))
}
