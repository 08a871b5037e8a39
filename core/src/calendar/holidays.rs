//! Vietnam's days off for civil servants, per year: as announced (shipped data, 2020–2027) or,
//! for other years, computed from the Labour Code 2019 (art. 111–112) and the lunar calendar.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use serde::Deserialize;

use super::lunar;
use super::{DayOff, DayOffKind, DayRules, MakeUpDay, YearCalendar, YearSource};

/// The shipped data: `core/data/holidays_vn.json`, compiled from the government's announcements
/// with sources per year.
const SHIPPED_JSON: &str = include_str!("../../data/holidays_vn.json");

#[derive(Deserialize)]
struct Shipped {
    years: BTreeMap<String, ShippedYear>,
}

#[derive(Deserialize)]
struct ShippedYear {
    status: String,
    days_off: Vec<ShippedDay>,
    working_weekend_days: Vec<ShippedDay>,
}

#[derive(Deserialize)]
struct ShippedDay {
    date: NaiveDate,
    name: String,
    #[serde(default)]
    kind: Option<String>,
}

/// The shipped years, parsed once. A parse failure (a broken data file, caught by the tests)
/// leaves every year computed rather than stopping the service.
static SHIPPED: LazyLock<BTreeMap<i32, YearCalendar>> = LazyLock::new(|| {
    let Ok(data) = serde_json::from_str::<Shipped>(SHIPPED_JSON) else {
        return BTreeMap::new();
    };
    data.years
        .into_iter()
        .filter_map(|(year, y)| {
            let year: i32 = year.parse().ok()?;
            let days_off = y
                .days_off
                .into_iter()
                .map(|d| DayOff {
                    date: d.date,
                    kind: match d.kind.as_deref() {
                        Some("holiday_on_weekend") => DayOffKind::HolidayOnWeekend,
                        Some("compensatory") => DayOffKind::Compensatory,
                        Some("swapped") => DayOffKind::Swapped,
                        _ => DayOffKind::Holiday,
                    },
                    name: d.name,
                })
                .collect();
            let working_days = y
                .working_weekend_days
                .into_iter()
                .map(|d| MakeUpDay {
                    date: d.date,
                    name: d.name,
                })
                .collect();
            let source = if y.status == "announced" {
                YearSource::Announced
            } else {
                YearSource::Computed
            };
            Some((
                year,
                YearCalendar {
                    year,
                    source,
                    rules: DayRules::default(),
                    days_off,
                    working_days,
                },
            ))
        })
        .collect()
});

/// The years shipped with the service.
pub fn shipped_years() -> Vec<i32> {
    SHIPPED.keys().copied().collect()
}

/// The national calendar of `year`: the shipped one, or one computed by [`computed_year`].
pub fn default_year(year: i32) -> YearCalendar {
    SHIPPED
        .get(&year)
        .cloned()
        .unwrap_or_else(|| computed_year(year))
}

/// A year's days off computed from the Labour Code 2019: 1 January; Tết, the last day of the
/// lunar year and the first four of the new one; Hùng Kings' day; 30 April; 1 May; 2 September
/// and an adjacent day (1 September when the 2nd is a Tuesday, else the 3rd). A holiday falling
/// on a weekend gives a compensatory day off on the next working day (art. 111(3)). The
/// government decides the real distribution each year; these are marked `computed`.
pub fn computed_year(year: i32) -> YearCalendar {
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    let mut holidays: Vec<(NaiveDate, String)> = Vec::new();
    let mut push = |d: Option<NaiveDate>, name: &str| {
        if let Some(d) = d {
            holidays.push((d, name.to_owned()));
        }
    };
    push(date(1, 1), "Tết Dương lịch");
    if let Some(tet) = lunar::tet(year) {
        push(
            tet.checked_sub_signed(TimeDelta::days(1)),
            "Tết Nguyên đán (giao thừa)",
        );
        for (i, name) in ["mùng 1", "mùng 2", "mùng 3", "mùng 4"].iter().enumerate() {
            push(
                tet.checked_add_signed(TimeDelta::days(i as i64)),
                &format!("Tết Nguyên đán ({name})"),
            );
        }
    }
    push(
        lunar::hung_kings_day(year),
        "Giỗ Tổ Hùng Vương (10/3 âm lịch)",
    );
    push(date(4, 30), "Ngày Chiến thắng (30/4)");
    push(date(5, 1), "Ngày Quốc tế Lao động (1/5)");
    push(date(9, 2), "Quốc khánh (2/9)");
    if let Some(national_day) = date(9, 2) {
        let adjacent = if national_day.weekday() == Weekday::Tue {
            date(9, 1)
        } else {
            date(9, 3)
        };
        push(adjacent, "Quốc khánh (ngày liền kề)");
    }
    holidays.retain(|(d, _)| d.year() == year);
    holidays.sort();

    let weekend = |d: NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let is_holiday = |day: NaiveDate| holidays.iter().any(|(h, _)| *h == day);
    let mut days_off: Vec<DayOff> = Vec::new();
    let mut owed: Vec<String> = Vec::new();
    for (i, (d, name)) in holidays.iter().enumerate() {
        if weekend(*d) {
            days_off.push(DayOff {
                date: *d,
                name: name.clone(),
                kind: DayOffKind::HolidayOnWeekend,
            });
            owed.push(format!("Nghỉ bù {name}"));
        } else {
            days_off.push(DayOff {
                date: *d,
                name: name.clone(),
                kind: DayOffKind::Holiday,
            });
        }
        // Compensatory days follow the end of a run of days off (holidays and weekends).
        let mut next = d.succ_opt().unwrap_or(*d);
        while weekend(next) || is_holiday(next) {
            next = next.succ_opt().unwrap_or(next);
        }
        let run_goes_on = holidays.get(i + 1).is_some_and(|(h, _)| *h < next);
        if !run_goes_on {
            let mut day = next;
            for name in owed.drain(..) {
                while weekend(day) || is_holiday(day) {
                    day = day.succ_opt().unwrap_or(day);
                }
                if day.year() == year {
                    days_off.push(DayOff {
                        date: day,
                        name,
                        kind: DayOffKind::Compensatory,
                    });
                }
                day = day.succ_opt().unwrap_or(day);
            }
        }
    }
    days_off.sort_by_key(|d| d.date);
    YearCalendar {
        year,
        source: YearSource::Computed,
        rules: DayRules::default(),
        days_off,
        working_days: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn shipped_data_covers_2020_to_2027_and_is_valid() {
        assert_eq!(shipped_years(), (2020..=2027).collect::<Vec<_>>());
        for year in 2020..=2027 {
            let y = default_year(year);
            assert!(y.validate().is_ok(), "{year}: {:?}", y.validate());
        }
        let y2026 = default_year(2026);
        assert_eq!(y2026.source, YearSource::Announced);
        assert!(y2026.working_days.iter().any(|w| w.date == d("2026-08-22")));
        assert!(
            y2026
                .days_off
                .iter()
                .any(|o| o.date == d("2026-08-31") && o.kind == DayOffKind::Swapped)
        );
        assert_eq!(default_year(2027).source, YearSource::Computed);
    }

    #[test]
    fn computed_years_hold_every_statutory_holiday() {
        let y = computed_year(2030);
        assert_eq!(y.source, YearSource::Computed);
        assert!(y.validate().is_ok(), "{:?}", y.validate());
        let off: Vec<NaiveDate> = y.days_off.iter().map(|o| o.date).collect();
        // Tết 2030 is Saturday 2 February: 1 Feb (giao thừa) to 5 Feb, with 2 days owed.
        for day in [
            "2030-01-01",
            "2030-02-01",
            "2030-02-02",
            "2030-02-03",
            "2030-02-04",
            "2030-02-05",
            "2030-04-12",
            "2030-04-30",
            "2030-05-01",
            "2030-09-02",
            "2030-09-03",
        ] {
            assert!(off.contains(&d(day)), "{day} in {off:?}");
        }
        let compensatory: Vec<NaiveDate> = y
            .days_off
            .iter()
            .filter(|o| o.kind == DayOffKind::Compensatory)
            .map(|o| o.date)
            .collect();
        assert_eq!(compensatory, [d("2030-02-06"), d("2030-02-07")]);
    }
}
