//! The Vietnamese lunar calendar (âm lịch), computed astronomically for UTC+7.
//!
//! This is Hồ Ngọc Đức's well-known algorithm (new moons after Jean Meeus, *Astronomical
//! Algorithms*): a lunar month starts on the day of the new moon in Vietnam's time zone, and the
//! 11th month is the one holding the winter solstice. It decides the dates of Lunar New Year
//! (Tết) and Hùng Kings' day for years whose holidays were not announced.

use std::f64::consts::PI;

use chrono::NaiveDate;

/// Vietnam's time zone, in hours east of UTC.
const TIME_ZONE: f64 = 7.0;

/// Julian day number of a proleptic Gregorian date.
fn julian_day(date: NaiveDate) -> i64 {
    // 2000-01-01 is Julian day 2451545.
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    2_451_545 + (date - epoch).num_days()
}

fn date_of_julian_day(jd: i64) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?;
    epoch.checked_add_signed(chrono::TimeDelta::days(jd - 2_451_545))
}

/// Julian day (fractional) of the `k`-th new moon after 1900-01-01.
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// The day (Julian day number, local time) of the `k`-th new moon.
fn new_moon_day(k: f64) -> i64 {
    (new_moon(k) + 0.5 + TIME_ZONE / 24.0).floor() as i64
}

/// The sun's longitude in radians at Julian day `jdn` (UTC).
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2_451_545.0) / 36_525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let mut dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin();
    dl += (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin() + 0.000_290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - PI * 2.0 * (l / (PI * 2.0)).floor()
}

/// Which twelfth of the ecliptic (0–11) the sun is in at the start of local day `day`.
fn sun_sector(day: i64) -> i64 {
    (sun_longitude(day as f64 - 0.5 - TIME_ZONE / 24.0) / PI * 6.0).floor() as i64
}

/// The first day of the 11th lunar month of solar year `year`.
fn lunar_month_11(year: i32) -> i64 {
    let dec31 = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let k = ((julian_day(dec31) - 2_415_021) as f64 / 29.530_588_853).floor();
    let nm = new_moon_day(k);
    if sun_sector(nm) >= 9 {
        new_moon_day(k - 1.0)
    } else {
        nm
    }
}

/// The offset from month 11 of the leap month in a lunar year of 13 months.
fn leap_month_offset(a11: i64) -> i64 {
    let k = ((a11 as f64 - 2_415_021.076_998_695) / 29.530_588_853 + 0.5).floor();
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i as f64));
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i as f64));
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

/// The solar date of day `day` of (non-leap) lunar month `month` of lunar year `year`.
pub fn lunar_to_solar(day: u32, month: u32, year: i32) -> Option<NaiveDate> {
    let month = i64::from(month);
    let (a11, b11) = if month < 11 {
        (lunar_month_11(year - 1), lunar_month_11(year))
    } else {
        (lunar_month_11(year), lunar_month_11(year + 1))
    };
    let k = (0.5 + (a11 as f64 - 2_415_021.076_998_695) / 29.530_588_853).floor();
    let mut off = month - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 && off >= leap_month_offset(a11) {
        off += 1;
    }
    let month_start = new_moon_day(k + off as f64);
    date_of_julian_day(month_start + i64::from(day) - 1)
}

/// Lunar New Year's day (mùng 1 Tết) of solar year `year`.
pub fn tet(year: i32) -> Option<NaiveDate> {
    lunar_to_solar(1, 1, year)
}

/// Hùng Kings' commemoration day (10th day of the 3rd lunar month) of solar year `year`.
pub fn hung_kings_day(year: i32) -> Option<NaiveDate> {
    lunar_to_solar(10, 3, year)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn tet_and_hung_kings_day_match_the_announced_years() {
        let known = [
            (2020, "2020-01-25", "2020-04-02"),
            (2021, "2021-02-12", "2021-04-21"),
            (2022, "2022-02-01", "2022-04-10"),
            (2023, "2023-01-22", "2023-04-29"),
            (2024, "2024-02-10", "2024-04-18"),
            (2025, "2025-01-29", "2025-04-07"),
            (2026, "2026-02-17", "2026-04-26"),
            (2027, "2027-02-06", "2027-04-16"),
            (2028, "2028-01-26", "2028-04-04"),
        ];
        for (year, tet_day, hung) in known {
            assert_eq!(tet(year), Some(d(tet_day)), "Tết {year}");
            assert_eq!(hung_kings_day(year), Some(d(hung)), "Hùng Kings {year}");
        }
    }

    #[test]
    fn vietnam_keeps_its_own_time_zone() {
        // The new moon of 2 February 2030 falls at 23:07 in Vietnam and 00:07 on the 3rd in
        // China: Tết is a day earlier in Vietnam than the Chinese New Year.
        assert_eq!(tet(2030), Some(d("2030-02-02")));
        // Likewise in 2007 (Vietnam 17 February, China 18 February).
        assert_eq!(tet(2007), Some(d("2007-02-17")));
    }
}
