//! Worked examples from the 2024–2026 calendars, and the properties of due-date arithmetic.

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

use super::*;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn national() -> Calendar {
    Calendar::national(2020, 2027)
}

fn due(received: &str, amount: f64, measure: Measure) -> Due {
    national().due(at(received), TimeLimit::new(amount, measure).unwrap(), &[])
}

fn skipped(d: &Due) -> Vec<NaiveDate> {
    d.explanation
        .iter()
        .filter_map(|s| match s {
            Step::Skipped { date, .. } => Some(*date),
            _ => None,
        })
        .collect()
}

#[test]
fn received_the_friday_before_tet_2026_counts_after_the_break() {
    let d = due("2026-02-13 10:00", 1.0, Measure::WorkingDays);
    assert_eq!(d.due, at("2026-02-23 10:00"));
    let days: Vec<NaiveDate> = (14..=22)
        .map(|day| NaiveDate::from_ymd_opt(2026, 2, day).unwrap())
        .collect();
    assert_eq!(skipped(&d), days);
    assert!(d.explanation.iter().any(|s| matches!(s,
        Step::Skipped { date: dd, kind: DayKind::Holiday, name: Some(n) } if *dd == date("2026-02-17") && n.contains("mùng 1"))));
    assert_eq!(
        due("2026-02-13 10:00", 3.0, Measure::WorkingDays).due,
        at("2026-02-25 10:00")
    );
}

#[test]
fn received_after_the_cutoff_before_tet_2024_counts_from_the_next_working_day() {
    // Tết 2024: Thursday 8 to Wednesday 14 February off.
    let d = due("2024-02-07 16:00", 1.0, Measure::WorkingDays);
    assert_eq!(d.due, at("2024-02-15 17:00"));
    assert!(
        matches!(&d.explanation[0], Step::CountingStarts { at: start, reason }
        if *start == at("2024-02-15 07:00") && reason.contains("cut-off"))
    );
    // Before the cut-off the same day, counting starts at receipt.
    assert_eq!(
        due("2024-02-07 14:59", 1.0, Measure::WorkingDays).due,
        at("2024-02-15 14:59")
    );
}

#[test]
fn received_after_the_cutoff_on_an_ordinary_day_2025() {
    let d = due("2025-03-04 15:30", 2.0, Measure::WorkingDays);
    assert_eq!(d.due, at("2025-03-06 17:00"));
    assert_eq!(d.working_seconds, 16 * 3600);
}

#[test]
fn the_30_april_1_may_break_of_2025_and_its_worked_saturday() {
    // 30/4 and 1/5 are holidays, Friday 2/5 is swapped for Saturday 26/4.
    let d = due("2025-04-29 09:00", 2.0, Measure::WorkingDays);
    assert_eq!(d.due, at("2025-05-06 09:00"));
    assert_eq!(
        skipped(&d),
        [
            date("2025-04-30"),
            date("2025-05-01"),
            date("2025-05-02"),
            date("2025-05-03"),
            date("2025-05-04")
        ]
    );
    let d = due("2025-04-25 14:00", 1.0, Measure::WorkingDays);
    assert_eq!(
        d.due,
        at("2025-04-26 14:00"),
        "Saturday 26 April 2025 is worked"
    );
    assert!(d.explanation.iter().any(
        |s| matches!(s, Step::WorkedWeekendDay { date: dd, .. } if *dd == date("2025-04-26"))
    ));
}

#[test]
fn the_2026_national_day_swap() {
    // Saturday 22 August worked, Monday 31 August off, 1–2 September holidays.
    assert_eq!(
        due("2026-08-21 10:00", 1.0, Measure::WorkingDays).due,
        at("2026-08-22 10:00")
    );
    let d = due("2026-08-28 10:00", 1.0, Measure::WorkingDays);
    assert_eq!(d.due, at("2026-09-03 10:00"));
    assert!(d.explanation.iter().any(|s| matches!(s,
        Step::Skipped { date: dd, kind: DayKind::Swapped, .. } if *dd == date("2026-08-31"))));
    assert!(national().is_working_day(date("2026-08-22")));
    assert!(!national().is_working_day(date("2026-08-31")));
}

#[test]
fn working_hours_skip_the_lunch_break_and_the_night() {
    assert_eq!(
        due("2026-03-02 10:00", 2.0, Measure::WorkingHours).due,
        at("2026-03-02 14:00")
    );
    assert_eq!(
        due("2026-03-02 14:30", 4.0, Measure::WorkingHours).due,
        at("2026-03-03 08:30")
    );
    // After the cut-off, the next working day's hours count from its start.
    assert_eq!(
        due("2026-03-02 16:00", 4.0, Measure::WorkingHours).due,
        at("2026-03-03 11:00")
    );
    // In the lunch break, counting starts at 13:30.
    assert_eq!(
        due("2026-03-02 12:00", 1.0, Measure::WorkingHours).due,
        at("2026-03-02 14:30")
    );
    // Half a working day is four hours.
    assert_eq!(
        due("2026-03-02 07:00", 0.5, Measure::WorkingDays).due,
        at("2026-03-02 11:00")
    );
}

#[test]
fn calendar_days_ending_on_a_day_off_move_to_the_end_of_the_next_working_day() {
    // Monday 27 April 2026 is the compensatory day for Hùng Kings' day.
    let d = due("2026-04-20 09:00", 7.0, Measure::CalendarDays);
    assert_eq!(d.due, at("2026-04-28 17:00"));
    assert!(
        d.explanation
            .iter()
            .any(|s| matches!(s, Step::MovedToWorkingDay { from, to }
        if *from == date("2026-04-27") && *to == date("2026-04-28")))
    );
    assert_eq!(
        due("2026-03-02 09:00", 3.0, Measure::CalendarDays).due,
        at("2026-03-05 09:00")
    );
    assert!(TimeLimit::new(1.5, Measure::CalendarDays).is_err());
    // Above zero but under a hundredth: no time at all (until 2026-12-07 it was taken as 0).
    let tiny = TimeLimit::new(0.000000001, Measure::WorkingDays).unwrap_err();
    assert_eq!(tiny.reason, "must be at least 0.01");
    assert!(TimeLimit::new(0.01, Measure::WorkingHours).is_ok());
}

#[test]
fn a_supplement_request_pushes_the_due_date_by_its_working_time() {
    let cal = national();
    let limit = TimeLimit::new(3.0, Measure::WorkingDays).unwrap();
    assert_eq!(
        cal.due(at("2026-03-02 08:00"), limit, &[]).due,
        at("2026-03-05 08:00")
    );
    let pause = (at("2026-03-03 10:00"), at("2026-03-04 10:00"));
    let d = cal.due(at("2026-03-02 08:00"), limit, &[pause]);
    assert_eq!(d.due, at("2026-03-06 08:00"));
    assert!(d.explanation.contains(&Step::Paused {
        from: pause.0,
        to: pause.1,
        working_seconds: 8 * 3600
    }));
    // Overlapping pauses count once.
    let overlapping = [pause, (at("2026-03-03 16:00"), at("2026-03-04 09:00"))];
    assert_eq!(
        cal.due(at("2026-03-02 08:00"), limit, &overlapping).due,
        at("2026-03-06 08:00")
    );
}

#[test]
fn years_without_announced_data_are_computed() {
    let cal = Calendar::national(2030, 2030);
    assert_eq!(cal.source(2030), YearSource::Computed);
    assert_eq!(
        cal.source(2026),
        YearSource::Announced,
        "a year not compiled ahead still resolves"
    );
    assert!(!cal.is_working_day(date("2030-02-04")), "Tết 2030");
    assert_eq!(cal.day(date("2030-02-04")).kind, DayKind::Holiday);
    assert_eq!(cal.day(date("2030-02-06")).kind, DayKind::Compensatory);
}

#[test]
fn edited_rules_change_hours_and_cutoff() {
    let mut year = default_year(2026);
    year.source = YearSource::Edited;
    year.rules.periods = vec![Period {
        start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
    }];
    year.rules.intake_cutoff = NaiveTime::from_hms_opt(11, 0, 0).unwrap();
    let cal = Calendar::new([year]);
    let limit = TimeLimit::new(1.0, Measure::WorkingDays).unwrap();
    assert_eq!(
        cal.due(at("2026-03-02 09:00"), limit, &[]).due,
        at("2026-03-03 09:00")
    );
    assert_eq!(
        cal.due(at("2026-03-02 11:15"), limit, &[]).due,
        at("2026-03-03 12:00")
    );
    let bad = DayRules {
        periods: vec![],
        ..DayRules::default()
    };
    assert!(bad.validate().is_err());
    // A period of half a second is a working day of none.
    let start = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
    let instant = DayRules {
        periods: vec![Period {
            start,
            end: start + chrono::TimeDelta::milliseconds(500),
        }],
        ..DayRules::default()
    };
    let refused = instant.validate().unwrap_err();
    assert_eq!(refused[0].name, "periods[0].end");
    let minute = DayRules {
        periods: vec![Period {
            start,
            end: start + chrono::TimeDelta::minutes(1),
        }],
        ..DayRules::default()
    };
    assert!(minute.validate().is_ok());
}

#[test]
fn walks_past_the_compiled_years_agree_with_a_calendar_that_spans_them() {
    // A view as of 2000 of a deadline in 2026, on a calendar compiled for 2026 only: the years
    // outside are the national defaults, as a calendar compiled for all of them has them.
    let narrow = Calendar::national(2026, 2026);
    let wide = Calendar::national(2000, 2027);
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let days = wide.working_days_in(from, to);
    assert_eq!(narrow.working_days_in(from, to), days);
    // About 250 working days a year over 27 years.
    assert!((6_500..7_000).contains(&days), "{days}");
    assert_eq!(
        narrow.shift_working_days(from, days),
        wide.shift_working_days(from, days)
    );
    assert_eq!(
        narrow.shift_working_days(to, -days),
        wide.shift_working_days(to, -days)
    );
}

#[test]
fn working_time_between_two_instants() {
    let cal = national();
    assert_eq!(
        cal.working_seconds_between(at("2026-03-02 07:00"), at("2026-03-06 17:00")),
        5 * 8 * 3600
    );
    assert_eq!(
        cal.working_seconds_between(at("2026-02-13 07:00"), at("2026-02-23 07:00")),
        8 * 3600
    );
    assert_eq!(
        cal.working_seconds_between(at("2026-03-02 12:00"), at("2026-03-02 13:00")),
        0
    );
    assert!(
        (cal.working_days_between(at("2026-03-02 07:00"), at("2026-03-02 11:00")) - 0.5).abs()
            < 1e-9
    );
}

fn any_instant() -> impl Strategy<Value = NaiveDateTime> {
    // 2020-01-01 to 2027-06-30, to the minute.
    (0i64..(7 * 365 + 180) * 24 * 60).prop_map(|m| at("2020-01-01 00:00") + TimeDelta::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_due_instant_is_never_in_non_working_time(start in any_instant(), secs in 1i64..200 * 3600) {
        let cal = national();
        let due = cal.add_working_seconds(start, secs);
        prop_assert!(cal.is_working_day(due.date()), "{due}");
        let rules = cal.rules(due.date().year());
        prop_assert!(rules.periods.iter().any(|p| due.time() > p.start && due.time() <= p.end), "{due}");
    }

    #[test]
    fn adding_a_then_b_equals_adding_a_plus_b(start in any_instant(), a in 0i64..100 * 3600, b in 0i64..100 * 3600) {
        let cal = national();
        prop_assert_eq!(cal.add_working_seconds(cal.add_working_seconds(start, a), b), cal.add_working_seconds(start, a + b));
    }

    #[test]
    fn working_time_up_to_the_due_instant_is_the_amount(start in any_instant(), secs in 0i64..300 * 3600) {
        let cal = national();
        prop_assert_eq!(cal.working_seconds_between(start, cal.add_working_seconds(start, secs)), secs);
    }

    #[test]
    fn more_time_never_gives_an_earlier_date(start in any_instant(), a in 0i64..100 * 3600, extra in 0i64..100 * 3600) {
        let cal = national();
        prop_assert!(cal.add_working_seconds(start, a) <= cal.add_working_seconds(start, a + extra));
    }

    #[test]
    fn due_dates_in_working_days_are_monotone_and_never_before_receipt(start in any_instant(), n in 1u32..60) {
        let cal = national();
        let one = cal.due(start, TimeLimit::new(f64::from(n), Measure::WorkingDays).unwrap(), &[]);
        let more = cal.due(start, TimeLimit::new(f64::from(n + 1), Measure::WorkingDays).unwrap(), &[]);
        prop_assert!(one.due > start);
        prop_assert!(more.due > one.due);
        prop_assert_eq!(one.working_seconds, i64::from(n) * 8 * 3600);
    }
}
