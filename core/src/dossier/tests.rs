//! Worked examples on the 2026 calendar. The dossier: received Monday 2 March 2026 at 08:00
//! with 3 working days, due Thursday 5 March at 08:00.

use chrono::NaiveDateTime;

use super::*;
use crate::calendar::{Calendar, Measure, TimeLimit};

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn ev(id: &str, status: Status, when: &str) -> Event {
    Event {
        id: id.into(),
        status,
        at: at(when),
        new_due: None,
        actor: None,
        note: None,
        payload: None,
    }
}

fn cal() -> Calendar {
    Calendar::national(2025, 2027)
}

fn timing(events: &[Event], due: Option<&str>, judged: &str) -> Classification {
    classify(
        &cal(),
        &TimingInput {
            received_at: at("2026-03-02 08:00"),
            due_at: due.map(at),
            limit: TimeLimit::new(3.0, Measure::WorkingDays).ok(),
            events,
            at: at(judged),
        },
    )
}

fn received() -> Vec<Event> {
    vec![
        ev("e1", Status::Received, "2026-03-02 08:00"),
        ev("e2", Status::Processing, "2026-03-02 09:00"),
    ]
}

fn with(mut events: Vec<Event>, more: &[Event]) -> Vec<Event> {
    events.extend_from_slice(more);
    events
}

const DUE: Option<&str> = Some("2026-03-05 08:00");

#[test]
fn finished_dossiers_are_early_on_time_or_late() {
    let early = with(received(), &[ev("f", Status::Finished, "2026-03-04 10:00")]);
    assert_eq!(
        timing(&early, DUE, "2026-03-31 17:00").timing,
        Timing::FinishedEarly
    );
    let on_time = with(received(), &[ev("f", Status::Finished, "2026-03-05 07:30")]);
    assert_eq!(
        timing(&on_time, DUE, "2026-03-31 17:00").timing,
        Timing::FinishedOnTime
    );
    let late = with(received(), &[ev("f", Status::Finished, "2026-03-05 09:00")]);
    let c = timing(&late, DUE, "2026-03-31 17:00");
    assert_eq!(c.timing, Timing::FinishedLate);
    assert!(!c.timing.counts_on_time());
    // The finished event counts, not the later return.
    let returned_late = with(
        received(),
        &[
            ev("f", Status::Finished, "2026-03-04 10:00"),
            ev("r", Status::Returned, "2026-03-10 10:00"),
        ],
    );
    assert_eq!(
        timing(&returned_late, DUE, "2026-03-31 17:00").timing,
        Timing::FinishedEarly
    );
}

#[test]
fn unfinished_dossiers_are_judged_at_the_end_of_the_period() {
    assert_eq!(
        timing(&received(), DUE, "2026-03-04 17:00").timing,
        Timing::InProgressWithinTime
    );
    assert_eq!(
        timing(&received(), DUE, "2026-03-05 09:00").timing,
        Timing::InProgressOverdue
    );
    // A finish after the instant judged does not count yet.
    let later = with(received(), &[ev("f", Status::Finished, "2026-03-20 10:00")]);
    assert_eq!(
        timing(&later, DUE, "2026-03-04 17:00").timing,
        Timing::InProgressWithinTime
    );
}

#[test]
fn supplement_time_is_added_once_and_a_second_request_is_late() {
    let one = with(
        received(),
        &[
            ev("s", Status::SupplementRequested, "2026-03-03 10:00"),
            ev("p", Status::Processing, "2026-03-04 10:00"),
            ev("f", Status::Finished, "2026-03-06 07:59"),
        ],
    );
    let c = timing(&one, DUE, "2026-03-31 17:00");
    assert_eq!(c.supplement_seconds, 8 * 3600);
    assert_eq!(c.effective_due, Some(at("2026-03-06 08:00")));
    assert_eq!(c.timing, Timing::FinishedOnTime);

    let two = with(
        received(),
        &[
            ev("s1", Status::SupplementRequested, "2026-03-02 10:00"),
            ev("p1", Status::Processing, "2026-03-02 11:00"),
            ev("s2", Status::SupplementRequested, "2026-03-02 14:00"),
            ev("p2", Status::Processing, "2026-03-02 15:00"),
            ev("f", Status::Finished, "2026-03-03 10:00"),
        ],
    );
    let c = timing(&two, DUE, "2026-03-31 17:00");
    assert_eq!((c.timing, c.supplement_requests), (Timing::FinishedLate, 2));
}

#[test]
fn an_unanswered_request_ends_the_clock() {
    let waiting = with(
        received(),
        &[ev("s", Status::SupplementRequested, "2026-03-04 10:00")],
    );
    let c = timing(&waiting, DUE, "2026-03-31 17:00");
    assert_eq!(c.end, Some(at("2026-03-04 10:00")));
    assert_eq!(c.timing, Timing::FinishedEarly);
}

#[test]
fn an_apology_moves_the_due_date_once() {
    let mut apology = ev("a", Status::Processing, "2026-03-04 16:00");
    apology.new_due = Some(at("2026-03-10 08:00"));
    let mut second = ev("a2", Status::Processing, "2026-03-09 16:00");
    second.new_due = Some(at("2026-03-20 08:00"));
    let events = with(
        received(),
        &[
            apology,
            second,
            ev("f", Status::Finished, "2026-03-11 10:00"),
        ],
    );
    let c = timing(&events, DUE, "2026-03-31 17:00");
    assert_eq!(c.effective_due, Some(at("2026-03-10 08:00")));
    assert_eq!(c.timing, Timing::FinishedLate);
    assert!(c.steps.iter().any(|s| s.contains("second apology")));
}

#[test]
fn without_a_due_date_the_procedure_limit_decides() {
    let on_time = with(received(), &[ev("f", Status::Finished, "2026-03-05 08:00")]);
    assert_eq!(
        timing(&on_time, None, "2026-03-31 17:00").timing,
        Timing::FinishedOnTime
    );
    let late = with(received(), &[ev("f", Status::Finished, "2026-03-05 09:00")]);
    assert_eq!(
        timing(&late, None, "2026-03-31 17:00").timing,
        Timing::FinishedLate
    );
}

#[test]
fn histories_follow_the_transition_rules_in_instant_order() {
    // Events arriving out of order are read in instant order.
    let shuffled = vec![
        ev("f", Status::Finished, "2026-03-04 10:00"),
        ev("r", Status::Received, "2026-03-02 08:00"),
        ev("p", Status::Processing, "2026-03-03 08:00"),
    ];
    assert!(check_history(&shuffled).is_ok());
    assert_eq!(current_status(&shuffled), Some(Status::Finished));

    let received_after_returned = vec![
        ev("r", Status::Received, "2026-03-02 08:00"),
        ev("f", Status::Finished, "2026-03-03 08:00"),
        ev("t", Status::Returned, "2026-03-04 08:00"),
        ev("r2", Status::Received, "2026-03-05 08:00"),
    ];
    let err = check_history(&received_after_returned).unwrap_err();
    assert_eq!(err.event_id, "r2");
    assert!(
        err.reason.contains("received cannot follow returned"),
        "{}",
        err.reason
    );
    let returned_unfinished = vec![
        ev("r", Status::Received, "2026-03-02 08:00"),
        ev("t", Status::Returned, "2026-03-03 08:00"),
    ];
    assert!(check_history(&returned_unfinished).is_err());
}

#[test]
fn codes_are_read_when_standard() {
    let code = DossierCode::parse("H15.50.05.13-261008-0975").unwrap();
    let (unit, date, seq) = code.standard_parts().unwrap();
    assert_eq!(
        (unit, date.to_string().as_str(), seq),
        ("H15.50.05.13", "2026-10-08", 975)
    );
    assert!(
        DossierCode::parse("BTP-000123")
            .unwrap()
            .standard_parts()
            .is_none()
    );
    assert!(
        DossierCode::parse("H15-261308-0001")
            .unwrap()
            .standard_parts()
            .is_none(),
        "month 13"
    );
    assert!(DossierCode::parse("a b").is_err());
    for s in Status::ALL {
        assert_eq!(Status::from_code(s.code()), Some(s));
        assert_eq!(Status::parse(s.as_str()), Some(s));
    }
}

#[test]
fn quality_flags_name_every_problem() {
    let finished = with(received(), &[ev("f", Status::Finished, "2026-03-04 10:00")]);
    let doc = |name: &str, media: &str, size: i64, sha: &str| ResultDocument {
        name: name.into(),
        media_type: media.into(),
        size_bytes: size,
        sha256: sha.into(),
        pages: None,
        signed: false,
    };
    let base = QualityInput {
        events: &finished,
        results: &[],
        component_hashes: &[],
        synced_at: None,
        synced_status: None,
        sync_error: None,
        standard_code: true,
        due_disagrees: false,
    };
    let names = |input: &QualityInput<'_>| {
        quality_flags(input)
            .into_iter()
            .map(|(f, _)| f)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&base), [Flag::NoResultDocument, Flag::NeverSynced]);

    let results = [
        doc("ketqua.zip", "application/zip", 10, "aa"),
        doc("trang.pdf", "application/pdf", 0, "bb"),
        doc("cmnd.pdf", "application/pdf", 100, "CC"),
    ];
    let components = ["cc".to_owned()];
    let input = QualityInput {
        results: &results,
        component_hashes: &components,
        synced_at: Some(at("2026-03-03 10:00")),
        synced_status: Some(Status::Processing),
        ..base
    };
    assert_eq!(
        names(&input),
        [
            Flag::ArchiveResult,
            Flag::EmptyResult,
            Flag::ResultIsComponent,
            Flag::SyncBehind
        ]
    );

    // A failed attempt after the last success flags the dossier; an older failure does not.
    let failing = QualityInput {
        synced_at: Some(at("2026-03-04 11:00")),
        synced_status: Some(Status::Finished),
        sync_error: Some((at("2026-03-05 09:00"), "invalid MaHoSo")),
        results: &results[1..2],
        ..base
    };
    let flags = quality_flags(&failing);
    assert_eq!(
        flags.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
        [Flag::EmptyResult, Flag::SyncFailing]
    );
    assert!(flags[1].1.contains("invalid MaHoSo"), "{flags:?}");
    let recovered = QualityInput {
        sync_error: Some((at("2026-03-04 10:00"), "timeout")),
        ..failing
    };
    assert_eq!(names(&recovered), [Flag::EmptyResult]);
    let never_ok = QualityInput {
        synced_at: None,
        synced_status: None,
        ..failing
    };
    assert_eq!(
        names(&never_ok),
        [Flag::EmptyResult, Flag::NeverSynced, Flag::SyncFailing]
    );

    let no_receipt = vec![ev("f", Status::Finished, "2026-03-04 10:00")];
    let input = QualityInput {
        events: &no_receipt,
        results: &results[1..2],
        standard_code: false,
        due_disagrees: true,
        synced_at: Some(at("2026-03-04 11:00")),
        synced_status: Some(Status::Finished),
        ..base
    };
    assert_eq!(
        names(&input),
        [
            Flag::EmptyResult,
            Flag::MissingSteps,
            Flag::NonStandardCode,
            Flag::DueDateDisagrees
        ]
    );
}
