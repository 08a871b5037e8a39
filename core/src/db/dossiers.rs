//! Storage of dossiers and their events: idempotent pushes, event intake with deduplication and
//! the transition rules, derived timing and quality flags, and filtered keyset lists.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor};
use super::encode::{parse_word, word};
use super::schema::{
    dossier_events, dossier_refused_events, dossiers, procedure_versions, procedures, subscriptions,
};
use super::timestamp::Stamp;
use super::units::{UnitRow, find_row as find_unit};
use super::{DbConnection, StoreError, StoreResult, calendars, now_local, write_tx};
use crate::InvalidParam;
use crate::calendar::{Calendar, TimeLimit};
use crate::dossier::intake::{self, Judged};
pub use crate::dossier::{
    Applicant, ComponentRecord, DossierDetails, DossierWrite, FeeRecord, Rating, SyncError,
};
use crate::dossier::{
    DossierCode, Event, Flag, Status, Timing, TimingInput, before_receipt, check_history,
};
use crate::procedure::{Channel, ProcedureContent};
use crate::unit::UnitScope;
use crate::version::Versions;

type Db = <DbConnection as Connection>::Backend;

/// A stored dossier.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dossier {
    /// Code.
    pub code: String,
    /// Procedure code.
    pub procedure_code: String,
    /// Procedure version in force at receipt.
    pub procedure_version: Option<i32>,
    /// Field.
    pub field: Option<String>,
    /// Handling unit's code.
    pub unit: String,
    /// Channel.
    pub channel: Channel,
    /// Current status.
    pub status: Option<Status>,
    /// Received at (local time).
    pub received_at: NaiveDateTime,
    /// Due instant used for timing.
    pub due_at: Option<NaiveDateTime>,
    /// Due instant by the rules.
    pub rule_due_at: Option<NaiveDateTime>,
    /// Due instant after apologies and supplement time.
    pub effective_due_at: Option<NaiveDateTime>,
    /// End of handling by the timing rules.
    pub ended_at: Option<NaiveDateTime>,
    /// Final timing once ended.
    pub timing: Option<Timing>,
    /// Quality flags.
    pub flags: Vec<Flag>,
    /// Last synced.
    pub synced_at: Option<NaiveDateTime>,
    /// Status last synced.
    pub synced_status: Option<Status>,
    /// Details.
    pub details: DossierDetails,
    /// The citizen's rating.
    pub rating: Option<Rating>,
    /// Events in instant order.
    pub events: Vec<Event>,
    /// Events the vendor sent that the transition rules refused, oldest refusal first.
    pub refused_events: Vec<RefusedEvent>,
    /// Row version.
    pub version: i64,
}

/// An event a vendor sent that the transition rules refused: kept with the reason, so that the
/// office sees the vendor's sync problems; the history judged is the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedEvent {
    /// The vendor's event id.
    pub id: String,
    /// The status it carried.
    pub status: Status,
    /// Its instant (local time).
    pub at: NaiveDateTime,
    /// Why it was refused.
    pub reason: String,
    /// When tthc refused it (local time).
    pub refused_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
struct Row {
    id: i64,
    code: String,
    unit_id: i64,
    procedure_code: String,
    procedure_version: Option<i32>,
    field: Option<String>,
    channel: String,
    status: String,
    received_at: NaiveDateTime,
    due_at: Option<NaiveDateTime>,
    rule_due_at: Option<NaiveDateTime>,
    effective_due_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    timing: Option<String>,
    flags: i32,
    synced_at: Option<NaiveDateTime>,
    synced_status: Option<String>,
    data: String,
    version: i64,
    rating: Option<String>,
    rated_at: Option<NaiveDateTime>,
    rating_channel: Option<String>,
}

impl Row {
    fn rating(&self) -> Option<Rating> {
        rating_of(
            self.rating.as_deref(),
            self.rated_at,
            self.rating_channel.as_deref(),
        )
    }
}

fn rating_of(
    value: Option<&str>,
    at: Option<NaiveDateTime>,
    channel: Option<&str>,
) -> Option<Rating> {
    Some(Rating {
        value: parse_word(value?)?,
        at: at?,
        channel: parse_word(channel?)?,
    })
}

fn not_found(code: &str) -> StoreError {
    StoreError::NotFound {
        resource: "dossier",
        id: code.to_owned(),
    }
}

/// The procedure version in force on `on`: its sequence number and content.
fn procedure_at(
    conn: &mut DbConnection,
    code: &str,
    on: chrono::NaiveDate,
) -> StoreResult<Option<(i32, ProcedureContent)>> {
    let found: Option<(i32, String)> = procedure_versions::table
        .inner_join(procedures::table)
        .filter(procedures::code.eq(code))
        .filter(super::procedures::in_force_on(on))
        .select((procedure_versions::seq, procedure_versions::content))
        .first(conn)
        .optional()?;
    Ok(found.and_then(|(seq, content)| serde_json::from_str(&content).ok().map(|c| (seq, c))))
}

fn calendar_for_unit(conn: &mut DbConnection, unit: &UnitRow, year: i32) -> StoreResult<Calendar> {
    let province = calendars::province_of(conn, unit)?;
    calendars::calendar_for(conn, province.as_ref(), year - 1, year + 2)
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DossierOutcome))]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A new dossier.
    Created,
    /// A changed dossier.
    Updated,
    /// The same push again: nothing changed.
    Unchanged,
    /// Not stored: an older state of the dossier arriving late (a newer one is stored,
    /// [`intake::is_older_state`]), or an item of a batch that a later item of the same code
    /// replaces (its rating and refused events are kept with the later one).
    Stale,
}

/// How a whole push is weighed against the dossier stored under its code.
#[derive(Debug, Clone, Copy)]
pub enum Overwrite<'a> {
    /// Stored unless it is an older state arriving late ([`Outcome::Stale`]): what a vendor's
    /// push gets, retried on a flaky link.
    IfNewer,
    /// Stored when the stored dossier is at one of these versions (none stored: version 0),
    /// else refused ([`StoreError::VersionMismatch`]): the sender read the dossier and means to
    /// replace it, events taken back and all (`If-Match`).
    IfVersion(&'a Versions),
    /// Stored: tthc rewriting the stored dossier itself (an event added, a rating, a recompute).
    Always,
}

/// A procedure version: first and last day, sequence number, content.
type VersionInfo = (
    chrono::NaiveDate,
    Option<chrono::NaiveDate>,
    i32,
    ProcedureContent,
);

/// What a batch of writes looks up once: units, procedures, calendars, stored dossiers.
#[derive(Default)]
struct Lookups {
    units: HashMap<String, Option<UnitRow>>,
    procedures: HashMap<String, Vec<VersionInfo>>,
    provinces: HashMap<i64, Option<UnitRow>>,
    calendars: HashMap<(Option<i64>, i32), Calendar>,
    /// Stored dossiers' receipt, procedure and rules' due instant, by code (`None`: not stored).
    stored: HashMap<String, Option<StoredDue>>,
    /// Stored dossiers' event rows, by code (loaded for the pushes weighed
    /// [`Overwrite::IfNewer`], and for every stored dossier a write changes): weighed as steps
    /// ([`Lookups::steps`]), and kept by a write that lists them unchanged ([`kept_events`]).
    event_rows: HashMap<String, Vec<StoredEventRow>>,
    /// Of the dossiers looked up, those a petition names: the petitions' units' tree paths.
    petitioned: HashMap<String, Vec<String>>,
    /// Compute the rules' due instant again instead of keeping the stored one.
    recompute: bool,
    /// The tree paths of the units whose dossiers are relayed to the national portal, held or
    /// not (loaded on first use).
    relayed: Option<Vec<String>>,
    /// By code, the rating of the batch item last taken (merged with the stored one): a later
    /// item of that code is judged with it as with a stored rating, as if pushed after it.
    carried_ratings: HashMap<String, Rating>,
}

/// A stored dossier as a new write of it needs it: its row, whether the write changes it, and
/// whether its stored due instant still applies.
#[derive(Clone)]
struct StoredDue {
    id: i64,
    unit_id: i64,
    /// The current tree path of the unit the dossier is stored under.
    unit_path: String,
    input_hash: String,
    version: i64,
    received_at: NaiveDateTime,
    procedure_code: String,
    rule_due_at: Option<NaiveDateTime>,
    rating: Option<Rating>,
    /// The vendor's revision instant (`revisedAt`) stored in its details: a push without one
    /// carries it forward, and pushes are weighed by it.
    revised_at: Option<NaiveDateTime>,
    /// When and with what status it was last recorded synced.
    synced: Option<(NaiveDateTime, Status)>,
}

/// Of a stored dossier's details (`data`), what a new write of it needs.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRevision {
    #[serde(default)]
    revised_at: Option<NaiveDateTime>,
}

impl Lookups {
    fn unit(&mut self, conn: &mut DbConnection, code: &str) -> StoreResult<Option<UnitRow>> {
        if !self.units.contains_key(code) {
            let row = find_unit(conn, code)?;
            self.units.insert(code.to_owned(), row);
        }
        Ok(self.units.get(code).cloned().flatten())
    }

    fn versions(&mut self, conn: &mut DbConnection, code: &str) -> StoreResult<&Vec<VersionInfo>> {
        if !self.procedures.contains_key(code) {
            let rows: Vec<(chrono::NaiveDate, Option<chrono::NaiveDate>, i32, String)> =
                procedure_versions::table
                    .inner_join(procedures::table)
                    .filter(procedures::code.eq(code))
                    .select((
                        procedure_versions::valid_from,
                        procedure_versions::valid_to,
                        procedure_versions::seq,
                        procedure_versions::content,
                    ))
                    .load(conn)?;
            let versions = rows
                .into_iter()
                .filter_map(|(from, to, seq, content)| {
                    serde_json::from_str(&content)
                        .ok()
                        .map(|c| (from, to, seq, c))
                })
                .collect();
            self.procedures.insert(code.to_owned(), versions);
        }
        self.procedures
            .get(code)
            .ok_or_else(|| StoreError::Setup("procedure cache".into()))
    }

    /// `unit`'s province (none when no province lies above it).
    fn province(
        &mut self,
        conn: &mut DbConnection,
        unit: &UnitRow,
    ) -> StoreResult<Option<UnitRow>> {
        Ok(match self.provinces.entry(unit.id) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(e) => e.insert(calendars::province_of(conn, unit)?).clone(),
        })
    }

    /// The calendar of `unit`'s province for the years around `year`.
    fn calendar(
        &mut self,
        conn: &mut DbConnection,
        unit: &UnitRow,
        year: i32,
    ) -> StoreResult<&Calendar> {
        let province = self.province(conn, unit)?;
        let key = (province.as_ref().map(|p| p.id), year);
        Ok(match self.calendars.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(calendars::calendar_for(
                conn,
                province.as_ref(),
                year - 1,
                year + 2,
            )?),
        })
    }

    /// Reads the units of `codes` and their provinces in a few queries, before a batch is
    /// prepared: a national batch names thousands of communes.
    fn preload_units(&mut self, conn: &mut DbConnection, codes: &[&str]) -> StoreResult<()> {
        let mut missing: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| !self.units.contains_key(*c))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut found = super::units::rows_by_code(conn, &missing, None)?;
        let rows: Vec<&UnitRow> = found
            .values()
            .filter(|u| !self.provinces.contains_key(&u.id))
            .collect();
        let provinces = calendars::provinces_of(conn, &rows)?;
        self.provinces.extend(provinces);
        for code in missing {
            self.units.insert(code.to_owned(), found.remove(code));
        }
        Ok(())
    }

    /// Reads the stored due instants of those of `codes` not read yet, in a few queries, before
    /// a batch is prepared.
    fn preload_stored(&mut self, conn: &mut DbConnection, codes: &[&str]) -> StoreResult<()> {
        let codes: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| !self.stored.contains_key(*c))
            .collect();
        for chunk in codes.chunks(CHUNK) {
            for &code in chunk {
                self.stored.insert(code.to_owned(), None);
            }
            type StoredColumns = (
                (String, i64, i64, String, i64, NaiveDateTime, String),
                Option<NaiveDateTime>,
                (Option<String>, Option<NaiveDateTime>, Option<String>),
                String,
                (Option<NaiveDateTime>, Option<String>),
            );
            let rows: Vec<StoredColumns> = dossiers::table
                .filter(dossiers::code.eq_any(chunk))
                .select((
                    (
                        dossiers::code,
                        dossiers::id,
                        dossiers::unit_id,
                        dossiers::input_hash,
                        dossiers::version,
                        dossiers::received_at,
                        dossiers::procedure_code,
                    ),
                    dossiers::rule_due_at,
                    (
                        dossiers::rating,
                        dossiers::rated_at,
                        dossiers::rating_channel,
                    ),
                    dossiers::data,
                    (dossiers::synced_at, dossiers::synced_status),
                ))
                .load(conn)?;
            self.petitioned
                .extend(super::petitions::petition_paths(conn, chunk)?);
            let paths = super::units::paths_by_id(conn, rows.iter().map(|r| r.0.2))?;
            for (
                (code, id, unit_id, input_hash, version, received_at, procedure_code),
                rule_due_at,
                (rating, rated_at, rating_channel),
                data,
                (synced_at, synced_status),
            ) in rows
            {
                let revised_at = serde_json::from_str::<StoredRevision>(&data)
                    .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?
                    .revised_at;
                self.stored.insert(
                    code,
                    Some(StoredDue {
                        id,
                        unit_id,
                        unit_path: paths.get(&unit_id).cloned().unwrap_or_default(),
                        input_hash,
                        version,
                        received_at,
                        procedure_code,
                        rule_due_at,
                        rating: rating_of(rating.as_deref(), rated_at, rating_channel.as_deref()),
                        revised_at,
                        synced: synced_at.zip(synced_status.as_deref().and_then(Status::parse)),
                    }),
                );
            }
        }
        Ok(())
    }

    /// Whether the dossiers of the unit at `path` are relayed to the national portal.
    fn relayed(&mut self, conn: &mut DbConnection, path: &str) -> StoreResult<bool> {
        if self.relayed.is_none() {
            let codes: Vec<Option<String>> = subscriptions::table
                .filter(subscriptions::kind.eq(super::subscriptions::Kind::Portal.as_str()))
                .select(subscriptions::unit_code)
                .load(conn)?;
            let codes: Vec<String> = codes.into_iter().flatten().collect();
            self.relayed = Some(super::units::paths_of(conn, &codes)?);
        }
        Ok(self
            .relayed
            .as_ref()
            .is_some_and(|roots| roots.iter().any(|r| path.starts_with(r.as_str()))))
    }

    /// The stored due instant of dossier `code`, if it is stored.
    fn stored(&mut self, conn: &mut DbConnection, code: &str) -> StoreResult<Option<StoredDue>> {
        if !self.stored.contains_key(code) {
            self.preload_stored(conn, &[code])?;
        }
        Ok(self.stored.get(code).cloned().flatten())
    }

    /// Reads the stored events of those of `codes` that are stored and not read yet, in a few
    /// queries (after [`Lookups::preload_stored`]), each dossier's in the order it reads them.
    fn preload_steps(&mut self, conn: &mut DbConnection, codes: &[&str]) -> StoreResult<()> {
        let ids: HashMap<i64, &str> = codes
            .iter()
            .filter(|c| !self.event_rows.contains_key(**c))
            .filter_map(|c| self.stored.get(*c)?.as_ref().map(|s| (s.id, *c)))
            .collect();
        let wanted: Vec<i64> = ids.keys().copied().collect();
        for chunk in wanted.chunks(CHUNK) {
            let rows: Vec<(i64, StoredEventRow)> = dossier_events::table
                .filter(dossier_events::dossier_id.eq_any(chunk))
                // As `dossiers_of` reads them: the portal's whole sync keeps steps in this order,
                // and a history hashes and is judged alike.
                .order((
                    dossier_events::dossier_id.asc(),
                    dossier_events::at.asc(),
                    dossier_events::seq.asc(),
                    dossier_events::event_id.asc(),
                ))
                .select((dossier_events::dossier_id, StoredEventRow::as_select()))
                .load(conn)?;
            for &id in chunk {
                self.event_rows.insert(ids[&id].to_owned(), Vec::new());
            }
            for (id, row) in rows {
                if let Some(rows) = self.event_rows.get_mut(ids[&id]) {
                    rows.push(row);
                }
            }
        }
        Ok(())
    }

    /// A stored dossier's events as [`intake::is_older_state`] compares them (after
    /// [`Lookups::preload_steps`]).
    fn steps(&self, code: &str) -> Option<Vec<intake::StoredStep>> {
        let rows = self.event_rows.get(code)?;
        Some(
            rows.iter()
                // A status tthc no longer knows is no step a push could list.
                .filter_map(|row| {
                    let s = &row.event;
                    Some((s.event_id.clone(), Status::parse(&s.status)?, s.at))
                })
                .collect(),
        )
    }

    /// Whether `write` (prepared as `p`) is older than its stored dossier, the events `merged`
    /// selects left out ([`older`]). The same input as stored is not: it is unchanged, and
    /// nothing more is read.
    fn is_older_state(
        &mut self,
        conn: &mut DbConnection,
        p: &Prepared,
        write: &DossierWrite,
        merged: Option<fn(&Event) -> bool>,
    ) -> StoreResult<bool> {
        match self.stored(conn, &p.code)? {
            Some(stored) if !crate::text::same_input(&stored.input_hash, &p.judged.input_hash) => {
                let code = p.code.as_str();
                self.preload_steps(conn, &[code])?;
                // The push's revision instant, or the stored one it carries forward.
                let revised = p.judged.write.details.revised_at;
                Ok(self.steps(code).is_some_and(|steps| {
                    older(&write.events, revised, &steps, stored.revised_at, merged)
                }))
            }
            _ => Ok(false),
        }
    }
}

/// [`intake::is_older_push`] of the pushed `events` and `revised` instant against the `stored`
/// events and revision instant, the events `merged` selects left out of both: the steps a
/// caller added to the write from the stored dossier (the portal's progress steps, which its
/// whole sync keeps), which tell nothing of how old the push is.
fn older(
    events: &[Event],
    revised: Option<NaiveDateTime>,
    stored: &[intake::StoredStep],
    stored_revised: Option<NaiveDateTime>,
    merged: Option<fn(&Event) -> bool>,
) -> bool {
    let Some(merged) = merged else {
        return intake::is_older_push(events, revised, stored, stored_revised);
    };
    let own: Vec<Event> = events.iter().filter(|e| !merged(e)).cloned().collect();
    let stored_own: Vec<intake::StoredStep> = stored
        .iter()
        .filter(|(id, status, at)| !merged(&Event::new(id.clone(), *status, *at)))
        .cloned()
        .collect();
    intake::is_older_push(&own, revised, &stored_own, stored_revised)
}

/// How [`put_batch_in`] weighs its writes against the stored dossiers.
#[derive(Clone, Copy)]
enum Weighing {
    /// Not at all: tthc rewriting stored dossiers with what they hold and more.
    None,
    /// [`Overwrite::IfNewer`], the events the function selects (if any) left out ([`older`]).
    IfNewer(Option<fn(&Event) -> bool>),
}

/// When and with what status a dossier was last synced, and its last failed attempt.
type StoredSync = (
    Option<(NaiveDateTime, Status)>,
    Option<crate::dossier::SyncError>,
);

/// The sync a stored dossier holds (nothing when it is not stored).
fn stored_sync(conn: &mut DbConnection, code: &str) -> StoreResult<StoredSync> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OnlySync {
        #[serde(default)]
        sync_error: Option<crate::dossier::SyncError>,
    }
    let row: Option<(Option<NaiveDateTime>, Option<String>, String)> = dossiers::table
        .filter(dossiers::code.eq(code))
        .select((dossiers::synced_at, dossiers::synced_status, dossiers::data))
        .first(conn)
        .optional()?;
    let Some((at, status, data)) = row else {
        return Ok((None, None));
    };
    let error = serde_json::from_str::<OnlySync>(&data)
        .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?
        .sync_error;
    Ok((at.zip(status.as_deref().and_then(Status::parse)), error))
}

/// A checked dossier with everything derived, ready to store.
struct Prepared {
    code: String,
    unit: UnitRow,
    procedure_version: Option<i32>,
    field: Option<String>,
    judged: Judged,
    /// The events the rules refused in the batch items of its code that this write replaces:
    /// recorded with its own, as the pushes one after another would have recorded them.
    carried_refused: Vec<(Event, String)>,
}

/// Checks a write and derives what is stored with it ([`intake`]): reads the unit, the
/// procedure, the stored row and the calendar it is judged with. Reads only: a refused write
/// stores nothing.
fn prepare(
    conn: &mut DbConnection,
    lookups: &mut Lookups,
    scope: &UnitScope,
    write: &DossierWrite,
    now: NaiveDateTime,
) -> StoreResult<Prepared> {
    let unit = lookups
        .unit(conn, &write.unit)?
        .filter(|u| scope.allows(&u.path));
    let on = write.received_at.date();
    let versions = lookups.versions(conn, &write.procedure_code)?;
    let procedure_known = !versions.is_empty();
    let procedure = versions
        .iter()
        .find(|(from, to, _, _)| *from <= on && to.is_none_or(|t| on <= t))
        .map(|(_, _, seq, content)| (*seq, content.field.clone(), content.time_limit));
    let mut invalid = intake::problems(write, unit.is_some(), procedure_known, now);
    // Whatever way the events came: a push, the portal's supplements (two events each) with the
    // progress steps kept, or one by one.
    if write.events.len() > MAX_EVENTS {
        invalid.push(too_many_events("events"));
    }
    let unit = match (unit, invalid.is_empty()) {
        (Some(unit), true) => unit,
        _ => return Err(StoreError::Invalid(invalid)),
    };
    // A dossier stored under a unit outside the grant does not exist for this caller, whatever
    // unit the write names: it is neither taken over nor told apart from a missing one of
    // another unit. Moving a dossier so needs a grant over both units.
    let code = write.code.to_string();
    let stored = lookups.stored(conn, &code)?;
    if stored.as_ref().is_some_and(|s| !scope.allows(&s.unit_path)) {
        return Err(not_found(&code));
    }
    // A dossier moved to a unit whose province (whose calendar) is another.
    let same_province = match &stored {
        Some(s) if s.unit_id != unit.id => {
            let to = lookups.province(conn, &unit)?.map(|p| p.id);
            let from = calendars::province_at(conn, &s.unit_path)?.map(|p| p.id);
            to == from
        }
        _ => true,
    };
    let kept_rule_due = intake::kept_rule_due(
        stored.as_ref().map(|s| intake::StoredDue {
            received_at: s.received_at,
            procedure_code: &s.procedure_code,
            rule_due_at: s.rule_due_at,
        }),
        write,
        same_province,
        lookups.recompute,
    );
    // Named by a petition of its unit or of a unit above it.
    let petitioned = lookups
        .petitioned
        .get(write.code.as_str())
        .is_some_and(|paths| paths.iter().any(|p| unit.path.starts_with(p.as_str())));
    // Under the relay to the national portal tthc records the sync itself: what the vendor
    // reports of it is replaced by what is stored (the input hash stays that of what was sent).
    let sent = write;
    let relayed_write;
    let write = if lookups.relayed(conn, &unit.path)? {
        let mut w = write.clone();
        (w.synced, w.details.sync_error) = stored_sync(conn, &code)?;
        relayed_write = w;
        &relayed_write
    } else {
        write
    };
    // A push that does not say when the vendor's record changed keeps the instant stored, so
    // that a late push revised before it is still known for older (the hash stays that of what
    // was sent).
    let carried;
    let write = match (
        write.details.revised_at,
        stored.as_ref().and_then(|s| s.revised_at),
    ) {
        (None, Some(at)) => {
            let mut w = write.clone();
            w.details.revised_at = Some(at);
            carried = w;
            &carried
        }
        _ => write,
    };
    let stored_rating = intake::merged_rating(
        lookups.carried_ratings.get(&code).copied(),
        stored.and_then(|s| s.rating),
    );
    let calendar = lookups.calendar(conn, &unit, on.year())?;
    let judged = intake::judge(
        write,
        &intake::Context {
            calendar,
            limit: procedure
                .as_ref()
                .and_then(|(_, _, t)| *t)
                .and_then(|t| TimeLimit::new(t.amount, t.measure).ok()),
            kept_rule_due,
            stored_rating,
            petitioned,
            now,
            sent,
        },
    )
    .map_err(|e| StoreError::Setup(e.to_string()))?;
    Ok(Prepared {
        code,
        unit,
        procedure_version: procedure.as_ref().map(|(seq, _, _)| *seq),
        field: procedure.map(|(_, field, _)| field),
        judged,
        carried_refused: Vec::new(),
    })
}

/// The columns of a dossier row, for inserts and updates alike.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = dossiers, treat_none_as_null = true, treat_none_as_default_value = false)]
struct DossierColumns {
    code: String,
    unit_id: i64,
    unit_path: String,
    procedure_code: String,
    procedure_version: Option<i32>,
    field: Option<String>,
    channel: String,
    status: &'static str,
    received_at: Stamp,
    due_at: Option<Stamp>,
    rule_due_at: Option<Stamp>,
    effective_due_at: Option<Stamp>,
    late_from: Option<Stamp>,
    ended_at: Option<Stamp>,
    timing: Option<String>,
    flags: i32,
    facts: i32,
    synced_at: Option<Stamp>,
    synced_status: Option<String>,
    data: String,
    input_hash: String,
    version: i64,
    updated_at: Stamp,
    rating: Option<String>,
    rated_at: Option<Stamp>,
    rating_channel: Option<String>,
    span_class: Option<i32>,
    /// Written by inserts only: an update keeps the row's first instant.
    #[diesel(skip_update)]
    created_at: Stamp,
}

fn columns(p: &Prepared, version: i64, now: NaiveDateTime) -> DossierColumns {
    let j = &p.judged;
    DossierColumns {
        code: p.code.clone(),
        unit_id: p.unit.id,
        unit_path: p.unit.path.clone(),
        procedure_code: j.write.procedure_code.clone(),
        procedure_version: p.procedure_version,
        field: p.field.clone(),
        channel: word(&j.write.channel),
        status: j.status.as_str(),
        received_at: Stamp(j.write.received_at),
        due_at: j.due_at.map(Stamp),
        rule_due_at: j.rule_due_at.map(Stamp),
        effective_due_at: j.effective_due_at.map(Stamp),
        late_from: j.late_from.map(Stamp),
        ended_at: j.ended_at.map(Stamp),
        timing: j.timing.map(|t| word(&t)),
        flags: Flag::bits(j.flags.iter().copied()),
        facts: j.facts,
        synced_at: j.write.synced.map(|s| Stamp(s.0)),
        synced_status: j.write.synced.map(|s| s.1.as_str().to_owned()),
        data: j.data.clone(),
        input_hash: j.input_hash.clone(),
        version,
        updated_at: Stamp(now),
        rating: j.rating.map(|r| word(&r.value)),
        rated_at: j.rating.map(|r| Stamp(r.at)),
        rating_channel: j.rating.map(|r| word(&r.channel)),
        span_class: crate::dossier::span::class(j.write.received_at, j.ended_at),
        created_at: Stamp(now),
    }
}

/// Rows per multi-row insert: well under SQLite's 32,766 bound variables.
const CHUNK: usize = 500;

/// Inserts rows through the connection's own backend (neither is expressible over the
/// `MultiConnection`). On PostgreSQL all of them go in one binary `COPY`: with multi-row
/// `INSERT`s of 500 rows, each value a bound parameter, the bulk ingest took 3,427 dossiers/s,
/// with `COPY` 5,903 (README, "PostgreSQL beside SQLite"). On SQLite in chunks of [`CHUNK`]: the rows own their data, so that a full chunk
/// goes in as an array, whose prepared statement diesel caches; SQLite otherwise parses a
/// 500-row statement anew for every chunk, and that parsing was a tenth of the ingest's time.
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {
        match &mut *$conn {
            DbConnection::Pg(c) => {
                if !$rows.is_empty() {
                    super::copy_with_cached_checks(c, |c| {
                        diesel::copy_from($table).from_insertable(&$rows).execute(c)
                    })?;
                }
            }
            DbConnection::Sqlite(c) => {
                for chunk in $rows.chunks(CHUNK) {
                    match <&[_; CHUNK]>::try_from(chunk) {
                        Ok(full) => diesel::insert_into($table).values(full).execute(c)?,
                        Err(_) => diesel::insert_into($table).values(chunk).execute(c)?,
                    };
                }
            }
        }
    };
}

/// Updates stored dossiers (by id) to their new columns. On PostgreSQL in one statement per
/// [`UPDATE_CHUNK`] rows, each column sent as one array (`UPDATE … FROM unnest(…)`): a statement
/// per row cost a round trip each, and pushing 100,000 stored dossiers again with one status
/// change each ran at 2,032 dossiers/s against 10,076 on SQLite (README, "Status changes pushed
/// again"). On SQLite a statement per row: it has no round trips to save, and its prepared
/// statement is cached.
fn update_many(conn: &mut DbConnection, rows: &[(i64, DossierColumns)]) -> StoreResult<()> {
    match conn {
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(UPDATE_CHUNK) {
                update_on_pg(c, chunk)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for (id, columns) in rows {
                diesel::update(dossiers::table.find(*id))
                    .set(columns)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Rows per `UPDATE … FROM unnest(…)` on PostgreSQL: a request's batch in a few statements,
/// without one array of megabytes.
const UPDATE_CHUNK: usize = 2_000;

/// One `UPDATE … FROM unnest(…)` of `rows` on PostgreSQL: every column [`DossierColumns`]
/// updates (all but `created_at`), each as an array bound once.
fn update_on_pg(
    c: &mut diesel::pg::PgConnection,
    rows: &[(i64, DossierColumns)],
) -> Result<usize, diesel::result::Error> {
    use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};
    // Borrowed where it can be: the rows' texts (their data JSON above all) are not copied.
    fn col<'a, T>(
        rows: &'a [(i64, DossierColumns)],
        f: impl Fn(&'a DossierColumns) -> T,
    ) -> Vec<T> {
        rows.iter().map(|(_, c)| f(c)).collect()
    }
    let at = |s: &Stamp| s.0;
    let maybe = |s: &Option<Stamp>| s.as_ref().map(at);
    diesel::sql_query(
        "UPDATE dossiers AS d SET code = v.code, unit_id = v.unit_id, unit_path = v.unit_path, \
         procedure_code = v.procedure_code, procedure_version = v.procedure_version, \
         field = v.field, channel = v.channel, status = v.status, received_at = v.received_at, \
         due_at = v.due_at, rule_due_at = v.rule_due_at, effective_due_at = v.effective_due_at, \
         late_from = v.late_from, ended_at = v.ended_at, timing = v.timing, flags = v.flags, \
         facts = v.facts, synced_at = v.synced_at, synced_status = v.synced_status, \
         data = v.data, input_hash = v.input_hash, version = v.version, \
         updated_at = v.updated_at, rating = v.rating, rated_at = v.rated_at, \
         rating_channel = v.rating_channel, span_class = v.span_class \
         FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
         $6::int[], $7::text[], $8::text[], $9::text[], $10::timestamp[], $11::timestamp[], \
         $12::timestamp[], $13::timestamp[], $14::timestamp[], $15::timestamp[], $16::text[], \
         $17::int[], $18::int[], $19::timestamp[], $20::text[], $21::text[], $22::text[], \
         $23::bigint[], $24::timestamp[], $25::text[], $26::timestamp[], $27::text[], \
         $28::int[]) AS v(id, code, unit_id, unit_path, procedure_code, procedure_version, \
         field, channel, status, received_at, due_at, rule_due_at, effective_due_at, late_from, \
         ended_at, timing, flags, facts, synced_at, synced_status, data, input_hash, version, \
         updated_at, rating, rated_at, rating_channel, span_class) \
         WHERE d.id = v.id",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(col(rows, |c| c.code.as_str()))
    .bind::<Array<BigInt>, _>(col(rows, |c| c.unit_id))
    .bind::<Array<Text>, _>(col(rows, |c| c.unit_path.as_str()))
    .bind::<Array<Text>, _>(col(rows, |c| c.procedure_code.as_str()))
    .bind::<Array<Nullable<Integer>>, _>(col(rows, |c| c.procedure_version))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |c| c.field.as_deref()))
    .bind::<Array<Text>, _>(col(rows, |c| c.channel.as_str()))
    .bind::<Array<Text>, _>(col(rows, |c| c.status))
    .bind::<Array<Timestamp>, _>(col(rows, |c| at(&c.received_at)))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.due_at)))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.rule_due_at)))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.effective_due_at)))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.late_from)))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.ended_at)))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |c| c.timing.as_deref()))
    .bind::<Array<Integer>, _>(col(rows, |c| c.flags))
    .bind::<Array<Integer>, _>(col(rows, |c| c.facts))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.synced_at)))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |c| c.synced_status.as_deref()))
    .bind::<Array<Text>, _>(col(rows, |c| c.data.as_str()))
    .bind::<Array<Text>, _>(col(rows, |c| c.input_hash.as_str()))
    .bind::<Array<BigInt>, _>(col(rows, |c| c.version))
    .bind::<Array<Timestamp>, _>(col(rows, |c| at(&c.updated_at)))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |c| c.rating.as_deref()))
    .bind::<Array<Nullable<Timestamp>>, _>(col(rows, |c| maybe(&c.rated_at)))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |c| c.rating_channel.as_deref()))
    .bind::<Array<Nullable<Integer>>, _>(col(rows, |c| c.span_class))
    .execute(c)
}

#[derive(Insertable)]
#[diesel(table_name = dossier_events, treat_none_as_default_value = false)]
struct EventRow {
    dossier_id: i64,
    event_id: String,
    status: &'static str,
    at: Stamp,
    new_due: Option<Stamp>,
    actor: Option<String>,
    note: Option<String>,
    payload: Option<String>,
    received_at: Stamp,
    seq: i32,
}

/// Stores checked dossiers inside the caller's transaction: new ones with multi-row inserts,
/// changed ones updated (their events added to those stored, or all written again:
/// [`kept_events`]), unchanged ones left alone. Audited.
fn store_prepared(
    conn: &mut DbConnection,
    actor: &Actor,
    prepared: &[Prepared],
    lookups: &mut Lookups,
) -> StoreResult<Vec<Outcome>> {
    let now = super::now();
    // Every prepared write read its stored row into the lookups, in this transaction.
    let mut existing: HashMap<&str, (i64, String, i64)> = HashMap::new();
    for p in prepared {
        if let Some(stored) = lookups.stored(conn, &p.code)? {
            existing.insert(&p.code, (stored.id, stored.input_hash, stored.version));
        }
    }
    let mut outcomes = Vec::with_capacity(prepared.len());
    let mut new_rows = Vec::new();
    let mut updated_rows: Vec<(i64, DossierColumns)> = Vec::new();
    let mut changed_ids: Vec<(usize, i64)> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        match existing.get(p.code.as_str()) {
            Some((_, hash, _)) if crate::text::same_input(hash, &p.judged.input_hash) => {
                outcomes.push(Outcome::Unchanged)
            }
            Some((id, _, version)) => {
                updated_rows.push((*id, columns(p, version + 1, now)));
                changed_ids.push((i, *id));
                outcomes.push(Outcome::Updated);
            }
            None => {
                new_rows.push(columns(p, 1, now));
                outcomes.push(Outcome::Created);
            }
        }
    }
    update_many(conn, &updated_rows)?;
    insert_many!(conn, dossiers::table, new_rows);
    // The new rows' ids, to attach their events.
    for chunk in prepared
        .iter()
        .enumerate()
        .filter(|(i, _)| outcomes[*i] == Outcome::Created)
        .collect::<Vec<_>>()
        .chunks(CHUNK)
    {
        let codes: Vec<&str> = chunk.iter().map(|(_, p)| p.code.as_str()).collect();
        let ids: HashMap<String, i64> = dossiers::table
            .filter(dossiers::code.eq_any(codes))
            .select((dossiers::code, dossiers::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for (i, p) in chunk {
            if let Some(id) = ids.get(&p.code) {
                changed_ids.push((*i, *id));
            }
        }
    }
    // An updated dossier keeps its stored events when the write lists them all unchanged, and
    // gets only those it adds (a status change is one event more): deleting and writing again
    // every event of every change cost a re-push on PostgreSQL a third to nearly half of its
    // time (README, "Only the events a push adds"). Any other change replaces them all.
    let updated: Vec<&str> = changed_ids
        .iter()
        .filter(|(i, _)| outcomes[*i] == Outcome::Updated)
        .map(|(i, _)| prepared[*i].code.as_str())
        .collect();
    lookups.preload_steps(conn, &updated)?;
    let in_microseconds = keeps_microseconds(conn);
    let mut replaced: Vec<i64> = Vec::new();
    let mut events: Vec<EventRow> = Vec::new();
    for (i, id) in &changed_ids {
        let p = &prepared[*i];
        let pushed = &p.judged.write.events;
        let kept = match outcomes[*i] {
            Outcome::Updated => lookups
                .event_rows
                .get(&p.code)
                .and_then(|stored| kept_events(stored, pushed, in_microseconds)),
            _ => None,
        };
        if kept.is_none() && outcomes[*i] == Outcome::Updated {
            replaced.push(*id);
        }
        events.extend(
            pushed
                .iter()
                .zip(0..)
                .enumerate()
                .filter(|(place, _)| kept.as_ref().is_none_or(|k| k.get(*place) != Some(&true)))
                .map(|(_, (e, seq))| EventRow {
                    dossier_id: *id,
                    event_id: e.id.clone(),
                    status: e.status.as_str(),
                    at: Stamp(e.at),
                    new_due: e.new_due.map(Stamp),
                    actor: e.actor.clone(),
                    note: e.note.clone(),
                    payload: e.payload.clone(),
                    received_at: Stamp(now),
                    seq,
                }),
        );
    }
    for chunk in replaced.chunks(CHUNK) {
        diesel::delete(dossier_events::table.filter(dossier_events::dossier_id.eq_any(chunk)))
            .execute(conn)?;
    }
    insert_many!(conn, dossier_events::table, events);
    for (i, id) in &changed_ids {
        // The replaced items' first, as the pushes one after another would record them.
        for refused in [&prepared[*i].carried_refused, &prepared[*i].judged.refused] {
            if !refused.is_empty() {
                record_refused(conn, *id, refused, now_local())?;
            }
        }
    }
    // An unchanged item that carries the refused events of the items it replaced: recording
    // them changes the dossier, as those pushes would have (a new version, audited); once.
    for (i, p) in prepared.iter().enumerate() {
        if outcomes[i] != Outcome::Unchanged || p.carried_refused.is_empty() {
            continue;
        }
        let Some(&(id, _, version)) = existing.get(p.code.as_str()) else {
            continue;
        };
        if record_refused(conn, id, &p.carried_refused, now_local())? {
            diesel::update(dossiers::table.find(id))
                .set((
                    dossiers::version.eq(version + 1),
                    dossiers::updated_at.eq(Stamp(now)),
                ))
                .execute(conn)?;
            outcomes[i] = Outcome::Updated;
            changed_ids.push((i, id));
        }
    }
    // A later push without the refused events does not clear the flag: they stay on record.
    // Only a dossier pushed without refused events can lack it (a push with some was flagged
    // when prepared): an updated one, or a new one whose replaced batch items had some.
    let ids: Vec<i64> = changed_ids
        .iter()
        .filter(|(i, _)| {
            let p = &prepared[*i];
            p.judged.refused.is_empty()
                && (outcomes[*i] == Outcome::Updated || !p.carried_refused.is_empty())
        })
        .map(|(_, id)| *id)
        .collect();
    flag_refused(conn, &ids, false)?;
    let changes: Vec<(String, serde_json::Value, &'static str, &str)> = changed_ids
        .iter()
        .map(|(i, _)| {
            let p = &prepared[*i];
            let action = if outcomes[*i] == Outcome::Created {
                "create"
            } else {
                "update"
            };
            (
                p.code.clone(),
                // The status only: the code is the entry's resource id, the request id names the
                // push, and the input hash was most of each dossier's entry.
                serde_json::json!({"status": p.judged.status.as_str()}),
                action,
                p.unit.path.as_str(),
            )
        })
        .collect();
    audit::record_many(
        conn,
        actor,
        "dossier",
        &changes
            .iter()
            .map(|(code, after, action, path)| (*action, code.as_str(), *path, after))
            .collect::<Vec<_>>(),
    )?;
    Ok(outcomes)
}

/// Stores a whole dossier with its events, inside the caller's transaction: created, updated,
/// unchanged when the same input was pushed before, or stale as `overwrite` weighs it.
pub fn put_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &DossierWrite,
    overwrite: Overwrite<'_>,
) -> StoreResult<Outcome> {
    let mut lookups = Lookups::default();
    let prepared = prepare(conn, &mut lookups, scope, write, now_local())?;
    match overwrite {
        Overwrite::IfNewer => {
            if lookups.is_older_state(conn, &prepared, write, None)? {
                return Ok(Outcome::Stale);
            }
        }
        Overwrite::IfVersion(versions) => {
            let current = lookups
                .stored(conn, &prepared.code)?
                .map_or(0, |s| s.version);
            if !versions.allows(current) {
                return Err(StoreError::VersionMismatch { current });
            }
        }
        Overwrite::Always => {}
    }
    let outcomes = store_prepared(conn, actor, std::slice::from_ref(&prepared), &mut lookups)?;
    outcomes
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Setup("no outcome".into()))
}

/// [`put_in`] in a transaction of its own.
pub fn put(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &DossierWrite,
    overwrite: Overwrite<'_>,
) -> StoreResult<Outcome> {
    write_tx(conn, |conn| {
        let scope = &lock_codes(conn, std::iter::once(write.code.as_str()), scope)?;
        put_in(conn, actor, scope, write, overwrite)
    })
}

/// Stores a batch of dossiers in one transaction. Each is checked first: a refused one gets its
/// reasons and stores nothing, and never stops the others. Each is weighed
/// [`Overwrite::IfNewer`]; the items of one code as if pushed one after another, so that the
/// last one taken is stored and the earlier ones are `stale`, their rating and refused events
/// kept with it.
pub fn put_batch(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    writes: &[DossierWrite],
) -> StoreResult<Vec<StoreResult<Outcome>>> {
    write_tx(conn, |conn| {
        let scope = &lock_codes(conn, writes.iter().map(|w| w.code.as_str()), scope)?;
        put_batch_in(
            conn,
            actor,
            scope,
            writes,
            Weighing::IfNewer(None),
            Lookups::default(),
        )
    })
}

/// [`put_batch`], after adding to each write the events of its stored dossier that `keep`
/// selects and the write does not list (by id): the portal's whole-dossier sync does not carry
/// the progress steps synced one by one, and keeps them.
pub fn put_batch_keeping(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    mut writes: Vec<DossierWrite>,
    keep: fn(&Event) -> bool,
) -> StoreResult<Vec<StoreResult<Outcome>>> {
    write_tx(conn, |conn| {
        let scope = &lock_codes(conn, writes.iter().map(|w| w.code.as_str()), scope)?;
        // The stored events read once, for the steps kept here and for the weighing and
        // storing after.
        let mut lookups = Lookups::default();
        {
            let codes: Vec<&str> = writes.iter().map(|w| w.code.as_str()).collect();
            lookups.preload_stored(conn, &codes)?;
            lookups.preload_steps(conn, &codes)?;
        }
        for w in &mut writes {
            // Every item of a code, as if synced one after another. A dossier outside the
            // grant lends nothing: it is answered as missing, whatever its steps.
            let allowed = lookups
                .stored
                .get(w.code.as_str())
                .and_then(Option::as_ref)
                .is_some_and(|s| scope.allows(&s.unit_path));
            let stored = lookups
                .event_rows
                .get(w.code.as_str())
                .filter(|_| allowed)
                .into_iter()
                .flatten();
            for e in stored.filter_map(|row| row.event.clone().event()) {
                if !keep(&e) {
                    // A date the sync made before, which a progress step told more of: the
                    // same date made again keeps who took it and why.
                    if let Some(mine) = w.events.iter_mut().find(|mine| mine.id == e.id)
                        && same_step(mine, &e)
                    {
                        take_details(mine, &e);
                    }
                    continue;
                }
                if w.events.iter().any(|mine| mine.id == e.id) {
                    continue;
                }
                // The same step dated by both (a progress step and the whole sync's date) is one
                // step, the sync's, which takes who took it and why from the progress step
                // (until 2026-12-07 they were lost).
                match w.events.iter_mut().find(|mine| same_step(mine, &e)) {
                    Some(mine) => {
                        take_details(mine, &e);
                    }
                    None => w.events.push(e),
                }
            }
            // In time order, however the steps arrived, so that the same sync again is the
            // same write (until 2026-12-07 steps sent out of order made it `updated`).
            w.events.sort_by_key(|e| e.at);
            // Under the relay tthc records the syncs itself and puts its record in place of
            // what a write reports (`prepare`): the record must not become what the vendor
            // sent, whose hash says whether the same sync came again.
            let Some((path, Some(recorded))) = lookups
                .stored
                .get(w.code.as_str())
                .and_then(Option::as_ref)
                .filter(|_| allowed)
                .map(|s| (s.unit_path.clone(), s.synced))
            else {
                continue;
            };
            if !lookups.relayed(conn, &path)? {
                match w.synced {
                    // Not mirrored: tthc does not know what the portal holds, and keeps what
                    // it recorded (until 2026-12-07 such a sync erased it).
                    None => w.synced = Some(recorded),
                    // Mirrored, and recorded synced as of a mirrored progress step kept here,
                    // later than the sync's own dates: the portal holds that step too (until
                    // 2026-12-07 the sync took the record back behind it and flagged the
                    // dossier `syncBehind`). A record of an earlier whole sync is not kept: a
                    // correction may move its dates back.
                    Some(own)
                        if recorded.0 > own.0
                            && w.events.iter().any(|e| keep(e) && e.at == recorded.0) =>
                    {
                        w.synced = Some(recorded);
                    }
                    Some(_) => {}
                }
            }
        }
        put_batch_in(
            conn,
            actor,
            scope,
            &writes,
            Weighing::IfNewer(Some(keep)),
            lookups,
        )
    })
}

/// What a progress step did to its dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressOutcome {
    /// Added (or, with the same id, replaced a step whose details differed).
    Added,
    /// The same step was stored before.
    Duplicate,
    /// The transition rules refuse it: kept on the dossier with the reason, set aside from its
    /// history (flag `refusedEvents`).
    SetAside(String),
    /// It would set aside steps already stored (dated before them, and contradicting them):
    /// not stored, the stored history stands; the reason is the rules'.
    Contradicts(String),
}

/// Adds progress steps (one event each) to stored dossiers in one transaction, each dossier
/// written once with all its new steps; a step whose dossier is not stored (or not within
/// `scope`) is answered not found, and never stops the others. A step the rules refuse is kept
/// as a refused event, as in a push.
pub fn add_progress(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    steps: &[(String, Event)],
    mirrors_portal: bool,
) -> StoreResult<Vec<StoreResult<ProgressOutcome>>> {
    write_tx(conn, |conn| {
        let scope = &lock_codes(conn, steps.iter().map(|(code, _)| code.as_str()), scope)?;
        let mut writes: Vec<DossierWrite> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let mut results: Vec<StoreResult<ProgressOutcome>> = Vec::with_capacity(steps.len());
        let mut added: Vec<(usize, usize, String)> = Vec::new();
        // Each write's stored events, and those of them the rules set aside: a step may not set
        // aside more of them.
        let mut stored: Vec<(Vec<Event>, HashSet<String>)> = Vec::new();
        for (code, event) in steps {
            let slot = match slot_of.get(code.as_str()) {
                Some(&slot) => slot,
                None => match get(conn, scope, code) {
                    Ok(dossier) => {
                        let write = write_of(&dossier)?;
                        let refused = intake::split_refused(write.received_at, &write.events)
                            .1
                            .into_iter()
                            .map(|(e, _)| e.id)
                            .collect();
                        stored.push((write.events.clone(), refused));
                        writes.push(write);
                        slot_of.insert(code, writes.len() - 1);
                        writes.len() - 1
                    }
                    Err(e @ StoreError::NotFound { .. }) => {
                        results.push(Err(e));
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            let received_at = writes[slot].received_at;
            let events = &mut writes[slot].events;
            match events.iter().position(|e| e.id == event.id) {
                Some(i) if events[i] == *event => {
                    results.push(Ok(ProgressOutcome::Duplicate));
                    continue;
                }
                Some(i) => events[i] = event.clone(),
                // The step the whole sync already dated (same status, same instant): the same
                // step, which takes who took it and why from this one (until 2026-12-07 they
                // were dropped).
                None if events.iter().any(|e| same_step(e, event)) => {
                    let dated = events.iter_mut().find(|e| same_step(e, event));
                    if !dated.is_some_and(|dated| take_details(dated, event)) {
                        results.push(Ok(ProgressOutcome::Duplicate));
                        continue;
                    }
                }
                None if events.len() >= MAX_EVENTS => {
                    // The dossier's events together, not the step's id, are what is full.
                    results.push(Err(StoreError::invalid(too_many_events("events"))));
                    continue;
                }
                None => {
                    // A step that, added to the stored history alone, sets aside stored steps
                    // (a withdrawal dated before a stored finish) is refused, as `POST
                    // /dossiers/{code}/events` refuses it; judged against the stored history
                    // alone, so that the answer does not depend on the order of a request's
                    // steps. Until 2026-12-07 it was stored, answered `added`, and the stored
                    // steps set aside.
                    let (history, refused) = &stored[slot];
                    let mut alone = history.clone();
                    alone.push(event.clone());
                    let overturned = intake::split_refused(received_at, &alone)
                        .1
                        .into_iter()
                        .find(|(e, _)| e.id != event.id && !refused.contains(&e.id));
                    if let Some((_, reason)) = overturned {
                        results.push(Ok(ProgressOutcome::Contradicts(reason)));
                        continue;
                    }
                    events.push(event.clone());
                }
            }
            results.push(Ok(ProgressOutcome::Added));
            added.push((results.len() - 1, slot, event.id.clone()));
        }
        // Steps each harmless alone may together set aside stored steps (a processing step,
        // then a refusal to receive that nothing may follow, before a stored finish): then
        // none of the request's steps of that dossier is stored.
        for (slot, (history, refused_before)) in stored.iter().enumerate() {
            let w = &mut writes[slot];
            let overturned = intake::split_refused(w.received_at, &w.events)
                .1
                .into_iter()
                .find(|(e, _)| {
                    !refused_before.contains(&e.id) && history.iter().any(|h| h.id == e.id)
                });
            if let Some((_, reason)) = overturned {
                w.events.clone_from(history);
                for &(result, _, _) in added.iter().filter(|(_, s, _)| *s == slot) {
                    results[result] = Ok(ProgressOutcome::Contradicts(reason.clone()));
                }
                added.retain(|(_, s, _)| *s != slot);
            }
        }
        // Judged with every step of the request: a later step may set an earlier one aside.
        let refused: Vec<Vec<(Event, String)>> = writes
            .iter()
            .map(|w| intake::split_refused(w.received_at, &w.events).1)
            .collect();
        for &(result, slot, ref id) in &added {
            if let Some((_, reason)) = refused[slot].iter().find(|(e, _)| e.id == *id) {
                results[result] = Ok(ProgressOutcome::SetAside(reason.clone()));
            }
        }
        if mirrors_portal {
            // The portal received the same steps: a dossier it holds is synced as of its latest
            // step, with the status its steps give, as a mirrored whole sync records it (until
            // 2026-12-07 each mirrored step left the dossier `syncBehind`). One it never
            // received stays unsynced: the portal has no dossier to add a step to.
            for &(_, slot, _) in &added {
                let w = &mut writes[slot];
                if w.synced.is_some() {
                    w.synced = Some(synced_as_of_steps(w));
                }
            }
        }
        for w in &mut writes {
            // In time order, as the whole sync stores them: the next one is then `unchanged`.
            w.events.sort_by_key(|e| e.at);
        }
        for outcome in put_batch_in(
            conn,
            actor,
            scope,
            &writes,
            Weighing::None,
            Lookups::default(),
        )? {
            outcome?;
        }
        Ok(results)
    })
}

/// Most events a dossier holds, as a push may list (`DossierPut`): each write judges its whole
/// history again (and stores it again whenever a stored event changed or moved), so events
/// added one by one past it would make every write of the dossier slower without end.
pub const MAX_EVENTS: usize = 500;

/// The refusal, naming `field`, of events past [`MAX_EVENTS`].
fn too_many_events(field: &str) -> InvalidParam {
    InvalidParam::new(
        field,
        format!("a dossier holds at most {MAX_EVENTS} events"),
    )
}

/// Whether two events record the same step: the same status at the same instant.
fn same_step(a: &Event, b: &Event) -> bool {
    a.status == b.status && a.at == b.at
}

/// Copies onto `dated` who took the step and why, as far as `told` says it (a corrected step
/// replaces what it says again); whether anything changed.
fn take_details(dated: &mut Event, told: &Event) -> bool {
    let mut changed = false;
    for (mine, theirs) in [
        (&mut dated.actor, &told.actor),
        (&mut dated.note, &told.note),
        (&mut dated.payload, &told.payload),
    ] {
        if theirs.is_some() && mine != theirs {
            mine.clone_from(theirs);
            changed = true;
        }
    }
    changed
}

/// What a write the portal mirrors is synced as: as of its latest step, with the status its
/// steps give.
fn synced_as_of_steps(w: &DossierWrite) -> (NaiveDateTime, Status) {
    let at = w.events.iter().map(|e| e.at).max().unwrap_or(w.received_at);
    let status = crate::dossier::current_status(&w.events).unwrap_or(Status::Received);
    (at, status)
}

/// The lock keys of the dossiers of `codes`.
fn dossier_keys<'a>(codes: impl Iterator<Item = &'a str>) -> Vec<String> {
    codes.map(|c| format!("dossier:{c}")).collect()
}

/// Locks the dossiers of `codes` for this transaction (several instances write safely), and
/// returns the caller's grant `scope` as the tree is now ([`super::lock_records`]).
fn lock_codes<'a>(
    conn: &mut DbConnection,
    codes: impl Iterator<Item = &'a str>,
    scope: &UnitScope,
) -> StoreResult<UnitScope> {
    super::lock_records(conn, &dossier_keys(codes), scope)
}

/// A stored event row.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = dossier_events)]
struct StoredEvent {
    event_id: String,
    status: String,
    at: NaiveDateTime,
    new_due: Option<NaiveDateTime>,
    actor: Option<String>,
    note: Option<String>,
    payload: Option<String>,
}

impl StoredEvent {
    /// The event, if its status is still one tthc knows.
    fn event(self) -> Option<Event> {
        Some(Event {
            id: self.event_id,
            status: Status::parse(&self.status)?,
            at: self.at,
            new_due: self.new_due,
            actor: self.actor,
            note: self.note,
            payload: self.payload,
        })
    }
}

/// A stored event row with its place in the write that stored it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = dossier_events)]
struct StoredEventRow {
    #[diesel(embed)]
    event: StoredEvent,
    seq: i32,
}

/// Which of the `pushed` events (by place) a write of a stored dossier keeps as `stored` holds
/// them: every stored row must be one of them (by id) unchanged, and the write then adds only
/// the others, each numbered by its place, leaving the stored rows (their numbers, and when each
/// was written) as they are. Events are read back by instant, then number: the rows are kept
/// only when that reads the events in the order a rewrite numbering each by its place would, so
/// that events may be added anywhere (a progress step kept after the portal's whole sync, a
/// step put between two stored ones) as long as the events of one instant keep their order.
/// `None` when a stored row was changed or left out, or the order would differ: the write
/// replaces them all. `in_microseconds`: the backend keeps instants to the microsecond
/// (PostgreSQL), not as sent.
fn kept_events(
    stored: &[StoredEventRow],
    pushed: &[Event],
    in_microseconds: bool,
) -> Option<Vec<bool>> {
    let mut place_of: HashMap<&str, usize> = HashMap::with_capacity(pushed.len());
    for (place, e) in pushed.iter().enumerate() {
        if place_of.insert(e.id.as_str(), place).is_some() {
            return None;
        }
    }
    let mut kept = vec![false; pushed.len()];
    let mut number: Vec<i64> = (0..).take(pushed.len()).collect();
    for row in stored {
        let place = *place_of.get(row.event.event_id.as_str())?;
        let e = &pushed[place];
        let s = &row.event;
        let same = e.status.as_str() == s.status
            && s.at == as_stored(e.at, in_microseconds)
            && s.new_due == e.new_due.map(|d| as_stored(d, in_microseconds))
            && e.actor == s.actor
            && e.note == s.note
            && e.payload == s.payload;
        if !same || std::mem::replace(&mut kept[place], true) {
            return None;
        }
        number[place] = i64::from(row.seq);
    }
    let at = |place: usize| as_stored(pushed[place].at, in_microseconds);
    let mut read: Vec<usize> = (0..pushed.len()).collect();
    read.sort_by_key(|&place| (at(place), number[place]));
    // Two events of one instant under one number would be read in the order of their ids, by
    // the database's collation: not relied on.
    let tied = read
        .windows(2)
        .any(|w| (at(w[0]), number[w[0]]) == (at(w[1]), number[w[1]]));
    let mut rewritten: Vec<usize> = (0..pushed.len()).collect();
    rewritten.sort_by_key(|&place| (at(place), place));
    (!tied && read == rewritten).then_some(kept)
}

/// Whether `conn`'s backend keeps instants to the microsecond (PostgreSQL) rather than as sent
/// (SQLite).
fn keeps_microseconds(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Pg(_))
}

/// The instant `at` as the backend stores it: to the microsecond on PostgreSQL
/// (`in_microseconds`), so that a vendor writing seven digits (as .NET does) sends the stored
/// instant again; as sent on SQLite.
fn as_stored(at: NaiveDateTime, in_microseconds: bool) -> NaiveDateTime {
    if in_microseconds {
        super::to_microseconds(at)
    } else {
        at
    }
}

/// [`put_batch`] inside the caller's transaction, its dossiers locked, with what `lookups`
/// already read.
fn put_batch_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    writes: &[DossierWrite],
    weighing: Weighing,
    mut lookups: Lookups,
) -> StoreResult<Vec<StoreResult<Outcome>>> {
    let codes: Vec<String> = writes.iter().map(|w| w.code.to_string()).collect();
    lookups.preload_stored(conn, &codes.iter().map(String::as_str).collect::<Vec<_>>())?;
    lookups.preload_units(
        conn,
        &writes.iter().map(|w| w.unit.as_str()).collect::<Vec<_>>(),
    )?;
    let now = now_local();
    let mut results: Vec<Option<StoreResult<Outcome>>> = writes.iter().map(|_| None).collect();
    let mut checked = Vec::new();
    for (i, write) in writes.iter().enumerate() {
        match prepare(conn, &mut lookups, scope, write, now) {
            Ok(p) => checked.push((i, p)),
            Err(e @ (StoreError::Invalid(_) | StoreError::NotFound { .. })) => {
                results[i] = Some(Err(e))
            }
            Err(e) => return Err(e),
        }
    }
    let Weighing::IfNewer(merged) = weighing else {
        let (slots, prepared): (Vec<usize>, Vec<Prepared>) = checked.into_iter().unzip();
        return finish_batch(conn, actor, &prepared, slots, results, &mut lookups);
    };
    // The stored events of the dossiers a write changes, in a few queries: only those can be
    // older states (the same input again is unchanged).
    let changing: Vec<&str> = checked
        .iter()
        .filter(|(_, p)| {
            lookups.stored.get(&p.code).is_some_and(|s| {
                s.as_ref()
                    .is_some_and(|s| !crate::text::same_input(&s.input_hash, &p.judged.input_hash))
            })
        })
        .map(|(_, p)| p.code.as_str())
        .collect();
    lookups.preload_steps(conn, &changing)?;
    let mut prepared: Vec<Option<Prepared>> = Vec::new();
    let mut slots = Vec::new();
    // Items of one code are weighed as if pushed one after another: each against the last one
    // taken before it (or the stored dossier), and a later one taken replaces an earlier.
    type Taken = (usize, Vec<intake::StoredStep>, Option<NaiveDateTime>);
    let mut taken: HashMap<&str, Taken> = HashMap::new();
    for (i, mut p) in checked {
        let write = &writes[i];
        let code = write.code.as_str();
        // Judged again with the rating of the item taken before it, which a push after it would
        // have found stored (the rating changes the facts and the hash).
        let carried = taken
            .get(code)
            .and_then(|(earlier, _, _)| prepared[*earlier].as_ref()?.judged.rating);
        if let Some(rating) = carried
            && lookups.stored(conn, code)?.and_then(|s| s.rating) != Some(rating)
        {
            lookups.carried_ratings.insert(code.to_owned(), rating);
            p = prepare(conn, &mut lookups, scope, write, now)?;
        }
        // An item without a revision instant carries that of the item of its code taken before
        // it, as it would had they been pushed one after another.
        if let (None, Some((_, _, Some(before)))) = (write.details.revised_at, taken.get(code)) {
            p.judged.write.details.revised_at = Some(*before);
            p.judged.data = crate::dossier::stored::to_json(&p.judged.write.details)
                .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?;
        }
        let is_older = match taken.get(code) {
            Some((_, steps, before)) => older(
                &write.events,
                p.judged.write.details.revised_at,
                steps,
                *before,
                merged,
            ),
            None => lookups.is_older_state(conn, &p, write, merged)?,
        };
        if is_older {
            results[i] = Some(Ok(Outcome::Stale));
            continue;
        }
        let steps = p
            .judged
            .write
            .events
            .iter()
            .map(|e| (e.id.clone(), e.status, e.at))
            .collect();
        let revised = p.judged.write.details.revised_at;
        if let Some((earlier, _, _)) = taken.insert(code, (prepared.len(), steps, revised)) {
            if let Some(replaced) = prepared[earlier].take() {
                p.carried_refused = replaced.carried_refused;
                p.carried_refused.extend(replaced.judged.refused);
            }
            results[slots[earlier]] = Some(Ok(Outcome::Stale));
        }
        prepared.push(Some(p));
        slots.push(i);
    }
    let (prepared, slots): (Vec<Prepared>, Vec<usize>) = prepared
        .into_iter()
        .zip(slots)
        .filter_map(|(p, slot)| Some((p?, slot)))
        .unzip();
    finish_batch(conn, actor, &prepared, slots, results, &mut lookups)
}

/// Stores a batch's `prepared` writes and puts their outcomes in `results` at their `slots`.
fn finish_batch(
    conn: &mut DbConnection,
    actor: &Actor,
    prepared: &[Prepared],
    slots: Vec<usize>,
    mut results: Vec<Option<StoreResult<Outcome>>>,
    lookups: &mut Lookups,
) -> StoreResult<Vec<StoreResult<Outcome>>> {
    let outcomes = store_prepared(conn, actor, prepared, lookups)?;
    for (slot, outcome) in slots.into_iter().zip(outcomes) {
        results[slot] = Some(Ok(outcome));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::Setup("no outcome".into()))))
        .collect())
}

fn row_of(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> StoreResult<Row> {
    let row: Row = dossiers::table
        .filter(dossiers::code.eq(code))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(code))?;
    let path: String = super::schema::units::table
        .find(row.unit_id)
        .select(super::schema::units::path)
        .first(conn)?;
    if !scope.allows(&path) {
        return Err(not_found(code));
    }
    Ok(row)
}

/// The dossiers of `rows` with their unit codes and events, read with one query each for all
/// rows (a page of a list costs three queries, not two per row).
fn dossiers_of(conn: &mut DbConnection, rows: Vec<Row>) -> StoreResult<Vec<Dossier>> {
    let units = super::units::codes_by_id(conn, rows.iter().map(|r| r.unit_id))?;
    let mut events: HashMap<i64, Vec<Event>> = HashMap::new();
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let found: Vec<(i64, StoredEvent)> = dossier_events::table
            .filter(dossier_events::dossier_id.eq_any(ids))
            // One instant's events in the order pushed, which the rules judged them in.
            .order((
                dossier_events::dossier_id.asc(),
                dossier_events::at.asc(),
                dossier_events::seq.asc(),
                dossier_events::event_id.asc(),
            ))
            .select((dossier_events::dossier_id, StoredEvent::as_select()))
            .load(conn)?;
        for (dossier, row) in found {
            if let Some(event) = row.event() {
                events.entry(dossier).or_default().push(event);
            }
        }
    }
    let mut refused: HashMap<i64, Vec<RefusedEvent>> = HashMap::new();
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let found: Vec<(i64, String, String, NaiveDateTime, String, NaiveDateTime)> =
            dossier_refused_events::table
                .filter(dossier_refused_events::dossier_id.eq_any(ids))
                .order(dossier_refused_events::id.asc())
                .select((
                    dossier_refused_events::dossier_id,
                    dossier_refused_events::event_id,
                    dossier_refused_events::status,
                    dossier_refused_events::at,
                    dossier_refused_events::reason,
                    dossier_refused_events::refused_at,
                ))
                .load(conn)?;
        for (dossier, id, status, at, reason, refused_at) in found {
            if let Some(status) = Status::parse(&status) {
                refused.entry(dossier).or_default().push(RefusedEvent {
                    id,
                    status,
                    at,
                    reason,
                    refused_at,
                });
            }
        }
    }
    rows.into_iter()
        .map(|row| {
            Ok(Dossier {
                refused_events: refused.remove(&row.id).unwrap_or_default(),
                rating: row.rating(),
                unit: units.get(&row.unit_id).cloned().unwrap_or_default(),
                events: events.remove(&row.id).unwrap_or_default(),
                code: row.code,
                procedure_code: row.procedure_code,
                procedure_version: row.procedure_version,
                field: row.field,
                channel: parse_word(&row.channel).unwrap_or(Channel::InPerson),
                status: Status::parse(&row.status),
                received_at: row.received_at,
                due_at: row.due_at,
                rule_due_at: row.rule_due_at,
                effective_due_at: row.effective_due_at,
                ended_at: row.ended_at,
                timing: row.timing.as_deref().and_then(parse_word),
                flags: Flag::of_bits(row.flags),
                synced_at: row.synced_at,
                synced_status: row.synced_status.as_deref().and_then(Status::parse),
                details: crate::dossier::stored::from_json(&row.data)
                    .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?,
                version: row.version,
            })
        })
        .collect()
}

fn dossier_of(conn: &mut DbConnection, row: Row) -> StoreResult<Dossier> {
    dossiers_of(conn, vec![row])?
        .pop()
        .ok_or_else(|| StoreError::Setup("dossier vanished".into()))
}

/// Sets the `refusedEvents` flag on the dossiers of `ids` that have refused events on record
/// and lack it (`bump`: as a change of its own, with a new version).
fn flag_refused(conn: &mut DbConnection, ids: &[i64], bump: bool) -> StoreResult<()> {
    let flag = Flag::RefusedEvents.bit();
    for chunk in ids.chunks(1000) {
        let with: Vec<(i64, i32)> = dossiers::table
            .filter(dossiers::id.eq_any(chunk))
            .filter(diesel::dsl::exists(
                dossier_refused_events::table
                    .filter(dossier_refused_events::dossier_id.eq(dossiers::id)),
            ))
            .select((dossiers::id, dossiers::flags))
            .load(conn)?;
        for (id, flags) in with {
            if flags & flag != 0 {
                continue;
            }
            let flags = flags | flag;
            let row = dossiers::table.find(id);
            if bump {
                diesel::update(row)
                    .set((
                        dossiers::flags.eq(flags),
                        dossiers::version.eq(dossiers::version + 1),
                        dossiers::updated_at.eq(Stamp(super::now())),
                    ))
                    .execute(conn)?;
            } else {
                diesel::update(row)
                    .set(dossiers::flags.eq(flags))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Records events refused for dossier `dossier_id`, each once (by id, status and instant).
fn record_refused(
    conn: &mut DbConnection,
    dossier_id: i64,
    refused: &[(Event, String)],
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let mut recorded = false;
    for (event, reason) in refused {
        let known: i64 = dossier_refused_events::table
            .filter(dossier_refused_events::dossier_id.eq(dossier_id))
            .filter(dossier_refused_events::event_id.eq(&event.id))
            .filter(dossier_refused_events::status.eq(event.status.as_str()))
            .filter(dossier_refused_events::at.eq(Stamp(event.at)))
            .count()
            .get_result(conn)?;
        if known == 0 {
            diesel::insert_into(dossier_refused_events::table)
                .values((
                    dossier_refused_events::dossier_id.eq(dossier_id),
                    dossier_refused_events::event_id.eq(&event.id),
                    dossier_refused_events::status.eq(event.status.as_str()),
                    dossier_refused_events::at.eq(Stamp(event.at)),
                    dossier_refused_events::reason.eq(reason),
                    dossier_refused_events::refused_at.eq(Stamp(now)),
                ))
                .execute(conn)?;
            recorded = true;
        }
    }
    Ok(recorded)
}

/// Dossier `code` within `scope`.
pub fn get(conn: &mut DbConnection, scope: &UnitScope, code: &str) -> StoreResult<Dossier> {
    let row = row_of(conn, scope, code)?;
    dossier_of(conn, row)
}

/// The write that reproduces a stored dossier, to change it.
fn write_of(d: &Dossier) -> StoreResult<DossierWrite> {
    Ok(DossierWrite {
        code: DossierCode::parse(&d.code).map_err(StoreError::Setup)?,
        procedure_code: d.procedure_code.clone(),
        unit: d.unit.clone(),
        channel: d.channel,
        received_at: d.received_at,
        details: d.details.clone(),
        synced: d.synced_at.zip(d.synced_status),
        rating: d.rating,
        events: d.events.clone(),
    })
}

/// Computes dossier `code`'s rules' due instant again from the procedure's time limit and the
/// calendar as they are now, and stores it with everything derived from it: the one way a stored
/// due instant changes. Audited. Returns the rules' due instant before, and the dossier after.
pub fn recompute_due(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
) -> StoreResult<(Option<NaiveDateTime>, Dossier)> {
    write_tx(conn, |conn| {
        let scope = &lock_codes(conn, std::iter::once(code), scope)?;
        let dossier = get(conn, scope, code)?;
        let before = dossier.rule_due_at;
        let write = write_of(&dossier)?;
        let mut lookups = Lookups {
            recompute: true,
            ..Lookups::default()
        };
        let prepared = prepare(conn, &mut lookups, scope, &write, now_local())?;
        store_prepared(conn, actor, std::slice::from_ref(&prepared), &mut lookups)?;
        Ok((before, get(conn, scope, code)?))
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

/// Adds one status event to dossier `code`: deduplicated by id, placed by its instant, refused
/// (409) when the history with it breaks the transition rules or its id was used for another
/// event. Returns what it did and the dossier's current status after it.
pub fn add_event(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    event: &Event,
) -> StoreResult<(EventOutcome, Option<Status>)> {
    let added = write_tx(conn, |conn| {
        let scope = &lock_codes(conn, std::iter::once(code), scope)?;
        let dossier = get(conn, scope, code)?;
        if let Some(existing) = dossier.events.iter().find(|e| e.id == event.id) {
            // Compared as stored: the same event sent again with seven digits is a duplicate.
            let in_microseconds = keeps_microseconds(conn);
            let sent = Event {
                at: as_stored(event.at, in_microseconds),
                new_due: event.new_due.map(|d| as_stored(d, in_microseconds)),
                ..event.clone()
            };
            return if *existing == sent {
                Ok(Ok((EventOutcome::Duplicate, dossier.status)))
            } else {
                Err(StoreError::Conflict(InvalidParam::new(
                    "id",
                    format!("the event id {} was used for another event", event.id),
                )))
            };
        }
        if dossier.events.len() >= MAX_EVENTS {
            return Err(StoreError::invalid(too_many_events("id")));
        }
        // After the duplicate (a retry is judged by what is stored, not by this instance's
        // clock), before the transition rules: a refused event is kept on the dossier, and one
        // dated outside the window was kept so (with a 409 instead of this 422).
        let outside: Vec<InvalidParam> = crate::window::happened("at", event.at, now_local())
            .into_iter()
            .chain(event.new_due.and_then(|d| crate::window::due("newDue", d)))
            .collect();
        if !outside.is_empty() {
            return Err(StoreError::Invalid(outside));
        }
        let mut write = write_of(&dossier)?;
        if let Some(reason) = before_receipt(write.received_at, event) {
            return Ok(Err(reason));
        }
        write.events.push(event.clone());
        if let Err(f) = check_history(&write.events) {
            return Ok(Err(f.reason));
        }
        put_in(conn, actor, scope, &write, Overwrite::Always)?;
        Ok(Ok((EventOutcome::Added, get(conn, scope, code)?.status)))
    })?;
    match added {
        Ok(outcome) => Ok(outcome),
        Err(reason) => {
            // Refused, and kept on the dossier with its reason (a transaction of its own: the
            // answer is still the refusal), locked as any write of it. The same refusal again
            // (a retry) changes nothing: no new version, audit entry or delivery. Not the
            // request's effect for its `Idempotency-Key`: a retry is judged again.
            super::idempotency::with_mark(None, || {
                write_tx(conn, |conn| {
                    let scope = &lock_codes(conn, std::iter::once(code), scope)?;
                    let row = row_of(conn, scope, code)?;
                    if !record_refused(
                        conn,
                        row.id,
                        &[(event.clone(), reason.clone())],
                        now_local(),
                    )? {
                        return Ok(());
                    }
                    flag_refused(conn, &[row.id], true)?;
                    // A change of the dossier like any other: in the audit trail and the feed.
                    let paths = super::units::paths_by_id(conn, [row.unit_id])?;
                    audit::record_in_unit(
                        conn,
                        actor,
                        paths.get(&row.unit_id).map(String::as_str),
                        &audit::Change {
                            action: "refuseEvent",
                            resource_type: "dossier",
                            resource_id: code,
                            before: None,
                            after: Some(&serde_json::json!({
                                "eventId": event.id, "status": event.status.as_str(), "reason": reason
                            })),
                        },
                    )
                })
            })?;
            Err(StoreError::Conflict(InvalidParam::new("status", reason)))
        }
    }
}

/// Records the citizen's rating of dossier `code`, from the vendor or the citizen portal. A
/// dossier has one rating: of this one and the stored one, the later by its instant is kept.
/// Returns the rating now in force. Audited as a change of the dossier.
pub fn rate(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    rating: Rating,
) -> StoreResult<(Outcome, Option<Rating>)> {
    if rating.at > now_local() + chrono::TimeDelta::minutes(10) {
        return Err(StoreError::invalid(InvalidParam::new(
            "at",
            "is in the future",
        )));
    }
    write_tx(conn, |conn| {
        let scope = &lock_codes(conn, std::iter::once(code), scope)?;
        let dossier = get(conn, scope, code)?;
        let mut write = write_of(&dossier)?;
        write.rating = Some(rating);
        let outcome = put_in(conn, actor, scope, &write, Overwrite::Always)?;
        Ok((outcome, get(conn, scope, code)?.rating))
    })
}

/// A dossier in a list: what a list shows, without the pushed details and events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DossierSummary {
    /// Code.
    pub code: String,
    /// Procedure code.
    pub procedure_code: String,
    /// Field.
    pub field: Option<String>,
    /// Handling unit's code.
    pub unit: String,
    /// Channel.
    pub channel: Channel,
    /// Current status.
    pub status: Option<Status>,
    /// Received at (local time).
    pub received_at: NaiveDateTime,
    /// Due instant used for timing.
    pub due_at: Option<NaiveDateTime>,
    /// Due instant after apologies and supplement time.
    pub effective_due_at: Option<NaiveDateTime>,
    /// End of handling by the timing rules.
    pub ended_at: Option<NaiveDateTime>,
    /// Final timing once ended.
    pub timing: Option<Timing>,
    /// Quality flags.
    pub flags: Vec<Flag>,
    /// Last synced.
    pub synced_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
struct SummaryRow {
    code: String,
    unit_path: String,
    procedure_code: String,
    field: Option<String>,
    channel: String,
    status: String,
    #[diesel(deserialize_as = Stamp)]
    received_at: NaiveDateTime,
    due_at: Option<Stamp>,
    effective_due_at: Option<Stamp>,
    ended_at: Option<Stamp>,
    timing: Option<String>,
    flags: i32,
    synced_at: Option<Stamp>,
}

/// Which dossiers to list, newest receipt first.
#[derive(Debug, Clone, Default)]
pub struct DossierFilter {
    /// Only dossiers of units within this tree path.
    pub unit_path: Option<String>,
    /// Only this procedure.
    pub procedure: Option<String>,
    /// Only this field.
    pub field: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Received at or after.
    pub received_from: Option<NaiveDateTime>,
    /// Received before.
    pub received_to: Option<NaiveDateTime>,
    /// Ended at or after.
    pub ended_from: Option<NaiveDateTime>,
    /// Ended before.
    pub ended_to: Option<NaiveDateTime>,
    /// Only dossiers overdue (`true`) or not (`false`) at this instant.
    pub overdue_at: Option<(bool, NaiveDateTime)>,
    /// Only dossiers due (effective due instant) before this instant and not ended.
    pub due_before: Option<NaiveDateTime>,
    /// Only dossiers with this flag.
    pub flag: Option<Flag>,
    /// Only synced (`true`) or never synced (`false`) dossiers.
    pub synced: Option<bool>,
    /// Only dossiers that ended with this timing.
    pub timing: Option<Timing>,
    /// Order by effective due instant, soonest first, instead of newest receipt first (then
    /// the keyset position is the due instant and code).
    pub by_due: bool,
    /// Keyset position: (received at, code) of the last row of the previous page.
    pub after: Option<(NaiveDateTime, String)>,
    /// Page size.
    pub limit: i64,
}

/// The dossiers in `scope` that `filter` asks for (its cursor and limit aside).
fn matching(scope: &UnitScope, filter: &DossierFilter) -> dossiers::BoxedQuery<'static, Db> {
    let mut q = dossiers::table.into_boxed::<Db>();
    if let UnitScope::Within(roots) = scope {
        let mut any: Box<
            dyn BoxableExpression<dossiers::table, Db, SqlType = diesel::sql_types::Bool>,
        > = Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
        for root in roots {
            any = Box::new(any.or(dossiers::unit_path.like(format!("{root}%"))));
        }
        q = q.filter(any);
    }
    if let Some(path) = &filter.unit_path {
        // Not with the province beside it (`db::under_root`) on PostgreSQL: the planner then
        // walks the province-led receipt index backwards and reads rows, which at 10,000,000
        // dossiers over 34 provinces made the page slower (README, "The country").
        q = q.filter(dossiers::unit_path.like(format!("{path}%")));
    }
    if let Some(p) = &filter.procedure {
        q = q.filter(dossiers::procedure_code.eq(p.clone()));
    }
    if let Some(f) = &filter.field {
        q = q.filter(dossiers::field.eq(f.clone()));
    }
    if let Some(s) = filter.status {
        q = q.filter(dossiers::status.eq(s.as_str()));
    }
    if let Some(c) = filter.channel {
        q = q.filter(dossiers::channel.eq(word(&c)));
    }
    if let Some(t) = filter.received_from {
        q = q.filter(dossiers::received_at.ge(t));
    }
    if let Some(t) = filter.received_to {
        q = q.filter(dossiers::received_at.lt(t));
    }
    if let Some(t) = filter.ended_from {
        q = q.filter(dossiers::ended_at.ge(t));
    }
    if let Some(t) = filter.ended_to {
        q = q.filter(dossiers::ended_at.lt(t));
    }
    match filter.overdue_at {
        Some((true, now)) => {
            q = q.filter(
                dossiers::ended_at
                    .is_null()
                    .and(dossiers::late_from.lt(now)),
            )
        }
        Some((false, now)) => {
            q = q.filter(
                dossiers::ended_at
                    .is_not_null()
                    .or(dossiers::late_from.ge(now))
                    .or(dossiers::late_from.is_null()),
            )
        }
        None => {}
    }
    if let Some(t) = filter.due_before {
        q = q.filter(
            dossiers::ended_at
                .is_null()
                .and(dossiers::effective_due_at.lt(t)),
        );
    }
    if let Some(flag) = filter.flag {
        // diesel has no bitwise operator over both backends; `&` is the same in both.
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(flags & ")
                .bind::<diesel::sql_types::Integer, _>(flag.bit())
                .sql(") <> 0"),
        );
    }
    match filter.synced {
        Some(true) => q = q.filter(dossiers::synced_at.is_not_null()),
        Some(false) => q = q.filter(dossiers::synced_at.is_null()),
        None => {}
    }
    if let Some(t) = filter.timing {
        q = q.filter(dossiers::timing.eq(word(&t)));
    }
    if filter.by_due {
        q = q.filter(dossiers::effective_due_at.is_not_null());
    }
    q
}

/// How many dossiers in `scope` match `filter` (its cursor and limit aside).
pub fn count_matching(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &DossierFilter,
) -> StoreResult<i64> {
    Ok(matching(scope, filter).count().get_result(conn)?)
}

/// Dossiers in `scope` matching `filter`, newest receipt first (then by code, descending).
pub fn list(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &DossierFilter,
) -> StoreResult<Vec<DossierSummary>> {
    let mut q = matching(scope, filter).select(SummaryRow::as_select());
    if filter.by_due {
        if let Some((at, code)) = &filter.after {
            q = q.filter(
                dossiers::effective_due_at
                    .gt(*at)
                    .or(dossiers::effective_due_at
                        .eq(*at)
                        .and(dossiers::code.gt(code.clone()))),
            );
        }
        q = q.order((dossiers::effective_due_at.asc(), dossiers::code.asc()));
    } else {
        // Newest first, ties by code descending, so that one index, (received_at, code), read
        // backwards, gives the order.
        if let Some((at, code)) = &filter.after {
            q = q.filter(
                dossiers::received_at.lt(*at).or(dossiers::received_at
                    .eq(*at)
                    .and(dossiers::code.lt(code.clone()))),
            );
        }
        q = q.order((dossiers::received_at.desc(), dossiers::code.desc()));
    }
    let rows: Vec<SummaryRow> = q.limit(filter.limit).load(conn)?;
    // The unit's code is the last of its path: no query of the units for it.
    Ok(rows
        .into_iter()
        .map(|r| DossierSummary {
            unit: crate::unit::code_in_path(&r.unit_path)
                .unwrap_or_default()
                .to_owned(),
            code: r.code,
            procedure_code: r.procedure_code,
            field: r.field,
            channel: parse_word(&r.channel).unwrap_or(Channel::InPerson),
            status: Status::parse(&r.status),
            received_at: r.received_at,
            due_at: r.due_at.map(Into::into),
            effective_due_at: r.effective_due_at.map(Into::into),
            ended_at: r.ended_at.map(Into::into),
            timing: r.timing.as_deref().and_then(parse_word),
            flags: Flag::of_bits(r.flags),
            synced_at: r.synced_at.map(Into::into),
        })
        .collect())
}

/// How a dossier's due instant and timing were reached, step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// The dossier.
    pub dossier: Dossier,
    /// When counting started (after the intake cut-off rule).
    pub counting_starts: NaiveDateTime,
    /// The procedure's time limit, if known.
    pub limit: Option<crate::procedure::TimeLimitSpec>,
    /// How the rules' due instant was computed: days skipped and why.
    pub due_explanation: Vec<crate::calendar::Step>,
    /// The timing at `at` and the rules applied.
    pub classification: crate::dossier::Classification,
    /// The instant the timing is judged at.
    pub at: NaiveDateTime,
}

/// The timeline of dossier `code`, its timing judged at `now`, or at its latest event when that
/// is a little ahead of `now` ([`crate::dossier::judged_at`], as its stored timing is judged;
/// until 2026-12-07 a finish dated a minute ahead was left out here while the stored timing
/// counted it).
pub fn timeline(
    conn: &mut DbConnection,
    scope: &UnitScope,
    code: &str,
    now: NaiveDateTime,
) -> StoreResult<Timeline> {
    let row = row_of(conn, scope, code)?;
    let unit: UnitRow = super::schema::units::table
        .find(row.unit_id)
        .select(UnitRow::as_select())
        .first(conn)?;
    let dossier = dossier_of(conn, row)?;
    let at = crate::dossier::judged_at(&dossier.events, now);
    let calendar = calendar_for_unit(conn, &unit, dossier.received_at.date().year())?;
    let spec = procedure_at(conn, &dossier.procedure_code, dossier.received_at.date())?
        .and_then(|(_, c)| c.time_limit);
    let limit = spec.and_then(|t| TimeLimit::new(t.amount, t.measure).ok());
    let due_explanation = limit
        .map(|l| calendar.due(dossier.received_at, l, &[]).explanation)
        .unwrap_or_default();
    let classification = crate::dossier::classify(
        &calendar,
        &TimingInput {
            received_at: dossier.received_at,
            due_at: dossier.due_at,
            limit,
            events: &dossier.events,
            at,
        },
    );
    Ok(Timeline {
        counting_starts: calendar.intake_start(dossier.received_at).0,
        limit: spec,
        due_explanation,
        classification,
        at,
        dossier,
    })
}

/// How one attempt of the relay to send dossiers to the national portal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayOutcome<'a> {
    /// The portal took them (`error_code` 0).
    Accepted,
    /// It did not: why.
    Refused(&'a str),
}

/// What the relay records on a dossier, in the audit trail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RelayRecord<'a> {
    synced_at: Option<NaiveDateTime>,
    synced_status: Option<&'a str>,
    sync_error: Option<&'a crate::dossier::SyncError>,
}

/// Records one attempt of the relay, now, on each dossier sent, with the status
/// it was sent with: accepted, that status is the one synced and the sync error goes; refused,
/// the reason becomes the dossier's `syncError`. Audited as `sync` by `actor` (the relay, which
/// leaves its own changes out of what it sends). Dossiers gone since are skipped.
///
/// Only while `owner` still holds the lease of the relay's subscription `relay`
/// ([`super::subscriptions::keep_lease_while`]); `false`, and nothing recorded, when another
/// instance has taken it over meanwhile (this one stalled past its lease): that one sends the
/// dossiers as they are now, and this answer, older, must not undo what it records.
pub fn record_relay_attempt(
    conn: &mut DbConnection,
    actor: &Actor,
    (relay, owner): (&str, &str),
    sent: &[(String, Option<Status>)],
    outcome: RelayOutcome<'_>,
) -> StoreResult<bool> {
    let at = now_local();
    write_tx(conn, |conn| {
        // As every writer of dossiers: no other write of them, nor a unit's move, meanwhile.
        super::lock_keys(
            conn,
            &dossier_keys(sent.iter().map(|(code, _)| code.as_str())),
        )?;
        if !super::subscriptions::keep_lease_while(conn, relay, owner)? {
            return Ok(false);
        }
        let error = match outcome {
            RelayOutcome::Accepted => None,
            RelayOutcome::Refused(message) => Some(crate::dossier::SyncError {
                at,
                message: message.chars().take(500).collect(),
            }),
        };
        let mut records = Vec::with_capacity(sent.len());
        for (code, status) in sent {
            let row: Option<(i64, String, String, i64, i32, String)> = dossiers::table
                .filter(dossiers::code.eq(code))
                .select((
                    dossiers::id,
                    dossiers::unit_path,
                    dossiers::data,
                    dossiers::version,
                    dossiers::flags,
                    dossiers::status,
                ))
                .first(conn)
                .optional()?;
            let Some((id, path, data, version, flags, current)) = row else {
                continue;
            };
            // The sync flags follow: taken with the status it has now, none is left; refused,
            // it is failing.
            let flags = match outcome {
                RelayOutcome::Accepted if status.map(Status::as_str) == Some(current.as_str()) => {
                    flags & !Flag::bits([Flag::NeverSynced, Flag::SyncBehind, Flag::SyncFailing])
                }
                RelayOutcome::Accepted => flags & !Flag::SyncFailing.bit(),
                RelayOutcome::Refused(_) => flags | Flag::SyncFailing.bit(),
            };
            let mut details = crate::dossier::stored::from_json(&data)
                .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?;
            details.sync_error.clone_from(&error);
            let data = crate::dossier::stored::to_json(&details)
                .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?;
            let synced = match (outcome, status) {
                (RelayOutcome::Accepted, Some(s)) => Some((at, s.as_str())),
                _ => None,
            };
            let target = dossiers::table.find(id);
            let changes = (
                dossiers::data.eq(&data),
                dossiers::flags.eq(&flags),
                dossiers::version.eq(version + 1),
                dossiers::updated_at.eq(super::now()),
            );
            match synced {
                Some((at, s)) => diesel::update(target)
                    .set((
                        changes,
                        dossiers::synced_at.eq(at),
                        dossiers::synced_status.eq(s),
                    ))
                    .execute(conn)?,
                None => diesel::update(target).set(changes).execute(conn)?,
            };
            records.push((
                code.as_str(),
                path,
                RelayRecord {
                    synced_at: synced.map(|s| s.0),
                    synced_status: synced.map(|s| s.1),
                    sync_error: error.as_ref(),
                },
            ));
        }
        let changes: Vec<audit::ManyChange<'_, RelayRecord<'_>>> = records
            .iter()
            .map(|(code, path, record)| ("sync", *code, path.as_str(), record))
            .collect();
        audit::record_many(conn, actor, "dossier", &changes)?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    fn at(hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("a valid instant")
    }

    fn history() -> Vec<Event> {
        vec![
            Event::new("e1", Status::Received, at(8)),
            Event::new("e2", Status::Processing, at(9)),
            Event::new("e3", Status::Finished, at(10)),
        ]
    }

    /// The rows a write of `events` stores.
    fn rows(events: &[Event]) -> Vec<StoredEventRow> {
        events
            .iter()
            .zip(0..)
            .map(|(e, seq)| StoredEventRow {
                event: StoredEvent {
                    event_id: e.id.clone(),
                    status: e.status.as_str().to_owned(),
                    at: e.at,
                    new_due: e.new_due,
                    actor: e.actor.clone(),
                    note: e.note.clone(),
                    payload: e.payload.clone(),
                },
                seq,
            })
            .collect()
    }

    #[test]
    fn a_status_change_keeps_the_stored_events_and_adds_its_own() {
        let stored = rows(&history());
        let mut pushed = history();
        pushed.push(Event::new("e4", Status::Returned, at(11)));
        assert_eq!(
            kept_events(&stored, &pushed, false),
            Some(vec![true, true, true, false])
        );
        // The same events again (a change elsewhere in the dossier): all kept, none added.
        assert_eq!(
            kept_events(&stored, &history(), false),
            Some(vec![true, true, true])
        );
        // Nothing stored: every event is added.
        assert_eq!(kept_events(&[], &pushed, false), Some(vec![false; 4]));
    }

    #[test]
    fn an_event_added_anywhere_keeps_the_stored_ones_while_each_instant_keeps_its_order() {
        let stored = rows(&history());
        // The portal's whole sync adds a date before the progress step kept after its events:
        // the step is read by its instant, and keeps its number.
        let step = Event::new("p1", Status::Processing, at(9));
        let mut synced = history()[..1].to_vec();
        synced.push(step.clone());
        let mut resynced = history()[..1].to_vec();
        resynced.push(Event::new("e3", Status::Finished, at(10)));
        resynced.push(step);
        assert_eq!(
            kept_events(&rows(&synced), &resynced, false),
            Some(vec![true, false, true])
        );
        // A step put before the stored ones, at an earlier instant.
        let mut before = history();
        before.insert(0, Event::new("e0", Status::NewlyRegistered, at(7)));
        assert_eq!(
            kept_events(&stored, &before, false),
            Some(vec![false, true, true, true])
        );
        // Rows stored before their places were kept (migration 000033), all at place 0, at
        // instants of their own.
        let mut unplaced = rows(&history());
        for row in &mut unplaced {
            row.seq = 0;
        }
        assert_eq!(
            kept_events(&unplaced, &history(), false),
            Some(vec![true; 3])
        );
        // Added after a stored event of its instant, numbered after it: kept.
        let mut after = history();
        after.insert(1, Event::new("e1b", Status::Processing, at(8)));
        assert_eq!(
            kept_events(&stored, &after, false),
            Some(vec![true, false, true, true])
        );
    }

    #[test]
    fn an_instant_sent_to_the_tenth_of_a_microsecond_is_the_one_postgresql_kept() {
        let with_nanos = |events: &[Event], ns: u32| {
            let mut events = events.to_vec();
            events[1].at = events[1].at.with_nanosecond(ns).expect("a valid fraction");
            events
        };
        let pushed = with_nanos(&history(), 123_456_700);
        // PostgreSQL keeps 123,456 µs of it; SQLite keeps what was sent.
        let on_postgres = with_nanos(&history(), 123_456_000);
        assert_eq!(
            kept_events(&rows(&on_postgres), &pushed, true),
            Some(vec![true; 3])
        );
        assert_eq!(
            kept_events(&rows(&pushed), &pushed, false),
            Some(vec![true; 3])
        );
        // On SQLite an instant stored to the microsecond and sent again with a tenth more is
        // another instant: written again, it would be stored with it.
        assert_eq!(kept_events(&rows(&on_postgres), &pushed, false), None);
        // The same for a new due instant.
        let mut due = history();
        due[2].new_due = pushed[1].at.checked_add_signed(chrono::TimeDelta::days(3));
        let mut due_on_postgres = due.clone();
        due_on_postgres[2].new_due = on_postgres[1]
            .at
            .checked_add_signed(chrono::TimeDelta::days(3));
        assert_eq!(
            kept_events(&rows(&due_on_postgres), &due, true),
            Some(vec![true; 3])
        );
        assert_eq!(kept_events(&rows(&due_on_postgres), &due, false), None);
        // A microsecond more is another instant on either.
        let later = with_nanos(&history(), 123_457_700);
        assert_eq!(kept_events(&rows(&on_postgres), &later, true), None);
        assert_eq!(kept_events(&rows(&pushed), &later, false), None);
    }

    #[test]
    fn any_other_change_to_the_stored_events_replaces_them_all() {
        let stored = rows(&history());
        // An event taken back.
        assert_eq!(kept_events(&stored, &history()[..2], false), None);
        // One changed in any column.
        let mut noted = history();
        noted[1].note = Some("corrected".into());
        assert_eq!(kept_events(&stored, &noted, false), None);
        let mut moved = history();
        moved[2].at = at(12);
        assert_eq!(kept_events(&stored, &moved, false), None);
        let mut renamed = history();
        renamed[0].id = "e0".into();
        assert_eq!(kept_events(&stored, &renamed, false), None);
        // One put before a stored one of its instant, which the stored one's number would read
        // after it.
        let mut before = history();
        before.insert(0, Event::new("e0", Status::NewlyRegistered, at(8)));
        assert_eq!(kept_events(&stored, &before, false), None);
        // Rows stored before their places were kept (migration 000033) are all at place 0:
        // two of one instant would be read by id, so they are written again with their places.
        let mut unplaced = rows(&history());
        unplaced[1].event.at = at(8);
        for row in &mut unplaced {
            row.seq = 0;
        }
        let mut same_instant = history();
        same_instant[1].at = at(8);
        assert_eq!(kept_events(&unplaced, &same_instant, false), None);
        // One event stored twice (which the table's key forbids): not trusted either.
        let mut twice = rows(&history());
        twice[1].seq = 0;
        twice[1].event = rows(&history()).remove(0).event;
        assert_eq!(kept_events(&twice, &history(), false), None);
        // Two events of one instant pushed the other way round: their numbers would read them
        // in the stored order.
        let pair = [
            Event::new("a", Status::NewlyRegistered, at(8)),
            Event::new("b", Status::Received, at(8)),
        ];
        let swapped = [pair[1].clone(), pair[0].clone()];
        assert_eq!(kept_events(&rows(&pair), &swapped, false), None);
        // An event added after a stored one of its instant, whose number is past the place the
        // new event takes: it would be read first.
        let mut numbered = rows(&pair[..1]);
        numbered[0].seq = 5;
        let added = [pair[0].clone(), Event::new("x", Status::Received, at(8))];
        assert_eq!(kept_events(&numbered, &added, false), None);
    }
}
