//! Reporting periods: a month, a quarter or a year, in Vietnam time.
//!
//! Scores and reports are computed per period. A period is written `2026-08` (a month),
//! `2026-Q3` (a quarter) or `2026` (a year), for years 2000 to 2100, and crosses the API as that
//! string.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first year a period may be in.
pub const MIN_YEAR: i32 = 2000;
/// The last year a period may be in.
pub const MAX_YEAR: i32 = 2100;
/// The most months a trend ([`Period::months_between`]) may span.
pub const MAX_TREND_MONTHS: usize = 120;

/// Vietnam's offset from UTC (UTC+7, no daylight saving).
const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// A reporting period.
///
/// The fields are in range (month 1–12, quarter 1–4, year 2000–2100) when the period comes from
/// [`Period::parse`], deserialization or the checked constructors; the date methods clamp
/// out-of-range fields into range rather than fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar month.
    Month {
        /// The year.
        year: i32,
        /// The month, 1 to 12.
        month: u32,
    },
    /// A calendar quarter.
    Quarter {
        /// The year.
        year: i32,
        /// The quarter, 1 to 4.
        quarter: u32,
    },
    /// A calendar year.
    Year(i32),
}

/// The first day of `month` of `year`, both assumed in range.
fn first_of(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

/// Midnight starting `day`, in Vietnam time.
fn vietnam_midnight(day: NaiveDate) -> DateTime<FixedOffset> {
    let local = day.and_time(NaiveTime::MIN);
    let utc = local - TimeDelta::seconds(i64::from(VIETNAM.local_minus_utc()));
    DateTime::from_naive_utc_and_offset(utc, VIETNAM)
}

fn check_year(year: i32) -> Result<i32, String> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(year)
    } else {
        Err(format!("the year must be from {MIN_YEAR} to {MAX_YEAR}"))
    }
}

fn parse_year(text: &str) -> Result<i32, String> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the year must have four digits".into());
    }
    text.parse::<i32>()
        .map_err(|_| "the year must have four digits".to_string())
        .and_then(check_year)
}

impl Period {
    /// The month `month` of `year`, when both are in range.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(Self::Month { year, month })
    }

    /// The quarter `quarter` of `year`, when both are in range.
    pub fn quarter(year: i32, quarter: u32) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=4).contains(&quarter))
            .then_some(Self::Quarter { year, quarter })
    }

    /// The year `year`, when in range.
    pub fn year(year: i32) -> Option<Self> {
        (MIN_YEAR..=MAX_YEAR)
            .contains(&year)
            .then_some(Self::Year(year))
    }

    /// Reads `2026-08` (a month, two-digit), `2026-Q3` or `2026-q3` (a quarter) or `2026`
    /// (a year); years 2000 to 2100. Anything else is refused with the reason.
    pub fn parse(text: &str) -> Result<Self, String> {
        const FORMS: &str = "a period is written 2026-08 (month), 2026-Q3 (quarter) or 2026 (year)";
        let Some((year, rest)) = text.split_once('-') else {
            return parse_year(text).map(Self::Year).map_err(|reason| {
                if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
                    reason
                } else {
                    FORMS.into()
                }
            });
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FORMS.into());
        }
        let year = parse_year(year)?;
        let bytes = rest.as_bytes();
        match bytes {
            [q, digit] if (*q == b'Q' || *q == b'q') && digit.is_ascii_digit() => {
                let quarter = u32::from(digit - b'0');
                Self::quarter(year, quarter).ok_or_else(|| "the quarter must be Q1 to Q4".into())
            }
            [tens, units] if tens.is_ascii_digit() && units.is_ascii_digit() => {
                let month = u32::from(tens - b'0') * 10 + u32::from(units - b'0');
                Self::month(year, month).ok_or_else(|| "the month must be 01 to 12".into())
            }
            _ => Err(FORMS.into()),
        }
    }

    /// The period with its fields clamped into range.
    fn clamped(self) -> Self {
        let y = |year: i32| year.clamp(MIN_YEAR, MAX_YEAR);
        match self {
            Self::Month { year, month } => Self::Month {
                year: y(year),
                month: month.clamp(1, 12),
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year: y(year),
                quarter: quarter.clamp(1, 4),
            },
            Self::Year(year) => Self::Year(y(year)),
        }
    }

    /// The period's year.
    pub fn year_of(self) -> i32 {
        match self {
            Self::Month { year, .. } | Self::Quarter { year, .. } | Self::Year(year) => year,
        }
    }

    /// The first day of the period.
    pub fn first_day(self) -> NaiveDate {
        match self.clamped() {
            Self::Month { year, month } => first_of(year, month),
            Self::Quarter { year, quarter } => first_of(year, 3 * quarter - 2),
            Self::Year(year) => first_of(year, 1),
        }
    }

    /// The first day after the period.
    fn first_day_after(self) -> NaiveDate {
        match self.clamped() {
            Self::Month { year, month: 12 }
            | Self::Quarter { year, quarter: 4 }
            | Self::Year(year) => first_of(year + 1, 1),
            Self::Month { year, month } => first_of(year, month + 1),
            Self::Quarter { year, quarter } => first_of(year, 3 * quarter + 1),
        }
    }

    /// The last day of the period.
    pub fn last_day(self) -> NaiveDate {
        let after = self.first_day_after();
        after.pred_opt().unwrap_or(after)
    }

    /// The first instant of the period, midnight in Vietnam time (UTC+7).
    pub fn start(self) -> DateTime<FixedOffset> {
        vietnam_midnight(self.first_day())
    }

    /// The end of the period, exclusive: the first instant of the next period, in Vietnam time
    /// (UTC+7).
    pub fn end(self) -> DateTime<FixedOffset> {
        vietnam_midnight(self.first_day_after())
    }

    /// The period of the same kind just before (`2026-01` → `2025-12`, `2026-Q1` → `2025-Q4`,
    /// `2026` → `2025`). Before January 2000 it leaves the range [`Period::parse`] accepts.
    pub fn previous(self) -> Self {
        match self.clamped() {
            Self::Month { year, month: 1 } => Self::Month {
                year: year - 1,
                month: 12,
            },
            Self::Month { year, month } => Self::Month {
                year,
                month: month - 1,
            },
            Self::Quarter { year, quarter: 1 } => Self::Quarter {
                year: year - 1,
                quarter: 4,
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year,
                quarter: quarter - 1,
            },
            Self::Year(year) => Self::Year(year - 1),
        }
    }

    /// Whether `day` falls in the period.
    pub fn contains(self, day: NaiveDate) -> bool {
        self.first_day() <= day && day <= self.last_day()
    }

    /// The months of the period, in order (one for a month, three for a quarter, twelve for a
    /// year).
    pub fn months(self) -> Vec<Self> {
        let (year, from, to) = match self.clamped() {
            Self::Month { year, month } => (year, month, month),
            Self::Quarter { year, quarter } => (year, 3 * quarter - 2, 3 * quarter),
            Self::Year(year) => (year, 1, 12),
        };
        (from..=to)
            .map(|month| Self::Month { year, month })
            .collect()
    }

    /// The months from `from` to `to`, both included, for a trend. Both must be months, `from`
    /// not after `to`, and at most [`MAX_TREND_MONTHS`] months in all; otherwise the reason.
    pub fn months_between(from: Self, to: Self) -> Result<Vec<Self>, String> {
        let index = |p: Self| match p.clamped() {
            Self::Month { year, month } => Ok(i64::from(year) * 12 + i64::from(month) - 1),
            other => Err(format!("a trend runs from month to month, not {other}")),
        };
        let (start, stop) = (index(from)?, index(to)?);
        if start > stop {
            return Err(format!("{from} is after {to}"));
        }
        let count = stop - start + 1;
        if count > MAX_TREND_MONTHS as i64 {
            return Err(format!(
                "a trend spans at most {MAX_TREND_MONTHS} months, not {count}"
            ));
        }
        Ok((start..=stop)
            .map(|i| Self::Month {
                // i is from years 2000..=2100 and so fits.
                year: i32::try_from(i.div_euclid(12)).unwrap_or(MAX_YEAR),
                month: u32::try_from(i.rem_euclid(12) + 1).unwrap_or(12),
            })
            .collect())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Self::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Self::Year(year) => write!(f, "{year:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Period {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A reporting period: a month (2026-08), a quarter (2026-Q3) or a year (2026), \
                 years 2000 to 2100, in Vietnam time.",
            ))
            .pattern(Some(r"^[0-9]{4}(-(0[1-9]|1[0-2])|-[Qq][1-4])?$"))
            .examples([serde_json::json!("2026-08")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Period {}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn parses_the_three_forms_and_prints_them_back() {
        assert_eq!(
            p("2026-08"),
            Period::Month {
                year: 2026,
                month: 8
            }
        );
        assert_eq!(
            p("2026-Q3"),
            Period::Quarter {
                year: 2026,
                quarter: 3
            }
        );
        assert_eq!(p("2026-q3"), p("2026-Q3"));
        assert_eq!(p("2026"), Period::Year(2026));
        assert_eq!(p("2026-08").to_string(), "2026-08");
        assert_eq!(p("2026-q3").to_string(), "2026-Q3");
        assert_eq!(p("2000").to_string(), "2000");
        assert_eq!(p("2100-12").to_string(), "2100-12");
        assert_eq!("2026-01".parse::<Period>(), Ok(p("2026-01")));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "2026-8",
            "2026-13",
            "2026-00",
            "2026-Q0",
            "2026-Q5",
            "2026-Q",
            "26-08",
            "1999",
            "2101",
            "2101-01",
            "2026-08-01",
            " 2026",
            "2026 ",
            "2026/08",
            "2026-M8",
            "+2026",
            "２０２６",
            "2026-Q12",
            "abcd",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            Period::parse("1999").unwrap_err(),
            "the year must be from 2000 to 2100"
        );
        assert_eq!(
            Period::parse("2026-13").unwrap_err(),
            "the month must be 01 to 12"
        );
        assert_eq!(
            Period::parse("2026-Q5").unwrap_err(),
            "the quarter must be Q1 to Q4"
        );
    }

    #[test]
    fn days_of_each_kind() {
        assert_eq!(p("2024-02").first_day(), d("2024-02-01"));
        assert_eq!(p("2024-02").last_day(), d("2024-02-29"), "leap year");
        assert_eq!(p("2026-02").last_day(), d("2026-02-28"));
        assert_eq!(p("2026-12").last_day(), d("2026-12-31"));
        assert_eq!(p("2026-Q3").first_day(), d("2026-07-01"));
        assert_eq!(p("2026-Q3").last_day(), d("2026-09-30"));
        assert_eq!(p("2026-Q4").last_day(), d("2026-12-31"));
        assert_eq!(p("2026").first_day(), d("2026-01-01"));
        assert_eq!(p("2026").last_day(), d("2026-12-31"));
        assert_eq!(p("2100-12").last_day(), d("2100-12-31"));
    }

    #[test]
    fn instants_are_in_vietnam_time_with_an_exclusive_end() {
        let m = p("2026-08");
        assert_eq!(m.start().to_rfc3339(), "2026-08-01T00:00:00+07:00");
        assert_eq!(m.end().to_rfc3339(), "2026-09-01T00:00:00+07:00");
        assert_eq!(
            m.start().naive_utc().to_string(),
            "2026-07-31 17:00:00",
            "midnight in Hà Nội is 17:00 UTC the day before"
        );
        assert_eq!(p("2026-Q4").end().to_rfc3339(), "2027-01-01T00:00:00+07:00");
        assert_eq!(p("2026").end(), p("2027").start());
        assert_eq!(p("2026-08").end(), p("2026-09").start());
    }

    #[test]
    fn previous_keeps_the_kind() {
        assert_eq!(p("2026-08").previous(), p("2026-07"));
        assert_eq!(p("2026-01").previous(), p("2025-12"));
        assert_eq!(p("2026-Q3").previous(), p("2026-Q2"));
        assert_eq!(p("2026-Q1").previous(), p("2025-Q4"));
        assert_eq!(p("2026").previous(), p("2025"));
    }

    #[test]
    fn contains_its_days_only() {
        let q = p("2026-Q3");
        assert!(q.contains(d("2026-07-01")));
        assert!(q.contains(d("2026-09-30")));
        assert!(!q.contains(d("2026-06-30")));
        assert!(!q.contains(d("2026-10-01")));
        assert!(p("2024-02").contains(d("2024-02-29")));
    }

    #[test]
    fn months_of_a_period() {
        assert_eq!(p("2026-08").months(), vec![p("2026-08")]);
        assert_eq!(
            p("2026-Q3").months(),
            vec![p("2026-07"), p("2026-08"), p("2026-09")]
        );
        let year = p("2026").months();
        assert_eq!(year.len(), 12);
        assert_eq!(year[0], p("2026-01"));
        assert_eq!(year[11], p("2026-12"));
    }

    #[test]
    fn months_between_for_a_trend() {
        assert_eq!(
            Period::months_between(p("2025-11"), p("2026-02")).unwrap(),
            vec![p("2025-11"), p("2025-12"), p("2026-01"), p("2026-02")]
        );
        assert_eq!(
            Period::months_between(p("2026-08"), p("2026-08")).unwrap(),
            vec![p("2026-08")]
        );
        let ten_years = Period::months_between(p("2016-09"), p("2026-08")).unwrap();
        assert_eq!(ten_years.len(), 120);
        assert_eq!(ten_years[119], p("2026-08"));
        assert_eq!(
            Period::months_between(p("2016-08"), p("2026-08")).unwrap_err(),
            "a trend spans at most 120 months, not 121"
        );
        assert_eq!(
            Period::months_between(p("2026-09"), p("2026-08")).unwrap_err(),
            "2026-09 is after 2026-08"
        );
        assert!(Period::months_between(p("2026-Q1"), p("2026-08")).is_err());
        assert!(Period::months_between(p("2025-08"), p("2026")).is_err());
    }

    #[test]
    fn crosses_serde_as_its_string() {
        assert_eq!(serde_json::to_string(&p("2026-Q3")).unwrap(), "\"2026-Q3\"");
        let back: Period = serde_json::from_str("\"2026-q3\"").unwrap();
        assert_eq!(back, p("2026-Q3"));
        let err = serde_json::from_str::<Period>("\"2026-13\"").unwrap_err();
        assert!(
            err.to_string().contains("the month must be 01 to 12"),
            "{err}"
        );
        assert!(serde_json::from_str::<Period>("202608").is_err());
    }

    #[test]
    fn checked_constructors() {
        assert_eq!(Period::month(2026, 8), Some(p("2026-08")));
        assert_eq!(Period::month(2026, 13), None);
        assert_eq!(Period::quarter(2026, 0), None);
        assert_eq!(Period::year(1999), None);
        assert_eq!(p("2026-Q3").year_of(), 2026);
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn openapi_schema_is_a_string_with_an_example() {
        let schema = serde_json::to_value(<Period as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["examples"][0], "2026-08");
        assert_eq!(<Period as utoipa::ToSchema>::name(), "Period");
    }
}
