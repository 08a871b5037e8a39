//! Rule sets added at run time: checked, audited, guarded by version and by the months closed
//! with them, and counting the records by their own choices from the day they apply.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::definitions::may;
use crate::scores::counts;

/// qd766 as the service ships it, renamed `code`, applying from `from`, counting as tthc did
/// before it followed the portal's formula description.
fn unrestricted(app: &TestApp, code: &str, from: &str) -> Value {
    let r = app.call(HttpMethod::GET, "/api/v1/rule-sets/qd766", None, None);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let mut set = r.body;
    set["code"] = json!(code);
    set["appliesFrom"] = json!(from);
    set["source"] = json!("Văn bản của Văn phòng UBND tỉnh (thử nghiệm)");
    set["counting"] = json!({
        "onlineSubmissionTimesSync": false,
        "paperResultNeedsElectronicResult": false,
        "resultIndicatorsOverPaperResult": false,
        "populationDataOverCitizenProcedures": false,
        "citizenSubjects": [],
        "announcementsDatedInPeriodOnly": false,
        "onlinePaymentOverFeeProcedures": false,
        "publicContentJudgedNow": false,
        "oneComponentFileDigitizes": false,
        "receivingSatisfactionSubtractsShares": false,
        "anyResultFileCounts": false,
        "communeOnlineServiceByLevel": false,
        "notApplicable": {}
    });
    set
}

fn put(
    app: &TestApp,
    token: &str,
    code: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> tthc_tests::Reply {
    app.call_with(
        HttpMethod::PUT,
        &format!("/api/v1/rule-sets/{code}"),
        Some(token),
        Some(body),
        headers,
    )
}

#[test]
fn a_rule_set_added_at_run_time_counts_from_its_day() {
    let app = TestApp::spawn();
    let admin = may(&app);
    let set = unrestricted(&app, "tinh-2026-05", "2026-05-01");

    // Only an administrator granted every unit adds rule sets.
    let (_, scores_only) = app.client("office", &["scores:read", "scores:write"], &["P"]);
    put(&app, &scores_only, "tinh-2026-05", &set, &[])
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let (_, unit_admin) = app.client("unit-admin", &["rules:admin"], &["P"]);
    put(&app, &unit_admin, "tinh-2026-05", &set, &[])
        .assert_problem(Status::FORBIDDEN, "insufficientScope");

    let r = put(&app, &admin, "tinh-2026-05", &set, &[]);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.header("ETag"), Some("\"1\""));
    assert_eq!(r.header("Location"), Some("/api/v1/rule-sets/tinh-2026-05"));
    assert_eq!(r.body["counting"]["onlineSubmissionTimesSync"], false);
    // The same body again changes nothing.
    let again = put(&app, &admin, "tinh-2026-05", &set, &[]);
    assert_eq!(again.status, Status::OK, "{}", again.text);
    assert_eq!(again.header("ETag"), Some("\"1\""));
    let listed = app.call(HttpMethod::GET, "/api/v1/rule-sets", None, None);
    let codes: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["qd766", "tinh-2026-05"]);

    // May is scored by it: every online dossier counts, no sync factor; the result indicators
    // count every finished dossier, the population data every dossier and procedure
    // (definitions.rs has the same month under qd766).
    let s = app.get("/api/v1/units/STTTT/scores/2026-05", &admin);
    assert_eq!(s.status, Status::OK, "{}", s.text);
    assert_eq!(s.body["ruleSet"], "tinh-2026-05");
    let expected = [
        // D1, D2, D3 online of 4: 75% ≥ 50% → 6.
        ("ONLINE_DOSSIER_SUBMISSION", 3, 4, 6.0),
        // D1's PDF of the 4 finished → 1.5.
        ("ORIGINAL_RESULT_AVAILABLE", 1, 4, 1.5),
        // Every component digitized with an electronic result: D1 of 4 → 1 (one component with
        // a file is not enough under this set).
        ("SO_HOA_GIAY_TO_GIAI_QUYET", 1, 4, 1.0),
        // D2 and D4 used the population database, of 4 → 1.
        ("CITIZEN_DATA_CONNECTED_DOSSIER", 2, 4, 1.0),
        // Both procedures had such a dossier → 2.
        ("CITIZEN_DATA_CONNECTED_FORMALITY", 2, 2, 2.0),
    ];
    for (code, numerator, denominator, score) in expected {
        assert_eq!(
            counts(&s.body, code),
            (json!(numerator), json!(denominator), json!(score)),
            "{code}"
        );
    }
    // April still follows qd766.
    let april = app.get("/api/v1/units/STTTT/scores/2026-04", &admin);
    assert_eq!(april.body["ruleSet"], "qd766");

    // Replacing it needs the version read; a stale one is refused.
    let mut renamed = set.clone();
    renamed["nameEn"] = json!("The province's trial rules");
    put(
        &app,
        &admin,
        "tinh-2026-05",
        &renamed,
        &[("If-Match", "\"7\"")],
    )
    .assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    let r = put(
        &app,
        &admin,
        "tinh-2026-05",
        &renamed,
        &[("If-Match", "\"1\"")],
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.header("ETag"), Some("\"2\""));
    let got = app.call(
        HttpMethod::GET,
        "/api/v1/rule-sets/tinh-2026-05",
        None,
        None,
    );
    assert_eq!(got.body["nameEn"], "The province's trial rules");
    assert_eq!(got.header("ETag"), Some("\"2\""));
    let log = app.get(
        "/api/v1/audit?resourceType=ruleSet&resourceId=tinh-2026-05",
        &admin,
    );
    assert_eq!(log.status, Status::OK, "{}", log.text);
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "create"]);

    // Once May is closed with it, it cannot change: the snapshots would score otherwise.
    let r = app.post("/api/v1/periods/2026-05/close", &admin, &json!({}));
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let closed = app.get("/api/v1/units/STTTT/scores/2026-05", &admin);
    assert_eq!(closed.body["ruleSet"], "tinh-2026-05");
    assert_eq!(
        counts(&closed.body, "ONLINE_DOSSIER_SUBMISSION"),
        (json!(3), json!(4), json!(6.0))
    );
    put(&app, &admin, "tinh-2026-05", &set, &[]).assert_problem(Status::CONFLICT, "conflict");
}

#[test]
fn a_rule_set_is_checked_before_it_is_stored() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    // The shipped rule set cannot change.
    let shipped = app
        .call(HttpMethod::GET, "/api/v1/rule-sets/qd766", None, None)
        .body;
    put(&app, &admin, "qd766", &shipped, &[]).assert_problem(Status::CONFLICT, "conflict");
    let good = unrestricted(&app, "tinh-2027", "2027-01-01");

    // Points that do not add up, a level policy naming no indicator, a body code other than
    // the path's, a day another rule set applies from: each named.
    let mut broken = good.clone();
    broken["groups"][0]["maxScore"] = json!(17);
    broken["counting"]["notApplicable"] = json!({"commune": {"NO_SUCH": "full"}});
    let r = put(&app, &admin, "tinh-2027", &broken, &[]);
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let reasons = r.text;
    assert!(
        reasons.contains("TRANSPARENCY has a maximum of 17"),
        "{reasons}"
    );
    assert!(reasons.contains("totals 99 points"), "{reasons}");
    assert!(
        reasons.contains("notApplicable.commune.NO_SUCH"),
        "{reasons}"
    );
    put(&app, &admin, "other-code", &good, &[])
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let mut same_day = good.clone();
    same_day["appliesFrom"] = json!("2022-06-23");
    let r = put(&app, &admin, "tinh-2027", &same_day, &[]);
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["appliesFrom"]);
    let mut too_early = good.clone();
    too_early["appliesFrom"] = json!("2020-01-01");
    put(&app, &admin, "tinh-2027", &too_early, &[])
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    // A field the rule set does not have, or a level that does not exist, breaks the document.
    let mut typo = good.clone();
    typo["counting"]["onlineSubmisionTimesSync"] = json!(true);
    put(&app, &admin, "tinh-2027", &typo, &[])
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    let mut village = good.clone();
    village["counting"]["notApplicable"] = json!({"village": {}});
    put(&app, &admin, "tinh-2027", &village, &[])
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    // Nothing was stored.
    let listed = app.call(HttpMethod::GET, "/api/v1/rule-sets", None, None);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    app.call(HttpMethod::GET, "/api/v1/rule-sets/tinh-2027", None, None)
        .assert_problem(Status::NOT_FOUND, "notFound");
    // The counting of a rule set left out reads as the portal's.
    let mut bare = good;
    bare.as_object_mut().unwrap().remove("counting");
    let r = put(&app, &admin, "tinh-2027", &bare, &[]);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.body["counting"]["onlineSubmissionTimesSync"], true);
}
