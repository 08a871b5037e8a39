//! The audit trail records who changed what, before and after, and why.

use serde_json::json;
use tthc_tests::{ADMIN_SECRET, Reply, Status, TestApp};

#[test]
fn writes_are_audited_with_actor_reason_and_both_states() {
    let app = TestApp::spawn();
    app.unit("P", "province", None);
    let t = app.token_for(
        "admin",
        ADMIN_SECRET,
        &[
            ("end_user_id", "cb-0012"),
            ("end_user_name", "Nguyễn Thị Lan"),
        ],
    );
    let token = t.body["access_token"].as_str().unwrap().to_owned();
    let r = Reply::from(
        app.raw()
            .patch(app.url("/api/v1/units/P"))
            .bearer_auth(&token)
            .header("X-Audit-Reason", "Sáp nhập theo Nghị quyết 202/2025/QH15")
            .header("X-Request-Id", "req-audit-1")
            .json(&json!({"name": "Tỉnh Bắc Ninh"}))
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);

    let log = app.get("/api/v1/audit?resourceType=unit&resourceId=P", &token);
    assert_eq!(log.status, Status::OK, "{}", log.text);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", log.text);
    let (update, create) = (&items[0], &items[1]);
    assert_eq!(create["action"], "create");
    assert!(create["before"].is_null());
    assert_eq!(update["action"], "update");
    assert_eq!(update["clientId"], "admin");
    assert_eq!(update["endUserId"], "cb-0012");
    assert_eq!(update["endUserName"], "Nguyễn Thị Lan");
    assert_eq!(update["reason"], "Sáp nhập theo Nghị quyết 202/2025/QH15");
    assert_eq!(update["requestId"], "req-audit-1");
    assert_eq!(update["before"]["name"], "Đơn vị P");
    assert_eq!(update["after"]["name"], "Tỉnh Bắc Ninh");
    assert!(update["id"].as_i64() > create["id"].as_i64());
}

#[test]
fn client_changes_are_audited_without_secrets_and_reading_needs_the_scope() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    let (secret, reader) = app.client("reader", &["units:read"], &[]);
    let log = app.get("/api/v1/audit?resourceType=client", &admin);
    assert!(!log.text.contains(&secret));
    assert!(!log.text.contains("argon2"));
    let ids: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resourceId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"reader"), "{}", log.text);
    app.get("/api/v1/audit", &reader)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");

    // Pages of one entry walk the whole trail newest first.
    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?limit=1".to_owned();
    loop {
        let r = app.get(&path, &admin);
        seen.push(r.body["items"][0]["id"].as_i64().unwrap());
        match r.body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/audit?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert!(seen.len() >= 2);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
}
