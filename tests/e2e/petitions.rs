//! Petitions: idempotent pushes, stage events in any order, stage deadlines with the calendar,
//! unit scoping, lists of overdue and soon-due petitions, bulk, figures by subject, the two
//! petition indicators of the 766 index, and dossier ratings.
//!
//! March 2026 has no holidays: a petition received Monday 2 March 08:00 must be handled by
//! Monday 23 March 08:00 (15 working days), refused by Wednesday 4 March 08:00 (2).

use chrono::{Datelike, Duration, Utc};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Reply, Status, TestApp};

use crate::procedures::seed;
use crate::scores::province;

fn t(d: &str) -> String {
    format!("2026-{d}+07:00")
}

fn ev(id: &str, status: &str, at: &str) -> Value {
    json!({"id": id, "status": status, "at": at})
}

fn petition(unit: &str, received: &str, events: Value) -> Value {
    json!({
        "unit": unit, "subject": "regulation", "channel": "portal", "receivedAt": received,
        "summary": "Yêu cầu nộp thêm giấy tờ không có trong quy định", "events": events
    })
}

fn put(app: &TestApp, token: &str, code: &str, body: &Value) -> Reply {
    app.call(
        HttpMethod::PUT,
        &format!("/api/v1/petitions/{code}"),
        Some(token),
        Some(body),
    )
}

fn stage(p: &Value, name: &str) -> Value {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_petition_is_pushed_idempotently_and_judged_stage_by_stage() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut body = petition(
        "C1",
        &t("03-02T08:00:00"),
        json!([
            ev("1", "received", &t("03-02T08:00:00")),
            ev("3", "published", &t("03-23T09:00:00")),
            ev("2", "handled", &t("03-20T10:00:00"))
        ]),
    );
    body["procedureCode"] = json!("1.000001");
    body["reaction"] = json!({"value": "satisfied", "at": t("03-24T09:00:00")});
    let r = put(&app, &admin, "PAKN-1", &body);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.body["result"], "created");
    let again = put(&app, &admin, "PAKN-1", &body);
    assert_eq!(again.status, Status::OK, "{}", again.text);
    assert_eq!(again.body["result"], "unchanged");

    let p = app.get("/api/v1/petitions/PAKN-1", &admin);
    assert_eq!(p.status, Status::OK, "{}", p.text);
    assert_eq!(p.body["status"], "published");
    assert_eq!(p.body["timing"], "endedOnTime");
    assert_eq!(p.body["unit"], "C1");
    assert_eq!(p.body["reaction"]["value"], "satisfied");
    let handling = stage(&p.body, "handling");
    assert_eq!(handling["dueAt"], "2026-03-23T08:00:00+07:00");
    assert_eq!(handling["state"], "doneOnTime");
    // Two working days after the handling on Friday 20 March 10:00.
    let publication = stage(&p.body, "publication");
    assert_eq!(publication["dueAt"], "2026-03-24T10:00:00+07:00");
    assert_eq!(publication["state"], "doneOnTime");
    assert_eq!(stage(&p.body, "refusal"), Value::Null);
    let ids: Vec<&str> = p.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);

    // Refusals name every field and store nothing.
    let mut bad = petition(
        "NOPE",
        &t("03-02T08:00:00"),
        json!([ev("1", "handled", &t("03-01T08:00:00"))]),
    );
    bad["procedureCode"] = json!("9.999999");
    bad["reaction"] = json!({"value": "dissatisfied", "at": t("02-28T08:00:00")});
    let r = put(&app, &admin, "PAKN-BAD", &bad);
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let mut names = r.invalid_names();
    names.sort();
    assert_eq!(
        names,
        ["events[0].status", "procedureCode", "reaction.at", "unit"]
    );
    app.get("/api/v1/petitions/PAKN-BAD", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let mut other = body.clone();
    other["code"] = json!("PAKN-2");
    let r = put(&app, &admin, "PAKN-1", &other);
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["code"]);
    // Instants ahead of the clock (a rating dated in 2099 would outrank every later one).
    let mut future = body.clone();
    future["events"][1]["at"] = json!("2099-01-01T08:00:00+07:00");
    future["reaction"]["at"] = json!("2099-01-02T08:00:00+07:00");
    let mut names = put(&app, &admin, "PAKN-F", &future).invalid_names();
    names.sort();
    assert_eq!(names, ["events[1].at", "reaction.at"]);
    // A satisfied petitioner does not petition again.
    let mut again = body.clone();
    again["reaction"]["furtherPetition"] = json!("PAKN-77");
    assert_eq!(
        put(&app, &admin, "PAKN-1", &again).invalid_names(),
        ["reaction.furtherPetition"]
    );
    let mut unknown = body.clone();
    unknown["subject"] = json!("weather");
    put(&app, &admin, "PAKN-1", &unknown).assert_problem(Status::BAD_REQUEST, "validationFailed");

    // A client of the other department sees nothing of C1's petitions and cannot push for C1.
    let (_, other_token) = app.client("sttt", &["petitions:read", "petitions:write"], &["STTTT"]);
    app.get("/api/v1/petitions/PAKN-1", &other_token)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let r = put(&app, &other_token, "PAKN-9", &body);
    assert_eq!(r.invalid_names(), ["unit"], "{}", r.text);
    app.get("/api/v1/petitions/PAKN-9", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let (_, reader) = app.client("reader", &["dossiers:read"], &["P"]);
    app.get("/api/v1/petitions", &reader)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let audit = app.get("/api/v1/audit?resourceType=petition", &admin);
    assert_eq!(
        audit.body["items"][0]["resourceId"], "PAKN-1",
        "{}",
        audit.text
    );
}

#[test]
fn events_arrive_in_any_order_and_information_time_pauses_the_clock() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = put(
        &app,
        &admin,
        "PAKN-2",
        &petition("C1", &t("03-02T08:00:00"), json!([])),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let add = |e: &Value| app.post("/api/v1/petitions/PAKN-2/events", &admin, e);
    // The answer to the request arrives first.
    let r = add(&ev("b", "infoProvided", &t("03-05T08:00:00")));
    assert_eq!(r.body["result"], "added", "{}", r.text);
    let r = add(&ev("a", "infoRequested", &t("03-03T08:00:00")));
    assert_eq!(r.body["result"], "added", "{}", r.text);
    assert_eq!(r.body["status"], "infoProvided");
    assert_eq!(
        add(&ev("a", "infoRequested", &t("03-03T08:00:00"))).body["result"],
        "duplicate"
    );
    add(&ev("a", "handled", &t("03-03T08:00:00"))).assert_problem(Status::CONFLICT, "conflict");
    // Published before any handling is refused with the reason.
    let r = add(&ev("c", "published", &t("03-06T08:00:00")));
    r.assert_problem(Status::CONFLICT, "conflict");
    assert!(
        r.text.contains("published cannot follow infoProvided"),
        "{}",
        r.text
    );

    let p = app.get("/api/v1/petitions/PAKN-2", &admin);
    assert_eq!(
        stage(&p.body, "infoRequest")["dueAt"],
        "2026-03-09T08:00:00+07:00"
    );
    assert_eq!(stage(&p.body, "infoRequest")["state"], "doneOnTime");
    // Two working days (16 hours) waiting for the petitioner push the handling to 25 March.
    assert_eq!(p.body["pausedWorkingHours"], 16.0);
    assert_eq!(
        stage(&p.body, "handling")["dueAt"],
        "2026-03-25T08:00:00+07:00"
    );
    // Long past that now: overdue.
    assert_eq!(stage(&p.body, "handling")["state"], "overdue");
    assert_eq!(p.body["timing"], "openOverdue");
    assert_eq!(p.body["lateFrom"], "2026-03-25T08:00:00+07:00");

    app.post(
        "/api/v1/petitions/NOPE/events",
        &admin,
        &ev("x", "handled", &t("03-10T08:00:00")),
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn overdue_and_soon_due_lists_filters_pages_and_csv() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // Today's petition, received at the start of the day in Vietnam: never in the future (a
    // later hour was, when the test ran between midnight and that hour in Vietnam), and due
    // more than a week from now.
    let today = (Utc::now() + Duration::hours(7)).date_naive();
    let received_today = format!(
        "{:04}-{:02}-{:02}T00:00:00+07:00",
        today.year(),
        today.month(),
        today.day()
    );
    let mut conduct = petition("STTTT", &received_today, json!([]));
    conduct["subject"] = json!("officerConduct");
    conduct["channel"] = json!("phone");
    for (code, body) in [
        // Open since March: overdue.
        ("PAKN-OLD", petition("C1", &t("03-02T08:00:00"), json!([]))),
        ("PAKN-NEW", conduct),
        // Ended: in no overdue or soon-due list.
        (
            "PAKN-DONE",
            petition(
                "C1",
                &t("03-02T08:00:00"),
                json!([ev("1", "refused", &t("03-03T08:00:00"))]),
            ),
        ),
    ] {
        let r = put(&app, &admin, code, &body);
        assert_eq!(r.status, Status::CREATED, "{code}: {}", r.text);
    }
    let codes = |r: &Reply| -> Vec<String> {
        assert_eq!(r.status, Status::OK, "{}", r.text);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let overdue = app.get("/api/v1/petitions?overdue=true", &admin);
    assert_eq!(codes(&overdue), ["PAKN-OLD"]);
    assert_eq!(overdue.body["items"][0]["overdue"], true);
    assert_eq!(
        codes(&app.get("/api/v1/petitions?overdue=false", &admin)),
        ["PAKN-NEW"]
    );
    // The open timings list what `overdue` does (until 2026-12-07 they listed nothing).
    assert_eq!(
        codes(&app.get("/api/v1/petitions?timing=openOverdue", &admin)),
        ["PAKN-OLD"]
    );
    assert_eq!(
        codes(&app.get(
            "/api/v1/petitions?timing=openWithinTime&overdue=false",
            &admin
        )),
        ["PAKN-NEW"]
    );
    app.get("/api/v1/petitions?timing=openOverdue&overdue=false", &admin)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    // Soonest deadline first: the overdue one, then today's (15 working days away).
    assert_eq!(
        codes(&app.get("/api/v1/petitions?dueWithinDays=30", &admin)),
        ["PAKN-OLD", "PAKN-NEW"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/petitions?dueWithinDays=2", &admin)),
        ["PAKN-OLD"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/petitions?subject=officerConduct", &admin)),
        ["PAKN-NEW"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/petitions?unit=STP&timing=endedOnTime", &admin)),
        ["PAKN-DONE"]
    );
    app.get("/api/v1/petitions?dueWithinDays=0", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    app.get("/api/v1/petitions?sort=code", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    // What dueWithinDays overrides is refused, not ignored; a cursor serves only its order.
    let r = app.get(
        "/api/v1/petitions?dueWithinDays=30&sort=-receivedAt",
        &admin,
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["sort"], "{}", r.text);
    let by_deadline = app.get("/api/v1/petitions?dueWithinDays=30&limit=1", &admin);
    let cursor = by_deadline.body["nextCursor"].as_str().unwrap();
    app.get(
        &format!("/api/v1/petitions?limit=1&cursor={cursor}"),
        &admin,
    )
    .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let next = app.get(
        &format!("/api/v1/petitions?dueWithinDays=30&limit=1&cursor={cursor}"),
        &admin,
    );
    assert_eq!(codes(&next), ["PAKN-NEW"], "{}", next.text);

    // Newest first, one per page, through every page.
    let mut seen = Vec::new();
    let mut path = "/api/v1/petitions?limit=1".to_owned();
    loop {
        let page = app.get(&path, &admin);
        seen.extend(codes(&page));
        match page.body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/petitions?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["PAKN-NEW", "PAKN-OLD", "PAKN-DONE"]);

    let csv = app.call_with(
        HttpMethod::GET,
        "/api/v1/petitions?overdue=true",
        Some(&admin),
        None,
        &[("Accept", "text/csv")],
    );
    assert_eq!(csv.status, Status::OK);
    assert!(csv.text.starts_with('\u{feff}'), "{}", csv.text);
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("code,unit,subject,"), "{}", lines[0]);
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].starts_with("PAKN-OLD,C1,regulation,"),
        "{}",
        lines[1]
    );
}

#[test]
fn bulk_pushes_answer_per_item_and_repeat_unchanged() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut a = petition("C1", &t("03-02T08:00:00"), json!([]));
    a["code"] = json!("PAKN-B1");
    let mut b = petition("STTTT", &t("03-03T08:00:00"), json!([]));
    b["code"] = json!("PAKN-B2");
    let mut bad = petition("C1", &t("03-03T08:00:00"), json!([]));
    bad["code"] = json!("PAKN-B3");
    bad["summary"] = json!("");
    let batch = json!([a, bad, b]);
    let r = app.post("/api/v1/petitions/bulk", &admin, &batch);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        (r.body["created"].clone(), r.body["rejected"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(r.body["items"][1]["code"], "PAKN-B3");
    assert_eq!(r.body["items"][1]["invalidParams"][0]["name"], "summary");
    let again = app.post("/api/v1/petitions/bulk", &admin, &batch);
    assert_eq!(again.body["unchanged"], 2, "{}", again.text);
    app.get("/api/v1/petitions/PAKN-B3", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn the_first_two_changes_of_the_rules_at_once_both_land() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let rules = |handle: u32| {
        app.call(
            HttpMethod::PUT,
            "/api/v1/petition-rules",
            Some(&admin),
            Some(&json!({"refuseWithin": 2, "requestInfoWithin": 5, "handleWithin": handle, "publishWithin": 2})),
        )
    };
    // Never stored before: each would find no row to change and add one.
    let mut holder = app.hold("LOCK TABLE settings IN EXCLUSIVE MODE");
    std::thread::scope(|s| {
        let a = s.spawn(|| rules(10));
        let b = s.spawn(|| rules(20));
        app.until_requests_wait(2);
        holder.batch_execute("COMMIT").unwrap();
        for r in [a.join().unwrap(), b.join().unwrap()] {
            assert_eq!(r.status, Status::OK, "{}", r.text);
        }
    });
    let handle = &app.get("/api/v1/petition-rules", &admin).body["handleWithin"];
    assert!(*handle == json!(10) || *handle == json!(20), "{handle}");
    // The second change's audit shows the first's result as its state before.
    let audit = app.get("/api/v1/audit?resourceType=petitionRules", &admin);
    let items = audit.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", audit.text);
    let (first, second) = if items[0]["id"].as_i64() < items[1]["id"].as_i64() {
        (&items[0], &items[1])
    } else {
        (&items[1], &items[0])
    };
    assert_eq!(second["before"], first["after"], "{}", audit.text);
    assert_eq!(second["after"]["handleWithin"], *handle, "{}", audit.text);
}

#[test]
fn deadlines_are_configurable_and_checked() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.get("/api/v1/petition-rules", &admin);
    assert_eq!(
        r.body,
        json!({"refuseWithin": 2, "requestInfoWithin": 5, "handleWithin": 15, "publishWithin": 2})
    );
    let rules = |body: &Value| {
        app.call(
            HttpMethod::PUT,
            "/api/v1/petition-rules",
            Some(&admin),
            Some(body),
        )
    };
    let r = rules(
        &json!({"refuseWithin": 0, "requestInfoWithin": 5, "handleWithin": 400, "publishWithin": 2}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    let mut names = r.invalid_names();
    names.sort();
    assert_eq!(names, ["handleWithin", "refuseWithin"]);
    let r = rules(
        &json!({"refuseWithin": 2, "requestInfoWithin": 5, "handleWithin": 10, "publishWithin": 2}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // Ten working days from Monday 2 March: Monday 16 March.
    let r = put(
        &app,
        &admin,
        "PAKN-10",
        &petition("C1", &t("03-02T08:00:00"), json!([])),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let p = app.get("/api/v1/petitions/PAKN-10", &admin);
    assert_eq!(
        stage(&p.body, "handling")["dueAt"],
        "2026-03-16T08:00:00+07:00"
    );
}

/// The hand-built province of the score tests (March: dossiers 1, 2, 4, 5 finished, 2 late),
/// with petitions about C1 and STTTT:
/// - A, C1: received 2/3, handled 20/3, published 23/3: on time; satisfied; about dossier 1.
/// - B, C1, about an officer, by phone: received 3/3, handled 24/3 (due 24/3 08:00), published
///   25/3: late; dissatisfied.
/// - C, STTTT: received 5/3, refused 6/3: on time.
/// - D, C1: received 25/3, open at the end of March, due in April: within time.
/// - E, C1: received 20/2 (in the Tết holiday), open, due mid-March: overdue at the end of
///   March.
///
/// PETITION_PROCESSING_ON_TIME: A, C, D of A–E = 3 / 5 = 60% of 6 = 3.6.
/// PETITION_HANDLING_SATISFACTION: answered in March A, B; accepted A = 1 / 2 = 50% of 6 = 3.
/// DOSSIER_RECEIVING_SATISFACTION: 3 of 4 finished before; dossier 1 now has a petition → 2 / 4
/// = 50% of a 90% threshold: 6 × 50/90 = 3.33.
#[test]
fn petitions_count_in_the_satisfaction_group_as_worked_out_by_hand() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let mut a = petition(
        "C1",
        &t("03-02T08:00:00"),
        json!([
            ev("1", "handled", &t("03-20T10:00:00")),
            ev("2", "published", &t("03-23T09:00:00"))
        ]),
    );
    a["code"] = json!("A");
    a["dossierCode"] = json!("C1-260302-0001");
    a["reaction"] = json!({"value": "satisfied", "at": t("03-24T09:00:00")});
    let mut b = petition(
        "C1",
        &t("03-03T08:00:00"),
        json!([
            ev("1", "handled", &t("03-24T10:00:00")),
            ev("2", "published", &t("03-25T09:00:00"))
        ]),
    );
    b["code"] = json!("B");
    b["subject"] = json!("officerConduct");
    b["channel"] = json!("phone");
    b["reaction"] = json!({"value": "dissatisfied", "at": t("03-26T09:00:00")});
    let mut c = petition(
        "STTTT",
        &t("03-05T08:00:00"),
        json!([ev("1", "refused", &t("03-06T08:00:00"))]),
    );
    c["code"] = json!("C");
    let mut d = petition("C1", &t("03-25T08:00:00"), json!([]));
    d["code"] = json!("D");
    let mut e = petition("C1", &t("02-20T08:00:00"), json!([]));
    e["code"] = json!("E");
    let r = app.post("/api/v1/petitions/bulk", &admin, &json!([a, b, c, d, e]));
    assert_eq!(r.body["created"], 5, "{}", r.text);
    // A petition of C1 cannot name STTTT's dossier: it would not be C1's to lose points for.
    let mut stray = petition("C1", &t("03-05T08:00:00"), json!([]));
    stray["dossierCode"] = json!("STTTT-260303-0004");
    assert_eq!(
        put(&app, &admin, "F", &stray).invalid_names(),
        ["dossierCode"]
    );
    // Nor can A keep C1's dossier when it moves to STTTT: a link held before is judged again
    // under a new unit (until 2026-12-07 it was kept, and C1 won the dossier's point back).
    let mut a_moved = petition(
        "STTTT",
        &t("03-02T08:00:00"),
        json!([
            ev("1", "handled", &t("03-20T10:00:00")),
            ev("2", "published", &t("03-23T09:00:00"))
        ]),
    );
    a_moved["dossierCode"] = json!("C1-260302-0001");
    let r = put(&app, &admin, "A", &a_moved);
    assert_eq!(r.invalid_names(), ["dossierCode"], "{}", r.text);
    assert_eq!(app.get("/api/v1/petitions/A", &admin).body["unit"], "C1");

    let f = app.get("/api/v1/units/P/petition-figures/2026-03", &admin);
    assert_eq!(f.status, Status::OK, "{}", f.text);
    assert_eq!(
        f.body["processingOnTime"],
        json!({"numerator": 3, "denominator": 5})
    );
    // Satisfaction (PORTAL_RULES 5.3), over the petitions first received in March: A, B, C, D;
    // less B (dissatisfied, and handled late) → 3 of 4. E was received in February.
    assert_eq!(
        f.body["handlingSatisfaction"],
        json!({"numerator": 3, "denominator": 4})
    );
    assert_eq!(
        f.body["received"],
        json!({"regulation": 3, "officerConduct": 1})
    );
    assert_eq!(
        f.body["receivedByChannel"],
        json!({"phone": 1, "portal": 3})
    );
    assert_eq!(f.body["carriedOver"], 1);
    assert_eq!(f.body["refused"], 1);
    assert_eq!(
        (f.body["endedOnTime"].clone(), f.body["endedLate"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        (
            f.body["openWithinTime"].clone(),
            f.body["openOverdue"].clone()
        ),
        (json!(1), json!(1))
    );
    // STTTT alone: C, refused on time.
    let st = app.get("/api/v1/units/STTTT/petition-figures/2026-03", &admin);
    assert_eq!(
        st.body["processingOnTime"],
        json!({"numerator": 1, "denominator": 1})
    );
    app.get("/api/v1/units/P/petition-figures/2026-13", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");

    let s = app.get("/api/v1/units/P/scores/2026-03", &admin);
    let counts = |code: &str| crate::scores::counts(&s.body, code);
    assert_eq!(
        counts("PETITION_PROCESSING_ON_TIME"),
        (json!(3), json!(5), json!(3.6))
    );
    assert_eq!(
        counts("PETITION_HANDLING_SATISFACTION"),
        (json!(3), json!(4), json!(4.5))
    );
    assert_eq!(
        counts("DOSSIER_RECEIVING_SATISFACTION"),
        (json!(2), json!(4), json!(3.33))
    );
    // 12 + 0 (online) + 4.5 + 2 + 2.67 (the other groups, as in the score tests) + 3.33 + 3.6
    // + 4.5 = 32.6.
    assert_eq!(s.body["score"], 32.6);

    // The petitions that cost points, with what each costs: B ended late, E is overdue.
    let misses = app.get(
        "/api/v1/units/P/scores/2026-03/indicators/PETITION_PROCESSING_ON_TIME/misses",
        &admin,
    );
    assert_eq!(misses.status, Status::OK, "{}", misses.text);
    let rows: Vec<(Value, Value)> = misses.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["code"].clone(), m["reason"].clone()))
        .collect();
    assert_eq!(rows.len(), 2, "{}", misses.text);
    assert_eq!(rows[0].0, "E");
    assert!(
        rows[0]
            .1
            .as_str()
            .unwrap()
            .starts_with("still open and overdue")
    );
    assert_eq!(rows[1], (json!("B"), json!("ended late")));
    // One more on time of 5: 4/5 of 6 = 4.8, 1.2 more than 3.6.
    assert_eq!(misses.body["items"][0]["pointsEach"], 1.2);
    assert_eq!(misses.body["items"][1]["unit"], "C1");
    let unhappy = app.get(
        "/api/v1/units/P/scores/2026-03/indicators/PETITION_HANDLING_SATISFACTION/misses",
        &admin,
    );
    assert_eq!(unhappy.body["items"][0]["code"], "B", "{}", unhappy.text);
    assert_eq!(unhappy.body["items"].as_array().unwrap().len(), 1);

    // The petition's dossier changes: dossier 1 counts again, dossier 5 no longer.
    let mut moved = app.get("/api/v1/petitions/A", &admin).body;
    assert_eq!(moved["dossierCode"], "C1-260302-0001");
    let r = put(
        &app,
        &admin,
        "A",
        &json!({
            "unit": "C1", "subject": "regulation", "channel": "portal",
            "receivedAt": t("03-02T08:00:00"), "summary": moved["summary"].take(),
            "dossierCode": "C1-260226-0005",
            "events": [ev("1", "handled", &t("03-20T10:00:00")), ev("2", "published", &t("03-23T09:00:00"))],
            "reaction": {"value": "satisfied", "at": t("03-24T09:00:00")}
        }),
    );
    assert_eq!(r.body["result"], "updated", "{}", r.text);
    let dossiers = app.get("/api/v1/petitions?dossier=C1-260226-0005", &admin);
    assert_eq!(dossiers.body["items"][0]["code"], "A");
    let s = app.get("/api/v1/units/STP/scores/2026-03", &admin);
    let i = s.body["groups"][5]["indicators"][2].clone();
    assert_eq!(i["code"], "DOSSIER_RECEIVING_SATISFACTION");
    // STP finished 1, 2 (late), 5 (petitioned): 1 of 3.
    assert_eq!(
        (i["numerator"].clone(), i["denominator"].clone()),
        (json!(1), json!(3))
    );
}

#[test]
fn a_dossier_has_one_rating_the_latest_from_any_source() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let (_, portal) = app.client("portal", &["ratings:write"], &["P"]);
    let rate = |token: &str, code: &str, body: &Value| {
        app.call(
            HttpMethod::PUT,
            &format!("/api/v1/dossiers/{code}/rating"),
            Some(token),
            Some(body),
        )
    };
    // Dossier 4 (STTTT, finished early): the citizen rates it on the portal, dissatisfied.
    let r = rate(
        &portal,
        "STTTT-260303-0004",
        &json!({"value": "dissatisfied", "at": t("03-04T09:00:00"), "channel": "portal"}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["result"], "updated");
    assert_eq!(r.body["rating"]["value"], "dissatisfied");
    // An older rating (say, from the desk, delivered late) does not replace it.
    let r = rate(
        &admin,
        "STTTT-260303-0004",
        &json!({"value": "satisfied", "at": t("03-03T11:00:00")}),
    );
    assert_eq!(r.body["result"], "unchanged", "{}", r.text);
    assert_eq!(r.body["rating"]["channel"], "portal");
    let d = app.get("/api/v1/dossiers/STTTT-260303-0004", &admin);
    assert_eq!(
        d.body["rating"],
        json!({"value": "dissatisfied", "at": "2026-03-04T09:00:00+07:00", "channel": "portal"})
    );
    // The vendor pushes the dossier again without a rating: the rating stays.
    let pushed = json!({
        "procedureCode": "1.000001", "unit": "STTTT", "channel": "inPerson",
        "receivedAt": t("03-03T08:00:00"), "applicant": {"kind": "citizen", "name": "Trần Thị Bình"},
        "sync": {"syncedAt": "2026-04-01T08:00:00+07:00", "syncedStatus": "received"},
        "events": [ev("1", "received", &t("03-03T08:00:00")), ev("2", "finished", &t("03-03T10:00:00"))]
    });
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/STTTT-260303-0004",
        Some(&admin),
        Some(&pushed),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let d = app.get("/api/v1/dossiers/STTTT-260303-0004", &admin);
    assert_eq!(d.body["rating"]["value"], "dissatisfied", "{}", d.text);
    // STTTT's only finished dossier is now dissatisfied: 0 of 1.
    let s = app.get("/api/v1/units/STTTT/scores/2026-03", &admin);
    let i = s.body["groups"][5]["indicators"][2].clone();
    assert_eq!(i["code"], "DOSSIER_RECEIVING_SATISFACTION");
    assert_eq!(
        (i["numerator"].clone(), i["score"].clone()),
        (json!(0), json!(0.0))
    );

    // Bad values are named; the portal client cannot push dossiers; other units' dossiers do not
    // exist for a client of STTTT.
    let r = rate(
        &admin,
        "STTTT-260303-0004",
        &json!({"value": "great", "at": t("03-04T09:00:00")}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/STTTT-260303-0004",
        Some(&portal),
        Some(&pushed),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let (_, st) = app.client("st-portal", &["ratings:write"], &["STTTT"]);
    rate(
        &st,
        "C1-260302-0001",
        &json!({"value": "satisfied", "at": t("03-04T09:00:00")}),
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
}

/// A client limited to C1 is answered for STTTT's dossier as for a code no unit holds, so that
/// it cannot learn which codes exist outside its units; the link costs STTTT nothing.
#[test]
fn a_limited_client_learns_nothing_of_other_units_dossiers() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let figures = || app.get("/api/v1/units/STTTT/scores/2026-03", &admin).body;
    let before = figures();
    assert_eq!(
        crate::scores::counts(&before, "DOSSIER_RECEIVING_SATISFACTION").1,
        json!(1),
        "STTTT has a finished dossier that a petition could take out: {before}"
    );
    let (_, c1) = app.client("c1-pakn", &["petitions:write"], &["C1"]);
    let mut outside = petition("C1", &t("03-05T08:00:00"), json!([]));
    outside["dossierCode"] = json!("STTTT-260303-0004");
    let named = put(&app, &c1, "G", &outside);
    outside["dossierCode"] = json!("STTTT-260303-9999");
    let unknown = put(&app, &c1, "H", &outside);
    assert_eq!(named.status, Status::CREATED, "{}", named.text);
    assert_eq!(unknown.status, Status::CREATED, "{}", unknown.text);
    assert_eq!(
        app.get("/api/v1/petitions/G", &admin).body["dossierCode"],
        "STTTT-260303-0004"
    );
    assert_eq!(
        figures(),
        before,
        "another unit's dossier named by C1's petition counts as before"
    );
    // An all-units caller still hears that the dossier is handled elsewhere.
    outside["dossierCode"] = json!("STTTT-260303-0004");
    assert_eq!(
        put(&app, &admin, "I", &outside).invalid_names(),
        ["dossierCode"]
    );
    // The link G already holds does not stop G's later writes by a caller who sees that
    // dossier: the national system's status event lands.
    let r = app.post(
        "/api/v1/petitions/G/events",
        &admin,
        &ev("1", "handled", &t("03-06T10:00:00")),
    );
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        app.get("/api/v1/petitions/G", &admin).body["status"],
        "handled"
    );
}

#[test]
fn a_petition_transferred_in_counts_from_the_latest_transfer() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // Received elsewhere on 2 March, transferred to C1 on 23 March 08:00 (the day the handling
    // was due from the receipt): handled by 13 April 08:00 counts on time (PORTAL_RULES 5.2).
    let handled_after_transfer = json!([
        ev("1", "received", &t("03-02T08:00:00")),
        ev("2", "transferredIn", &t("03-23T08:00:00")),
        ev("3", "handled", &t("04-10T10:00:00")),
        ev("4", "published", &t("04-13T09:00:00"))
    ]);
    let r = put(
        &app,
        &admin,
        "PAKN-T",
        &petition("C1", &t("03-02T08:00:00"), handled_after_transfer.clone()),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let p = app.get("/api/v1/petitions/PAKN-T", &admin);
    assert_eq!(p.status, Status::OK, "{}", p.text);
    assert_eq!(
        stage(&p.body, "handling")["dueAt"],
        "2026-04-13T08:00:00+07:00"
    );
    assert_eq!(stage(&p.body, "handling")["state"], "doneOnTime");
    assert_eq!(p.body["timing"], "endedOnTime");
    assert_eq!(p.body["lateFrom"], Value::Null);
    // The same history without the transfer is late from 23 March.
    let untransferred: Vec<Value> = handled_after_transfer
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] != "transferredIn")
        .cloned()
        .collect();
    let r = put(
        &app,
        &admin,
        "PAKN-U",
        &petition("C1", &t("03-02T08:00:00"), json!(untransferred)),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let u = app.get("/api/v1/petitions/PAKN-U", &admin);
    assert_eq!(u.body["timing"], "endedLate");
    assert_eq!(u.body["lateFrom"], "2026-03-23T08:00:00+07:00");
    // Both were open at the end of March and ended in April: the transferred one on time in
    // each month, the other late in each.
    for month in ["2026-03", "2026-04"] {
        let f = app.get(
            &format!("/api/v1/units/C1/petition-figures/{month}"),
            &admin,
        );
        assert_eq!(f.status, Status::OK, "{}", f.text);
        assert_eq!(
            f.body["processingOnTime"],
            json!({"numerator": 1, "denominator": 2}),
            "{month}: {}",
            f.text
        );
    }
    // A transfer comes before the unit's own steps: after the publication, or stamped with the
    // handling's instant, it is refused and restarts nothing.
    for (at, follows) in [
        ("04-14T08:00:00", "published"),
        ("04-10T10:00:00", "handled"),
    ] {
        let r = app.post(
            "/api/v1/petitions/PAKN-U/events",
            &admin,
            &ev("5", "transferredIn", &t(at)),
        );
        r.assert_problem(Status::CONFLICT, "conflict");
        assert!(
            r.text
                .contains(&format!("transferredIn cannot follow {follows}")),
            "{}",
            r.text
        );
    }
    assert_eq!(
        app.get("/api/v1/petitions/PAKN-U", &admin).body["timing"],
        "endedLate"
    );
}

/// A vendor that sends only the publication has answered the petition by then: its
/// petitioner's reaction is taken after it and refused before it (until 2026-12-07 it was
/// refused for want of a `handled` event).
#[test]
fn a_petition_answered_by_its_publication_alone_takes_a_reaction() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut body = petition(
        "C1",
        &t("03-02T08:00:00"),
        json!([ev("1", "published", &t("03-20T10:00:00"))]),
    );
    body["reaction"] = json!({"value": "satisfied", "at": t("03-21T08:00:00")});
    let r = put(&app, &admin, "PAKN-PUB-1", &body);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let stored = app.get("/api/v1/petitions/PAKN-PUB-1", &admin);
    assert_eq!(
        stored.body["reaction"]["value"], "satisfied",
        "{}",
        stored.text
    );
    body["reaction"]["at"] = json!(t("03-19T08:00:00"));
    let early = put(&app, &admin, "PAKN-PUB-2", &body);
    early.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(
        early.body["invalidParams"][0]["name"], "reaction.at",
        "{}",
        early.text
    );
}

/// A petition transferred in years after its receipt elsewhere has its deadlines counted on
/// its province's calendar of the transfer's year (until 2026-12-07 only the two years after
/// the receipt held the province's days; later ones were the national calendar's).
#[test]
fn a_deadline_years_after_the_receipt_counts_the_provinces_days_off() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // A provincial day off on Monday 2 March 2026.
    let r = crate::calendar::day_off_on_2_march(&app, &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let received = "2023-12-20T08:00:00+07:00";
    let body = petition(
        "C1",
        received,
        json!([
            ev("1", "received", received),
            ev("2", "transferredIn", &t("02-27T08:00:00"))
        ]),
    );
    let r = put(&app, &admin, "PAKN-LONG", &body);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let p = app.get("/api/v1/petitions/PAKN-LONG", &admin);
    let due = stage(&p.body, "handling")["dueAt"].clone();
    let calendar_due = |unit: &str| {
        app.call(
            HttpMethod::GET,
            &format!(
                "/api/v1/calendar/due?{unit}start=2026-02-27T08:00:00%2B07:00&amount=15&measure=workingDays"
            ),
            None,
            None,
        )
        .body["due"]
            .clone()
    };
    assert_eq!(due, calendar_due("unit=C1&"), "{}", p.text);
    assert_ne!(due, calendar_due(""), "the province's day off counts");
}
