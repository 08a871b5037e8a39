//! Client administration.

use serde_json::json;
use tthc_tests::{HttpMethod, Status, TestApp};

#[test]
fn clients_are_created_listed_changed_and_never_show_their_hash() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    app.unit("P", "province", None);
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "vnpt-igate", "name": "VNPT iGate", "scopes": ["units:read", "units:write"], "units": ["P"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.header("location"), Some("/api/v1/clients/vnpt-igate"));
    assert_eq!(r.body["client"]["units"], json!(["P"]));
    assert_eq!(r.body["clientSecret"].as_str().unwrap().len(), 40);

    let list = app.get("/api/v1/clients", &admin);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["admin", "vnpt-igate"]);
    assert!(
        !list.text.contains("argon2"),
        "no secret hash leaks: {}",
        list.text
    );
    assert!(
        !list.text.to_lowercase().contains("secret\":"),
        "{}",
        list.text
    );

    let r = app.patch(
        "/api/v1/clients/vnpt-igate",
        &admin,
        &json!({"scopes": ["units:read"], "name": "VNPT"}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["scopes"], json!(["units:read"]));
    assert_eq!(r.header("etag"), Some("\"2\""));
    let got = app.get("/api/v1/clients/vnpt-igate", &admin);
    assert_eq!(got.body["name"], "VNPT");
}

#[test]
fn bad_clients_are_refused_with_the_field_named() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "x", "name": "n", "scopes": ["units:read", "everything"], "units": ["NOPE"]}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(r.invalid_names(), ["id"]);
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "good-id", "name": "n", "scopes": ["units:read", "everything"], "units": ["NOPE"]}),
    );
    assert_eq!(r.invalid_names(), ["scopes[1]", "units[0]"], "{}", r.text);
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "Bad Id", "name": "n", "scopes": []}),
    );
    assert_eq!(r.invalid_names(), ["id"]);
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "admin", "name": "n", "scopes": []}),
    );
    r.assert_problem(Status::CONFLICT, "conflict");
    let ids = app.get("/api/v1/clients", &admin).body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(ids, 1, "only admin exists");
    app.call(
        HttpMethod::DELETE,
        "/api/v1/clients/ghost",
        Some(&admin),
        None,
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
}
