//! How a dossier is judged for a period, from its events up to the period's end, worked out by
//! hand on March 2026 (`PORTAL_RULES.md` 2.1). Procedure 1.000001 takes 3 working days, so a
//! dossier received on Monday 2 March at 08:00 is due on Thursday 5 March at 08:00.

use serde_json::{Value, json};
use tthc_tests::{Status, TestApp};

use crate::scores::{counts, dossier};

fn ev(id: &str, status: &str, at: &str) -> Value {
    json!({"id": id, "status": status, "at": format!("2026-{at}+07:00")})
}

const RECEIVED: &str = "2026-03-02T08:00:00+07:00";

/// The II.06a line of STTTT's March: received, resolved (total, early, on time, late), in
/// progress (total, within time, overdue).
fn ii06a(app: &TestApp, token: &str) -> [u64; 8] {
    let r = app.get("/api/v1/reports/ii06a?unit=STTTT&period=2026-03", token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let t = &r.body["total"];
    let n = |v: &Value| v.as_u64().unwrap();
    [
        n(&t["received"]["total"]),
        n(&t["resolved"]["total"]),
        n(&t["resolved"]["early"]),
        n(&t["resolved"]["onTime"]),
        n(&t["resolved"]["late"]),
        n(&t["inProgress"]["total"]),
        n(&t["inProgress"]["withinTime"]),
        n(&t["inProgress"]["overdue"]),
    ]
}

/// Six dossiers of STTTT received on 2 March, worked by hand for March (see each comment).
fn push_six(app: &TestApp, admin: &str) {
    let mut late_apology = ev("2", "processing", "03-06T09:00:00");
    late_apology["newDue"] = json!("2026-03-20T08:00:00+07:00");
    let dossiers = json!([
        // A: still open: late since 5 March.
        dossier(
            "A",
            "STTTT",
            "inPerson",
            RECEIVED,
            json!([ev("1", "received", "03-02T08:00:00")]),
            true
        ),
        // B: open with a second supplement request (still unanswered): late since it.
        dossier(
            "B",
            "STTTT",
            "inPerson",
            RECEIVED,
            json!([
                ev("1", "received", "03-02T08:00:00"),
                ev("2", "supplementRequested", "03-02T10:00:00"),
                ev("3", "processing", "03-02T11:00:00"),
                ev("4", "supplementRequested", "03-03T09:00:00")
            ]),
            true
        ),
        // C: refused before it was received: not counted at all.
        dossier(
            "C",
            "STTTT",
            "online",
            RECEIVED,
            json!([
                ev("1", "newlyRegistered", "03-02T08:00:00"),
                ev("2", "notAccepted", "03-02T09:00:00")
            ]),
            true
        ),
        // D: one supplement request on 3 March, never answered: its instant is the end
        // (PORTAL_RULES 2.1), before the due day: resolved early.
        dossier(
            "D",
            "STTTT",
            "inPerson",
            RECEIVED,
            json!([
                ev("1", "received", "03-02T08:00:00"),
                ev("2", "supplementRequested", "03-03T10:00:00")
            ]),
            true
        ),
        // E: an apology issued on 6 March, after the due instant: it does not count; finished on
        // 9 March: late (it would have been "early" against the apology's 20 March).
        dossier(
            "E",
            "STTTT",
            "inPerson",
            RECEIVED,
            json!([
                ev("1", "received", "03-02T08:00:00"),
                late_apology,
                ev("3", "finished", "03-09T10:00:00")
            ]),
            true
        ),
        // F: a supplement request on 4 March, then finished on 9 March with no completion: no
        // supplement time, so late.
        dossier(
            "F",
            "STTTT",
            "inPerson",
            RECEIVED,
            json!([
                ev("1", "received", "03-02T08:00:00"),
                ev("2", "supplementRequested", "03-04T10:00:00"),
                ev("3", "finished", "03-09T10:00:00")
            ]),
            true
        ),
    ]);
    let r = app.post("/api/v1/dossiers/bulk", admin, &dossiers);
    assert_eq!(r.body["created"], 6, "{}", r.text);
}

#[test]
fn each_period_is_judged_from_the_events_up_to_its_end() {
    let app = TestApp::spawn();
    let admin = crate::procedures::seed(&app);
    push_six(&app, &admin);

    // Counted: A, B, D, E, F (not C); on time: D only.
    let march = || app.get("/api/v1/units/STTTT/scores/2026-03", &admin);
    let before = march();
    assert_eq!(before.status, Status::OK, "{}", before.text);
    assert_eq!(counts(&before.body, "ON_TIME_PROCESSING").0, 1);
    assert_eq!(counts(&before.body, "ON_TIME_PROCESSING").1, 5);
    assert_eq!(
        counts(&before.body, "DOSSIER_SYNC").1,
        5,
        "C is not received"
    );
    // II.06a: 5 received; D resolved early, E and F late; A and B in progress, overdue.
    assert_eq!(ii06a(&app, &admin), [5, 3, 1, 0, 2, 2, 0, 2]);
    // The misses name A, B, E and F, and never C or D.
    let misses = app.get(
        "/api/v1/units/STTTT/scores/2026-03/indicators/ON_TIME_PROCESSING/misses",
        &admin,
    );
    let codes: Vec<&str> = misses.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["A", "B", "E", "F"], "{}", misses.text);
    let flags = app.get("/api/v1/dossiers/C", &admin).body["flags"].clone();
    assert!(
        flags.as_array().unwrap().contains(&json!("notReceived")),
        "{flags}"
    );

    // In April, A gets a supplement request, answered only on 20 May: 33 working days of
    // supplement time that would push its due instant past March. March does not change.
    for e in [
        ev("2", "supplementRequested", "04-02T10:00:00"),
        ev("3", "processing", "05-20T10:00:00"),
    ] {
        let r = app.post("/api/v1/dossiers/A/events", &admin, &e);
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
    let after = march();
    assert_eq!(
        counts(&after.body, "ON_TIME_PROCESSING"),
        counts(&before.body, "ON_TIME_PROCESSING")
    );
    assert_eq!(ii06a(&app, &admin), [5, 3, 1, 0, 2, 2, 0, 2]);
    let a = app.get("/api/v1/dossiers/A", &admin);
    assert_eq!(a.body["timing"], Value::Null, "still open");
    let overdue = app.get("/api/v1/dossiers?unit=STTTT&overdue=true", &admin);
    let open_late: Vec<&str> = overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(open_late.contains(&"A") && open_late.contains(&"B") && !open_late.contains(&"D"));
    // A page of the list can say how many match in all.
    let page = app.get("/api/v1/dossiers?unit=STTTT&count=true&limit=2", &admin);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        page.body["total"], 6,
        "the list shows every stored dossier, C too"
    );
    let page = app.get(
        "/api/v1/dossiers?unit=STTTT&overdue=true&count=true",
        &admin,
    );
    assert_eq!(page.body["total"], 2, "{}", page.text);
}

#[test]
fn the_overdue_stock_is_read_at_any_instant_as_the_records_stood() {
    let app = TestApp::spawn();
    let admin = crate::procedures::seed(&app);
    // The six dossiers of the test above: A and E late from 5 March, B from 3 March, C never
    // received, D ended at its unanswered request of 3 March, F paused until it finished late.
    push_six(&app, &admin);
    let at = |instant: &str| {
        let r = app.get(
            &format!(
                "/api/v1/units/STTTT/overdue?at={}",
                instant.replace('+', "%2B")
            ),
            &admin,
        );
        assert_eq!(r.status, Status::OK, "{}", r.text);
        (
            r.body["open"].as_i64().unwrap(),
            r.body["overdue"].as_i64().unwrap(),
        )
    };
    // 3 March at 09:30: A, B, D, E, F open (C never received); only B late (second request at
    // 09:00).
    assert_eq!(at("2026-03-03T09:30:00+07:00"), (5, 1));
    // 4 March at noon: D ended at its request; F's request of 4 March pauses it before its due
    // instant.
    assert_eq!(at("2026-03-04T12:00:00+07:00"), (4, 1));
    // The end of March: E and F finished on 9 March; A (due 5 March) and B late.
    assert_eq!(at("2026-03-31T23:59:59+07:00"), (2, 2));
    // Day by day: A and E late from 5 March; E and F end on 9 March. F, paused since 4 March,
    // never counts as overdue while open, though it finished late.
    let s = app.get(
        "/api/v1/units/STTTT/overdue/series?from=2026-03-03&to=2026-03-09",
        &admin,
    );
    assert_eq!(s.status, Status::OK, "{}", s.text);
    let points: Vec<(i64, i64)> = s.body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["open"].as_i64().unwrap(), p["overdue"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        points,
        [(4, 1), (4, 1), (4, 3), (4, 3), (4, 3), (4, 3), (2, 2)]
    );
    assert_eq!(s.body["points"][0]["at"], "2026-03-04T00:00:00+07:00");
    // A request in April, long after A was late, changes no past figure. Not answered, it ends
    // A, late, on 2 April.
    let r = app.post(
        "/api/v1/dossiers/A/events",
        &admin,
        &ev("2", "supplementRequested", "04-02T10:00:00"),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(at("2026-03-31T23:59:59+07:00"), (2, 2));
    assert_eq!(at("2026-04-01T12:00:00+07:00"), (2, 2));
    assert_eq!(at("2026-04-15T12:00:00+07:00"), (1, 1));
    let a = app.get("/api/v1/dossiers/A", &admin);
    assert_eq!(a.body["timing"], "finishedLate", "{}", a.text);
    let weekly = app.get(
        "/api/v1/units/STTTT/overdue/series?from=2026-03-03&to=2026-03-31&every=week",
        &admin,
    );
    assert_eq!(weekly.body["points"].as_array().unwrap().len(), 5);
    app.get(
        "/api/v1/units/STTTT/overdue/series?from=2026-03-09&to=2026-03-03",
        &admin,
    )
    .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
}

#[test]
fn the_stored_fast_paths_and_ii06a_agree_with_judging_each_dossier_from_its_past() {
    use chrono::{Duration, NaiveDate, NaiveDateTime};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use tthc_core::calendar::{Calendar, Measure, TimeLimit};
    use tthc_core::dossier::{Event, Status, Timing, TimingInput, classify};

    let app = TestApp::spawn();
    let admin = crate::procedures::seed(&app);
    let text = |t: NaiveDateTime| format!("{}+07:00", t.format("%Y-%m-%dT%H:%M:%S"));
    let mut rng = StdRng::seed_from_u64(766);
    let first = NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    // (code, receipt, events as the core reads them)
    let mut histories: Vec<(String, NaiveDateTime, Vec<Event>)> = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..160 {
        let code = format!("G-{i:03}");
        let received = first
            + Duration::days(rng.random_range(0..75i64))
            + Duration::hours(rng.random_range(0..8i64));
        let event =
            |id: usize, status: Status, at: NaiveDateTime| Event::new(id.to_string(), status, at);
        let mut events = Vec::new();
        if rng.random_range(0..12) == 0 {
            events.push(event(1, Status::NewlyRegistered, received));
            events.push(event(2, Status::NotAccepted, received + Duration::hours(1)));
        } else {
            events.push(event(1, Status::Received, received));
            let mut t = received;
            for k in 0..rng.random_range(0..6usize) {
                t += Duration::hours(2 + rng.random_range(0..90i64));
                let waiting =
                    events.last().map(|e: &Event| e.status) == Some(Status::SupplementRequested);
                match rng.random_range(0..6) {
                    0 | 1 => events.push(event(k + 2, Status::Processing, t)),
                    // A second request follows a completion, as the rules want.
                    2 if waiting => events.push(event(k + 2, Status::Processing, t)),
                    2 => events.push(event(k + 2, Status::SupplementRequested, t)),
                    3 => {
                        let mut apology = event(k + 2, Status::Processing, t);
                        apology.new_due = Some(t + Duration::days(2 + rng.random_range(0..15i64)));
                        events.push(apology);
                    }
                    _ => {
                        events.push(event(k + 2, Status::Finished, t));
                        if rng.random_range(0..3) == 0 {
                            events.push(event(k + 3, Status::Returned, t + Duration::hours(1)));
                        }
                        break;
                    }
                }
            }
        }
        let wire: Vec<Value> = events
            .iter()
            .map(|e| {
                let mut v = json!({"id": e.id, "status": e.status.as_str(), "at": text(e.at)});
                if let Some(d) = e.new_due {
                    v["newDue"] = json!(text(d));
                }
                v
            })
            .collect();
        let unit = if i % 2 == 0 { "C1" } else { "STTTT" };
        bodies.push(dossier(
            &code,
            unit,
            "inPerson",
            &text(received),
            json!(wire),
            true,
        ));
        histories.push((code, received, events));
    }
    let r = app.post("/api/v1/dossiers/bulk", &admin, &Value::Array(bodies));
    assert_eq!(r.body["rejected"], 0, "{}", r.text);

    let calendar = Calendar::national(2025, 2027);
    let limit = TimeLimit::new(3.0, Measure::WorkingDays).ok();
    let dues: Vec<Option<NaiveDateTime>> = histories
        .iter()
        .map(|(code, _, _)| {
            let d = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
            d.body["dueAt"].as_str().map(|s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .unwrap()
                    .naive_local()
            })
        })
        .collect();
    for (period, start, end) in [
        ("2026-03", (2026, 3, 1), (2026, 4, 1)),
        ("2026-04", (2026, 4, 1), (2026, 5, 1)),
        ("2026-05", (2026, 5, 1), (2026, 6, 1)),
    ] {
        let day = |(y, m, d): (i32, u32, u32)| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        let (start, end) = (day(start), day(end));
        // Each dossier judged from its events up to the period's end, one by one.
        let (mut handled, mut on_time) = (0u64, 0u64);
        for ((_, received, events), due) in histories.iter().zip(&dues) {
            let c = classify(
                &calendar,
                &TimingInput {
                    received_at: *received,
                    due_at: *due,
                    limit,
                    events,
                    at: end - Duration::seconds(1),
                },
            );
            if !c.received || *received >= end || c.end.is_some_and(|e| e < start) {
                continue;
            }
            handled += 1;
            on_time += u64::from(match c.end {
                Some(_) => matches!(c.timing, Timing::FinishedEarly | Timing::FinishedOnTime),
                None => c.timing == Timing::InProgressWithinTime,
            });
        }
        // Not a vacuous comparison: each month has dossiers of both kinds.
        assert!(
            handled > 20 && on_time > 0 && on_time < handled,
            "{period}: {on_time} of {handled}"
        );
        let score = app.get(&format!("/api/v1/units/P/scores/{period}"), &admin);
        let (num, den, _) = counts(&score.body, "ON_TIME_PROCESSING");
        assert_eq!(
            (num.as_u64().unwrap(), den.as_u64().unwrap()),
            (on_time, handled),
            "{period}: the score's counts against the dossiers judged one by one"
        );
        let form = app.get(
            &format!("/api/v1/reports/ii06a?unit=P&period={period}"),
            &admin,
        );
        let t = &form.body["total"];
        let n = |v: &Value| v.as_u64().unwrap();
        assert_eq!(
            n(&t["received"]["total"]),
            handled,
            "{period}: II.06a received"
        );
        assert_eq!(
            n(&t["resolved"]["early"])
                + n(&t["resolved"]["onTime"])
                + n(&t["inProgress"]["withinTime"]),
            on_time,
            "{period}: II.06a on time"
        );
        // The misses list every handled dossier not on time.
        let misses = app.get(
            &format!(
                "/api/v1/units/P/scores/{period}/indicators/ON_TIME_PROCESSING/misses?limit=500"
            ),
            &admin,
        );
        assert_eq!(
            misses.body["items"].as_array().unwrap().len() as u64,
            handled - on_time,
            "{period}: misses"
        );
    }
}
