//! Petitions (phản ánh, kiến nghị) as vendor systems push them: stored whole and idempotently by
//! code, their stage events deduplicated by id, their stage timing derived with the province's
//! calendar and the petition rules in force when written.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::encode::{parse_word, word};
use super::schema::{dossiers, petition_events, petitions, procedures, units};
use super::timestamp::Stamp;
use super::units::{UnitRow, find_row as find_unit};
use super::{
    DbConnection, StoreError, StoreResult, calendars, lock_keys, lock_records, now_local, settings,
    write_tx,
};
use crate::InvalidParam;
use crate::calendar::Calendar;
use crate::dossier::facts::PETITIONED;
use crate::petition::figures::PetitionFacts;
use crate::petition::intake::{self, MAX_EVENTS};
use crate::petition::{
    Channel, Event, PetitionCode, PetitionRules, Reaction, Stages, Status, Subject, Timing,
    check_history, current_status, stages,
};
pub use crate::petition::{PetitionDetails, PetitionWrite, ReactionRecord};
use crate::unit::UnitScope;

type Db = <DbConnection as Connection>::Backend;

/// A stored petition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Petition {
    /// Code.
    pub code: String,
    /// The unit concerned.
    pub unit: String,
    /// What it is about.
    pub subject: Subject,
    /// The procedure concerned.
    pub procedure_code: Option<String>,
    /// The dossier concerned.
    pub dossier_code: Option<String>,
    /// How it arrived.
    pub channel: Channel,
    /// Current status.
    pub status: Status,
    /// Received at.
    pub received_at: NaiveDateTime,
    /// Handled at.
    pub handled_at: Option<NaiveDateTime>,
    /// Ended at.
    pub ended_at: Option<NaiveDateTime>,
    /// Final timing once ended.
    pub timing: Option<Timing>,
    /// The earliest stage deadline missed or pending.
    pub late_from: Option<NaiveDateTime>,
    /// The petitioner's reaction.
    pub reaction: Option<ReactionRecord>,
    /// Content and answer.
    pub details: PetitionDetails,
    /// Events in instant order.
    pub events: Vec<Event>,
    /// Row version.
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = petitions)]
struct Row {
    id: i64,
    code: String,
    unit_id: i64,
    subject: String,
    procedure_code: Option<String>,
    dossier_code: Option<String>,
    channel: String,
    status: String,
    received_at: NaiveDateTime,
    handled_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    timing: Option<String>,
    late_from: Option<NaiveDateTime>,
    reaction: Option<String>,
    reaction_at: Option<NaiveDateTime>,
    further_petition: Option<String>,
    data: String,
    version: i64,
}

impl Row {
    fn reaction(&self) -> Option<ReactionRecord> {
        Some(ReactionRecord {
            value: parse_word(self.reaction.as_deref()?)?,
            at: self.reaction_at?,
            further_petition: self.further_petition.clone(),
        })
    }
}

fn not_found(code: &str) -> StoreError {
    StoreError::NotFound {
        resource: "petition",
        id: code.to_owned(),
    }
}

const RULES_KEY: &str = "petition_rules";

/// The petition deadlines in force (the defaults until changed).
pub fn rules(conn: &mut DbConnection) -> StoreResult<PetitionRules> {
    Ok(settings::get(conn, RULES_KEY)?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Replaces the petition deadlines. Petitions already stored keep the deadlines they were
/// judged with until they are written again. Audited.
pub fn put_rules(
    conn: &mut DbConnection,
    actor: &Actor,
    new: &PetitionRules,
) -> StoreResult<PetitionRules> {
    new.validate().map_err(StoreError::Invalid)?;
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("setting:{RULES_KEY}"))?;
        let before = rules(conn)?;
        let text = serde_json::to_string(new).map_err(|e| StoreError::Setup(e.to_string()))?;
        settings::put(conn, RULES_KEY, &text)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "update",
                resource_type: "petitionRules",
                resource_id: RULES_KEY,
                before: Some(&before),
                after: Some(new),
            },
        )?;
        Ok(*new)
    })
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A new petition.
    Created,
    /// A changed petition.
    Updated,
    /// The same push again: nothing changed.
    Unchanged,
}

/// What a batch of writes looks up once.
#[derive(Default)]
struct Lookups {
    units: HashMap<String, Option<UnitRow>>,
    procedures: HashMap<String, bool>,
    calendars: HashMap<(i64, (i32, i32)), Calendar>,
    rules: Option<PetitionRules>,
}

impl Lookups {
    fn unit(&mut self, conn: &mut DbConnection, code: &str) -> StoreResult<Option<UnitRow>> {
        if !self.units.contains_key(code) {
            let row = find_unit(conn, code)?;
            self.units.insert(code.to_owned(), row);
        }
        Ok(self.units.get(code).cloned().flatten())
    }

    fn procedure_exists(&mut self, conn: &mut DbConnection, code: &str) -> StoreResult<bool> {
        if let Some(known) = self.procedures.get(code) {
            return Ok(*known);
        }
        let found = procedures::table
            .filter(procedures::code.eq(code))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        self.procedures.insert(code.to_owned(), found);
        Ok(found)
    }

    /// The calendar of `unit`'s province for a petition received at `received_at` with
    /// `events`: from the year before the receipt to two years after its last event, where its
    /// last deadline falls (until 2026-12-07 two years after the receipt, so a deadline after
    /// a late transfer was counted on the national calendar, without the province's days).
    fn calendar(
        &mut self,
        conn: &mut DbConnection,
        unit: &UnitRow,
        received_at: NaiveDateTime,
        events: &[crate::petition::Event],
    ) -> StoreResult<&Calendar> {
        let first = received_at.year();
        let last = events
            .iter()
            .map(|e| e.at.year())
            .max()
            .unwrap_or(first)
            .max(first);
        let span = (first - 1, last + 2);
        Ok(match self.calendars.entry((unit.id, span)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let province = calendars::province_of(conn, unit)?;
                e.insert(calendars::calendar_for(
                    conn,
                    province.as_ref(),
                    span.0,
                    span.1,
                )?)
            }
        })
    }

    fn rules(&mut self, conn: &mut DbConnection) -> StoreResult<PetitionRules> {
        if self.rules.is_none() {
            self.rules = Some(rules(conn)?);
        }
        Ok(self.rules.unwrap_or_default())
    }
}

/// A checked petition with what is derived from it.
struct Prepared {
    unit: UnitRow,
    write: PetitionWrite,
    data: String,
    input_hash: String,
    status: Status,
    stages: Stages,
}

/// The petitions that make a dossier count as petitioned: those not refused or withdrawn, of
/// the dossier's unit or a unit above it. By dossier code, their units' tree paths.
pub(crate) fn petition_paths(
    conn: &mut DbConnection,
    dossier_codes: &[&str],
) -> StoreResult<HashMap<String, Vec<String>>> {
    let rows: Vec<(Option<String>, String)> = petitions::table
        .filter(petitions::dossier_code.eq_any(dossier_codes))
        .filter(petitions::status.ne_all([Status::Refused.as_str(), Status::Withdrawn.as_str()]))
        .select((petitions::dossier_code, petitions::unit_path))
        .load(conn)?;
    let mut paths: HashMap<String, Vec<String>> = HashMap::new();
    for (code, path) in rows {
        if let Some(code) = code {
            paths.entry(code).or_default().push(path);
        }
    }
    Ok(paths)
}

/// Checks a write and derives what is stored with it. Reads only.
fn prepare(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    scope: &UnitScope,
    write: &PetitionWrite,
    now: NaiveDateTime,
) -> StoreResult<Prepared> {
    let unit = lookups
        .unit(conn, &write.unit)?
        .filter(|u| scope.allows(&u.path));
    let procedure_known = match &write.procedure_code {
        Some(code) => lookups.procedure_exists(conn, code)?,
        None => true,
    };
    let mut invalid = intake::problems(write, unit.is_some(), procedure_known, now);
    // The petition as stored, if it is: its unit and the dossier it links.
    let stored: Option<(i64, Option<String>)> = petitions::table
        .filter(petitions::code.eq(write.code.as_str()))
        .select((petitions::unit_id, petitions::dossier_code))
        .first(conn)
        .optional()?;
    // A petition stored under a unit outside the grant does not exist for this caller: it is
    // never taken over, whatever unit the write names.
    let hidden = match &stored {
        Some((unit_id, _)) => !super::units::paths_by_id(conn, [*unit_id])?
            .get(unit_id)
            .is_some_and(|p| scope.allows(p)),
        None => false,
    };
    // A link the petition already holds is not judged again: one a unit-limited client made to
    // another unit's dossier (answered as one not stored yet) must not stop the petition's later
    // writes by a caller who sees that dossier (a status event from the national system). A
    // hidden petition's link is judged as any new one: skipping it would tell the caller which
    // dossier the petition links (until 2026-12-07). So is a link the petition takes to another
    // unit: the dossier must be under the new one (until 2026-12-07 the link was kept, and
    // the old unit no longer counted the dossier as petitioned).
    let linked_before = stored
        .as_ref()
        .filter(|(unit_id, _)| !hidden && unit.as_ref().is_some_and(|u| u.id == *unit_id))
        .and_then(|(_, linked)| linked.as_ref());
    if let (Some(code), Some(unit)) = (&write.dossier_code, &unit)
        && linked_before != Some(code)
    {
        let dossier_path: Option<String> = dossiers::table
            .filter(dossiers::code.eq(code))
            .select(dossiers::unit_path)
            .first(conn)
            .optional()?;
        match dossier_path {
            // Another unit's dossier is answered as one not stored yet: refusing it would tell
            // the caller that the code exists there. The link marks nothing outside the
            // petition's unit (`refresh_petitioned` matches the paths), so it costs that unit
            // nothing.
            Some(path) if !scope.allows(&path) => {}
            Some(path) if !path.starts_with(&unit.path) => invalid.push(InvalidParam::new(
                "dossierCode",
                format!(
                    "dossier {code} is handled outside unit {} and the units below it",
                    write.unit
                ),
            )),
            // Not stored yet: it may arrive later.
            _ => {}
        }
    }
    invalid.extend(intake::reaction_problems(write, now));
    let unit = match (unit, invalid.is_empty()) {
        (Some(unit), true) => unit,
        _ => return Err(StoreError::Invalid(invalid)),
    };
    if hidden {
        return Err(not_found(write.code.as_str()));
    }
    let rules = lookups.rules(conn)?;
    let calendar = lookups.calendar(conn, &unit, write.received_at, &write.events)?;
    let judged = intake::judge(write, calendar, &rules, now)
        .map_err(|e| StoreError::Setup(e.to_string()))?;
    Ok(Prepared {
        unit,
        status: judged.status,
        input_hash: judged.input_hash,
        data: judged.data,
        stages: judged.stages,
        write: write.clone(),
    })
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = petitions, treat_none_as_null = true)]
struct PetitionColumns {
    code: String,
    unit_id: i64,
    unit_path: String,
    subject: String,
    procedure_code: Option<String>,
    dossier_code: Option<String>,
    channel: String,
    status: &'static str,
    received_at: Stamp,
    handled_at: Option<Stamp>,
    ended_at: Option<Stamp>,
    timing: Option<String>,
    late_from: Option<Stamp>,
    reaction: Option<String>,
    reaction_at: Option<Stamp>,
    further_petition: Option<String>,
    data: String,
    input_hash: String,
    version: i64,
    updated_at: Stamp,
}

fn columns(p: &Prepared, version: i64, now: NaiveDateTime) -> PetitionColumns {
    let w = &p.write;
    PetitionColumns {
        code: w.code.to_string(),
        unit_id: p.unit.id,
        unit_path: p.unit.path.clone(),
        subject: word(&w.subject),
        procedure_code: w.procedure_code.clone(),
        dossier_code: w.dossier_code.clone(),
        channel: word(&w.channel),
        status: p.status.as_str(),
        received_at: Stamp(w.received_at),
        handled_at: p.stages.handled_at.map(Stamp),
        ended_at: p.stages.ended_at.map(Stamp),
        timing: p.stages.timing.is_final().then(|| word(&p.stages.timing)),
        late_from: p.stages.late_from.map(Stamp),
        reaction: w.reaction.as_ref().map(|r| word(&r.value)),
        reaction_at: w.reaction.as_ref().map(|r| Stamp(r.at)),
        further_petition: w.reaction.as_ref().and_then(|r| r.further_petition.clone()),
        data: p.data.clone(),
        input_hash: p.input_hash.clone(),
        version,
        updated_at: Stamp(now),
    }
}

#[derive(Insertable)]
#[diesel(table_name = petition_events)]
struct EventRow<'a> {
    petition_id: i64,
    event_id: &'a str,
    status: &'static str,
    at: Stamp,
    actor: Option<&'a str>,
    note: Option<&'a str>,
    received_at: Stamp,
}

/// Marks the dossiers `codes` as concerned by a petition or not, as the petitions now say
/// ([`petition_paths`]).
pub(crate) fn refresh_petitioned(
    conn: &mut DbConnection,
    codes: &BTreeSet<String>,
) -> StoreResult<()> {
    use diesel::dsl::sql;
    use diesel::sql_types::Integer;
    // After the petitions' locks, as a dossier writer never takes a petition's: no cycle.
    let keys: Vec<String> = codes.iter().map(|c| format!("dossier:{c}")).collect();
    lock_keys(conn, &keys)?;
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    for chunk in codes.chunks(500) {
        let paths = petition_paths(conn, chunk)?;
        let stored: Vec<(String, String)> = dossiers::table
            .filter(dossiers::code.eq_any(chunk))
            .select((dossiers::code, dossiers::unit_path))
            .load(conn)?;
        let mut on = Vec::new();
        let mut off = Vec::new();
        for (code, path) in stored {
            let named = paths
                .get(&code)
                .is_some_and(|ps| ps.iter().any(|p| path.starts_with(p.as_str())));
            if named { on.push(code) } else { off.push(code) }
        }
        // Bit arithmetic both backends share: `|` sets the bit; `(x | b) - b` clears it.
        diesel::update(dossiers::table.filter(dossiers::code.eq_any(on)))
            .set(dossiers::facts.eq(sql::<Integer>(&format!("facts | {PETITIONED}"))))
            .execute(conn)?;
        diesel::update(dossiers::table.filter(dossiers::code.eq_any(off)))
            .set(dossiers::facts.eq(sql::<Integer>(&format!(
                "(facts | {PETITIONED}) - {PETITIONED}"
            ))))
            .execute(conn)?;
    }
    Ok(())
}

/// Stores checked petitions inside the caller's transaction. Audited.
fn store_prepared(
    conn: &mut DbConnection,
    actor: &Actor,
    prepared: &[Prepared],
) -> StoreResult<Vec<Outcome>> {
    let now = super::now();
    let mut outcomes = Vec::with_capacity(prepared.len());
    let mut dossier_codes = BTreeSet::new();
    let mut changes = Vec::new();
    for p in prepared {
        let code = p.write.code.as_str();
        let stored: Option<(i64, String, i64, Option<String>)> = petitions::table
            .filter(petitions::code.eq(code))
            .select((
                petitions::id,
                petitions::input_hash,
                petitions::version,
                petitions::dossier_code,
            ))
            .first(conn)
            .optional()?;
        let (id, outcome) = match stored {
            Some((_, hash, _, _)) if crate::text::same_input(&hash, &p.input_hash) => {
                outcomes.push(Outcome::Unchanged);
                continue;
            }
            Some((id, _, version, old_dossier)) => {
                diesel::update(petitions::table.find(id))
                    .set(columns(p, version + 1, now))
                    .execute(conn)?;
                diesel::delete(petition_events::table.filter(petition_events::petition_id.eq(id)))
                    .execute(conn)?;
                dossier_codes.extend(old_dossier);
                (id, Outcome::Updated)
            }
            None => {
                diesel::insert_into(petitions::table)
                    .values((columns(p, 1, now), petitions::created_at.eq(Stamp(now))))
                    .execute(conn)?;
                let id = petitions::table
                    .filter(petitions::code.eq(code))
                    .select(petitions::id)
                    .first::<i64>(conn)?;
                (id, Outcome::Created)
            }
        };
        dossier_codes.extend(p.write.dossier_code.clone());
        let events: Vec<EventRow> = p
            .write
            .events
            .iter()
            .map(|e| EventRow {
                petition_id: id,
                event_id: &e.id,
                status: e.status.as_str(),
                at: Stamp(e.at),
                actor: e.actor.as_deref(),
                note: e.note.as_deref(),
                received_at: Stamp(now),
            })
            .collect();
        for e in events {
            diesel::insert_into(petition_events::table)
                .values(e)
                .execute(conn)?;
        }
        let action = if outcome == Outcome::Created {
            "create"
        } else {
            "update"
        };
        changes.push((
            action,
            code.to_owned(),
            p.unit.path.as_str(),
            // The status only, as a dossier's entry (`db::dossiers`).
            serde_json::json!({"status": p.status.as_str()}),
        ));
        outcomes.push(outcome);
    }
    refresh_petitioned(conn, &dossier_codes)?;
    audit::record_many(
        conn,
        actor,
        "petition",
        &changes
            .iter()
            .map(|(action, code, path, after)| (*action, code.as_str(), *path, after))
            .collect::<Vec<_>>(),
    )?;
    Ok(outcomes)
}

/// Stores a whole petition with its events inside the caller's transaction.
fn put_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &PetitionWrite,
) -> StoreResult<Outcome> {
    let prepared = prepare(conn, &mut Lookups::default(), scope, write, now_local())?;
    store_prepared(conn, actor, std::slice::from_ref(&prepared))?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Setup("no outcome".into()))
}

/// Stores a whole petition: created, updated, or unchanged when the same input was pushed
/// before.
pub fn put(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &PetitionWrite,
) -> StoreResult<Outcome> {
    write_tx(conn, |conn| {
        let scope = &lock_records(conn, &[format!("petition:{}", write.code)], scope)?;
        put_in(conn, actor, scope, write)
    })
}

/// Stores a batch of petitions in one transaction; each is checked first, and a refused one
/// never stops the others. A code twice in one batch is refused the second time.
pub fn put_batch(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    writes: &[PetitionWrite],
) -> StoreResult<Vec<StoreResult<Outcome>>> {
    write_tx(conn, |conn| {
        let keys: Vec<String> = writes
            .iter()
            .map(|w| format!("petition:{}", w.code))
            .collect();
        let scope = &lock_records(conn, &keys, scope)?;
        let mut lookups = Lookups::default();
        let now = now_local();
        let mut seen = HashSet::new();
        let mut prepared = Vec::new();
        let mut results: Vec<Option<StoreResult<Outcome>>> = Vec::with_capacity(writes.len());
        let mut slots = Vec::new();
        for (i, write) in writes.iter().enumerate() {
            if !seen.insert(write.code.to_string()) {
                results.push(Some(Err(StoreError::invalid(InvalidParam::new(
                    "code",
                    "appears twice in this batch",
                )))));
                continue;
            }
            match prepare(conn, &mut lookups, scope, write, now) {
                Ok(p) => {
                    prepared.push(p);
                    slots.push(i);
                    results.push(None);
                }
                Err(e @ (StoreError::Invalid(_) | StoreError::NotFound { .. })) => {
                    results.push(Some(Err(e)))
                }
                Err(e) => return Err(e),
            }
        }
        let outcomes = store_prepared(conn, actor, &prepared)?;
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            results[slot] = Some(Ok(outcome));
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StoreError::Setup("no outcome".into()))))
            .collect())
    })
}

fn petition_of(conn: &mut DbConnection, row: Row) -> StoreResult<Petition> {
    let unit: String = units::table
        .find(row.unit_id)
        .select(units::code)
        .first(conn)?;
    let events = petition_events::table
        .filter(petition_events::petition_id.eq(row.id))
        .select((
            petition_events::event_id,
            petition_events::status,
            petition_events::at,
            petition_events::actor,
            petition_events::note,
        ))
        .load::<(
            String,
            String,
            NaiveDateTime,
            Option<String>,
            Option<String>,
        )>(conn)?
        .into_iter()
        .filter_map(|(id, status, at, actor, note)| {
            Some(Event {
                id,
                status: Status::parse(&status)?,
                at,
                actor,
                note,
            })
        })
        .collect::<Vec<_>>();
    let mut events = events;
    events.sort_by_key(|e| e.at);
    Ok(Petition {
        reaction: row.reaction(),
        unit,
        events,
        subject: parse_word(&row.subject).unwrap_or(Subject::Regulation),
        channel: parse_word(&row.channel).unwrap_or(Channel::Other),
        status: Status::parse(&row.status).unwrap_or(Status::Received),
        timing: row.timing.as_deref().and_then(parse_word),
        details: serde_json::from_str(&row.data)
            .map_err(|e| StoreError::Setup(format!("petition data: {e}")))?,
        code: row.code,
        procedure_code: row.procedure_code,
        dossier_code: row.dossier_code,
        received_at: row.received_at,
        handled_at: row.handled_at,
        ended_at: row.ended_at,
        late_from: row.late_from,
        version: row.version,
    })
}

/// Petition `code`, if it concerns a unit in `scope`.
pub fn get(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> StoreResult<Petition> {
    let row: Row = petitions::table
        .filter(petitions::code.eq(code))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(code))?;
    let path: String = units::table
        .find(row.unit_id)
        .select(units::path)
        .first(conn)?;
    if !scope.allows(&path) {
        return Err(not_found(code));
    }
    petition_of(conn, row)
}

/// A petition's stages judged at `at`, with the calendar of its unit's province and the rules
/// in force.
pub fn stages_of(
    conn: &mut DbConnection,
    scope: &UnitScope,
    code: &str,
    at: NaiveDateTime,
) -> StoreResult<(Petition, Stages)> {
    let petition = get(conn, scope, code)?;
    let mut lookups = Lookups::default();
    let unit = lookups
        .unit(conn, &petition.unit)?
        .ok_or_else(|| not_found(code))?;
    let rules = lookups.rules(conn)?;
    let calendar = lookups.calendar(conn, &unit, petition.received_at, &petition.events)?;
    let s = stages(calendar, &rules, petition.received_at, &petition.events, at);
    Ok((petition, s))
}

fn write_of(p: &Petition) -> StoreResult<PetitionWrite> {
    Ok(PetitionWrite {
        code: PetitionCode::parse(&p.code).map_err(StoreError::Setup)?,
        unit: p.unit.clone(),
        subject: p.subject,
        procedure_code: p.procedure_code.clone(),
        dossier_code: p.dossier_code.clone(),
        channel: p.channel,
        received_at: p.received_at,
        details: p.details.clone(),
        reaction: p.reaction.clone(),
        events: p.events.clone(),
    })
}

/// What adding an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum EventOutcome {
    /// Added.
    Added,
    /// The same event (id and content) was added before.
    Duplicate,
}

/// Adds one stage event to petition `code`: deduplicated by id, placed by its instant, refused
/// (409) when the history with it breaks the rules or its id was used for another event.
pub fn add_event(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    event: &Event,
) -> StoreResult<(EventOutcome, Status)> {
    write_tx(conn, |conn| {
        let scope = &lock_records(conn, &[format!("petition:{code}")], scope)?;
        let petition = get(conn, scope, code)?;
        if let Some(existing) = petition.events.iter().find(|e| e.id == event.id) {
            return if existing == event {
                Ok((EventOutcome::Duplicate, petition.status))
            } else {
                Err(StoreError::Conflict(InvalidParam::new(
                    "id",
                    format!("the event id {} was used for another event", event.id),
                )))
            };
        }
        if petition.events.len() >= MAX_EVENTS {
            return Err(StoreError::Conflict(InvalidParam::new(
                "id",
                format!("the petition has {MAX_EVENTS} events, the most it keeps"),
            )));
        }
        let mut write = write_of(&petition)?;
        write.events.push(event.clone());
        if let Err(f) = check_history(write.received_at, &write.events) {
            return Err(StoreError::Conflict(InvalidParam::new("status", f.reason)));
        }
        put_in(conn, actor, scope, &write)?;
        Ok((EventOutcome::Added, current_status(&write.events)))
    })
}

/// A petition in a list: without its details and events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PetitionSummary {
    /// Code.
    pub code: String,
    /// The unit concerned.
    pub unit: String,
    /// What it is about.
    pub subject: Subject,
    /// The procedure concerned.
    pub procedure_code: Option<String>,
    /// The dossier concerned.
    pub dossier_code: Option<String>,
    /// How it arrived.
    pub channel: Channel,
    /// Current status.
    pub status: Status,
    /// Received at.
    pub received_at: NaiveDateTime,
    /// Handled at.
    pub handled_at: Option<NaiveDateTime>,
    /// Ended at.
    pub ended_at: Option<NaiveDateTime>,
    /// Final timing.
    pub timing: Option<Timing>,
    /// The earliest stage deadline missed or pending.
    pub late_from: Option<NaiveDateTime>,
    /// The petitioner's reaction.
    pub reaction: Option<Reaction>,
}

/// Filters of the petition list.
#[derive(Debug, Clone, Default)]
pub struct PetitionFilter {
    /// Only petitions of units within this tree path.
    pub unit_path: Option<String>,
    /// Only this subject.
    pub subject: Option<Subject>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this procedure.
    pub procedure: Option<String>,
    /// Only this dossier.
    pub dossier: Option<String>,
    /// Received at or after.
    pub received_from: Option<NaiveDateTime>,
    /// Received before.
    pub received_to: Option<NaiveDateTime>,
    /// Only open petitions overdue (`true`) or not overdue (`false`) at this instant.
    pub overdue_at: Option<(bool, NaiveDateTime)>,
    /// Only open petitions with a deadline missed or falling before this instant.
    pub due_before: Option<NaiveDateTime>,
    /// Only petitions that ended with this timing.
    pub timing: Option<Timing>,
    /// Only petitions with this reaction.
    pub reaction: Option<Reaction>,
    /// Order by the next deadline, soonest first, instead of newest receipt first.
    pub by_due: bool,
    /// Keyset position: (instant, code) of the last row of the previous page.
    pub after: Option<(NaiveDateTime, String)>,
    /// Page size.
    pub limit: i64,
}

type SummaryColumns = (
    (String, i64, String, Option<String>, Option<String>, String),
    (
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ),
    (Option<String>, Option<NaiveDateTime>, Option<String>),
);

/// Petitions in `scope` matching `filter`, newest receipt first (then by code, descending).
pub fn list(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &PetitionFilter,
) -> StoreResult<Vec<PetitionSummary>> {
    let mut q = petitions::table
        .select((
            (
                petitions::code,
                petitions::unit_id,
                petitions::subject,
                petitions::procedure_code,
                petitions::dossier_code,
                petitions::channel,
            ),
            (
                petitions::status,
                petitions::received_at,
                petitions::handled_at,
                petitions::ended_at,
            ),
            (petitions::timing, petitions::late_from, petitions::reaction),
        ))
        .into_boxed::<Db>();
    if let UnitScope::Within(roots) = scope {
        let mut any: Box<
            dyn BoxableExpression<petitions::table, Db, SqlType = diesel::sql_types::Bool>,
        > = Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
        for root in roots {
            any = Box::new(any.or(petitions::unit_path.like(format!("{root}%"))));
        }
        q = q.filter(any);
    }
    if let Some(path) = &filter.unit_path {
        q = q.filter(petitions::unit_path.like(format!("{path}%")));
    }
    if let Some(s) = filter.subject {
        q = q.filter(petitions::subject.eq(word(&s)));
    }
    if let Some(c) = filter.channel {
        q = q.filter(petitions::channel.eq(word(&c)));
    }
    if let Some(s) = filter.status {
        q = q.filter(petitions::status.eq(s.as_str()));
    }
    if let Some(p) = &filter.procedure {
        q = q.filter(petitions::procedure_code.eq(p.clone()));
    }
    if let Some(d) = &filter.dossier {
        q = q.filter(petitions::dossier_code.eq(d.clone()));
    }
    if let Some(t) = filter.received_from {
        q = q.filter(petitions::received_at.ge(Stamp(t)));
    }
    if let Some(t) = filter.received_to {
        q = q.filter(petitions::received_at.lt(Stamp(t)));
    }
    match filter.overdue_at {
        Some((true, now)) => {
            q = q.filter(
                petitions::ended_at
                    .is_null()
                    .and(petitions::late_from.lt(Stamp(now))),
            )
        }
        Some((false, now)) => {
            q = q.filter(
                petitions::ended_at.is_null().and(
                    petitions::late_from
                        .ge(Stamp(now))
                        .or(petitions::late_from.is_null()),
                ),
            )
        }
        None => {}
    }
    if let Some(t) = filter.due_before {
        q = q.filter(
            petitions::ended_at
                .is_null()
                .and(petitions::late_from.lt(Stamp(t))),
        );
    }
    if let Some(t) = filter.timing {
        q = q.filter(petitions::timing.eq(word(&t)));
    }
    if let Some(r) = filter.reaction {
        q = q.filter(petitions::reaction.eq(word(&r)));
    }
    if filter.by_due {
        if let Some((at, code)) = &filter.after {
            q = q.filter(
                petitions::late_from.gt(Stamp(*at)).or(petitions::late_from
                    .eq(Stamp(*at))
                    .and(petitions::code.gt(code.clone()))),
            );
        }
        // Deadlines matter while a petition is open.
        q = q
            .filter(petitions::ended_at.is_null())
            .filter(petitions::late_from.is_not_null())
            .order((petitions::late_from.asc(), petitions::code.asc()));
    } else {
        if let Some((at, code)) = &filter.after {
            q = q.filter(
                petitions::received_at
                    .lt(Stamp(*at))
                    .or(petitions::received_at
                        .eq(Stamp(*at))
                        .and(petitions::code.lt(code.clone()))),
            );
        }
        q = q.order((petitions::received_at.desc(), petitions::code.desc()));
    }
    let rows: Vec<SummaryColumns> = q.limit(filter.limit).load(conn)?;
    let unit_codes = super::units::codes_by_id(conn, rows.iter().map(|r| r.0.1))?;
    Ok(rows
        .into_iter()
        .map(
            |(
                (code, unit_id, subject, procedure_code, dossier_code, channel),
                (status, received_at, handled_at, ended_at),
                (timing, late_from, reaction),
            )| PetitionSummary {
                unit: unit_codes.get(&unit_id).cloned().unwrap_or_default(),
                code,
                subject: parse_word(&subject).unwrap_or(Subject::Regulation),
                procedure_code,
                dossier_code,
                channel: parse_word(&channel).unwrap_or(Channel::Other),
                status: Status::parse(&status).unwrap_or(Status::Received),
                received_at,
                handled_at,
                ended_at,
                timing: timing.as_deref().and_then(parse_word),
                late_from,
                reaction: reaction.as_deref().and_then(parse_word),
            },
        )
        .collect())
}

/// The petitions of the subtree at `path` handled in `[start, end)`: received before its end
/// and not ended before its start.
pub fn handled_in(
    conn: &mut DbConnection,
    path: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> StoreResult<Vec<PetitionFacts>> {
    type Columns = (
        (String, String, String, String),
        (NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>),
        (
            Option<String>,
            Option<NaiveDateTime>,
            Option<String>,
            Option<String>,
        ),
    );
    let rows: Vec<Columns> = petitions::table
        .filter(petitions::unit_path.like(format!("{path}%")))
        .filter(petitions::received_at.lt(Stamp(end)))
        .filter(
            petitions::ended_at
                .is_null()
                .or(petitions::ended_at.ge(Stamp(start))),
        )
        .select((
            (
                petitions::code,
                petitions::subject,
                petitions::channel,
                petitions::status,
            ),
            (
                petitions::received_at,
                petitions::handled_at,
                petitions::ended_at,
            ),
            (
                petitions::timing,
                petitions::late_from,
                petitions::reaction,
                petitions::further_petition,
            ),
        ))
        .order(petitions::received_at.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                (code, subject, channel, status),
                (received_at, handled_at, ended_at),
                (timing, late_from, reaction, further),
            )| PetitionFacts {
                code,
                subject: parse_word(&subject).unwrap_or(Subject::Regulation),
                channel: parse_word(&channel).unwrap_or(Channel::Other),
                status: Status::parse(&status).unwrap_or(Status::Received),
                received_at,
                handled_at,
                ended_at,
                timing: timing.as_deref().and_then(parse_word),
                late_from,
                reaction: reaction.as_deref().and_then(parse_word),
                further: further.is_some(),
            },
        )
        .collect())
}
