//! The relay to the national portal, against a stand-in portal started by the test on a
//! loopback port: dossiers go out in the portal's dialect, each attempt is recorded on its
//! dossiers, a portal failing for a while (refusing with `error_code`, answering 500, not
//! answering in time) is retried and caught up in order, and the queue shows what waits.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tthc_api::config::Config;
use tthc_core::delivery::Backoff;
use tthc_tests::receiver::{Answer, Delivery, Receiver};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::procedures::seed;

/// Quick deliveries that never give up within a test.
fn patient(url: &str) -> Config {
    let mut c = tthc_tests::config(url);
    c.webhooks.poll = Duration::from_millis(50);
    c.webhooks.timeout = Duration::from_secs(1);
    c.webhooks.backoff = Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(300),
        max_attempts: 1000,
    };
    c
}

const WAIT: Duration = Duration::from_secs(40);

fn push(app: &TestApp, token: &str, prefix: &str, n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"code": format!("C1-{prefix}-{i:04}"), "procedureCode": "1.000001", "unit": "C1",
                   "channel": "online", "receivedAt": "2026-03-02T08:00:00+07:00",
                   "applicant": {"kind": "citizen", "name": "Nguyễn Văn An"},
                   "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]})
        })
        .collect();
    let r = app.post("/api/v1/dossiers/bulk", token, &json!(items));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body
}

/// Every dossier item the portal took, in arrival order: (code, status code).
fn taken_items(portal: &Receiver) -> Vec<(String, i64)> {
    portal
        .deliveries()
        .iter()
        .filter(|d| d.taken)
        .flat_map(|d: &Delivery| d.body["data"].as_array().cloned().unwrap_or_default())
        .map(|i| {
            (
                i["MaHoSo"].as_str().unwrap_or_default().to_owned(),
                i["TrangThaiHoSo"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn wait_dossier(app: &TestApp, token: &str, code: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = app.get(&format!("/api/v1/dossiers/{code}"), token);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        if done(&r.body) || Instant::now() > deadline {
            return r.body;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn event(app: &TestApp, token: &str, code: &str, id: &str, status: &str, at: &str) {
    let r = app.post(
        &format!("/api/v1/dossiers/{code}/events"),
        token,
        &json!({"id": id, "status": status, "at": at}),
    );
    assert!(r.status.is_success(), "{}", r.text);
}

/// The audit trail of dossier `code`.
fn audit_of(app: &TestApp, token: &str, code: &str) -> Vec<Value> {
    let r = app.get(
        &format!("/api/v1/audit?resourceType=dossier&resourceId={code}"),
        token,
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

fn relay(app: &TestApp, token: &str, portal: &Receiver) -> Value {
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        Some(token),
        Some(&json!({"url": portal.url, "session": "phien-dang-nhap-123"})),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    r.body
}

#[test]
fn dossiers_go_to_the_portal_in_its_dialect_and_their_sync_is_recorded() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    let portal = Receiver::start();
    let view = relay(&app, &admin, &portal);
    assert_eq!(view["waiting"], 0);
    assert_eq!(view["subscription"], "portal-relay.P");

    push(&app, &admin, "A", 3);
    assert!(portal.wait_for(WAIT, |_| taken_items(&portal).len() >= 3));
    let first = &portal.deliveries()[0];
    assert_eq!(first.session, "phien-dang-nhap-123");
    assert_eq!(first.body["service"], "DongBoHoSoMC");
    assert_eq!(first.body["isUpdating"], false, "never synced before");
    let item = &first.body["data"][0];
    assert_eq!(item["MaHoSo"], "C1-A-0000");
    assert_eq!(item["MaTTHC"], "1.000001");
    assert_eq!(item["DonViXuLy"], "C1");
    assert_eq!(item["NgayTiepNhan"], "20260302080000");
    assert_eq!(item["TrangThaiHoSo"], 2);
    assert_eq!(item["KenhThucHien"], 2);
    assert_eq!(item["ChuHoSo"], "Nguyễn Văn An");

    // Recorded on the dossier, as the relay (the vendor reported nothing).
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| !d["syncedAt"].is_null());
    assert_eq!(d["syncedStatus"], "received", "{d}");
    assert!(d["syncError"].is_null());
    let audit = audit_of(&app, &admin, "C1-A-0000");
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "sync" && e["clientId"] == "portal-relay"),
        "{audit:?}"
    );
    // Its own records are not relayed again, nor is a vendor's retry of the same push: the
    // sync the relay recorded is not the vendor's change.
    let again = push(&app, &admin, "A", 3);
    assert_eq!(again["unchanged"], 3, "{again}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(taken_items(&portal).len(), 3, "no loop");

    // The portal is down for a while: the attempts are recorded, the queue shows the wait.
    portal.answer(Answer::ErrorCode(-1));
    event(
        &app,
        &admin,
        "C1-A-0000",
        "2",
        "processing",
        "2026-03-02T09:00:00+07:00",
    );
    push(&app, &admin, "B", 150);
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| !d["syncError"].is_null());
    assert!(
        d["syncError"]["message"]
            .as_str()
            .unwrap()
            .contains("error_code -1"),
        "{d}"
    );
    assert!(
        d["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("syncFailing")),
        "{d}"
    );
    event(
        &app,
        &admin,
        "C1-A-0000",
        "3",
        "finished",
        "2026-03-03T10:00:00+07:00",
    );
    let deadline = Instant::now() + WAIT;
    let view = loop {
        let r = app.get("/api/v1/portal-relays/P", &admin);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        // Waiting in full, and the relay has tried (and failed) since.
        let tried = r.body["failing"].as_i64().unwrap_or(0) >= 1;
        if (r.body["waiting"] == 151 && tried) || Instant::now() > deadline {
            break r.body;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(view["waiting"], 151, "{view}");
    assert_eq!(view["queue"][0]["unit"], "C1");
    assert!(view["failing"].as_i64().unwrap() >= 1, "{view}");
    assert!(view["failures"].as_i64().unwrap() >= 1);
    assert!(view["queue"][0]["oldestAgeSeconds"].as_i64().unwrap() >= 0);
    assert!(
        view["lastError"]
            .as_str()
            .unwrap()
            .contains("error_code -1")
    );

    // Back: it catches up, in order.
    portal.answer(Answer::Take);
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| {
        d["syncedStatus"] == "finished" && d["syncError"].is_null()
    });
    assert_eq!(d["syncedStatus"], "finished", "{d}");
    assert!(
        !d["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("syncFailing"))
    );
    assert!(portal.wait_for(WAIT, |_| {
        taken_items(&portal)
            .iter()
            .filter(|(c, _)| c.starts_with("C1-B-"))
            .count()
            >= 150
    }));
    let taken = taken_items(&portal);
    let statuses: Vec<i64> = taken
        .iter()
        .filter(|(c, _)| c == "C1-A-0000")
        .map(|(_, s)| *s)
        .collect();
    assert!(
        statuses.windows(2).all(|w| w[0] <= w[1]),
        "one dossier's states arrive in order: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&9), "finished");
    let b: Vec<&str> = taken
        .iter()
        .filter(|(c, _)| c.starts_with("C1-B-"))
        .map(|(c, _)| c.as_str())
        .collect();
    let mut sorted = b.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 150);
    assert_eq!(
        b[..sorted.len()],
        sorted[..],
        "first taken in the feed's order"
    );
    let updating = portal
        .deliveries()
        .iter()
        .filter(|d| d.taken)
        .any(|d| d.body["isUpdating"] == true);
    assert!(updating, "a dossier synced before goes as an update");
    let deadline = Instant::now() + WAIT;
    loop {
        let r = app.get("/api/v1/portal-relays/P", &admin);
        if r.body["waiting"] == 0 {
            assert_eq!(r.body["failing"], 0);
            break;
        }
        assert!(Instant::now() < deadline, "{}", r.text);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_portal_that_does_not_answer_or_fails_is_retried() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    let portal = Receiver::start();
    portal.answer(Answer::Slowly(Duration::from_millis(1500)));
    relay(&app, &admin, &portal);
    push(&app, &admin, "A", 1);
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| !d["syncError"].is_null());
    assert!(
        d["syncError"]["message"]
            .as_str()
            .unwrap()
            .contains("no answer within 1 s"),
        "{d}"
    );
    portal.answer(Answer::Refuse(500));
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| {
        d["syncError"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("500"))
    });
    assert!(
        d["syncError"]["message"].as_str().unwrap().contains("500"),
        "{d}"
    );
    assert!(d["syncedAt"].is_null());
    // An answer holding a NUL, which PostgreSQL's text refuses: recorded without it (it was not
    // recorded at all, and the attempt's failure with it).
    portal.answer(Answer::RefuseWith(502, "bad\0gateway"));
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| {
        d["syncError"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("502"))
    });
    let message = d["syncError"]["message"].as_str().unwrap();
    assert!(message.contains("bad") && !message.contains('\0'), "{d}");
    // The relay's own record of the attempt follows the dossiers'.
    let started = std::time::Instant::now();
    loop {
        let relay = app.get("/api/v1/portal-relays/P", &admin);
        if relay.body["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("502"))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            relay.text
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    portal.answer(Answer::Take);
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| d["syncError"].is_null());
    assert_eq!(d["syncedStatus"], "received", "{d}");
    let synced_at = d["syncedAt"].clone();

    // Held: nothing goes out; the queue waits.
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        Some(&admin),
        Some(&json!({"url": portal.url, "session": "phien-moi", "active": false})),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // Under the relay, the sync a vendor reports is not taken: the relay's record stands.
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([{"code": "C1-A-0000", "procedureCode": "1.000001", "unit": "C1",
                 "channel": "online", "receivedAt": "2026-03-02T08:00:00+07:00",
                 "applicant": {"kind": "citizen", "name": "Nguyễn Văn An"},
                 "sync": {"syncedAt": "2026-03-02T09:00:00+07:00", "syncedStatus": "received"},
                 "syncError": {"at": "2026-03-02T10:00:00+07:00", "message": "the vendor says so"},
                 "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]}]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let d = app.get("/api/v1/dossiers/C1-A-0000", &admin).body;
    assert_eq!(d["syncedAt"], synced_at, "{d}");
    assert!(d["syncError"].is_null(), "{d}");
    push(&app, &admin, "B", 2);
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        !taken_items(&portal)
            .iter()
            .any(|(c, _)| c.starts_with("C1-B-")),
        "held"
    );
    let r = app.get("/api/v1/portal-relays/P", &admin);
    assert_eq!(r.body["active"], false);
}

#[test]
fn a_relay_is_set_by_a_relay_admin_over_its_units() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    let (_, no_scope) = app.client("no-relay", &["dossiers:read"], &["P"]);
    let body = json!({"url": "https://dichvucong.gov.vn/api/sync", "session": "s"});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        Some(&no_scope),
        Some(&body),
    );
    assert_eq!(r.status, Status::FORBIDDEN, "{}", r.text);
    let (_, stp) = app.client("stp-relay", &["relay:admin"], &["STP"]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        Some(&stp),
        Some(&body),
    );
    r.assert_problem(Status::NOT_FOUND, "notFound");
    let bad = json!({"url": "ftp://dichvucong.gov.vn/sync", "session": "s"});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        Some(&admin),
        Some(&bad),
    );
    assert_eq!(r.status, Status::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.invalid_names(), ["url"]);
    // A session no header can carry: every delivery would fail to be built.
    for session in ["abc\n", "abc\r\nX-Injected: 1", "a\tb"] {
        let r = app.call(
            HttpMethod::PUT,
            "/api/v1/portal-relays/P",
            Some(&admin),
            Some(&json!({"url": "https://dichvucong.gov.vn/api/sync", "session": session})),
        );
        r.assert_problem(Status::BAD_REQUEST, "validationFailed");
        assert_eq!(r.invalid_names(), ["session"], "{}", r.text);
    }
    app.get("/api/v1/portal-relays/P", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        Some(&admin),
        Some(&body),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    // It is a subscription, seen with the others, changed only here; the session is not shown.
    let sub = app.get("/api/v1/subscriptions/portal-relay.P", &admin);
    assert_eq!(sub.status, Status::OK, "{}", sub.text);
    assert_eq!(sub.body["kind"], "portal");
    assert!(!sub.text.contains("\"s\""));
    let r = app.patch(
        "/api/v1/subscriptions/portal-relay.P",
        &admin,
        &json!({"active": false}),
    );
    r.assert_problem(Status::CONFLICT, "conflict");

    // Relays do not nest: the portal would receive the units' dossiers from both.
    let set = |unit: &str| {
        app.call(
            HttpMethod::PUT,
            &format!("/api/v1/portal-relays/{unit}"),
            Some(&admin),
            Some(&body),
        )
    };
    let r = set("C1");
    r.assert_problem(Status::CONFLICT, "conflict");
    assert_eq!(r.invalid_names(), ["unit"], "{}", r.text);
    app.get("/api/v1/portal-relays/C1", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    assert_eq!(set("P").status, Status::OK, "its own relay is set again");
    let r = app.call(
        HttpMethod::DELETE,
        "/api/v1/subscriptions/portal-relay.P",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
    for unit in ["C1", "STTTT"] {
        assert_eq!(set(unit).status, Status::CREATED, "{unit}");
    }
    set("P").assert_problem(Status::CONFLICT, "conflict");
}

/// Two held relays' `PUT`s (unit and session each), sent at once while the subscriptions' table
/// is held, so that both have read before either writes; their statuses, sorted.
fn put_two_held_relays_at_once(
    app: &TestApp,
    token: &str,
    a: (&str, &str),
    b: (&str, &str),
) -> Vec<Status> {
    let put = |(unit, session): (&str, &str)| {
        app.call(
            HttpMethod::PUT,
            &format!("/api/v1/portal-relays/{unit}"),
            Some(token),
            Some(
                &json!({"url": "https://dichvucong.gov.vn/api/sync", "session": session,
                         "active": false}),
            ),
        )
    };
    let answers = app.both_while_held(
        "LOCK TABLE subscriptions IN SHARE ROW EXCLUSIVE MODE",
        || put(a),
        || put(b),
    );
    let mut statuses: Vec<Status> = answers.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || *s == Status::CONFLICT),
        "{} / {}",
        answers[0].text,
        answers[1].text
    );
    statuses
}

/// A province's relay and its commune's, asked for at once: one is set, the other refused,
/// never both (on PostgreSQL both requests wait at the table while the first holds the relays'
/// lock).
#[test]
fn nested_relays_asked_for_at_once_are_not_both_set() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    assert_eq!(
        put_two_held_relays_at_once(&app, &admin, ("P", "s"), ("C1", "s")),
        [Status::CREATED, Status::CONFLICT]
    );
}

/// Two `PUT`s of one unit's relay at once (a client retrying one that timed out) both find no
/// relay and create it: the second is an update of the first's, not a 409. A relay created held
/// is held from its creation: one audited change, never active.
#[test]
fn a_relay_put_twice_at_once_is_set_by_both() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    // Both read that there is no relay, then wait to insert it.
    assert_eq!(
        put_two_held_relays_at_once(&app, &admin, ("P", "phien-1"), ("P", "phien-2")),
        [Status::OK, Status::CREATED]
    );
    let sub = app.get("/api/v1/subscriptions/portal-relay.P", &admin);
    assert_eq!(sub.body["active"], false, "{}", sub.text);
    let changes = app.get(
        "/api/v1/audit?resourceType=subscription&resourceId=portal-relay.P",
        &admin,
    );
    let actions: Vec<&str> = changes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "create").count(),
        1,
        "{actions:?}"
    );
    assert!(
        changes.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["after"]["active"] == false),
        "{}",
        changes.text
    );
}

/// An instance that lost its subscription to another in the middle of an attempt sends nothing
/// more: the relay renews its lease before each request, and this attempt has two (the portal's
/// new dossiers, then its updates). The lease is taken over while the portal holds its answer to
/// the first, a refusal; the second is never sent, and the late refusal is not recorded (it
/// would mark a dossier the new holder may have synced since).
#[test]
fn a_relay_whose_subscription_was_taken_over_stops_before_its_next_request() {
    let app = TestApp::spawn_configured(|url| {
        let mut c = patient(url);
        c.webhooks.timeout = Duration::from_secs(5);
        c
    });
    let admin = seed(&app);
    let portal = Receiver::start();
    relay(&app, &admin, &portal);
    push(&app, &admin, "A", 1);
    let d = wait_dossier(&app, &admin, "C1-A-0000", |d| !d["syncedAt"].is_null());
    assert!(!d["syncedAt"].is_null(), "{d}");
    let before = portal.deliveries().len();

    // One request: a dossier synced before, changed, and a new one. The relay sends the new
    // one first, then the update. The portal refuses the first, late.
    portal.answer(Answer::ErrorCodeWhenReleased(99));
    let item = |code: &str, events: Value| {
        json!({"code": code, "procedureCode": "1.000001", "unit": "C1", "channel": "online",
               "receivedAt": "2026-03-02T08:00:00+07:00",
               "applicant": {"kind": "citizen", "name": "Nguyễn Văn An"}, "events": events})
    };
    let received = json!({"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"});
    let processing = json!({"id": "2", "status": "processing", "at": "2026-03-02T09:00:00+07:00"});
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            item("C1-A-0000", json!([received, processing])),
            item("C1-B-0000", json!([received]))
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let deadline = Instant::now() + WAIT;
    while portal.in_flight() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(portal.in_flight(), 1, "the first request is being answered");

    // Another instance takes the subscription over meanwhile.
    {
        use diesel::prelude::*;
        use tthc_core::db::schema::subscriptions::dsl as s;
        let mut conn = app.db.conn().unwrap();
        let taken = diesel::update(s::subscriptions.find("portal-relay.P"))
            .set((
                s::lease_owner.eq("another-instance"),
                s::lease_until.eq(chrono::Utc::now().naive_utc() + chrono::TimeDelta::hours(1)),
            ))
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(taken, 1);
    }
    portal.release();
    assert!(portal.wait_for(WAIT, |d| d.len() > before));
    std::thread::sleep(Duration::from_secs(2));
    let sent = portal.deliveries();
    assert_eq!(
        sent.len(),
        before + 1,
        "no request after the lease was lost: {:?}",
        sent.iter()
            .map(|d| &d.body["isUpdating"])
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sent[before].body["isUpdating"], false,
        "the new dossier went first"
    );
    assert_eq!(portal.in_flight(), 0);
    // The update was not refused: it was not sent, and the subscription's new holder sends it.
    let a = app.get("/api/v1/dossiers/C1-A-0000", &admin);
    assert!(a.body["syncError"].is_null(), "{}", a.text);
    // Nor is the late refusal of the first recorded: the new holder sends the dossier as it is
    // now and records what the portal says to that.
    let b = app.get("/api/v1/dossiers/C1-B-0000", &admin);
    assert!(b.body["syncError"].is_null(), "{}", b.text);
    let audit = audit_of(&app, &admin, "C1-B-0000");
    assert!(audit.iter().all(|e| e["action"] != "sync"), "{audit:?}");
}

/// A relay sends the dossiers of its unit as they are when it sends them: a dossier transferred
/// out of its unit after the change was recorded is not sent (until 2026-12-07 the relay read
/// the feed by the path a change was made under and sent the dossier as it now was elsewhere,
/// and recorded its attempt on it).
#[test]
fn a_dossier_transferred_out_of_a_relays_unit_is_not_sent() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    let portal = Receiver::start();
    let held = json!({"url": portal.url, "session": "s", "active": false});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/STP",
        Some(&admin),
        Some(&held),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    push(&app, &admin, "T", 2);
    // C1-T-0001 moves to STTTT, outside the relay's unit, while the relay is held.
    let mut moved = app.get("/api/v1/dossiers/C1-T-0001", &admin).body;
    let moved = json!({"code": "C1-T-0001", "procedureCode": "1.000001", "unit": "STTTT",
        "channel": "online", "receivedAt": moved["receivedAt"].take(),
        "applicant": {"kind": "citizen", "name": "Nguyễn Văn An"},
        "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]});
    let r = app.post("/api/v1/dossiers/bulk", &admin, &json!([moved]));
    assert_eq!(r.body["updated"], 1, "{}", r.text);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/STP",
        Some(&admin),
        Some(&json!({"url": portal.url, "session": "s", "active": true})),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let kept = wait_dossier(&app, &admin, "C1-T-0000", |d| !d["syncedAt"].is_null());
    assert!(!kept["syncedAt"].is_null(), "{kept}");
    // Give the relay its chance at the rest of the queue.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let r = app.get("/api/v1/portal-relays/STP", &admin);
        if r.body["waiting"] == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent: Vec<String> = taken_items(&portal)
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    assert!(sent.contains(&"C1-T-0000".to_owned()), "{sent:?}");
    assert!(!sent.contains(&"C1-T-0001".to_owned()), "{sent:?}");
    let away = app.get("/api/v1/dossiers/C1-T-0001", &admin).body;
    assert_eq!(away["unit"], "STTTT", "{away}");
    assert!(
        away["syncedAt"].is_null(),
        "no attempt recorded on it: {away}"
    );
    assert!(away["syncError"].is_null(), "{away}");

    // Whoever sets the relay owns it, and from then on its grant governs what is sent.
    let owner = || {
        app.get("/api/v1/subscriptions/portal-relay.STP", &admin)
            .body["ownerClient"]
            .clone()
    };
    assert_eq!(owner(), "admin");
    let (_, stp) = app.client("stp-relay", &["relay:admin"], &["STP"]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/portal-relays/STP",
        Some(&stp),
        Some(&json!({"url": portal.url, "session": "s2"})),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(owner(), "stp-relay");
}

#[test]
fn a_vendors_same_sync_again_under_the_relay_is_unchanged_and_not_sent_again() {
    let app = TestApp::spawn_configured(patient);
    let admin = seed(&app);
    let portal = Receiver::start();
    relay(&app, &admin, &portal);
    let code = "C1-260302-0070";
    let sync = |mirrored: bool| -> String {
        let path = if mirrored {
            "/api/v1/portal-sync?mirrorsPortal=true"
        } else {
            "/api/v1/portal-sync"
        };
        let body = json!({"service": "DongBoHoSoMC",
                          "data": [crate::portal_sync::open_portal_dossier(code)]});
        let r = app.post(path, &admin, &body);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        r.body["data"][0]["result"].as_str().unwrap().to_owned()
    };
    assert_eq!(sync(false), "created");
    let d = wait_dossier(&app, &admin, code, |d| !d["syncedAt"].is_null());
    assert_eq!(d["syncedStatus"], "received", "{d}");
    // The relay's record is not the vendor's change: the same sync again, flagged or not.
    assert_eq!(sync(false), "unchanged");
    assert_eq!(sync(true), "updated", "the flag is part of what was sent");
    assert_eq!(sync(true), "unchanged");
    std::thread::sleep(Duration::from_millis(800));
    let sent = taken_items(&portal)
        .into_iter()
        .filter(|(c, _)| c == code)
        .count();
    assert!(
        sent <= 2,
        "sent {sent} times: the relay's records started it again"
    );
}
