//! The working-day calendar: due dates, working time, and provinces' calendar years.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use tthc_core::InvalidParam;
use tthc_core::calendar::{
    self as cal, Calendar, DayKind, DayOff, DayOffKind, DayRules, MakeUpDay, Measure, Period, Step,
    TimeLimit, YearCalendar, YearSource,
};
use tthc_core::db::DbConnection;
use tthc_core::db::calendars::{self as store, StoredYear};
use tthc_core::db::units;
use tthc_core::unit::{UnitCode, UnitScope};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::{ValidJson, ValidQuery, etag, if_match};
use crate::state::AppState;

use crate::error::PROBLEM_JSON as PROBLEM;

/// A weekday's ISO number: 1 = Monday … 7 = Sunday (the document's name for a `u8` the
/// handler checks).
#[derive(ToSchema)]
#[schema(minimum = 1, maximum = 7)]
pub struct IsoWeekday(pub u8);

/// A time limit's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum MeasureView {
    /// Working days (ngày làm việc).
    WorkingDays,
    /// Working hours (giờ làm việc).
    WorkingHours,
    /// Calendar days (ngày).
    CalendarDays,
}

impl From<MeasureView> for Measure {
    fn from(m: MeasureView) -> Self {
        match m {
            MeasureView::WorkingDays => Self::WorkingDays,
            MeasureView::WorkingHours => Self::WorkingHours,
            MeasureView::CalendarDays => Self::CalendarDays,
        }
    }
}

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum DayKindView {
    /// A weekly working day.
    Working,
    /// A weekend day worked in a swap (làm bù).
    MakeUpWorking,
    /// A weekly day off.
    Weekend,
    /// A public holiday.
    Holiday,
    /// A public holiday on a weekend.
    HolidayOnWeekend,
    /// A compensatory day off (nghỉ bù).
    Compensatory,
    /// A weekday off in a swap (hoán đổi).
    Swapped,
}

impl From<DayKind> for DayKindView {
    fn from(k: DayKind) -> Self {
        match k {
            DayKind::Working => Self::Working,
            DayKind::MakeUpWorking => Self::MakeUpWorking,
            DayKind::Weekend => Self::Weekend,
            DayKind::Holiday => Self::Holiday,
            DayKind::HolidayOnWeekend => Self::HolidayOnWeekend,
            DayKind::Compensatory => Self::Compensatory,
            DayKind::Swapped => Self::Swapped,
        }
    }
}

/// Why a day is off (in a calendar year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum DayOffKindView {
    /// A public holiday on a working weekday.
    Holiday,
    /// A public holiday on a weekend day.
    HolidayOnWeekend,
    /// A compensatory day off.
    Compensatory,
    /// A weekday off in a swap.
    Swapped,
}

impl From<DayOffKindView> for DayOffKind {
    fn from(k: DayOffKindView) -> Self {
        match k {
            DayOffKindView::Holiday => Self::Holiday,
            DayOffKindView::HolidayOnWeekend => Self::HolidayOnWeekend,
            DayOffKindView::Compensatory => Self::Compensatory,
            DayOffKindView::Swapped => Self::Swapped,
        }
    }
}

impl From<DayOffKind> for DayOffKindView {
    fn from(k: DayOffKind) -> Self {
        match k {
            DayOffKind::Holiday => Self::Holiday,
            DayOffKind::HolidayOnWeekend => Self::HolidayOnWeekend,
            DayOffKind::Compensatory => Self::Compensatory,
            DayOffKind::Swapped => Self::Swapped,
        }
    }
}

/// Where a calendar year comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SourceView {
    /// Announced by the government (shipped with the service).
    Announced,
    /// Computed from the Labour Code and the lunar calendar: not announced yet.
    Computed,
    /// Edited by the province.
    Edited,
}

impl From<YearSource> for SourceView {
    fn from(s: YearSource) -> Self {
        match s {
            YearSource::Announced => Self::Announced,
            YearSource::Computed => Self::Computed,
            YearSource::Edited => Self::Edited,
        }
    }
}

fn parse_instant(name: &str, text: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    // A '+' left unencoded in a query string arrives as a space.
    let at = DateTime::parse_from_rfc3339(&text.trim().replace(' ', "+")).map_err(|_| {
        ApiError::invalid(
            name,
            "must be an RFC 3339 instant with an offset, e.g. 2026-02-13T10:00:00+07:00",
        )
    })?;
    // The calendar's years: a computation beyond them would span centuries of days.
    check_year(at.year())
        .map_err(|_| ApiError::invalid(name, "must be in the years 1990 to 2100"))?;
    Ok(at)
}

fn local_rfc3339(local: chrono::NaiveDateTime) -> DateTime<FixedOffset> {
    cal::from_local(local)
}

/// The province (if any) whose calendar `unit` follows, or the national calendar without unit.
fn calendar_of(
    conn: &mut DbConnection,
    unit: Option<&UnitCode>,
    from: i32,
    to: i32,
) -> Result<(Option<String>, Calendar), ApiError> {
    let province = match unit {
        None => None,
        Some(code) => {
            let row = units::find_row(conn, code.as_str())?
                .ok_or_else(|| ApiError::NotFound(format!("no unit {:?}", code.as_str())))?;
            store::province_of(conn, &row)?
        }
    };
    let calendar = store::calendar_for(conn, province.as_ref(), from, to)?;
    Ok((province.map(|p| p.code), calendar))
}

/// Query of the due-date calculator.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// The unit whose province's calendar applies; the national calendar when left out.
    #[param(value_type = Option<String>, example = "000.00.02.H12")]
    pub unit: Option<UnitCode>,
    /// When it was received: RFC 3339 with an offset (encode `+` as `%2B`).
    #[param(example = "2026-02-13T10:00:00+07:00")]
    pub start: String,
    /// The time limit, up to two decimals (0.5 working days = 4 working hours).
    #[param(example = 3, exclusive_minimum = 0, maximum = 1000, multiple_of = 0.01)]
    pub amount: f64,
    /// Its unit.
    #[param(inline)]
    pub measure: MeasureView,
    /// Pauses (supplement requests) as `from/to` pairs separated by commas; each pushes the due
    /// instant by the working time it covers. Together they span at most ten years.
    #[param(example = "2026-03-03T10:00:00+07:00/2026-03-04T10:00:00+07:00")]
    pub pauses: Option<String>,
}

/// A step of a due date's explanation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationItem {
    /// `countingStarts`, `skipped`, `workedWeekendDay`, `paused` or `movedToWorkingDay`.
    pub step: String,
    /// The day concerned.
    pub date: NaiveDate,
    /// For skipped days: why the day is not worked.
    pub kind: Option<DayKindView>,
    /// The holiday's or swap's name.
    pub name: Option<String>,
    /// What happened, in words.
    pub detail: String,
}

/// Which calendar years a computation used.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct YearUsed {
    /// The year.
    pub year: i32,
    /// Announced, computed (not announced yet) or edited by the province.
    pub source: SourceView,
}

/// A due instant and how it was found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "due": "2026-02-23T10:00:00+07:00", "countingStarts": "2026-02-13T10:00:00+07:00",
    "workingHours": 8.0, "province": "000.00.00.H12",
    "years": [{"year": 2026, "source": "announced"}],
    "explanation": [
        {"step": "skipped", "date": "2026-02-14", "kind": "weekend", "name": null, "detail": "2026-02-14 is not worked (weekend)"},
        {"step": "skipped", "date": "2026-02-17", "kind": "holiday", "name": "Tết Nguyên đán (mùng 1)", "detail": "2026-02-17 is not worked (holiday: Tết Nguyên đán (mùng 1))"}
    ]
}))]
pub struct DueView {
    /// The due instant, in Vietnam's time.
    pub due: DateTime<FixedOffset>,
    /// When counting started (receipt, or later: after the cut-off, on a day off).
    pub counting_starts: DateTime<FixedOffset>,
    /// Working hours from the start of counting to the due instant.
    pub working_hours: f64,
    /// The province whose calendar applied; `null` for the national calendar.
    pub province: Option<String>,
    /// The calendar years used and where they come from.
    pub years: Vec<YearUsed>,
    /// Days skipped and why, late starts, pauses.
    pub explanation: Vec<ExplanationItem>,
}

/// A calendar step in the API's words.
pub fn explain(step: Step) -> ExplanationItem {
    match step {
        Step::CountingStarts { at, reason } => ExplanationItem {
            step: "countingStarts".into(),
            date: at.date(),
            kind: None,
            name: None,
            detail: format!(
                "{reason}: counting starts at {}",
                local_rfc3339(at).to_rfc3339()
            ),
        },
        Step::Skipped { date, kind, name } => ExplanationItem {
            step: "skipped".into(),
            date,
            detail: match &name {
                Some(n) => format!("{date} is not worked ({}: {n})", kind_word(kind)),
                None => format!("{date} is not worked ({})", kind_word(kind)),
            },
            kind: Some(kind.into()),
            name,
        },
        Step::WorkedWeekendDay { date, name } => ExplanationItem {
            step: "workedWeekendDay".into(),
            date,
            kind: Some(DayKindView::MakeUpWorking),
            detail: format!("{date} is a weekend day worked in a swap"),
            name,
        },
        Step::Paused {
            from,
            to,
            working_seconds,
        } => ExplanationItem {
            step: "paused".into(),
            date: from.date(),
            kind: None,
            name: None,
            detail: format!(
                "paused from {} to {}: {:.2} working hours added",
                local_rfc3339(from).to_rfc3339(),
                local_rfc3339(to).to_rfc3339(),
                working_seconds as f64 / 3600.0
            ),
        },
        Step::MovedToWorkingDay { from, to } => ExplanationItem {
            step: "movedToWorkingDay".into(),
            date: from,
            kind: None,
            name: None,
            detail: format!(
                "the time limit ends on {from}, not a working day; it ends with working hours on {to}"
            ),
        },
    }
}

fn kind_word(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Working => "working day",
        DayKind::MakeUpWorking => "make-up working day",
        DayKind::Weekend => "weekend",
        DayKind::Holiday => "holiday",
        DayKind::HolidayOnWeekend => "holiday on a weekend",
        DayKind::Compensatory => "compensatory day off",
        DayKind::Swapped => "swapped day off",
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The pauses of a due date's computation together span at most this many days (ten years):
/// a due instant pushed by a century of pauses would be explained by tens of thousands of days
/// skipped, on a public endpoint.
const PAUSES_MAX_DAYS: i64 = 3_653;

fn parse_pauses(
    text: &str,
) -> Result<Vec<(chrono::NaiveDateTime, chrono::NaiveDateTime)>, ApiError> {
    let pauses = each_pause(text)?;
    if pauses_too_long(&pauses) {
        return Err(ApiError::rule(
            "pauses",
            "the pauses together must span at most ten years",
        ));
    }
    Ok(pauses)
}

/// Whether `pauses` together span more than [`PAUSES_MAX_DAYS`], to the second (a day's
/// pause short of a second counts as the day it nearly is).
fn pauses_too_long(pauses: &[(chrono::NaiveDateTime, chrono::NaiveDateTime)]) -> bool {
    let seconds: i64 = pauses.iter().map(|(a, b)| (*b - *a).num_seconds()).sum();
    seconds > PAUSES_MAX_DAYS * 86_400
}

fn each_pause(text: &str) -> Result<Vec<(chrono::NaiveDateTime, chrono::NaiveDateTime)>, ApiError> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (a, b) = pair
                .split_once('/')
                .ok_or_else(|| ApiError::invalid("pauses", "each pause is from/to, e.g. 2026-03-03T10:00:00+07:00/2026-03-04T10:00:00+07:00"))?;
            let (a, b) = (parse_instant("pauses", a)?, parse_instant("pauses", b)?);
            if b < a {
                return Err(ApiError::rule("pauses", "a pause must not end before it starts"));
            }
            Ok((cal::to_local(&a), cal::to_local(&b)))
        })
        .collect()
}

/// Compute a due date
///
/// The due instant of a time limit for something received at `start`, in the working-day
/// calendar of the unit's province: the days skipped and why, the cut-off, pauses. Public.
#[utoipa::path(
    tag = "calendar",
    params(DueQuery),
    responses(
        (status = 200, description = "The due instant with its explanation", body = DueView),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/calendar/due")]
pub async fn due(
    state: web::Data<AppState>,
    query: ValidQuery<DueQuery>,
) -> Result<web::Json<DueView>, ApiError> {
    let q = query.0;
    let start = parse_instant("start", &q.start)?;
    // The range and the two decimals are in the document; whole calendar days are a rule
    // across two parameters.
    if q.measure == MeasureView::CalendarDays && q.amount.fract() != 0.0 {
        return Err(ApiError::rule("amount", "calendar days must be whole"));
    }
    let limit = TimeLimit::new(q.amount, q.measure.into())
        .map_err(|p| ApiError::invalid_params(vec![p]))?;
    let pauses = q
        .pauses
        .as_deref()
        .map(parse_pauses)
        .transpose()?
        .unwrap_or_default();
    let local = cal::to_local(&start);
    let year = local.date().year();
    // 1,000 working days, the largest amount, end within six years.
    let (province, calendar) = state
        .run(move |conn| calendar_of(conn, q.unit.as_ref(), year, year + 6))
        .await?;
    let result = calendar.due(local, limit, &pauses);
    let (counting_starts, _) = calendar.intake_start(local);
    let years = (year..=result.due.date().year())
        .map(|y| YearUsed {
            year: y,
            source: calendar.source(y).into(),
        })
        .collect();
    Ok(web::Json(DueView {
        due: local_rfc3339(result.due),
        counting_starts: local_rfc3339(counting_starts),
        working_hours: round2(result.working_seconds as f64 / 3600.0),
        province,
        years,
        explanation: result.explanation.into_iter().map(explain).collect(),
    }))
}

/// Query of the working-time calculator.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkingTimeQuery {
    /// The unit whose province's calendar applies; the national calendar when left out.
    #[param(value_type = Option<String>, example = "000.00.02.H12")]
    pub unit: Option<UnitCode>,
    /// From (RFC 3339).
    #[param(example = "2026-02-13T07:00:00+07:00")]
    pub from: String,
    /// To (RFC 3339), at most ten years after `from`.
    #[param(example = "2026-02-23T17:00:00+07:00")]
    pub to: String,
}

/// Working time between two instants.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"from": "2026-02-13T07:00:00+07:00", "to": "2026-02-23T17:00:00+07:00",
    "workingDays": 2.0, "workingHours": 16.0, "province": null}))]
pub struct WorkingTimeView {
    /// From.
    pub from: DateTime<FixedOffset>,
    /// To.
    pub to: DateTime<FixedOffset>,
    /// Working days (working time over one day's working time), two decimals.
    pub working_days: f64,
    /// Working hours, two decimals.
    pub working_hours: f64,
    /// The province whose calendar applied; `null` for the national calendar.
    pub province: Option<String>,
}

/// Working time between two instants
///
/// Working days and hours between `from` and `to` in the calendar of the unit's province. Public.
#[utoipa::path(
    tag = "calendar",
    params(WorkingTimeQuery),
    responses(
        (status = 200, description = "The working time", body = WorkingTimeView),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such unit", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/calendar/working-time")]
pub async fn working_time(
    state: web::Data<AppState>,
    query: ValidQuery<WorkingTimeQuery>,
) -> Result<web::Json<WorkingTimeView>, ApiError> {
    let q = query.0;
    let from = parse_instant("from", &q.from)?;
    let to = parse_instant("to", &q.to)?;
    if to < from {
        return Err(ApiError::rule("to", "must not be before from"));
    }
    let (lf, lt) = (cal::to_local(&from), cal::to_local(&to));
    if lt.date().year() - lf.date().year() > 10 {
        return Err(ApiError::rule("to", "must be at most ten years after from"));
    }
    let (first, last) = (lf.date().year(), lt.date().year());
    let (province, calendar) = state
        .run(move |conn| calendar_of(conn, q.unit.as_ref(), first, last))
        .await?;
    let seconds = calendar.working_seconds_between(lf, lt);
    Ok(web::Json(WorkingTimeView {
        from,
        to,
        working_days: round2(calendar.working_days_between(lf, lt)),
        working_hours: round2(seconds as f64 / 3600.0),
        province,
    }))
}

/// A working period of a day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodView {
    /// Start, `HH:MM` or `HH:MM:SS`.
    #[schema(value_type = String, example = "07:00:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub start: NaiveTime,
    /// End, `HH:MM` or `HH:MM:SS`, after start.
    #[schema(value_type = String, example = "11:30:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub end: NaiveTime,
}

/// A day off in a calendar year.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayOffView {
    /// The day.
    pub date: NaiveDate,
    /// Its name.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Why it is off.
    pub kind: DayOffKindView,
}

/// A weekend day worked in a swap.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakeUpDayView {
    /// The day.
    pub date: NaiveDate,
    /// Its name.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// A year of a province's calendar, to replace.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "weekdays": [1, 2, 3, 4, 5],
    "periods": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}],
    "intakeCutoff": "15:00",
    "daysOff": [{"date": "2026-01-01", "name": "Tết Dương lịch", "kind": "holiday"},
                {"date": "2026-08-31", "name": "Hoán đổi: nghỉ thứ Hai 31/8", "kind": "swapped"}],
    "workingDays": [{"date": "2026-08-22", "name": "làm bù cho 31/8"}]
}))]
pub struct YearCalendarInput {
    /// Working weekdays, ISO numbers (1 = Monday … 7 = Sunday).
    #[validate(length(min = 1, max = 7))]
    #[schema(min_items = 1, max_items = 7, value_type = Vec<IsoWeekday>)]
    pub weekdays: Vec<u8>,
    /// Working periods of a day, in order.
    #[validate(length(min = 1, max = 6))]
    #[schema(min_items = 1, max_items = 6)]
    pub periods: Vec<PeriodView>,
    /// A dossier received at or after this time counts from the next working day.
    #[schema(value_type = String, example = "15:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub intake_cutoff: NaiveTime,
    /// Days off, holidays on weekends included.
    #[validate(nested, length(max = 100))]
    #[schema(max_items = 100)]
    pub days_off: Vec<DayOffView>,
    /// Weekend days worked.
    #[validate(nested, length(max = 100))]
    #[schema(max_items = 100)]
    #[serde(default)]
    pub working_days: Vec<MakeUpDayView>,
}

/// A year of a province's calendar.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "province": "000.00.00.H12", "year": 2026, "source": "announced", "version": 0,
    "weekdays": [1, 2, 3, 4, 5],
    "periods": [{"start": "07:00:00", "end": "11:30:00"}, {"start": "13:30:00", "end": "17:00:00"}],
    "intakeCutoff": "15:00:00",
    "daysOff": [{"date": "2026-01-01", "name": "Tết Dương lịch", "kind": "holiday"}],
    "workingDays": [{"date": "2026-08-22", "name": "làm bù cho 31/8 (Quốc khánh)"}]
}))]
pub struct YearCalendarView {
    /// The province.
    pub province: String,
    /// The year.
    pub year: i32,
    /// Announced (shipped), computed (not announced yet) or edited by the province.
    pub source: SourceView,
    /// Version of the province's edit (0: never edited); also the `ETag`.
    pub version: i64,
    /// Working weekdays, ISO numbers (1 = Monday).
    pub weekdays: Vec<u8>,
    /// Working periods of a day.
    pub periods: Vec<PeriodView>,
    /// Intake cut-off.
    #[schema(value_type = String)]
    pub intake_cutoff: NaiveTime,
    /// Days off.
    pub days_off: Vec<DayOffView>,
    /// Weekend days worked.
    pub working_days: Vec<MakeUpDayView>,
}

fn year_view(province: String, stored: StoredYear) -> YearCalendarView {
    let c = stored.calendar;
    YearCalendarView {
        province,
        year: c.year,
        source: c.source.into(),
        version: stored.version,
        weekdays: c
            .rules
            .weekdays
            .iter()
            .map(|w| w.number_from_monday() as u8)
            .collect(),
        periods: c
            .rules
            .periods
            .iter()
            .map(|p| PeriodView {
                start: p.start,
                end: p.end,
            })
            .collect(),
        intake_cutoff: c.rules.intake_cutoff,
        days_off: c
            .days_off
            .into_iter()
            .map(|d| DayOffView {
                date: d.date,
                name: d.name,
                kind: d.kind.into(),
            })
            .collect(),
        working_days: c
            .working_days
            .into_iter()
            .map(|d| MakeUpDayView {
                date: d.date,
                name: d.name,
            })
            .collect(),
    }
}

fn check_year(year: i32) -> Result<(), ApiError> {
    if (1990..=2100).contains(&year) {
        Ok(())
    } else {
        Err(ApiError::invalid("year", "must be from 1990 to 2100"))
    }
}

/// Get a calendar year
///
/// A year of a province's calendar: its edit, or the national calendar (announced, or computed
/// when the government has not announced it yet). Public.
#[utoipa::path(
    tag = "calendar",
    params(
        ("province" = String, Path, description = "The province's unit code", example = "000.00.00.H12"),
        ("year" = i32, Path, description = "The year", example = 2026),
    ),
    responses(
        (status = 200, description = "The year", body = YearCalendarView, headers(("ETag" = String))),
        (status = 400, description = "The year is out of range", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such province", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/calendars/{province}/{year}")]
pub async fn get_year(
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (province, year) = path.into_inner();
    check_year(year)?;
    let (code, stored) = state
        .run(move |conn| {
            let p = store::province(conn, &UnitScope::All, &province)?;
            Ok((p.code.clone(), store::year(conn, &p, year)?))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(stored.version)))
        .json(year_view(code, stored)))
}

/// Replace a calendar year
///
/// Replaces a year's working weekdays, hours, cut-off, days off and make-up working days for a
/// province. Due dates computed before are not changed. Audited.
#[utoipa::path(
    tag = "calendar",
    request_body = YearCalendarInput,
    params(
        ("province" = String, Path, description = "The province's unit code", example = "000.00.00.H12"),
        ("year" = i32, Path, description = "The year", example = 2026),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
        ("X-Audit-Reason" = Option<String>, Header, description = "Why, for the audit trail"),
    ),
    responses(
        (status = 200, description = "The year as stored", body = YearCalendarView, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields, days outside the year, a day listed twice", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such province among the caller's units", body = Problem, content_type = PROBLEM),
        (status = 412, description = "The year changed since the ETag in If-Match", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["calendar:write"]))
)]
#[put("/calendars/{province}/{year}")]
pub async fn put_year(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(String, i32)>,
    body: ValidJson<YearCalendarInput>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::CalendarWrite)?;
    let expected = if_match(&req)?;
    let (province, year) = path.into_inner();
    check_year(year)?;
    let b = body.0;
    let mut weekdays = Vec::new();
    for (i, n) in b.weekdays.iter().enumerate() {
        let day = match n {
            1 => Weekday::Mon,
            2 => Weekday::Tue,
            3 => Weekday::Wed,
            4 => Weekday::Thu,
            5 => Weekday::Fri,
            6 => Weekday::Sat,
            7 => Weekday::Sun,
            _ => {
                return Err(ApiError::invalid(
                    format!("weekdays[{i}]"),
                    "must be 1 (Monday) to 7 (Sunday)",
                ));
            }
        };
        if weekdays.contains(&day) {
            return Err(ApiError::rule(format!("weekdays[{i}]"), "is listed twice"));
        }
        weekdays.push(day);
    }
    let calendar = YearCalendar {
        year,
        source: YearSource::Edited,
        rules: DayRules {
            weekdays,
            periods: b
                .periods
                .iter()
                .map(|p| Period {
                    start: p.start,
                    end: p.end,
                })
                .collect(),
            intake_cutoff: b.intake_cutoff,
        },
        days_off: b
            .days_off
            .into_iter()
            .map(|d| DayOff {
                date: d.date,
                name: d.name,
                kind: d.kind.into(),
            })
            .collect(),
        working_days: b
            .working_days
            .into_iter()
            .map(|d| MakeUpDay {
                date: d.date,
                name: d.name,
            })
            .collect(),
    };
    let (code, stored) = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            let p = store::province(conn, &scope, &province)?;
            let stored =
                store::put_year(conn, &principal.actor(), &p, calendar, expected.as_ref())?;
            Ok((p.code.clone(), stored))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(stored.version)))
        .json(year_view(code, stored)))
}

/// Query of the day list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// First day (default: 1 January of the year).
    pub from: Option<NaiveDate>,
    /// Last day (default: 31 December of the year).
    pub to: Option<NaiveDate>,
}

/// A day of a calendar.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"date": "2026-02-17", "kind": "holiday", "working": false, "name": "Tết Nguyên đán (mùng 1)"}))]
pub struct DayView {
    /// The date.
    pub date: NaiveDate,
    /// Its kind.
    pub kind: DayKindView,
    /// Whether it is worked.
    pub working: bool,
    /// The holiday's or swap's name.
    pub name: Option<String>,
}

/// The days of a calendar year.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"date": "2026-08-22", "kind": "makeUpWorking", "working": true, "name": "làm bù cho 31/8 (Quốc khánh)"}]}))]
pub struct DayList {
    /// The days, in order.
    pub items: Vec<DayView>,
}

/// List the days of a calendar year
///
/// Every day from `from` to `to` (within the year) with its kind. Public.
#[utoipa::path(
    tag = "calendar",
    params(
        ("province" = String, Path, description = "The province's unit code", example = "000.00.00.H12"),
        ("year" = i32, Path, description = "The year", example = 2026),
        DaysQuery,
    ),
    responses(
        (status = 200, description = "The days", body = DayList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such province", body = Problem, content_type = PROBLEM),
    ),
    security(())
)]
#[get("/calendars/{province}/{year}/days")]
pub async fn list_days(
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
    query: ValidQuery<DaysQuery>,
) -> Result<web::Json<DayList>, ApiError> {
    let (province, year) = path.into_inner();
    check_year(year)?;
    let first = NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| ApiError::invalid("year", "is not a year"))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31)
        .ok_or_else(|| ApiError::invalid("year", "is not a year"))?;
    let from = query.0.from.unwrap_or(first);
    let to = query.0.to.unwrap_or(last);
    let mut invalid = Vec::new();
    if from.year() != year {
        invalid.push(InvalidParam::new("from", format!("must be in {year}")));
    }
    if to.year() != year {
        invalid.push(InvalidParam::new("to", format!("must be in {year}")));
    } else if to < from {
        invalid.push(InvalidParam::new("to", "must not be before from"));
    }
    if !invalid.is_empty() {
        return Err(ApiError::rules(invalid));
    }
    let calendar = state
        .run(move |conn| {
            let p = store::province(conn, &UnitScope::All, &province)?;
            Ok(store::calendar_for(conn, Some(&p), year, year)?)
        })
        .await?;
    let items = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| {
            let info = calendar.day(d);
            DayView {
                date: d,
                kind: info.kind.into(),
                working: info.working,
                name: info.name,
            }
        })
        .collect();
    Ok(web::Json(DayList { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_count_to_the_second_towards_their_ten_years() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        // 3,654 pauses of a day less a second: each is 0 whole days, together 3,653.96 days.
        let nearly = |n: i64| -> Vec<_> {
            (0..n)
                .map(|i| {
                    let from = day + chrono::TimeDelta::days(i);
                    (from, from + chrono::TimeDelta::seconds(86_399))
                })
                .collect()
        };
        assert!(pauses_too_long(&nearly(3_654)));
        assert!(!pauses_too_long(&nearly(3_653)));
    }
}
