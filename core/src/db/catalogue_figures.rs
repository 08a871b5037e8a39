//! Reads what the catalogue indicators of the 766 index count for a unit and period (the
//! announcement decisions, the procedures in force, and which procedures the period's dossiers
//! used) and hands it to the pure counting of [`crate::scoring::catalogue`].

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    announcement_items, announcement_links, announcements, dossiers, procedure_version_units,
    procedure_versions, procedures, units,
};
use super::timestamp::Stamp;
use super::units::UnitRow;
use super::{DbConnection, StoreResult};
use crate::dossier::facts as f;
use crate::procedure::{ContentPart, CountedContent, ProcedureCode, ProcedureContent};
use crate::scoring::catalogue::{
    self, Deadline, DossierUse, ProcedureFacts, Publication, judge_content, judge_deadlines,
    judge_procedures, tally,
};
use crate::scoring::counting::{Counting, ProcedureKind};
use crate::scoring::registry::{self, Counted};
use crate::unit::UnitLevel;

/// A procedure that cost a catalogue indicator points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureMiss {
    /// The indicator.
    pub indicator: &'static str,
    /// The procedure.
    pub procedure: String,
    /// The unit at fault, if known.
    pub unit_id: Option<i64>,
    /// The decision concerned, for the transparency indicators.
    pub decision: Option<String>,
    /// The deadline missed, for the deadline indicators.
    pub due: Option<NaiveDate>,
    /// When it was done, if it was.
    pub done: Option<NaiveDate>,
    /// Why it counts against the indicator.
    pub reason: String,
}

/// The catalogue indicators of a unit and period: each one's `(numerator, denominator)`, and
/// the procedures that missed, by indicator then procedure code.
#[derive(Debug, Default)]
pub struct CatalogueFigures {
    /// `(numerator, denominator)` by indicator (every catalogue indicator of the registry).
    pub counts: BTreeMap<&'static str, (u64, u64)>,
    /// The misses.
    pub misses: Vec<ProcedureMiss>,
}

/// The ids of the units of `unit`'s subtree.
fn subtree_ids(conn: &mut DbConnection, unit: &UnitRow) -> StoreResult<Vec<i64>> {
    Ok(units::table
        .filter(units::path.like(format!("{}%", unit.path)))
        .select(units::id)
        .load(conn)?)
}

/// Whether a decision of `unit_id` belongs to `unit`'s subtree; a decision naming no unit
/// belongs to the root of the tree only.
fn belongs(unit: &UnitRow, subtree: &[i64], unit_id: Option<i64>) -> bool {
    match unit_id {
        Some(id) => subtree.binary_search(&id).is_ok(),
        None => unit.parent_id.is_none(),
    }
}

/// The items (procedure codes) of each decision of `ids`.
fn items_of(conn: &mut DbConnection, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, String)> = announcement_items::table
        .filter(announcement_items::announcement_id.eq_any(ids))
        .order((
            announcement_items::announcement_id.asc(),
            announcement_items::position.asc(),
        ))
        .select((
            announcement_items::announcement_id,
            announcement_items::procedure_code,
        ))
        .load(conn)?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, code) in rows {
        out.entry(id).or_default().push(code);
    }
    Ok(out)
}

type DecisionRow = (
    i64,
    String,
    Option<i64>,
    NaiveDate,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

/// The decisions of `kind` of `unit`'s subtree.
fn decisions(
    conn: &mut DbConnection,
    unit: &UnitRow,
    subtree: &[i64],
    kind: &str,
) -> StoreResult<Vec<DecisionRow>> {
    let rows: Vec<DecisionRow> = announcements::table
        .filter(announcements::kind.eq(kind))
        .select((
            announcements::id,
            announcements::number,
            announcements::unit_id,
            announcements::signed_on,
            announcements::announce_due,
            announcements::publish_due,
            announcements::published_on,
        ))
        .order(announcements::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| belongs(unit, subtree, r.2))
        .collect())
}

/// Every procedure's deadlines to announce the ministry decisions naming it, and to publish the
/// provincial decisions naming it, and its publications.
fn deadlines(
    conn: &mut DbConnection,
    unit: &UnitRow,
    subtree: &[i64],
) -> StoreResult<(Vec<Deadline>, Vec<Deadline>, Vec<Publication>)> {
    let ministry = decisions(conn, unit, subtree, "ministry")?;
    let province = decisions(conn, unit, subtree, "province")?;
    // The first provincial decision announcing each ministry decision.
    let ministry_ids: Vec<i64> = ministry.iter().map(|r| r.0).collect();
    let announced: Vec<(i64, NaiveDate)> = announcement_links::table
        .inner_join(
            announcements::table.on(announcements::id.eq(announcement_links::province_decision_id)),
        )
        .filter(announcement_links::ministry_decision_id.eq_any(&ministry_ids))
        .select((
            announcement_links::ministry_decision_id,
            announcements::signed_on,
        ))
        .load(conn)?;
    let mut first_announced: HashMap<i64, NaiveDate> = HashMap::new();
    for (id, on) in announced {
        let slot = first_announced.entry(id).or_insert(on);
        *slot = (*slot).min(on);
    }
    let all_ids: Vec<i64> = ministry.iter().chain(&province).map(|r| r.0).collect();
    let items = items_of(conn, &all_ids)?;
    let mut announce = Vec::new();
    for (id, number, unit_id, signed_on, due, _, _) in &ministry {
        let Some(due) = due else { continue };
        for code in items.get(id).into_iter().flatten() {
            announce.push(Deadline {
                procedure: code.clone(),
                decision: number.clone(),
                decision_id: *id,
                unit_id: *unit_id,
                signed_on: *signed_on,
                due: *due,
                done: first_announced.get(id).copied(),
            });
        }
    }
    let mut publish = Vec::new();
    let mut published = Vec::new();
    for (id, number, unit_id, signed_on, _, due, published_on) in &province {
        for code in items.get(id).into_iter().flatten() {
            if let Some(due) = due {
                publish.push(Deadline {
                    procedure: code.clone(),
                    decision: number.clone(),
                    decision_id: *id,
                    unit_id: *unit_id,
                    signed_on: *signed_on,
                    due: *due,
                    done: *published_on,
                });
            }
            if let Some(on) = published_on {
                published.push(Publication {
                    procedure: code.clone(),
                    decision: number.clone(),
                    unit_id: *unit_id,
                    published_on: *on,
                    missing: None,
                });
            }
        }
    }
    Ok((announce, publish, published))
}

/// Of the procedures of `codes` tthc holds, by code: what the version in force on `day` lacks,
/// else the first version to come (a decision is often published before the day its procedures
/// take effect); `None` for one whose every version ended before `day` (abolished). One read of
/// their versions.
fn content_by_code(
    conn: &mut DbConnection,
    codes: Vec<String>,
    day: NaiveDate,
) -> StoreResult<HashMap<String, Option<Vec<ContentPart>>>> {
    let rows: Vec<(String, NaiveDate, Option<NaiveDate>, String)> = procedure_versions::table
        .inner_join(procedures::table)
        .filter(procedures::code.eq_any(codes))
        .select((
            procedures::code,
            procedure_versions::valid_from,
            procedure_versions::valid_to,
            procedure_versions::content,
        ))
        .order((procedures::code.asc(), procedure_versions::valid_from.asc()))
        .load(conn)?;
    let mut judged: HashMap<String, Option<String>> = HashMap::new();
    for (code, from, to, content) in rows {
        let slot = judged.entry(code).or_insert(None);
        if to.is_some_and(|to| to < day) {
            continue;
        }
        // Ordered by start: a later version replaces the one kept only while it is in force.
        if slot.is_none() || from <= day {
            *slot = Some(content);
        }
    }
    Ok(judged
        .into_iter()
        .filter_map(|(code, content)| match content {
            None => Some((code, None)),
            // A content that does not read is as unknown as a procedure tthc does not hold.
            Some(content) => serde_json::from_str::<ProcedureContent>(&content)
                .ok()
                .map(|c| (code, Some(crate::procedure::missing_parts(&c)))),
        })
        .collect())
}

/// A version in force as the counting reads it: its id, the procedure's code and base code, its
/// online level, content and levels, and its first unit in the subtree.
type VersionInForce = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<i64>,
);

/// The procedures in force on `day` handled by a unit of `unit`'s subtree, by code (bytewise),
/// each with the first of its units there (by id).
fn procedures_in_force(
    conn: &mut DbConnection,
    subtree: &[i64],
    day: NaiveDate,
    counting: &Counting,
) -> StoreResult<Vec<ProcedureFacts>> {
    // One row per version, with its first unit: joined to every unit handling it and not
    // grouped, a commune-level procedure came once per commune with its whole content.
    let mut rows: Vec<VersionInForce> = procedure_versions::table
        .inner_join(procedures::table)
        .inner_join(procedure_version_units::table)
        .filter(procedure_version_units::unit_id.eq_any(subtree))
        .filter(super::procedures::in_force_on(day))
        .group_by((procedure_versions::id, procedures::id))
        .select((
            procedure_versions::id,
            procedures::code,
            procedures::base_code,
            procedure_versions::online_level,
            procedure_versions::content,
            procedure_versions::levels,
            diesel::dsl::min(procedure_version_units::unit_id),
        ))
        .load(conn)?;
    // Of a code with several versions in force, the one whose first unit comes first (then the
    // earlier version: one order on both backends).
    rows.sort_by(|a, b| (&a.1, a.6, a.0).cmp(&(&b.1, b.6, b.0)));
    rows.dedup_by(|later, first| later.1 == first.1);
    let serves_citizens = counting.citizen_matcher::<String>();
    Ok(rows
        .into_iter()
        .map(|(_, code, base, online, content, levels, first_unit)| {
            let content = serde_json::from_str::<CountedContent>(&content).ok();
            let kind = ProcedureKind {
                fees: content.as_ref().is_some_and(CountedContent::has_fees),
                paper_result: content.as_ref().is_some_and(CountedContent::paper_result),
                citizen: content
                    .as_ref()
                    .is_some_and(|c| serves_citizens(&c.target_subjects)),
            };
            ProcedureFacts {
                code,
                base,
                unit_id: first_unit,
                online: matches!(online.as_deref(), Some("partial" | "full")),
                commune_level: levels.split_whitespace().any(|l| l == "commune"),
                kind,
            }
        })
        .collect())
}

/// The day a period `[start, end)` is judged on: its last day once it is over (`judged` at or
/// after its end), else the day of `judged`.
/// The procedures in force for `unit`'s subtree on the day the period `window` is judged, as
/// the catalogue and the dossier indicators read them.
pub(super) fn procedures_of(
    conn: &mut DbConnection,
    unit: &UnitRow,
    window: (NaiveDateTime, NaiveDateTime, NaiveDateTime),
    counting: &Counting,
) -> StoreResult<Vec<ProcedureFacts>> {
    let mut subtree = subtree_ids(conn, unit)?;
    subtree.sort_unstable();
    procedures_in_force(
        conn,
        &subtree,
        catalogue::content_day(window.1, window.2),
        counting,
    )
}

/// Each procedure's kind by its code and by its base code (the first procedure of a base code
/// when several localize it), for the dossiers, which name either.
pub(super) fn kinds_by_code(procedures: &[ProcedureFacts]) -> HashMap<&str, ProcedureKind> {
    let mut out = HashMap::with_capacity(procedures.len() * 2);
    for p in procedures {
        out.insert(p.code.as_str(), p.kind);
        out.entry(p.base.as_str()).or_insert(p.kind);
    }
    out
}

/// What one dossier shows of its procedure, from its channel, fact bits and whether it was
/// synced.
pub(super) fn use_of(channel: &str, facts: i32, synced: bool) -> DossierUse {
    let has = |bit: i32| facts & bit != 0;
    let obligation_synced = synced && has(f::FINANCIAL_OBLIGATION);
    DossierUse {
        online: channel == "online",
        paid_online: has(f::PAID_ONLINE),
        // PORTAL_RULES 3.5: a synced fee list with a non-zero amount (until 2026-12-07 a list
        // of zeros counted).
        synced_with_fees: obligation_synced && has(f::FEES_RECORDED) && !has(f::FEES_ALL_ZERO),
        // PORTAL_RULES 4.5: the portal sees the mark on the dossiers synced to it.
        population: synced && has(f::POPULATION_DB),
    }
}

/// The uses by the procedure code dossiers named, and by its base code too.
pub(super) fn by_code_and_base<'a>(
    uses: impl IntoIterator<Item = (&'a str, DossierUse)>,
) -> BTreeMap<String, DossierUse> {
    let mut out: BTreeMap<String, DossierUse> = BTreeMap::new();
    for (code, used) in uses {
        let base = ProcedureCode::parse(code)
            .map(|c| c.base().to_owned())
            .unwrap_or_else(|_| code.to_owned());
        for key in [code.to_owned(), base] {
            let slot = out.entry(key).or_default();
            *slot = slot.merge(used);
        }
    }
    out
}

/// What the dossiers of `unit`'s subtree received in `[start, end)` showed of each procedure,
/// by the code they name and by its base code.
fn dossier_uses(
    conn: &mut DbConnection,
    unit: &UnitRow,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> StoreResult<BTreeMap<String, DossierUse>> {
    // Distinct combinations are few (procedures × channels × fact bits); the database folds
    // the period's dossiers into them.
    let rows: Vec<(String, String, i32, bool)> = dossiers::table
        .filter(super::subtree_by_time(conn, &format!("{}%", unit.path)))
        // Only dossiers received, as the score reads them (until 2026-12-07 a misses page and
        // the gains counted one refused before receipt, and disagreed with the score).
        .filter(super::scores::counted())
        .filter(dossiers::received_at.ge(Stamp(start)))
        .filter(dossiers::received_at.lt(Stamp(end)))
        .select((
            dossiers::procedure_code,
            dossiers::channel,
            dossiers::facts,
            dossiers::synced_at.is_not_null(),
        ))
        .distinct()
        .load(conn)?;
    Ok(by_code_and_base(rows.iter().map(
        |(code, channel, facts, synced)| (code.as_str(), use_of(channel, *facts, *synced)),
    )))
}

/// Counts the catalogue indicators of `unit`'s subtree for the period `[start, end)` judged at
/// `judged` (its end, or now), with the procedures that missed.
///
/// `read` holds the procedures in force ([`procedures_of`]) and the period's dossier uses by
/// procedure when the caller has read them already (the score reads every dossier of the
/// period anyway); else they are read here. `counting` gives the rule set's choices.
pub fn observe(
    conn: &mut DbConnection,
    unit: &UnitRow,
    (start, end, judged): (NaiveDateTime, NaiveDateTime, NaiveDateTime),
    counting: &Counting,
    read: Option<(Vec<ProcedureFacts>, BTreeMap<String, DossierUse>)>,
) -> StoreResult<CatalogueFigures> {
    let mut subtree = subtree_ids(conn, unit)?;
    subtree.sort_unstable();
    let (first, after) = (start.date(), end.date());
    let today = catalogue::content_day(end, judged);
    let deadline_day = catalogue::deadline_day(end, judged);
    let (announce, publish, mut published) = deadlines(conn, unit, &subtree)?;
    let mut codes: Vec<String> = published.iter().map(|p| p.procedure.clone()).collect();
    codes.sort_unstable();
    codes.dedup();
    let content = content_by_code(conn, codes, today)?;
    let ended = |code: &str| matches!(content.get(code), Some(None));
    let since = if counting.public_content_judged_now {
        // Judged over every publication, a procedure since abolished would count against the
        // province for ever: one whose every version ended is left out (one tthc does not hold
        // at all stays, as incomplete).
        published.retain(|p| !ended(&p.procedure));
        None
    } else {
        Some(first)
    };
    for p in &mut published {
        p.missing = content.get(&p.procedure).cloned().flatten();
    }
    let mut out = CatalogueFigures::default();
    let mut met = Vec::new();
    for (indicator, list, undone_counts) in [
        (
            "PUBLISH_ON_TIME",
            &announce,
            !counting.announcements_dated_in_period_only,
        ),
        ("PUBLIC_UPDATE_ON_TIME", &publish, true),
    ] {
        for v in judge_deadlines(list, first, after, deadline_day, undone_counts) {
            met.push((indicator, v.missed.is_none()));
            if let Some(d) = v.missed {
                let what = if indicator == "PUBLISH_ON_TIME" {
                    "announced"
                } else {
                    "published on the national database"
                };
                out.misses.push(ProcedureMiss {
                    indicator,
                    procedure: v.procedure.to_owned(),
                    unit_id: d.unit_id,
                    decision: Some(d.decision.clone()),
                    due: Some(d.due),
                    done: d.done.filter(|on| *on <= today),
                    reason: match d.done.filter(|on| *on <= today) {
                        Some(on) => format!("{} {} on {on}, due {}", d.decision, what, d.due),
                        None => format!("{} not {what}, due {}", d.decision, d.due),
                    },
                });
            }
        }
    }
    for (procedure, incomplete) in judge_content(&published, since, today) {
        met.push(("PUBLIC_CONTENT_FULL", incomplete.is_none()));
        if let Some(p) = incomplete {
            let reason = match &p.missing {
                Some(parts) => format!(
                    "published content lacks: {}",
                    parts
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "published, but tthc's catalogue does not hold the procedure".to_owned(),
            };
            out.misses.push(ProcedureMiss {
                indicator: "PUBLIC_CONTENT_FULL",
                procedure: procedure.to_owned(),
                unit_id: p.unit_id,
                decision: Some(p.decision.clone()),
                due: None,
                done: Some(p.published_on),
                reason,
            });
        }
    }
    let (procedures, uses) = match read {
        Some(read) => read,
        None => (
            procedures_in_force(conn, &subtree, today, counting)?,
            dossier_uses(conn, unit, start, end.min(judged))?,
        ),
    };
    let at_commune = unit.level.parse::<UnitLevel>() == Ok(UnitLevel::Commune);
    for v in judge_procedures(&procedures, &uses, counting, at_commune) {
        met.push((v.indicator, v.miss.is_none()));
        if let Some(reason) = v.miss {
            out.misses.push(ProcedureMiss {
                indicator: v.indicator,
                procedure: v.procedure.code.clone(),
                unit_id: v.procedure.unit_id,
                decision: None,
                due: None,
                done: None,
                reason: reason.to_owned(),
            });
        }
    }
    out.counts = registry::counted_from(Counted::Catalogue)
        .map(|i| (i, (0, 0)))
        .collect();
    out.counts.extend(tally(met));
    out.misses
        .sort_by(|a, b| (a.indicator, &a.procedure).cmp(&(b.indicator, &b.procedure)));
    Ok(out)
}
