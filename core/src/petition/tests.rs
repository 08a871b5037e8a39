//! Worked examples on the 2026 calendar (no holidays in March). The petition is received on
//! Monday 2 March 2026 at 08:00, so with the default rules: a refusal is due Wednesday 4 March
//! 08:00 (2 working days), an information request Monday 9 March 08:00 (5), the handling Monday
//! 23 March 08:00 (15: 3–6, 9–13, 16–20, 23 March).

use chrono::NaiveDateTime;

use super::*;
use crate::calendar::Calendar;

pub(super) fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

pub(super) fn ev(id: &str, status: Status, when: &str) -> Event {
    Event {
        id: id.into(),
        status,
        at: at(when),
        actor: None,
        note: None,
    }
}

fn judge(events: &[Event], judged: &str) -> Stages {
    stages(
        &Calendar::national(2025, 2027),
        &PetitionRules::default(),
        at("2026-03-02 08:00"),
        events,
        at(judged),
    )
}

fn stage(s: &Stages, which: Stage) -> &StageTiming {
    s.stages.iter().find(|t| t.stage == which).unwrap()
}

#[test]
fn handled_and_published_on_time() {
    let s = judge(
        &[
            ev("1", Status::Received, "2026-03-02 08:00"),
            ev("3", Status::Published, "2026-03-23 09:00"),
            ev("2", Status::Handled, "2026-03-20 10:00"),
        ],
        "2026-04-01 00:00",
    );
    let handling = stage(&s, Stage::Handling);
    assert_eq!(handling.due_at, Some(at("2026-03-23 08:00")));
    assert_eq!(handling.state, StageState::DoneOnTime);
    // Two working days after the handling on Friday 20 March 10:00: Tuesday 24 March 10:00.
    let publication = stage(&s, Stage::Publication);
    assert_eq!(publication.due_at, Some(at("2026-03-24 10:00")));
    assert_eq!(publication.state, StageState::DoneOnTime);
    assert_eq!(s.stages.len(), 2);
    assert_eq!(s.timing, Timing::EndedOnTime);
    assert_eq!(s.ended_at, Some(at("2026-03-23 09:00")));
    assert_eq!(s.handled_at, Some(at("2026-03-20 10:00")));
    assert_eq!(s.late_from, None);
}

#[test]
fn handled_late_ends_late_from_the_missed_deadline() {
    let s = judge(
        &[
            ev("2", Status::Handled, "2026-03-24 08:00"),
            ev("3", Status::Published, "2026-03-24 09:00"),
        ],
        "2026-04-01 00:00",
    );
    assert_eq!(stage(&s, Stage::Handling).state, StageState::DoneLate);
    assert_eq!(stage(&s, Stage::Publication).state, StageState::DoneOnTime);
    assert_eq!(s.timing, Timing::EndedLate);
    assert_eq!(s.late_from, Some(at("2026-03-23 08:00")));
}

#[test]
fn late_publication_makes_the_petition_late() {
    // Handled Friday 20 March 10:00, published Wednesday 25 March: after Tuesday 24 March 10:00.
    let s = judge(
        &[
            ev("2", Status::Handled, "2026-03-20 10:00"),
            ev("3", Status::Published, "2026-03-25 08:00"),
        ],
        "2026-04-01 00:00",
    );
    assert_eq!(stage(&s, Stage::Publication).state, StageState::DoneLate);
    assert_eq!(s.timing, Timing::EndedLate);
    assert_eq!(s.late_from, Some(at("2026-03-24 10:00")));
}

#[test]
fn information_time_pushes_the_handling_deadline() {
    // Asked Tuesday 3 March 08:00, answered Thursday 5 March 08:00: two working days paused.
    let s = judge(
        &[
            ev("1", Status::InfoRequested, "2026-03-03 08:00"),
            ev("2", Status::InfoProvided, "2026-03-05 08:00"),
            ev("3", Status::Handled, "2026-03-24 16:00"),
        ],
        "2026-03-24 17:00",
    );
    let request = stage(&s, Stage::InfoRequest);
    assert_eq!(request.due_at, Some(at("2026-03-09 08:00")));
    assert_eq!(request.state, StageState::DoneOnTime);
    assert_eq!(s.paused_seconds, 2 * 8 * 3600);
    let handling = stage(&s, Stage::Handling);
    assert_eq!(handling.due_at, Some(at("2026-03-25 08:00")));
    assert_eq!(handling.state, StageState::DoneOnTime);
    // Handled at 16:00, after the 15:00 intake cut-off: counting starts on Wednesday 25 March,
    // so the answer is due by the end of Thursday 26 March. Open until it is published.
    assert_eq!(s.timing, Timing::OpenWithinTime);
    assert_eq!(s.late_from, Some(at("2026-03-26 17:00")));
}

#[test]
fn an_unanswered_request_stops_the_clock() {
    let s = judge(
        &[ev("1", Status::InfoRequested, "2026-03-03 08:00")],
        "2026-06-30 00:00",
    );
    let handling = stage(&s, Stage::Handling);
    assert_eq!(handling.state, StageState::Paused);
    assert_eq!(handling.due_at, None);
    assert_eq!(s.timing, Timing::OpenWithinTime);
    assert_eq!(s.late_from, None);
}

#[test]
fn a_request_after_the_handling_deadline_stops_no_clock() {
    // Asked 3 March, answered 5 March: handling due Wednesday 25 March 08:00. Asked again on
    // Friday 10 April, past that deadline: the petition stays overdue from 25 March, answered or
    // not, and its deadline does not move.
    let first = [
        ev("1", Status::InfoRequested, "2026-03-03 08:00"),
        ev("2", Status::InfoProvided, "2026-03-05 08:00"),
        ev("3", Status::InfoRequested, "2026-04-10 08:00"),
    ];
    let open = judge(&first, "2026-04-20 08:00");
    let handling = stage(&open, Stage::Handling);
    assert_eq!(handling.due_at, Some(at("2026-03-25 08:00")));
    assert_eq!(handling.state, StageState::Overdue);
    assert_eq!(open.timing, Timing::OpenOverdue);
    assert_eq!(open.late_from, Some(at("2026-03-25 08:00")));
    assert_eq!(open.paused_seconds, 2 * 8 * 3600);
    let mut answered = first.to_vec();
    answered.push(ev("4", Status::InfoProvided, "2026-04-17 08:00"));
    answered.push(ev("5", Status::Handled, "2026-04-20 08:00"));
    let done = judge(&answered, "2026-04-21 08:00");
    assert_eq!(
        stage(&done, Stage::Handling).due_at,
        Some(at("2026-03-25 08:00"))
    );
    assert_eq!(stage(&done, Stage::Handling).state, StageState::DoneLate);
    // A second request before the deadline still pauses it.
    let early = judge(
        &[
            ev("1", Status::InfoRequested, "2026-03-03 08:00"),
            ev("2", Status::InfoProvided, "2026-03-05 08:00"),
            ev("3", Status::InfoRequested, "2026-03-10 08:00"),
        ],
        "2026-04-20 08:00",
    );
    assert_eq!(stage(&early, Stage::Handling).state, StageState::Paused);
}

#[test]
fn a_late_information_request_is_late() {
    let s = judge(
        &[
            ev("1", Status::InfoRequested, "2026-03-10 08:00"),
            ev("2", Status::InfoProvided, "2026-03-11 08:00"),
        ],
        "2026-03-12 08:00",
    );
    assert_eq!(stage(&s, Stage::InfoRequest).state, StageState::DoneLate);
    assert_eq!(s.timing, Timing::OpenOverdue);
    assert_eq!(s.late_from, Some(at("2026-03-09 08:00")));
}

#[test]
fn refusal_has_its_own_deadline_and_ends_the_petition() {
    let on_time = judge(
        &[ev("1", Status::Refused, "2026-03-04 08:00")],
        "2026-04-01 00:00",
    );
    assert_eq!(on_time.stages.len(), 1);
    assert_eq!(on_time.stages[0].stage, Stage::Refusal);
    assert_eq!(on_time.stages[0].due_at, Some(at("2026-03-04 08:00")));
    assert_eq!(on_time.timing, Timing::EndedOnTime);
    let late = judge(
        &[ev("1", Status::Refused, "2026-03-04 09:00")],
        "2026-04-01 00:00",
    );
    assert_eq!(late.timing, Timing::EndedLate);
    assert_eq!(late.ended_at, Some(at("2026-03-04 09:00")));
}

#[test]
fn an_open_petition_turns_overdue_after_its_deadline() {
    let before = judge(&[], "2026-03-23 08:00");
    assert_eq!(stage(&before, Stage::Handling).state, StageState::Pending);
    assert_eq!(before.timing, Timing::OpenWithinTime);
    assert_eq!(before.late_from, Some(at("2026-03-23 08:00")));
    let after = judge(&[], "2026-03-23 08:01");
    assert_eq!(stage(&after, Stage::Handling).state, StageState::Overdue);
    assert_eq!(after.timing, Timing::OpenOverdue);
}

#[test]
fn events_after_the_instant_judged_are_ignored() {
    let s = judge(
        &[ev("2", Status::Handled, "2026-03-20 10:00")],
        "2026-03-20 09:00",
    );
    assert_eq!(s.handled_at, None);
    assert_eq!(stage(&s, Stage::Handling).state, StageState::Pending);
}

#[test]
fn withdrawn_is_not_judged() {
    let s = judge(
        &[ev("1", Status::Withdrawn, "2026-03-30 08:00")],
        "2026-04-01 00:00",
    );
    assert_eq!(s.timing, Timing::Withdrawn);
    assert_eq!(s.late_from, None);
    assert!(s.stages.is_empty());
}

#[test]
fn history_rules() {
    let received = at("2026-03-02 08:00");
    assert!(
        check_history(
            received,
            &[
                ev("a", Status::Handled, "2026-03-10 08:00"),
                ev("b", Status::Published, "2026-03-11 08:00"),
            ]
        )
        .is_ok()
    );
    let err = check_history(
        received,
        &[
            ev("b", Status::Published, "2026-03-11 08:00"),
            ev("a", Status::Refused, "2026-03-03 08:00"),
        ],
    )
    .unwrap_err();
    assert_eq!(err.event_id, "b");
    assert!(
        err.reason.contains("published cannot follow refused"),
        "{}",
        err.reason
    );
    let early =
        check_history(received, &[ev("x", Status::Handled, "2026-03-01 08:00")]).unwrap_err();
    assert!(
        early.reason.contains("before the receipt"),
        "{}",
        early.reason
    );
    assert_eq!(current_status(&[]), Status::Received);
}

#[test]
fn events_of_one_instant_read_in_handling_order() {
    let same = "2026-03-20 10:00";
    let events = [
        ev("b", Status::Published, same),
        ev("a", Status::Handled, same),
    ];
    assert!(check_history(at("2026-03-02 08:00"), &events).is_ok());
    assert_eq!(current_status(&events), Status::Published);
    let s = judge(&events, "2026-04-01 00:00");
    assert_eq!(s.timing, Timing::EndedOnTime);
}

#[test]
fn a_publication_alone_means_handled_by_then() {
    let s = judge(
        &[ev("1", Status::Published, "2026-03-20 10:00")],
        "2026-04-01 00:00",
    );
    assert_eq!(s.handled_at, Some(at("2026-03-20 10:00")));
    assert_eq!(s.ended_at, Some(at("2026-03-20 10:00")));
    assert_eq!(s.timing, Timing::EndedOnTime);
}

#[test]
fn rules_are_checked() {
    assert!(PetitionRules::default().validate().is_ok());
    let bad = PetitionRules {
        refuse_within: 0,
        request_info_within: 5,
        handle_within: 400,
        publish_within: 2,
    }
    .validate()
    .unwrap_err();
    let names: Vec<&str> = bad.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["refuseWithin", "handleWithin"]);
}

#[test]
fn codes() {
    assert_eq!(
        PetitionCode::parse("PAKN-2026-0001").unwrap().as_str(),
        "PAKN-2026-0001"
    );
    assert!(PetitionCode::parse("bad code").is_err());
    assert_eq!(Status::parse("infoRequested"), Some(Status::InfoRequested));
    assert!(Status::Published.is_end());
}

// PORTAL_RULES 5.2, a petition transferred to the unit: its refusal, first information request
// and handling count from the latest transfer in, not from the receipt elsewhere.

#[test]
fn a_transfer_restarts_the_request_and_handling_deadlines() {
    // Received Monday 2 March, transferred in on Monday 23 March 08:00, when the handling was
    // due counted from the receipt. From the transfer: a request is due Monday 30 March 08:00
    // (24–27, 30 March), the handling Monday 13 April 08:00 (24–27 March, 30 March–3 April,
    // 6–10, 13 April), plus the two working days the petitioner took to answer.
    let events = [
        ev("1", Status::Received, "2026-03-02 08:00"),
        ev("2", Status::TransferredIn, "2026-03-23 08:00"),
        ev("3", Status::InfoRequested, "2026-03-27 08:00"),
        ev("4", Status::InfoProvided, "2026-03-31 08:00"),
        ev("5", Status::Handled, "2026-04-14 10:00"),
    ];
    let s = judge(&events, "2026-04-14 12:00");
    let request = stage(&s, Stage::InfoRequest);
    assert_eq!(request.due_at, Some(at("2026-03-30 08:00")));
    assert_eq!(request.state, StageState::DoneOnTime);
    let handling = stage(&s, Stage::Handling);
    assert_eq!(handling.due_at, Some(at("2026-04-15 08:00")));
    assert_eq!(handling.state, StageState::DoneOnTime);
    assert_eq!(s.paused_seconds, 2 * 8 * 3600);
    // Only the publication is left: due two working days after the handling.
    assert_eq!(s.timing, Timing::OpenWithinTime);
    assert_eq!(s.late_from, Some(at("2026-04-16 10:00")));

    // Judged before the transfer, the petition's deadlines are the receipt's.
    let before = judge(&events, "2026-03-20 12:00");
    assert_eq!(
        stage(&before, Stage::Handling).due_at,
        Some(at("2026-03-23 08:00"))
    );
    // Without the transfer the same history is late: the request from 9 March 08:00, the
    // handling from 23 March 08:00 (the request of 27 March came after that deadline, so it
    // paused nothing).
    let untransferred: Vec<Event> = events
        .iter()
        .filter(|e| e.status != Status::TransferredIn)
        .cloned()
        .collect();
    let s = judge(&untransferred, "2026-04-14 12:00");
    assert_eq!(stage(&s, Stage::InfoRequest).state, StageState::DoneLate);
    let handling = stage(&s, Stage::Handling);
    assert_eq!(handling.due_at, Some(at("2026-03-23 08:00")));
    assert_eq!(handling.state, StageState::DoneLate);
    assert_eq!(s.paused_seconds, 0);
    assert_eq!(s.late_from, Some(at("2026-03-09 08:00")));
}

#[test]
fn a_refusal_counts_from_the_latest_transfer() {
    // Transferred twice; refused Thursday 12 March 09:00, two working days after the second
    // transfer (Tuesday 10 March 09:00), late by the first (Thursday 5 March 09:00, due Monday 9).
    let s = judge(
        &[
            ev("1", Status::TransferredIn, "2026-03-05 09:00"),
            ev("2", Status::TransferredIn, "2026-03-10 09:00"),
            ev("3", Status::Refused, "2026-03-12 09:00"),
        ],
        "2026-03-31 00:00",
    );
    let refusal = stage(&s, Stage::Refusal);
    assert_eq!(refusal.due_at, Some(at("2026-03-12 09:00")));
    assert_eq!(refusal.state, StageState::DoneOnTime);
    assert_eq!(s.timing, Timing::EndedOnTime);
}

#[test]
fn a_transfer_comes_before_the_units_own_steps() {
    let received = at("2026-03-02 08:00");
    let ok = [
        ev("a", Status::Received, "2026-03-02 08:00"),
        ev("b", Status::TransferredIn, "2026-03-04 08:00"),
        ev("c", Status::TransferredIn, "2026-03-05 08:00"),
        ev("d", Status::InfoRequested, "2026-03-05 09:00"),
        ev("e", Status::Handled, "2026-03-06 08:00"),
    ];
    assert!(check_history(received, &ok).is_ok());
    assert_eq!(current_status(&ok[..3]), Status::TransferredIn);
    // After a request, an answer or the handling, or at the same instant as one of them, a
    // transfer would restart the deadlines of work the unit had begun: refused.
    for (step, when) in [
        (Status::InfoRequested, "2026-03-03 08:00"),
        (Status::InfoProvided, "2026-03-03 08:00"),
        (Status::Handled, "2026-03-03 08:00"),
        (Status::Handled, "2026-03-04 08:00"),
    ] {
        let mut events = vec![ev("t", Status::TransferredIn, "2026-03-04 08:00")];
        if step == Status::InfoProvided {
            events.push(ev("r", Status::InfoRequested, "2026-03-02 09:00"));
        }
        events.push(ev("s", step, when));
        let err = check_history(received, &events).unwrap_err();
        assert_eq!(err.event_id, "t", "{step} at {when}");
        assert!(
            err.reason
                .contains(&format!("transferredIn cannot follow {step}")),
            "{}",
            err.reason
        );
    }
    assert_eq!(Status::parse("transferredIn"), Some(Status::TransferredIn));
}
