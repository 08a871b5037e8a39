//! The working-day calendar and due-date arithmetic.
//!
//! Every deadline of the domain is counted in working time of a province's calendar: weekly
//! working days, working hours, public holidays and the government's day swaps, in
//! Asia/Ho_Chi_Minh (UTC+7, no daylight saving). All functions here are pure.
//!
//! # The rules
//!
//! - **Working time** is the working hours (default 07:00–11:30 and 13:30–17:00) of working days:
//!   the weekly working days (Monday–Friday) that are not days off, plus the make-up working days
//!   (a Saturday worked in exchange for a Monday off).
//! - **Intake.** A dossier received on a working day before the intake cut-off (default 15:00)
//!   counts from the moment it is received (from the start of working hours if it came earlier,
//!   or from the next working period if it came in the lunch break). Received at or after the
//!   cut-off, or on a day that is not a working day, it counts from the start of the next working
//!   day.
//! - **Working hours**: the due instant is the earliest instant at which the given working time
//!   has passed since the start. A due instant can be the end of a working period (11:30, 17:00),
//!   never a moment outside working time.
//! - **Working days**: N working days are N times the working time of one day (8 hours by
//!   default) of the start's year, so a dossier received at 10:00 with 1 working day is due at
//!   10:00 on the next working day, and one received after the cut-off is due at the end of the
//!   N-th following working day.
//! - **Calendar days**: the due instant is the same local time N days after the start; when that
//!   day is not a working day, the time limit ends at the end of working hours of the next working
//!   day (Civil Code 2015, art. 148). Calendar-day amounts must be whole.
//! - **Rounding.** Amounts may have up to two decimals (half a working day); the working time
//!   they give is rounded to the nearest second. Instants are kept to the second.
//! - **Pauses** (supplement requests) push the due instant by the working time they cover.
//! - A due date once stored does not move when the calendar is edited: callers store the result.

mod holidays;
pub mod lunar;

use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone,
    Weekday,
};
use serde::{Deserialize, Serialize};

pub use holidays::{computed_year, default_year, shipped_years};

use crate::InvalidParam;

/// Seconds east of UTC of Asia/Ho_Chi_Minh.
pub const UTC_OFFSET_SECONDS: i32 = 7 * 3600;

/// Vietnam's time zone as a fixed offset.
pub fn vietnam_offset() -> FixedOffset {
    VIETNAM
}

// Checked at compile time: a constant that did not fit would not build.
const VIETNAM: FixedOffset = match FixedOffset::east_opt(UTC_OFFSET_SECONDS) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Local wall-clock time in Vietnam of an instant.
pub fn to_local<Tz: TimeZone>(instant: &DateTime<Tz>) -> NaiveDateTime {
    // chrono's `naive_local` panics past its last instant (year 262143); the API reads only
    // four-digit years, and this saturates rather than panic on any other caller's.
    instant
        .naive_utc()
        .checked_add_offset(vietnam_offset())
        .unwrap_or(NaiveDateTime::MAX)
}

/// The instant of a Vietnamese wall-clock time.
pub fn from_local(local: NaiveDateTime) -> DateTime<FixedOffset> {
    let offset = vietnam_offset();
    DateTime::from_naive_utc_and_offset(
        // Saturates at chrono's first instant rather than panic (as `to_local`).
        local
            .checked_sub_signed(TimeDelta::seconds(i64::from(UTC_OFFSET_SECONDS)))
            .unwrap_or(NaiveDateTime::MIN),
        offset,
    )
}

/// A working period of a day, e.g. 07:00–11:30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// When it starts.
    pub start: NaiveTime,
    /// When it ends (after `start`).
    pub end: NaiveTime,
}

impl Period {
    fn seconds(self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

/// How a province works: which weekdays, which hours, and the intake cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayRules {
    /// Working weekdays, Monday first.
    pub weekdays: Vec<Weekday>,
    /// Working periods of a working day, in order.
    pub periods: Vec<Period>,
    /// A dossier received at or after this time counts from the next working day.
    pub intake_cutoff: NaiveTime,
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Default for DayRules {
    fn default() -> Self {
        Self {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            periods: vec![
                Period {
                    start: time(7, 0),
                    end: time(11, 30),
                },
                Period {
                    start: time(13, 30),
                    end: time(17, 0),
                },
            ],
            intake_cutoff: time(15, 0),
        }
    }
}

impl DayRules {
    /// Working seconds of one working day.
    pub fn day_seconds(&self) -> i64 {
        self.periods.iter().map(|p| p.seconds()).sum()
    }

    /// Checks the rules: at least one weekday and one period, periods in order and apart.
    pub fn validate(&self) -> Result<(), Vec<InvalidParam>> {
        let mut invalid = Vec::new();
        if self.weekdays.is_empty() {
            invalid.push(InvalidParam::new(
                "weekdays",
                "at least one working weekday is needed",
            ));
        }
        if self.periods.is_empty() {
            invalid.push(InvalidParam::new(
                "periods",
                "at least one working period is needed",
            ));
        }
        for (i, p) in self.periods.iter().enumerate() {
            // Counted in whole seconds: half a second was a working day of none, every
            // deadline in working days due at once.
            if p.end - p.start < chrono::TimeDelta::minutes(1) {
                invalid.push(InvalidParam::new(
                    format!("periods[{i}].end"),
                    "must be at least a minute after start",
                ));
            }
            if i > 0 && p.start < self.periods[i - 1].end {
                invalid.push(InvalidParam::new(
                    format!("periods[{i}].start"),
                    "periods must be in order and must not overlap",
                ));
            }
        }
        if invalid.is_empty() {
            Ok(())
        } else {
            Err(invalid)
        }
    }
}

/// Why a day is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DayOffKind {
    /// A public holiday on a working weekday.
    Holiday,
    /// A public holiday on a weekend day (it gives a compensatory day).
    HolidayOnWeekend,
    /// A compensatory day off for a holiday on a weekend (nghỉ bù).
    Compensatory,
    /// A weekday off in a swap for a make-up working day (hoán đổi).
    Swapped,
}

/// A day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOff {
    /// The day.
    pub date: NaiveDate,
    /// Its name, e.g. "Tết Nguyên đán (mùng 1)".
    pub name: String,
    /// Why it is off.
    pub kind: DayOffKind,
}

/// A weekend day worked in exchange for a weekday off (ngày làm bù).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeUpDay {
    /// The day.
    pub date: NaiveDate,
    /// Its name, e.g. "làm bù cho 31/8".
    pub name: String,
}

/// Where a year's calendar comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum YearSource {
    /// As announced by the government (shipped data).
    Announced,
    /// Computed from the Labour Code and the lunar calendar; the government has not announced it.
    Computed,
    /// Edited by the province.
    Edited,
}

/// One year of a calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCalendar {
    /// The year.
    pub year: i32,
    /// Where it comes from.
    pub source: YearSource,
    /// Working weekdays, hours and cut-off.
    pub rules: DayRules,
    /// Days off (holidays on weekends included, for the record).
    pub days_off: Vec<DayOff>,
    /// Weekend days worked.
    pub working_days: Vec<MakeUpDay>,
}

impl YearCalendar {
    /// Checks the year: rules valid, every day in the year, no day both off and worked, none twice.
    pub fn validate(&self) -> Result<(), Vec<InvalidParam>> {
        let mut invalid = self.rules.validate().err().unwrap_or_default();
        let mut seen = HashMap::new();
        let dates = self
            .days_off
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("daysOff[{i}].date"), d.date));
        let worked = self
            .working_days
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("workingDays[{i}].date"), d.date));
        for (field, date) in dates.chain(worked) {
            if date.year() != self.year {
                invalid.push(InvalidParam::new(
                    field,
                    format!("{date} is not in {}", self.year),
                ));
            } else if let Some(other) = seen.insert(date, field.clone()) {
                invalid.push(InvalidParam::new(
                    field,
                    format!("{date} is listed already ({other})"),
                ));
            }
        }
        if invalid.is_empty() {
            Ok(())
        } else {
            Err(invalid)
        }
    }
}

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DayKind {
    /// A weekly working day.
    Working,
    /// A weekend day worked in a swap.
    MakeUpWorking,
    /// A weekly day off.
    Weekend,
    /// A public holiday.
    Holiday,
    /// A public holiday that falls on a weekend.
    HolidayOnWeekend,
    /// A compensatory day off.
    Compensatory,
    /// A weekday off in a swap.
    Swapped,
}

impl DayKind {
    /// Whether civil servants work that day.
    pub fn is_working(self) -> bool {
        matches!(self, Self::Working | Self::MakeUpWorking)
    }
}

impl From<DayOffKind> for DayKind {
    fn from(k: DayOffKind) -> Self {
        match k {
            DayOffKind::Holiday => Self::Holiday,
            DayOffKind::HolidayOnWeekend => Self::HolidayOnWeekend,
            DayOffKind::Compensatory => Self::Compensatory,
            DayOffKind::Swapped => Self::Swapped,
        }
    }
}

/// A date of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayInfo {
    /// The date.
    pub date: NaiveDate,
    /// Its kind.
    pub kind: DayKind,
    /// Whether it is worked.
    pub working: bool,
    /// The holiday's or swap's name, if any.
    pub name: Option<String>,
}

/// A time limit's unit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Measure {
    /// Working days (ngày làm việc).
    WorkingDays,
    /// Working hours (giờ làm việc).
    WorkingHours,
    /// Calendar days (ngày).
    CalendarDays,
}

/// The largest time limit accepted, in any measure: no procedure's time limit comes near it, and
/// it keeps a computation within a few years of the start.
pub const MAX_AMOUNT: f64 = 1000.0;

/// A time limit: an amount in hundredths, and its measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    /// The amount in hundredths of the measure (150 = 1.5 working days).
    pub hundredths: i64,
    /// The measure.
    pub measure: Measure,
}

impl TimeLimit {
    /// A time limit of `amount` (up to two decimals) `measure`s.
    pub fn new(amount: f64, measure: Measure) -> Result<Self, InvalidParam> {
        let hundredths = (amount * 100.0).round();
        if !amount.is_finite() || amount <= 0.0 || amount > MAX_AMOUNT {
            return Err(InvalidParam::new(
                "amount",
                format!("must be a number above 0 and at most {MAX_AMOUNT}"),
            ));
        }
        if (amount * 100.0 - hundredths).abs() > 1e-6 {
            return Err(InvalidParam::new("amount", "may have at most two decimals"));
        }
        // Above 0 but rounding to no hundredth (0.000000001 passed the check above): a limit
        // that allows no time at all.
        if hundredths < 1.0 {
            return Err(InvalidParam::new("amount", "must be at least 0.01"));
        }
        let hundredths = hundredths as i64;
        if measure == Measure::CalendarDays && hundredths % 100 != 0 {
            return Err(InvalidParam::new("amount", "calendar days must be whole"));
        }
        Ok(Self {
            hundredths,
            measure,
        })
    }
}

/// One step of a due date's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "step",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Step {
    /// Counting starts later than receipt.
    CountingStarts {
        /// When counting starts (local time).
        at: NaiveDateTime,
        /// Why.
        reason: String,
    },
    /// A day skipped because it is not worked.
    Skipped {
        /// The day.
        date: NaiveDate,
        /// Its kind.
        kind: DayKind,
        /// The holiday's name, if any.
        name: Option<String>,
    },
    /// A weekend day that counts because it is worked in a swap.
    WorkedWeekendDay {
        /// The day.
        date: NaiveDate,
        /// Its name.
        name: Option<String>,
    },
    /// A pause (supplement request) that pushes the due instant.
    Paused {
        /// Start of the pause (local time).
        from: NaiveDateTime,
        /// End of the pause (local time).
        to: NaiveDateTime,
        /// Working seconds it covers.
        working_seconds: i64,
    },
    /// The time limit ends on a day off and moves to the end of the next working day.
    MovedToWorkingDay {
        /// The day it ended on.
        from: NaiveDate,
        /// The working day it ends on instead.
        to: NaiveDate,
    },
}

/// A computed due instant and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The due instant (local time).
    pub due: NaiveDateTime,
    /// Working seconds from the start of counting to the due instant.
    pub working_seconds: i64,
    /// The steps: late starts, skipped days, pauses.
    pub explanation: Vec<Step>,
}

/// One compiled year: a flag per day and the year's rules.
#[derive(Debug, Clone)]
struct CompiledYear {
    first: NaiveDate,
    kinds: Vec<DayKind>,
    names: HashMap<NaiveDate, String>,
    rules: DayRules,
    source: YearSource,
}

impl CompiledYear {
    fn new(y: &YearCalendar) -> Self {
        let first = NaiveDate::from_ymd_opt(y.year, 1, 1).unwrap_or_default();
        let days = if NaiveDate::from_ymd_opt(y.year, 2, 29).is_some() {
            366
        } else {
            365
        };
        let mut kinds: Vec<DayKind> = (0..days)
            .map(|i| {
                let date = first + TimeDelta::days(i);
                if y.rules.weekdays.contains(&date.weekday()) {
                    DayKind::Working
                } else {
                    DayKind::Weekend
                }
            })
            .collect();
        let mut names = HashMap::new();
        let index = |d: NaiveDate| usize::try_from((d - first).num_days()).ok();
        for off in &y.days_off {
            if let Some(slot) = index(off.date).and_then(|i| kinds.get_mut(i)) {
                *slot = off.kind.into();
                names.insert(off.date, off.name.clone());
            }
        }
        for w in &y.working_days {
            if let Some(slot) = index(w.date).and_then(|i| kinds.get_mut(i)) {
                *slot = DayKind::MakeUpWorking;
                names.insert(w.date, w.name.clone());
            }
        }
        Self {
            first,
            kinds,
            names,
            rules: y.rules.clone(),
            source: y.source,
        }
    }

    fn kind(&self, date: NaiveDate) -> DayKind {
        usize::try_from((date - self.first).num_days())
            .ok()
            .and_then(|i| self.kinds.get(i).copied())
            .unwrap_or(DayKind::Weekend)
    }
}

/// A province's calendar over some years; years not given are the national default
/// ([`default_year`]).
#[derive(Debug, Clone)]
pub struct Calendar {
    // Consecutive years from `first_year`, so that finding a day's year is an index.
    first_year: i32,
    years: Vec<CompiledYear>,
}

/// How far a computation may walk before giving up: 400 years of days.
const MAX_DAYS_WALKED: i64 = 146_100;

impl Calendar {
    /// A calendar of the given years; other years follow the national default.
    pub fn new(years: impl IntoIterator<Item = YearCalendar>) -> Self {
        let given: HashMap<i32, YearCalendar> = years.into_iter().map(|y| (y.year, y)).collect();
        let (Some(&first_year), Some(&last_year)) = (given.keys().min(), given.keys().max()) else {
            return Self {
                first_year: 0,
                years: Vec::new(),
            };
        };
        let years = (first_year..=last_year)
            .map(|year| match given.get(&year) {
                Some(y) => CompiledYear::new(y),
                None => CompiledYear::new(&default_year(year)),
            })
            .collect();
        Self { first_year, years }
    }

    /// The national calendar, with the years `from..=to` compiled ahead.
    pub fn national(from: i32, to: i32) -> Self {
        Self::new((from..=to).map(default_year))
    }

    fn year(&self, year: i32) -> std::borrow::Cow<'_, CompiledYear> {
        let compiled = usize::try_from(year - self.first_year)
            .ok()
            .and_then(|i| self.years.get(i));
        match compiled {
            Some(y) => std::borrow::Cow::Borrowed(y),
            None => std::borrow::Cow::Owned(CompiledYear::new(&default_year(year))),
        }
    }

    /// Where a year's calendar comes from.
    pub fn source(&self, year: i32) -> YearSource {
        self.year(year).source
    }

    /// The rules (weekdays, hours, cut-off) in force in `year`.
    pub fn rules(&self, year: i32) -> DayRules {
        self.year(year).rules.clone()
    }

    /// What kind of day `date` is.
    pub fn day(&self, date: NaiveDate) -> DayInfo {
        let y = self.year(date.year());
        let kind = y.kind(date);
        DayInfo {
            date,
            kind,
            working: kind.is_working(),
            name: y.names.get(&date).cloned(),
        }
    }

    /// Whether `date` is worked.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.year(date.year()).kind(date).is_working()
    }

    /// The `n`-th working day after `date` (before it when `n` is negative); `date` itself when
    /// `n` is 0.
    pub fn shift_working_days(&self, date: NaiveDate, n: i64) -> NaiveDate {
        let mut is_working = self.walker();
        let mut day = date;
        let mut left = n.abs();
        let mut walked = 0;
        while left > 0 && walked < MAX_DAYS_WALKED {
            let next = if n > 0 {
                day.succ_opt()
            } else {
                day.pred_opt()
            };
            let Some(next) = next else { break };
            day = next;
            walked += 1;
            if is_working(day) {
                left -= 1;
            }
        }
        day
    }

    /// How many working days lie after `from` up to and including `to` (0 when `to` ≤ `from`).
    pub fn working_days_in(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut is_working = self.walker();
        let mut count = 0;
        let mut day = from;
        let last = to.min(from + TimeDelta::days(MAX_DAYS_WALKED));
        while day < last {
            let Some(next) = day.succ_opt() else { break };
            day = next;
            if is_working(day) {
                count += 1;
            }
        }
        count
    }

    /// [`Calendar::is_working_day`] for a walk over consecutive days: a year outside the
    /// compiled span is compiled once per walk, not once per day (a view dated 2000 of a
    /// deadline in 2026 walked 9,000 days, each compiling its year's holidays).
    fn walker(&self) -> impl FnMut(NaiveDate) -> bool + '_ {
        let mut current: Option<(i32, std::borrow::Cow<'_, CompiledYear>)> = None;
        move |day| {
            let year = day.year();
            if current.as_ref().is_none_or(|(y, _)| *y != year) {
                current = Some((year, self.year(year)));
            }
            current
                .as_ref()
                .is_some_and(|(_, compiled)| compiled.kind(day).is_working())
        }
    }

    /// The instant counting starts for something received at `received` (local time): see
    /// the module's intake rule. With the reason when it is later than receipt.
    pub fn intake_start(&self, received: NaiveDateTime) -> (NaiveDateTime, Option<String>) {
        let day = received.date();
        let y = self.year(day.year());
        let working = y.kind(day).is_working();
        if working && received.time() < y.rules.intake_cutoff {
            return (received, None);
        }
        let reason = if working {
            format!(
                "received at or after the intake cut-off ({})",
                y.rules.intake_cutoff.format("%H:%M")
            )
        } else {
            "received on a day that is not worked".to_owned()
        };
        let start = self.next_working_day_start(day);
        (start, Some(reason))
    }

    fn next_working_day_start(&self, after: NaiveDate) -> NaiveDateTime {
        let mut day = after;
        let mut y = self.year(day.year());
        for _ in 0..MAX_DAYS_WALKED {
            day = day.succ_opt().unwrap_or(day);
            if day.year() != y.first.year() {
                y = self.year(day.year());
            }
            if y.kind(day).is_working() {
                let start = y.rules.periods.first().map_or(NaiveTime::MIN, |p| p.start);
                return day.and_time(start);
            }
        }
        after.and_time(NaiveTime::MIN)
    }

    /// The earliest instant at or after `start` by which `seconds` of working time have passed.
    pub fn add_working_seconds(&self, start: NaiveDateTime, seconds: i64) -> NaiveDateTime {
        if seconds <= 0 {
            return start;
        }
        let mut left = seconds;
        let mut day = start.date();
        let mut from = start.time();
        let mut year = self.year(day.year());
        for _ in 0..MAX_DAYS_WALKED {
            if day.year() != year.first.year() {
                year = self.year(day.year());
            }
            if year.kind(day).is_working() {
                for p in &year.rules.periods {
                    if from >= p.end {
                        continue;
                    }
                    let begin = from.max(p.start);
                    let available = (p.end - begin).num_seconds();
                    if left <= available {
                        return day.and_time(begin) + TimeDelta::seconds(left);
                    }
                    left -= available;
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
            from = NaiveTime::MIN;
        }
        NaiveDateTime::MAX
    }

    /// Working seconds between two local instants (0 when `to` is not after `from`).
    pub fn working_seconds_between(&self, from: NaiveDateTime, to: NaiveDateTime) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = 0;
        let mut day = from.date();
        // A year outside the compiled span is compiled once per walk, not once per day (a
        // supplement pause from 2000 to now walked 9,000 days, each compiling its year).
        let mut y = self.year(day.year());
        for _ in 0..MAX_DAYS_WALKED {
            if day > to.date() {
                break;
            }
            if day.year() != y.first.year() {
                y = self.year(day.year());
            }
            if y.kind(day).is_working() {
                for p in &y.rules.periods {
                    let begin = if day == from.date() {
                        from.time().max(p.start)
                    } else {
                        p.start
                    };
                    let end = if day == to.date() {
                        to.time().min(p.end)
                    } else {
                        p.end
                    };
                    if end > begin {
                        total += (end - begin).num_seconds();
                    }
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        total
    }

    /// Working days (whole and fractional, as working time over the day's working time) and
    /// working seconds between two local instants.
    pub fn working_days_between(&self, from: NaiveDateTime, to: NaiveDateTime) -> f64 {
        let day = self.year(from.date().year()).rules.day_seconds().max(1);
        self.working_seconds_between(from, to) as f64 / day as f64
    }

    /// The due instant of `limit` for something received at `received` (local time), pushed by
    /// `pauses` (local intervals, e.g. supplement requests), with the explanation.
    pub fn due(
        &self,
        received: NaiveDateTime,
        limit: TimeLimit,
        pauses: &[(NaiveDateTime, NaiveDateTime)],
    ) -> Due {
        let mut explanation = Vec::new();
        let (start, late) = self.intake_start(received);
        if let Some(reason) = late {
            explanation.push(Step::CountingStarts { at: start, reason });
        }
        let requested = match limit.measure {
            Measure::WorkingHours => Some(limit.hundredths * 36),
            Measure::WorkingDays => {
                let day = self.year(start.date().year()).rules.day_seconds();
                // hundredths × day seconds / 100, rounded to the nearest second.
                i64::try_from((i128::from(limit.hundredths) * i128::from(day) + 50) / 100).ok()
            }
            Measure::CalendarDays => None,
        };
        let mut due = match limit.measure {
            Measure::WorkingHours | Measure::WorkingDays => {
                self.add_working_seconds(start, requested.unwrap_or(i64::MAX))
            }
            Measure::CalendarDays => {
                let end = start + TimeDelta::days(limit.hundredths / 100);
                if self.is_working_day(end.date()) {
                    end
                } else {
                    let next = self.next_working_day_start(end.date());
                    let close = self
                        .year(next.date().year())
                        .rules
                        .periods
                        .last()
                        .map_or(next.time(), |p| p.end);
                    explanation.push(Step::MovedToWorkingDay {
                        from: end.date(),
                        to: next.date(),
                    });
                    next.date().and_time(close)
                }
            }
        };
        let mut paused_total = 0;
        for (from, to) in merge(pauses) {
            let paused = self.working_seconds_between(from, to);
            explanation.push(Step::Paused {
                from,
                to,
                working_seconds: paused,
            });
            due = self.add_working_seconds(due, paused);
            paused_total += paused;
        }
        self.explain_days(start.date(), due.date(), &mut explanation);
        explanation.sort_by_key(step_date);
        let working_seconds = match (limit.measure, requested) {
            (Measure::CalendarDays, _) | (_, None) => self.working_seconds_between(start, due),
            (_, Some(requested)) => requested + paused_total,
        };
        Due {
            due,
            working_seconds,
            explanation,
        }
    }

    /// Adds the days from `first` to `last` that are not ordinary working days.
    fn explain_days(&self, first: NaiveDate, last: NaiveDate, explanation: &mut Vec<Step>) {
        let last = last.min(first + TimeDelta::days(MAX_DAYS_WALKED));
        let mut year = self.year(first.year());
        let mut day = first;
        while day <= last {
            if day.year() != year.first.year() {
                year = self.year(day.year());
            }
            match year.kind(day) {
                DayKind::Working => {}
                DayKind::MakeUpWorking => {
                    let name = year.names.get(&day).cloned();
                    explanation.push(Step::WorkedWeekendDay { date: day, name });
                }
                kind => {
                    let name = year.names.get(&day).cloned();
                    explanation.push(Step::Skipped {
                        date: day,
                        kind,
                        name,
                    });
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
    }
}

fn step_date(step: &Step) -> NaiveDate {
    match step {
        Step::CountingStarts { at, .. } => at.date(),
        Step::Skipped { date, .. } | Step::WorkedWeekendDay { date, .. } => *date,
        Step::Paused { from, .. } => from.date(),
        Step::MovedToWorkingDay { from, .. } => *from,
    }
}

/// Sorts intervals and merges overlapping ones, dropping empty ones.
fn merge(pauses: &[(NaiveDateTime, NaiveDateTime)]) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut sorted: Vec<_> = pauses.iter().copied().filter(|(a, b)| b > a).collect();
    sorted.sort();
    let mut merged: Vec<(NaiveDateTime, NaiveDateTime)> = Vec::new();
    for (a, b) in sorted {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

#[cfg(test)]
mod tests;
