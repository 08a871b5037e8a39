//! People who sign in to the console: their accounts (`/api/v1/users`), and sessions in an
//! HttpOnly cookie (`/api/v1/auth/session`) that act with their role's scopes and their units,
//! on the hand-built March 2026 of `scores::province`.

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Reply, Status, TestApp};

use crate::scores::province;

const PASSWORD: &str = "một câu dài dễ nhớ 2026";

fn sign_in(app: &TestApp, username: &str, password: &str) -> Reply {
    app.call(
        HttpMethod::POST,
        "/api/v1/auth/session",
        None,
        Some(&json!({"username": username, "password": password})),
    )
}

/// What the `__Host-` prefix asks of a cookie, or browsers drop it: `Secure`, `Path=/` and no
/// `Domain`.
fn assert_host_cookie(set: &str) {
    let attributes: Vec<String> = set
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes.iter().any(|a| a == "secure"), "{set}");
    assert!(attributes.iter().any(|a| a == "path=/"), "{set}");
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "{set}");
}

/// The `name=value` of the session cookie a sign-in set.
fn session_of(r: &Reply) -> String {
    let set = r.header("set-cookie").unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// A request with the session cookie (and, when `csrf`, the header a change needs).
fn with_session(
    app: &TestApp,
    method: HttpMethod,
    path: &str,
    cookie: &str,
    body: Option<&Value>,
    csrf: bool,
) -> Reply {
    let mut headers = vec![("Cookie", cookie)];
    if csrf {
        headers.push(("X-Requested-With", "XMLHttpRequest"));
    }
    app.call_with(method, path, None, body, &headers)
}

fn create_user(app: &TestApp, token: &str, body: &Value) -> Reply {
    app.post("/api/v1/users", token, body)
}

#[test]
fn people_sign_in_and_their_session_acts_with_their_role_and_units() {
    let app = TestApp::spawn();
    let admin = province(&app);

    // Accounts: every bad field named; a name taken is a conflict.
    let r = create_user(
        &app,
        &admin,
        &json!({"username": "Lan!", "name": "", "password": "short", "role": "root"}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    let named = r.invalid_names();
    for field in ["username", "name", "password"] {
        assert!(named.contains(&field.to_owned()), "{field} in {named:?}");
    }
    create_user(
        &app,
        &admin,
        &json!({"username": "lan", "name": "Lan", "password": PASSWORD, "role": "root"}),
    )
    .assert_problem(Status::BAD_REQUEST, "validationFailed");
    let r = create_user(
        &app,
        &admin,
        &json!({"username": "lan", "name": "Nguyễn Thị Lan", "password": PASSWORD, "role": "viewer", "units": ["STP"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.body["role"], "viewer");
    assert!(
        r.body["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("scores:read"))
    );
    assert!(!r.text.contains("argon2") && !r.text.contains(PASSWORD));
    create_user(
        &app,
        &admin,
        &json!({"username": "lan", "name": "Lan", "password": PASSWORD, "role": "viewer"}),
    )
    .assert_problem(Status::CONFLICT, "conflict");

    // Nobody signed in: who am I answers nothing.
    let nobody = app.call(HttpMethod::GET, "/api/v1/auth/session", None, None);
    assert_eq!(nobody.status, Status::NO_CONTENT);

    // Wrong password and unknown user look alike.
    sign_in(&app, "lan", "not the password")
        .assert_problem(Status::UNAUTHORIZED, "invalidCredentials");
    sign_in(&app, "nobody", PASSWORD).assert_problem(Status::UNAUTHORIZED, "invalidCredentials");

    // Signed in: the session in a cookie scripts cannot read and other sites cannot send.
    let r = sign_in(&app, "lan", PASSWORD);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let set = r.header("set-cookie").unwrap().to_owned();
    assert!(set.starts_with("__Host-tthc_session="), "{set}");
    assert_host_cookie(&set);
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        (
            r.body["username"].clone(),
            r.body["role"].clone(),
            r.body["units"].clone()
        ),
        (json!("lan"), json!("viewer"), json!(["STP"]))
    );
    let cookie = session_of(&r);
    let me = with_session(
        &app,
        HttpMethod::GET,
        "/api/v1/auth/session",
        &cookie,
        None,
        false,
    );
    assert_eq!(me.status, Status::OK, "{}", me.text);
    assert_eq!(me.body["subject"], "user:lan");
    assert_eq!(me.body["name"], "Nguyễn Thị Lan");

    // Its units, and nothing else; its answers are not cached.
    let own = with_session(
        &app,
        HttpMethod::GET,
        "/api/v1/units/STP/scores/2026-03",
        &cookie,
        None,
        false,
    );
    assert_eq!(own.status, Status::OK, "{}", own.text);
    assert_eq!(own.header("cache-control"), Some("no-store"));
    with_session(
        &app,
        HttpMethod::GET,
        "/api/v1/units/STTTT/scores/2026-03",
        &cookie,
        None,
        false,
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
    // A report downloads with the cookie alone, as a link in the page does.
    let (status, _, bytes) = {
        let r = app
            .raw()
            .get(app.url("/api/v1/reports/ii06a?unit=STP&period=2026-03&format=xlsx"))
            .header("Cookie", &cookie)
            .send()
            .unwrap();
        (r.status(), r.headers().clone(), r.bytes().unwrap())
    };
    assert_eq!(status, Status::OK);
    assert_eq!(&bytes[..2], b"PK");

    // A change made with the cookie needs the header other sites cannot add; then the role's
    // scopes decide.
    let close = |csrf: bool| {
        with_session(
            &app,
            HttpMethod::POST,
            "/api/v1/periods/2026-03/close",
            &cookie,
            None,
            csrf,
        )
    };
    let r = close(false);
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert!(r.text.contains("X-Requested-With"), "{}", r.text);
    let r = close(true);
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert!(r.text.contains("scores:write"), "{}", r.text);

    // A forged or tampered cookie is refused, never taken for anonymous.
    with_session(
        &app,
        HttpMethod::GET,
        "/api/v1/auth/session",
        &format!("{cookie}x"),
        None,
        false,
    )
    .assert_problem(Status::UNAUTHORIZED, "invalidToken");

    // Promoted to officer, the next session records for its units.
    let r = app.patch("/api/v1/users/lan", &admin, &json!({"role": "officer"}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["version"], 2);
    let officer = session_of(&sign_in(&app, "lan", PASSWORD));
    let me = with_session(
        &app,
        HttpMethod::GET,
        "/api/v1/auth/session",
        &officer,
        None,
        false,
    );
    assert_eq!(me.body["role"], "officer");
    assert!(
        me.body["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("reports:write"))
    );

    // A new password replaces the old; a disabled person cannot sign in.
    let new_password = "một mật khẩu mới dài hơn";
    let r = app.patch(
        "/api/v1/users/lan",
        &admin,
        &json!({"password": new_password}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    sign_in(&app, "lan", PASSWORD).assert_problem(Status::UNAUTHORIZED, "invalidCredentials");
    assert_eq!(sign_in(&app, "lan", new_password).status, Status::OK);
    app.patch("/api/v1/users/lan", &admin, &json!({"disabled": true}));
    sign_in(&app, "lan", new_password).assert_problem(Status::UNAUTHORIZED, "invalidCredentials");

    // Signing out expires the cookie.
    let out = app.call_with(
        HttpMethod::DELETE,
        "/api/v1/auth/session",
        None,
        None,
        &[
            ("Cookie", cookie.as_str()),
            ("X-Requested-With", "tthc-console"),
        ],
    );
    assert_eq!(out.status, Status::NO_CONTENT, "{}", out.text);
    let set = out.header("set-cookie").unwrap();
    assert!(
        set.starts_with("__Host-tthc_session=;") && set.contains("Max-Age=0"),
        "{set}"
    );
    // Else the browser ignores it and keeps the session.
    assert_host_cookie(set);

    // Audited as people's changes, never with the password or its hash.
    let audit = app.get("/api/v1/audit?resourceType=user", &admin);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["update", "setPassword", "update", "create"],
        "{}",
        audit.text
    );
    assert!(!audit.text.contains("argon2") && !audit.text.contains(new_password));
}

#[test]
fn an_administrator_grants_people_only_what_it_holds() {
    let app = TestApp::spawn();
    province(&app);
    // A department's administrator: the viewer's scopes, managing people, its own subtree.
    let viewer_scopes = [
        "units:read",
        "procedures:read",
        "dossiers:read",
        "scores:read",
        "petitions:read",
        "reports:read",
        "tasks:read",
        "clients:admin",
    ];
    let (_, stp_admin) = app.client("stp-admin", &viewer_scopes, &["STP"]);
    let r = create_user(
        &app,
        &stp_admin,
        &json!({"username": "boss", "name": "Boss", "password": PASSWORD, "role": "officer", "units": ["STTTT"]}),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let named = r.invalid_names();
    assert!(named.contains(&"role".to_owned()), "{named:?}");
    assert!(named.contains(&"units[0]".to_owned()), "{named:?}");
    let r = create_user(
        &app,
        &stp_admin,
        &json!({"username": "clerk", "name": "Clerk", "password": PASSWORD, "role": "viewer", "units": ["STP"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    // The province's administrator has a person the department's cannot see.
    let admin = app.admin_token();
    let r = create_user(
        &app,
        &admin,
        &json!({"username": "chief", "name": "Chief", "password": PASSWORD, "role": "admin", "allUnits": true}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let listed = |token: &str| -> Vec<String> {
        app.get("/api/v1/users", token).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(listed(&stp_admin), ["clerk"]);
    assert_eq!(listed(&admin), ["chief", "clerk"]);
    // A person owns no subscription: its deliveries are read with a client's grant (one made
    // from a session was held for ever, owned by no client).
    let chief = session_of(&sign_in(&app, "chief", PASSWORD));
    let r = with_session(
        &app,
        HttpMethod::POST,
        "/api/v1/subscriptions",
        &chief,
        Some(&json!({"url": "https://example.com/hook"})),
        true,
    );
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert!(r.text.contains("API client"), "{}", r.text);
    // Nor a relay to the national portal, which is one.
    let r = with_session(
        &app,
        HttpMethod::PUT,
        "/api/v1/portal-relays/P",
        &chief,
        Some(&json!({"url": "https://dichvucong.gov.vn/api/sync", "session": "s"})),
        true,
    );
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert!(r.text.contains("API client"), "{}", r.text);
    app.get("/api/v1/users/chief", &stp_admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    app.patch("/api/v1/users/clerk", &stp_admin, &json!({"role": "admin"}))
        .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");

    // The province's administrator widens the clerk to every unit while the department's is
    // renaming them (its change in flight: its lock held on PostgreSQL, the write lock on
    // SQLite): the rename, judged on the clerk's old grant, is refused and writes nothing.
    let mut widening = app.hold("SELECT pg_advisory_xact_lock(hashtext('user:clerk'))");
    std::thread::scope(|s| {
        let rename = s.spawn(|| {
            app.patch(
                "/api/v1/users/clerk",
                &stp_admin,
                &json!({"name": "Thư ký"}),
            )
        });
        app.until_requests_wait(1);
        widening
            .batch_execute(
                "UPDATE users SET all_units = true, version = version + 1 \
                 WHERE username = 'clerk'; COMMIT",
            )
            .unwrap();
        rename
            .join()
            .unwrap()
            .assert_problem(Status::CONFLICT, "conflict");
    });
    assert_eq!(app.get("/api/v1/users/clerk", &admin).body["name"], "Clerk");
}

#[test]
fn failed_sign_ins_of_a_person_are_limited() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    let r = create_user(
        &app,
        &admin,
        &json!({"username": "lan", "name": "Lan", "password": PASSWORD, "role": "viewer", "allUnits": true}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let mut limited = None;
    for i in 0..20 {
        let r = sign_in(&app, "lan", "guess");
        if r.status == Status::TOO_MANY_REQUESTS {
            limited = Some((i, r));
            break;
        }
        r.assert_problem(Status::UNAUTHORIZED, "invalidCredentials");
    }
    let (tries, r) = limited.expect("guessing is limited");
    assert!(tries >= 5, "limited after {tries} failures");
    assert!(r.header("retry-after").is_some());
    // Even the right password waits now.
    assert_eq!(
        sign_in(&app, "lan", PASSWORD).status,
        Status::TOO_MANY_REQUESTS
    );
}

/// Signing out revokes that session's token, not the person's others; a new password or
/// disabling the person revokes every session they hold (enabling them again brings none
/// back), and a session opened right after works at once. A new name revokes nothing.
#[test]
fn sessions_are_revoked_by_signing_out_a_new_password_or_disabling() {
    let app = TestApp::spawn();
    let admin = crate::procedures::seed(&app);
    let r = create_user(
        &app,
        &admin,
        &json!({"username": "lan", "name": "Lan", "password": PASSWORD, "role": "viewer", "allUnits": true}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let open = |password: &str| {
        let r = sign_in(&app, "lan", password);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        session_of(&r)
    };
    let me =
        |cookie: &str| with_session(&app, HttpMethod::GET, "/api/v1/units", cookie, None, false);
    let works = |cookie: &str| me(cookie).status == Status::OK;
    let revoked = |cookie: &str| {
        let r = me(cookie);
        r.assert_problem(Status::UNAUTHORIZED, "invalidToken");
        assert!(r.text.contains("revoked"), "{}", r.text);
    };
    let sign_out_with = |cookie: &str, guard: bool| {
        let mut headers = vec![("Cookie", cookie)];
        if guard {
            headers.push(("X-Requested-With", "tthc-console"));
        }
        app.call_with(
            HttpMethod::DELETE,
            "/api/v1/auth/session",
            None,
            None,
            &headers,
        )
    };
    let sign_out = |cookie: &str| sign_out_with(cookie, true);
    let change = |body: Value| {
        let r = app.patch("/api/v1/users/lan", &admin, &body);
        assert_eq!(r.status, Status::OK, "{}", r.text);
    };
    let (here, there) = (open(PASSWORD), open(PASSWORD));
    assert!(works(&here) && works(&there));
    // Ending a live session is a change made with the cookie: without the header, refused and
    // the session goes on (until 2026-12-07 it was ended).
    let r = sign_out_with(&here, false);
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert!(r.text.contains("X-Requested-With"), "{}", r.text);
    assert!(works(&here));

    let out = sign_out(&here);
    assert_eq!(out.status, Status::NO_CONTENT, "{}", out.text);
    revoked(&here);
    assert!(works(&there), "the session in another browser goes on");
    // The cookie kept and sent again (say, by a copy of the browser's store) is still refused,
    // and signing out with it again and again records nothing more.
    revoked(&here);
    let recorded = revocation_rows(&app);
    for guard in [true, false, true] {
        let again = sign_out_with(&here, guard);
        assert_eq!(again.status, Status::NO_CONTENT, "{}", again.text);
    }
    assert_eq!(revocation_rows(&app), recorded);

    change(json!({"name": "Nguyễn Thị Lan"}));
    assert!(works(&there), "a new name takes nothing away");

    let new_password = "một mật khẩu mới dài hơn";
    change(json!({"password": new_password}));
    revoked(&there);
    let after = open(new_password);
    assert!(works(&after), "a session opened right after works");

    change(json!({"units": ["P"], "allUnits": false}));
    revoked(&after);
    let narrower = open(new_password);
    assert!(works(&narrower));

    change(json!({"role": "officer"}));
    revoked(&narrower);
    let officer = open(new_password);
    assert!(works(&officer));

    change(json!({"disabled": true}));
    revoked(&officer);
    change(json!({"disabled": false}));
    revoked(&officer);
    assert!(works(&open(new_password)));
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The rows of `token_revocations`.
fn revocation_rows(app: &TestApp) -> i64 {
    use diesel::RunQueryDsl;
    use tthc_core::db::DbConnection;
    let q = diesel::sql_query("SELECT count(*) AS n FROM token_revocations");
    let mut conn = app.db.conn().unwrap();
    match &mut *conn {
        DbConnection::Pg(c) => q.get_result::<Count>(c).unwrap().n,
        DbConnection::Sqlite(c) => q.get_result::<Count>(c).unwrap().n,
    }
}
