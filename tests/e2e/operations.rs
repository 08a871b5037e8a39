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

/// Business metrics: dossiers pushed by channel and outcome, score computations, and per
/// subscription what waits to be delivered.
#[test]
fn metrics_count_dossiers_scores_and_what_waits_for_delivery() {
    use crate::scores::{dossier, finished};
    use serde_json::json;
    let app = TestApp::spawn();
    let admin = crate::procedures::seed(&app);
    let t = |d: &str| format!("2026-{d}+07:00");
    let good = dossier(
        "C1-260302-0001",
        "C1",
        "online",
        &t("03-02T08:00:00"),
        finished(&t("03-02T08:00:00"), &t("03-04T10:00:00")),
        false,
    );
    let bad = dossier(
        "C1-260302-0002",
        "NOPE",
        "online",
        &t("03-02T08:00:00"),
        finished(&t("03-02T08:00:00"), &t("03-04T10:00:00")),
        false,
    );
    // A subscription that nobody receives: every change after it waits.
    let r = app.post(
        "/api/v1/subscriptions",
        &admin,
        &json!({"url": "http://127.0.0.1:9/hook", "resourceTypes": ["dossier"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let id = r.body["subscription"]["id"].as_str().unwrap().to_owned();
    let r = app.post("/api/v1/dossiers/bulk", &admin, &json!([good, bad]));
    assert_eq!(r.body["created"], 1, "{}", r.text);
    assert_eq!(r.body["rejected"], 1, "{}", r.text);
    let s = app.get("/api/v1/units/P/scores/2026-03", &admin);
    assert_eq!(s.status, Status::OK, "{}", s.text);

    let labels = format!("{{kind=\"webhook\",subscription=\"{id}\"}}");
    let waiting = format!("tthc_delivery_waiting_changes{labels}");
    // On PostgreSQL a change is counted once every older transaction in the cluster (any
    // test's) has ended: wait for it, as a subscriber would.
    let started = std::time::Instant::now();
    let m = loop {
        let m = app.call(HttpMethod::GET, "/metrics", None, None).text;
        let counted = m.lines().any(|l| l == format!("{waiting} 1"));
        if counted || started.elapsed() > std::time::Duration::from_secs(20) {
            break m;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let value = |prefix: &str| -> f64 {
        m.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {m}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value("tthc_dossiers_total{outcome=\"created\",via=\"bulk\"}"),
        1.0
    );
    assert_eq!(
        value("tthc_dossiers_total{outcome=\"rejected\",via=\"bulk\"}"),
        1.0
    );
    assert_eq!(value("tthc_score_computation_seconds_count"), 1.0);
    assert_eq!(value(&waiting), 1.0);
    assert!(value(&format!("tthc_delivery_lag_seconds{labels}")) >= 0.0);
}

/// `tthc backup`'s work: an SQLite database copied while it serves opens as a whole service.
#[test]
fn an_sqlite_backup_taken_while_serving_opens_with_every_record() {
    let app = TestApp::spawn();
    if app.is_postgres() {
        // PostgreSQL is backed up with pg_dump; the copy refuses to stand in for it.
        let err = app
            .db
            .backup_to(std::path::Path::new("/tmp/never"))
            .unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        return;
    }
    app.unit("P", "province", None);
    app.unit("STP", "department", Some("P"));
    let to = std::env::temp_dir().join(format!("tthc-backup-{}.db", uuid::Uuid::new_v4()));
    app.db.backup_to(&to).unwrap();
    // Into a new file only.
    assert!(app.db.backup_to(&to).is_err());
    let restored = TestApp::spawn_on(&format!("sqlite://{}", to.display()));
    let token = restored.admin_token();
    let r = restored.get("/api/v1/units/STP", &token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["parent"], "P");
    drop(restored);
    let _ = std::fs::remove_file(&to);
}
