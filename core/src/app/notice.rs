//! The monthly notice's use case: what the provincial office tells its departments and communes
//! for a period (seed `004_…`), gathered in one consistent read; the HTTP layer lays it out as
//! JSON, a printable page or a workbook.

use chrono::{NaiveDate, NaiveDateTime};

use super::AppResult;
use super::scores::{standing, standing_frozen, unit_in};
use crate::db::DbConnection;
use crate::db::announcements::{self, LateAnnouncement};
use crate::db::official::{self, OfficialScores};
use crate::db::reports::{self, GroupBy, Line};
use crate::db::units::{self, UnitRow};
use crate::period::Period;
use crate::scoring::{Evaluation, RuleSet};
use crate::unit::UnitScope;

/// Everything a notice says.
#[derive(Debug, Clone)]
pub struct NoticeData {
    /// The unit the notice is of (usually the province).
    pub unit: UnitRow,
    /// The portal's published scores, when entered.
    pub official: Option<OfficialScores>,
    /// The unit's own score.
    pub own: Evaluation,
    /// Whether it comes from a closed month's snapshot (else live).
    pub frozen: bool,
    /// The departments among its direct children, with their scores.
    pub departments: Vec<(UnitRow, Evaluation)>,
    /// The districts and communes among its direct children, with their scores.
    pub localities: Vec<(UnitRow, Evaluation)>,
    /// Form II.06a by direct child unit.
    pub processing: Vec<Line>,
    /// The ministry decisions announced late or not at all, due in the period.
    pub late_announcements: Vec<LateAnnouncement>,
    /// The units with late dossiers, who owe an explanation, most late first.
    pub owing: Vec<Owing>,
}

/// A unit that owes an explanation of its late dossiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owing {
    /// The unit's code.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Dossiers resolved late in the period.
    pub resolved_late: u64,
    /// Dossiers overdue at its end.
    pub in_progress_overdue: u64,
}

/// The notice of unit `code` (within `scope`) for `period`, scored with `rule_set`, judged at
/// `now` while the period runs.
pub fn notice(
    conn: &mut DbConnection,
    scope: &UnitScope,
    code: &str,
    period: Period,
    rule_set: &RuleSet,
    now: NaiveDateTime,
) -> AppResult<NoticeData> {
    let unit = unit_in(conn, scope, code)?;
    let official = official::get(conn, &unit, period)?;
    let ((own, _), frozen) = standing_frozen(conn, &unit, period, rule_set, now)?;
    let (mut departments, mut localities) = (Vec::new(), Vec::new());
    for child in units::children_rows(conn, &unit)? {
        let (evaluation, _) = standing(conn, &child, period, rule_set, now)?;
        match child.level.as_str() {
            "district" | "commune" => localities.push((child, evaluation)),
            _ => departments.push((child, evaluation)),
        }
    }
    let processing = reports::ii06a(conn, &unit, period, now, GroupBy::Unit)?;
    let last = period.last_day().min(now.date());
    let late_announcements = announcements::late(conn, scope, last)?
        .into_iter()
        .filter(|a| due_in(a, period.first_day(), period.last_day()))
        .collect();
    let owing = owing(&processing);
    Ok(NoticeData {
        unit,
        official,
        own,
        frozen,
        departments,
        localities,
        processing,
        late_announcements,
        owing,
    })
}

/// The 17th of the month after the period, when seed `004_…` wanted the explanations ("trước
/// ngày 17/5/2024" for April's).
pub fn default_explain_by(period: Period) -> NaiveDate {
    let next = period.last_day().succ_opt().unwrap_or(period.last_day());
    chrono::Datelike::with_day(&next, 17).unwrap_or(next)
}

/// A late announcement belongs to the notice of the period it fell due in (or before), unless
/// it was announced before the period began.
fn due_in(a: &LateAnnouncement, first: NaiveDate, last: NaiveDate) -> bool {
    a.due <= last && a.announced_by.as_ref().is_none_or(|d| d.signed_on >= first)
}

/// The lines with late dossiers, most late first, then by code.
pub fn owing(lines: &[Line]) -> Vec<Owing> {
    let mut owing: Vec<Owing> = lines
        .iter()
        .filter(|l| l.counts.late() > 0)
        .map(|l| Owing {
            unit: l.key.clone(),
            name: l.name.clone(),
            resolved_late: l.counts.resolved.late,
            in_progress_overdue: l.counts.in_progress.overdue,
        })
        .collect();
    owing.sort_by(|a, b| {
        (b.resolved_late + b.in_progress_overdue)
            .cmp(&(a.resolved_late + a.in_progress_overdue))
            .then_with(|| a.unit.cmp(&b.unit))
    });
    owing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ii06a::Counts;

    fn line(key: &str, resolved_late: u64, overdue: u64) -> Line {
        let mut counts = Counts::default();
        counts.resolved.late = resolved_late;
        counts.resolved.total = resolved_late + 3;
        counts.in_progress.overdue = overdue;
        counts.in_progress.total = overdue + 2;
        Line {
            key: key.into(),
            name: format!("Đơn vị {key}"),
            counts,
        }
    }

    #[test]
    fn units_with_late_dossiers_owe_an_explanation_most_late_first() {
        let lines = [
            line("A", 1, 1),
            line("B", 0, 0),
            line("C", 0, 3),
            line("D", 2, 0),
        ];
        let owed: Vec<(String, u64, u64)> = owing(&lines)
            .into_iter()
            .map(|o| (o.unit, o.resolved_late, o.in_progress_overdue))
            .collect();
        // C has 3; A and D have 2 each, by code; B has none.
        assert_eq!(
            owed,
            [
                ("C".to_owned(), 0, 3),
                ("A".to_owned(), 1, 1),
                ("D".to_owned(), 2, 0)
            ]
        );
    }
}
