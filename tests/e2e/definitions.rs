//! The indicators counted as the national portal counts them (PORTAL_RULES.md): online
//! submission times the sync ratio and an electronic result for paper-result procedures, the
//! result indicators over paper-result procedures, the population-data indicators over
//! citizens' procedures, and what does not apply to a commune. Worked out by hand.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::procedures::{content, seed};
use crate::scores::counts;

const PDF: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

fn at(day_time: &str) -> String {
    format!("2026-05-{day_time}+07:00")
}

/// A dossier of STTTT received online or not on 4 May 2026 and finished on 5 May.
fn dossier(code: &str, procedure: &str, channel: &str, extra: Value) -> Value {
    let mut d = json!({
        "code": code, "procedureCode": procedure, "unit": "STTTT", "channel": channel,
        "receivedAt": at("04T08:00:00"),
        "applicant": {"kind": "citizen", "name": "Lê Văn Cường"},
        "events": [
            {"id": "1", "status": "received", "at": at("04T08:00:00")},
            {"id": "2", "status": "finished", "at": at("05T10:00:00")}
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

/// `seed`, plus 1.000003 at STTTT: its result is electronic only and it serves businesses. In
/// May 2026 STTTT receives and finishes:
/// - D1 1.000002 (paper result, citizens), online, PDF result, digitized, synced;
/// - D2 1.000002, online, no result, digitized, synced, population database used;
/// - D3 1.000003 (electronic result, businesses), online, no result, digitized, not synced;
/// - D4 1.000003, in person, nothing digitized, synced, population database used.
pub(crate) fn may(app: &TestApp) -> String {
    let admin = seed(app);
    let mut electronic = content(
        "Cấp giấy phép hoạt động in",
        "XB",
        "province",
        "STTTT",
        false,
    );
    electronic["result"] = json!({"name": "Giấy phép điện tử", "paper": false, "electronic": true});
    electronic["targetSubjects"] = json!(["Doanh nghiệp", "Tổ chức"]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000003",
        Some(&admin),
        Some(&json!({"content": electronic, "validFrom": "2024-01-01", "decision": "3/QĐ-BTTTT"})),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let digitized = json!([{"name": "Tờ khai", "digitized": true}]);
    let synced = json!({"syncedAt": at("05T11:00:00"), "syncedStatus": "finished"});
    let pdf = json!([{"name": "kq.pdf", "mediaType": "application/pdf", "sizeBytes": 9000, "sha256": PDF, "pages": 1}]);
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier(
                "STTTT-260504-0001",
                "1.000002",
                "online",
                json!({"components": digitized, "results": pdf, "sync": synced})
            ),
            dossier(
                "STTTT-260504-0002",
                "1.000002",
                "online",
                json!({"components": digitized, "sync": synced, "populationDbUsed": true})
            ),
            dossier(
                "STTTT-260504-0003",
                "1.000003",
                "online",
                json!({"components": digitized})
            ),
            dossier(
                "STTTT-260504-0004",
                "1.000003",
                "inPerson",
                json!({"components": [{"name": "Tờ khai", "digitized": false}], "sync": synced,
                    "populationDbUsed": true})
            ),
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["created"], 4, "{}", r.text);
    admin
}

#[test]
fn dossier_indicators_count_as_the_portal_defines_them() {
    let app = TestApp::spawn();
    let admin = may(&app);
    let s = app.get("/api/v1/units/STTTT/scores/2026-05", &admin);
    assert_eq!(s.status, Status::OK, "{}", s.text);
    let expected = [
        // Synced D1, D2, D4 of the 4 received → 75% of 6 = 4.5.
        ("DOSSIER_SYNC", 3, 4, 4.5),
        // Online D1 (paper result, with its PDF) and D3 (electronic result); not D2 (paper
        // result without one): 2 of 4 = 50%, times the sync ratio 75% = 37.5% of a 50%
        // threshold: 6 × 37.5 / 50 = 4.5 (3.3).
        ("ONLINE_DOSSIER_SUBMISSION", 2, 4, 4.5),
        // Of the paper-result procedure's dossiers D1 and D2, D1 has its result file: 1 of 2 of
        // 6 = 3 (4.1).
        ("ORIGINAL_RESULT_AVAILABLE", 1, 2, 3.0),
        // Digitized components and, for paper results only, an electronic result: D1, D3; not
        // D2 (paper result without a file), not D4 (components on paper): 2 of 4 of 4 = 2 (4.2).
        ("SO_HOA_GIAY_TO_GIAI_QUYET", 2, 4, 2.0),
        // Of the citizens' procedure's dossiers D1 and D2, D2 used the population database
        // (D4 did too, but 1.000003 serves businesses): 1 of 2 of 2 = 1 (4.5).
        ("CITIZEN_DATA_CONNECTED_DOSSIER", 1, 2, 1.0),
        // Of STTTT's procedures, only 1.000002 serves citizens, and D2 used the database: 1 of
        // 1 of 2 = 2.
        ("CITIZEN_DATA_CONNECTED_FORMALITY", 1, 1, 2.0),
    ];
    for (code, numerator, denominator, score) in expected {
        assert_eq!(
            counts(&s.body, code),
            (json!(numerator), json!(denominator), json!(score)),
            "{code}"
        );
    }
    let online = s.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap().clone())
        .find(|i| i["code"] == "ONLINE_DOSSIER_SUBMISSION")
        .unwrap();
    assert_eq!(online["ratio"], 37.5);
    assert_eq!(online["times"], json!({"numerator": 3, "denominator": 4}));
    // The figures as POST /scoring/evaluate takes them reproduce the score.
    let evaluated = app.call(
        HttpMethod::POST,
        "/api/v1/scoring/evaluate",
        None,
        Some(
            &json!({"ruleSet": "qd766", "inputs": {"ONLINE_DOSSIER_SUBMISSION":
            {"numerator": 2, "denominator": 4, "times": {"numerator": 3, "denominator": 4}}}}),
        ),
    );
    assert_eq!(evaluated.status, Status::OK, "{}", evaluated.text);
    assert_eq!(evaluated.body["score"], 4.5);
}

#[test]
fn what_does_not_apply_to_a_commune_gives_full_marks_there() {
    let app = TestApp::spawn();
    let admin = may(&app);
    let level = |unit: &str, code: &str| {
        let s = app.get(&format!("/api/v1/units/{unit}/scores/2026-05"), &admin);
        assert_eq!(s.status, Status::OK, "{}", s.text);
        let i = s.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["indicators"].as_array().unwrap().clone())
            .find(|i| i["code"] == code)
            .unwrap();
        (i["ratio"].clone(), i["score"].clone())
    };
    // No decision was published in May: at the province, nothing to score; at the commune,
    // PUBLIC_UPDATE_ON_TIME and PUBLIC_CONTENT_FULL are province-level only, full marks.
    assert_eq!(
        level("P", "PUBLIC_UPDATE_ON_TIME"),
        (Value::Null, Value::Null)
    );
    assert_eq!(
        level("C1", "PUBLIC_UPDATE_ON_TIME"),
        (json!(100.0), json!(4.0))
    );
    assert_eq!(
        level("C1", "PUBLIC_CONTENT_FULL"),
        (json!(100.0), json!(2.0))
    );
    // … and no record is listed against them there.
    let misses = app.get(
        "/api/v1/units/C1/scores/2026-05/indicators/PUBLIC_CONTENT_FULL/misses",
        &admin,
    );
    assert_eq!(misses.status, Status::OK, "{}", misses.text);
    assert_eq!(misses.body["items"], json!([]));
}
