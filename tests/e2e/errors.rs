//! Every error is `application/problem+json`, actix's own included.

use serde_json::json;
use tthc_tests::{HttpMethod, Reply, Status, TestApp};

#[test]
fn framework_errors_are_problems() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    app.call(HttpMethod::GET, "/no/such/route", None, None)
        .assert_problem(Status::NOT_FOUND, "notFound");
    app.call(HttpMethod::DELETE, "/api/v1/units", Some(&token), None)
        .assert_problem(Status::METHOD_NOT_ALLOWED, "methodNotAllowed");
    app.call(HttpMethod::PUT, "/api/v1/units/X", Some(&token), None)
        .assert_problem(Status::METHOD_NOT_ALLOWED, "methodNotAllowed");

    let malformed = Reply::from(
        app.raw()
            .post(app.url("/api/v1/units"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{\"code\": ")
            .send()
            .unwrap(),
    );
    malformed.assert_problem(Status::BAD_REQUEST, "malformedJson");

    let wrong_type = Reply::from(
        app.raw()
            .post(app.url("/api/v1/units"))
            .bearer_auth(&token)
            .body("code=P")
            .send()
            .unwrap(),
    );
    wrong_type.assert_problem(Status::UNSUPPORTED_MEDIA_TYPE, "unsupportedMediaType");

    let big = format!(
        "{{\"code\": \"P\", \"name\": \"{}\", \"level\": \"province\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let too_large = Reply::from(
        app.raw()
            .post(app.url("/api/v1/units"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .unwrap(),
    );
    too_large.assert_problem(Status::PAYLOAD_TOO_LARGE, "payloadTooLarge");
    assert_eq!(app.get("/api/v1/units?count=true", &token).body["total"], 0);
}

#[test]
fn bad_queries_name_the_parameter() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=9999", "limit"),
        ("level=village", "level"),
        ("validOn=yesterday", "validOn"),
        ("within=a%2Fb", "within"),
        ("cursor=%%%", "cursor"),
        ("colour=red", "colour"),
    ] {
        let r = app.get(&format!("/api/v1/units?{query}"), &token);
        // A cursor of the right form that this service never returned breaks no pattern.
        if param == "cursor" {
            r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
        } else {
            r.assert_problem(Status::BAD_REQUEST, "validationFailed");
        }
        let names = r.invalid_names();
        assert_eq!(names.len(), 1, "{query}: {}", r.text);
        assert!(
            names[0] == param || r.body["detail"].as_str().unwrap().contains(param),
            "{query}: {}",
            r.text
        );
    }
}

#[test]
fn errors_leak_no_internals() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    app.unit("P", "province", None);
    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "P", "name": "again", "level": "province"}),
    );
    r.assert_problem(Status::CONFLICT, "conflict");
    let text = r.text.to_lowercase();
    for leak in [
        "unique",
        "constraint",
        "sqlite",
        "postgres",
        "insert",
        "diesel",
    ] {
        assert!(!text.contains(leak), "{leak} in {}", r.text);
    }
}
