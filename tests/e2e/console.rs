//! The office console at `/` and the published results it shows: served by tthc itself, readable
//! without signing in, only for closed months. The last test drives the page in Debian's
//! chromium (`#[ignore]`d: CI installs chromium and `tests/browser`'s packages, then runs
//! `cargo test -p tthc-tests --test e2e -- --ignored console`).

use std::path::Path;

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp};

use crate::scores::{province, sync_late};

fn public(app: &TestApp, path: &str) -> tthc_tests::Reply {
    app.call(HttpMethod::GET, path, None, None)
}

fn close(app: &TestApp, token: &str, period: &str) {
    let r = app.call(
        HttpMethod::POST,
        &format!("/api/v1/periods/{period}/close"),
        Some(token),
        None,
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
}

#[test]
fn published_results_are_read_without_sign_in_and_only_for_closed_months() {
    let app = TestApp::spawn();
    let admin = province(&app);
    // Nothing closed, nothing published.
    let r = public(&app, "/api/v1/published");
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["items"], json!([]));
    public(&app, "/api/v1/published/2026-03").assert_problem(Status::NOT_FOUND, "notFound");
    for bad in ["2026-13", "2026-Q1", "2026", "0000-01", "1999-12"] {
        public(&app, &format!("/api/v1/published/{bad}"))
            .assert_problem(Status::BAD_REQUEST, "validationFailed");
    }

    close(&app, &admin, "2026-03");
    let r = public(&app, "/api/v1/published");
    assert_eq!(r.body["items"][0]["period"], "2026-03");
    assert_eq!(
        r.body["items"][0]["provinces"],
        json!([{"unit": "P", "name": "Đơn vị P", "score": 38.17}])
    );
    let m = public(&app, "/api/v1/published/2026-03");
    assert_eq!(m.status, Status::OK, "{}", m.text);
    let p = &m.body["provinces"][0];
    assert_eq!(
        (p["unit"].clone(), p["score"].clone()),
        (json!("P"), json!(38.17))
    );
    assert_eq!(
        (p["previousScore"].clone(), p["change"].clone()),
        (Value::Null, Value::Null)
    );
    // The groups add up to the total, and the ranking is the one the office reads signed in.
    let groups = p["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    let sum: f64 = groups.iter().filter_map(|g| g["score"].as_f64()).sum();
    assert!((sum - 38.17).abs() < 0.05, "groups sum to {sum}");
    let signed_in = app.get("/api/v1/units/P/rankings/2026-03", &admin);
    let ranking = |items: &Value| -> Vec<(Value, Value, Value)> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["rank"].clone(), u["unit"].clone(), u["score"].clone()))
            .collect()
    };
    assert_eq!(ranking(&p["units"]), ranking(&signed_in.body["items"]));
    assert_eq!(p["units"][0]["unit"], "STTTT");
    assert_eq!(p["units"][0]["level"], "department");

    // Late data moves the live score, never a published month.
    sync_late(&app, &admin);
    let live = app.get("/api/v1/units/P/scores/2026-03", &admin);
    assert_eq!(live.body["sinceClose"]["liveScore"], 39.67);
    let m = public(&app, "/api/v1/published/2026-03");
    assert_eq!(m.body["provinces"][0]["score"], 38.17);

    // With February published too, March shows its change.
    close(&app, &admin, "2026-02");
    let february = public(&app, "/api/v1/published/2026-02").body["provinces"][0]["score"]
        .as_f64()
        .unwrap();
    let m = public(&app, "/api/v1/published/2026-03");
    let p = &m.body["provinces"][0];
    assert_eq!(p["previousScore"].as_f64(), Some(february));
    let change = p["change"].as_f64().unwrap();
    assert!((change - (38.17 - february)).abs() < 0.006, "{change}");
    let list = public(&app, "/api/v1/published");
    let periods: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-03", "2026-02"], "latest first");

    // Reopened, a month is no longer published.
    let r = app.call(
        HttpMethod::POST,
        "/api/v1/periods/2026-02/reopen",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::NO_CONTENT, "{}", r.text);
    public(&app, "/api/v1/published/2026-02").assert_problem(Status::NOT_FOUND, "notFound");
    let m = public(&app, "/api/v1/published/2026-03");
    assert_eq!(m.body["provinces"][0]["previousScore"], Value::Null);
}

#[test]
fn the_console_is_served_from_the_binary_under_a_strict_policy() {
    let app = TestApp::spawn();
    let page = public(&app, "/");
    assert_eq!(page.status, Status::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(page.text.contains("<html lang=\"vi\">"));
    // Sent before the script has loaded, the sign-in form posts its password in a body (which
    // the service refuses, 415), never in the page's URL, its history or a proxy's log.
    assert!(
        page.text
            .contains("<form id=\"sign-in-form\" class=\"sign-in\" method=\"post\""),
        "{}",
        page.text
    );
    let form = app
        .raw()
        .post(app.url("/api/v1/auth/session"))
        .form(&[("username", "lan"), ("password", "x")])
        .send()
        .unwrap();
    assert_eq!(form.status(), Status::UNSUPPORTED_MEDIA_TYPE);
    // Nothing from elsewhere: it works offline.
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "{}",
        page.text
    );
    for (path, media) in [
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/style.css", "text/css; charset=utf-8"),
    ] {
        assert!(page.text.contains(path), "the page loads {path}");
        let asset = public(&app, path);
        assert_eq!(asset.status, Status::OK, "{path}");
        assert_eq!(asset.header("content-type"), Some(media));
        assert!(
            !asset.text.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
    // Built on the public API only.
    let script = public(&app, "/console/app.js").text;
    assert!(script.contains("const api = \"/api/v1\""));
    assert!(script.contains("/published"));
    assert!(
        !script.contains("innerHTML"),
        "data goes into the page as text"
    );
}

#[test]
#[ignore = "needs chromium and tests/browser's packages (npm ci); CI installs them"]
fn the_console_shows_the_published_results_in_a_real_browser() {
    let app = TestApp::spawn();
    tthc_api::demo::load(&app.db, 3000).unwrap();
    let months = public(&app, "/api/v1/published").body["items"].clone();
    let latest_period = months[0]["period"].as_str().unwrap().to_owned();
    let earlier_period = months[1]["period"].as_str().unwrap().to_owned();
    let latest = public(&app, &format!("/api/v1/published/{latest_period}")).body;
    let earlier = public(&app, &format!("/api/v1/published/{earlier_period}")).body;
    let province = &latest["provinces"][0];
    let units = province["units"].as_array().unwrap();
    let label = |period: &str| {
        let (year, month) = period.split_once('-').unwrap();
        format!("tháng {}/{year}", month.trim_start_matches('0'))
    };
    // A person of the provincial office, who signs in through the page.
    let admin = app.admin_token();
    let password = "một câu dài dễ nhớ 2026";
    let r = app.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "vanphong", "name": "Văn phòng UBND tỉnh", "password": password, "role": "viewer", "allUnits": true}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let code = province["unit"].as_str().unwrap().to_owned();
    let losses = app.get(
        &format!("/api/v1/units/{code}/scores/{latest_period}/losses"),
        &admin,
    );
    let loss_rows = losses.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&losses.body["own"]))
        .filter(|l| l["total"].as_f64().unwrap() > 0.0)
        .count();
    let misses = app.get(
        &format!(
            "/api/v1/units/{code}/scores/{latest_period}/indicators/ON_TIME_PROCESSING/misses?limit=20"
        ),
        &admin,
    );
    let on_time_misses = misses.body["items"].as_array().unwrap().len();
    assert!(loss_rows > 0 && on_time_misses > 0, "the demo loses points");
    // What the other views must show (at most ten rows each; one row saying so when none).
    let rows = |items: &Value| items.as_array().unwrap().len().clamp(1, 10);
    let gains = app.get(
        &format!("/api/v1/units/{code}/scores/{latest_period}/gains"),
        &admin,
    );
    let late = app.get("/api/v1/announcements/late", &admin);
    let due = app.get(
        &format!("/api/v1/reporting-duties/due?days=14&unit={code}"),
        &admin,
    );
    // The page asks for the 26 weeks up to today in Vietnam.
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let from = today - chrono::Duration::days(182);
    let series = app.get(
        &format!("/api/v1/units/{code}/overdue/series?from={from}&to={today}&every=week"),
        &admin,
    );
    assert_eq!(series.status, Status::OK, "{}", series.text);
    let running = today.format("%Y-%m").to_string();
    let live = app.get(&format!("/api/v1/units/{code}/scores/{running}"), &admin);
    assert_eq!(live.status, Status::OK, "{}", live.text);
    let expected = json!({
        "user": {"username": "vanphong", "password": password, "name": "Văn phòng UBND tỉnh"},
        "signedIn": {
            "lossRows": loss_rows,
            "onTimeMisses": on_time_misses,
            "notice": format!("thong-bao-{code}-{latest_period}.xlsx"),
            "gainRows": rows(&gains.body["actions"]),
            "lateRows": rows(&late.body["items"]),
            "dueRows": rows(&due.body["items"]),
            "overduePoints": series.body["points"].as_array().unwrap().len(),
            "liveScore": live.body["score"],
        },
        "latest": {
            "period": latest_period,
            "score": province["score"],
            "groups": province["groups"].as_array().unwrap().len(),
            "units": units.len(),
            "departments": units.iter().filter(|u| u["level"] == "department").count(),
            "best": units[0]["name"],
            "trend": months.as_array().unwrap().len().min(12),
        },
        "earlier": {
            "label": label(&earlier_period),
            "score": earlier["provinces"][0]["score"],
        },
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("../target/console");
    // A fresh directory: the screenshots checked below are this run's, not a leftover.
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let result = std::process::Command::new("node")
        .arg(root.join("browser/console.mjs"))
        .arg(&app.base)
        .arg(&out)
        .arg(expected.to_string())
        .output()
        .expect("node runs the browser checks");
    assert!(
        result.status.success(),
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    for width in [390, 1280] {
        assert!(out.join(format!("console-{width}.png")).exists());
    }
}
