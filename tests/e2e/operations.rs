//! Health, readiness, metrics, request ids, Swagger UI.

use tthc_tests::{HttpMethod, Reply, Status, TestApp};

#[test]
fn health_and_readiness_answer() {
    let app = TestApp::spawn();
    let r = app.call(HttpMethod::GET, "/healthz", None, None);
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (Status::OK, Some("ok"))
    );
    let r = app.call(HttpMethod::GET, "/readyz", None, None);
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (Status::OK, Some("ok"))
    );
}

#[test]
fn readiness_fails_when_migrations_are_missing() {
    let app = TestApp::spawn();
    app.db.revert_all().unwrap();
    app.call(HttpMethod::GET, "/readyz", None, None)
        .assert_problem(Status::SERVICE_UNAVAILABLE, "unavailable");
    app.db.migrate().unwrap();
    assert_eq!(
        app.call(HttpMethod::GET, "/readyz", None, None).status,
        Status::OK
    );
}

#[test]
fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/units/NOPE", &token).status,
            Status::NOT_FOUND
        );
    }
    let r = app.call(HttpMethod::GET, "/metrics", None, None);
    assert_eq!(r.status, Status::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let line = r
        .text
        .lines()
        .find(|l| {
            l.starts_with("tthc_http_requests_total")
                && l.contains("/api/v1/units/{code}")
                && l.contains("\"404\"")
        })
        .unwrap_or_else(|| panic!("no counter line in {}", r.text));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(r.text.contains("tthc_http_request_duration_seconds_bucket"));
}

#[test]
fn request_ids_are_echoed_or_made() {
    let app = TestApp::spawn();
    let given = app
        .raw()
        .get(app.url("/healthz"))
        .header("X-Request-Id", "vendor-42")
        .send()
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "vendor-42");
    let made = app.raw().get(app.url("/no/route")).send().unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let junk = app
        .raw()
        .get(app.url("/healthz"))
        .header("X-Request-Id", "has space")
        .send()
        .unwrap();
    assert_ne!(junk.headers()["x-request-id"], "has space");
}

#[test]
fn swagger_ui_and_the_document_are_served() {
    let app = TestApp::spawn();
    let r = app.call(HttpMethod::GET, "/docs", None, None);
    assert_eq!(r.status, Status::PERMANENT_REDIRECT);
    assert_eq!(r.header("location"), Some("/docs/"));
    let page = Reply::from(app.raw().get(app.url("/docs/")).send().unwrap());
    assert_eq!(page.status, Status::OK);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let js = app
        .raw()
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .unwrap();
    assert_eq!(
        js.status(),
        Status::OK,
        "Swagger UI is vendored, not fetched"
    );

    let served = app.call(HttpMethod::GET, "/api/v1/openapi.json", None, None);
    assert_eq!(served.status, Status::OK);
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../openapi/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        served.body, committed,
        "the served document is the committed one"
    );
}
