//! `tthc demo`: a demo province, so that a fresh install has something to show.

mod catalogue;
mod dossiers;
mod duties;
mod petitions;
mod province_data;
mod scores;
mod tasks;

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime};
use tthc_core::db::audit::Actor;
use tthc_core::db::settings;
use tthc_core::db::units::{self, UnitInsertForm};
use tthc_core::db::{Database, DbConnection, StartupStep, StoreError};
use tthc_core::period::Period;
use tthc_core::unit::{UnitCode, UnitLevel, UnitScope};

use province_data::{COMMUNES, DEPARTMENTS, DemoUnit, PROVINCE};

/// What loading the demo did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Units created now (0 when the demo was loaded before).
    pub units_created: usize,
    /// Procedures created now.
    pub procedures_created: usize,
    /// Announcement decisions created now.
    pub decisions_created: usize,
    /// Dossiers created now.
    pub dossiers_created: usize,
    /// Petitions created now (one for every hundred dossiers).
    pub petitions_created: usize,
    /// Months closed now, with the portal's scores for the province.
    pub months_closed: usize,
    /// Reports recorded now for the reporting duties, over the demo's span.
    pub reports_submitted: usize,
    /// Tasks assigned (a letter's and a notice's explanations).
    pub tasks_created: usize,
}

/// How many dossiers the demo year has unless asked otherwise.
pub const DEFAULT_DOSSIERS: usize = 300_000;

/// The demo's span of data: the twelve months before the running one and the running one up to
/// the day before the demo is loaded, so that the running month has data too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoYear {
    /// The first day with data: the first of the month twelve months before the last day's.
    pub first: NaiveDate,
    /// The last day with data.
    pub last: NaiveDate,
}

impl DemoYear {
    /// The span whose last day is `last`.
    pub fn ending(last: NaiveDate) -> Self {
        let first = last
            .with_day(1)
            .and_then(|d| d.checked_sub_months(Months::new(12)))
            .unwrap_or(last);
        Self { first, last }
    }

    /// The span ending the day before today (Vietnam time).
    pub fn to_yesterday() -> Self {
        let today = tthc_core::db::now_local().date();
        Self::ending(today.pred_opt().unwrap_or(today))
    }

    /// The demo's "now": nothing happens after the last day's office hours.
    pub fn end(&self) -> NaiveDateTime {
        self.last
            .and_hms_opt(17, 0, 0)
            .unwrap_or_else(|| self.last.and_time(NaiveTime::MIN))
    }

    /// The three months closed with the portal's scores: those ending two months before the
    /// last day's month (the month just over is still open, as it is on the portal until its
    /// figures are published).
    pub fn closed_months(&self) -> Vec<Period> {
        let Some(current) = Period::month(self.last.year(), self.last.month()) else {
            return Vec::new();
        };
        let last = current.previous().previous();
        vec![last.previous().previous(), last.previous(), last]
    }
}

/// Loads the demo province: the province, its departments and its communes, its procedures and
/// announcements, a year of `dossiers` dossiers with their ratings and one petition for every
/// hundred dossiers over the span ending yesterday ([`DemoYear`]), three months closed with the
/// portal's scores for the province, and the reporting duties with the reports sent over the
/// span.
/// Loading it again changes nothing; instances that load it at once load it once (on
/// PostgreSQL the others wait for the first, on SQLite they leave it to the first).
pub fn load(db: &Database, dossiers: usize) -> Result<DemoSummary, StoreError> {
    db.one_instance_at_a_time(StartupStep::Demo, |conn| load_alone(conn, dossiers))
}

/// The setting a load writes before it creates anything, naming when it started.
const LOAD_STARTED: &str = "demo.load_started";
/// The setting a load writes when everything is loaded, naming when it ended.
const LOAD_ENDED: &str = "demo.load_ended";

fn load_alone(conn: &mut DbConnection, dossiers: usize) -> Result<DemoSummary, StoreError> {
    if units::find_row(conn, PROVINCE.code)?.is_some() {
        return loaded_before(conn);
    }
    // Instances on one SQLite file may get here at once: the first mark stays.
    settings::get_or_init(conn, LOAD_STARTED, now_text)?;
    let actor = Actor::system("demo province");
    // The two-level local government took effect on 1 July 2025.
    let since = NaiveDate::from_ymd_opt(2025, 7, 1);
    let code = |u: &DemoUnit| {
        UnitCode::parse(u.code).map_err(|e| StoreError::Setup(format!("demo code {}: {e}", u.code)))
    };
    let province = code(&PROVINCE)?;
    let mut create = |unit: &DemoUnit, level: UnitLevel, parent: Option<UnitCode>| {
        let form = UnitInsertForm {
            code: code(unit)?,
            name: unit.name.to_owned(),
            level,
            parent,
            valid_from: since,
            valid_to: None,
        };
        units::create(conn, &actor, &UnitScope::All, &form)
    };
    match create(&PROVINCE, UnitLevel::Province, None) {
        // Another instance (or thread) created it after the check above: it loads the rest.
        Err(StoreError::Conflict(_)) => return Ok(DemoSummary::default()),
        other => other?,
    };
    for d in DEPARTMENTS {
        create(d, UnitLevel::Department, Some(province.clone()))?;
    }
    for c in COMMUNES {
        create(c, UnitLevel::Commune, Some(province.clone()))?;
    }
    let communes: Vec<&str> = COMMUNES.iter().map(|c| c.code).collect();
    let catalogue = catalogue::load(conn, &communes)?;
    let year = DemoYear::to_yesterday();
    let dossiers_created = dossiers::load(conn, &catalogue.offered, dossiers, year, &communes)?;
    let petitions_created = petitions::load(conn, &catalogue.offered, dossiers / 100, year)?;
    let province_row = units::find_row(conn, PROVINCE.code)?
        .ok_or_else(|| StoreError::Setup("the demo province was not created".into()))?;
    let months_closed = scores::load(conn, &province_row, year)?;
    let reporters = DEPARTMENTS
        .iter()
        .chain(COMMUNES)
        .map(|u| u.code.to_owned())
        .collect();
    let reports_submitted = duties::load(conn, PROVINCE.code, reporters, year)?;
    let departments: Vec<&str> = DEPARTMENTS.iter().map(|d| d.code).collect();
    let tasks_created = tasks::load(conn, PROVINCE.code, &departments, year)?;
    settings::put(conn, LOAD_ENDED, &now_text())?;
    Ok(DemoSummary {
        units_created: 1 + DEPARTMENTS.len() + COMMUNES.len(),
        procedures_created: catalogue.procedures,
        decisions_created: catalogue.decisions,
        dossiers_created,
        petitions_created,
        months_closed,
        reports_submitted,
        tasks_created,
    })
}

/// The demo province is there already. A load that started and never ended (stopped by an
/// error, or the process ended) left it partway: on PostgreSQL no other instance is loading it
/// meanwhile (the step's lock), so that is refused with what to do, instead of serving a
/// province with part of its year. On SQLite another instance may still be loading it: it is
/// left to that one, as when it was created a moment ago. Provinces loaded before these marks
/// were written have neither, and are whole.
fn loaded_before(conn: &mut DbConnection) -> Result<DemoSummary, StoreError> {
    let started = settings::get(conn, LOAD_STARTED)?;
    let ended = settings::get(conn, LOAD_ENDED)?;
    match (started, ended, &*conn) {
        (Some(started), None, DbConnection::Pg(_)) => Err(StoreError::Setup(format!(
            "the demo province was loaded partway by a load that started at {started} and \
             stopped: load it into a fresh database"
        ))),
        _ => Ok(DemoSummary::default()),
    }
}

fn now_text() -> String {
    tthc_core::db::now_local().to_string()
}
