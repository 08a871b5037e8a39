//! Tokens and grants: 401 for bad tokens, 403 for missing scopes, 404 outside the client's units,
//! on every write route.

use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use tthc_api::auth::Claims;
use tthc_tests::{ADMIN_SECRET, HttpMethod, JWT_SECRET, Reply, Status, TestApp};

fn claims(scope: &str, exp_offset: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "tthc".into(),
        sub: "admin".into(),
        iat: now - 10,
        exp: now + exp_offset,
        jti: "t".into(),
        scope: scope.into(),
        units: vec![],
        all_units: true,
        uid: None,
        uname: None,
        generation: 0,
    }
}

fn sign(claims: &Claims, key: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

/// A validly signed token whose payload was edited afterwards.
fn forged(valid: &str) -> String {
    let parts: Vec<&str> = valid.split('.').collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("somebody-else");
    format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(payload.to_string()),
        parts[2]
    )
}

struct WriteRoute {
    method: HttpMethod,
    path: &'static str,
    body: Option<Value>,
    scope: &'static str,
}

fn write_routes() -> Vec<WriteRoute> {
    vec![
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/units",
            body: Some(json!({"code": "NEW", "name": "n", "level": "commune", "parent": "D1"})),
            scope: "units:write",
        },
        WriteRoute {
            method: HttpMethod::PATCH,
            path: "/api/v1/units/D1",
            body: Some(json!({"name": "renamed"})),
            scope: "units:write",
        },
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/clients",
            body: Some(json!({"id": "newclient", "name": "n", "scopes": ["units:read"]})),
            scope: "clients:admin",
        },
        WriteRoute {
            method: HttpMethod::PATCH,
            path: "/api/v1/clients/victim",
            body: Some(json!({"disabled": true})),
            scope: "clients:admin",
        },
        WriteRoute {
            method: HttpMethod::DELETE,
            path: "/api/v1/clients/victim",
            body: None,
            scope: "clients:admin",
        },
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/clients/victim/secret",
            body: None,
            scope: "clients:admin",
        },
        WriteRoute {
            method: HttpMethod::PUT,
            path: "/api/v1/units/D1/figures/2026-03",
            body: Some(
                json!({"figures": {"ELECTRONIC_CERTIFIED_COPY": {"numerator": 1, "denominator": 2}}}),
            ),
            scope: "scores:write",
        },
        WriteRoute {
            method: HttpMethod::PUT,
            path: "/api/v1/petitions/PAKN-1",
            body: Some(
                json!({"unit": "D1", "subject": "regulation", "channel": "portal",
                    "receivedAt": "2026-03-02T08:00:00+07:00", "summary": "Phản ánh"}),
            ),
            scope: "petitions:write",
        },
        WriteRoute {
            method: HttpMethod::PUT,
            path: "/api/v1/units/D1/official-scores/2026-03",
            body: Some(json!({"score": 50.0})),
            scope: "scores:write",
        },
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/periods/2026-03/close",
            body: None,
            scope: "scores:write",
        },
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/periods/2026-03/reopen",
            body: None,
            scope: "periods:admin",
        },
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/reporting-duties",
            body: Some(
                json!({"code": "M", "name": "Báo cáo tháng", "frequency": "monthly", "dueBeforeDay": 21,
                    "dueMonthsAfter": 0, "recipient": "VP", "reporters": ["D1"], "firstPeriod": "2026-01"}),
            ),
            scope: "reports:admin",
        },
        WriteRoute {
            method: HttpMethod::POST,
            path: "/api/v1/reporting-duties/M/submissions",
            body: Some(
                json!({"unit": "D1", "period": "2026-03", "documentNumber": "1/BC",
                    "submittedAt": "2026-03-10T08:00:00+07:00"}),
            ),
            scope: "reports:write",
        },
        WriteRoute {
            method: HttpMethod::PATCH,
            path: "/api/v1/reporting-duties/M/submissions/1",
            body: Some(json!({"poorQuality": false})),
            scope: "reports:admin",
        },
    ]
}

/// What the write routes could have changed, to compare before and after refusals.
fn snapshot(app: &TestApp, admin: &str) -> (Value, Value, Value, Value, Value) {
    (
        app.get("/api/v1/units?count=true", admin).body,
        app.get("/api/v1/clients", admin).body,
        app.get("/api/v1/units/D1", admin).body,
        app.get("/api/v1/calendars/P/2026", admin).body,
        app.get("/api/v1/units/D1/figures/2026-03", admin).body,
    )
}

#[test]
fn every_write_route_refuses_bad_tokens_and_missing_scopes() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
    app.client("victim", &["units:read"], &["P"]);
    let (_, read_only) = app.client("reader", &["units:read", "audit:read"], &["P"]);
    let before = snapshot(&app, &admin);

    let bad_tokens: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("garbage", Some("not-a-jwt".into())),
        (
            "expired",
            Some(sign(
                &claims("units:write clients:admin", -3600),
                JWT_SECRET,
            )),
        ),
        (
            "wrong key",
            Some(sign(
                &claims("units:write clients:admin", 3600),
                "another-key-0123456789abcdef0123456789",
            )),
        ),
        ("forged", Some(forged(&admin))),
    ];
    for route in write_routes() {
        for (what, token) in &bad_tokens {
            let r = app.call(
                route.method.clone(),
                route.path,
                token.as_deref(),
                route.body.as_ref(),
            );
            assert_eq!(
                r.status,
                Status::UNAUTHORIZED,
                "{what} token on {} {}: {}",
                route.method,
                route.path,
                r.text
            );
            r.assert_problem(Status::UNAUTHORIZED, "invalidToken");
            assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        }
        let r = app.call(
            route.method.clone(),
            route.path,
            Some(&read_only),
            route.body.as_ref(),
        );
        r.assert_problem(Status::FORBIDDEN, "insufficientScope");
        assert!(
            r.body["detail"].as_str().unwrap().contains(route.scope),
            "{}",
            r.text
        );
    }
    assert_eq!(
        snapshot(&app, &admin),
        before,
        "refused requests stored nothing"
    );
}

#[test]
fn units_outside_the_grant_do_not_exist_for_the_client() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
    app.unit("D1.1", "other", Some("D1"));
    app.unit("D2", "department", Some("P"));
    let (_, d1) = app.client("d1-vendor", &["units:read", "units:write"], &["D1"]);

    let listed: Vec<Value> = app.get("/api/v1/units", &d1).body["items"]
        .as_array()
        .unwrap()
        .clone();
    let listed: Vec<&str> = listed.iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert_eq!(listed, ["D1", "D1.1"]);
    app.get("/api/v1/units/D2", &d1)
        .assert_problem(Status::NOT_FOUND, "notFound");
    app.get("/api/v1/units/P", &d1)
        .assert_problem(Status::NOT_FOUND, "notFound");
    app.patch("/api/v1/units/D2", &d1, &json!({"name": "x"}))
        .assert_problem(Status::NOT_FOUND, "notFound");
    let r = app.post(
        "/api/v1/units",
        &d1,
        &json!({"code": "N", "name": "n", "level": "other", "parent": "D2"}),
    );
    assert_eq!(r.invalid_names(), ["parent"]);
    // Moving its own unit out of its grant is refused the same way.
    let r = app.patch("/api/v1/units/D1.1", &d1, &json!({"parent": "D2"}));
    assert_eq!(r.invalid_names(), ["parent"]);
    let r = app.post(
        "/api/v1/units",
        &d1,
        &json!({"code": "ROOT2", "name": "n", "level": "province"}),
    );
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert_eq!(
        app.get("/api/v1/units/D2", &admin).body["name"],
        "Đơn vị D2"
    );

    // Inside the grant, the same client works.
    let r = app.post(
        "/api/v1/units",
        &d1,
        &json!({"code": "N", "name": "n", "level": "other", "parent": "D1.1"}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(
        app.patch("/api/v1/units/D1.1", &d1, &json!({"name": "ok"}))
            .status,
        Status::OK
    );
    // Not its own units' levels: a level decides the calendar (a province has its own) and
    // how the scores are counted (a commune gets full marks where it is not scored).
    for level in ["province", "commune"] {
        app.patch("/api/v1/units/D1", &d1, &json!({"level": level}))
            .assert_problem(Status::FORBIDDEN, "outsideGrant");
    }
    let r = app.post(
        "/api/v1/units",
        &d1,
        &json!({"code": "N2", "name": "n", "level": "province", "parent": "D1"}),
    );
    r.assert_problem(Status::FORBIDDEN, "outsideGrant");
    app.get("/api/v1/units/N2", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    assert_eq!(
        app.get("/api/v1/units/D1", &admin).body["level"],
        "department"
    );
    // The level it has, sent again, is no change.
    let r = app.patch("/api/v1/units/D1", &d1, &json!({"level": "department"}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // A client granted every unit re-levels.
    let r = app.patch("/api/v1/units/D1.1", &admin, &json!({"level": "commune"}));
    assert_eq!(r.status, Status::OK, "{}", r.text);

    // A move needs the old parent in the grant as well as the new one (until 2026-12-07 a
    // client granted D1.1 and D2 took D1.1 out of D1, which it was not granted), and only a
    // client acting for every unit makes a unit a root.
    let (_, two) = app.client("two-units", &["units:read", "units:write"], &["D1.1", "D2"]);
    app.patch("/api/v1/units/D1.1", &two, &json!({"parent": "D2"}))
        .assert_problem(Status::FORBIDDEN, "outsideGrant");
    for client in [&two, &d1] {
        app.patch("/api/v1/units/D1.1", client, &json!({"parent": null}))
            .assert_problem(Status::FORBIDDEN, "insufficientScope");
    }
    assert_eq!(app.get("/api/v1/units/D1.1", &admin).body["parent"], "D1");
    // Granted both parents, it moves.
    let (_, both) = app.client(
        "both-parents",
        &["units:read", "units:write"],
        &["D1", "D2"],
    );
    let r = app.patch("/api/v1/units/D1.1", &both, &json!({"parent": "D2"}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(app.get("/api/v1/units/D1.1", &admin).body["parent"], "D2");
}

#[test]
fn tokens_come_from_forms_json_or_basic_auth() {
    let app = TestApp::spawn();
    let r = app.token_for("admin", ADMIN_SECRET, &[]);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(
        r.body["scope"],
        "units:read units:write clients:admin audit:read calendar:write procedures:read procedures:write dossiers:read dossiers:write scores:read scores:write petitions:read petitions:write ratings:write periods:admin reports:read reports:write reports:admin rules:admin changes:read subscriptions:write relay:admin tasks:read tasks:write tasks:admin"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));

    let json_reply = Reply::from(
        app.raw()
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({"grant_type": "client_credentials", "client_id": "admin", "client_secret": ADMIN_SECRET}))
            .send()
            .unwrap(),
    );
    assert_eq!(json_reply.status, Status::OK, "{}", json_reply.text);
    let basic = Reply::from(
        app.raw()
            .post(app.url("/api/v1/auth/token"))
            .basic_auth("admin", Some(ADMIN_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap(),
    );
    assert_eq!(basic.status, Status::OK, "{}", basic.text);
    let token = basic.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/units", token).status, Status::OK);
    // A control character in Basic credentials is no credentials (PostgreSQL answered 500 to
    // the NUL).
    for id in ["\0admin", "ad\u{7}min"] {
        let r = Reply::from(
            app.raw()
                .post(app.url("/api/v1/auth/token"))
                .basic_auth(id, Some(ADMIN_SECRET))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .unwrap(),
        );
        assert!(
            r.status.is_client_error(),
            "{id:?}: {} {}",
            r.status,
            r.text
        );
    }
}

#[test]
fn bad_credentials_grants_and_scopes_are_refused() {
    let app = TestApp::spawn();
    app.token_for("admin", "wrong-secret", &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    app.token_for("nobody", ADMIN_SECRET, &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    let r = Reply::from(
        app.raw()
            .post(app.url("/api/v1/auth/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin"),
                ("client_secret", ADMIN_SECRET),
            ])
            .send()
            .unwrap(),
    );
    r.assert_problem(Status::BAD_REQUEST, "unsupported_grant_type");
    let r = Reply::from(
        app.raw()
            .post(app.url("/api/v1/auth/token"))
            .body("x")
            .send()
            .unwrap(),
    );
    r.assert_problem(Status::UNSUPPORTED_MEDIA_TYPE, "unsupportedMediaType");
    let r = Reply::from(
        app.raw()
            .post(app.url("/api/v1/auth/token"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap(),
    );
    // No client authentication at all is `invalid_client` (RFC 6749 §5.2).
    r.assert_problem(Status::UNAUTHORIZED, "invalid_client");

    app.token_for(
        "admin",
        ADMIN_SECRET,
        &[("scope", "units:read exports:write")],
    )
    .assert_problem(Status::BAD_REQUEST, "invalid_scope");
    let narrow = app.token_for("admin", ADMIN_SECRET, &[("scope", "units:read")]);
    assert_eq!(narrow.body["scope"], "units:read");
    let token = narrow.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/units", token).status, Status::OK);
    app.post(
        "/api/v1/units",
        token,
        &json!({"code": "P", "name": "p", "level": "province"}),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
}

#[test]
fn an_id_no_client_can_have_is_refused_before_it_counts_as_a_failed_sign_in() {
    let app = TestApp::spawn();
    // More than the 30 failures an address may have at once: ids no client can have are not
    // counted (nor kept in the limiter's memory, whatever their length) and hash nothing.
    for i in 0..40 {
        let id = format!("{}{i}", "X".repeat(10_000));
        app.token_for(&id, "wrong-secret", &[])
            .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    }
    app.token_for("a b", "wrong-secret", &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    let r = app.token_for("admin", ADMIN_SECRET, &[]);
    assert_eq!(r.status, Status::OK, "{}", r.text);
}

#[test]
fn disabled_deleted_and_rotated_clients_lose_their_secret() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    let (secret, _) = app.client("vendor", &["units:read"], &[]);

    assert_eq!(
        app.patch("/api/v1/clients/vendor", &admin, &json!({"disabled": true}))
            .status,
        Status::OK
    );
    app.token_for("vendor", &secret, &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    assert_eq!(
        app.patch(
            "/api/v1/clients/vendor",
            &admin,
            &json!({"disabled": false})
        )
        .status,
        Status::OK
    );
    assert_eq!(app.token_for("vendor", &secret, &[]).status, Status::OK);

    let r = app.call(
        HttpMethod::POST,
        "/api/v1/clients/vendor/secret",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let new_secret = r.body["clientSecret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    app.token_for("vendor", &secret, &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    assert_eq!(app.token_for("vendor", &new_secret, &[]).status, Status::OK);

    let r = app.call(
        HttpMethod::DELETE,
        "/api/v1/clients/vendor",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::NO_CONTENT);
    app.token_for("vendor", &new_secret, &[])
        .assert_problem(Status::UNAUTHORIZED, "invalid_client");
    app.get("/api/v1/clients/vendor", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}
