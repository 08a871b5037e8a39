//! Worked examples on the 2026 calendar. The dossier: received Monday 2 March 2026 at 08:00
//! with 3 working days, due Thursday 5 March at 08:00.

use chrono::NaiveDateTime;

use super::*;
use crate::calendar::{Calendar, Measure, TimeLimit};

pub(super) fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

pub(super) fn ev(id: &str, status: Status, when: &str) -> Event {
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
fn a_dossier_is_judged_at_its_latest_event_within_the_clocks_slack_and_no_further() {
    let now = at("2026-03-04 10:00");
    let events = |finish: &str| with(received(), &[ev("f", Status::Finished, finish)]);
    assert_eq!(judged_at(&received(), now), now);
    assert_eq!(judged_at(&events("2026-03-04 09:00"), now), now);
    assert_eq!(
        judged_at(&events("2026-03-04 10:10"), now),
        at("2026-03-04 10:10"),
        "ten minutes ahead: a fast clock"
    );
    // Further ahead (a row stored before such instants were refused): not judged as happened.
    assert_eq!(judged_at(&events("2026-03-04 10:11"), now), now);
    assert_eq!(judged_at(&events("2099-03-04 10:00"), now), now);
}

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
fn one_unanswered_request_is_the_end_until_it_is_answered() {
    let waiting = with(
        received(),
        &[ev("s", Status::SupplementRequested, "2026-03-04 10:00")],
    );
    let c = timing(&waiting, DUE, "2026-03-31 17:00");
    // Its instant is the end (PORTAL_RULES 2.1), before the due day of 5 March: early.
    assert_eq!(c.end, Some(at("2026-03-04 10:00")));
    assert_eq!(c.timing, Timing::FinishedEarly);
    assert_eq!(c.late_from, None);
    // Requested after the due instant, it ends late.
    let late = with(
        received(),
        &[ev("s", Status::SupplementRequested, "2026-03-05 09:00")],
    );
    let c = timing(&late, DUE, "2026-03-31 17:00");
    assert_eq!(
        (c.end, c.timing),
        (Some(at("2026-03-05 09:00")), Timing::FinishedLate)
    );
    // Answered, the end is taken back and the clock runs on from the completion.
    let answered = with(
        received(),
        &[
            ev("s", Status::SupplementRequested, "2026-03-04 10:00"),
            ev("p", Status::Processing, "2026-03-09 10:00"),
        ],
    );
    let c = timing(&answered, DUE, "2026-03-31 17:00");
    assert_eq!(c.end, None);
    assert_eq!(c.timing, Timing::InProgressOverdue);
    // A second request, unanswered, is no end: late from it.
    let again = with(
        received(),
        &[
            ev("s1", Status::SupplementRequested, "2026-03-02 10:00"),
            ev("p1", Status::Processing, "2026-03-02 11:00"),
            ev("s2", Status::SupplementRequested, "2026-03-02 14:00"),
        ],
    );
    let c = timing(&again, DUE, "2026-03-31 17:00");
    assert_eq!(c.end, None);
    assert_eq!(c.late_from, Some(at("2026-03-02 14:00")));
}

#[test]
fn an_open_dossier_with_two_requests_is_late_from_the_second() {
    let open = with(
        received(),
        &[
            ev("s1", Status::SupplementRequested, "2026-03-02 10:00"),
            ev("p1", Status::Processing, "2026-03-02 11:00"),
            ev("s2", Status::SupplementRequested, "2026-03-02 14:00"),
        ],
    );
    let c = timing(&open, DUE, "2026-03-31 17:00");
    assert_eq!(c.timing, Timing::InProgressOverdue);
    assert_eq!(c.late_from, Some(at("2026-03-02 14:00")));
    assert_eq!(c.supplement_requests, 2);
}

#[test]
fn a_request_after_the_dossier_was_late_does_not_make_it_on_time_again() {
    // Due 5 March 08:00; overdue through March; a request on 2 April, completed 3 April.
    let history = with(
        received(),
        &[
            ev("s", Status::SupplementRequested, "2026-04-02 10:00"),
            ev("p", Status::Processing, "2026-04-03 10:00"),
        ],
    );
    let c = timing(&history, DUE, "2026-04-30 17:00");
    assert_eq!(c.late_from, Some(at("2026-03-05 08:00")));
    assert_eq!(c.timing, Timing::InProgressOverdue);
    // March judged from March's events alone says the same.
    let march = timing(&history, DUE, "2026-03-31 17:00");
    assert_eq!(march.late_from, c.late_from);
    assert_eq!(march.timing, Timing::InProgressOverdue);
}

#[test]
fn a_late_apology_does_not_count_and_an_early_one_reschedules_never_early() {
    // Issued on 6 March, after the due instant: ignored; finished 9 March: late.
    let mut late_apology = ev("a", Status::Processing, "2026-03-06 09:00");
    late_apology.new_due = Some(at("2026-03-20 08:00"));
    let events = with(
        received(),
        &[late_apology, ev("f", Status::Finished, "2026-03-09 10:00")],
    );
    let c = timing(&events, DUE, "2026-03-31 17:00");
    assert_eq!(c.timing, Timing::FinishedLate);
    assert!(!c.rescheduled);
    assert_eq!(c.late_from, Some(at("2026-03-05 08:00")));
    // Issued on 4 March, before the due instant: due 20 March; finished 9 March, days before
    // the new date, is on time (rescheduled), not early.
    let mut apology = ev("a", Status::Processing, "2026-03-04 09:00");
    apology.new_due = Some(at("2026-03-20 08:00"));
    let events = with(
        received(),
        &[apology, ev("f", Status::Finished, "2026-03-09 10:00")],
    );
    let c = timing(&events, DUE, "2026-03-31 17:00");
    assert_eq!(c.timing, Timing::FinishedOnTime);
    assert!(c.rescheduled);
    assert_eq!(c.late_from, None);
}

#[test]
fn a_request_ended_without_completion_forgives_nothing() {
    // Requested 4 March 10:00 (before the due instant), finished 9 March with no completion:
    // the clock ran all along, so the dossier is late (due 5 March 08:00).
    let events = with(
        received(),
        &[
            ev("s", Status::SupplementRequested, "2026-03-04 10:00"),
            ev("f", Status::Finished, "2026-03-09 10:00"),
        ],
    );
    let c = timing(&events, DUE, "2026-03-31 17:00");
    assert_eq!(c.supplement_seconds, 0);
    assert_eq!(c.timing, Timing::FinishedLate);
    // While it waited, it was paused, not late: periods judged then keep it in time.
    assert_eq!(c.late_from, None);
}

#[test]
fn a_dossier_refused_before_receipt_is_not_received() {
    let refused = vec![
        ev("n", Status::NewlyRegistered, "2026-03-02 08:00"),
        ev("r", Status::NotAccepted, "2026-03-02 09:00"),
    ];
    assert!(!timing(&refused, DUE, "2026-03-31 17:00").received);
    let refused_after = with(
        received(),
        &[ev("r", Status::NotAccepted, "2026-03-03 09:00")],
    );
    assert!(timing(&refused_after, DUE, "2026-03-31 17:00").received);
}

#[test]
fn with_neither_due_date_nor_limit_the_dossier_cannot_be_late_and_is_flagged() {
    let events = received();
    let input = TimingInput {
        received_at: at("2026-03-02 08:00"),
        due_at: None,
        limit: None,
        events: &events,
        at: at("2026-12-31 17:00"),
    };
    let c = classify(&cal(), &input);
    assert_eq!(
        (c.timing, c.late_from),
        (Timing::InProgressWithinTime, None)
    );
    let quality = QualityInput {
        events: &events,
        results: &[],
        component_hashes: &[],
        synced_at: None,
        synced_status: None,
        sync_error: None,
        standard_code: true,
        due_disagrees: false,
    };
    let flags: Vec<Flag> = derive(&cal(), &input, &quality)
        .flags
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(flags.contains(&Flag::NoTimeLimit) && flags.contains(&Flag::NoDueDate));
}

#[test]
fn late_from_agrees_with_judging_each_instant_from_its_own_past() {
    // Every prefix of a history, judged at its last instant, says "late" exactly when the full
    // history's late_from lies before that instant.
    let mut apology = ev("a", Status::Processing, "2026-03-06 09:00");
    apology.new_due = Some(at("2026-03-20 08:00"));
    let histories = [
        with(
            received(),
            &[
                ev("s", Status::SupplementRequested, "2026-03-04 10:00"),
                ev("p", Status::Processing, "2026-03-10 10:00"),
            ],
        ),
        with(
            received(),
            &[
                ev("s1", Status::SupplementRequested, "2026-03-03 10:00"),
                ev("p1", Status::Processing, "2026-03-03 15:00"),
                ev("s2", Status::SupplementRequested, "2026-03-04 09:00"),
            ],
        ),
        with(received(), &[apology]),
    ];
    for events in &histories {
        let full = timing(events, DUE, "2026-05-29 17:00");
        let mut instant = at("2026-03-02 09:00");
        while instant < at("2026-05-29 17:00") {
            let then = timing(events, DUE, &instant.format("%Y-%m-%d %H:%M").to_string());
            let late_then = then.timing == Timing::InProgressOverdue;
            let late_by_full = full.late_from.is_some_and(|l| l < instant);
            assert_eq!(late_then, late_by_full, "{events:?} at {instant}");
            instant += chrono::Duration::hours(7);
        }
    }
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
    // The commonest real gaps are kept (and flagged `missingSteps`): returned with no
    // finished step, and returned a moment before the finished step.
    let returned_unfinished = vec![
        ev("r", Status::Received, "2026-03-02 08:00"),
        ev("t", Status::Returned, "2026-03-03 08:00"),
    ];
    assert!(check_history(&returned_unfinished).is_ok());
    let returned_first = with(
        returned_unfinished.clone(),
        &[ev("f", Status::Finished, "2026-03-03 08:05")],
    );
    assert!(check_history(&returned_first).is_ok());
    let quality = |events: &[Event]| {
        quality_flags(&QualityInput {
            events,
            results: &[],
            component_hashes: &[],
            synced_at: None,
            synced_status: None,
            sync_error: None,
            standard_code: true,
            due_disagrees: false,
        })
    };
    for events in [&returned_unfinished, &returned_first] {
        let flags = quality(events);
        assert!(flags.iter().any(|f| f.0 == Flag::MissingSteps), "{flags:?}");
    }
    // Judged by the end rules: finished first, else returned.
    let c = timing(&returned_unfinished, DUE, "2026-03-31 17:00");
    assert_eq!(
        (c.end, c.timing),
        (Some(at("2026-03-03 08:00")), Timing::FinishedEarly)
    );
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
        size_bytes: Some(size),
        sha256: sha.into(),
        pages: None,
        signed: false,
        saved_to_citizen_store: false,
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

fn steps(events: &[Event]) -> Vec<intake::StoredStep> {
    events
        .iter()
        .map(|e| (e.id.clone(), e.status, e.at))
        .collect()
}

#[test]
fn a_push_of_an_earlier_history_is_an_older_state_arriving_late() {
    let stored = steps(&with(
        received(),
        &[ev("e3", Status::Finished, "2026-03-04 10:00")],
    ));
    // The retry of the push before the finish, landing after it.
    assert!(intake::is_older_state(&received(), &stored));
    assert!(intake::is_older_state(&received()[..1], &stored));
    assert!(intake::is_older_state(&[], &stored));
    // The same history again, or a longer one, is not older.
    assert!(!intake::is_older_state(
        &with(
            received(),
            &[ev("e3", Status::Finished, "2026-03-04 10:00")]
        ),
        &stored
    ));
    assert!(!intake::is_older_state(&received(), &steps(&received())));
    assert!(!intake::is_older_state(&[], &[]));
}

#[test]
fn a_push_that_lists_an_event_otherwise_or_drops_an_earlier_one_is_a_correction() {
    let stored = steps(&with(
        received(),
        &[ev("e3", Status::Finished, "2026-03-04 10:00")],
    ));
    // e2 moved to another instant: the vendor corrected its history.
    let moved = vec![
        ev("e1", Status::Received, "2026-03-02 08:00"),
        ev("e2", Status::Processing, "2026-03-02 09:30"),
    ];
    assert!(!intake::is_older_state(&moved, &stored));
    // e2 with another status.
    let other = vec![
        ev("e1", Status::Received, "2026-03-02 08:00"),
        ev("e2", Status::SupplementRequested, "2026-03-02 09:00"),
    ];
    assert!(!intake::is_older_state(&other, &stored));
    // e2 dropped while e3 is kept: not a state the dossier was ever in, so a correction.
    let dropped = vec![
        ev("e1", Status::Received, "2026-03-02 08:00"),
        ev("e3", Status::Finished, "2026-03-04 10:00"),
    ];
    assert!(!intake::is_older_state(&dropped, &stored));
    // An event the stored history lacks.
    let new = vec![
        ev("e1", Status::Received, "2026-03-02 08:00"),
        ev("x9", Status::Processing, "2026-03-02 09:00"),
    ];
    assert!(!intake::is_older_state(&new, &stored));
}

#[test]
fn events_of_the_last_pushed_instant_missing_from_the_push_still_make_it_older() {
    // Two events share the receipt instant; the push knew only the first.
    let stored = steps(&[
        ev("e0", Status::NewlyRegistered, "2026-03-02 08:00"),
        ev("e1", Status::Received, "2026-03-02 08:00"),
    ]);
    assert!(intake::is_older_state(
        &[ev("e0", Status::NewlyRegistered, "2026-03-02 08:00")],
        &stored
    ));
}

#[test]
fn instants_are_compared_to_the_microsecond() {
    let fine = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    let pushed = vec![Event::new(
        "e1",
        Status::Received,
        fine("2026-03-02 08:00:00.1234567"),
    )];
    let stored = vec![
        (
            "e1".to_owned(),
            Status::Received,
            fine("2026-03-02 08:00:00.123456"),
        ),
        (
            "e2".to_owned(),
            Status::Finished,
            fine("2026-03-04 10:00:00"),
        ),
    ];
    assert!(intake::is_older_state(&pushed, &stored));
    let moved = vec![Event::new(
        "e1",
        Status::Received,
        fine("2026-03-02 08:00:00.123457"),
    )];
    assert!(!intake::is_older_state(&moved, &stored));
}

#[test]
fn the_vendors_revision_instants_order_pushes_when_both_have_one() {
    let stored = steps(&with(
        received(),
        &[ev("e3", Status::Finished, "2026-03-04 10:00")],
    ));
    let (before, same, after) = (
        Some(at("2026-03-04 10:05")),
        Some(at("2026-03-04 11:00")),
        Some(at("2026-03-05 09:00")),
    );
    // A correction taking the finish back, revised after the stored record: stored.
    assert!(!intake::is_older_push(&received(), after, &stored, same));
    // A longer history revised before the stored record: older all the same.
    let longer = with(
        received(),
        &[
            ev("e3", Status::Finished, "2026-03-04 10:00"),
            ev("e4", Status::Returned, "2026-03-04 15:00"),
        ],
    );
    assert!(intake::is_older_push(&longer, before, &stored, same));
    // Revised later but without a step stored after its revision (added one by one since): it
    // could not have known of it, so it is older; nor does a push without events wipe them.
    let with_later_step = steps(&with(
        received(),
        &[ev("e3", Status::Finished, "2026-03-05 10:00")],
    ));
    assert!(intake::is_older_push(
        &received(),
        after,
        &with_later_step,
        same
    ));
    assert!(intake::is_older_push(&[], after, &stored, same));
    // The same revision, or one side without: the events decide.
    assert!(intake::is_older_push(&received(), same, &stored, same));
    assert!(intake::is_older_push(&received(), after, &stored, None));
    assert!(!intake::is_older_push(&longer, None, &stored, same));
}
