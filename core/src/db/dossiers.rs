//! Storage of dossiers and their events: idempotent pushes, event intake with deduplication and
//! the transition rules, derived timing and quality flags, and filtered keyset lists.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit::{self, Actor, Change};
use super::schema::{dossier_events, dossiers, procedure_versions, procedures};
use super::units::{UnitRow, find_row as find_unit};
use super::{DbConnection, StoreError, StoreResult, calendars, settings, write_tx};
use crate::InvalidParam;
use crate::calendar::{Calendar, TimeLimit};
use crate::dossier::{
    DossierCode, Event, Flag, QualityInput, ResultDocument, Status, Timing, TimingInput,
    check_history, derive,
};
use crate::procedure::{Channel, ProcedureContent};
use crate::unit::UnitScope;

type Db = <DbConnection as Connection>::Backend;

/// A submitted component of the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentRecord {
    /// Its name.
    pub name: String,
    /// SHA-256 of the file, hex.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Digitized (scanned or structured).
    #[serde(default)]
    pub digitized: bool,
    /// Reused from earlier digitized data.
    #[serde(default)]
    pub reused: bool,
    /// Taken from the citizen's data store on the national portal.
    #[serde(default)]
    pub from_citizen_store: bool,
}

/// A fee of the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeRecord {
    /// What for.
    pub name: String,
    /// Amount in VND.
    pub amount_vnd: i64,
    /// Paid online (national portal or provincial gateway).
    #[serde(default)]
    pub paid_online: bool,
}

/// The applicant, without the identity number (kept only as a salted hash and its last 4 digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Applicant {
    /// `citizen` or `organization`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Last 4 characters of the identity number.
    pub identity_last4: Option<String>,
    /// Salted SHA-256 of the identity number (never the number itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_hash: Option<String>,
}

/// The citizen's rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rating {
    /// `satisfied`, `neutral` or `dissatisfied`.
    pub value: String,
    /// When (local time).
    pub at: NaiveDateTime,
}

/// Everything of a dossier that is kept as pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DossierDetails {
    /// Submitted at (local time).
    pub submitted_at: Option<NaiveDateTime>,
    /// The applicant.
    pub applicant: Applicant,
    /// Fees.
    pub fees: Vec<FeeRecord>,
    /// Whether a financial obligation applies.
    pub financial_obligation: bool,
    /// Components submitted.
    pub components: Vec<ComponentRecord>,
    /// Account verified with VNeID.
    pub vneid_verified: bool,
    /// The population database was used.
    pub population_db_used: bool,
    /// Result documents.
    pub results: Vec<ResultDocument>,
    /// The citizen's rating.
    pub rating: Option<Rating>,
    /// The vendor's due instant, when it sent one.
    pub vendor_due_at: Option<NaiveDateTime>,
}

/// A dossier to store.
#[derive(Debug, Clone)]
pub struct DossierWrite {
    /// Code.
    pub code: DossierCode,
    /// Procedure code.
    pub procedure_code: String,
    /// Handling unit's code.
    pub unit: String,
    /// Channel.
    pub channel: Channel,
    /// Received at (local time).
    pub received_at: NaiveDateTime,
    /// The applicant's identity number, if sent (hashed before storage).
    pub identity_number: Option<String>,
    /// Details.
    pub details: DossierDetails,
    /// Last synced to the national portal, and with which status.
    pub synced: Option<(NaiveDateTime, Status)>,
    /// Events.
    pub events: Vec<Event>,
}

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
    /// Events in instant order.
    pub events: Vec<Event>,
    /// Row version.
    pub version: i64,
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
    flags: String,
    synced_at: Option<NaiveDateTime>,
    synced_status: Option<String>,
    data: String,
    version: i64,
}

fn word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_word<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn not_found(code: &str) -> StoreError {
    StoreError::NotFound {
        resource: "dossier",
        id: code.to_owned(),
    }
}

/// The procedure version in force on `on` and its field and time limit.
fn procedure_at(
    conn: &mut DbConnection,
    code: &str,
    on: chrono::NaiveDate,
) -> StoreResult<Option<(i32, ProcedureContent)>> {
    let found: Option<(i32, String)> = procedure_versions::table
        .inner_join(procedures::table)
        .filter(procedures::code.eq(code))
        .filter(procedure_versions::valid_from.le(on))
        .filter(
            procedure_versions::valid_to
                .is_null()
                .or(procedure_versions::valid_to.ge(on)),
        )
        .select((procedure_versions::seq, procedure_versions::content))
        .first(conn)
        .optional()?;
    Ok(found.and_then(|(seq, content)| serde_json::from_str(&content).ok().map(|c| (seq, c))))
}

fn calendar_for_unit(conn: &mut DbConnection, unit: &UnitRow, year: i32) -> StoreResult<Calendar> {
    let province = calendars::province_of(conn, unit)?;
    calendars::calendar_for(conn, province.as_ref(), year - 1, year + 2)
}

fn now_local() -> NaiveDateTime {
    crate::calendar::to_local(&chrono::Utc::now())
}

/// Everything derived and stored for a dossier.
struct Computed {
    status: Status,
    procedure_version: Option<i32>,
    field: Option<String>,
    due_at: Option<NaiveDateTime>,
    rule_due_at: Option<NaiveDateTime>,
    effective_due_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    timing: Option<Timing>,
    flags: Vec<Flag>,
}

fn compute(conn: &mut DbConnection, unit: &UnitRow, write: &DossierWrite) -> StoreResult<Computed> {
    let procedure = procedure_at(conn, &write.procedure_code, write.received_at.date())?;
    let calendar = calendar_for_unit(conn, unit, write.received_at.date().year())?;
    let limit = procedure
        .as_ref()
        .and_then(|(_, c)| c.time_limit)
        .and_then(|t| TimeLimit::new(t.amount, t.measure).ok());
    let rule_due_at = limit.map(|l| calendar.due(write.received_at, l, &[]).due);
    let vendor_due = write.details.vendor_due_at;
    let due_at = vendor_due.or(rule_due_at);
    let hashes: Vec<String> = write
        .details
        .components
        .iter()
        .filter_map(|c| c.sha256.clone())
        .collect();
    let derived = derive(
        &calendar,
        &TimingInput {
            received_at: write.received_at,
            due_at,
            limit,
            events: &write.events,
            at: now_local(),
        },
        &QualityInput {
            events: &write.events,
            results: &write.details.results,
            component_hashes: &hashes,
            synced_at: write.synced.map(|s| s.0),
            synced_status: write.synced.map(|s| s.1),
            standard_code: write.code.standard_parts().is_some(),
            due_disagrees: matches!((vendor_due, rule_due_at), (Some(v), Some(r)) if v != r),
        },
    );
    Ok(Computed {
        status: derived.status.unwrap_or(Status::NewlyRegistered),
        procedure_version: procedure.as_ref().map(|(seq, _)| *seq),
        field: procedure.map(|(_, c)| c.field),
        due_at,
        rule_due_at,
        effective_due_at: derived.effective_due,
        ended_at: derived.ended_at,
        timing: derived.timing,
        flags: derived.flags.into_iter().map(|(f, _)| f).collect(),
    })
}

fn check(conn: &mut DbConnection, scope: &UnitScope, write: &DossierWrite) -> StoreResult<UnitRow> {
    let mut invalid = Vec::new();
    let unit = find_unit(conn, &write.unit)?.filter(|u| scope.allows(&u.path));
    if unit.is_none() {
        invalid.push(InvalidParam::new(
            "unit",
            format!("no unit has the code {}", write.unit),
        ));
    }
    let known: Option<i64> = procedures::table
        .filter(procedures::code.eq(&write.procedure_code))
        .select(procedures::id)
        .first(conn)
        .optional()?;
    if known.is_none() {
        invalid.push(InvalidParam::new(
            "procedureCode",
            format!("no procedure has the code {}", write.procedure_code),
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for (i, e) in write.events.iter().enumerate() {
        if !ids.insert(e.id.as_str()) {
            invalid.push(InvalidParam::new(
                format!("events[{i}].id"),
                "is listed twice",
            ));
        }
    }
    if let Err(f) = check_history(&write.events) {
        let i = write
            .events
            .iter()
            .position(|e| e.id == f.event_id)
            .unwrap_or(0);
        invalid.push(InvalidParam::new(format!("events[{i}].status"), f.reason));
    }
    match (unit, invalid.is_empty()) {
        (Some(unit), true) => Ok(unit),
        _ => Err(StoreError::Invalid(invalid)),
    }
}

fn identity_hash(conn: &mut DbConnection, number: &str) -> StoreResult<String> {
    let salt = settings::get_or_init(conn, "identity_salt", || {
        use rand::Rng;
        rand::rng()
            .sample_iter(&rand::distr::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect()
    })?;
    Ok(hex(&Sha256::digest(format!("{salt}:{number}").as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A new dossier.
    Created,
    /// A changed dossier.
    Updated,
    /// The same push again: nothing changed.
    Unchanged,
}

/// Stores a whole dossier with its events, inside the caller's transaction: created, updated,
/// or unchanged when the same input was pushed before.
pub fn put_in(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &DossierWrite,
) -> StoreResult<Outcome> {
    let unit = check(conn, scope, write)?;
    let mut write = write.clone();
    if let Some(number) = write.identity_number.take() {
        let digits: String = number
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        write.details.applicant.identity_last4 = Some(digits);
        write.details.applicant.identity_hash = Some(identity_hash(conn, &number)?);
    }
    let data =
        serde_json::to_string(&write.details).map_err(|e| StoreError::Setup(e.to_string()))?;
    let events_json =
        serde_json::to_string(&write.events).map_err(|e| StoreError::Setup(e.to_string()))?;
    let input_hash = hex(&Sha256::digest(
        format!(
            "{}|{}|{}|{}|{}|{:?}|{}|{}",
            write.code,
            write.procedure_code,
            write.unit,
            word(&write.channel),
            write.received_at,
            write.synced,
            data,
            events_json
        )
        .as_bytes(),
    ));
    let existing: Option<(i64, String, i64)> = dossiers::table
        .filter(dossiers::code.eq(write.code.as_str()))
        .select((dossiers::id, dossiers::input_hash, dossiers::version))
        .first(conn)
        .optional()?;
    if existing
        .as_ref()
        .is_some_and(|(_, hash, _)| *hash == input_hash)
    {
        return Ok(Outcome::Unchanged);
    }
    let c = compute(conn, &unit, &write)?;
    let flags = format!(
        " {} ",
        c.flags
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let now = super::now();
    let values = (
        dossiers::unit_id.eq(unit.id),
        dossiers::unit_path.eq(&unit.path),
        dossiers::procedure_code.eq(&write.procedure_code),
        dossiers::procedure_version.eq(c.procedure_version),
        dossiers::field.eq(&c.field),
        dossiers::channel.eq(word(&write.channel)),
        dossiers::status.eq(c.status.as_str()),
        dossiers::received_at.eq(write.received_at),
        dossiers::due_at.eq(c.due_at),
        dossiers::rule_due_at.eq(c.rule_due_at),
        dossiers::effective_due_at.eq(c.effective_due_at),
        dossiers::ended_at.eq(c.ended_at),
        dossiers::timing.eq(c.timing.map(|t| word(&t))),
        dossiers::flags.eq(&flags),
        dossiers::synced_at.eq(write.synced.map(|s| s.0)),
        dossiers::synced_status.eq(write.synced.map(|s| s.1.as_str())),
        dossiers::data.eq(&data),
        dossiers::input_hash.eq(&input_hash),
        dossiers::updated_at.eq(now),
    );
    let (id, outcome) = match existing {
        Some((id, _, version)) => {
            diesel::update(dossiers::table.find(id))
                .set((values, dossiers::version.eq(version + 1)))
                .execute(conn)?;
            diesel::delete(dossier_events::table.filter(dossier_events::dossier_id.eq(id)))
                .execute(conn)?;
            (id, Outcome::Updated)
        }
        None => {
            diesel::insert_into(dossiers::table)
                .values((
                    values,
                    dossiers::code.eq(write.code.as_str()),
                    dossiers::version.eq(1),
                    dossiers::created_at.eq(now),
                ))
                .execute(conn)?;
            let id = dossiers::table
                .filter(dossiers::code.eq(write.code.as_str()))
                .select(dossiers::id)
                .first(conn)?;
            (id, Outcome::Created)
        }
    };
    let rows: Vec<_> = write
        .events
        .iter()
        .map(|e| {
            (
                dossier_events::dossier_id.eq(id),
                dossier_events::event_id.eq(e.id.clone()),
                dossier_events::status.eq(e.status.as_str()),
                dossier_events::at.eq(e.at),
                dossier_events::new_due.eq(e.new_due),
                dossier_events::received_at.eq(now),
            )
        })
        .collect();
    if !rows.is_empty() {
        // Multi-row inserts are not expressible over both backends at once (MultiConnection).
        match conn {
            DbConnection::Sqlite(c) => diesel::insert_into(dossier_events::table)
                .values(rows)
                .execute(c)?,
            DbConnection::Pg(c) => diesel::insert_into(dossier_events::table)
                .values(rows)
                .execute(c)?,
        };
    }
    let summary = serde_json::json!({"code": write.code.as_str(), "status": c.status.as_str(), "inputHash": input_hash});
    audit::record(
        conn,
        actor,
        &Change {
            action: if outcome == Outcome::Created {
                "create"
            } else {
                "update"
            },
            resource_type: "dossier",
            resource_id: write.code.as_str(),
            before: None,
            after: Some(&summary),
        },
    )?;
    Ok(outcome)
}

/// [`put_in`] in a transaction of its own.
pub fn put(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    write: &DossierWrite,
) -> StoreResult<Outcome> {
    write_tx(conn, |conn| put_in(conn, actor, scope, write))
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

fn events_of(conn: &mut DbConnection, id: i64) -> StoreResult<Vec<Event>> {
    let rows: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = dossier_events::table
        .filter(dossier_events::dossier_id.eq(id))
        .order((dossier_events::at.asc(), dossier_events::event_id.asc()))
        .select((
            dossier_events::event_id,
            dossier_events::status,
            dossier_events::at,
            dossier_events::new_due,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, status, at, new_due)| {
            Status::parse(&status).map(|status| Event {
                id,
                status,
                at,
                new_due,
            })
        })
        .collect())
}

fn dossier_of(conn: &mut DbConnection, row: Row) -> StoreResult<Dossier> {
    let unit: String = super::schema::units::table
        .find(row.unit_id)
        .select(super::schema::units::code)
        .first(conn)?;
    let events = events_of(conn, row.id)?;
    Ok(Dossier {
        code: row.code,
        procedure_code: row.procedure_code,
        procedure_version: row.procedure_version,
        field: row.field,
        unit,
        channel: parse_word(&row.channel).unwrap_or(Channel::InPerson),
        status: Status::parse(&row.status),
        received_at: row.received_at,
        due_at: row.due_at,
        rule_due_at: row.rule_due_at,
        effective_due_at: row.effective_due_at,
        ended_at: row.ended_at,
        timing: row.timing.as_deref().and_then(parse_word),
        flags: row
            .flags
            .split_whitespace()
            .filter_map(Flag::parse)
            .collect(),
        synced_at: row.synced_at,
        synced_status: row.synced_status.as_deref().and_then(Status::parse),
        details: serde_json::from_str(&row.data)
            .map_err(|e| StoreError::Setup(format!("dossier data: {e}")))?,
        events,
        version: row.version,
    })
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
        identity_number: None,
        details: d.details.clone(),
        synced: d.synced_at.zip(d.synced_status),
        events: d.events.clone(),
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
/// event.
pub fn add_event(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &UnitScope,
    code: &str,
    event: &Event,
) -> StoreResult<EventOutcome> {
    write_tx(conn, |conn| {
        let dossier = get(conn, scope, code)?;
        if let Some(existing) = dossier.events.iter().find(|e| e.id == event.id) {
            return if existing == event {
                Ok(EventOutcome::Duplicate)
            } else {
                Err(StoreError::Conflict(InvalidParam::new(
                    "id",
                    format!("the event id {} was used for another event", event.id),
                )))
            };
        }
        let mut write = write_of(&dossier)?;
        write.events.push(event.clone());
        if let Err(f) = check_history(&write.events) {
            return Err(StoreError::Conflict(InvalidParam::new("status", f.reason)));
        }
        put_in(conn, actor, scope, &write)?;
        Ok(EventOutcome::Added)
    })
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

/// Dossiers in `scope` matching `filter`, newest receipt first (then by code).
pub fn list(
    conn: &mut DbConnection,
    scope: &UnitScope,
    filter: &DossierFilter,
) -> StoreResult<Vec<Dossier>> {
    let mut q = dossiers::table.select(Row::as_select()).into_boxed::<Db>();
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
                    .and(dossiers::effective_due_at.lt(now)),
            )
        }
        Some((false, now)) => {
            q = q.filter(
                dossiers::ended_at
                    .is_not_null()
                    .or(dossiers::effective_due_at.ge(now))
                    .or(dossiers::effective_due_at.is_null()),
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
        q = q.filter(dossiers::flags.like(format!("% {} %", flag.as_str())));
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
        if let Some((at, code)) = &filter.after {
            q = q.filter(
                dossiers::effective_due_at
                    .gt(*at)
                    .or(dossiers::effective_due_at
                        .eq(*at)
                        .and(dossiers::code.gt(code.clone()))),
            );
        }
        q = q
            .filter(dossiers::effective_due_at.is_not_null())
            .order((dossiers::effective_due_at.asc(), dossiers::code.asc()));
    } else {
        if let Some((at, code)) = &filter.after {
            q = q.filter(
                dossiers::received_at.lt(*at).or(dossiers::received_at
                    .eq(*at)
                    .and(dossiers::code.gt(code.clone()))),
            );
        }
        q = q.order((dossiers::received_at.desc(), dossiers::code.asc()));
    }
    let rows: Vec<Row> = q.limit(filter.limit).load(conn)?;
    rows.into_iter().map(|r| dossier_of(conn, r)).collect()
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

/// The timeline of dossier `code`, its timing judged at `at`.
pub fn timeline(
    conn: &mut DbConnection,
    scope: &UnitScope,
    code: &str,
    at: NaiveDateTime,
) -> StoreResult<Timeline> {
    let row = row_of(conn, scope, code)?;
    let unit: UnitRow = super::schema::units::table
        .find(row.unit_id)
        .select(UnitRow::as_select())
        .first(conn)?;
    let dossier = dossier_of(conn, row)?;
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
