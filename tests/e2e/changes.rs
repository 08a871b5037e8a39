//! The change feed (`GET /changes`): every write once, in commit order, resumable, filtered by
//! kind and unit, limited to the caller's grant; on PostgreSQL a write committed while an older
//! one still runs waits for it.

use serde_json::{Value, json};
use tthc_core::db::audit::{self, Actor, Change};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::procedures::seed;

fn feed(app: &TestApp, token: &str, query: &str) -> (Vec<(String, String, String, Value)>, String) {
    let r = app.get(&format!("/api/v1/changes?{query}"), token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let items = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["resourceType"].as_str().unwrap().to_owned(),
                c["code"].as_str().unwrap().to_owned(),
                c["unit"].clone(),
            )
        })
        .collect();
    (items, r.body["nextCursor"].as_str().unwrap().to_owned())
}

/// [`feed`] once it lists at least `n` changes: on PostgreSQL a change shows once every older
/// transaction of the server has ended, and the other tests' run at the same time.
fn feed_of(
    app: &TestApp,
    token: &str,
    query: &str,
    n: usize,
) -> (Vec<(String, String, String, Value)>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (items, next) = feed(app, token, query);
        if items.len() >= n || std::time::Instant::now() > deadline {
            return (items, next);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn dossier(code: &str, unit: &str) -> Value {
    json!({"code": code, "procedureCode": "1.000001", "unit": unit, "channel": "online",
           "receivedAt": "2026-03-02T08:00:00+07:00", "applicant": {"kind": "citizen", "name": "An"},
           "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]})
}

fn change(
    kind: &str,
    resource: &str,
    code: &str,
    unit: Option<&str>,
) -> (String, String, String, Value) {
    (kind.into(), resource.into(), code.into(), json!(unit))
}

#[test]
fn every_write_is_in_the_feed_once_in_commit_order() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // Every write so far: the admin client, 4 units, 2 fields, 3 procedures.
    let (start, cursor) = feed_of(&app, &admin, "limit=500", 10);
    assert_eq!(start.len(), 10, "{start:?}");
    let units: Vec<&str> = start
        .iter()
        .filter(|c| c.1 == "unit")
        .map(|c| c.2.as_str())
        .collect();
    assert_eq!(units, ["P", "STP", "C1", "STTTT"]);
    // Resumed from the cursor: exactly the writes since, in order.
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier("C1-260302-0001", "C1"),
            dossier("C1-260302-0002", "C1")
        ]),
    );
    assert_eq!(r.body["created"], 2, "{}", r.text);
    let mut again = dossier("C1-260302-0001", "C1");
    again["channel"] = json!("inPerson");
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0001",
        Some(&admin),
        Some(&again),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    app.unit("C2", "commune", Some("STP"));
    let (since, next) = feed_of(&app, &admin, &format!("after={cursor}"), 4);
    assert_eq!(
        since,
        [
            change("create", "dossier", "C1-260302-0001", Some("C1")),
            change("create", "dossier", "C1-260302-0002", Some("C1")),
            change("update", "dossier", "C1-260302-0001", Some("C1")),
            change("create", "unit", "C2", Some("C2")),
        ]
    );
    // Nothing new: no items, and the same position to ask from again.
    let (none, same) = feed(&app, &admin, &format!("after={next}"));
    assert!(none.is_empty());
    assert_eq!(same, next);
    // Pages of two give the same changes.
    let (first, page) = feed(&app, &admin, &format!("after={cursor}&limit=2"));
    let (second, _) = feed(&app, &admin, &format!("after={page}&limit=2"));
    assert_eq!([first, second].concat(), since);
    // By kind and by unit.
    let (dossiers, _) = feed(
        &app,
        &admin,
        &format!("after={cursor}&type=dossier,petition"),
    );
    assert_eq!(dossiers.len(), 3);
    let (stttt, _) = feed(&app, &admin, &format!("after={cursor}&unit=STTTT"));
    assert!(stttt.is_empty());
    let (stp, _) = feed(&app, &admin, &format!("after={cursor}&unit=STP"));
    assert_eq!(stp, since);
}

#[test]
fn a_unit_limited_client_reads_its_units_changes_only() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([dossier("C1-260302-0001", "C1")]),
    );
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let (_, sttt) = app.client("feed-sttt", &["changes:read"], &["STTTT"]);
    // Every change there is (the seed's 10, the dossier, the client): the admin's feed
    // reaches the last write first.
    assert_eq!(feed_of(&app, &admin, "limit=500", 12).0.len(), 12);
    let (seen, _) = feed(&app, &sttt, "limit=500");
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|c| c.3 == json!("STTTT")), "{seen:?}");
    // Another unit is named as unknown; a cursor not returned is refused; the scope is needed.
    app.get("/api/v1/changes?unit=C1", &sttt)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    app.get("/api/v1/changes?after=bm90LWEtY3Vyc29y", &admin)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let (_, reader) = app.client("reader", &["dossiers:read"], &["P"]);
    app.get("/api/v1/changes", &reader)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
}

/// Two writers commit out of order: the later-started one first. Its change waits in the feed
/// until the older one commits, then both come, the older first, so a reader that kept its
/// position never skips one.
#[test]
fn on_postgresql_a_write_waits_in_the_feed_for_an_older_write_still_running() {
    let app = TestApp::spawn();
    if !app.is_postgres() {
        return;
    }
    let admin = seed(&app);
    let (_, cursor) = feed_of(&app, &admin, "limit=500", 10);
    let mut held = app.db.conn().unwrap();
    diesel::RunQueryDsl::execute(diesel::sql_query("BEGIN"), &mut *held).unwrap();
    audit::record(
        &mut held,
        &Actor::system("test"),
        &Change::<Value> {
            action: "update",
            resource_type: "setting",
            resource_id: "held",
            before: None,
            after: None,
        },
    )
    .unwrap();
    app.unit("C2", "commune", Some("STP"));
    let (while_held, _) = feed(&app, &admin, &format!("after={cursor}"));
    assert!(while_held.is_empty(), "{while_held:?}");
    diesel::RunQueryDsl::execute(diesel::sql_query("COMMIT"), &mut *held).unwrap();
    let (after, _) = feed_of(&app, &admin, &format!("after={cursor}"), 2);
    assert_eq!(
        after,
        [
            change("update", "setting", "held", None),
            change("create", "unit", "C2", Some("C2")),
        ]
    );
}
