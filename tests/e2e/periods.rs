//! Closing a month freezes its scores; late data shows as a difference; the portal's published
//! scores are reconciled with tthc's, indicator by indicator. On the hand-built March 2026 of
//! `scores::province` (P scores 38.17 live).

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::scores::{counts, province, sync_late};

fn post(app: &TestApp, path: &str, token: &str) -> tthc_tests::Reply {
    app.call(HttpMethod::POST, path, Some(token), None)
}

/// The provincial office: every unit, may write scores, may not reopen.
fn office(app: &TestApp) -> String {
    let admin = app.admin_token();
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "office", "name": "VP UBND", "scopes": ["scores:read", "scores:write", "audit:read"], "allUnits": true}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let secret = r.body["clientSecret"].as_str().unwrap().to_owned();
    let t = app.token_for("office", &secret, &[]);
    t.body["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn a_closed_month_keeps_its_scores_and_shows_late_data_until_reopened() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let office = office(&app);
    // Who may close, and what.
    let (_, department) = app.client("stp", &["scores:read", "scores:write"], &["STP"]);
    post(&app, "/api/v1/periods/2026-03/close", &department)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
    // Not a month: the path breaks the document; a month not over yet: a rule of the service.
    for bad in ["2026-13", "2026-Q1", "2026"] {
        post(&app, &format!("/api/v1/periods/{bad}/close"), &office)
            .assert_problem(Status::BAD_REQUEST, "validationFailed");
    }
    post(&app, "/api/v1/periods/2099-01/close", &office)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let r = post(&app, "/api/v1/periods/2026-03/close", &office);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.body["period"], "2026-03");
    assert_eq!(r.body["units"], 4, "P, STP, C1, STTTT");
    assert_eq!(r.body["closedBy"], "office");
    post(&app, "/api/v1/periods/2026-03/close", &office)
        .assert_problem(Status::CONFLICT, "conflict");
    let list = app.get("/api/v1/periods", &office);
    assert_eq!(list.body["items"][0]["period"], "2026-03");

    let s = app.get("/api/v1/units/P/scores/2026-03", &office);
    assert_eq!(s.body["score"], 38.17);
    assert_eq!(s.body["closed"]["period"], "2026-03");
    assert_eq!(s.body["sinceClose"]["score"], 0.0);
    assert_eq!(s.body["sinceClose"]["indicators"], json!([]));

    // Late data moves the live figures, not the closed month's. Of the two dossiers synced
    // late, only 2 was received in March (5 is carried over): sync 3 of 4 → 4 of 4, +1.5.
    sync_late(&app, &admin);
    let s = app.get("/api/v1/units/P/scores/2026-03", &office);
    assert_eq!(s.body["score"], 38.17);
    assert_eq!(
        counts(&s.body, "DOSSIER_SYNC"),
        (json!(3), json!(4), json!(4.5))
    );
    assert_eq!(s.body["sinceClose"]["liveScore"], 39.67);
    assert_eq!(s.body["sinceClose"]["score"], 1.5);
    assert_eq!(
        s.body["sinceClose"]["indicators"],
        json!([{"code": "DOSSIER_SYNC", "numerator": 1, "denominator": 0, "score": 1.5}])
    );
    // Trends and rankings read the closed month from its snapshot too; April stays live.
    let t = app.get("/api/v1/units/P/scores?from=2026-03&to=2026-04", &office);
    assert_eq!(t.body["points"][0]["score"], 38.17);
    let r = app.get("/api/v1/units/P/rankings/2026-03", &office);
    assert_eq!(r.body["items"][1]["unit"], "STP");
    assert_eq!(r.body["items"][1]["score"], 36.44, "STP's closed score");

    // Reopening is for administrators; then the month is live again.
    post(&app, "/api/v1/periods/2026-03/reopen", &office)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let r = post(&app, "/api/v1/periods/2026-03/reopen", &admin);
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
    let s = app.get("/api/v1/units/P/scores/2026-03", &office);
    assert_eq!(s.body["score"], 39.67);
    assert_eq!(s.body["closed"], Value::Null);
    post(&app, "/api/v1/periods/2026-03/reopen", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let audit = app.get("/api/v1/audit?resourceType=period", &office);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["reopen", "close"], "{}", audit.text);
}

/// A reopening undoes the close it read, and the audit trail records that one. Here another
/// writer closes the month anew (its own instant and client) while the reopening runs: on
/// PostgreSQL the reopening has read the old close and finds it gone, so it answers 409 and
/// leaves the new close as it is; on SQLite the write lock makes it wait before it reads, so it
/// reopens the new close and records that one.
#[test]
fn a_reopening_undoes_only_the_close_it_read() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let office = office(&app);
    let r = post(&app, "/api/v1/periods/2026-03/close", &office);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let mut holder = app.hold("SELECT 1");
    holder
        .batch_execute(
            "UPDATE closed_periods SET closed_by = 'elsewhere', closed_at = '2026-12-01 00:00:00' \
             WHERE period = '2026-03'",
        )
        .unwrap();
    let reopened = std::thread::scope(|s| {
        let reopen = s.spawn(|| post(&app, "/api/v1/periods/2026-03/reopen", &admin));
        app.until_requests_wait(1);
        holder.batch_execute("COMMIT").unwrap();
        reopen.join().unwrap()
    });
    let list = app.get("/api/v1/periods", &office);
    if app.is_postgres() {
        reopened.assert_problem(Status::CONFLICT, "conflict");
        assert_eq!(
            list.body["items"][0]["closedBy"], "elsewhere",
            "{}",
            list.text
        );
        assert_eq!(reopenings(&app, &office), json!([]), "nothing reopened");
        let again = post(&app, "/api/v1/periods/2026-03/reopen", &admin);
        assert_eq!(again.status, Status::NO_CONTENT, "{}", again.text);
    } else {
        assert_eq!(reopened.status, Status::NO_CONTENT, "{}", reopened.text);
    }
    let recorded = reopenings(&app, &office);
    assert_eq!(recorded[0]["before"]["closedBy"], "elsewhere", "{recorded}");
    let list = app.get("/api/v1/periods", &office);
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
}

/// On SQLite a close's instant is text: one stored in another form than the service writes
/// (here by hand, with a `T`) is still the close a reopening read, and is reopened.
#[test]
fn a_close_whose_instant_was_stored_in_another_form_is_reopened() {
    let app = TestApp::spawn();
    if app.is_postgres() {
        return;
    }
    let admin = province(&app);
    let office = office(&app);
    let r = post(&app, "/api/v1/periods/2026-03/close", &office);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    app.db
        .conn()
        .unwrap()
        .batch_execute("UPDATE closed_periods SET closed_at = replace(closed_at, ' ', 'T')")
        .unwrap();
    let r = post(&app, "/api/v1/periods/2026-03/reopen", &admin);
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
    assert_eq!(reopenings(&app, &office)[0]["before"]["closedBy"], "office");
}

/// The audit trail's reopenings of months, newest first.
fn reopenings(app: &TestApp, token: &str) -> Value {
    let audit = app.get("/api/v1/audit?resourceType=period", token);
    assert_eq!(audit.status, Status::OK, "{}", audit.text);
    let items = audit.body["items"].as_array().unwrap();
    Value::Array(
        items
            .iter()
            .filter(|a| a["action"] == "reopen")
            .cloned()
            .collect(),
    )
}

/// A month is closed with the rule set in force when its figures were counted; when another
/// takes effect for it meanwhile (a writer of rule sets holding them, a rule set moved to apply
/// earlier), the close answers 409 and freezes nothing, and closing again uses the new one.
#[test]
fn a_month_closed_while_its_rule_set_changes_answers_409() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let office = office(&app);
    let mut set = app
        .call(HttpMethod::GET, "/api/v1/rule-sets/qd766", None, None)
        .body;
    set["code"] = json!("tinh-2027");
    set["appliesFrom"] = json!("2027-01-01");
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/rule-sets/tinh-2027",
        Some(&admin),
        Some(&set),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    // On PostgreSQL the rule sets' lock, on SQLite the write lock: the rule set is made to
    // apply from January 2026 before the lock is let go.
    let mut holder = app.hold("SELECT pg_advisory_xact_lock(hashtext('rule_sets'))");
    holder
        .batch_execute(
            "UPDATE rule_sets SET applies_from = '2026-01-01', \
             body = replace(body, '2027-01-01', '2026-01-01'), version = version + 1 \
             WHERE code = 'tinh-2027'",
        )
        .unwrap();
    std::thread::scope(|s| {
        let close = s.spawn(|| post(&app, "/api/v1/periods/2026-03/close", &office));
        app.until_requests_wait(1);
        holder.batch_execute("COMMIT").unwrap();
        close
            .join()
            .unwrap()
            .assert_problem(Status::CONFLICT, "conflict");
    });
    let list = app.get("/api/v1/periods", &office);
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
    let r = post(&app, "/api/v1/periods/2026-03/close", &office);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    // The answer shows the instant as stored (microseconds).
    let list = app.get("/api/v1/periods", &office);
    assert_eq!(list.body["items"][0]["closedAt"], r.body["closedAt"]);
    let s = app.get("/api/v1/units/P/scores/2026-03", &office);
    assert_eq!(s.body["ruleSet"], "tinh-2027", "{}", s.text);
}

#[test]
fn the_portals_scores_are_reconciled_indicator_by_indicator() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let put = |body: &Value| {
        app.call(
            HttpMethod::PUT,
            "/api/v1/units/P/official-scores/2026-03",
            Some(&admin),
            Some(body),
        )
    };
    app.get("/api/v1/units/P/reconciliation/2026-03", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    // What the portal published: progress as tthc counts it, and for sync only the three
    // dossiers it received (all synced: it never heard of dossier 2), a total of 41.
    let published = json!({
        "score": 41.0, "rank": 12, "rankOf": 34, "publishedOn": "2026-04-10",
        "source": "Cổng DVC quốc gia, tháng 3/2026",
        "groups": {"PROGRESS": 12.0, "TRANSPARENCY": 6.0},
        "indicators": {
            "ON_TIME_PROCESSING": {"numerator": 3, "denominator": 5, "score": 12.0},
            "DOSSIER_SYNC": {"numerator": 3, "denominator": 3, "score": 6.0}
        }
    });
    let r = put(&published);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/units/P/official-scores/2026-03", &admin)
            .body,
        published
    );
    // Closed, then two dossiers synced late.
    let r = post(&app, "/api/v1/periods/2026-03/close", &admin);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    sync_late(&app, &admin);

    let r = app.get("/api/v1/units/P/reconciliation/2026-03", &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["basis"], "snapshot");
    assert_eq!(r.body["tthcScore"], 38.17);
    assert_eq!(r.body["officialScore"], 41.0);
    assert_eq!(r.body["difference"], -2.83);
    assert_eq!(
        (r.body["rank"].clone(), r.body["rankOf"].clone()),
        (json!(12), json!(34))
    );
    let indicator = |code: &str| {
        r.body["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == code)
            .unwrap()
            .clone()
    };
    let progress = indicator("ON_TIME_PROCESSING");
    assert_eq!(progress["difference"], 0.0);
    assert_eq!(progress["causes"], json!([]));
    // Sync: tthc 3 of 4 (4.5) against the portal's 3 of 3 (6.0).
    let sync = indicator("DOSSIER_SYNC");
    assert_eq!(
        sync["tthc"],
        json!({"numerator": 3, "denominator": 4, "score": 4.5})
    );
    assert_eq!(sync["difference"], -1.5);
    assert_eq!(
        sync["causes"],
        json!([
            "tthc counts 1 more records than the portal",
            "1 dossiers of the period were never synced to the national portal, which counts only what it receives",
            "late data since the month was closed: live figures moved by +1 met of +0 records"
        ])
    );
    assert_eq!(
        indicator("PUBLISH_ON_TIME")["causes"],
        json!(["the portal published no figure for it"])
    );
    let groups = r.body["groups"].as_array().unwrap();
    let transparency = groups.iter().find(|g| g["code"] == "TRANSPARENCY").unwrap();
    // tthc: sync 4.5 alone (no announcements) against 6.0.
    assert_eq!(
        (
            transparency["tthc"].clone(),
            transparency["difference"].clone()
        ),
        (json!(4.5), json!(-1.5))
    );

    // Refusals name each field and store nothing.
    let r = put(&json!({
        "score": 120.0, "rank": 40, "rankOf": 34,
        "groups": {"NOPE": 1.0, "PROGRESS": 25.0},
        "indicators": {"NOT_AN_INDICATOR": {"score": 1.0},
                       "DOSSIER_SYNC": {"numerator": 5, "denominator": 4}}
    }));
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let mut names = r.invalid_names();
    names.sort();
    assert_eq!(
        names,
        [
            "groups.NOPE",
            "groups.PROGRESS",
            "indicators.DOSSIER_SYNC.numerator",
            "indicators.NOT_AN_INDICATOR",
            "rank",
            "score"
        ]
    );
    assert_eq!(
        app.get("/api/v1/units/P/official-scores/2026-03", &admin)
            .body["score"],
        41.0
    );
    // Reopened, tthc's side is live.
    post(&app, "/api/v1/periods/2026-03/reopen", &admin);
    let r = app.get("/api/v1/units/P/reconciliation/2026-03", &admin);
    assert_eq!(r.body["basis"], "live");
    assert_eq!(r.body["tthcScore"], 39.67);
    let (_, reader) = app.client("reader", &["scores:read"], &["P"]);
    app.call(
        HttpMethod::PUT,
        "/api/v1/units/P/official-scores/2026-03",
        Some(&reader),
        Some(&published),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
}
