//! The dossier registry: idempotent pushes, events in any order, forbidden transitions, unit
//! scoping, due dates, and every quality flag.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Reply, Status, TestApp};

use crate::procedures::seed;

const PDF: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const FORM: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn ev(id: &str, status: &str, at: &str) -> Value {
    json!({"id": id, "status": status, "at": format!("2026-03-{at}+07:00")})
}

/// 1.000001 has a 3-working-day limit: received Monday 2 March 08:00, due Thursday 5 March 08:00.
fn dossier(code: &str, events: Value, results: Value, sync: Value) -> Value {
    json!({
        "code": code, "procedureCode": "1.000001", "unit": "C1", "channel": "online",
        "receivedAt": "2026-03-02T08:00:00+07:00",
        "applicant": {"kind": "citizen", "name": "Nguyễn Văn An", "identityNumber": "001090012345"},
        "components": [{"name": "Tờ khai", "sha256": FORM, "digitized": true}],
        "results": results, "sync": sync, "events": events
    })
}

/// Pushes dossier `code` with its receipt alone (received Monday 2 March 08:00).
fn push_received(app: &TestApp, token: &str, code: &str) {
    let r = app.post(
        "/api/v1/dossiers/bulk",
        token,
        &json!([dossier(
            code,
            json!([ev("1", "received", "02T08:00:00")]),
            json!([]),
            Value::Null
        )]),
    );
    assert_eq!(r.body["created"], 1, "{}", r.text);
}

/// `PUT /dossiers/{code}` of `body`.
fn put_dossier(app: &TestApp, token: &str, code: &str, body: &Value) -> Reply {
    app.call(
        HttpMethod::PUT,
        &format!("/api/v1/dossiers/{code}"),
        Some(token),
        Some(body),
    )
}

/// Whether a dossier's answer carries `flag`.
fn flagged(body: &Value, flag: &str) -> bool {
    body["flags"]
        .as_array()
        .is_some_and(|flags| flags.iter().any(|f| f == flag))
}

fn pdf() -> Value {
    json!([{"name": "ketqua.pdf", "mediaType": "application/pdf", "sizeBytes": 1000, "sha256": PDF, "pages": 1, "signed": true}])
}

fn finished_events() -> Value {
    json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "processing", "02T09:00:00"),
        ev("3", "finished", "04T10:00:00")
    ])
}

fn synced(status: &str) -> Value {
    json!({"syncedAt": "2026-03-04T10:05:00+07:00", "syncedStatus": status})
}

fn with_vendor_due(mut d: Value) -> Value {
    d["dueAt"] = json!("2026-03-06T17:00:00+07:00");
    d
}

fn batch() -> Value {
    json!([
        dossier(
            "C1-260302-0001",
            finished_events(),
            pdf(),
            synced("finished")
        ),
        dossier("C1-260302-0002", finished_events(), json!([]), Value::Null),
        dossier(
            "C1-260302-0003",
            finished_events(),
            json!([
                {"name": "ketqua.zip", "mediaType": "application/zip", "sizeBytes": 10, "sha256": "aa"},
                {"name": "trang.pdf", "mediaType": "application/pdf", "sizeBytes": 0, "sha256": "bb"},
                {"name": "tokhai.pdf", "mediaType": "application/pdf", "sizeBytes": 10, "sha256": FORM}
            ]),
            synced("finished")
        ),
        dossier(
            "C1-260302-0004",
            finished_events(),
            pdf(),
            synced("processing")
        ),
        dossier(
            "C1-260302-0005",
            json!([ev("3", "finished", "04T10:00:00")]),
            pdf(),
            synced("finished")
        ),
        dossier("BTP-000123", finished_events(), pdf(), synced("finished")),
        with_vendor_due(dossier(
            "C1-260302-0007",
            finished_events(),
            pdf(),
            synced("finished")
        )),
        dossier(
            "C1-260302-0008",
            json!([ev("1", "received", "02T08:00:00")]),
            json!([]),
            Value::Null
        ),
    ])
}

fn flags(app: &TestApp, token: &str, code: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/dossiers/{code}"), token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_same_bulk_three_times_leaves_the_same_state() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let first = app.post("/api/v1/dossiers/bulk", &admin, &batch());
    assert_eq!(first.status, Status::OK, "{}", first.text);
    assert_eq!(first.body["created"], 8, "{}", first.text);
    let before = app.get("/api/v1/dossiers?limit=500", &admin).body;
    for _ in 0..2 {
        let again = app.post("/api/v1/dossiers/bulk", &admin, &batch());
        assert_eq!(
            (
                again.body["unchanged"].as_u64(),
                again.body["created"].as_u64()
            ),
            (Some(8), Some(0))
        );
    }
    assert_eq!(app.get("/api/v1/dossiers?limit=500", &admin).body, before);
}

/// The store keeps a dossier's details without what is absent, empty or false, and its audit
/// entry with the status only: neither shows in what the API answers.
#[test]
fn a_dossier_with_nothing_optional_reads_back_whole() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let bare = json!({
        "code": "C1-260302-0101", "procedureCode": "1.000001", "unit": "C1",
        "channel": "inPerson", "receivedAt": "2026-03-02T08:00:00+07:00",
        "applicant": {"kind": "citizen", "name": "Trần Thị Bình"},
        "events": [ev("1", "received", "02T08:00:00")]
    });
    let r = app.post("/api/v1/dossiers/bulk", &admin, &json!([bare]));
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let d = app.get("/api/v1/dossiers/C1-260302-0101", &admin).body;
    assert_eq!(d["unit"], "C1");
    assert_eq!(d["applicant"]["name"], "Trần Thị Bình");
    assert!(d["applicant"]["identityLast4"].is_null(), "{d}");
    for (field, empty) in [
        ("fees", json!([])),
        ("components", json!([])),
        ("results", json!([])),
        ("financialObligation", json!(false)),
        ("vneidVerified", json!(false)),
        ("populationDbUsed", json!(false)),
        ("reusesDigitizedData", json!(false)),
    ] {
        assert_eq!(d[field], empty, "{field} in {d}");
    }
    let listed = app.get("/api/v1/dossiers?unit=C1&limit=500", &admin);
    let item = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["code"] == "C1-260302-0101"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["unit"], "C1", "{}", listed.text);
    let audit = app.get(
        "/api/v1/audit?resourceType=dossier&resourceId=C1-260302-0101",
        &admin,
    );
    assert_eq!(audit.body["items"][0]["action"], "create", "{}", audit.text);
    assert_eq!(
        audit.body["items"][0]["after"],
        json!({"status": "received"})
    );
}

/// A dossier stored by an earlier version, its details in the full form and its input hash in
/// full (64 characters), reads the same, and the same push again leaves it unchanged.
#[test]
fn a_dossier_stored_in_the_earlier_forms_reads_and_compares_as_before() {
    use diesel::prelude::*;
    use tthc_core::db::schema::dossiers;
    use tthc_core::db::{Database, DatabaseUrl};

    let test_db = tthc_tests::TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = seed(&app);
    let push = json!([{
        "code": "C1-260302-0102", "procedureCode": "1.000001", "unit": "C1",
        "channel": "online", "receivedAt": "2026-03-02T08:00:00+07:00",
        "applicant": {"kind": "organization", "name": "Công ty TNHH Minh An"},
        "events": [ev("1", "received", "02T08:00:00")]
    }]);
    assert_eq!(
        app.post("/api/v1/dossiers/bulk", &admin, &push).body["created"],
        1
    );
    let before = app.get("/api/v1/dossiers/C1-260302-0102", &admin).body;
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let mut conn = db.conn().unwrap();
    let target = dossiers::table.filter(dossiers::code.eq("C1-260302-0102"));
    let (hash, data): (String, String) = target
        .select((dossiers::input_hash, dossiers::data))
        .first(&mut *conn)
        .unwrap();
    assert_eq!(hash.len(), 32, "{hash}");
    assert!(!data.contains("fees"), "{data}");
    let full = serde_json::to_string(&serde_json::from_value::<tthc_core::dossier::DossierDetails>(
        json!({
            "submittedAt": null,
            "applicant": {"kind": "organization", "name": "Công ty TNHH Minh An", "identityLast4": null},
            "fees": [], "financialObligation": false, "components": [], "vneidVerified": false,
            "populationDbUsed": false, "results": [], "vendorDueAt": null
        }),
    )
    .unwrap())
    .unwrap();
    diesel::update(target)
        .set((
            dossiers::input_hash.eq(format!("{hash}{}", "e".repeat(32))),
            dossiers::data.eq(&full),
        ))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(
        app.get("/api/v1/dossiers/C1-260302-0102", &admin).body,
        before
    );
    let again = app.post("/api/v1/dossiers/bulk", &admin, &push);
    assert_eq!(
        (
            again.body["unchanged"].as_u64(),
            again.body["updated"].as_u64()
        ),
        (Some(1), Some(0)),
        "{}",
        again.text
    );
}

#[test]
fn every_quality_flag_is_raised_with_its_dossier() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    assert_eq!(
        app.post("/api/v1/dossiers/bulk", &admin, &batch()).body["rejected"],
        0
    );
    assert_eq!(flags(&app, &admin, "C1-260302-0001"), Vec::<String>::new());
    assert_eq!(
        flags(&app, &admin, "C1-260302-0002"),
        ["noResultDocument", "neverSynced"]
    );
    assert_eq!(
        flags(&app, &admin, "C1-260302-0003"),
        ["archiveResult", "emptyResult", "resultIsComponent"]
    );
    assert_eq!(flags(&app, &admin, "C1-260302-0004"), ["syncBehind"]);
    assert_eq!(flags(&app, &admin, "C1-260302-0005"), ["missingSteps"]);
    assert_eq!(flags(&app, &admin, "BTP-000123"), ["nonStandardCode"]);
    assert_eq!(flags(&app, &admin, "C1-260302-0007"), ["dueDateDisagrees"]);
    let flagged = app.get("/api/v1/dossiers?flag=neverSynced", &admin);
    let codes: Vec<&str> = flagged.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["C1-260302-0002"],
        "the dossier still in progress is not finished, so not flagged"
    );
    let unsynced = app.get("/api/v1/dossiers?synced=false", &admin);
    assert_eq!(unsynced.body["items"].as_array().unwrap().len(), 2);
}

#[test]
fn due_dates_timing_and_the_identity_number() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    app.post("/api/v1/dossiers/bulk", &admin, &batch());
    let d = app.get("/api/v1/dossiers/C1-260302-0001", &admin);
    assert_eq!(
        d.body["dueAt"], "2026-03-05T08:00:00+07:00",
        "computed from the procedure's 3 working days"
    );
    assert_eq!(d.body["timing"], "finishedEarly");
    assert_eq!(d.body["status"], "finished");
    assert_eq!(d.body["statusCode"], 9);
    assert_eq!(d.body["field"], "HT");
    assert_eq!(d.body["applicant"]["identityLast4"], "2345");
    assert!(d.body["applicant"].get("identityHash").is_none());
    assert!(
        !d.text.contains("001090012345"),
        "the identity number is never returned"
    );
    let disagreeing = app.get("/api/v1/dossiers/C1-260302-0007", &admin);
    assert_eq!(
        (
            disagreeing.body["dueAt"].as_str(),
            disagreeing.body["ruleDueAt"].as_str()
        ),
        (
            Some("2026-03-06T17:00:00+07:00"),
            Some("2026-03-05T08:00:00+07:00")
        )
    );
    // The dossier still in progress since March is overdue now.
    let overdue = app.get("/api/v1/dossiers?overdue=true", &admin);
    let codes: Vec<&str> = overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["C1-260302-0008"]);
    let csv = Reply::from(
        app.raw()
            .get(app.url("/api/v1/dossiers?overdue=true"))
            .bearer_auth(&admin)
            .header("Accept", "text/csv")
            .send()
            .unwrap(),
    );
    assert!(
        csv.text
            .trim_start_matches('\u{feff}')
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("C1-260302-0008,1.000001,HT,C1,online,received,")
    );
}

/// Events of one instant are judged in the order pushed (registered, then received, at the
/// receipt instant), and so are they when the stored history is judged again for a later event:
/// read back by id ("rcv" before "reg") it broke the rules, and the new event was refused.
#[test]
fn events_of_one_instant_keep_the_order_they_were_pushed_in() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0012";
    let d = dossier(
        code,
        json!([
            ev("reg", "newlyRegistered", "02T08:00:00"),
            ev("rcv", "received", "02T08:00:00")
        ]),
        pdf(),
        Value::Null,
    );
    let r = put_dossier(&app, &admin, code, &d);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let r = app.post(
        &format!("/api/v1/dossiers/{code}/events"),
        &admin,
        &ev("p", "processing", "02T09:00:00"),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["result"], "added", "{}", r.text);
    let stored = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body;
    let ids: Vec<&str> = stored["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["reg", "rcv", "p"], "{stored}");
    assert!(!flagged(&stored, "refusedEvents"), "{stored}");
    // Pushed whole as it now stands, it is the same history, hashed alike: nothing changes.
    let mut whole = d;
    whole["events"] = json!([
        ev("reg", "newlyRegistered", "02T08:00:00"),
        ev("rcv", "received", "02T08:00:00"),
        ev("p", "processing", "02T09:00:00")
    ]);
    let again = put_dossier(&app, &admin, code, &whole);
    assert_eq!(again.body["result"], "unchanged", "{}", again.text);
}

/// A push that adds a status change to a stored dossier writes only the event it adds: the
/// stored event rows stay as they were, written when they were. A push that changes a stored
/// event writes them all again, and the dossier reads the same either way.
#[test]
fn a_status_change_adds_its_event_and_keeps_the_stored_ones() {
    use diesel::prelude::*;
    use tthc_core::db::schema::{dossier_events as e, dossiers as d};
    use tthc_core::db::{Database, DatabaseUrl};

    let test_db = tthc_tests::TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = seed(&app);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let code = "C1-260302-0013";
    // The stored events' ids, places and receipt instants, in the order they were pushed.
    let rows = || -> Vec<(String, i32, chrono::NaiveDateTime)> {
        e::table
            .inner_join(d::table.on(d::id.eq(e::dossier_id)))
            .filter(d::code.eq(code))
            .select((e::event_id, e::seq, e::received_at))
            .order(e::seq.asc())
            .load(&mut *db.conn().unwrap())
            .unwrap()
    };
    let places = |rows: &[(String, i32, chrono::NaiveDateTime)]| -> Vec<(String, i32)> {
        rows.iter().map(|(id, seq, _)| (id.clone(), *seq)).collect()
    };
    // Written to the tenth of a microsecond, as .NET writes instants: PostgreSQL keeps
    // microseconds, and the instant sent again is still the one it kept.
    let events = |n: usize| {
        let mut events = finished_events();
        for e in events.as_array_mut().unwrap() {
            e["at"] = json!(
                e["at"]
                    .as_str()
                    .unwrap()
                    .replace("+07:00", ".1234567+07:00")
            );
        }
        json!(events.as_array().unwrap()[..n])
    };
    let r = put_dossier(
        &app,
        &admin,
        code,
        &dossier(code, events(2), pdf(), Value::Null),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let first = rows();
    assert_eq!(first.len(), 2);
    std::thread::sleep(std::time::Duration::from_millis(20));

    // Through the bulk API, which reads the stored events to weigh the push before storing it.
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([dossier(code, events(3), pdf(), Value::Null)]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["updated"], 1, "{}", r.text);
    let second = rows();
    assert_eq!(
        places(&second),
        [("1".into(), 0), ("2".into(), 1), ("3".into(), 2)]
    );
    assert_eq!(
        second[..2],
        first[..],
        "the stored events were written again"
    );
    assert!(second[2].2 > first[1].2, "{second:?}");
    let stored = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body;
    assert_eq!(stored["status"], "finished", "{stored}");
    assert_eq!(stored["events"].as_array().unwrap().len(), 3, "{stored}");
    std::thread::sleep(std::time::Duration::from_millis(20));

    // The second event corrected: every event is written again, in the pushed order.
    let mut corrected = events(3);
    corrected[1]["note"] = json!("assigned to the land office");
    let r = put_dossier(
        &app,
        &admin,
        code,
        &dossier(code, corrected, pdf(), Value::Null),
    );
    assert_eq!(r.body["result"], "updated", "{}", r.text);
    let third = rows();
    assert_eq!(places(&third), places(&second));
    assert!(
        third.iter().all(|(_, _, at)| *at > second[2].2),
        "{third:?} after {second:?}"
    );
    let stored = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body;
    assert_eq!(
        stored["events"][1]["note"], "assigned to the land office",
        "{stored}"
    );
    assert_eq!(stored["status"], "finished", "{stored}");
}

/// A dossier holds at most 500 events however they arrive: each write judges and stores its
/// whole history again, so events added one by one past a push's limit made every later write
/// of it slower without end.
#[test]
fn a_dossier_holds_at_most_500_events() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0013";
    let at = |i: usize| format!("02T{:02}:{:02}:{:02}", 8 + i / 3600, i / 60 % 60, i % 60);
    let events: Vec<Value> = (0..500)
        .map(|i| {
            let status = if i == 0 { "received" } else { "processing" };
            ev(&format!("e{i}"), status, &at(i))
        })
        .collect();
    let d = dossier(code, json!(events), pdf(), Value::Null);
    let r = put_dossier(&app, &admin, code, &d);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let post = |e: Value| app.post(&format!("/api/v1/dossiers/{code}/events"), &admin, &e);
    let r = post(ev("e500", "finished", &at(500)));
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert!(r.text.contains("at most 500 events"), "{}", r.text);
    assert_eq!(
        post(ev("e499", "processing", &at(499))).body["result"],
        "duplicate"
    );
    let stored = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body;
    assert_eq!(stored["events"].as_array().unwrap().len(), 500);
    assert_eq!(stored["status"], "processing");
}

#[test]
fn events_arrive_in_any_order_and_forbidden_transitions_are_refused() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0009";
    let mut d = dossier(
        code,
        json!([ev("1", "received", "02T08:00:00")]),
        pdf(),
        Value::Null,
    );
    d.as_object_mut().unwrap().remove("code");
    let r = put_dossier(&app, &admin, code, &d);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let post = |e: Value| app.post(&format!("/api/v1/dossiers/{code}/events"), &admin, &e);
    assert_eq!(
        post(ev("3", "finished", "04T10:00:00")).body["status"],
        "finished"
    );
    // An earlier event arriving late takes its place in the history.
    let late = post(ev("2", "processing", "03T09:00:00"));
    assert_eq!(
        (late.body["result"].as_str(), late.body["status"].as_str()),
        (Some("added"), Some("finished"))
    );
    assert_eq!(
        post(ev("2", "processing", "03T09:00:00")).body["result"],
        "duplicate"
    );
    post(ev("2", "stopped", "03T09:00:00")).assert_problem(Status::CONFLICT, "conflict");
    // Sent with seven digits, as .NET writes instants, and again: the same event, on
    // PostgreSQL too, which kept it to the microsecond.
    let dotnet = ev("4", "returned", "05T08:00:00.1234567");
    assert_eq!(post(dotnet.clone()).body["status"], "returned");
    let again = post(dotnet);
    assert_eq!(again.body["result"], "duplicate", "{}", again.text);
    let refused = post(ev("5", "received", "06T08:00:00"));
    refused.assert_problem(Status::CONFLICT, "conflict");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("received cannot follow returned"),
        "{}",
        refused.text
    );
    // The refusal is kept on the dossier with its reason, once however often it is sent.
    post(ev("5", "received", "06T08:00:00")).assert_problem(Status::CONFLICT, "conflict");
    // An event dated outside the window is refused as such, before the transition rules, and
    // not kept (it was kept as a refused transition, with a 409).
    for at in ["0001-01-01T00:00:00+07:00", "9999-01-01T00:00:00+07:00"] {
        let r = post(json!({"id": "6", "status": "received", "at": at}));
        r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
        assert_eq!(r.invalid_names(), ["at"], "{}", r.text);
    }
    let kept = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    let refused_events = kept.body["refusedEvents"].as_array().unwrap();
    assert_eq!(refused_events.len(), 1, "{}", kept.text);
    assert_eq!(refused_events[0]["id"], "5");
    assert_eq!(refused_events[0]["status"], "received");
    assert!(
        flagged(&kept.body, "refusedEvents"),
        "a refused event flags the dossier: {}",
        kept.text
    );
    assert!(
        refused_events[0]["reason"]
            .as_str()
            .unwrap()
            .contains("received cannot follow returned")
    );
    let events = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body["events"].clone();
    let ids: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4"],
        "in instant order, the refused one not stored"
    );

    // A push whose history breaks the rules is stored without the events that break them,
    // which are kept aside with their reason and flagged; the same push again changes nothing.
    let mut messy = d.clone();
    messy["events"] = json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "finished", "03T08:00:00"),
        ev("3", "returned", "03T09:00:00"),
        ev("4", "processing", "04T08:00:00")
    ]);
    let put_messy = || {
        app.call(
            HttpMethod::PUT,
            "/api/v1/dossiers/C1-260302-0012",
            Some(&admin),
            Some(&messy),
        )
    };
    let r = put_messy();
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(put_messy().body["result"], "unchanged");
    let stored = app.get("/api/v1/dossiers/C1-260302-0012", &admin);
    assert_eq!(stored.body["status"], "returned");
    assert_eq!(stored.body["events"].as_array().unwrap().len(), 3);
    assert_eq!(stored.body["refusedEvents"].as_array().unwrap().len(), 1);
    assert_eq!(stored.body["refusedEvents"][0]["id"], "4");
    assert!(flagged(&stored.body, "refusedEvents"), "{}", stored.text);
    // A clean push afterwards keeps the flag: the refused event stays on record.
    let mut tidy = messy.clone();
    tidy["events"] = json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "finished", "03T08:00:00"),
        ev("3", "returned", "03T09:00:00")
    ]);
    let clean = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0012",
        Some(&admin),
        Some(&tidy),
    );
    assert_eq!(clean.status, Status::OK, "{}", clean.text);
    let stored = app.get("/api/v1/dossiers/C1-260302-0012", &admin);
    assert_eq!(stored.body["refusedEvents"].as_array().unwrap().len(), 1);
    assert!(flagged(&stored.body, "refusedEvents"), "{}", stored.text);

    // The commonest real gaps are stored and flagged, never refused: returned with no finished
    // step, and returned a few minutes before its finished step.
    let mut gap = d.clone();
    gap["events"] = json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "returned", "03T08:00:00")
    ]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0010",
        Some(&admin),
        Some(&gap),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let stored = app.get("/api/v1/dossiers/C1-260302-0010", &admin);
    assert_eq!(stored.body["status"], "returned");
    assert!(flagged(&stored.body, "missingSteps"), "{}", stored.text);
    let finished = app.post(
        "/api/v1/dossiers/C1-260302-0010/events",
        &admin,
        &ev("3", "finished", "03T08:05:00"),
    );
    assert_eq!(finished.status, Status::OK, "{}", finished.text);
    let stored = app.get("/api/v1/dossiers/C1-260302-0010", &admin);
    assert_eq!(stored.body["status"], "finished");
    assert_eq!(stored.body["endedAt"], "2026-03-03T08:05:00+07:00");
    assert!(flagged(&stored.body, "missingSteps"), "{}", stored.text);
}

#[test]
fn vendors_act_only_for_their_units() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    app.post("/api/v1/dossiers/bulk", &admin, &batch());
    let (_, other) = app.client(
        "sttt-vendor",
        &["dossiers:read", "dossiers:write"],
        &["STTTT"],
    );
    app.get("/api/v1/dossiers/C1-260302-0001", &other)
        .assert_problem(Status::NOT_FOUND, "notFound");
    assert_eq!(app.get("/api/v1/dossiers", &other).body["items"], json!([]));
    let mut d = dossier("x", finished_events(), pdf(), Value::Null);
    d.as_object_mut().unwrap().remove("code");
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0011",
        Some(&other),
        Some(&d),
    );
    assert_eq!(r.invalid_names(), ["unit"]);
    app.post(
        "/api/v1/dossiers/C1-260302-0001/events",
        &other,
        &ev("9", "returned", "05T08:00:00"),
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
    let (_, reader) = app.client("reader", &["dossiers:read"], &["P"]);
    app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0011",
        Some(&reader),
        Some(&d),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert_eq!(
        app.get("/api/v1/dossiers?unit=STP&limit=3", &reader).body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_timeline_counts_a_finish_dated_a_little_ahead_as_the_stored_timing_does() {
    use chrono::Timelike;
    let app = TestApp::spawn();
    let admin = seed(&app);
    // The sender's clock runs two minutes fast: its finish is dated ahead of the service's.
    let now = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .with_nanosecond(0)
        .unwrap();
    let received = (now - chrono::TimeDelta::days(1)).to_rfc3339();
    let finished = (now + chrono::TimeDelta::minutes(2)).to_rfc3339();
    let mut d = dossier(
        "C1-261206-0041",
        json!([
            {"id": "1", "status": "received", "at": received},
            {"id": "2", "status": "finished", "at": finished}
        ]),
        pdf(),
        Value::Null,
    );
    d["receivedAt"] = json!(received);
    let r = app.post("/api/v1/dossiers/bulk", &admin, &json!([d]));
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let stored = app.get("/api/v1/dossiers/C1-261206-0041", &admin).body;
    assert!(stored["endedAt"].is_string(), "{stored}");
    let t = app.get("/api/v1/dossiers/C1-261206-0041/timeline", &admin);
    assert_eq!(t.status, Status::OK, "{}", t.text);
    // Until 2026-12-07 the timeline judged at now and left the finish out: open, no timing.
    assert_eq!(t.body["endedAt"], stored["endedAt"], "{}", t.text);
    assert_eq!(t.body["timing"], stored["timing"], "{}", t.text);
    assert!(
        t.body["timing"]
            .as_str()
            .is_some_and(|t| t.starts_with("finished")),
        "{}",
        t.text
    );
    assert_eq!(t.body["at"], stored["endedAt"], "judged at the finish");
}

#[test]
fn timelines_explain_and_lists_answer_the_periods_questions() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let supplemented = json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "processing", "02T09:00:00"),
        ev("3", "supplementRequested", "03T10:00:00"),
        ev("4", "processing", "04T10:00:00"),
        ev("5", "finished", "06T07:59:00")
    ]);
    let late = json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "finished", "05T09:00:00")
    ]);
    let now = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap());
    let mut fresh = dossier("C1-261121-0021", json!([]), json!([]), Value::Null);
    fresh["receivedAt"] = json!(now.to_rfc3339());
    let mut week_old = dossier("C1-261114-0022", json!([]), json!([]), Value::Null);
    week_old["receivedAt"] = json!((now - chrono::TimeDelta::days(7)).to_rfc3339());
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier("C1-260302-0031", supplemented, pdf(), synced("finished")),
            dossier("C1-260302-0032", late, pdf(), synced("finished")),
            fresh,
            week_old
        ]),
    );
    assert_eq!(r.body["created"], 4, "{}", r.text);

    let t = app.get("/api/v1/dossiers/C1-260302-0031/timeline", &admin);
    assert_eq!(t.status, Status::OK, "{}", t.text);
    assert_eq!(t.body["timing"], "finishedOnTime");
    assert_eq!(t.body["ruleDueAt"], "2026-03-05T08:00:00+07:00");
    assert_eq!(t.body["effectiveDueAt"], "2026-03-06T08:00:00+07:00");
    assert_eq!(t.body["supplementWorkingHours"], 8.0);
    assert!(
        t.body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("supplement requested"))
    );
    assert_eq!(
        t.body["dueExplanation"],
        json!([]),
        "Monday to Thursday: no day skipped"
    );

    let finished_late = app.get("/api/v1/dossiers?timing=finishedLate&finishedFrom=2026-03-01T00:00:00%2B07:00&finishedTo=2026-04-01T00:00:00%2B07:00", &admin);
    let codes: Vec<&str> = finished_late.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["C1-260302-0032"],
        "{}",
        app.get("/api/v1/dossiers/C1-260302-0031", &admin).text
    );

    let warning = app.get("/api/v1/dossiers?dueWithinHours=2000", &admin);
    let codes: Vec<&str> = warning.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["C1-261114-0022", "C1-261121-0021"],
        "soonest due first; finished dossiers left out"
    );
    // Pages of one follow the same order through the cursor.
    let first = app.get("/api/v1/dossiers?dueWithinHours=2000&limit=1", &admin);
    assert_eq!(first.body["items"][0]["code"], "C1-261114-0022");
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = app.get(
        &format!("/api/v1/dossiers?dueWithinHours=2000&limit=1&cursor={cursor}"),
        &admin,
    );
    assert_eq!(
        second.body["items"][0]["code"], "C1-261121-0021",
        "{}",
        second.text
    );
    // A cursor of one order is refused in the other (a due instant read as a receipt instant
    // skipped or repeated rows).
    app.get(&format!("/api/v1/dossiers?limit=1&cursor={cursor}"), &admin)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let by_receipt = app.get("/api/v1/dossiers?limit=1", &admin);
    let receipt_cursor = by_receipt.body["nextCursor"].as_str().unwrap();
    app.get(
        &format!("/api/v1/dossiers?sort=dueAt&limit=1&cursor={receipt_cursor}"),
        &admin,
    )
    .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    app.get("/api/v1/dossiers?sort=name", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    // What dueWithinHours overrides is refused, not ignored.
    let r = app.get(
        "/api/v1/dossiers?dueWithinHours=8&dueBefore=2026-12-01T00:00:00%2B07:00&sort=-receivedAt",
        &admin,
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["dueBefore", "sort"], "{}", r.text);
}

/// Province P edits its 2026 calendar: Tuesday 3 March becomes a day off.
fn make_3_march_a_day_off_in_p(app: &TestApp, admin: &str) {
    let year = json!({"weekdays": [1, 2, 3, 4, 5], "periods": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}],
        "intakeCutoff": "15:00", "daysOff": [{"date": "2026-03-03", "name": "Ngày lễ tỉnh", "kind": "holiday"}]});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/calendars/P/2026",
        Some(admin),
        Some(&year),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
}

/// Province Q (district QD, commune QC) on the national calendar, beside P, which makes Tuesday
/// 3 March a day off.
fn add_province_q_beside_p_with_a_day_off(app: &TestApp, admin: &str) {
    app.unit("Q", "province", None);
    app.unit("QD", "district", Some("Q"));
    app.unit("QC", "commune", Some("QD"));
    make_3_march_a_day_off_in_p(app, admin);
}

#[test]
fn one_batch_over_two_provinces_follows_each_province_calendar() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    add_province_q_beside_p_with_a_day_off(&app, &admin);
    let received = || json!([ev("1", "received", "02T08:00:00")]);
    let mut in_q = dossier("QC-260302-0001", received(), json!([]), Value::Null);
    in_q["unit"] = json!("QC");
    let mut nowhere = dossier("XX-260302-0001", received(), json!([]), Value::Null);
    nowhere["unit"] = json!("XX");
    // The units of a batch are read together: each dossier still gets its own unit's province.
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier("C1-260302-0051", received(), json!([]), Value::Null),
            nowhere,
            in_q
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        (r.body["created"].as_i64(), r.body["rejected"].as_i64()),
        (Some(2), Some(1)),
        "{}",
        r.text
    );
    let due =
        |code: &str| app.get(&format!("/api/v1/dossiers/{code}"), &admin).body["dueAt"].clone();
    assert_eq!(
        due("C1-260302-0051"),
        "2026-03-06T08:00:00+07:00",
        "P's day off counts"
    );
    assert_eq!(
        due("QC-260302-0001"),
        "2026-03-05T08:00:00+07:00",
        "Q's calendar is national"
    );
    app.get("/api/v1/dossiers/XX-260302-0001", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn a_stored_due_date_does_not_move_when_the_calendar_is_edited() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    push_received(&app, &admin, "C1-260302-0041");
    let before = app.get("/api/v1/dossiers/C1-260302-0041", &admin);
    assert_eq!(before.body["dueAt"], "2026-03-05T08:00:00+07:00");
    // The province makes Tuesday 3 March a day off.
    make_3_march_a_day_off_in_p(&app, &admin);
    let due_now = app.call(HttpMethod::GET, "/api/v1/calendar/due?unit=C1&start=2026-03-02T08:00:00%2B07:00&amount=3&measure=workingDays", None, None);
    assert_eq!(
        due_now.body["due"], "2026-03-06T08:00:00+07:00",
        "new computations follow the edit"
    );
    let after = app.get("/api/v1/dossiers/C1-260302-0041", &admin);
    assert_eq!(
        after.body["dueAt"], before.body["dueAt"],
        "the stored due date stays"
    );
    // A new event rewrites the dossier's derived state, but not its due date.
    let r = app.post(
        "/api/v1/dossiers/C1-260302-0041/events",
        &admin,
        &ev("2", "processing", "02T09:00:00"),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let after_event = app.get("/api/v1/dossiers/C1-260302-0041", &admin);
    assert_eq!(after_event.body["status"], "processing");
    assert_eq!(after_event.body["dueAt"], "2026-03-05T08:00:00+07:00");
    // Only an explicit recompute moves it, audited with its reason.
    let r = app.call_with(
        HttpMethod::POST,
        "/api/v1/dossiers/C1-260302-0041/recompute-due",
        Some(&admin),
        None,
        &[("X-Audit-Reason", "Ngày lễ tỉnh 3/3 được công bố sau")],
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["previousRuleDueAt"], "2026-03-05T08:00:00+07:00");
    assert_eq!(r.body["ruleDueAt"], "2026-03-06T08:00:00+07:00");
    assert_eq!(r.body["changed"], true);
    let recomputed = app.get("/api/v1/dossiers/C1-260302-0041", &admin);
    assert_eq!(recomputed.body["dueAt"], "2026-03-06T08:00:00+07:00");
    assert_eq!(recomputed.body["version"], 3);
    let again = app.post(
        "/api/v1/dossiers/C1-260302-0041/recompute-due",
        &admin,
        &json!({}),
    );
    assert_eq!(again.body["changed"], false, "{}", again.text);
    let audit = app.get("/api/v1/audit?resourceType=dossier&limit=10", &admin);
    assert!(
        audit.text.contains("Ngày lễ tỉnh 3/3 được công bố sau"),
        "{}",
        audit.text
    );
    // Outside the caller's units the dossier does not exist.
    let (_, other) = app.client("other", &["dossiers:write"], &["STTTT"]);
    app.post(
        "/api/v1/dossiers/C1-260302-0041/recompute-due",
        &other,
        &json!({}),
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn sync_failures_and_event_details_are_kept() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut d = dossier(
        "C1-260302-0051",
        json!([
            ev("1", "received", "02T08:00:00"),
            {"id": "2", "status": "supplementRequested", "at": "2026-03-02T10:00:00+07:00",
             "actor": "canbo.motcua@bacninh.gov.vn", "note": "Thiếu bản sao giấy khai sinh",
             "payload": {"documents": ["Bản sao giấy khai sinh"], "letter": "15/TB-UBND"}}
        ]),
        json!([]),
        json!({"syncedAt": "2026-03-02T08:05:00+07:00", "syncedStatus": "received"}),
    );
    d.as_object_mut().unwrap().remove("code");
    d["syncError"] = json!({"at": "2026-03-02T10:05:00+07:00", "message": "MaHoSo không hợp lệ"});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0051",
        Some(&admin),
        Some(&d),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let got = app.get("/api/v1/dossiers/C1-260302-0051", &admin);
    assert_eq!(got.body["syncError"]["message"], "MaHoSo không hợp lệ");
    assert_eq!(got.body["syncError"]["at"], "2026-03-02T10:05:00+07:00");
    let event = &got.body["events"][1];
    assert_eq!(event["actor"], "canbo.motcua@bacninh.gov.vn");
    assert_eq!(event["note"], "Thiếu bản sao giấy khai sinh");
    assert_eq!(event["payload"]["letter"], "15/TB-UBND");
    assert_eq!(event["payload"]["documents"][0], "Bản sao giấy khai sinh");
    // The failure is later than the last success: flagged, and listed by the flag.
    assert!(flags(&app, &admin, "C1-260302-0051").contains(&"syncFailing".to_owned()));
    let listed = app.get("/api/v1/dossiers?flag=syncFailing", &admin);
    assert_eq!(listed.body["items"][0]["code"], "C1-260302-0051");
    // A later success clears it.
    d["sync"] =
        json!({"syncedAt": "2026-03-02T11:00:00+07:00", "syncedStatus": "supplementRequested"});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0051",
        Some(&admin),
        Some(&d),
    );
    assert_eq!(r.body["result"], "updated", "{}", r.text);
    assert!(!flags(&app, &admin, "C1-260302-0051").contains(&"syncFailing".to_owned()));
    // A payload beyond 8 KiB is refused, naming the field.
    let big = json!({"id": "3", "status": "processing", "at": "2026-03-03T08:00:00+07:00",
        "payload": {"text": "x".repeat(9000)}});
    let r = app.post("/api/v1/dossiers/C1-260302-0051/events", &admin, &big);
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(r.invalid_names(), ["payload"]);
}

#[test]
fn an_idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    push_received(&app, &admin, "C1-260302-0061");
    let event = ev("2", "processing", "02T09:00:00");
    let send = |body: &Value, key: &str| {
        app.call_with(
            HttpMethod::POST,
            "/api/v1/dossiers/C1-260302-0061/events",
            Some(&admin),
            Some(body),
            &[("Idempotency-Key", key)],
        )
    };
    let first = send(&event, "k-0061-a");
    assert_eq!(first.status, Status::OK, "{}", first.text);
    assert_eq!(first.body["result"], "added");
    assert_eq!(first.header("idempotent-replayed"), None);
    // The retry gets the first answer again ("added", not "duplicate"), marked as a replay.
    let retry = send(&event, "k-0061-a");
    assert_eq!(retry.status, Status::OK);
    assert_eq!(retry.text, first.text);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // Without the key the same request is answered afresh.
    let fresh = app.post("/api/v1/dossiers/C1-260302-0061/events", &admin, &event);
    assert_eq!(fresh.body["result"], "duplicate");
    // The same key with another body is refused and changes nothing.
    let other = ev("3", "finished", "03T09:00:00");
    send(&other, "k-0061-a").assert_problem(Status::UNPROCESSABLE_ENTITY, "idempotencyKeyReused");
    let got = app.get("/api/v1/dossiers/C1-260302-0061", &admin);
    assert_eq!(got.body["events"].as_array().unwrap().len(), 2);
    // A request that breaks the document is answered 400 whatever is stored: replayed.
    let malformed = json!({"id": "5", "status": "nonsense", "at": "2026-03-02T09:00:00+07:00"});
    send(&malformed, "k-0061-c").assert_problem(Status::BAD_REQUEST, "validationFailed");
    let malformed_again = send(&malformed, "k-0061-c");
    assert_eq!(malformed_again.header("idempotent-replayed"), Some("true"));
    // A refusal the stored history decides is not kept: the retry is judged again.
    let bad = ev("4", "received", "01T09:00:00");
    send(&bad, "k-0061-b").assert_problem(Status::CONFLICT, "conflict");
    let version =
        |app: &TestApp| app.get("/api/v1/dossiers/C1-260302-0061", &admin).body["version"].clone();
    let after_refusal = version(&app);
    let refused_again = send(&bad, "k-0061-b");
    refused_again.assert_problem(Status::CONFLICT, "conflict");
    assert_eq!(refused_again.header("idempotent-replayed"), None);
    // The refusal is on record once: the retry makes no new version (nor audit entry, nor
    // delivery).
    assert_eq!(version(&app), after_refusal);
    // An event arriving before its dossier: 404, and the retry after the dossier came lands.
    let early = |key: &str| {
        app.call_with(
            HttpMethod::POST,
            "/api/v1/dossiers/C1-260302-0062/events",
            Some(&admin),
            Some(&ev("2", "processing", "02T09:00:00")),
            &[("Idempotency-Key", key)],
        )
    };
    early("k-0062-a").assert_problem(Status::NOT_FOUND, "notFound");
    push_received(&app, &admin, "C1-260302-0062");
    let landed = early("k-0062-a");
    assert_eq!(landed.body["result"], "added", "{}", landed.text);
    assert_eq!(landed.header("idempotent-replayed"), None);
    assert_eq!(
        early("k-0062-a").header("idempotent-replayed"),
        Some("true")
    );
    // Keys belong to a client: another client's same key is a new request.
    let (_, vendor) = app.client("vendor", &["dossiers:write", "dossiers:read"], &["C1"]);
    let theirs = app.call_with(
        HttpMethod::POST,
        "/api/v1/dossiers/C1-260302-0061/events",
        Some(&vendor),
        Some(&event),
        &[("Idempotency-Key", "k-0061-a")],
    );
    assert_eq!(theirs.body["result"], "duplicate", "{}", theirs.text);
    // A key that is not a token of visible characters is refused.
    send(&event, "").assert_problem(Status::BAD_REQUEST, "validationFailed");
}

/// A raw HTTP/1.1 POST of `head`'s headers and then `body`, over a socket of its own, and the
/// status line and headers of the answer (`None` if none came within 20 s).
fn raw_post(app: &TestApp, head: &str, body: &[u8]) -> Option<String> {
    use std::io::{Read, Write};
    let base = app.url("");
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(authority).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    socket
        .write_all(format!("{head}Host: {authority}\r\n\r\n").as_bytes())
        .unwrap();
    // The server may answer and close before the whole body is sent: what it answered is read.
    let _ = socket.write_all(body);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn an_idempotent_request_is_refused_once_its_body_passes_the_routes_limit() {
    // The idempotency middleware reads the body before the handler; it read up to the bulk
    // limit (64 MiB) on every route, so any write route could hold that much per request.
    let app = TestApp::spawn();
    let admin = seed(&app);
    push_received(&app, &admin, "C1-260302-0063");
    let path = "/api/v1/dossiers/C1-260302-0063/events";
    let head = |framing: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nAuthorization: Bearer {admin}\r\n\
             Idempotency-Key: k-0063\r\nContent-Type: application/json\r\n{framing}"
        )
    };
    // A declared length past the route's 1 MiB: refused before any of it is sent.
    let declared = raw_post(&app, &head("Content-Length: 2000000\r\n"), b"")
        .expect("no answer: the body was awaited");
    assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");
    assert!(declared.contains("application/problem+json"), "{declared}");
    // A chunked body is refused once it passes 1 MiB, not read on to its end.
    let mut chunk = format!("{:x}\r\n", 1_100_000).into_bytes();
    chunk.extend(std::iter::repeat_n(b' ', 1_100_000));
    chunk.extend_from_slice(b"\r\n");
    let streamed = raw_post(&app, &head("Transfer-Encoding: chunked\r\n"), &chunk)
        .expect("no answer: the body was read on past the route's limit");
    assert!(streamed.starts_with("HTTP/1.1 413"), "{streamed}");
    // Nothing was kept under the key: a request that fits is answered afresh.
    let fits = app.call_with(
        HttpMethod::POST,
        path,
        Some(&admin),
        Some(&ev("2", "processing", "02T09:00:00")),
        &[("Idempotency-Key", "k-0063")],
    );
    assert_eq!(fits.status, Status::OK, "{}", fits.text);
    assert_eq!(fits.body["result"], "added");
    // A bulk route still takes a body past 1 MiB under a key.
    let many: Vec<Value> = (0..2000)
        .map(|i| {
            let mut d = dossier(
                &format!("C1-260302-{:04}", 2000 + i),
                json!([ev("1", "received", "02T08:00:00")]),
                json!([]),
                Value::Null,
            );
            d["components"] = (1..=6)
                .map(|k| json!({"name": format!("Thành phần {k}"), "sha256": FORM}))
                .collect();
            d
        })
        .collect();
    assert!(json!(many).to_string().len() > 1024 * 1024);
    let bulk = app.call_with(
        HttpMethod::POST,
        "/api/v1/dossiers/bulk",
        Some(&admin),
        Some(&json!(many)),
        &[("Idempotency-Key", "k-bulk-0063")],
    );
    assert_eq!(bulk.status, Status::OK, "{}", bulk.text);
    assert_eq!(bulk.body["created"], 2000, "{}", bulk.text);
}

#[test]
fn a_bulk_item_needs_its_code_and_a_put_body_may_only_repeat_the_path() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut without_code = dossier("x", finished_events(), pdf(), Value::Null);
    without_code.as_object_mut().unwrap().remove("code");
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            without_code.clone(),
            dossier("C1-260302-0071", finished_events(), pdf(), Value::Null)
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["rejected"], 1, "{}", r.text);
    assert_eq!(r.body["created"], 1);
    assert_eq!(r.body["items"][0]["invalidParams"][0]["name"], "code");
    // The same body with the path's code is accepted; with another code it is refused.
    let same = dossier("C1-260302-0072", finished_events(), pdf(), Value::Null);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0072",
        Some(&admin),
        Some(&same),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0073",
        Some(&admin),
        Some(&same),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["code"]);
    app.get("/api/v1/dossiers/C1-260302-0073", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

/// Each bulk item's `result`, in order.
fn results_of(r: &Reply) -> Vec<&str> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect()
}

/// The status, version and event ids of a stored dossier.
fn state_of(app: &TestApp, token: &str, code: &str) -> (String, i64, Vec<String>) {
    let r = app.get(&format!("/api/v1/dossiers/{code}"), token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let ids = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    (
        r.body["status"].as_str().unwrap().to_owned(),
        r.body["version"].as_i64().unwrap(),
        ids,
    )
}

#[test]
fn a_late_older_push_stores_nothing_and_if_match_takes_events_back() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0061";
    let received = json!([
        ev("1", "received", "02T08:00:00"),
        ev("2", "processing", "02T09:00:00")
    ]);
    let older = dossier(code, received.clone(), json!([]), Value::Null);
    let newer = dossier(code, finished_events(), pdf(), synced("finished"));
    assert_eq!(
        put_dossier(&app, &admin, code, &older).status,
        Status::CREATED
    );
    let r = put_dossier(&app, &admin, code, &newer);
    assert_eq!(r.body["result"], "updated", "{}", r.text);
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        state_of(&app, &admin, code),
        ("finished".into(), 2, ids(&["1", "2", "3"]))
    );
    // The retry of the first push lands after the second: nothing is taken back.
    let r = put_dossier(&app, &admin, code, &older);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["result"], "stale", "{}", r.text);
    let r = app.post("/api/v1/dossiers/bulk", &admin, &json!([older]));
    assert_eq!(
        (
            r.body["stale"].as_u64(),
            r.body["items"][0]["result"].as_str()
        ),
        (Some(1), Some("stale")),
        "{}",
        r.text
    );
    assert_eq!(
        state_of(&app, &admin, code),
        ("finished".into(), 2, ids(&["1", "2", "3"]))
    );
    // A correction (event 2 at another instant) is stored, the finish it lacks with it.
    let corrected = dossier(
        code,
        json!([
            ev("1", "received", "02T08:00:00"),
            ev("2", "processing", "02T10:00:00")
        ]),
        json!([]),
        Value::Null,
    );
    assert_eq!(
        put_dossier(&app, &admin, code, &corrected).body["result"],
        "updated"
    );
    assert_eq!(
        state_of(&app, &admin, code),
        ("processing".into(), 3, ids(&["1", "2"]))
    );
    // Events taken back on purpose: the push names the version it replaces.
    assert_eq!(
        put_dossier(&app, &admin, code, &newer).body["result"],
        "updated"
    );
    let got = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(got.header("etag"), Some("\"4\""));
    let with_tag = |tag: &str| {
        app.call_with(
            HttpMethod::PUT,
            &format!("/api/v1/dossiers/{code}"),
            Some(&admin),
            Some(&older),
            &[("If-Match", tag)],
        )
    };
    with_tag("\"3\"").assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    assert_eq!(
        state_of(&app, &admin, code).1,
        4,
        "a refused push stores nothing"
    );
    let r = with_tag("\"4\"");
    assert_eq!(r.body["result"], "updated", "{}", r.text);
    assert_eq!(
        state_of(&app, &admin, code),
        ("processing".into(), 5, ids(&["1", "2"]))
    );
    // "0" insists the dossier is new.
    let fresh = dossier("C1-260302-0062", received, json!([]), Value::Null);
    let put_new = |tag: &str| {
        app.call_with(
            HttpMethod::PUT,
            "/api/v1/dossiers/C1-260302-0062",
            Some(&admin),
            Some(&fresh),
            &[("If-Match", tag)],
        )
    };
    assert_eq!(put_new("\"0\"").status, Status::CREATED);
    put_new("\"0\"").assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    // Outside the caller's units nothing is told of the dossier, stale or not.
    let (_, other) = app.client("other-writer", &["dossiers:write"], &["STTTT"]);
    put_dossier(&app, &other, code, &older)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
}

#[test]
fn items_of_one_code_in_a_batch_are_taken_one_after_another() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let received = || json!([ev("1", "received", "02T08:00:00")]);
    let mut elsewhere = dossier("C1-260302-0072", finished_events(), pdf(), Value::Null);
    elsewhere["unit"] = json!("XX");
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            // A change log: received, then finished. The later is stored.
            dossier("C1-260302-0071", received(), json!([]), Value::Null),
            dossier("C1-260302-0071", finished_events(), pdf(), Value::Null),
            // Finished, then a late copy of the receipt: the receipt is an older state.
            dossier("C1-260302-0073", finished_events(), pdf(), Value::Null),
            dossier("C1-260302-0073", received(), json!([]), Value::Null),
            // A refused later item leaves the earlier one taken.
            dossier("C1-260302-0072", received(), json!([]), Value::Null),
            elsewhere,
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        results_of(&r),
        [
            "stale", "created", "created", "stale", "created", "rejected"
        ],
        "{}",
        r.text
    );
    assert_eq!(
        (
            r.body["created"].as_u64(),
            r.body["stale"].as_u64(),
            r.body["rejected"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(state_of(&app, &admin, "C1-260302-0071").0, "finished");
    assert_eq!(state_of(&app, &admin, "C1-260302-0073").0, "finished");
    assert_eq!(state_of(&app, &admin, "C1-260302-0072").0, "received");
    // The same batch again: the stored states are the batch's last, so nothing changes.
    let again = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier("C1-260302-0071", received(), json!([]), Value::Null),
            dossier("C1-260302-0071", finished_events(), pdf(), Value::Null),
        ]),
    );
    assert_eq!(results_of(&again), ["stale", "unchanged"], "{}", again.text);
}

/// An item that a later item of its code replaces leaves on record what pushing it alone would
/// have: its rating (the later of the two) and the events the rules refused. The batch leaves
/// the dossier as the same pushes one after another do.
#[test]
fn a_replaced_batch_item_leaves_its_rating_and_refused_events() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let rated = |mut d: Value, value: &str, at: &str| {
        d["rating"] = json!({"value": value, "at": format!("2026-03-{at}+07:00")});
        d
    };
    let returned = || {
        vec![
            ev("1", "received", "02T08:00:00"),
            ev("2", "finished", "03T08:00:00"),
            ev("3", "returned", "03T09:00:00"),
        ]
    };
    let with = |extra: Option<Value>| {
        let mut events = returned();
        events.extend(extra);
        Value::Array(events)
    };
    let items = |code: &str| {
        [
            // Rated dissatisfied; processing after the return is refused.
            rated(
                dossier(
                    code,
                    with(Some(ev("4", "processing", "04T08:00:00"))),
                    pdf(),
                    Value::Null,
                ),
                "dissatisfied",
                "04T11:00:00",
            ),
            // An earlier rating, which does not replace the later one; a receipt after the
            // return is refused.
            rated(
                dossier(
                    code,
                    with(Some(ev("5", "received", "03T10:00:00"))),
                    pdf(),
                    Value::Null,
                ),
                "satisfied",
                "03T11:00:00",
            ),
            // No rating; the sync came, and a step after the return, refused.
            dossier(
                code,
                with(Some(ev("6", "processing", "05T08:00:00"))),
                pdf(),
                synced("returned"),
            ),
        ]
    };
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!(items("C1-260302-0075")),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(results_of(&r), ["stale", "stale", "created"], "{}", r.text);
    for (i, item) in items("C1-260302-0076").iter().enumerate() {
        let r = put_dossier(&app, &admin, "C1-260302-0076", item);
        assert!(r.status.is_success(), "item {i}: {}", r.text);
    }
    let kept = |code: &str| {
        let d = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body;
        let refused: Vec<(Value, Value, Value)> = d["refusedEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].clone(), e["status"].clone(), e["reason"].clone()))
            .collect();
        (
            d["rating"].clone(),
            refused,
            d["flags"].clone(),
            d["status"].clone(),
            d["events"].as_array().map(Vec::len),
        )
    };
    let batch = kept("C1-260302-0075");
    assert_eq!(
        batch.0["value"], "dissatisfied",
        "the later rating: {batch:?}"
    );
    assert_eq!(
        batch
            .1
            .iter()
            .map(|(id, _, _)| id.clone())
            .collect::<Vec<_>>(),
        [json!("4"), json!("5"), json!("6")],
        "in the order pushed: {batch:?}"
    );
    assert!(
        flagged(&json!({"flags": batch.2}), "refusedEvents"),
        "{batch:?}"
    );
    assert_eq!(
        batch,
        kept("C1-260302-0076"),
        "the batch and the same pushes one by one"
    );
    // The same input hash too: the last push again changes neither.
    for code in ["C1-260302-0075", "C1-260302-0076"] {
        let r = put_dossier(&app, &admin, code, &items(code)[2]);
        assert_eq!(r.body["result"], "unchanged", "{code}: {}", r.text);
    }
}

/// A batch that ends where the stored dossier is still records the events its earlier items
/// had refused, as a change of the dossier; the same batch again changes nothing.
#[test]
fn a_batch_back_to_the_stored_state_still_records_what_it_refused() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let events = |extra: Option<Value>| {
        let mut events = vec![
            ev("1", "received", "02T08:00:00"),
            ev("2", "finished", "03T08:00:00"),
            ev("3", "returned", "03T09:00:00"),
        ];
        events.extend(extra);
        Value::Array(events)
    };
    let stored = |code: &str| {
        let mut d = dossier(code, events(None), pdf(), Value::Null);
        d["rating"] = json!({"value": "satisfied", "at": "2026-03-04T11:00:00+07:00"});
        d
    };
    let refusing = |code: &str| {
        dossier(
            code,
            events(Some(ev("4", "processing", "04T08:00:00"))),
            pdf(),
            Value::Null,
        )
    };
    let (batch, one_by_one) = ("C1-260302-0077", "C1-260302-0078");
    for code in [batch, one_by_one] {
        assert_eq!(
            put_dossier(&app, &admin, code, &stored(code)).status,
            Status::CREATED
        );
    }
    let audited = || {
        let r = app.get(
            &format!("/api/v1/audit?resourceType=dossier&resourceId={batch}"),
            &admin,
        );
        r.body["items"].as_array().map(Vec::len)
    };
    let push = || {
        app.post(
            "/api/v1/dossiers/bulk",
            &admin,
            &json!([refusing(batch), stored(batch)]),
        )
    };
    let r = push();
    assert_eq!(results_of(&r), ["stale", "updated"], "{}", r.text);
    for d in [refusing(one_by_one), stored(one_by_one)] {
        let r = put_dossier(&app, &admin, one_by_one, &d);
        assert_eq!(r.body["result"], "updated", "{}", r.text);
    }
    let kept = |code: &str| {
        let d = app.get(&format!("/api/v1/dossiers/{code}"), &admin).body;
        let refused: Vec<Value> = d["refusedEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect();
        (
            d["rating"]["value"].clone(),
            refused,
            d["flags"].clone(),
            d["version"].clone(),
        )
    };
    let after = kept(batch);
    assert_eq!(after.1, [json!("4")], "{after:?}");
    assert!(
        flagged(&json!({"flags": after.2}), "refusedEvents"),
        "{after:?}"
    );
    assert_eq!(
        (&after.0, after.3.as_i64()),
        (&json!("satisfied"), Some(2)),
        "{after:?}"
    );
    let alone = kept(one_by_one);
    assert_eq!(
        (&after.0, &after.1, &after.2),
        (&alone.0, &alone.1, &alone.2)
    );
    assert_eq!(audited(), Some(2), "created, then changed by the batch");
    let again = push();
    assert_eq!(results_of(&again), ["stale", "unchanged"], "{}", again.text);
    assert_eq!(kept(batch), after, "nothing changed");
    assert_eq!(audited(), Some(2));
}

#[test]
fn a_dossier_moved_to_another_province_gets_that_province_due_date() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0081";
    let d = dossier(
        code,
        json!([ev("1", "received", "02T08:00:00")]),
        json!([]),
        Value::Null,
    );
    assert_eq!(put_dossier(&app, &admin, code, &d).status, Status::CREATED);
    let due = || app.get(&format!("/api/v1/dossiers/{code}"), &admin).body["dueAt"].clone();
    assert_eq!(due(), "2026-03-05T08:00:00+07:00", "the national calendar");
    // P makes Tuesday 3 March a day off after the receipt; Q keeps the national calendar.
    add_province_q_beside_p_with_a_day_off(&app, &admin);
    let move_to = |unit: &str| {
        let mut moved = d.clone();
        moved["unit"] = json!(unit);
        let r = put_dossier(&app, &admin, code, &moved);
        assert_eq!(r.body["result"], "updated", "{}", r.text);
        due()
    };
    // Q makes Wednesday 4 and Thursday 5 March days off.
    let q_year = json!({"weekdays": [1, 2, 3, 4, 5], "periods": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}],
        "intakeCutoff": "15:00", "daysOff": [{"date": "2026-03-04", "name": "Lễ tỉnh Q", "kind": "holiday"},
                                             {"date": "2026-03-05", "name": "Lễ tỉnh Q", "kind": "holiday"}]});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/calendars/Q/2026",
        Some(&admin),
        Some(&q_year),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // Moved within P, to a unit of P's calendar: the due date stays, as after any edit.
    assert_eq!(move_to("STTTT"), "2026-03-05T08:00:00+07:00", "kept in P");
    // Moved to Q, then back to P: each province's calendar as it is now.
    assert_eq!(move_to("QC"), "2026-03-09T08:00:00+07:00", "Q's days off");
    assert_eq!(
        move_to("C1"),
        "2026-03-06T08:00:00+07:00",
        "P's day off counts"
    );
}

/// Instants are compared to the microsecond, as PostgreSQL keeps them: a late retry written with
/// a .NET vendor's seven digits is still the older state it is on both backends.
#[test]
fn a_late_retry_written_to_the_tenth_of_a_microsecond_is_still_stale() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0091";
    let at = |d: &str| format!("2026-03-{d}+07:00");
    let received = json!([
        {"id": "1", "status": "received", "at": at("02T08:00:00.1234567")},
        {"id": "2", "status": "processing", "at": at("02T09:00:00.7654321")}
    ]);
    let mut all = received.clone();
    all.as_array_mut()
        .unwrap()
        .push(json!({"id": "3", "status": "finished", "at": at("04T10:00:00.0000009")}));
    let older = dossier(code, received, json!([]), Value::Null);
    assert_eq!(
        put_dossier(&app, &admin, code, &older).status,
        Status::CREATED
    );
    let newer = dossier(code, all, pdf(), Value::Null);
    assert_eq!(
        put_dossier(&app, &admin, code, &newer).body["result"],
        "updated"
    );
    assert_eq!(
        put_dossier(&app, &admin, code, &older).body["result"],
        "stale"
    );
    let got = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(got.body["status"], "finished");
}

/// A vendor that says when its record last changed (`revisedAt`) has its pushes ordered by it:
/// a correction revised later is stored even when it takes a step back, in bulk too, and a push
/// revised earlier is stale even with more events. Without it on either side, the events decide.
#[test]
fn the_vendors_revision_instant_orders_its_pushes() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0101";
    let revised = |d: Value, at: &str| {
        let mut d = d;
        d["revisedAt"] = json!(format!("2026-03-{at}+07:00"));
        d
    };
    let received = || {
        json!([
            ev("1", "received", "02T08:00:00"),
            ev("2", "processing", "02T09:00:00")
        ])
    };
    let push = |items: Value| {
        let r = app.post("/api/v1/dossiers/bulk", &admin, &items);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        r
    };
    let open = dossier(code, received(), json!([]), Value::Null);
    let finished = dossier(code, finished_events(), pdf(), Value::Null);
    push(json!([revised(open.clone(), "04T10:00:00")]));
    let r = push(json!([revised(finished.clone(), "04T11:00:00")]));
    assert_eq!(results_of(&r), ["updated"]);
    // The finish was a mistake: the vendor takes it back, revised later. Stored.
    let r = push(json!([revised(open.clone(), "05T09:00:00")]));
    assert_eq!(results_of(&r), ["updated"], "{}", r.text);
    let (status, _, ids) = state_of(&app, &admin, code);
    assert_eq!((status.as_str(), ids.len()), ("processing", 2));
    let got = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(got.body["revisedAt"], "2026-03-05T09:00:00+07:00");
    // The finished push again, revised before the correction: stale, more events or not.
    let r = push(json!([revised(finished.clone(), "04T11:00:00")]));
    assert_eq!(results_of(&r), ["stale"], "{}", r.text);
    // Without a revision instant the events decide: the receipt alone is older.
    let receipt = dossier(
        code,
        json!([ev("1", "received", "02T08:00:00")]),
        json!([]),
        Value::Null,
    );
    assert_eq!(results_of(&push(json!([receipt]))), ["stale"]);
    assert_eq!(state_of(&app, &admin, code).0, "processing");
    // A push that does not say (a fee added) keeps the stored revision instant.
    let mut with_fee = dossier(code, received(), json!([]), Value::Null);
    with_fee["fees"] = json!([{"name": "Lệ phí", "amountVnd": 8000}]);
    assert_eq!(results_of(&push(json!([with_fee]))), ["updated"]);
    let got = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(got.body["revisedAt"], "2026-03-05T09:00:00+07:00");
    // So the finished push revised before the correction is still older.
    let r = push(json!([revised(finished.clone(), "04T11:00:00")]));
    assert_eq!(results_of(&r), ["stale"], "{}", r.text);
    // A step added on its own after the last revision: a push revised later that lacks it could
    // not have known of it, and is older; one that lists it is stored.
    let r = app.post(
        &format!("/api/v1/dossiers/{code}/events"),
        &admin,
        &ev("3", "finished", "06T10:00:00"),
    );
    assert_eq!(r.body["result"], "added", "{}", r.text);
    let r = push(json!([revised(open, "05T10:00:00")]));
    assert_eq!(results_of(&r), ["stale"], "{}", r.text);
    let mut both = dossier(code, received(), json!([]), Value::Null);
    both["events"]
        .as_array_mut()
        .unwrap()
        .push(ev("3", "finished", "06T10:00:00"));
    let r = push(json!([revised(both, "06T11:00:00")]));
    assert_eq!(results_of(&r), ["updated"], "{}", r.text);
    // A push revised later without any events takes none back.
    let bare = dossier(code, json!([]), json!([]), Value::Null);
    let r = push(json!([revised(bare, "07T09:00:00")]));
    assert_eq!(results_of(&r), ["stale"], "{}", r.text);
    assert_eq!(state_of(&app, &admin, code).0, "finished");
    // In one batch an item without a revision instant carries that of the item before it: the
    // returned push (no instant) after a fee corrected at 8 March 09:00 is the later one.
    let all = || {
        let mut e = received();
        let e_list = e.as_array_mut().unwrap();
        e_list.push(ev("3", "finished", "06T10:00:00"));
        e
    };
    let mut fee_fixed = dossier(code, all(), json!([]), Value::Null);
    fee_fixed["fees"] = json!([{"name": "Lệ phí", "amountVnd": 10000}]);
    let mut returned = dossier(code, all(), json!([]), Value::Null);
    returned["events"]
        .as_array_mut()
        .unwrap()
        .push(ev("4", "returned", "08T10:00:00"));
    let r = push(json!([revised(fee_fixed, "08T09:00:00"), returned]));
    assert_eq!(results_of(&r), ["stale", "updated"], "{}", r.text);
    let got = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(
        (&got.body["status"], &got.body["revisedAt"]),
        (&json!("returned"), &json!("2026-03-08T09:00:00+07:00"))
    );
    // A revision instant ahead of now is refused, naming the field.
    let mut ahead = finished;
    ahead["revisedAt"] = json!((chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339());
    let r = push(json!([ahead]));
    assert_eq!(results_of(&r), ["rejected"], "{}", r.text);
    assert_eq!(r.body["items"][0]["invalidParams"][0]["name"], "revisedAt");
}

/// A supplement request or an end of handling dated before the receipt is refused (409) and
/// kept aside, sent alone or in a push (until 2026-12-07 a request typed in 2000 added 26 years
/// of working time to the due instant, and the overdue dossier dropped out of `overdue=true`).
#[test]
fn a_clock_stop_dated_before_the_receipt_is_set_aside() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0013";
    let mistyped =
        json!({"id": "2", "status": "supplementRequested", "at": "2000-03-02T09:00:00+07:00"});
    let post = |e: &Value| app.post(&format!("/api/v1/dossiers/{code}/events"), &admin, e);
    let mut d = dossier(
        code,
        json!([ev("1", "received", "02T08:00:00")]),
        pdf(),
        Value::Null,
    );
    d.as_object_mut().unwrap().remove("code");
    let r = put_dossier(&app, &admin, code, &d);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let refused = post(&mistyped);
    refused.assert_problem(Status::CONFLICT, "conflict");
    assert!(
        refused.text.contains("before the receipt"),
        "{}",
        refused.text
    );
    // In a push: stored without it, flagged, and judged as if it had not been sent.
    d["events"] = json!([ev("1", "received", "02T08:00:00"), mistyped]);
    let r = put_dossier(&app, &admin, code, &d);
    assert!(r.status.is_success(), "{}", r.text);
    let kept = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(
        kept.body["events"].as_array().unwrap().len(),
        1,
        "{}",
        kept.text
    );
    assert_eq!(kept.body["refusedEvents"][0]["id"], "2", "{}", kept.text);
    assert!(flagged(&kept.body, "refusedEvents"), "{}", kept.text);
    assert_eq!(
        kept.body["effectiveDueAt"], "2026-03-05T08:00:00+07:00",
        "{}",
        kept.text
    );
    let overdue = app.get("/api/v1/dossiers?overdue=true&limit=500", &admin);
    assert!(overdue.text.contains(code), "{}", overdue.text);
}
