//! Webhooks: a real receiver on a loopback port gets every change exactly as the feed lists it,
//! signed; a failing receiver is retried, then dead-lettered and served again on request (once
//! more when asked again while it is being sent); a restart in the middle of delivery loses
//! nothing; two instances never deliver one subscription at once; a unit-limited subscriber gets
//! its units' changes only.

use std::time::Duration;

use serde_json::{Value, json};
use tthc_api::config::Config;
use tthc_core::delivery::Backoff;
use tthc_tests::receiver::{Answer, Receiver};
use tthc_tests::{HttpMethod, Status, TestApp, TestDb};

use crate::procedures::seed;

/// Deliveries quick enough for tests: looked for every 50 ms, retried after 50 ms, given up
/// after 3 attempts, a receiver allowed 2 s (so a lease lasts 15 s, which bounds how long a
/// restarted instance waits for the batch its predecessor held).
fn quick(url: &str) -> Config {
    let mut c = tthc_tests::config(url);
    c.webhooks.poll = Duration::from_millis(50);
    // Not 1 s: a receiver answering late on a loaded machine would be retried, and given up
    // on after three attempts, which the tests would read as lost changes.
    c.webhooks.timeout = Duration::from_secs(2);
    c.webhooks.backoff = Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(200),
        max_attempts: 3,
    };
    c
}

const WAIT: Duration = Duration::from_secs(40);

fn subscribe(app: &TestApp, token: &str, body: &Value) -> (String, String, String) {
    let r = app.post("/api/v1/subscriptions", token, body);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    (
        r.body["subscription"]["id"].as_str().unwrap().to_owned(),
        r.body["secret"].as_str().unwrap().to_owned(),
        r.body["subscription"]["cursor"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// Pushes `n` new dossiers of commune C1 in one request: `n` changes.
pub(crate) fn push_dossiers(app: &TestApp, token: &str, prefix: &str, n: usize) {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"code": format!("C1-{prefix}-{i:05}"), "procedureCode": "1.000001", "unit": "C1",
                   "channel": "online", "receivedAt": "2026-03-02T08:00:00+07:00",
                   "applicant": {"kind": "citizen", "name": "An"},
                   "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]})
        })
        .collect();
    let r = app.post("/api/v1/dossiers/bulk", token, &json!(items));
    assert_eq!(r.status, Status::OK, "{}", r.text);
}

/// The feed's sequence numbers after `cursor` as `token` reads it, once it holds `n` (on
/// PostgreSQL a change shows once every older transaction of the server has ended).
fn feed_after(app: &TestApp, token: &str, cursor: &str, query: &str, n: usize) -> Vec<i64> {
    feed_until(app, token, cursor, query, |items| items.len() >= n)
}

/// The feed's sequence numbers after `cursor` as `token` reads it, once its changes are `done`.
fn feed_until(
    app: &TestApp,
    token: &str,
    cursor: &str,
    query: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<i64> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let mut all = Vec::new();
        let mut after = cursor.to_owned();
        loop {
            let r = app.get(
                &format!("/api/v1/changes?limit=500&after={after}{query}"),
                token,
            );
            assert_eq!(r.status, Status::OK, "{}", r.text);
            let items = r.body["items"].as_array().unwrap();
            if items.is_empty() {
                break;
            }
            all.extend(items.iter().cloned());
            after = r.body["nextCursor"].as_str().unwrap().to_owned();
        }
        if done(&all) || std::time::Instant::now() > deadline {
            return all
                .iter()
                .map(|c| c["sequence"].as_i64().unwrap())
                .collect();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_taken(receiver: &Receiver, n: usize) -> Vec<i64> {
    receiver.wait_for(WAIT, |_| receiver.taken_sequences().len() >= n);
    receiver.taken_sequences()
}

#[test]
fn a_receiver_gets_every_change_as_the_feed_lists_it_signed() {
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let receiver = Receiver::start();
    let (id, secret, cursor) = subscribe(&app, &admin, &json!({"url": receiver.url}));
    push_dossiers(&app, &admin, "A", 250);
    app.unit("C9", "commune", Some("STP"));
    // The subscription's own creation, 250 dossiers and a unit. On PostgreSQL a subscription
    // starts from the newest change every reader may see, which a transaction still open
    // elsewhere on the server (another test's) holds back: the seed's changes may come first.
    // So the feed is read until it shows the unit, the last change made: 252 changes could
    // be some of the seed's and not yet the unit (CI once counted 5 before the subscription's
    // own, where there were 6).
    let feed = feed_until(&app, &admin, &cursor, "", |items| {
        items
            .iter()
            .any(|c| c["resourceType"] == "unit" && c["code"] == "C9")
    });
    assert!(feed.len() >= 252, "{}", feed.len());
    let earlier = feed.len() - 252;
    let taken = wait_taken(&receiver, feed.len());
    assert_eq!(taken, feed, "every change once, in the feed's order");

    let deliveries = receiver.deliveries();
    assert!(deliveries.len() >= 3, "batches of at most 100");
    let now = chrono::Utc::now().timestamp();
    for d in &deliveries {
        assert!(d.signed_with(&secret), "signed: {d:?}");
        assert!(!d.signed_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let ts: i64 = d.timestamp.parse().unwrap();
        assert!((now - ts).abs() < 300, "a current timestamp");
        assert_eq!(d.body["id"], json!(d.id), "the body's id is the header's");
        assert_eq!(d.body["subscription"], json!(id));
        assert!(d.sequences().len() <= 100);
    }
    // The content is the feed's: kind, type, code, unit.
    let changes: Vec<Value> = deliveries
        .iter()
        .flat_map(|d| d.body["changes"].as_array().unwrap().clone())
        .collect();
    let own = changes
        .iter()
        .position(|c| c["resourceType"] == "subscription");
    assert_eq!(
        own,
        Some(earlier),
        "the seed's changes, then the subscription's own"
    );
    let dossier = changes.iter().find(|c| c["code"] == "C1-A-00007").unwrap();
    assert_eq!(
        (&dossier["kind"], &dossier["resourceType"], &dossier["unit"]),
        (&json!("create"), &json!("dossier"), &json!("C1"))
    );
    // A signature made with the secret over another body does not hold.
    let mut forged = deliveries[0].clone();
    forged.raw = b"{}".to_vec();
    assert!(!forged.signed_with(&secret));

    // The deliverer records a batch as delivered after the receiver answered it: the last
    // batch's record may follow the receiver's count by a moment (CI once read 201 of 252).
    let started = std::time::Instant::now();
    let view = loop {
        let view = app.get(&format!("/api/v1/subscriptions/{id}"), &admin);
        assert_eq!(view.status, Status::OK);
        if view.body["delivered"] == json!(feed.len()) || started.elapsed().as_secs() > 10 {
            break view;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(view.body["delivered"], json!(feed.len()));
    assert_eq!(view.body["failures"], json!(0));
    assert!(
        view.body.get("secret").is_none(),
        "the secret is shown once"
    );
}

/// The dead letters at `letters_path` once there are some (or after [`WAIT`]).
fn wait_dead_letters(app: &TestApp, token: &str, letters_path: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let r = app.get(letters_path, token);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        if !r.body["items"].as_array().unwrap().is_empty() || std::time::Instant::now() > deadline {
            return r.body["items"].clone();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A service whose receiver refused the changes of some dossiers until they were given up on.
struct Refused {
    app: TestApp,
    admin: String,
    receiver: Receiver,
    /// The subscription.
    id: String,
    secret: String,
    letters_path: String,
    /// Its dead letters.
    letters: Value,
}

/// A subscription's receiver answering 503 to the changes of `dossiers` new dossiers, until
/// they are a dead letter.
fn refused_until_dead(dossiers: usize) -> Refused {
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let receiver = Receiver::start();
    receiver.answer(Answer::Refuse(503));
    let (id, secret, _) = subscribe(
        &app,
        &admin,
        &json!({"url": receiver.url, "resourceTypes": ["dossier"]}),
    );
    push_dossiers(&app, &admin, "A", dossiers);
    let letters_path = format!("/api/v1/subscriptions/{id}/dead-letters");
    let letters = wait_dead_letters(&app, &admin, &letters_path);
    Refused {
        app,
        admin,
        receiver,
        id,
        secret,
        letters_path,
        letters,
    }
}

/// With private networks denied (the default), a subscription may not name the service's own
/// host or network, and a name resolving there is refused when it is sent to: nothing arrives
/// (until 2026-12-07 any address was called).
#[test]
fn deliveries_to_the_services_own_networks_are_refused_unless_allowed() {
    let app = TestApp::spawn_configured(|url| {
        let mut c = quick(url);
        c.webhooks.private_networks = false;
        c
    });
    let admin = seed(&app);
    for url in [
        "http://127.0.0.1:9/h",
        "http://[::1]/h",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/h",
        "http://LOCALHOST:8080/h",
    ] {
        let r = app.post(
            "/api/v1/subscriptions",
            &admin,
            &json!({"url": url, "resourceTypes": ["dossier"]}),
        );
        r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
        assert_eq!(r.body["invalidParams"][0]["name"], "url", "{}", r.text);
    }
    // A name of this machine, other than `localhost`: refused as it is resolved, if the
    // machine's own name resolves to its loopback (as on CI's machines).
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let loopback = !name.is_empty()
        && std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 80))
            .is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()));
    if !loopback {
        eprintln!("skipped the resolved name: {name:?} does not resolve to loopback here");
        return;
    }
    let receiver = Receiver::start();
    let url = receiver.url.replace("127.0.0.1", &name);
    let (id, _, _) = subscribe(
        &app,
        &admin,
        &json!({"url": url, "resourceTypes": ["dossier"]}),
    );
    push_dossiers(&app, &admin, "N", 1);
    let letters = wait_dead_letters(
        &app,
        &admin,
        &format!("/api/v1/subscriptions/{id}/dead-letters"),
    );
    assert!(
        letters[0]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("resolves to no public address")),
        "{letters}"
    );
    assert!(receiver.deliveries().is_empty());
}

/// A refusing receiver that streams its answer without end is read no further than its start:
/// each attempt ends at once, and the instance's memory holds a kilobyte of it (until
/// 2026-12-07 the whole answer was read, until the receiver's time ran out).
#[test]
fn a_refusal_streamed_without_end_is_read_no_further_than_its_start() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = [0_u8; 65536];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\r\n",
                );
                // 64 MiB, then silence with the connection open: a reader of the whole answer
                // waits for the receiver's time to run out.
                let chunk = "overflow ".repeat(7282);
                for _ in 0..1024 {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let (id, _, _) = subscribe(
        &app,
        &admin,
        &json!({"url": url, "resourceTypes": ["dossier"]}),
    );
    push_dossiers(&app, &admin, "S", 1);
    let letters = wait_dead_letters(
        &app,
        &admin,
        &format!("/api/v1/subscriptions/{id}/dead-letters"),
    );
    let error = letters[0]["lastError"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("the receiver answered 503") && error.contains("overflow overflow"),
        "{letters}"
    );
}

#[test]
fn a_failing_receiver_is_retried_then_dead_lettered_and_served_again() {
    let Refused {
        app,
        admin,
        receiver,
        id,
        secret,
        letters_path,
        letters,
    } = refused_until_dead(5);
    let letter = &letters[0];
    assert_eq!(letter["state"], "dead", "{letters}");
    assert_eq!(letter["attempts"], 3, "three attempts, then given up");
    assert_eq!(letter["changes"], 5);
    assert!(
        letter["lastError"].as_str().unwrap().contains("503"),
        "{letter}"
    );
    // Every attempt was the same batch under the same id.
    let refused = receiver.deliveries();
    assert_eq!(refused.len(), 3);
    assert!(
        refused
            .iter()
            .all(|d| d.id == letter["deliveryId"].as_str().unwrap())
    );
    assert!(
        refused
            .iter()
            .all(|d| d.raw == refused[0].raw || d.sequences() == refused[0].sequences())
    );
    let lost = refused[0].sequences();
    assert_eq!(lost.len(), 5);
    // The dead letter's content, as it would be sent again.
    let content = app.get(&format!("{letters_path}/{}", letter["id"]), &admin);
    assert_eq!(content.status, Status::OK, "{}", content.text);
    let shown: Vec<i64> = content.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(shown, lost);
    let sub = app.get(&format!("/api/v1/subscriptions/{id}"), &admin);
    assert_eq!(
        sub.body["failures"], 0,
        "the cursor moved past the dead letter"
    );
    assert!(sub.body["lastError"].as_str().unwrap().contains("503"));

    // The receiver is back: later changes flow; the dead letter waits for a request.
    receiver.answer(Answer::Take);
    push_dossiers(&app, &admin, "B", 2);
    let taken = wait_taken(&receiver, 2);
    assert_eq!(taken.len(), 2);
    assert!(taken.iter().all(|s| s > lost.last().unwrap()));
    let r = app.post(
        &format!("{letters_path}/{}/redeliver", letter["id"]),
        &admin,
        &json!({}),
    );
    assert_eq!(r.status, Status::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["state"], "queued");
    assert!(receiver.wait_for(WAIT, |ds| {
        ds.iter().any(|d| d.taken && d.body["redelivery"] == true)
    }));
    let again = receiver
        .deliveries()
        .into_iter()
        .find(|d| d.body["redelivery"] == true)
        .unwrap();
    assert_eq!(again.id, letter["deliveryId"].as_str().unwrap());
    assert_eq!(again.sequences(), lost);
    assert!(again.signed_with(&secret));
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let r = app.get(&letters_path, &admin);
        if r.body["items"][0]["state"] == "delivered" {
            assert_eq!(r.body["items"][0]["attempts"], 4);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", r.text);
        std::thread::sleep(Duration::from_millis(50));
    }
    // Only once: the letter is not sent again.
    std::thread::sleep(Duration::from_millis(300));
    let redeliveries = receiver
        .deliveries()
        .iter()
        .filter(|d| d.body["redelivery"] == true)
        .count();
    assert_eq!(redeliveries, 1);
    let missing = app.post(
        &format!("{letters_path}/999999/redeliver"),
        &admin,
        &json!({}),
    );
    missing.assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn a_dead_letter_queued_again_while_it_is_sent_goes_once_more() {
    let Refused {
        app,
        admin,
        receiver,
        letters_path,
        letters,
        ..
    } = refused_until_dead(3);
    assert_eq!(letters[0]["state"], "dead", "{letters}");
    let redeliver = format!("{letters_path}/{}/redeliver", letters[0]["id"]);

    // The first request's delivery is held at the receiver while the letter is asked for again.
    receiver.answer(Answer::WhenReleased);
    let r = app.post(&redeliver, &admin, &json!({}));
    assert_eq!(r.status, Status::ACCEPTED, "{}", r.text);
    assert!(
        wait_until(|| receiver.in_flight() == 1),
        "the redelivery never reached the receiver"
    );
    let again = app.post(&redeliver, &admin, &json!({}));
    assert_eq!(again.status, Status::ACCEPTED, "{}", again.text);
    assert_eq!(again.body["state"], "queued");
    receiver.release();

    // Both requests are served: the letter goes once for each, and is delivered in the end.
    assert!(
        receiver.wait_for(WAIT, |ds| {
            ds.iter()
                .filter(|d| d.taken && d.body["redelivery"] == true)
                .count()
                == 2
        }),
        "the second request was lost: {} redelivery(ies)",
        receiver
            .deliveries()
            .iter()
            .filter(|d| d.body["redelivery"] == true)
            .count()
    );
    assert!(wait_until(|| {
        let r = app.get(&letters_path, &admin);
        r.body["items"][0]["state"] == "delivered" && r.body["items"][0]["attempts"] == 5
    }));
    std::thread::sleep(Duration::from_millis(300));
    let redeliveries = receiver
        .deliveries()
        .iter()
        .filter(|d| d.body["redelivery"] == true)
        .count();
    assert_eq!(redeliveries, 2, "not sent a third time");
}

/// A subscription paused while it is being served sends nothing more once the pause is
/// answered: the request already on its way ends, and the batch planned after it waits for the
/// resume (each request first renews the lease, which a paused subscription refuses).
#[test]
fn a_pause_stops_delivery_between_two_requests() {
    let Refused {
        app,
        admin,
        receiver,
        id,
        letters_path,
        letters,
        ..
    } = refused_until_dead(3);
    let path = format!("/api/v1/subscriptions/{id}");
    let set_active = |active: bool| {
        let r = app.patch(&path, &admin, &json!({"active": active}));
        assert_eq!(r.status, Status::OK, "{}", r.text);
    };
    // Paused, a change and the dead letter queued again: the next serve plans both.
    set_active(false);
    push_dossiers(&app, &admin, "B", 1);
    let redeliver = format!("{letters_path}/{}/redeliver", letters[0]["id"]);
    let r = app.post(&redeliver, &admin, &json!({}));
    assert_eq!(r.status, Status::ACCEPTED, "{}", r.text);
    receiver.answer(Answer::WhenReleased);
    set_active(true);
    assert!(
        wait_until(|| receiver.in_flight() == 1),
        "the redelivery never reached the receiver"
    );
    set_active(false);
    receiver.release();
    let batch_sent = || {
        receiver.deliveries().iter().any(|d| {
            d.body["redelivery"] == false
                && d.body["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["code"] == "C1-B-00000")
        })
    };
    assert!(wait_until(|| {
        let r = app.get(&letters_path, &admin);
        r.body["items"][0]["state"] == "delivered"
    }));
    // Twenty of the deliverer's rounds.
    std::thread::sleep(Duration::from_secs(1));
    assert!(!batch_sent(), "a batch went after the pause was answered");
    set_active(true);
    assert!(
        wait_until(batch_sent),
        "the batch never went after the resume"
    );
}

/// Whether `done` holds within [`WAIT`], asked every 20 ms.
fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_restart_in_the_middle_of_delivery_loses_nothing() {
    let db = TestDb::new();
    let first = TestApp::spawn_with(quick(&db.url));
    let admin = seed(&first);
    let receiver = Receiver::start();
    receiver.answer(Answer::Slowly(Duration::from_millis(300)));
    let (_, secret, cursor) = subscribe(
        &first,
        &admin,
        &json!({"url": receiver.url, "resourceTypes": ["dossier"]}),
    );
    push_dossiers(&first, &admin, "A", 450);
    let feed = feed_after(&first, &admin, &cursor, "&type=dossier", 450);
    assert_eq!(feed.len(), 450);
    // Stopped while a batch is on its way (the receiver takes 300 ms over each).
    assert!(receiver.wait_for(WAIT, |ds| ds.iter().any(|d| d.taken)));
    drop(first);
    let during = receiver.taken_sequences().len();
    assert!(during < 450, "stopped in the middle ({during} delivered)");
    std::thread::sleep(Duration::from_millis(200));
    let second = TestApp::spawn_with(quick(&db.url));
    receiver.answer(Answer::Take);
    let taken = wait_taken(&receiver, 450);
    assert_eq!(taken, feed, "every change, in order, across the restart");
    let deliveries = receiver.deliveries();
    assert!(deliveries.iter().all(|d| d.signed_with(&secret)));
    // At least once: a batch sent again carries the same id and the same changes.
    for d in &deliveries {
        for e in deliveries.iter().filter(|e| e.id == d.id) {
            assert_eq!(e.sequences(), d.sequences(), "{}", d.id);
        }
    }
    drop(second);
    drop(db);
}

#[test]
fn two_instances_never_deliver_one_subscription_at_once() {
    let db = TestDb::new();
    let apps = [
        TestApp::spawn_with(quick(&db.url)),
        TestApp::spawn_with(quick(&db.url)),
    ];
    let admin = seed(&apps[0]);
    let receiver = Receiver::start();
    receiver.answer(Answer::Slowly(Duration::from_millis(30)));
    let (_, _, cursor) = subscribe(
        &apps[1],
        &admin,
        &json!({"url": receiver.url, "resourceTypes": ["dossier"]}),
    );
    for (i, prefix) in ["A", "B", "C", "D"].iter().enumerate() {
        push_dossiers(&apps[i % 2], &admin, prefix, 120);
    }
    let feed = feed_after(&apps[0], &admin, &cursor, "&type=dossier", 480);
    assert_eq!(feed.len(), 480);
    let taken = wait_taken(&receiver, 480);
    assert_eq!(taken, feed);
    assert_eq!(receiver.max_in_flight(), 1, "one delivery at a time");
    let deliveries = receiver.deliveries();
    let mut ids: Vec<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), deliveries.len(), "no batch sent twice");
    drop(apps);
    drop(db);
}

#[test]
fn a_unit_limited_subscriber_gets_its_units_changes_only() {
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let (_, c1) = app.client(
        "c1-hooks",
        &["changes:read", "subscriptions:write"],
        &["C1"],
    );
    let receiver = Receiver::start();

    // Refused: a unit outside its own, a URL that is not http(s), a secret of 5 bytes.
    for (body, field) in [
        (json!({"url": receiver.url, "unit": "STTTT"}), "unit"),
        (json!({"url": "ftp://example.gov.vn/x"}), "url"),
        (json!({"url": "http://user:pw@example.gov.vn/x"}), "url"),
        (
            json!({"url": receiver.url, "secret": "whsec_c2hvcnQ="}),
            "secret",
        ),
        (
            json!({"url": receiver.url, "resourceTypes": ["dossier", "két"]}),
            "resourceTypes[1]",
        ),
        (json!({"url": receiver.url, "after": "bm9wZQ"}), "after"),
        // A position past the newest change (k:9223372036854775807.0): never behind, the
        // subscription delivered nothing.
        (
            json!({"url": receiver.url, "after": "azo5MjIzMzcyMDM2ODU0Nzc1ODA3LjA"}),
            "after",
        ),
    ] {
        let r = app.post("/api/v1/subscriptions", &c1, &body);
        assert_eq!(r.status, Status::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert_eq!(r.invalid_names(), [field], "{}", r.text);
    }
    let (_, no_feed) = app.client("no-feed", &["subscriptions:write"], &["C1"]);
    let r = app.post(
        "/api/v1/subscriptions",
        &no_feed,
        &json!({"url": receiver.url}),
    );
    assert_eq!(r.status, Status::FORBIDDEN, "{}", r.text);

    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (id, shown, _) = subscribe(&app, &c1, &json!({"url": receiver.url, "secret": secret}));
    assert_eq!(shown, secret, "a secret given is kept");
    app.unit("C1A", "commune", Some("C1"));
    app.unit("C2", "commune", Some("STP"));
    push_dossiers(&app, &admin, "A", 3);
    // On PostgreSQL the subscription may start before some of the seed's changes in C1's
    // subtree (a transaction still open elsewhere on the server holds them back): the
    // deliveries are awaited until the last dossier shows, and the seed's are set aside.
    let changes = || -> Vec<Value> {
        receiver
            .deliveries()
            .iter()
            .flat_map(|d| d.body["changes"].as_array().unwrap().clone())
            .collect()
    };
    receiver.wait_for(WAIT, |_| {
        changes().iter().any(|c| c["code"] == "C1-A-00002")
    });
    std::thread::sleep(Duration::from_millis(300));
    let changes = changes();
    let taken = receiver.taken_sequences();
    assert_eq!(taken.len(), changes.len(), "each change once: {changes:?}");
    let seeds = ["C1", "1.000001", "1.000001.P"];
    let mut ours: Vec<&str> = changes
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .skip_while(|code| seeds.contains(code))
        .collect();
    assert_eq!(ours.first(), Some(&"C1A"), "{changes:?}");
    ours[1..].sort_unstable();
    assert_eq!(
        ours,
        ["C1A", "C1-A-00000", "C1-A-00001", "C1-A-00002"],
        "the unit and the dossiers in C1's subtree, not C2: {changes:?}"
    );
    assert!(receiver.deliveries().iter().all(|d| d.signed_with(secret)));

    // Its own subscriptions only: another unit client does not see it; the admin does.
    let (_, other) = app.client(
        "other-hooks",
        &["changes:read", "subscriptions:write"],
        &["STTTT"],
    );
    app.get(&format!("/api/v1/subscriptions/{id}"), &other)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let list = app.get("/api/v1/subscriptions", &other);
    assert_eq!(list.body["items"], json!([]));
    let list = app.get("/api/v1/subscriptions", &admin);
    assert_eq!(list.body["items"][0]["id"], json!(id));
    assert_eq!(list.body["items"][0]["ownerClient"], "c1-hooks");
}

#[test]
fn a_paused_subscription_keeps_its_changes_until_resumed() {
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let receiver = Receiver::start();
    let (id, _, _) = subscribe(
        &app,
        &admin,
        &json!({"url": receiver.url, "resourceTypes": ["unit"]}),
    );
    let path = format!("/api/v1/subscriptions/{id}");
    let stale = app.call_with(
        HttpMethod::PATCH,
        &path,
        Some(&admin),
        Some(&json!({"active": false})),
        &[("If-Match", "\"7\"")],
    );
    stale.assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    let r = app.call_with(
        HttpMethod::PATCH,
        &path,
        Some(&admin),
        Some(&json!({"active": false})),
        &[("If-Match", "\"1\"")],
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["active"], false);
    app.unit("C8", "commune", Some("STP"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(receiver.deliveries().is_empty(), "nothing while paused");
    let r = app.patch(&path, &admin, &json!({"active": true}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // On a busy PostgreSQL server the subscription may start before some of the seed's units
    // (as in `a_receiver_gets_every_change_as_the_feed_lists_it_signed`): they may come first
    // (CI once had 5). C8, made while paused, comes once, and last.
    let codes = || -> Vec<Value> {
        receiver
            .deliveries()
            .iter()
            .filter(|d| d.taken)
            .flat_map(|d| d.body["changes"].as_array().unwrap().clone())
            .map(|c| c["code"].clone())
            .collect()
    };
    assert!(
        wait_until(|| codes().contains(&json!("C8"))),
        "{:?}",
        codes()
    );
    let codes = codes();
    assert_eq!(codes.last(), Some(&json!("C8")), "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == json!("C8")).count(), 1);
    // Audited, without the secret.
    let audit = app.get("/api/v1/audit?resourceType=subscription", &admin);
    assert_eq!(audit.status, Status::OK, "{}", audit.text);
    assert!(!audit.text.contains("whsec_"), "{}", audit.text);
    let r = app.call(HttpMethod::DELETE, &path, Some(&admin), None);
    assert_eq!(r.status, Status::NO_CONTENT);
    app.get(&path, &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn two_changes_of_one_subscription_in_flight_are_both_kept() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let (id, _, _) = subscribe(&app, &admin, &json!({"url": "http://127.0.0.1:9/a"}));
    let path = format!("/api/v1/subscriptions/{id}");
    // Paused, so that no delivery writes it meanwhile.
    let r = app.patch(&path, &admin, &json!({"active": false}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // Two changes at once, while a third writer holds the subscription (its row on PostgreSQL,
    // the write lock on SQLite): one moves its URL, the other narrows what it receives.
    let answers = app.both_while_held(
        &format!("SELECT 1 FROM subscriptions WHERE id = '{id}' FOR UPDATE"),
        || app.patch(&path, &admin, &json!({"url": "http://127.0.0.1:9/b"})),
        || app.patch(&path, &admin, &json!({"resourceTypes": ["unit"]})),
    );
    for r in answers {
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
    let got = app.get(&path, &admin);
    assert_eq!(
        (
            &got.body["url"],
            &got.body["resourceTypes"],
            &got.body["active"],
            got.header("etag")
        ),
        (
            &json!("http://127.0.0.1:9/b"),
            &json!(["unit"]),
            &json!(false),
            Some("\"4\"")
        ),
        "{}",
        got.text
    );
    // Deleted twice at once: one deletes it, the other finds it gone.
    let delete = || app.call(HttpMethod::DELETE, &path, Some(&admin), None);
    let mut statuses = app
        .both_while_held(
            &format!("SELECT 1 FROM subscriptions WHERE id = '{id}' FOR UPDATE"),
            delete,
            delete,
        )
        .map(|r| r.status);
    statuses.sort();
    assert_eq!(statuses, [Status::NO_CONTENT, Status::NOT_FOUND]);
}

/// A subscription whose owner is disabled is held for a minute, even with a dead letter queued
/// again (which makes a subscription due whatever its next attempt): it is not taken and held
/// again at every poll.
#[test]
fn a_held_subscription_with_a_queued_letter_waits_out_its_hold() {
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let receiver = Receiver::start();
    receiver.answer(Answer::Refuse(503));
    let (_, hooks) = app.client("hooks", &["subscriptions:write", "changes:read"], &["P"]);
    let (id, _, _) = subscribe(
        &app,
        &hooks,
        &json!({"url": receiver.url, "resourceTypes": ["dossier"]}),
    );
    push_dossiers(&app, &admin, "A", 2);
    let letters_path = format!("/api/v1/subscriptions/{id}/dead-letters");
    let letters = wait_dead_letters(&app, &admin, &letters_path);
    assert_eq!(letters[0]["state"], "dead", "{letters}");
    let r = app.patch("/api/v1/clients/hooks", &admin, &json!({"disabled": true}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let r = app.post(
        &format!("{letters_path}/{}/redeliver", letters[0]["id"]),
        &admin,
        &json!({}),
    );
    assert_eq!(r.body["state"], "queued", "{}", r.text);
    let sub_path = format!("/api/v1/subscriptions/{id}");
    let held = |sub: &Value| {
        sub["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("disabled"))
    };
    let mut sub = app.get(&sub_path, &admin).body;
    assert!(wait_until(|| {
        sub = app.get(&sub_path, &admin).body;
        held(&sub)
    }));
    // Twenty polls later the hold is the one first recorded, and nothing was sent.
    let sent = receiver.deliveries().len();
    std::thread::sleep(Duration::from_millis(1000));
    let later = app.get(&sub_path, &admin).body;
    assert!(held(&later), "{later}");
    assert_eq!(
        later["nextAttemptAt"], sub["nextAttemptAt"],
        "held once, not again at each poll"
    );
    assert_eq!(receiver.deliveries().len(), sent);
    assert_eq!(
        app.get(&letters_path, &admin).body["items"][0]["state"],
        "queued"
    );
    // Its owner enabled again, a pause and a resume end the hold at once, not a minute later.
    receiver.answer(Answer::Take);
    let r = app.patch("/api/v1/clients/hooks", &admin, &json!({"disabled": false}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    for active in [false, true] {
        let r = app.patch(&sub_path, &admin, &json!({"active": active}));
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
    assert!(
        receiver.wait_for(Duration::from_secs(10), |ds| {
            ds.iter().any(|d| d.taken && d.body["redelivery"] == true)
        }),
        "the queued letter went within seconds of the resume"
    );
}

#[test]
fn a_deleted_clients_subscriptions_pass_to_no_client_created_later_under_its_id() {
    let app = TestApp::spawn_configured(quick);
    let admin = seed(&app);
    let scopes = ["changes:read", "subscriptions:write", "dossiers:write"];
    let (_, first) = app.client("dash", &scopes, &["C1"]);
    let receiver = Receiver::start();
    let body = json!({"url": receiver.url});
    let subscribe_keyed = |token: &str| {
        app.call_with(
            HttpMethod::POST,
            "/api/v1/subscriptions",
            Some(token),
            Some(&body),
            &[("Idempotency-Key", "hook-1")],
        )
    };
    let made = subscribe_keyed(&first);
    assert_eq!(made.status, Status::CREATED, "{}", made.text);
    let id = made.body["subscription"]["id"].as_str().unwrap().to_owned();
    // An answer kept under one of its keys (an answer with a secret, as the subscription's, is
    // never kept).
    let dossier = json!([{"code": "C1-DASH-00001", "procedureCode": "1.000001", "unit": "C1",
        "channel": "online", "receivedAt": "2026-03-02T08:00:00+07:00",
        "applicant": {"kind": "citizen", "name": "An"},
        "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]}]);
    let push_keyed = |token: &str| {
        app.call_with(
            HttpMethod::POST,
            "/api/v1/dossiers/bulk",
            Some(token),
            Some(&dossier),
            &[("Idempotency-Key", "push-1")],
        )
    };
    let pushed = push_keyed(&first);
    assert_eq!(pushed.status, Status::OK, "{}", pushed.text);
    assert_eq!(
        push_keyed(&first).header("idempotent-replayed"),
        Some("true")
    );

    let r = app.call(
        HttpMethod::DELETE,
        "/api/v1/clients/dash",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
    // Another department's client, given the same id.
    let (_, second) = app.client("dash", &scopes, &["STTTT"]);
    app.get(&format!("/api/v1/subscriptions/{id}"), &second)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let list = app.get("/api/v1/subscriptions", &second);
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
    // The answer kept under the old client's key is not the new client's: judged again, the
    // dossier is outside its grant.
    let again = push_keyed(&second);
    assert_eq!(again.header("idempotent-replayed"), None, "{}", again.text);
    assert_eq!(
        again.body["items"][0]["result"], "rejected",
        "{}",
        again.text
    );

    // Owned by no client: listed to the administrator, who may delete it; the change is audited.
    let old = app.get(&format!("/api/v1/subscriptions/{id}"), &admin);
    assert_eq!(old.status, Status::OK, "{}", old.text);
    assert_eq!(old.body["ownerClient"], "deleted:dash");
    assert_ne!(old.header("etag"), made.header("etag"), "{}", old.text);
    let trail = app.get(
        &format!("/api/v1/audit?resourceType=subscription&resourceId={id}"),
        &admin,
    );
    assert_eq!(trail.status, Status::OK, "{}", trail.text);
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"update"), "{}", trail.text);
    let r = app.call(
        HttpMethod::DELETE,
        &format!("/api/v1/subscriptions/{id}"),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
}
