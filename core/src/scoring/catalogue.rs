//! What the catalogue counts for the 766 index: the timeliness of announcements and
//! publications (transparency group), and which procedures offer online service, online payment
//! and a link to the population database (online service, payment and digitization groups).
//!
//! Pure: the storage layer reads the decisions, procedures and a period's dossiers and hands
//! them over as plain values.
//!
//! - `PUBLISH_ON_TIME`: the procedures of the ministry decisions that count in the period (the
//!   province announced them in it, or their deadline fell in it and they were not announced by
//!   its end, or by now); a procedure is on time when every decision naming it that counts was
//!   announced by its deadline (one late announcement makes the procedure late for the period).
//! - `PUBLIC_UPDATE_ON_TIME`: likewise for publication on the national database of the
//!   provincial decisions.
//! - `PUBLIC_CONTENT_FULL`: the procedures published on the national database by the day the
//!   period is judged (or, as a rule set may say, those published in the period) whose content
//!   (the version in force) has every required part.
//! - Of the procedures in force for the unit: `ONLINE_SERVICE_PROVIDED` those offering partial or
//!   full online service (at a commune, of those of commune level: PORTAL_RULES 3.1); `ONLINE_SERVICE_WITH_DOSSIERS` of those, the ones that received an
//!   online dossier in the period; `ONLINE_PAYMENT_FORMALITY` of the procedures with fees, those
//!   with a dossier paid online; `PAYMENT_INTEGRATED_FORMALITY` of the procedures with fees,
//!   those with a dossier of the period synced to the portal with its fees (PORTAL_RULES 3.5);
//!   `CITIZEN_DATA_CONNECTED_FORMALITY` those with a synced dossier that used the population
//!   database (PORTAL_RULES 4.5).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};

use super::counting::{Counting, ProcedureKind, in_population_data};
use crate::procedure::ContentPart;

/// A deadline a procedure had to meet: the province announcing a ministry decision that names
/// it, or publishing a provincial decision that names it on the national database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// The procedure (code as written in the decision).
    pub procedure: String,
    /// The decision's number.
    pub decision: String,
    /// The decision's database id.
    pub decision_id: i64,
    /// The unit that had to act, if known.
    pub unit_id: Option<i64>,
    /// The day the clock started (the decision's signature).
    pub signed_on: NaiveDate,
    /// The last day on time.
    pub due: NaiveDate,
    /// The day it was done, if it was.
    pub done: Option<NaiveDate>,
}

impl Deadline {
    /// Whether it counts in the period of days `[first, after)` judged on `today`, and if so
    /// whether it was met. `today` is the day of judging while the period runs (a deadline due
    /// that day is not missed yet) and `after` once it is over (a deadline due on its last day
    /// and not met by then was missed in it, since no later period counts it). With
    /// `undone_counts`, a deadline that fell in the period unmet counts too, as late; without,
    /// only what was done in the period counts (the portal's `PUBLISH_ON_TIME`: a decision never
    /// made is not in the indicator).
    pub fn judge(
        &self,
        first: NaiveDate,
        after: NaiveDate,
        today: NaiveDate,
        undone_counts: bool,
    ) -> Option<bool> {
        match self.done {
            Some(done) if done >= first && done < after && done <= today => Some(done <= self.due),
            // Due in the period and not done by its end (or today): late for the period.
            done if undone_counts
                && self.due >= first
                && self.due < after
                && self.due < today
                && done.is_none_or(|d| d >= after || d > today) =>
            {
                Some(false)
            }
            _ => None,
        }
    }
}

/// A procedure's verdict for a deadline indicator: on time, or the deadline that made it late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// The procedure.
    pub procedure: &'a str,
    /// The first deadline (by due day) it missed in the period; `None` when on time.
    pub missed: Option<&'a Deadline>,
}

/// The day the catalogue is read on for the period ending at `end` (exclusive) judged at
/// `judged`: the period's last day once it is over, else the day of `judged`.
pub fn content_day(end: NaiveDateTime, judged: NaiveDateTime) -> NaiveDate {
    let after = end.date();
    if judged >= end {
        after.pred_opt().unwrap_or(after)
    } else {
        judged.date()
    }
}

/// The `today` a period's deadlines are judged on ([`judge_deadlines`]): the day after its last
/// once it is over, so that a deadline due on its last day and not met is missed in it (the
/// next period does not count an earlier period's deadline; until 2026-12-07 such a deadline
/// counted in no period), else the day of `judged`.
pub fn deadline_day(end: NaiveDateTime, judged: NaiveDateTime) -> NaiveDate {
    if judged >= end {
        end.date()
    } else {
        judged.date()
    }
}

/// The procedures that count for a deadline indicator in the period `[first, after)` judged on
/// `today` (`today` and `undone_counts` as [`Deadline::judge`] takes them), each with the deadline it
/// missed if it missed one, ordered by procedure code.
pub fn judge_deadlines(
    deadlines: &[Deadline],
    first: NaiveDate,
    after: NaiveDate,
    today: NaiveDate,
    undone_counts: bool,
) -> Vec<Verdict<'_>> {
    let mut by_procedure: BTreeMap<&str, Option<&Deadline>> = BTreeMap::new();
    for d in deadlines {
        let Some(met) = d.judge(first, after, today, undone_counts) else {
            continue;
        };
        let slot = by_procedure.entry(d.procedure.as_str()).or_insert(None);
        if !met && slot.is_none_or(|m| d.due < m.due) {
            *slot = Some(d);
        }
    }
    by_procedure
        .into_iter()
        .map(|(procedure, missed)| Verdict { procedure, missed })
        .collect()
}

/// A procedure published on the national database, with what its content lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The procedure.
    pub procedure: String,
    /// The provincial decision's number.
    pub decision: String,
    /// The unit that submitted it, if known.
    pub unit_id: Option<i64>,
    /// Published on.
    pub published_on: NaiveDate,
    /// The required parts its content (the version in force) lacks; `None` when tthc does not
    /// hold the procedure at all.
    pub missing: Option<Vec<ContentPart>>,
}

/// The procedures published by `today` (and on or after `since`, when given: the period's first
/// day), each with whether its content is incomplete (the first publication that is), ordered by
/// code.
pub fn judge_content(
    publications: &[Publication],
    since: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<(&str, Option<&Publication>)> {
    let mut by_procedure: BTreeMap<&str, Option<&Publication>> = BTreeMap::new();
    for p in publications {
        if since.is_some_and(|first| p.published_on < first) || p.published_on > today {
            continue;
        }
        let slot = by_procedure.entry(p.procedure.as_str()).or_insert(None);
        let incomplete = p.missing.as_ref().is_none_or(|m| !m.is_empty());
        if incomplete && slot.is_none() {
            *slot = Some(p);
        }
    }
    by_procedure.into_iter().collect()
}

/// A procedure in force for a unit, as the online and payment indicators read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureFacts {
    /// Code.
    pub code: String,
    /// Code without the province suffix (dossiers may name either).
    pub base: String,
    /// The unit of the subtree that handles it with the smallest id.
    pub unit_id: Option<i64>,
    /// Offers partial or full online service.
    pub online: bool,
    /// Commune is among the levels of its version in force.
    pub commune_level: bool,
    /// What the counting reads of it (paper result, citizens served, fees).
    pub kind: ProcedureKind,
}

/// What a period's dossiers of one procedure showed, as the procedure indicators read it (any
/// dossier received in the period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DossierUse {
    /// A dossier was submitted online.
    pub online: bool,
    /// A dossier's fee was paid online.
    pub paid_online: bool,
    /// A dossier with a financial obligation was synced carrying its fees.
    pub synced_with_fees: bool,
    /// A dossier synced to the portal used the population database.
    pub population: bool,
}

impl DossierUse {
    /// Both uses together.
    pub fn merge(self, other: Self) -> Self {
        Self {
            online: self.online || other.online,
            paid_online: self.paid_online || other.paid_online,
            synced_with_fees: self.synced_with_fees || other.synced_with_fees,
            population: self.population || other.population,
        }
    }
}

/// How one procedure stands for one procedure indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureVerdict<'a> {
    /// The indicator.
    pub indicator: &'static str,
    /// The procedure.
    pub procedure: &'a ProcedureFacts,
    /// Why it misses the indicator; `None` when it meets it.
    pub miss: Option<&'static str>,
}

/// Every procedure's standing for every procedure indicator it counts for, given the period's
/// dossier uses by procedure code (full or base code); `CITIZEN_DATA_CONNECTED_FORMALITY` counts
/// the procedures `counting` puts in the population-data indicators. `at_commune`: the unit
/// judged is a commune, whose `ONLINE_SERVICE_PROVIDED` counts the procedures of commune level
/// only when `counting` says so.
pub fn judge_procedures<'a>(
    procedures: &'a [ProcedureFacts],
    uses: &BTreeMap<String, DossierUse>,
    counting: &Counting,
    at_commune: bool,
) -> Vec<ProcedureVerdict<'a>> {
    let by_level = at_commune && counting.commune_online_service_by_level;
    let mut out = Vec::new();
    for p in procedures {
        let codes: BTreeSet<&str> = [p.code.as_str(), p.base.as_str()].into();
        let used = codes
            .iter()
            .filter_map(|c| uses.get(*c))
            .fold(DossierUse::default(), |a, b| a.merge(*b));
        let mut verdict = |indicator, miss: Option<&'static str>| {
            out.push(ProcedureVerdict {
                indicator,
                procedure: p,
                miss,
            });
        };
        // PORTAL_RULES 3.1: a commune's competence is the procedures of commune level.
        if !by_level || p.commune_level {
            verdict(
                "ONLINE_SERVICE_PROVIDED",
                (!p.online).then_some("offers no online service"),
            );
        }
        if p.online {
            verdict(
                "ONLINE_SERVICE_WITH_DOSSIERS",
                (!used.online).then_some("received no online dossier in the period"),
            );
        }
        if p.kind.fees {
            verdict(
                "ONLINE_PAYMENT_FORMALITY",
                (!used.paid_online).then_some("no dossier of the period was paid online"),
            );
            // PORTAL_RULES 3.5: one dossier of the period synced with its fees (a financial
            // obligation and the fee list) makes the procedure count, whatever its other
            // dossiers carried.
            verdict(
                "PAYMENT_INTEGRATED_FORMALITY",
                (!used.synced_with_fees)
                    .then_some("no dossier with fees was synced to the portal with them"),
            );
        }
        if in_population_data(counting, p.kind) {
            verdict(
                "CITIZEN_DATA_CONNECTED_FORMALITY",
                (!used.population).then_some(
                    "no dossier of the period synced to the portal used the population database",
                ),
            );
        }
    }
    out
}

/// `(numerator, denominator)` of each indicator from verdicts: those met of those counted.
pub fn tally<'a>(
    verdicts: impl IntoIterator<Item = (&'a str, bool)>,
) -> BTreeMap<&'a str, (u64, u64)> {
    let mut out: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (indicator, met) in verdicts {
        let slot = out.entry(indicator).or_default();
        slot.0 += u64::from(met);
        slot.1 += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn deadline(procedure: &str, due: &str, done: Option<&str>) -> Deadline {
        Deadline {
            procedure: procedure.into(),
            decision: format!("{procedure}/{due}"),
            decision_id: 1,
            unit_id: None,
            signed_on: d("2026-02-20"),
            due: d(due),
            done: done.map(d),
        }
    }

    #[test]
    fn a_deadline_counts_where_it_was_done_or_where_it_fell_undone() {
        let (first, after) = (d("2026-03-01"), d("2026-04-01"));
        // March judged once it is over.
        let end = after;
        // Done in March by its deadline: on time in March.
        assert_eq!(
            deadline("A", "2026-03-10", Some("2026-03-09")).judge(first, after, end, true),
            Some(true)
        );
        // Done in March after its February deadline: late in March.
        assert_eq!(
            deadline("A", "2026-02-20", Some("2026-03-02")).judge(first, after, end, true),
            Some(false)
        );
        // Due in March, done in April: late in March, and counts in April too.
        let late = deadline("A", "2026-03-20", Some("2026-04-02"));
        assert_eq!(late.judge(first, after, end, true), Some(false));
        assert_eq!(
            late.judge(d("2026-04-01"), d("2026-05-01"), d("2026-05-01"), true),
            Some(false)
        );
        // Due in March, never done: late in March; not counted in April (nothing happened).
        let undone = deadline("A", "2026-03-20", None);
        assert_eq!(undone.judge(first, after, end, true), Some(false));
        assert_eq!(
            undone.judge(d("2026-04-01"), d("2026-05-01"), d("2026-05-01"), true),
            None
        );
        // Due on March's last day, never done: late in March, once March is over, since April
        // does not count it either (until 2026-12-07 it counted in no period: March over was
        // judged on its last day).
        let last_day = deadline("A", "2026-03-31", None);
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let (march_end, over) = (at("2026-04-01 00:00"), at("2026-04-20 10:00"));
        assert_eq!(deadline_day(march_end, over), after);
        assert_eq!(content_day(march_end, over), d("2026-03-31"));
        let day = deadline_day(march_end, over);
        assert_eq!(last_day.judge(first, after, day, true), Some(false));
        let running = deadline_day(march_end, at("2026-03-31 16:00"));
        assert_eq!(
            last_day.judge(first, after, running, true),
            None,
            "on its last day, the running month has not missed it yet"
        );
        assert_eq!(
            last_day.judge(d("2026-04-01"), d("2026-05-01"), d("2026-05-01"), true),
            None
        );
        // March not over: due tomorrow and not done yet is not judged; due yesterday is late.
        assert_eq!(
            deadline("A", "2026-03-16", None).judge(first, after, d("2026-03-15"), true),
            None
        );
        assert_eq!(
            deadline("A", "2026-03-14", None).judge(first, after, d("2026-03-15"), true),
            Some(false)
        );
        // The portal's way: only what was done in the period counts; an undone deadline of the
        // period, or one done after it, is not in it.
        assert_eq!(undone.judge(first, after, end, false), None);
        assert_eq!(late.judge(first, after, end, false), None);
        assert_eq!(
            deadline("A", "2026-02-20", Some("2026-03-02")).judge(first, after, end, false),
            Some(false)
        );
        // Due and done in February: not March's.
        assert_eq!(
            deadline("A", "2026-02-10", Some("2026-02-09")).judge(first, after, end, true),
            None
        );
    }

    #[test]
    fn one_late_deadline_makes_the_procedure_late_for_the_period() {
        let all = [
            deadline("A", "2026-03-10", Some("2026-03-09")),
            deadline("A", "2026-03-20", Some("2026-03-25")),
            deadline("B", "2026-03-10", Some("2026-03-10")),
            deadline("C", "2026-01-10", Some("2026-01-09")),
        ];
        let v = judge_deadlines(
            &all,
            d("2026-03-01"),
            d("2026-04-01"),
            d("2026-03-31"),
            true,
        );
        assert_eq!(v.len(), 2, "C does not count in March");
        assert_eq!(v[0].procedure, "A");
        assert_eq!(v[0].missed.map(|m| m.due), Some(d("2026-03-20")));
        assert_eq!(v[1].missed, None);
        let t = tally(v.iter().map(|v| ("PUBLISH_ON_TIME", v.missed.is_none())));
        assert_eq!(t["PUBLISH_ON_TIME"], (1, 2));
    }

    #[test]
    fn content_counts_publications_by_the_day_or_of_the_period() {
        let publication =
            |procedure: &str, on: &str, missing: Option<Vec<ContentPart>>| Publication {
                procedure: procedure.into(),
                decision: "1/QĐ-UBND".into(),
                unit_id: None,
                published_on: d(on),
                missing,
            };
        let all = [
            publication("A", "2026-03-05", Some(vec![])),
            publication("B", "2026-03-06", Some(vec![ContentPart::Fees])),
            publication("C", "2026-03-07", None),
            publication("D", "2026-02-07", Some(vec![ContentPart::Fees])),
        ];
        let v = judge_content(&all, Some(d("2026-03-01")), d("2026-03-31"));
        let incomplete: Vec<&str> = v.iter().filter(|(_, p)| p.is_some()).map(|v| v.0).collect();
        assert_eq!(v.len(), 3);
        assert_eq!(incomplete, ["B", "C"], "unknown content is not full");
        // Judged now (PORTAL_RULES 1.3): every publication by the day, D's of February too; none
        // after it.
        let v = judge_content(&all, None, d("2026-03-06"));
        let judged: Vec<(&str, bool)> = v.iter().map(|(c, p)| (*c, p.is_none())).collect();
        assert_eq!(judged, [("A", true), ("B", false), ("D", false)]);
    }

    #[test]
    fn procedures_are_judged_by_their_dossiers_under_either_code() {
        let procedure = |code: &str, online, fees| ProcedureFacts {
            code: code.into(),
            base: code.split('.').take(2).collect::<Vec<_>>().join("."),
            unit_id: None,
            online,
            // 1.000002 is handled by the commune but is of another level.
            commune_level: code != "1.000002",
            kind: ProcedureKind {
                paper_result: false,
                citizen: code != "1.000003",
                fees,
            },
        };
        let procedures = [
            procedure("1.000001.H12", true, true),
            procedure("1.000002", true, false),
            procedure("1.000003", false, true),
        ];
        let uses = BTreeMap::from([
            (
                // Synced with its fees once: it counts, whatever its other dossiers carried
                // (PORTAL_RULES 3.5).
                "1.000001".to_owned(),
                DossierUse {
                    online: true,
                    paid_online: true,
                    synced_with_fees: true,
                    ..DossierUse::default()
                },
            ),
            (
                "1.000001.H12".to_owned(),
                DossierUse {
                    population: true,
                    ..DossierUse::default()
                },
            ),
            (
                "1.000003".to_owned(),
                DossierUse {
                    paid_online: true,
                    ..DossierUse::default()
                },
            ),
        ]);
        let v = judge_procedures(&procedures, &uses, &Counting::unrestricted(), false);
        let t = tally(v.iter().map(|v| (v.indicator, v.miss.is_none())));
        assert_eq!(t["ONLINE_SERVICE_PROVIDED"], (2, 3));
        assert_eq!(t["ONLINE_SERVICE_WITH_DOSSIERS"], (1, 2));
        assert_eq!(t["ONLINE_PAYMENT_FORMALITY"], (2, 2));
        assert_eq!(
            t["PAYMENT_INTEGRATED_FORMALITY"],
            (1, 2),
            "one was never synced with its fees"
        );
        assert_eq!(t["CITIZEN_DATA_CONNECTED_FORMALITY"], (1, 3));
        let miss = v
            .iter()
            .find(|v| v.indicator == "PAYMENT_INTEGRATED_FORMALITY" && v.miss.is_some())
            .unwrap();
        assert_eq!(miss.procedure.code, "1.000003");
        // Over citizens' procedures only (PORTAL_RULES 4.5), 1.000003 (businesses) leaves.
        let v = judge_procedures(&procedures, &uses, &Counting::default(), false);
        let t = tally(v.iter().map(|v| (v.indicator, v.miss.is_none())));
        assert_eq!(t["CITIZEN_DATA_CONNECTED_FORMALITY"], (1, 2));
        assert_eq!(t["ONLINE_SERVICE_PROVIDED"], (2, 3));
        // At a commune (PORTAL_RULES 3.1), the online service share counts the procedures of
        // commune level only; the other indicators keep every procedure it handles.
        let at_commune = judge_procedures(&procedures, &uses, &Counting::default(), true);
        let c = tally(at_commune.iter().map(|v| (v.indicator, v.miss.is_none())));
        assert_eq!(c["ONLINE_SERVICE_PROVIDED"], (1, 2), "1.000002 leaves");
        for other in [
            "ONLINE_SERVICE_WITH_DOSSIERS",
            "ONLINE_PAYMENT_FORMALITY",
            "PAYMENT_INTEGRATED_FORMALITY",
            "CITIZEN_DATA_CONNECTED_FORMALITY",
        ] {
            assert_eq!(c[other], t[other], "{other}");
        }
        // A rule set may count every procedure a commune handles.
        let all = judge_procedures(&procedures, &uses, &Counting::unrestricted(), true);
        let a = tally(all.iter().map(|v| (v.indicator, v.miss.is_none())));
        assert_eq!(a["ONLINE_SERVICE_PROVIDED"], (2, 3));
    }
}
