//! What a unit can still do for its score: actions per child unit, ranked by the points they
//! win back, worked out by hand.

use chrono::{Datelike, FixedOffset, TimeDelta, Utc};
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::procedures::seed;

fn actions(body: &Value) -> Vec<(String, String, u64, f64)> {
    body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["unit"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
                a["records"].as_u64().unwrap(),
                a["points"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// March 2026 is over: of its records only the unsynced dossiers can still change it. Of those
/// received in March, dossier 2 (at C1, under STP) was never synced: 3 of 4 → 4 of 4 wins
/// 6 − 4.5 = 1.5 (5, carried over from February, does not count for March's sync).
#[test]
fn a_past_period_can_only_gain_from_syncs() {
    let app = TestApp::spawn();
    let admin = crate::scores::province(&app);
    let r = app.get("/api/v1/units/P/scores/2026-03/gains", &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["periodOver"], true);
    assert_eq!(r.body["score"], 38.17);
    assert_eq!(
        actions(&r.body),
        [("STP".to_owned(), "sync".to_owned(), 1, 1.5)]
    );
    let a = &r.body["actions"][0];
    assert_eq!(a["description"], "sync this dossier to the national portal");
    assert_eq!(a["indicator"], "DOSSIER_SYNC");
    // The link lists the very records.
    let listed = app.get(a["recordsUrl"].as_str().unwrap(), &admin);
    assert_eq!(listed.status, Status::OK, "{}", listed.text);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["byUnit"],
        json!([{"unit": "STP", "name": "Đơn vị STP", "points": 1.5, "actions": 1}])
    );
    // Synced, they leave the list.
    crate::scores::sync_late(&app, &admin);
    let r = app.get("/api/v1/units/P/scores/2026-03/gains", &admin);
    assert_eq!(r.body["actions"], json!([]), "{}", r.text);
    assert_eq!(r.body["score"], 39.67, "38.17 + 1.5");
    // Scope and input as for the score.
    app.get("/api/v1/units/P/scores/2026-13/gains", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    app.get("/api/v1/units/NOPE/scores/2026-03/gains", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

/// The current year, with the catalogue of `procedures::seed` (1.000001 and 1.000001.P at C1
/// with fees, 1.000002 at STTTT without; all partly online) and one online dossier D received an
/// hour ago at C1 under 1.000001, open and not synced:
/// - sync D: 0 of 1 → 1 of 1 = +6 (STP);
/// - online service with dossiers: D names 1.000001 (and its localized copy); 1.000002 received
///   none: 2 of 3 → 3 of 3 = 4 − 2.67 = +1.33 (STTTT);
/// - online payment: none of the 2 fee procedures paid online: 0 → 2 of 2 = +2 (STP, 2 records);
/// - fees in synced dossiers: likewise +2 (STP);
/// - population database: 0 of 3; STP's 2 → 2 × 2/3 = +1.33, STTTT's 1 → +0.67;
/// - resolve D before it falls due: on time now, 1 of 1 = 20 kept (STP), when its due instant
///   falls in this year.
#[test]
fn a_running_period_ranks_every_action_per_child() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let now = Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap());
    let received = now - TimeDelta::hours(1);
    let d = json!({
        "code": "C1-NOW-0001", "procedureCode": "1.000001", "unit": "C1", "channel": "online",
        "receivedAt": received.to_rfc3339(),
        "applicant": {"kind": "citizen", "name": "Trần Thị Bình"},
        "events": [{"id": "1", "status": "received", "at": received.to_rfc3339()}]
    });
    let w = app.call(
        HttpMethod::PUT,
        "/api/v1/dossiers/C1-NOW-0001",
        Some(&admin),
        Some(&d),
    );
    assert!(w.status.is_success(), "{}", w.text);
    let due = app.get("/api/v1/dossiers/C1-NOW-0001", &admin).body["effectiveDueAt"].clone();
    let due_this_year = due
        .as_str()
        .is_some_and(|d| d.starts_with(&now.year().to_string()));
    let year = now.year();
    let r = app.get(&format!("/api/v1/units/P/scores/{year}/gains"), &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["periodOver"], false);
    let got = actions(&r.body);
    let s = |u: &str, a: &str, n: u64, p: f64| (u.to_owned(), a.to_owned(), n, p);
    let mut expected = vec![
        s("STP", "sync", 1, 6.0),
        s("STP", "payOnline", 2, 2.0),
        s("STP", "carryFees", 2, 2.0),
        s("STP", "usePopulationDb", 2, 1.33),
        s("STTTT", "receiveOnline", 1, 1.33),
        s("STTTT", "usePopulationDb", 1, 0.67),
    ];
    if due_this_year {
        expected.insert(0, s("STP", "resolveBeforeDue", 1, 20.0));
    }
    let mut sorted = got.clone();
    sorted.sort_by(|a, b| b.3.total_cmp(&a.3));
    assert_eq!(got, sorted, "most points first");
    let mut got_set = got;
    got_set.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(got_set, expected, "{}", r.text);
    let by_unit: Vec<(String, f64)> = r.body["byUnit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().unwrap().to_owned(),
                u["points"].as_f64().unwrap(),
            )
        })
        .collect();
    let stp = if due_this_year { 31.33 } else { 11.33 };
    assert_eq!(
        by_unit,
        [("STP".to_owned(), stp), ("STTTT".to_owned(), 2.0)]
    );
    // The catalogue's actions link to the procedures that miss.
    let pay = r.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "payOnline")
        .unwrap();
    let listed = app.get(pay["recordsUrl"].as_str().unwrap(), &admin);
    let codes: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1.000001", "1.000001.P"]);
    if due_this_year {
        let resolve = &r.body["actions"][0];
        let listed = app.get(resolve["recordsUrl"].as_str().unwrap(), &admin);
        assert_eq!(listed.status, Status::OK, "{}", listed.text);
        assert_eq!(listed.body["items"][0]["code"], "C1-NOW-0001");
    }
}
