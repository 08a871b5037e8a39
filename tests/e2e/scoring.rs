//! The 766 rule sets and `POST /scoring/evaluate`: public, and scoring as the portal publishes.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

fn evaluate(app: &TestApp, body: &Value) -> tthc_tests::Reply {
    app.call(
        HttpMethod::POST,
        "/api/v1/scoring/evaluate",
        None,
        Some(body),
    )
}

#[test]
fn rule_sets_are_public_with_names_points_and_functions() {
    let app = TestApp::spawn();
    let list = app.call(HttpMethod::GET, "/api/v1/rule-sets", None, None);
    assert_eq!(list.status, Status::OK, "{}", list.text);
    assert_eq!(list.body["items"][0]["code"], "qd766");
    let r = app.call(HttpMethod::GET, "/api/v1/rule-sets/qd766", None, None);
    assert_eq!(r.status, Status::OK);
    assert_eq!(r.body["appliesFrom"], "2022-06-23");
    let groups = r.body["groups"].as_array().unwrap();
    let maxima: Vec<(String, f64)> = groups
        .iter()
        .map(|g| {
            (
                g["code"].as_str().unwrap().to_owned(),
                g["maxScore"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        maxima,
        [
            ("TRANSPARENCY".to_owned(), 18.0),
            ("PROGRESS".to_owned(), 20.0),
            ("ONLINE_SERVICE".to_owned(), 12.0),
            ("ONLINE_PAYMENT".to_owned(), 10.0),
            ("DIGITIZATION".to_owned(), 22.0),
            ("SATISFACTION".to_owned(), 18.0),
        ]
    );
    let satisfaction = &groups[5]["indicators"];
    assert_eq!(satisfaction[0]["code"], "PETITION_PROCESSING_ON_TIME");
    assert_eq!(satisfaction[0]["zeroDenominator"], "full");
    assert_eq!(
        satisfaction[2]["scoring"],
        json!({"kind": "fullAt", "threshold": 90.0})
    );
    for g in groups {
        assert!(!g["nameVi"].as_str().unwrap().is_empty());
        assert!(!g["nameEn"].as_str().unwrap().is_empty());
    }
    app.call(HttpMethod::GET, "/api/v1/rule-sets/qd999", None, None)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn evaluate_scores_the_issues_example_and_what_ifs() {
    let app = TestApp::spawn();
    let r = evaluate(
        &app,
        &json!({"ruleSet": "qd766", "inputs": {
            "ON_TIME_PROCESSING": {"numerator": 144625, "denominator": 184513},
            "ELECTRONIC_CERTIFIED_COPY": {"ratio": 100}
        }}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // 144625 / 184513 = 78.3820…% → 20 × 0.783820 = 15.676 → 15.68; plus 2 for the copies.
    assert_eq!(r.body["score"], 17.68);
    assert_eq!(r.body["maxScore"], 100.0);
    let group = |code: &str| {
        r.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["code"] == code)
            .unwrap()
            .clone()
    };
    let progress = group("PROGRESS");
    assert_eq!(progress["score"], 15.68);
    assert_eq!(progress["maxScore"], 20.0);
    let on_time = &progress["indicators"][0];
    assert_eq!(on_time["ratio"], 78.38);
    assert_eq!(on_time["score"], 15.68);
    assert_eq!(on_time["pointsLost"], 4.32);
    assert_eq!(on_time["numerator"], 144625);
    let digitization = group("DIGITIZATION");
    assert_eq!(digitization["score"], 2.0);
    assert_eq!(digitization["maxScore"], 22.0);
    // Indicators and groups without input are listed with a null score.
    assert_eq!(digitization["indicators"][0]["score"], Value::Null);
    assert_eq!(group("SATISFACTION")["score"], Value::Null);

    // Full marks at a threshold: 40% online submissions of a 50% threshold → 6 × 0.8 = 4.8;
    // zero denominators: petitions → full marks, dossier satisfaction → 0, transparency → none.
    let r = evaluate(
        &app,
        &json!({"ruleSet": "qd766", "inputs": {
            "ONLINE_DOSSIER_SUBMISSION": {"numerator": 40, "denominator": 100},
            "ONLINE_SERVICE_PROVIDED": {"ratio": 95},
            "PETITION_PROCESSING_ON_TIME": {"numerator": 0, "denominator": 0},
            "DOSSIER_RECEIVING_SATISFACTION": {"numerator": 0, "denominator": 0},
            "DOSSIER_SYNC": {"numerator": 0, "denominator": 0}
        }}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let indicator = |code: &str| -> Value {
        r.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["indicators"].as_array().unwrap().clone())
            .find(|i| i["code"] == code)
            .unwrap()
    };
    assert_eq!(indicator("ONLINE_DOSSIER_SUBMISSION")["score"], 4.8);
    assert_eq!(indicator("ONLINE_SERVICE_PROVIDED")["score"], 2.0);
    assert_eq!(indicator("PETITION_PROCESSING_ON_TIME")["score"], 6.0);
    assert_eq!(indicator("DOSSIER_RECEIVING_SATISFACTION")["score"], 0.0);
    assert_eq!(indicator("DOSSIER_SYNC")["score"], Value::Null);
    // 4.8 + 2 + 6 + 0 + (transparency: 0 with its maximum unchanged)
    assert_eq!(r.body["score"], 12.8);
}

#[test]
fn evaluate_refuses_bad_figures_naming_each() {
    let app = TestApp::spawn();
    let r = evaluate(
        &app,
        &json!({"ruleSet": "qd766", "inputs": {
            "NOT_AN_INDICATOR": {"ratio": 50},
            "ON_TIME_PROCESSING": {"numerator": 10, "denominator": 5},
            "DOSSIER_SYNC": {"ratio": 120},
            "PUBLISH_ON_TIME": {"ratio": 50, "numerator": 1, "denominator": 2}
        }}),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let mut names = r.invalid_names();
    names.sort();
    assert_eq!(
        names,
        [
            "inputs.DOSSIER_SYNC.ratio",
            "inputs.NOT_AN_INDICATOR",
            "inputs.ON_TIME_PROCESSING.numerator",
            "inputs.PUBLISH_ON_TIME"
        ]
    );
    let r = evaluate(
        &app,
        &json!({"ruleSet": "qd766", "inputs": {"ON_TIME_PROCESSING": {"numerator": -1, "denominator": 5}}}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert!(
        r.invalid_names()[0].starts_with("inputs.ON_TIME_PROCESSING"),
        "{}",
        r.text
    );
    let r = evaluate(&app, &json!({"ruleSet": "qd999", "inputs": {}}));
    assert_eq!(r.invalid_names(), ["ruleSet"]);
}

/// The registry answers how each indicator is counted, and the misses follow it: listed
/// indicators list their records, the others are refused.
#[test]
fn the_indicator_registry_is_public_and_the_misses_follow_it() {
    let app = TestApp::spawn();
    let admin = crate::procedures::seed(&app);
    let r = app.call(HttpMethod::GET, "/api/v1/indicators", None, None);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 21);
    let find = |code: &str| items.iter().find(|i| i["code"] == code).unwrap().clone();
    assert_eq!(find("DOSSIER_SYNC")["action"], "sync");
    assert_eq!(find("DOSSIER_SYNC")["source"], "PORTAL_RULES 1.4");
    assert_eq!(find("ELECTRONIC_CERTIFIED_COPY")["counted"], "byHand");
    assert_eq!(find("ONLINE_DOSSIER_SUBMISSION")["action"], Value::Null);
    for item in items {
        let code = item["code"].as_str().unwrap();
        let misses = app.get(
            &format!("/api/v1/units/P/scores/2026-03/indicators/{code}/misses"),
            &admin,
        );
        if item["missesListed"] == true {
            assert_eq!(misses.status, Status::OK, "{code}: {}", misses.text);
        } else {
            assert!(misses.status.is_client_error(), "{code}: {}", misses.text);
        }
    }
}
