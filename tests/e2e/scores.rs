//! Live 766 scores of a hand-built province, worked out by hand, and the figures entered for
//! what tthc cannot observe.

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::procedures::seed;

/// A dossier under procedure 1.000001 (3 working days).
pub(crate) fn dossier(
    code: &str,
    unit: &str,
    channel: &str,
    received: &str,
    events: Value,
    synced: bool,
) -> Value {
    let mut d = json!({
        "code": code, "procedureCode": "1.000001", "unit": unit, "channel": channel,
        "receivedAt": received,
        "applicant": {"kind": "citizen", "name": "Trần Thị Bình"},
        "events": events
    });
    if synced {
        d["sync"] = json!({"syncedAt": "2026-04-01T08:00:00+07:00", "syncedStatus": "received"});
    }
    d
}

fn ev(id: &str, status: &str, at: &str) -> Value {
    json!({"id": id, "status": status, "at": at})
}

pub(crate) fn finished(received: &str, end: &str) -> Value {
    json!([ev("1", "received", received), ev("2", "finished", end)])
}

/// March 2026 in a province P with a department STP, its commune C1, and a department STTTT:
/// 1 C1 online, received 2/3, finished 4/3 (due 5/3): early; synced
/// 2 C1 in person, received 2/3, finished 6/3: late
/// 3 C1 online, received 2/3, still open at the end of March (due 5/3): overdue; synced
/// 4 STTTT in person, received 3/3, finished the same day: early; synced
/// 5 C1 in person, received 26/2, finished 2/3: carried over, early
/// 6 C1 in person, received and finished in February: not in March
pub(crate) fn province(app: &TestApp) -> String {
    let admin = seed(app);
    let t = |d: &str| format!("2026-{d}+07:00");
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier(
                "C1-260302-0001",
                "C1",
                "online",
                &t("03-02T08:00:00"),
                finished(&t("03-02T08:00:00"), &t("03-04T10:00:00")),
                true
            ),
            dossier(
                "C1-260302-0002",
                "C1",
                "inPerson",
                &t("03-02T08:00:00"),
                finished(&t("03-02T08:00:00"), &t("03-06T10:00:00")),
                false
            ),
            dossier(
                "C1-260302-0003",
                "C1",
                "online",
                &t("03-02T08:00:00"),
                json!([ev("1", "received", &t("03-02T08:00:00"))]),
                true
            ),
            dossier(
                "STTTT-260303-0004",
                "STTTT",
                "inPerson",
                &t("03-03T08:00:00"),
                finished(&t("03-03T08:00:00"), &t("03-03T10:00:00")),
                true
            ),
            dossier(
                "C1-260226-0005",
                "C1",
                "inPerson",
                &t("02-26T08:00:00"),
                finished(&t("02-26T08:00:00"), &t("03-02T10:00:00")),
                false
            ),
            dossier(
                "C1-260202-0006",
                "C1",
                "inPerson",
                &t("02-02T08:00:00"),
                finished(&t("02-02T08:00:00"), &t("02-03T10:00:00")),
                false
            ),
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["created"], 6, "{}", r.text);
    admin
}

fn indicator(score: &Value, code: &str) -> Value {
    score["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap().clone())
        .find(|i| i["code"] == code)
        .unwrap()
}

/// `(numerator, denominator, score)` of an indicator in a score.
pub(crate) fn counts(score: &Value, code: &str) -> (Value, Value, Value) {
    let i = indicator(score, code);
    (
        i["numerator"].clone(),
        i["denominator"].clone(),
        i["score"].clone(),
    )
}

#[test]
fn a_parent_counts_its_whole_subtree_as_worked_out_by_hand() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let p = app.get("/api/v1/units/P/scores/2026-03", &admin);
    assert_eq!(p.status, Status::OK, "{}", p.text);
    // Handled in March: 1–5; on time: 1, 4, 5 → 3/5 = 60% of 20 = 12.
    assert_eq!(
        counts(&p.body, "ON_TIME_PROCESSING"),
        (json!(3), json!(5), json!(12.0))
    );
    // Received in March: 1–4, online 1 and 3; but 1.000001's result is a paper document, and
    // neither carries an electronic result, so neither counts (PORTAL_RULES 3.3) → 0 of 4, and
    // the ratio is multiplied by the sync ratio 3/4 (see below): 0.
    assert_eq!(
        counts(&p.body, "ONLINE_DOSSIER_SUBMISSION"),
        (json!(0), json!(4), json!(0.0))
    );
    assert_eq!(
        indicator(&p.body, "ONLINE_DOSSIER_SUBMISSION")["times"],
        json!({"numerator": 3, "denominator": 4})
    );
    // Synced, of the dossiers received in March (PORTAL_RULES 1.4; 5 is carried over): 1, 3, 4
    // of 1–4 → 75% of 6 = 4.5.
    assert_eq!(
        counts(&p.body, "DOSSIER_SYNC"),
        (json!(3), json!(4), json!(4.5))
    );
    // Finished in March: 1, 2, 4, 5; 2 was late → 3 of 4 = 75% of a 90% threshold: 6 × 75/90 = 5.
    assert_eq!(
        counts(&p.body, "DOSSIER_RECEIVING_SATISFACTION"),
        (json!(3), json!(4), json!(5.0))
    );
    // No fees, components or results in these dossiers. Procedure 1.000001 has fees, so its 4
    // dossiers received in March count for online payment, none paid (PORTAL_RULES 3.6); the
    // other dossier-detail indicators count 0 and have no score.
    assert_eq!(
        counts(&p.body, "ONLINE_PAYMENT_DOSSIER"),
        (json!(0), json!(4), json!(0.0))
    );
    assert_eq!(
        counts(&p.body, "ORIGINAL_RESULT_AVAILABLE"),
        (json!(0), json!(4), json!(0.0))
    );
    // No petitions: both petition indicators have a zero denominator, which gives full marks
    // (6 + 6).
    assert_eq!(
        counts(&p.body, "PETITION_PROCESSING_ON_TIME"),
        (json!(0), json!(0), json!(6.0))
    );
    assert_eq!(
        p.body["sources"]["PETITION_HANDLING_SATISFACTION"],
        "observed"
    );
    // The catalogue (procedures::seed): 1.000001 and its localized copy 1.000001.P at C1, with
    // fees; 1.000002 at STTTT, without; all three partly online. Online service 3 of 3 → 2.
    assert_eq!(
        counts(&p.body, "ONLINE_SERVICE_PROVIDED"),
        (json!(3), json!(3), json!(2.0))
    );
    // Online dossiers 1 and 3 name 1.000001, which its localized copy shares: 2 of 3 → 2.67.
    assert_eq!(
        counts(&p.body, "ONLINE_SERVICE_WITH_DOSSIERS"),
        (json!(2), json!(3), json!(2.67))
    );
    // No dossier paid online, none carried its fees, none used the population database.
    assert_eq!(
        counts(&p.body, "ONLINE_PAYMENT_FORMALITY"),
        (json!(0), json!(2), json!(0.0))
    );
    assert_eq!(
        counts(&p.body, "PAYMENT_INTEGRATED_FORMALITY"),
        (json!(0), json!(2), json!(0.0))
    );
    assert_eq!(
        counts(&p.body, "CITIZEN_DATA_CONNECTED_FORMALITY"),
        (json!(0), json!(3), json!(0.0))
    );
    // 12 + 0 + 4.5 + 5 + 12 + 2 + 2.67 = 38.17.
    assert_eq!(p.body["score"], 38.17);
    assert_eq!(p.body["sources"]["ON_TIME_PROCESSING"], "observed");
    assert_eq!(indicator(&p.body, "ON_TIME_PROCESSING")["pointsLost"], 8.0);
    // No announcement decisions: the transparency indicators are not applicable; nor are the
    // figures tthc does not observe.
    assert_eq!(
        counts(&p.body, "PUBLISH_ON_TIME"),
        (json!(0), json!(0), Value::Null)
    );
    assert_eq!(
        indicator(&p.body, "ELECTRONIC_CERTIFIED_COPY")["score"],
        Value::Null
    );

    // The commune's department counts the commune: 1, 2, 3, 5.
    let stp = app.get("/api/v1/units/STP/scores/2026-03", &admin);
    assert_eq!(
        counts(&stp.body, "ON_TIME_PROCESSING"),
        (json!(2), json!(4), json!(10.0))
    );
    // Online 1 and 3, without an electronic result of a paper-result procedure: 0 of 3.
    assert_eq!(
        counts(&stp.body, "ONLINE_DOSSIER_SUBMISSION"),
        (json!(0), json!(3), json!(0.0))
    );
    // Sync, of those received in March (1, 2, 3): 1 and 3 → 2 of 3 of 6 = 4.
    assert_eq!(
        counts(&stp.body, "DOSSIER_SYNC"),
        (json!(2), json!(3), json!(4.0))
    );
    // Finished: 1, 2, 5; 2 late → 2 of 3 → 6 × (2/3) / 0.9 = 4.444…; the two C1 procedures
    // are online (2) and received online dossiers (4);
    // 10 + 0 + 4 + 4.444… + 12 (no petitions) + 2 + 4 = 36.44.
    assert_eq!(stp.body["score"], 36.44);
    // The other department: dossier 4 alone; nothing online (0 of 1 → 0).
    let st = app.get("/api/v1/units/STTTT/scores/2026-03", &admin);
    assert_eq!(
        counts(&st.body, "ON_TIME_PROCESSING"),
        (json!(1), json!(1), json!(20.0))
    );
    assert_eq!(
        counts(&st.body, "ONLINE_DOSSIER_SUBMISSION"),
        (json!(0), json!(1), json!(0.0))
    );
    // 20 + 0 + 6 (synced) + 6 (finished early, not dissatisfied) + 12 (no petitions) + 2
    // (1.000002 is online; it received no online dossier, and has no fees: 0 of 0 gives 0).
    assert_eq!(
        counts(&st.body, "ONLINE_PAYMENT_FORMALITY"),
        (json!(0), json!(0), json!(0.0))
    );
    assert_eq!(st.body["score"], 46.0);
    // The quarter holds February's dossier 6 too: 1–6 handled, on time 1, 4, 5, 6.
    let q = app.get("/api/v1/units/P/scores/2026-Q1", &admin);
    assert_eq!(
        counts(&q.body, "ON_TIME_PROCESSING"),
        (json!(4), json!(6), json!(13.33))
    );
    // Dossier 3, open and overdue, is still being handled in June: 0 of 1 on time.
    let june = app.get("/api/v1/units/P/scores/2026-06", &admin);
    assert_eq!(
        counts(&june.body, "ON_TIME_PROCESSING"),
        (json!(0), json!(1), json!(0.0))
    );
    // A month before any dossier: progress has a zero denominator and gives 0, sync none.
    let empty = app.get("/api/v1/units/P/scores/2025-06", &admin);
    assert_eq!(
        counts(&empty.body, "ON_TIME_PROCESSING"),
        (json!(0), json!(0), json!(0.0))
    );
    assert_eq!(indicator(&empty.body, "DOSSIER_SYNC")["score"], Value::Null);
}

/// `PUT` of province P's entered figures for March 2026.
fn put_figures(app: &TestApp, token: &str, body: &Value) -> tthc_tests::Reply {
    app.call(
        HttpMethod::PUT,
        "/api/v1/units/P/figures/2026-03",
        Some(token),
        Some(body),
    )
}

#[test]
fn entered_figures_complete_and_replace_counts_and_are_checked() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let put = |body: &Value| put_figures(&app, &admin, body);
    let r = put(&json!({"figures": {
        "DOSSIER_SYNC": {"denominator": 10, "note": "Hệ thống báo cáo quốc gia"},
        "ELECTRONIC_CERTIFIED_COPY": {"numerator": 8, "denominator": 10}
    }}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        r.body["figures"]["DOSSIER_SYNC"]["note"],
        "Hệ thống báo cáo quốc gia"
    );
    let p = app.get("/api/v1/units/P/scores/2026-03", &admin);
    // tthc's 3 synced over the larger denominator, 10 → 30% of 6 = 1.8; copies 80% of 2 = 1.6.
    assert_eq!(
        counts(&p.body, "DOSSIER_SYNC"),
        (json!(3), json!(10), json!(1.8))
    );
    assert_eq!(
        counts(&p.body, "ELECTRONIC_CERTIFIED_COPY"),
        (json!(8), json!(10), json!(1.6))
    );
    assert_eq!(p.body["sources"]["DOSSIER_SYNC"], "observedOverEntered");
    assert_eq!(p.body["sources"]["ELECTRONIC_CERTIFIED_COPY"], "entered");
    // 12 + 0 (online, × 30% now) + 1.8 + 1.6 + 5 (satisfaction) + 12 (no petitions) + 4.67
    // (catalogue).
    assert_eq!(p.body["score"], 37.07);
    // Entered for P, not for its departments.
    let stp = app.get("/api/v1/units/STP/scores/2026-03", &admin);
    assert_eq!(
        indicator(&stp.body, "ELECTRONIC_CERTIFIED_COPY")["score"],
        Value::Null
    );
    let audit = app.get("/api/v1/audit?resourceType=figures", &admin);
    assert_eq!(
        audit.body["items"][0]["resourceId"], "P/2026-03",
        "{}",
        audit.text
    );

    // Refusals name each figure, and store nothing.
    let r = put(&json!({"figures": {
        "NOT_AN_INDICATOR": {"numerator": 1, "denominator": 2},
        "DOSSIER_SYNC": {"numerator": 11, "denominator": 10},
        "ELECTRONIC_CERTIFIED_COPY": {"denominator": 10},
        // Past what a 64-bit signed column holds: it was stored clamped.
        "PUBLISH_ON_TIME": {"numerator": 1, "denominator": u64::MAX}
    }}));
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let mut names = r.invalid_names();
    names.sort();
    assert_eq!(
        names,
        [
            "figures.DOSSIER_SYNC.numerator",
            "figures.ELECTRONIC_CERTIFIED_COPY.numerator",
            "figures.NOT_AN_INDICATOR",
            "figures.PUBLISH_ON_TIME.denominator"
        ]
    );
    let kept = app.get("/api/v1/units/P/figures/2026-03", &admin);
    assert_eq!(
        kept.body["figures"]["ELECTRONIC_CERTIFIED_COPY"]["numerator"],
        8
    );
    for bad in ["2026-13", "2026-Q5", "26-03", "2021-06"] {
        app.get(&format!("/api/v1/units/P/scores/{bad}"), &admin)
            .assert_problem(Status::BAD_REQUEST, "validationFailed");
    }
}

#[test]
fn two_replacements_of_entered_figures_at_once_leave_one_of_them_not_a_mix() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let put = |body: &Value| put_figures(&app, &admin, body);
    let first = json!({"figures": {
        "DOSSIER_SYNC": {"denominator": 10},
        "ELECTRONIC_CERTIFIED_COPY": {"numerator": 8, "denominator": 10}
    }});
    let second = json!({"figures": {"DOSSIER_SYNC": {"denominator": 20}}});
    // Both arrive while a third writer holds the figures (PostgreSQL) or the write lock
    // (SQLite); each replaces the set the other left, or nothing.
    let mut holder = app.hold("LOCK TABLE unit_figures IN EXCLUSIVE MODE");
    std::thread::scope(|s| {
        let a = s.spawn(|| put(&first));
        let b = s.spawn(|| put(&second));
        app.until_requests_wait(2);
        holder.batch_execute("COMMIT").unwrap();
        for r in [a.join().unwrap(), b.join().unwrap()] {
            assert_eq!(r.status, Status::OK, "{}", r.text);
        }
    });
    let stored = app.get("/api/v1/units/P/figures/2026-03", &admin).body["figures"].clone();
    let mut kept: Vec<(&str, &Value)> = stored
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), &v["denominator"]))
        .collect();
    kept.sort_by_key(|(k, _)| *k);
    assert!(
        kept == [
            ("DOSSIER_SYNC", &json!(10)),
            ("ELECTRONIC_CERTIFIED_COPY", &json!(10))
        ] || kept == [("DOSSIER_SYNC", &json!(20))],
        "{stored}"
    );
}

#[test]
fn scores_need_their_scope_and_stay_within_the_callers_units() {
    let app = TestApp::spawn();
    province(&app);
    let (_, reader) = app.client("stp-reader", &["scores:read"], &["STP"]);
    assert_eq!(
        app.get("/api/v1/units/C1/scores/2026-03", &reader).status,
        Status::OK
    );
    app.get("/api/v1/units/P/scores/2026-03", &reader)
        .assert_problem(Status::NOT_FOUND, "notFound");
    app.call(
        HttpMethod::PUT,
        "/api/v1/units/STP/figures/2026-03",
        Some(&reader),
        Some(&json!({"figures": {}})),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let (_, dossiers_only) = app.client("vendor", &["dossiers:read"], &["P"]);
    app.get("/api/v1/units/P/scores/2026-03", &dossiers_only)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
}

#[test]
fn misses_list_each_dossier_that_cost_points_and_what_it_costs() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let base = "/api/v1/units/P/scores/2026-03/indicators";
    let r = app.get(&format!("{base}/ON_TIME_PROCESSING/misses"), &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let codes: Vec<&str> = items.iter().map(|i| i["code"].as_str().unwrap()).collect();
    // 2 finished late, 3 still open past its due instant; 3 of 5 on time → each fix +1/5 of 20.
    assert_eq!(codes, ["C1-260302-0002", "C1-260302-0003"]);
    assert_eq!(items[0]["reason"], "finished late");
    assert!(
        items[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("still open and late since")
    );
    assert_eq!(items[0]["pointsEach"], 4.0);
    assert_eq!(items[1]["unit"], "C1");
    // Fixing both would give 5/5: the 8 points the score says are lost.
    let score = app.get("/api/v1/units/P/scores/2026-03", &admin);
    assert_eq!(
        indicator(&score.body, "ON_TIME_PROCESSING")["pointsLost"],
        json!(items.len() as f64 * items[0]["pointsEach"].as_f64().unwrap())
    );
    let sync = app.get(&format!("{base}/DOSSIER_SYNC/misses"), &admin);
    let codes: Vec<&str> = sync.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    // Only the dossiers received in March count for sync: 5, carried over from February, is
    // not a miss of March's (6 points over 4 received: 1.5 each).
    assert_eq!(codes, ["C1-260302-0002"]);
    assert_eq!(sync.body["items"][0]["pointsEach"], 1.5);
    // Keyset pages of one.
    let first = app.get(&format!("{base}/ON_TIME_PROCESSING/misses?limit=1"), &admin);
    assert_eq!(first.body["items"][0]["code"], "C1-260302-0002");
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = app.get(
        &format!("{base}/ON_TIME_PROCESSING/misses?limit=1&cursor={cursor}"),
        &admin,
    );
    assert_eq!(second.body["items"][0]["code"], "C1-260302-0003");
    assert_eq!(second.body["nextCursor"], Value::Null);
    // A cursor belongs to its list: another indicator's, period's or unit's refuses it (until
    // 2026-12-07 it was read as a position there).
    for other in [
        format!("{base}/DOSSIER_SYNC/misses?cursor={cursor}"),
        format!(
            "/api/v1/units/P/scores/2026-04/indicators/ON_TIME_PROCESSING/misses?cursor={cursor}"
        ),
        format!(
            "/api/v1/units/STP/scores/2026-03/indicators/ON_TIME_PROCESSING/misses?cursor={cursor}"
        ),
    ] {
        let r = app.get(&other, &admin);
        r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
        assert_eq!(r.invalid_names(), ["cursor"], "{other}");
    }
    // A commune's department sees its own misses only.
    let stp = app.get(
        "/api/v1/units/STTTT/scores/2026-03/indicators/ON_TIME_PROCESSING/misses",
        &admin,
    );
    assert_eq!(stp.body["items"], json!([]));
    // CSV for a spreadsheet.
    let csv = app
        .raw()
        .get(app.url(&format!("{base}/ON_TIME_PROCESSING/misses")))
        .bearer_auth(&admin)
        .header("Accept", "text/csv")
        .send()
        .unwrap()
        .text()
        .unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("kind,code,unit,procedureCode"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with("dossier,C1-260302-0002,C1,1.000001"),
        "{csv}"
    );
    // The CSV holds every miss, whatever page size is asked for.
    let (_, _, bytes) = app.download(
        &format!("{base}/ON_TIME_PROCESSING/misses?limit=1"),
        &admin,
        "text/csv",
    );
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("C1-260302-0002") && text.contains("C1-260302-0003"),
        "{text}"
    );
    // Indicators not listed record by record, and unknown ones.
    app.get(&format!("{base}/ELECTRONIC_CERTIFIED_COPY/misses"), &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    app.get(&format!("{base}/NOPE/misses"), &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

/// Dossiers carried over into March from long before are found whatever their handling took
/// (they are read per class of handling span, `dossier::span`): the hand-built province and
/// 7 C1, received 27/2 at 23:00, finished 1/3 at 00:00 (the month's first instant): on time;
/// 8 C1, received 15/1/2024, finished 10/3/2026 (786 days): late;
/// 9 C1, received 2/1/2014, finished 5/3/2026 (over 4,096 days, the unbounded class): on time;
/// 10 C1, received 20/12/2025, finished 10/2/2026: not in March.
#[test]
fn dossiers_carried_over_from_long_before_are_counted_and_listed() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let long = |code: &str, received: &str, end: &str| {
        dossier(
            code,
            "C1",
            "inPerson",
            received,
            finished(received, end),
            false,
        )
    };
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            long(
                "C1-260227-0007",
                "2026-02-27T23:00:00+07:00",
                "2026-03-01T00:00:00+07:00"
            ),
            long(
                "C1-240115-0008",
                "2024-01-15T08:00:00+07:00",
                "2026-03-10T10:00:00+07:00"
            ),
            long(
                "C1-140102-0009",
                "2014-01-02T08:00:00+07:00",
                "2026-03-05T10:00:00+07:00"
            ),
            long(
                "C1-251220-0010",
                "2025-12-20T08:00:00+07:00",
                "2026-02-10T10:00:00+07:00"
            ),
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["created"], 4, "{}", r.text);
    // 9 was received before the procedure's first version (2024): no due instant, on time.
    let nine = app.get("/api/v1/dossiers/C1-140102-0009", &admin);
    assert_eq!(nine.body["timing"], "finishedOnTime", "{}", nine.text);
    let p = app.get("/api/v1/units/P/scores/2026-03", &admin);
    assert_eq!(p.status, Status::OK, "{}", p.text);
    // Handled in March: 1–5, 7, 8, 9; on time 1, 4, 5, 7, 9 → 5/8 = 62.5% of 20 = 12.5.
    assert_eq!(
        counts(&p.body, "ON_TIME_PROCESSING"),
        (json!(5), json!(8), json!(12.5))
    );
    // Synced, of the dossiers received in March (5, 7, 8, 9 are carried over): 1, 3, 4 of 1–4
    // → 75% of 6 = 4.5.
    assert_eq!(
        counts(&p.body, "DOSSIER_SYNC"),
        (json!(3), json!(4), json!(4.5))
    );
    // The misses, oldest receipt first, each fix +1/8 of 20.
    let base = "/api/v1/units/P/scores/2026-03/indicators";
    let r = app.get(&format!("{base}/ON_TIME_PROCESSING/misses"), &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let codes: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["C1-240115-0008", "C1-260302-0002", "C1-260302-0003"]
    );
    assert_eq!(r.body["items"][0]["reason"], "finished late");
    assert_eq!(r.body["items"][0]["pointsEach"], 2.5);
    // Never synced, of the dossiers received in March: 2 only (9 and 8, never synced either,
    // are carried over: not March's to sync).
    let sync = app.get(&format!("{base}/DOSSIER_SYNC/misses?limit=2"), &admin);
    assert_eq!(
        sync.body["items"],
        json!([sync.body["items"][0].clone()]),
        "{}",
        sync.text
    );
    assert_eq!(sync.body["items"][0]["code"], "C1-260302-0002");
    // February still counts 7 (open at its end), 9, 8 and 10 among its handled dossiers.
    let february = app.get("/api/v1/units/P/scores/2026-02", &admin);
    assert_eq!(
        counts(&february.body, "ON_TIME_PROCESSING").1,
        json!(6),
        "{}",
        february.text
    );
}

#[test]
fn trends_and_rankings_follow_the_months() {
    let app = TestApp::spawn();
    let admin = province(&app);
    // February: 5 and 6 handled (6 ended on time, 5 open within its due instant) → 20; none
    // online (0 of 2) → 0; none synced (0 of 2) → 0; 6 finished on time, not dissatisfied → 6.
    // March: as above. April: only 3, open and overdue → 0; nothing received in April, so sync
    // is 0 of 0, ratio 0 (PORTAL_RULES 1.4, with no figures of last year) → 0; nothing
    // finished → 0. No petitions in any month: 12 more each; the catalogue's online service 2
    // more each, and 2.67 in March for the online dossiers.
    let t = app.get("/api/v1/units/P/scores?from=2026-02&to=2026-04", &admin);
    assert_eq!(t.status, Status::OK, "{}", t.text);
    let points: Vec<(String, Value)> = t.body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap().to_owned(), p["score"].clone()))
        .collect();
    assert_eq!(
        points,
        [
            ("2026-02".to_owned(), json!(40.0)),
            ("2026-03".to_owned(), json!(38.17)),
            ("2026-04".to_owned(), json!(14.0))
        ]
    );
    assert_eq!(t.body["points"][1]["groups"]["PROGRESS"], 12.0);
    // Months out of order or too far apart are rules; a quarter is not a month at all.
    for bad in ["from=2026-04&to=2026-02", "from=2024-01&to=2026-04"] {
        app.get(&format!("/api/v1/units/P/scores?{bad}"), &admin)
            .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    }
    app.get("/api/v1/units/P/scores?from=2026-Q1&to=2026-04", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");

    // March: STTTT 46.0 (was 14.0 in February: petitions and online service only), STP 36.44
    // (was 40.0: 20 + 6 + 12 + 2).
    let r = app.get("/api/v1/units/P/rankings/2026-03", &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["previousPeriod"], "2026-02");
    let items = r.body["items"].as_array().unwrap();
    let row = |i: usize| {
        (
            items[i]["rank"].clone(),
            items[i]["unit"].clone(),
            items[i]["score"].clone(),
            items[i]["previousScore"].clone(),
            items[i]["change"].clone(),
            items[i]["previousRank"].clone(),
        )
    };
    assert_eq!(
        row(0),
        (
            json!(1),
            json!("STTTT"),
            json!(46.0),
            json!(14.0),
            json!(32.0),
            json!(2)
        )
    );
    assert_eq!(
        row(1),
        (
            json!(2),
            json!("STP"),
            json!(36.44),
            json!(40.0),
            json!(-3.56),
            json!(1)
        )
    );
    // By group: STTTT leads progress (20 to 10), STP online submission (6 to 0).
    assert_eq!(items[0]["groupRanks"]["PROGRESS"], 1);
    assert_eq!(items[1]["groupRanks"]["ONLINE_SERVICE"], 1);
    assert_eq!(items[0]["groupRanks"]["ONLINE_SERVICE"], 2);
}

/// PORTAL_RULES 3.2, 3.5 and 4.5 as the portal counts them, in the score and in its misses
/// page alike: the VNeID mark alone connects a dossier to citizens' data; a synced fee list of
/// zeros shows no fee; a dossier refused before receipt is no online dossier (until 2026-12-07
/// the mark did not count, the zeros did, and the misses page counted the refused dossier).
#[test]
fn the_vneid_mark_zero_fees_and_refused_dossiers_count_as_the_portal_counts_them() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let at = |d: &str| format!("2026-05-{d}+07:00");
    // V: in person, synced, the VNeID mark alone, an exempt applicant's fee list of zeros.
    let mut v = dossier(
        "C1-260504-0011",
        "C1",
        "inPerson",
        &at("04T08:00:00"),
        finished(&at("04T08:00:00"), &at("05T10:00:00")),
        true,
    );
    v["vneidVerified"] = json!(true);
    v["financialObligation"] = json!(true);
    v["fees"] = json!([{"name": "Lệ phí", "amountVnd": 0}]);
    // R: submitted online and refused at the desk, never received.
    let r = dossier(
        "C1-260504-0012",
        "C1",
        "online",
        &at("04T08:00:00"),
        json!([
            ev("1", "newlyRegistered", &at("04T08:00:00")),
            ev("2", "notAccepted", &at("04T09:00:00"))
        ]),
        false,
    );
    let pushed = app.post("/api/v1/dossiers/bulk", &admin, &json!([v, r]));
    assert_eq!(pushed.body["created"], 2, "{}", pushed.text);
    let s = app.get("/api/v1/units/C1/scores/2026-05", &admin);
    assert_eq!(s.status, Status::OK, "{}", s.text);
    // V of the one dossier received; both of C1's procedures (one base code) for citizens.
    assert_eq!(
        counts(&s.body, "CITIZEN_DATA_CONNECTED_DOSSIER"),
        (json!(1), json!(1), json!(2.0))
    );
    assert_eq!(
        counts(&s.body, "CITIZEN_DATA_CONNECTED_FORMALITY").0,
        json!(2)
    );
    // V's synced fee list holds no amount.
    assert_eq!(counts(&s.body, "PAYMENT_INTEGRATED_FORMALITY").0, json!(0));
    // R was not received: neither online service had an online dossier.
    assert_eq!(counts(&s.body, "ONLINE_SERVICE_WITH_DOSSIERS").0, json!(0));
    let listed = |indicator: &str| -> Vec<String> {
        let m = app.get(
            &format!("/api/v1/units/C1/scores/2026-05/indicators/{indicator}/misses"),
            &admin,
        );
        assert_eq!(m.status, Status::OK, "{}", m.text);
        m.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed("ONLINE_SERVICE_WITH_DOSSIERS"),
        ["1.000001", "1.000001.P"]
    );
    assert_eq!(
        listed("PAYMENT_INTEGRATED_FORMALITY"),
        ["1.000001", "1.000001.P"]
    );
    assert_eq!(
        listed("CITIZEN_DATA_CONNECTED_FORMALITY"),
        Vec::<String>::new()
    );
}

#[test]
fn payment_digitization_and_satisfaction_are_counted_from_dossier_details() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let at = |d: &str| format!("2026-05-{d}+07:00");
    let detailed = |code: &str, channel: &str, extra: Value, events: Value| {
        let mut d = dossier(code, "C1", channel, &at("04T08:00:00"), events, false);
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    let done = finished(&at("04T08:00:00"), &at("05T10:00:00"));
    let pdf = json!([{"name": "kq.pdf", "mediaType": "application/pdf", "sizeBytes": 9000, "sha256": "aa", "pages": 1}]);
    // B's result, though an archive, was saved to the citizen's store on the portal.
    let zip = json!([{"name": "kq.zip", "mediaType": "application/zip", "sizeBytes": 9000, "sha256": "bb", "savedToCitizenStore": true}]);
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            // A: fee paid online (its obligation shown by the fee alone), one component
            // digitized, reused and from the citizen's store, a PDF result, the population
            // database, satisfied.
            detailed("C1-260504-0001", "online", json!({
                "fees": [{"name": "Lệ phí", "amountVnd": 50000, "paidOnline": true}],
                "components": [{"name": "Tờ khai", "digitized": true, "reused": true, "fromCitizenStore": true}],
                "results": pdf, "populationDbUsed": true,
                "rating": {"value": "satisfied", "at": at("05T11:00:00")}
            }), done.clone()),
            // B: fee paid at the desk, one of two components digitized, a zip result, dissatisfied.
            detailed("C1-260504-0002", "inPerson", json!({
                "financialObligation": true,
                "fees": [{"name": "Lệ phí", "amountVnd": 50000}],
                "components": [{"name": "Tờ khai", "digitized": true}, {"name": "Bản sao", "digitized": false}],
                "results": zip,
                "rating": {"value": "dissatisfied", "at": at("05T11:00:00")}
            }), done),
            // C: online, still open.
            detailed("C1-260504-0003", "online", json!({
                "components": [{"name": "Tờ khai"}]
            }), json!([ev("1", "received", &at("04T08:00:00"))])),
        ]),
    );
    assert_eq!(r.body["created"], 3, "{}", r.text);
    let s = app.get("/api/v1/units/C1/scores/2026-05", &admin);
    assert_eq!(s.status, Status::OK, "{}", s.text);
    // Received in May: A, B, C; online A, C. Finished in May: A, B.
    let expected = [
        // paid online: A, of the three dossiers of 1.000001, a procedure with fees (C lists
        // none and still counts, PORTAL_RULES 3.6): linear 6 × 1/3 → 2
        ("ONLINE_PAYMENT_DOSSIER", 1, 3, 2.0),
        // reused 1 of 3 = 33.3% of an 80% threshold: 2 × 33.3/80 = 0.83
        ("REUSED_DIGITIZED_DATA", 1, 3, 0.83),
        // population database 1 of 3, linear 2 → 0.67
        ("CITIZEN_DATA_CONNECTED_DOSSIER", 1, 3, 0.67),
        // citizen's store: A took a component from it, B (in person) saved its result to it,
        // of the 3 received (PORTAL_RULES 4.4), linear 4 × 2/3 → 2.67
        ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", 2, 3, 2.67),
        // a result file: A's PDF, and B's zip, which the portal counts as one (PORTAL_RULES
        // 4.1, "a linked result file"; the flag `archiveResult` names it) → 2 of 2 of 6 → 6
        ("ORIGINAL_RESULT_AVAILABLE", 2, 2, 6.0),
        // a file in the components and a result file: A, and B (one of its two components
        // scanned, its zip) → 2 of 2 of 4 → 4
        ("SO_HOA_GIAY_TO_GIAI_QUYET", 2, 2, 4.0),
        // 100% − (0 late + 1/2 dissatisfied, B) = 50% of a 90% threshold: 6 × 50/90 = 3.33
        ("DOSSIER_RECEIVING_SATISFACTION", 1, 2, 3.33),
        // C1's procedures 1.000001 and 1.000001.P (same base code, both with fees): A was paid
        // online and used the population database for both; A and C were online.
        ("ONLINE_PAYMENT_FORMALITY", 2, 2, 2.0),
        ("ONLINE_SERVICE_WITH_DOSSIERS", 2, 2, 4.0),
        // A used the population database but was not synced: the portal never saw it
        // (PORTAL_RULES 4.5)
        ("CITIZEN_DATA_CONNECTED_FORMALITY", 0, 2, 0.0),
        // none synced, so none showed its fees to the portal
        ("PAYMENT_INTEGRATED_FORMALITY", 0, 2, 0.0),
    ];
    for (code, numerator, denominator, score) in expected {
        assert_eq!(
            counts(&s.body, code),
            (json!(numerator), json!(denominator), json!(score)),
            "{code}"
        );
        assert_eq!(s.body["sources"][code], "observed", "{code}");
    }
    // D: finished late (due 7 May), rated dissatisfied, one of two components scanned, a PDF
    // result, exempt from the fees (all zero). E: the same, without components or result.
    let late_and_disliked = |code: &str, extra: Value| {
        let mut body = json!({
            "fees": [{"name": "Lệ phí", "amountVnd": 0}],
            "rating": {"value": "dissatisfied", "at": at("12T11:00:00")}
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        detailed(
            code,
            "inPerson",
            body,
            finished(&at("04T08:00:00"), &at("12T10:00:00")),
        )
    };
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            late_and_disliked("C1-260504-0004", json!({
                "components": [{"name": "Tờ khai", "digitized": true}, {"name": "Bản sao", "digitized": false}],
                "results": pdf
            })),
            late_and_disliked("C1-260504-0005", json!({})),
        ]),
    );
    assert_eq!(r.body["created"], 2, "{}", r.text);
    let s = app.get("/api/v1/units/C1/scores/2026-05", &admin);
    // A file in the components is enough (PORTAL_RULES 4.2): A, B and D of A, B, D, E → 4 ×
    // 3/4 = 3 (every component asked: A alone).
    assert_eq!(
        counts(&s.body, "SO_HOA_GIAY_TO_GIAI_QUYET"),
        (json!(3), json!(4), json!(3.0))
    );
    // A result file: A's and D's PDFs, B's zip; not E → 6 × 3/4 = 4.5.
    assert_eq!(
        counts(&s.body, "ORIGINAL_RESULT_AVAILABLE"),
        (json!(3), json!(4), json!(4.5))
    );
    // 100% − (2/4 late + 3/4 dissatisfied) < 0, so 0 (PORTAL_RULES 5.4): D and E cost twice
    // (counting the dossiers that are neither, A would give 1 of 4).
    assert_eq!(
        counts(&s.body, "DOSSIER_RECEIVING_SATISFACTION"),
        (json!(0), json!(4), json!(0.0))
    );
    // Its misses are 5 (D and E late, B, D and E disliked), past the 4 finished: a parent's lost
    // points are shared among its children by them.
    assert_eq!(
        indicator(&s.body, "DOSSIER_RECEIVING_SATISFACTION")["misses"],
        5
    );
    // Exempt, D and E leave online payment as it was.
    assert_eq!(
        counts(&s.body, "ONLINE_PAYMENT_DOSSIER"),
        (json!(1), json!(3), json!(2.0))
    );
    let m = app.get(
        "/api/v1/units/C1/scores/2026-05/indicators/PAYMENT_INTEGRATED_FORMALITY/misses",
        &admin,
    );
    let items = m.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", m.text);
    assert_eq!(items[0]["code"], "1.000001");
    assert_eq!(items[0]["unit"], "C1");
    assert_eq!(
        items[0]["reason"],
        "no dossier with fees was synced to the portal with them"
    );
    // One more of 2 is 50% of an 80% threshold: 2 × 50/80 = 1.25.
    assert_eq!(items[0]["pointsEach"], 1.25);
    // Synced with its fees, A makes both procedures count.
    let mut a = dossier(
        "C1-260504-0001",
        "C1",
        "online",
        &at("04T08:00:00"),
        finished(&at("04T08:00:00"), &at("05T10:00:00")),
        true,
    );
    a["financialObligation"] = json!(true);
    a["fees"] = json!([{"name": "Lệ phí", "amountVnd": 50000, "paidOnline": true}]);
    a["populationDbUsed"] = json!(true);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260504-0001",
        Some(&admin),
        Some(&a),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let s = app.get("/api/v1/units/C1/scores/2026-05", &admin);
    assert_eq!(
        counts(&s.body, "PAYMENT_INTEGRATED_FORMALITY"),
        (json!(2), json!(2), json!(2.0))
    );
    // Synced, its use of the population database counts for both procedures too.
    assert_eq!(
        counts(&s.body, "CITIZEN_DATA_CONNECTED_FORMALITY"),
        (json!(2), json!(2), json!(2.0))
    );
    // C, synced without its fees, takes nothing away (PORTAL_RULES 3.5: a dossier synced with
    // them is enough).
    let mut c = dossier(
        "C1-260504-0003",
        "C1",
        "online",
        &at("04T08:00:00"),
        json!([ev("1", "received", &at("04T08:00:00"))]),
        true,
    );
    c["financialObligation"] = json!(true);
    c["components"] = json!([{"name": "Tờ khai"}]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-260504-0003",
        Some(&admin),
        Some(&c),
    );
    assert!(r.status.is_success(), "{}", r.text);
    let s = app.get("/api/v1/units/C1/scores/2026-05", &admin);
    assert_eq!(
        counts(&s.body, "PAYMENT_INTEGRATED_FORMALITY"),
        (json!(2), json!(2), json!(2.0))
    );
}

/// Dossiers 2 and 5 of `province` synced in April: DOSSIER_SYNC 3 of 5 → 5 of 5 (+2.4) in the live
/// figures.
pub(crate) fn sync_late(app: &TestApp, admin: &str) {
    let t = |d: &str| format!("2026-{d}+07:00");
    for (code, received, ended) in [
        ("C1-260302-0002", "03-02T08:00:00", "03-06T10:00:00"),
        ("C1-260226-0005", "02-26T08:00:00", "03-02T10:00:00"),
    ] {
        let body = dossier(
            code,
            "C1",
            "inPerson",
            &t(received),
            finished(&t(received), &t(ended)),
            true,
        );
        let w = app.call(
            HttpMethod::PUT,
            &format!("/api/v1/dossiers/{code}"),
            Some(admin),
            Some(&body),
        );
        assert_eq!(w.status, Status::OK, "{}", w.text);
    }
}

#[test]
fn the_points_a_unit_lost_are_shared_among_its_children_by_their_misses() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let score = app.get("/api/v1/units/P/scores/2026-03", &admin);
    let lost_on_time = indicator(&score.body, "ON_TIME_PROCESSING")["pointsLost"]
        .as_f64()
        .unwrap();
    let r = app.get("/api/v1/units/P/scores/2026-03/losses", &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    // Both late dossiers (2 and 3) and both unsynced ones (2 and 5) are C1's, under STP:
    // STP carries all of those points, STTTT none.
    assert_eq!(items[0]["unit"], "STP");
    let stp_on_time = items[0]["points"]["ON_TIME_PROCESSING"].as_f64().unwrap();
    assert!((stp_on_time - lost_on_time).abs() < 1e-9, "{}", r.text);
    assert_eq!(items[1]["unit"], "STTTT");
    assert!(
        items[1]["points"].get("ON_TIME_PROCESSING").is_none(),
        "{}",
        r.text
    );
    // The shares and the unit's own part add up to what the unit lost.
    let sum: f64 = items
        .iter()
        .map(|i| i["total"].as_f64().unwrap())
        .sum::<f64>()
        + r.body["own"]["total"].as_f64().unwrap();
    let lost: f64 = score.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap().clone())
        .filter_map(|i| i["pointsLost"].as_f64())
        .sum();
    assert!((sum - lost).abs() < 1e-6, "{sum} vs {lost}");
    // Sorted by one indicator, and as a spreadsheet: one row per child and one for the unit.
    let by_unit = app.get("/api/v1/units/P/scores/2026-03/losses?sort=unit", &admin);
    assert_eq!(by_unit.body["items"][0]["unit"], "STP");
    app.get("/api/v1/units/P/scores/2026-03/losses?sort=-NOPE", &admin)
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let (status, _, bytes) = app.download(
        "/api/v1/units/P/scores/2026-03/losses?format=csv",
        &admin,
        "text/csv",
    );
    assert_eq!(status, Status::OK);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("ON_TIME_PROCESSING"), "{text}");
    assert!(
        text.lines().filter(|l| l.starts_with("STP,")).count() == 1,
        "{text}"
    );
}

/// PORTAL_RULES 3.1: a commune's online service share counts "procedures whose level is
/// commune". A procedure of another level that the commune also handles counts at its
/// department and province, not at the commune (until 2026-12-07 it counted there too), and a
/// rule set may keep the old counting.
#[test]
fn a_communes_online_service_counts_the_procedures_of_commune_level() {
    let app = TestApp::spawn();
    let admin = province(&app);
    for (code, level) in [("1.000005", "province"), ("1.000006", "commune")] {
        let mut content = crate::procedures::content("Thủ tục thử", "HT", level, "C1", false);
        content["onlineLevel"] = json!("information");
        let r = app.call(
            HttpMethod::PUT,
            &format!("/api/v1/procedures/{code}"),
            Some(&admin),
            Some(&json!({"content": content, "validFrom": "2024-01-01",
                "decision": "5/QĐ-BTP", "publishedOn": "2024-01-10"})),
        );
        assert_eq!(r.status, Status::CREATED, "{}", r.text);
    }
    let online = |unit: &str| {
        let r = app.get(&format!("/api/v1/units/{unit}/scores/2026-03"), &admin);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        counts(&r.body, "ONLINE_SERVICE_PROVIDED")
    };
    // C1: 1.000001 and 1.000001.P online, 1.000006 not; 1.000005 is of province level.
    assert_eq!(online("C1"), (json!(2), json!(3), json!(1.67)));
    // Its department counts every procedure of its subtree.
    assert_eq!(online("STP").1, json!(4));
    let misses = app.get(
        "/api/v1/units/C1/scores/2026-03/indicators/ONLINE_SERVICE_PROVIDED/misses",
        &admin,
    );
    assert_eq!(misses.status, Status::OK, "{}", misses.text);
    assert!(misses.text.contains("1.000006"), "{}", misses.text);
    assert!(!misses.text.contains("1.000005"), "{}", misses.text);

    // A rule set counting every procedure a commune handles, from March.
    let mut set = app
        .call(HttpMethod::GET, "/api/v1/rule-sets/qd766", None, None)
        .body;
    set["code"] = json!("tinh-2026-03");
    set["appliesFrom"] = json!("2026-03-01");
    set["counting"] = json!({"communeOnlineServiceByLevel": false});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/rule-sets/tinh-2026-03",
        Some(&admin),
        Some(&set),
    );
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(online("C1"), (json!(2), json!(4), json!(1.25)));
}
