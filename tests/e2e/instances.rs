//! Several instances on one database: they share the token key and the admin client, and may
//! start at the same moment.

use tthc_tests::{Status, TestApp, TestDb};

#[test]
fn instances_started_together_share_one_database() {
    let test_db = TestDb::new();
    let url = test_db.url.clone();
    let apps: Vec<TestApp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| TestApp::spawn_on(&url)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let token = apps[0].admin_token();
    apps[0].unit("P", "province", None);
    for app in &apps {
        let r = app.get("/api/v1/units/P", &token);
        assert_eq!(
            r.status,
            Status::OK,
            "a token from one instance works on all: {}",
            r.text
        );
    }
    let clients = apps[2].get("/api/v1/clients", &token);
    assert_eq!(
        clients.body["items"].as_array().unwrap().len(),
        1,
        "one admin client"
    );
    drop(apps);
    drop(test_db);
}

#[test]
fn a_generated_token_key_is_shared_through_the_database() {
    let test_db = TestDb::new();
    let mut config = tthc_tests::config(&test_db.url);
    config.jwt_secret = None;
    let first = tthc_api::server::prepare(config.clone()).unwrap();
    let second = tthc_api::server::prepare(config).unwrap();
    let (token, _) = first
        .state
        .jwt
        .issue(tthc_api::auth::Claims {
            iss: String::new(),
            sub: "admin".into(),
            iat: 0,
            exp: 0,
            jti: String::new(),
            scope: "units:read".into(),
            units: vec![],
            all_units: true,
            uid: None,
            uname: None,
        })
        .unwrap();
    assert_eq!(second.state.jwt.verify(&token).unwrap().sub, "admin");
}
