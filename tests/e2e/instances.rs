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
            generation: 0,
        })
        .unwrap();
    assert_eq!(second.state.jwt.verify(&token).unwrap().sub, "admin");
}

/// Two instances write the same records at the same moment: every event added to one dossier
/// is kept, and the same new petition pushed by both is created once, never a 5xx (on
/// PostgreSQL the writers of one record take an advisory lock; SQLite's write transaction
/// serializes them).
#[test]
fn concurrent_writes_of_one_record_are_all_kept() {
    use serde_json::json;
    let test_db = TestDb::new();
    let url = test_db.url.clone();
    let apps = [TestApp::spawn_on(&url), TestApp::spawn_on(&url)];
    let admin = crate::procedures::seed(&apps[0]);
    let r = apps[0].call(
        tthc_tests::HttpMethod::PUT,
        "/api/v1/dossiers/C1-260302-0001",
        Some(&admin),
        Some(&json!({
            "procedureCode": "1.000001", "unit": "C1", "channel": "online",
            "receivedAt": "2026-03-02T08:00:00+07:00",
            "applicant": {"kind": "citizen", "name": "Nguyễn Văn An"},
            "events": [{"id": "r", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]
        })),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let petition = json!({
        "unit": "C1", "subject": "regulation", "channel": "portal",
        "receivedAt": "2026-03-02T08:00:00+07:00", "summary": "Phản ánh"
    });
    std::thread::scope(|s| {
        for (i, app) in apps.iter().enumerate() {
            let (admin, petition) = (&admin, &petition);
            s.spawn(move || {
                for n in 0..10 {
                    // Processing steps may follow each other in any order.
                    let minute = i * 10 + n;
                    let r = app.post(
                        "/api/v1/dossiers/C1-260302-0001/events",
                        admin,
                        &json!({"id": format!("p{minute}"), "status": "processing",
                                "at": format!("2026-03-02T09:{minute:02}:00+07:00")}),
                    );
                    assert_eq!(r.status, Status::OK, "{}", r.text);
                    let r = app.call(
                        tthc_tests::HttpMethod::PUT,
                        &format!("/api/v1/petitions/PAKN-{n}"),
                        Some(admin),
                        Some(petition),
                    );
                    assert!(
                        r.status == Status::CREATED || r.status == Status::OK,
                        "{}",
                        r.text
                    );
                }
            });
        }
    });
    let d = apps[1].get("/api/v1/dossiers/C1-260302-0001", &admin);
    assert_eq!(d.body["events"].as_array().unwrap().len(), 21, "{}", d.text);
    let all = apps[1].get("/api/v1/petitions?limit=500", &admin);
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        10,
        "{}",
        all.text
    );
    drop(apps);
    drop(test_db);
}

/// An instance starting while another migrates waits for it however long it takes, beyond the
/// connections' 10-second lock timeout and a statement timeout the database sets, instead of
/// failing to start.
#[test]
fn an_instance_waits_for_a_long_migration_of_another() {
    let test_db = TestDb::new();
    if !test_db.is_postgres() {
        return;
    }
    let url = tthc_core::db::DatabaseUrl::parse(&test_db.url).unwrap();
    // Another instance migrating: it holds the migrations' lock for 11 s.
    let mut other = <diesel::PgConnection as diesel::Connection>::establish(&test_db.url).unwrap();
    let name = test_db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut other,
        &format!(
            "ALTER DATABASE {name} SET statement_timeout = '5s'; \
             SELECT pg_advisory_lock(7660766)"
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let starting = std::thread::spawn(move || {
        let db = tthc_core::db::Database::open(&url, 2).unwrap();
        db.migrate()
    });
    std::thread::sleep(std::time::Duration::from_secs(11));
    assert!(!starting.is_finished(), "it waits for the other instance");
    diesel::connection::SimpleConnection::batch_execute(
        &mut other,
        "SELECT pg_advisory_unlock(7660766)",
    )
    .unwrap();
    let applied = starting.join().unwrap();
    assert!(applied.unwrap() > 0, "then it migrates");
    assert!(started.elapsed() >= std::time::Duration::from_secs(11));
}

/// Instances started with `--demo` at the same moment load the demo province once and none of
/// them fails: on PostgreSQL the others wait for the first to finish (it holds an advisory lock
/// while it loads), so each starts serving the whole demo; on SQLite the others find the province
/// created and leave the rest to the first.
#[test]
fn instances_loading_the_demo_at_once_load_it_once() {
    let test_db = TestDb::new();
    let apps = [
        TestApp::spawn_on(&test_db.url),
        TestApp::spawn_on(&test_db.url),
    ];
    let token = apps[0].admin_token();
    let dossiers_seen = |app: &TestApp| {
        app.get("/api/v1/dossiers?limit=1&count=true", &token).body["total"]
            .as_u64()
            .unwrap()
    };
    let start = std::sync::Barrier::new(apps.len());
    let loads: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = apps
            .iter()
            .map(|app| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let loaded = tthc_api::demo::load(&app.db, 1000);
                    (loaded, dossiers_seen(app))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut created: Vec<usize> = loads
        .iter()
        .map(|(loaded, _)| loaded.as_ref().expect("no instance fails").units_created)
        .collect();
    created.sort_unstable();
    assert_eq!(created, [0, 121], "one instance created the demo's units");
    let total = dossiers_seen(&apps[1]);
    assert!(total >= 1000, "{total} dossiers");
    if test_db.is_postgres() {
        for (_, seen) in &loads {
            assert_eq!(
                *seen, total,
                "an instance went on before the demo was whole"
            );
        }
    }
}

/// Instances of one SQLite database starting at the same moment, with no `TTHC_IDENTITY_KEY`:
/// one of them makes the key file beside the database, and every one of them reads that key,
/// whole (none fails on a file another is still writing, nor on one made since it looked).
#[test]
fn instances_starting_together_on_sqlite_share_one_generated_identity_key() {
    let dir = std::env::temp_dir().join(format!("tthc-key-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&dir).unwrap();
    let mut config = tthc_tests::config(&format!("sqlite://{}", dir.join("tthc.db").display()));
    config.identity_key = None;
    let start = std::sync::Barrier::new(8);
    let ids: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    tthc_api::server::identity_key(&config)
                        .map(|key| key.id().to_owned())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let kept = std::fs::read_to_string(dir.join("tthc.db.identity-key")).unwrap();
    let kept_id = tthc_api::identity::IdentityKey::new(kept.trim().as_bytes())
        .id()
        .to_owned();
    for id in &ids {
        assert_eq!(id.as_deref(), Ok(kept_id.as_str()), "{ids:?}");
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "only the key file is left: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A token revoked through one instance is refused by another on the same database within
/// its reading interval (a second), and by an instance started afterwards from its first
/// request.
#[test]
fn a_token_revoked_at_one_instance_is_refused_by_the_others() {
    let test_db = TestDb::new();
    let one = TestApp::spawn_on(&test_db.url);
    let other = TestApp::spawn_on(&test_db.url);
    let admin = one.admin_token();
    one.unit("P", "province", None);
    let (_, token) = one.client("vendor", &["units:read"], &["P"]);
    assert_eq!(other.get("/api/v1/units/P", &token).status, Status::OK);

    let r = one.patch(
        "/api/v1/clients/vendor",
        &admin,
        &serde_json::json!({"disabled": true}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        one.get("/api/v1/units/P", &token).status,
        Status::UNAUTHORIZED,
        "the instance that revoked refuses at once"
    );
    let start = std::time::Instant::now();
    while other.get("/api/v1/units/P", &token).status == Status::OK {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "the other instance still takes the token after {:?}",
            start.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        start.elapsed() < tthc_api::auth::RELOAD_EVERY * 3,
        "refused after {:?}",
        start.elapsed()
    );
    drop(other);
    let later = TestApp::spawn_on(&test_db.url);
    later
        .get("/api/v1/units/P", &token)
        .assert_problem(Status::UNAUTHORIZED, "invalidToken");
    assert_eq!(later.get("/api/v1/units/P", &admin).status, Status::OK);
}

/// An instance started with another `TTHC_ADMIN_CLIENT_SECRET` resets the bootstrap client's
/// secret, and so revokes the tokens the old secret got (it may have leaked).
#[test]
fn resetting_the_admin_secret_at_start_revokes_the_admin_tokens() {
    let test_db = TestDb::new();
    let first = TestApp::spawn_on(&test_db.url);
    let old = first.admin_token();
    assert_eq!(first.get("/api/v1/clients", &old).status, Status::OK);
    let secret = "a new admin secret, long enough to be one";
    let mut config = tthc_tests::config(&test_db.url);
    config.admin_client_secret = Some(secret.into());
    let reset = TestApp::spawn_with(config);
    reset
        .get("/api/v1/clients", &old)
        .assert_problem(Status::UNAUTHORIZED, "invalidToken");
    let r = reset.token_for("admin", secret, &[]);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let new = r.body["access_token"].as_str().unwrap();
    assert_eq!(reset.get("/api/v1/clients", new).status, Status::OK);
}

/// How many dossiers `app` lists to `token` for `query`.
fn listed(app: &TestApp, token: &str, query: &str) -> usize {
    let r = app.get(&format!("/api/v1/dossiers{query}"), token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().len()
}

#[test]
fn a_list_read_after_another_instance_moved_its_unit_finds_the_records() {
    use serde_json::json;
    let test_db = TestDb::new();
    let one = TestApp::spawn_on(&test_db.url);
    let other = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&one);
    one.unit("STP2", "department", Some("P"));
    let (_, limited) = one.client("c1-reader", &["dossiers:read"], &["C1"]);
    crate::webhooks::push_dossiers(&one, &admin, "MOVE", 3);
    // Read once, so that this instance remembers where C1 is.
    assert_eq!(listed(&one, &admin, "?unit=C1"), 3);
    assert_eq!(listed(&one, &limited, ""), 3);
    assert_eq!(listed(&one, &limited, "?unit=C1"), 3);

    // The other instance moves C1's department under another one: C1's path changes.
    let r = other.patch("/api/v1/units/STP", &admin, &json!({"parent": "STP2"}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    // This one still remembers the old path: its lists find the records where they are now.
    assert_eq!(listed(&one, &admin, "?unit=C1"), 3);
    assert_eq!(listed(&one, &limited, ""), 3);
    assert_eq!(listed(&one, &limited, "?unit=C1"), 3);
    assert_eq!(listed(&one, &admin, "?unit=STP2"), 3);
    let counted = one.get("/api/v1/dossiers?unit=STP&count=true", &admin);
    assert_eq!(counted.body["total"], 3, "{}", counted.text);
}

#[test]
fn a_list_page_is_read_with_the_remembered_path_alone() {
    let test_db = TestDb::new();
    let one = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&one);
    crate::webhooks::push_dossiers(&one, &admin, "MOVE", 3);
    assert_eq!(listed(&one, &admin, "?unit=C1"), 3);
    // Behind the service's back, C1's path is changed without its records' (which no move
    // does): only a page read with the path remembered, and no lookup of the unit, still
    // finds them.
    let mut conn = one.db.conn().unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut *conn,
        "UPDATE units SET path = '/P/STTTT/C1/' WHERE code = 'C1'",
    )
    .unwrap();
    assert_eq!(listed(&one, &admin, "?unit=C1"), 3, "one statement");
    let fresh = TestApp::spawn_on(&test_db.url);
    assert_eq!(
        listed(&fresh, &admin, "?unit=C1"),
        0,
        "the unit read afresh"
    );
}
