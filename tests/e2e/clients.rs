//! Client administration.

use diesel::connection::SimpleConnection;
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
fn a_client_disabled_while_another_change_is_in_flight_stays_disabled() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
    let (secret, _) = app.client("vendor", &["units:read"], &["P"]);
    // Two administrators at once, while a third writer holds the client (its row on
    // PostgreSQL, the write lock on SQLite): one narrows its units, the other disables it.
    let answers = app.both_while_held(
        "SELECT 1 FROM clients WHERE id = 'vendor' FOR UPDATE",
        || app.patch("/api/v1/clients/vendor", &admin, &json!({"units": ["D1"]})),
        || app.patch("/api/v1/clients/vendor", &admin, &json!({"disabled": true})),
    );
    for r in answers {
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
    let got = app.get("/api/v1/clients/vendor", &admin);
    assert_eq!(
        (
            &got.body["disabled"],
            &got.body["units"],
            got.header("etag")
        ),
        (&json!(true), &json!(["D1"]), Some("\"3\"")),
        "{}",
        got.text
    );
    // It gets no new token.
    let t = app.token_for("vendor", &secret, &[]);
    assert!(t.status.is_client_error(), "{}", t.text);
}

/// A department's administrator rotates the vendor's secret, or deletes it, while another
/// administrator widens the vendor to every unit: judged on the old grant, the request is
/// refused (409) and nothing is written.
#[test]
fn a_narrow_administrator_gets_no_secret_of_a_client_widened_meanwhile_nor_deletes_it() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
    let (_, narrow) = app.client("d1-admin", &["clients:admin", "units:read"], &["D1"]);
    let rotate = || app.post("/api/v1/clients/vendor/secret", &narrow, &json!({}));
    let delete = || {
        app.call(
            HttpMethod::DELETE,
            "/api/v1/clients/vendor",
            Some(&narrow),
            None,
        )
    };
    for (n, request) in [&rotate as &(dyn Fn() -> tthc_tests::Reply + Sync), &delete]
        .into_iter()
        .enumerate()
    {
        if n > 0 {
            let r = app.call(
                HttpMethod::DELETE,
                "/api/v1/clients/vendor",
                Some(&admin),
                None,
            );
            assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
        }
        app.client("vendor", &["units:read"], &["D1"]);
        // Another administrator's change of the vendor is in flight (its lock held on
        // PostgreSQL, the write lock on SQLite): it widens the vendor to every unit, after the
        // department's administrator was judged able to manage the vendor by its old grant.
        let mut widening = app.hold("SELECT pg_advisory_xact_lock(hashtext('client:vendor'))");
        std::thread::scope(|s| {
            let sent = s.spawn(request);
            app.until_requests_wait(1);
            widening
                .batch_execute(
                    "UPDATE clients SET all_units = true, version = version + 1 \
                     WHERE id = 'vendor'; COMMIT",
                )
                .unwrap();
            sent.join()
                .unwrap()
                .assert_problem(Status::CONFLICT, "conflict");
        });
        // Nothing was written: the vendor is as the other administrator left it.
        let vendor = app.get("/api/v1/clients/vendor", &admin);
        assert_eq!(
            (&vendor.body["allUnits"], vendor.header("etag")),
            (&json!(true), Some("\"2\"")),
            "{}",
            vendor.text
        );
        // Read again, it is out of the department administrator's reach.
        request().assert_problem(Status::NOT_FOUND, "notFound");
    }
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
    // A unit twice: stored so, the grant no longer matched its units one for one.
    app.unit("P", "province", None);
    let r = app.post(
        "/api/v1/clients",
        &admin,
        &json!({"id": "twice", "name": "n", "scopes": ["units:read"], "units": ["P", "P"]}),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["units[1]"], "{}", r.text);
    // At most 1000 units (a list past SQLite's bound parameters was a 500).
    let many: Vec<String> = (0..33_000).map(|_| "P".to_owned()).collect();
    let r = app.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "many", "name": "n", "role": "viewer", "password": "mat-khau-dai-du-12", "units": many}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(r.invalid_names(), ["units"], "{}", r.text);
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

/// A client's tokens stop working as soon as what they were issued under no longer stands: a
/// new secret, another grant, disabling (and enabling again brings back none of them) or
/// deletion. A new token works at once, even in the same second as the change; a change that
/// takes nothing away (its name, its scopes in another order) revokes nothing, no other client's
/// tokens are touched, and an answer kept under an idempotency key is not replayed to a revoked
/// token.
#[test]
fn a_clients_tokens_are_revoked_by_a_new_secret_another_grant_disabling_or_deletion() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    app.unit("P", "province", None);
    let (_, first) = app.client("vendor", &["units:read", "units:write"], &["P"]);
    let works = |token: &str| app.get("/api/v1/units/P", token).status == Status::OK;
    let revoked = |token: &str| {
        let r = app.get("/api/v1/units/P", token);
        r.assert_problem(Status::UNAUTHORIZED, "invalidToken");
        assert!(r.text.contains("revoked"), "{}", r.text);
    };
    let token_of = |secret: &str| {
        let r = app.token_for("vendor", secret, &[]);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    };
    let change = |body: serde_json::Value| {
        let r = app.patch("/api/v1/clients/vendor", &admin, &body);
        assert_eq!(r.status, Status::OK, "{}", r.text);
    };
    assert!(works(&first));
    change(json!({"name": "VNPT"}));
    assert!(works(&first), "a new name takes nothing away");
    change(json!({"scopes": ["units:write", "units:read"]}));
    assert!(
        works(&first),
        "the same scopes in another order take nothing away"
    );

    // Kept under its idempotency key, then the secret is rotated.
    let create = |token: &str| {
        app.call_with(
            HttpMethod::POST,
            "/api/v1/units",
            Some(token),
            Some(&json!({"code": "D9", "name": "D9", "level": "department", "parent": "P"})),
            &[("Idempotency-Key", "unit-d9")],
        )
    };
    let created = create(&first);
    assert_eq!(created.status, Status::CREATED, "{}", created.text);
    let r = app.post("/api/v1/clients/vendor/secret", &admin, &json!({}));
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let secret = r.body["clientSecret"].as_str().unwrap().to_owned();
    revoked(&first);
    create(&first).assert_problem(Status::UNAUTHORIZED, "invalidToken");
    let second = token_of(&secret);
    assert!(works(&second), "a token got right after the rotation works");
    let replayed = create(&second);
    assert_eq!(replayed.status, Status::CREATED, "{}", replayed.text);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));

    change(json!({"scopes": ["units:read", "dossiers:read"]}));
    revoked(&second);
    let third = token_of(&secret);
    assert!(works(&third));

    change(json!({"disabled": true}));
    revoked(&third);
    app.token_for("vendor", &secret, &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    change(json!({"disabled": false}));
    revoked(&third);
    let fourth = token_of(&secret);
    assert!(works(&fourth));

    let r = app.call(
        HttpMethod::DELETE,
        "/api/v1/clients/vendor",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
    revoked(&fourth);
    assert!(works(&admin), "the administrator's own token is untouched");
}

/// A page of the clients a unit-limited administrator may manage is full, and its cursor leads
/// on: the page was filtered after one read, so a page past clients it may not manage came out
/// empty, without a cursor, and the clients after them were never listed.
#[test]
fn a_narrow_administrators_pages_skip_what_it_may_not_manage() {
    let app = TestApp::spawn();
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
    app.unit("D2", "department", Some("P"));
    app.client("b-other", &["units:read"], &["D2"]);
    app.client("c-mine", &["units:read"], &["D1"]);
    let (_, d1) = app.client("d1-admin", &["units:read", "clients:admin"], &["D1"]);
    let mut seen = Vec::new();
    let mut path = "/api/v1/clients?limit=1".to_owned();
    loop {
        let page = app.get(&path, &d1);
        assert_eq!(page.status, Status::OK, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "a full page: {}", page.text);
        seen.push(items[0]["id"].as_str().unwrap().to_owned());
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/clients?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["c-mine", "d1-admin"]);
}
