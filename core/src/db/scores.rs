//! The figures behind a unit's 766 score for a period: what tthc counts from its own records of
//! the unit's whole subtree, and what was entered by hand for what it cannot observe.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Change};
use super::catalogue_figures;
use super::schema::{dossiers, unit_figures};
use super::timestamp::Stamp;
use super::union_all::{UnionAll, load_all};
use super::units::UnitRow;
use super::{DbConnection, StoreResult, write_tx};
use crate::dossier::span;
use crate::period::Period;
use crate::scoring::Factor;
use crate::scoring::catalogue::DossierUse;
use crate::scoring::counting::{self, Counting};
pub use crate::scoring::counts::{Count, Source};
use crate::scoring::registry::{self, Counted};
use crate::unit::UnitLevel;

type Db = <DbConnection as Connection>::Backend;

pub use crate::scoring::registry::{is_dossier_indicator, is_observed, listed};

/// Whether `code` is counted from the catalogue.
fn is_catalogue(code: &str) -> bool {
    registry::get(code).is_some_and(|e| e.counted == Counted::Catalogue)
}

/// A figure entered by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnteredFigure {
    /// The numerator; left out, tthc's own count is used (only for the indicators it observes).
    pub numerator: Option<u64>,
    /// The denominator: at most 9223372036854775807, what a signed 64-bit column holds.
    pub denominator: u64,
    /// Where the figure comes from (a report's number, say).
    pub note: Option<String>,
}

/// What the counts read of a dossier carried over into a period (received before it).
type Facts = (
    Option<Stamp>,
    Option<String>,
    Option<Stamp>,
    Option<Stamp>,
    String,
    String,
    i32,
    String,
);

/// The dossiers the indicators count: received ones (PORTAL_RULES 2.1: a dossier refused or
/// withdrawn before receipt was never handled).
pub(super) fn counted() -> diesel::dsl::Lt<dossiers::facts, i32> {
    dossiers::facts.lt(crate::dossier::facts::NOT_RECEIVED)
}

/// The queries, built on `query`, of the dossiers of the subtree `prefix` handled in
/// `[start, end)` but not still open from before it: those received in the period (on the
/// receipt index), then those [`carried_over`]. The path is filtered inside the index.
fn ended_or_received<'q, ST>(
    conn: &DbConnection,
    query: impl Fn() -> dossiers::BoxedQuery<'q, Db, ST>,
    prefix: &str,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> Vec<dossiers::BoxedQuery<'q, Db, ST>> {
    std::iter::once(received_in(conn, &query, prefix, (start, end)))
        .chain(carried_over(conn, query, prefix, start))
        .collect()
}

/// The query, built on `query`, of the dossiers of the subtree `prefix` received in
/// `[start, end)`, on the receipt index.
fn received_in<'q, ST>(
    conn: &DbConnection,
    query: impl Fn() -> dossiers::BoxedQuery<'q, Db, ST>,
    prefix: &str,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> dossiers::BoxedQuery<'q, Db, ST> {
    query()
        .filter(super::subtree_by_time(conn, prefix))
        .filter(counted())
        .filter(dossiers::received_at.ge(Stamp(start)))
        .filter(dossiers::received_at.lt(Stamp(end)))
}

/// The queries, built on `query`, of the dossiers of the subtree `prefix` received before
/// `start` and ended in or after it, one class of handling span at a time (`dossier::span`),
/// each in its window of receipts before the start (on the span index, or the receipt index
/// when the window is short): the few carried over, not every dossier ended since.
fn carried_over<'q, ST>(
    conn: &DbConnection,
    query: impl Fn() -> dossiers::BoxedQuery<'q, Db, ST>,
    prefix: &str,
    start: NaiveDateTime,
) -> Vec<dossiers::BoxedQuery<'q, Db, ST>> {
    span::carried_over_from(start)
        .map(|(class, earliest)| {
            let q = query()
                .filter(super::subtree_by_time(conn, prefix))
                .filter(counted())
                .filter(dossiers::span_class.eq(class))
                .filter(dossiers::received_at.lt(Stamp(start)))
                .filter(dossiers::ended_at.ge(Stamp(start)));
            match earliest {
                Some(earliest) => q.filter(dossiers::received_at.ge(Stamp(earliest))),
                None => q,
            }
        })
        .collect()
}

/// The rows `query` selects among the dossiers of the subtree `prefix` handled in
/// `[start, end)` (received before its end and not ended before its start), read in disjoint
/// parts read together ([`load_all`]): those [`ended_or_received`] reads, and those
/// [`still_open`].
pub(super) fn load_handled<'q, ST, T>(
    conn: &mut DbConnection,
    query: impl Fn() -> dossiers::BoxedQuery<'q, Db, ST>,
    prefix: &str,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> StoreResult<Vec<T>>
where
    dossiers::BoxedQuery<'q, Db, ST>: diesel::query_dsl::LoadQuery<'q, DbConnection, T>,
    UnionAll<dossiers::BoxedQuery<'q, Db, ST>>: diesel::query_dsl::LoadQuery<'q, DbConnection, T>,
{
    let mut parts = ended_or_received(conn, &query, prefix, (start, end));
    parts.push(still_open(conn, &query, prefix, start));
    Ok(load_all(conn, parts)?)
}

/// The query, built on `query`, of the dossiers of the subtree `prefix` received before `start`
/// and still open.
fn still_open<'q, ST>(
    conn: &DbConnection,
    query: impl Fn() -> dossiers::BoxedQuery<'q, Db, ST>,
    prefix: &str,
    start: NaiveDateTime,
) -> dossiers::BoxedQuery<'q, Db, ST> {
    query()
        .filter(super::subtree_by_time(conn, prefix))
        .filter(counted())
        .filter(dossiers::ended_at.is_null())
        .filter(dossiers::received_at.lt(Stamp(start)))
}

/// Of the dossiers of the subtree `prefix` received before `start` and still open: how many,
/// and how many within their due instant at `judged`.
fn open_before(
    conn: &mut DbConnection,
    prefix: &str,
    start: NaiveDateTime,
    judged: NaiveDateTime,
) -> StoreResult<(u64, u64)> {
    use diesel::dsl::{case_when, count_star, sum};
    let in_time = dossiers::late_from
        .is_null()
        .or(dossiers::late_from.ge(Stamp(judged)));
    let (all, in_time): (i64, Option<i64>) =
        still_open(conn, || dossiers::table.into_boxed::<Db>(), prefix, start)
            .select((
                count_star(),
                sum(case_when::<_, _, diesel::sql_types::Integer>(in_time, 1).otherwise(0)),
            ))
            .first(conn)?;
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    Ok((n(all), n(in_time.unwrap_or(0))))
}

/// Dossiers of a period alike in everything its counts read, and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
struct Group {
    /// Received in the period.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    received_in: bool,
    /// Ended before the period's end.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ended_in: bool,
    /// Not late at the period's end (or now): no `late_from`, or one not yet reached.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    open_in_time: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    timing: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    synced: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    channel: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    facts: i32,
    #[diesel(sql_type = diesel::sql_types::Text, column_name = procedure_code)]
    procedure: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    dossiers: i64,
}

/// The dossiers of the subtree `prefix` handled in `[start, end)`, as [`load_handled`] reads
/// them (carried-over ones still open aside), grouped by what the counts read, judged at
/// `judged`. Those received in the period, nearly all of them, are grouped by the database, so
/// that a province's month is a few hundred rows rather than every dossier (on PostgreSQL
/// each row crosses a socket: the month's 47,000 rows took 128 ms, README "PostgreSQL beside
/// SQLite"); the few carried over are read as rows and grouped here.
fn handled_groups(
    conn: &mut DbConnection,
    prefix: &str,
    (start, end, judged): (NaiveDateTime, NaiveDateTime, NaiveDateTime),
) -> StoreResult<Vec<Group>> {
    use diesel::sql_types::{Integer, Text, Timestamp};
    // The subtree as `subtree_by_time` writes it (on PostgreSQL with its root, bound last); the
    // parameters numbered, as each backend writes them.
    let (subtree, params, root) = match conn {
        DbConnection::Sqlite(_) => (
            "+unit_path LIKE ?1".to_owned(),
            ["?2", "?3", "?4", "?5", "?6"],
            None,
        ),
        // A whole tree by its root alone, as `subtree_by_time` writes it ($1 then unused).
        DbConnection::Pg(_) if super::is_whole_tree(prefix) => (
            format!("{} = $7", super::ROOT_OF_PATH),
            ["$2", "$3", "$4", "$5", "$6"],
            Some(super::root_of(prefix)),
        ),
        DbConnection::Pg(_) => (
            format!("{} = $7 AND unit_path LIKE $1", super::ROOT_OF_PATH),
            ["$2", "$3", "$4", "$5", "$6"],
            Some(super::root_of(prefix)),
        ),
    };
    let sql = format!(
        "SELECT 1 = 1 AS received_in, \
         (ended_at IS NOT NULL AND ended_at < {end}) AS ended_in, \
         (late_from IS NULL OR late_from >= {judged}) AS open_in_time, timing, \
         synced_at IS NOT NULL AS synced, channel, status, facts, \
         procedure_code, count(*) AS dossiers \
         FROM dossiers WHERE {subtree} AND facts < {counted} \
         AND received_at >= {start} AND received_at < {until} \
         GROUP BY 2, 3, 4, 5, 6, 7, 8, 9",
        end = params[0],
        judged = params[1],
        counted = params[2],
        start = params[3],
        until = params[4],
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Db>()
        .bind::<Text, _>(prefix)
        .bind::<Timestamp, _>(Stamp(end))
        .bind::<Timestamp, _>(Stamp(judged))
        .bind::<Integer, _>(crate::dossier::facts::NOT_RECEIVED)
        .bind::<Timestamp, _>(Stamp(start))
        .bind::<Timestamp, _>(Stamp(end));
    if let Some(root) = root {
        query = query.bind::<Text, _>(root);
    }
    let mut groups: Vec<Group> = query.load(conn)?;
    let facts = || {
        dossiers::table
            .select((
                dossiers::ended_at,
                dossiers::timing,
                dossiers::late_from,
                dossiers::synced_at,
                dossiers::channel,
                dossiers::status,
                dossiers::facts,
                dossiers::procedure_code,
            ))
            .into_boxed::<Db>()
    };
    let carried: Vec<Facts> = load_all(conn, carried_over(conn, facts, prefix, start))?;
    groups.extend(carried.into_iter().map(
        |(ended_at, timing, late_from, synced_at, channel, status, facts, procedure)| Group {
            // Carried over: received before the period.
            received_in: false,
            ended_in: ended_at.is_some_and(|e| e.0 < end),
            open_in_time: late_from.is_none_or(|d| d.0 >= judged),
            timing,
            synced: synced_at.is_some(),
            channel,
            status,
            facts,
            procedure,
            dossiers: 1,
        },
    ));
    Ok(groups)
}

/// What tthc counts from the dossiers of `unit`'s subtree for `period`, judged at `now` when the
/// period is not over:
/// - `ON_TIME_PROCESSING`: dossiers received or processed in the period (received before its end
///   and not ended before its start); on time are those that ended in the period early or on
///   time, and those still open at its end (or now) within their due instant.
/// - `ONLINE_DOSSIER_SUBMISSION`: dossiers received in the period online, of all received.
/// - `DOSSIER_SYNC`: dossiers received in the period that were synced to the national portal,
///   of all received in it (PORTAL_RULES 1.4: carried-over dossiers are not in it).
/// - Of the dossiers received in the period: `ONLINE_PAYMENT_DOSSIER` those paid online, of
///   those of procedures with fees not exempt by a fee list of zeros (or of those with a
///   financial obligation, as the rule set's counting says); `REUSED_DIGITIZED_DATA` those reusing digitized
///   data; `CITIZEN_DATA_CONNECTED_DOSSIER` those that used the population database;
///   `SYNCED_WITH_DVCQG_PERSONAL_STORAGE` those that took a component from the citizen's data
///   store or saved a result to it (of all received, or of those received online, as the rule
///   set's counting says).
/// - Of the dossiers finished (or returned) in the period: `ORIGINAL_RESULT_AVAILABLE` those with
///   a result (any result file, or one neither an archive nor empty, as the rule set's counting
///   says); `SO_HOA_GIAY_TO_GIAI_QUYET` those with a component file (or every component
///   digitized) and such a result; `DOSSIER_RECEIVING_SATISFACTION` 100% −
///   (the share handled late + the share rated dissatisfied or petitioned about), or those that
///   are none of these, as the rule set's counting says.
/// - `PETITION_PROCESSING_ON_TIME` and `PETITION_HANDLING_SATISFACTION` from the petitions, as
///   [`crate::petition::figures`] counts them.
/// - The transparency indicators of announcements and publications, and the procedure
///   indicators of online service, payment and the population database, from the catalogue, as
///   [`crate::scoring::catalogue`] counts them.
///
/// The dossiers are read as [`handled_groups`] reads them, and those received before the
/// period and still open are counted by the database ([`open_before`]).
pub fn observe(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
    rules: &Counting,
) -> StoreResult<BTreeMap<&'static str, Count>> {
    let start = period.start().naive_local();
    let end = period.end().naive_local();
    let judged = end.min(now);
    let prefix = format!("{}%", unit.path);
    let procedures = catalogue_figures::procedures_of(conn, unit, (start, end, judged), rules)?;
    let kinds = catalogue_figures::kinds_by_code(&procedures);
    let groups = handled_groups(conn, &prefix, (start, end, judged))?;
    use crate::dossier::facts as f;
    let mut n = Tally::default();
    // Carried-over dossiers count for on-time processing, not for sync (PORTAL_RULES 1.4).
    let (open, open_in_time) = open_before(conn, &prefix, start, judged)?;
    n.handled = open;
    n.on_time = open_in_time;
    let mut uses: BTreeMap<&str, DossierUse> = BTreeMap::new();
    for g in &groups {
        let has = |bit: i32| g.facts & bit != 0;
        let w = u64::try_from(g.dossiers).unwrap_or(0);
        // A procedure tthc does not hold is neither on paper nor a citizen's.
        let kind = kinds
            .get(g.procedure.as_str())
            .or_else(|| kinds.get(crate::procedure::base_of(&g.procedure)))
            .copied()
            .unwrap_or_default();
        let in_time = if g.ended_in {
            matches!(
                g.timing.as_deref(),
                Some("finishedEarly" | "finishedOnTime")
            )
        } else {
            // Open at the end of the period (or now): late only if it was late by then.
            g.open_in_time
        };
        n.handled += w;
        n.on_time += w * u64::from(in_time);
        if g.received_in {
            n.received += w;
            n.synced += w * u64::from(g.synced);
            let online = g.channel == "online";
            n.online_counted += w * u64::from(counting::counts_online(
                rules,
                online,
                kind,
                counting::has_result(rules, g.facts),
            ));
            let (store_base, store_used) =
                counting::personal_storage_counts(rules, online, has(f::CITIZEN_STORE));
            n.store_base += w * u64::from(store_base);
            n.citizen_store += w * u64::from(store_used);
            let (payment_base, paid_online) = counting::online_payment_counts(rules, kind, g.facts);
            n.payment_base += w * u64::from(payment_base);
            n.paid_online += w * u64::from(paid_online);
            n.reused += w * u64::from(has(f::REUSED));
            if counting::in_population_data(rules, kind) {
                n.population_base += w;
                n.population += w * u64::from(has(f::POPULATION_DB));
            }
            let used = catalogue_figures::use_of(&g.channel, g.facts, g.synced);
            let slot = uses.entry(g.procedure.as_str()).or_default();
            *slot = slot.merge(used);
        }
        if g.ended_in && matches!(g.status.as_str(), "finished" | "returned") {
            let (paper_base, digitized) = counting::result_counts(
                rules,
                kind,
                counting::components_digitized(rules, g.facts),
                counting::has_result(rules, g.facts),
            );
            if paper_base {
                n.result_base += w;
                n.electronic += w * u64::from(counting::has_result(rules, g.facts));
            }
            n.digitized += w * u64::from(digitized);
            n.receiving.add(
                w,
                g.timing.as_deref() == Some("finishedLate"),
                has(f::DISSATISFIED) || has(f::PETITIONED),
            );
        }
    }
    let petitions = super::petitions::handled_in(conn, &unit.path, start, end)?;
    let p = crate::petition::figures::count(&petitions, start, end, judged);
    let uses = catalogue_figures::by_code_and_base(uses);
    let catalogue = catalogue_figures::observe(
        conn,
        unit,
        (start, end, judged),
        rules,
        Some((procedures, uses)),
    )?;
    let observed = |numerator, denominator| Count::new(numerator, denominator, Source::Observed);
    let mut counts = BTreeMap::from([
        ("ON_TIME_PROCESSING", observed(n.on_time, n.handled)),
        (
            "ONLINE_DOSSIER_SUBMISSION",
            observed(n.online_counted, n.received),
        ),
        ("DOSSIER_SYNC", observed(n.synced, n.received)),
        (
            "ONLINE_PAYMENT_DOSSIER",
            observed(n.paid_online, n.payment_base),
        ),
        (
            "ORIGINAL_RESULT_AVAILABLE",
            observed(n.electronic, n.result_base),
        ),
        (
            "SO_HOA_GIAY_TO_GIAI_QUYET",
            observed(n.digitized, n.receiving.finished),
        ),
        ("REUSED_DIGITIZED_DATA", observed(n.reused, n.received)),
        (
            "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
            observed(n.citizen_store, n.store_base),
        ),
        (
            "CITIZEN_DATA_CONNECTED_DOSSIER",
            observed(n.population, n.population_base),
        ),
        (
            "DOSSIER_RECEIVING_SATISFACTION",
            Count {
                misses: n.receiving.misses(rules),
                ..observed(n.receiving.numerator(rules), n.receiving.finished)
            },
        ),
        (
            "PETITION_PROCESSING_ON_TIME",
            observed(
                p.processing_on_time.numerator,
                p.processing_on_time.denominator,
            ),
        ),
        (
            "PETITION_HANDLING_SATISFACTION",
            observed(
                p.handling_satisfaction.numerator,
                p.handling_satisfaction.denominator,
            ),
        ),
    ]);
    for (code, (numerator, denominator)) in catalogue.counts {
        counts.insert(code, observed(numerator, denominator));
    }
    Ok(counts)
}

/// The counts `observe` keeps while it reads a period's dossiers.
#[derive(Default)]
struct Tally {
    handled: u64,
    on_time: u64,
    synced: u64,
    received: u64,
    /// Received online as `ONLINE_DOSSIER_SUBMISSION` counts them.
    online_counted: u64,
    citizen_store: u64,
    /// The base of the citizen's-store indicator (every dossier received, or those online).
    store_base: u64,
    /// The base of `ONLINE_PAYMENT_DOSSIER`, as the rule set's counting says.
    payment_base: u64,
    paid_online: u64,
    reused: u64,
    /// Received, of the procedures the population-data indicators count.
    population_base: u64,
    population: u64,
    /// Finished, of the procedures `ORIGINAL_RESULT_AVAILABLE` counts.
    result_base: u64,
    electronic: u64,
    digitized: u64,
    /// The finished dossiers as `DOSSIER_RECEIVING_SATISFACTION` counts them.
    receiving: counting::ReceivingTally,
}

/// The figures entered for `unit` and `period`, by indicator.
pub fn entered(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
) -> StoreResult<BTreeMap<String, EnteredFigure>> {
    let rows: Vec<(String, Option<i64>, i64, Option<String>)> = unit_figures::table
        .filter(unit_figures::unit_id.eq(unit.id))
        .filter(unit_figures::period.eq(period.to_string()))
        .select((
            unit_figures::indicator,
            unit_figures::numerator,
            unit_figures::denominator,
            unit_figures::note,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(indicator, numerator, denominator, note)| {
            (
                indicator,
                EnteredFigure {
                    numerator: numerator.and_then(|n| u64::try_from(n).ok()),
                    denominator: u64::try_from(denominator).unwrap_or(0),
                    note,
                },
            )
        })
        .collect())
}

/// Replaces the figures entered for `unit` and `period` (checked by the caller). Audited.
pub fn put_entered(
    conn: &mut DbConnection,
    actor: &Actor,
    unit: &UnitRow,
    period: Period,
    figures: &BTreeMap<String, EnteredFigure>,
) -> StoreResult<()> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("figures:{}/{period}", unit.code))?;
        let before = entered(conn, unit, period)?;
        diesel::delete(
            unit_figures::table
                .filter(unit_figures::unit_id.eq(unit.id))
                .filter(unit_figures::period.eq(period.to_string())),
        )
        .execute(conn)?;
        let now = Stamp(super::now());
        for (indicator, figure) in figures {
            diesel::insert_into(unit_figures::table)
                .values((
                    unit_figures::unit_id.eq(unit.id),
                    unit_figures::period.eq(period.to_string()),
                    unit_figures::indicator.eq(indicator),
                    unit_figures::numerator.eq(figure
                        .numerator
                        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))),
                    unit_figures::denominator
                        .eq(i64::try_from(figure.denominator).unwrap_or(i64::MAX)),
                    unit_figures::note.eq(figure.note.as_deref()),
                    unit_figures::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        audit::record_in_unit(
            conn,
            actor,
            Some(&unit.path),
            &Change {
                action: "update",
                resource_type: "figures",
                resource_id: &format!("{}/{period}", unit.code),
                before: Some(&before),
                after: Some(figures),
            },
        )
    })
}

/// The figures of every indicator that has some: tthc's counts, with entered figures replacing
/// them (or, with only a denominator entered, dividing tthc's count by it).
///
/// Then, as `rules` asks: `ONLINE_DOSSIER_SUBMISSION` is multiplied by `DOSSIER_SYNC`'s ratio,
/// and the indicators that do not apply at the unit's level carry their policy.
pub fn figures(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
    rules: &Counting,
) -> StoreResult<BTreeMap<String, Count>> {
    let mut counts: BTreeMap<String, Count> = observe(conn, unit, period, now, rules)?
        .into_iter()
        .map(|(code, c)| (code.to_owned(), c))
        .collect();
    with_entered(&mut counts, entered(conn, unit, period)?);
    let sync = counts.get("DOSSIER_SYNC").copied();
    apply_rules(&mut counts, rules, unit, sync);
    Ok(counts)
}

/// The sync factor and the level policies of `rules` on `counts` (`sync`: `DOSSIER_SYNC`'s
/// figures, after the entered ones).
fn apply_rules(
    counts: &mut BTreeMap<String, Count>,
    rules: &Counting,
    unit: &UnitRow,
    sync: Option<Count>,
) {
    if rules.online_submission_times_sync
        && let (Some(online), Some(sync)) = (counts.get_mut("ONLINE_DOSSIER_SUBMISSION"), sync)
    {
        online.times = Some(Factor {
            numerator: sync.numerator.min(sync.denominator),
            denominator: sync.denominator,
        });
    }
    // A level stored as nonsense is reported elsewhere (`UnitRow::check`); here it has no policy.
    if let Ok(level) = unit.level.parse::<UnitLevel>() {
        for (code, policy) in rules.not_applicable.get(&level).into_iter().flatten() {
            counts
                .entry(code.clone())
                .or_insert_with(|| Count::new(0, 0, Source::Observed))
                .at_level = Some(*policy);
        }
    }
}

/// The figures of one indicator, as [`figures`] gives them, counting only what it needs (the
/// misses list's `pointsEach`): `None` when it has none.
pub fn figure_of(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    now: NaiveDateTime,
    indicator: &str,
    rules: &Counting,
) -> StoreResult<Option<Count>> {
    let start = period.start().naive_local();
    let end = period.end().naive_local();
    let judged = end.min(now);
    let counted = match indicator {
        "ON_TIME_PROCESSING" => {
            let (handled, on_time) =
                handled_counts(conn, &format!("{}%", unit.path), (start, end), judged)?;
            Some((on_time, handled))
        }
        // The period's receipts only: not the stock that handled_counts also reads.
        "DOSSIER_SYNC" => {
            let (received, synced) =
                received_counts(conn, &format!("{}%", unit.path), (start, end))?;
            Some((synced, received))
        }
        "PETITION_PROCESSING_ON_TIME" | "PETITION_HANDLING_SATISFACTION" => {
            let petitions = super::petitions::handled_in(conn, &unit.path, start, end)?;
            let p = crate::petition::figures::count(&petitions, start, end, judged);
            let f = if indicator == "PETITION_PROCESSING_ON_TIME" {
                p.processing_on_time
            } else {
                p.handling_satisfaction
            };
            Some((f.numerator, f.denominator))
        }
        code if is_catalogue(code) => {
            catalogue_figures::observe(conn, unit, (start, end, judged), rules, None)?
                .counts
                .get(code)
                .copied()
        }
        // Multiplied by the sync ratio: read as the whole score reads it.
        "ONLINE_DOSSIER_SUBMISSION" if rules.online_submission_times_sync => {
            return Ok(figures(conn, unit, period, now, rules)?.remove(indicator));
        }
        code => observe(conn, unit, period, now, rules)?
            .get(code)
            .map(|c| (c.numerator, c.denominator)),
    };
    finish_figure(conn, unit, period, indicator, rules, counted)
}

/// The figure of `indicator` from what tthc counted (`counted`: numerator and denominator), with
/// the figures entered by hand and the rule set applied.
fn finish_figure(
    conn: &mut DbConnection,
    unit: &UnitRow,
    period: Period,
    indicator: &str,
    rules: &Counting,
    counted: Option<(u64, u64)>,
) -> StoreResult<Option<Count>> {
    let mut counts: BTreeMap<String, Count> = counted
        .map(|(numerator, denominator)| {
            (
                indicator.to_owned(),
                Count::new(numerator, denominator, Source::Observed),
            )
        })
        .into_iter()
        .collect();
    let mut entered = entered(conn, unit, period)?;
    entered.retain(|code, _| code == indicator);
    with_entered(&mut counts, entered);
    apply_rules(&mut counts, rules, unit, None);
    Ok(counts.remove(indicator))
}

/// Of the dossiers of the subtree `prefix` handled in `[start, end)`: how many, and how many on
/// time (as [`observe`] judges them at `judged`); counted by the database: those still open
/// from before the period by a statement of their own, the other parts [`load_handled`] reads
/// together ([`load_all`]). The two reads are two snapshots, as every part was before: a
/// dossier that ends between them may be counted twice.
fn handled_counts(
    conn: &mut DbConnection,
    prefix: &str,
    (start, end): (NaiveDateTime, NaiveDateTime),
    judged: NaiveDateTime,
) -> StoreResult<(u64, u64)> {
    use diesel::dsl::{case_when, count_star, sum};
    let in_time = || {
        dossiers::ended_at
            .lt(Stamp(end))
            .and(dossiers::timing.eq_any(["finishedEarly", "finishedOnTime"]))
            .or(dossiers::ended_at
                .is_null()
                .or(dossiers::ended_at.ge(Stamp(end)))
                .and(
                    dossiers::late_from
                        .is_null()
                        .or(dossiers::late_from.ge(Stamp(judged))),
                ))
    };
    let counts = || {
        dossiers::table
            .select((
                count_star(),
                sum(case_when::<_, _, diesel::sql_types::Integer>(in_time(), 1).otherwise(0)),
            ))
            .into_boxed::<Db>()
    };
    // Those still open apart: alone, PostgreSQL reads the open dossiers' index in parallel,
    // which it does not for a part of a union, and the open stock is most of what is read.
    let (open, open_in_time) = open_before(conn, prefix, start, judged)?;
    let parts = ended_or_received(conn, counts, prefix, (start, end));
    let parts: Vec<(i64, Option<i64>)> = load_all(conn, parts)?;
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    Ok(parts.into_iter().fold(
        (open, open_in_time),
        |(handled, on_time), (all, in_time)| (handled + n(all), on_time + n(in_time.unwrap_or(0))),
    ))
}

/// Of the dossiers of the subtree `prefix` received in `[start, end)`: how many, and how many of
/// those synced: the first of the parts [`handled_counts`] reads, alone.
fn received_counts(
    conn: &mut DbConnection,
    prefix: &str,
    period: (NaiveDateTime, NaiveDateTime),
) -> StoreResult<(u64, u64)> {
    use diesel::dsl::{count, count_star};
    let (all, synced): (i64, i64) =
        received_in(conn, || dossiers::table.into_boxed::<Db>(), prefix, period)
            .select((count_star(), count(dossiers::synced_at)))
            .first(conn)?;
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    Ok((n(all), n(synced)))
}

/// Entered figures replace the counts they give in full; a denominator alone divides the count
/// by the larger of the two denominators.
fn with_entered(counts: &mut BTreeMap<String, Count>, entered: BTreeMap<String, EnteredFigure>) {
    for (code, figure) in entered {
        let count = match (figure.numerator, counts.get(&code)) {
            (Some(numerator), _) => Count::new(numerator, figure.denominator, Source::Entered),
            (None, Some(observed)) => Count::new(
                observed.numerator,
                figure.denominator.max(observed.denominator),
                Source::ObservedOverEntered,
            ),
            // Refused at entry; ignored if the rules changed since.
            (None, None) => continue,
        };
        counts.insert(code, count);
    }
}

/// What kind of record a miss is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordKind {
    /// A dossier (progress, sync).
    Dossier,
    /// A petition (petition indicators).
    Petition,
    /// A procedure of the catalogue (transparency, online service and payment, population
    /// database).
    Procedure,
}

/// A record (a dossier, a petition, or a procedure for the catalogue indicators) that cost an
/// indicator points in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Miss {
    /// What kind of record it is.
    pub kind: RecordKind,
    /// The record's code (a procedure's code for a procedure).
    pub code: String,
    /// Its unit's code (for a procedure, the unit that had to act or that handles it; empty
    /// when unknown).
    pub unit: String,
    /// Its procedure (empty for a petition about none).
    pub procedure_code: String,
    /// The decision concerned, for the transparency indicators.
    pub decision: Option<String>,
    /// A deadline day missed, for the transparency indicators.
    pub due_on: Option<chrono::NaiveDate>,
    /// The day it was done, for the transparency indicators.
    pub done_on: Option<chrono::NaiveDate>,
    /// Received at (local time); `None` for a procedure.
    pub received_at: Option<NaiveDateTime>,
    /// A dossier's due instant after apologies and supplement time; a petition's first deadline
    /// missed.
    pub due_at: Option<NaiveDateTime>,
    /// When handling ended, if it did.
    pub ended_at: Option<NaiveDateTime>,
    /// Why it counts against the indicator.
    pub reason: String,
}

/// A dossier row as a miss reads it.
type MissRow = (
    String,
    String,
    String,
    Stamp,
    Option<Stamp>,
    Option<Stamp>,
    Option<String>,
    Option<Stamp>,
);

/// The dossiers of `unit`'s subtree that cost `indicator` points in `period` (one of
/// [`listed`]) as `rules` counts it, oldest receipt first, after the keyset `after` (receipt
/// instant and code), at most `limit`:
/// - `ON_TIME_PROCESSING`: handled in the period and finished late, or open at its end (or now)
///   past their due instant;
/// - `DOSSIER_SYNC`: received in the period and never synced.
pub fn misses(
    conn: &mut DbConnection,
    unit: &UnitRow,
    (period, now): (Period, NaiveDateTime),
    (indicator, rules): (&str, &Counting),
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<Miss>> {
    let start = period.start().naive_local();
    let end = period.end().naive_local();
    let judged = end.min(now);
    if scored_by_policy(unit, indicator, rules) {
        return Ok(Vec::new());
    }
    if indicator.starts_with("PETITION_") {
        return petition_misses(conn, unit, (start, end, judged), indicator, after, limit);
    }
    if is_catalogue(indicator) {
        let observed = catalogue_figures::observe(conn, unit, (start, end, judged), rules, None)?;
        return procedure_misses(conn, observed.misses, indicator, after, limit);
    }
    let prefix = format!("{}%", unit.path);
    let base = || {
        let mut q = dossiers::table
            .select((
                dossiers::code,
                // Its unit's code is the last of its path, which the period indexes hold (the
                // unit's id is not in them).
                dossiers::unit_path,
                dossiers::procedure_code,
                dossiers::received_at,
                dossiers::late_from,
                dossiers::ended_at,
                dossiers::timing,
                dossiers::synced_at,
            ))
            .order((dossiers::received_at.asc(), dossiers::code.asc()))
            .limit(limit)
            .into_boxed::<Db>();
        if let Some((at, code)) = &after {
            q = q.filter(
                dossiers::received_at
                    .gt(Stamp(*at))
                    .or(dossiers::received_at
                        .eq(Stamp(*at))
                        .and(dossiers::code.gt(code.clone()))),
            );
        }
        match indicator {
            "DOSSIER_SYNC" => q.filter(dossiers::synced_at.is_null()),
            _ => q.filter(
                dossiers::ended_at
                    .lt(Stamp(end))
                    .and(dossiers::timing.eq("finishedLate"))
                    .or(dossiers::ended_at
                        .is_null()
                        .or(dossiers::ended_at.ge(Stamp(end)))
                        .and(dossiers::late_from.lt(Stamp(judged)))),
            ),
        }
    };
    let mut rows: Vec<MissRow> = if indicator == "DOSSIER_SYNC" {
        // Only a receipt of the period can miss it: one part, on the receipt index.
        received_in(conn, base, &prefix, (start, end)).load(conn)?
    } else {
        // The disjoint parts of the dossiers handled in the period, as `observe` reads them;
        // each part's first page is enough to make the merged first page.
        load_handled(conn, base, &prefix, (start, end))?
    };
    rows.sort_by(|a, b| (a.3.0, &a.0).cmp(&(b.3.0, &b.0)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows
        .into_iter()
        .map(
            |(code, unit_path, procedure_code, received, due, ended, timing, _)| {
                let reason = match (indicator, ended, due) {
                    ("DOSSIER_SYNC", _, _) => "never synced to the national portal".to_owned(),
                    (_, Some(e), _) if e.0 < end && timing.as_deref() == Some("finishedLate") => {
                        "finished late".to_owned()
                    }
                    (_, _, Some(d)) => format!("still open and late since {}", d.0),
                    _ => "overdue".to_owned(),
                };
                Miss {
                    kind: RecordKind::Dossier,
                    unit: crate::unit::code_in_path(&unit_path)
                        .unwrap_or_default()
                        .to_owned(),
                    code,
                    procedure_code,
                    decision: None,
                    due_on: None,
                    done_on: None,
                    received_at: Some(received.0),
                    due_at: due.map(|d| d.0),
                    ended_at: ended.map(|e| e.0),
                    reason,
                }
            },
        )
        .collect())
}

/// Whether `indicator` does not apply at `unit`'s level: its policy scores it, and no record
/// misses it.
fn scored_by_policy(unit: &UnitRow, indicator: &str, rules: &Counting) -> bool {
    unit.level
        .parse::<UnitLevel>()
        .is_ok_and(|level| rules.at_level(level, indicator).is_some())
}

/// The figure of `indicator` (as [`figure_of`] gives it) and its misses after the keyset `after`,
/// at most `limit` (as [`misses`] gives them). A catalogue indicator's figure and misses come
/// from one reading of the catalogue, which the two calls would each make.
pub fn figure_and_misses(
    conn: &mut DbConnection,
    unit: &UnitRow,
    (period, now): (Period, NaiveDateTime),
    (indicator, rules): (&str, &Counting),
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<(Option<Count>, Vec<Miss>)> {
    if is_catalogue(indicator) && !scored_by_policy(unit, indicator, rules) {
        let end = period.end().naive_local();
        let window = (period.start().naive_local(), end, end.min(now));
        let observed = catalogue_figures::observe(conn, unit, window, rules, None)?;
        let counted = observed.counts.get(indicator).copied();
        let figure = finish_figure(conn, unit, period, indicator, rules, counted)?;
        let missed = procedure_misses(conn, observed.misses, indicator, after, limit)?;
        return Ok((figure, missed));
    }
    let figure = figure_of(conn, unit, period, now, indicator, rules)?;
    let missed = misses(conn, unit, (period, now), (indicator, rules), after, limit)?;
    Ok((figure, missed))
}

/// The petitions of `unit`'s subtree that cost a petition indicator points in the period
/// `[start, end)` judged at `judged`, oldest receipt first, after the keyset `after`:
/// - `PETITION_PROCESSING_ON_TIME`: ended in the period late, or open at its end (or now) past a
///   deadline;
/// - `PETITION_HANDLING_SATISFACTION`: answered in the period, and the petitioner said they were
///   dissatisfied or petitioned again.
fn petition_misses(
    conn: &mut DbConnection,
    unit: &UnitRow,
    (start, end, judged): (NaiveDateTime, NaiveDateTime, NaiveDateTime),
    indicator: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<Miss>> {
    use super::schema::{petitions, units};
    let mut missed: Vec<(crate::petition::figures::PetitionFacts, String)> =
        super::petitions::handled_in(conn, &unit.path, start, end)?
            .into_iter()
            .filter_map(|p| {
                let reason = if indicator == "PETITION_PROCESSING_ON_TIME" {
                    match (p.on_time(end, judged), p.ended_at) {
                        (Some(false), Some(e)) if e < end => "ended late".to_owned(),
                        (Some(false), _) => format!(
                            "still open and overdue since {}",
                            p.late_from.map(|l| l.to_string()).unwrap_or_default()
                        ),
                        _ => return None,
                    }
                } else {
                    if p.received_at < start || p.satisfied_by(judged) {
                        return None;
                    }
                    if p.further {
                        "the petitioner petitioned again".to_owned()
                    } else if !p.accepted() {
                        "the petitioner was dissatisfied with the answer".to_owned()
                    } else {
                        format!(
                            "handled late: a deadline passed at {}",
                            p.late_from.map(|l| l.to_string()).unwrap_or_default()
                        )
                    }
                };
                Some((p, reason))
            })
            .filter(|(p, _)| {
                after
                    .as_ref()
                    .is_none_or(|(at, code)| (p.received_at, &p.code) > (*at, code))
            })
            .collect();
    missed.sort_by(|a, b| (a.0.received_at, &a.0.code).cmp(&(b.0.received_at, &b.0.code)));
    missed.truncate(usize::try_from(limit).unwrap_or(0));
    let codes: Vec<&str> = missed.iter().map(|(p, _)| p.code.as_str()).collect();
    let places: BTreeMap<String, (String, Option<String>)> = petitions::table
        .inner_join(units::table)
        .filter(petitions::code.eq_any(codes))
        .select((petitions::code, units::code, petitions::procedure_code))
        .load::<(String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(code, unit, procedure)| (code, (unit, procedure)))
        .collect();
    Ok(missed
        .into_iter()
        .map(|(p, reason)| {
            let (unit, procedure) = places.get(&p.code).cloned().unwrap_or_default();
            Miss {
                kind: RecordKind::Petition,
                unit,
                procedure_code: procedure.unwrap_or_default(),
                decision: None,
                due_on: None,
                done_on: None,
                received_at: Some(p.received_at),
                due_at: p.late_from,
                ended_at: p.ended_at,
                reason,
                code: p.code,
            }
        })
        .collect())
}

/// Of `observed`, the procedures that cost catalogue indicators points in a period
/// (`catalogue_figures::observe`), those of `indicator`, by code, after the code of the keyset
/// `after`, at most `limit`, with their units' codes.
fn procedure_misses(
    conn: &mut DbConnection,
    observed: Vec<catalogue_figures::ProcedureMiss>,
    indicator: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<Miss>> {
    let mut missed: Vec<_> = observed
        .into_iter()
        .filter(|m| m.indicator == indicator)
        .filter(|m| after.as_ref().is_none_or(|(_, code)| m.procedure > *code))
        .collect();
    missed.truncate(usize::try_from(limit).unwrap_or(0));
    let units = super::units::codes_by_id(conn, missed.iter().filter_map(|m| m.unit_id))?;
    Ok(missed
        .into_iter()
        .map(|m| Miss {
            kind: RecordKind::Procedure,
            code: m.procedure.clone(),
            unit: m
                .unit_id
                .and_then(|id| units.get(&id).cloned())
                .unwrap_or_default(),
            procedure_code: m.procedure,
            decision: m.decision,
            due_on: m.due,
            done_on: m.done,
            received_at: None,
            due_at: None,
            ended_at: None,
            reason: m.reason,
        })
        .collect())
}
