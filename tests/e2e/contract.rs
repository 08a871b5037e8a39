//! The HTTP contract beyond single operations: 405 with `Allow`, conditional GET, OAuth2 error
//! codes, the headers browsers may read, and CSV exports of whole lists.

use serde_json::{Value, json};
use tthc_tests::{ADMIN_SECRET, HttpMethod, Status, TestApp};

use crate::procedures::{content, seed};

#[test]
fn a_method_a_path_does_not_take_is_405_with_allow() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    let r = app.call(HttpMethod::DELETE, "/api/v1/units", Some(&admin), None);
    r.assert_problem(Status::METHOD_NOT_ALLOWED, "methodNotAllowed");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/announcements/late",
        Some(&admin),
        None,
    );
    r.assert_problem(Status::METHOD_NOT_ALLOWED, "methodNotAllowed");
    assert_eq!(r.header("allow"), Some("GET"));
    // A path parameter not of its form (decision ids are numbers) is a missing resource.
    app.get("/api/v1/announcements/x1", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn a_get_whose_etag_is_current_answers_304_without_a_body() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    for path in [
        "/api/v1/units/C1",
        "/api/v1/procedures?limit=2",
        "/api/v1/audit",
    ] {
        let first = app.get(path, &admin);
        assert_eq!(first.status, Status::OK, "{path}: {}", first.text);
        let tag = first.header("etag").unwrap().to_owned();
        let again = app.call_with(
            HttpMethod::GET,
            path,
            Some(&admin),
            None,
            &[("If-None-Match", &tag)],
        );
        assert_eq!(again.status, Status::NOT_MODIFIED, "{path}");
        assert_eq!(again.text, "");
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        let other = app.call_with(
            HttpMethod::GET,
            path,
            Some(&admin),
            None,
            &[("If-None-Match", "\"not-this-one\"")],
        );
        assert_eq!(other.status, Status::OK, "{path}");
    }
    // A change makes the tag stale.
    let first = app.get("/api/v1/units/C1", &admin);
    let tag = first.header("etag").unwrap().to_owned();
    let r = app.patch("/api/v1/units/C1", &admin, &json!({"name": "Xã Một"}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // Only a procedure's tags also name the content shown (`"7-2"`): for a unit such a tag is
    // one never returned, and matches nothing.
    let shown_form = format!("\"{}-1\"", r.body["version"]);
    app.call_with(
        HttpMethod::PATCH,
        "/api/v1/units/C1",
        Some(&admin),
        Some(&json!({"name": "Xã Hai"})),
        &[("If-Match", &shown_form)],
    )
    .assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    let after = app.call_with(
        HttpMethod::GET,
        "/api/v1/units/C1",
        Some(&admin),
        None,
        &[("If-None-Match", &tag)],
    );
    assert_eq!(after.status, Status::OK);
}

#[test]
fn token_errors_carry_the_oauth2_error_code() {
    let app = TestApp::spawn();
    let r = app.token_for("admin", "wrong", &[]);
    r.assert_problem(Status::UNAUTHORIZED, "invalid_client");
    assert_eq!(r.body["error"], "invalid_client");
    let r = app.token_for("admin", ADMIN_SECRET, &[("scope", "nothing:here")]);
    assert_eq!(r.body["error"], "invalid_scope", "{}", r.text);
    let r = app
        .raw()
        .post(app.url("/api/v1/auth/token"))
        .form(&[("grant_type", "password")])
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    let r = app
        .raw()
        .post(app.url("/api/v1/auth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(r.status(), Status::UNAUTHORIZED);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "invalid_client");
    let r = app
        .raw()
        .post(app.url("/api/v1/auth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "admin"),
            ("client_secret", "whatever"),
            ("end_user_id", &"x".repeat(201)),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), Status::BAD_REQUEST);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Elsewhere problems carry no OAuth2 code.
    let r = app.get("/api/v1/units/NOPE", &app.admin_token());
    assert!(r.body.get("error").is_none(), "{}", r.text);
}

#[test]
fn browsers_may_read_the_request_id_etag_and_location() {
    let db = tthc_tests::TestDb::new();
    let mut config = tthc_tests::config(&db.url);
    config.cors_origins = vec!["https://office.example.gov.vn".into()];
    let app = TestApp::spawn_with(config);
    let r = app
        .raw()
        .get(app.url("/healthz"))
        .header("Origin", "https://office.example.gov.vn")
        .send()
        .unwrap();
    let exposed = r
        .headers()
        .get("access-control-expose-headers")
        .unwrap()
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["x-request-id", "etag", "location", "retry-after"] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
}

#[test]
fn a_csv_export_holds_the_whole_filtered_list() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // More than one page of the export (2,000 rows), in two units.
    let dossiers: Vec<Value> = (0..2_300)
        .map(|i| {
            json!({
                "code": format!("C1-{i:05}"), "procedureCode": "1.000001",
                "unit": if i % 10 == 0 { "STTTT" } else { "C1" }, "channel": "online",
                "receivedAt": format!("2026-03-02T08:{:02}:{:02}+07:00", i / 60 % 60, i % 60),
                "applicant": {"kind": "citizen", "name": "Nguyễn Văn An"},
                "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]
            })
        })
        .collect();
    let r = app.post("/api/v1/dossiers/bulk", &admin, &Value::Array(dossiers));
    assert_eq!(r.body["created"], 2_300, "{}", r.text);
    let (status, headers, bytes) =
        app.download("/api/v1/dossiers?unit=C1&limit=5", &admin, "text/csv");
    assert_eq!(status, Status::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines
            .next()
            .unwrap()
            .trim_start_matches('\u{feff}')
            .split(',')
            .next(),
        Some("code")
    );
    let codes: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(codes.len(), 2_070, "every C1 dossier, not a page");
    let unique: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), 2_070, "no row twice across pages");
    assert!(
        !unique.contains("C1-00000"),
        "STTTT's dossiers are filtered out"
    );
}

#[test]
fn a_procedure_csv_export_holds_the_whole_filtered_list() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // More than one page of the export (2,000 rows): 2,100 in the field XB, 100 in HT.
    let items: Vec<Value> = (0..2_200)
        .map(|i| {
            let field = if i < 2_100 { "XB" } else { "HT" };
            json!({"code": format!("2.{i:06}"), "content": content(&format!("Thủ tục {i}"), field, "province", "STTTT", false),
                "validFrom": "2024-02-01", "publishedOn": "2024-02-02"})
        })
        .collect();
    let r = app.post("/api/v1/procedures/bulk", &admin, &Value::Array(items));
    assert_eq!(r.body["created"], 2_200, "{}", r.text);
    let (status, _, bytes) =
        app.download("/api/v1/procedures?field=XB&limit=5", &admin, "text/csv");
    assert_eq!(status, Status::OK);
    let text = String::from_utf8(bytes).unwrap();
    let codes: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .filter(|c| c.starts_with("2."))
        .collect();
    assert_eq!(
        codes.len(),
        2_100,
        "every XB procedure of the bulk, not a page"
    );
    let unique: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), 2_100, "no row twice across pages");
    assert!(unique.contains("2.002099") && !unique.contains("2.002100"));
}
