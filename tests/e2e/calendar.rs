//! The working-day calendar over HTTP: due dates, working time, provinces' calendar years.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Reply, Status, TestApp};

fn public(app: &TestApp, path: &str) -> Reply {
    app.call(HttpMethod::GET, path, None, None)
}

fn year_body(extra_day_off: Option<(&str, &str)>) -> Value {
    let mut days_off = vec![
        json!({"date": "2026-01-01", "name": "Tết Dương lịch", "kind": "holiday"}),
        json!({"date": "2026-02-17", "name": "Tết Nguyên đán (mùng 1)", "kind": "holiday"}),
    ];
    if let Some((date, name)) = extra_day_off {
        days_off.push(json!({"date": date, "name": name, "kind": "holiday"}));
    }
    json!({
        "weekdays": [1, 2, 3, 4, 5],
        "periods": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}],
        "intakeCutoff": "15:00",
        "daysOff": days_off,
        "workingDays": [{"date": "2026-08-22", "name": "làm bù"}]
    })
}

/// Province P's 2026 edited, from its first version, with a provincial day off on Monday
/// 2 March.
pub(crate) fn day_off_on_2_march(app: &TestApp, admin: &str) -> Reply {
    Reply::from(
        app.raw()
            .put(app.url("/api/v1/calendars/P/2026"))
            .bearer_auth(admin)
            .header("If-Match", "\"0\"")
            .header("X-Audit-Reason", "Ngày lễ của tỉnh")
            .json(&year_body(Some(("2026-03-02", "Ngày lễ tỉnh"))))
            .send()
            .unwrap(),
    )
}

fn province(app: &TestApp) {
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
}

#[test]
fn due_dates_are_public_and_explained() {
    let app = TestApp::spawn();
    let r = public(
        &app,
        "/api/v1/calendar/due?start=2026-02-13T10:00:00%2B07:00&amount=1&measure=workingDays",
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["due"], "2026-02-23T10:00:00+07:00");
    assert_eq!(r.body["countingStarts"], "2026-02-13T10:00:00+07:00");
    assert_eq!(r.body["workingHours"], 8.0);
    assert!(r.body["province"].is_null());
    assert_eq!(
        r.body["years"],
        json!([{"year": 2026, "source": "announced"}])
    );
    let steps = r.body["explanation"].as_array().unwrap();
    assert_eq!(steps.len(), 9, "14–22 February skipped: {}", r.text);
    let tet = steps.iter().find(|s| s["date"] == "2026-02-17").unwrap();
    assert_eq!(tet["kind"], "holiday");
    assert!(tet["name"].as_str().unwrap().contains("mùng 1"));

    // An unencoded '+' arrives as a space and is still understood; UTC input is converted.
    let r = public(
        &app,
        "/api/v1/calendar/due?start=2026-03-02T16:00:00+07:00&amount=4&measure=workingHours",
    );
    assert_eq!(r.body["due"], "2026-03-03T11:00:00+07:00", "{}", r.text);
    assert_eq!(r.body["explanation"][0]["step"], "countingStarts");
    let r = public(
        &app,
        "/api/v1/calendar/due?start=2026-03-02T01:00:00Z&amount=1&measure=workingHours",
    );
    assert_eq!(r.body["due"], "2026-03-02T09:00:00+07:00", "{}", r.text);

    let pauses = "2026-03-03T10:00:00%2B07:00/2026-03-04T10:00:00%2B07:00";
    let r = public(
        &app,
        &format!(
            "/api/v1/calendar/due?start=2026-03-02T08:00:00%2B07:00&amount=3&measure=workingDays&pauses={pauses}"
        ),
    );
    assert_eq!(r.body["due"], "2026-03-06T08:00:00+07:00", "{}", r.text);
}

#[test]
fn bad_due_queries_name_the_parameter() {
    let app = TestApp::spawn();
    for (query, param) in [
        (
            "start=2026-02-13T10:00:00%2B07:00&amount=1&measure=weeks",
            "measure",
        ),
        (
            "start=2026-02-13T10:00:00%2B07:00&amount=0&measure=workingDays",
            "amount",
        ),
        (
            "start=2026-02-13T10:00:00%2B07:00&amount=5000&measure=workingDays",
            "amount",
        ),
        (
            "start=2026-02-13T10:00:00%2B07:00&amount=1.5&measure=calendarDays",
            "amount",
        ),
        (
            "start=2026-02-13T10:00:00%2B07:00&amount=1.234&measure=workingDays",
            "amount",
        ),
        ("start=yesterday&amount=1&measure=workingDays", "start"),
        (
            "start=2026-02-13T10:00:00&amount=1&measure=workingDays",
            "start",
        ),
        (
            "start=2026-02-13T10:00:00%2B07:00&amount=1&measure=workingDays&pauses=x",
            "pauses",
        ),
    ] {
        let r = public(&app, &format!("/api/v1/calendar/due?{query}"));
        // Whole calendar days is a rule across two parameters, the rest breaks the document.
        if query.contains("amount=1.5&measure=calendarDays") {
            r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
        } else {
            r.assert_problem(Status::BAD_REQUEST, "validationFailed");
        }
        assert_eq!(r.invalid_names(), [param], "{query}: {}", r.text);
    }
    public(&app, "/api/v1/calendar/due?unit=NOPE&start=2026-02-13T10:00:00%2B07:00&amount=1&measure=workingDays")
        .assert_problem(Status::NOT_FOUND, "notFound");
    // Pauses spanning more than ten years together would be explained day by day for decades:
    // refused; nine years are computed, and explained.
    let due_with = |pauses: &str| {
        public(
            &app,
            &format!(
                "/api/v1/calendar/due?start=2026-02-13T10:00:00%2B07:00&amount=1&measure=workingDays&pauses={pauses}"
            ),
        )
    };
    let r = due_with(
        "2026-03-01T00:00:00%2B07:00/2031-03-01T00:00:00%2B07:00,2031-03-02T00:00:00%2B07:00/2036-04-01T00:00:00%2B07:00",
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["pauses"], "{}", r.text);
    let r = due_with("2026-03-01T00:00:00%2B07:00/2035-03-01T00:00:00%2B07:00");
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert!(
        r.body["due"].as_str().unwrap().starts_with("2035-"),
        "{}",
        r.body["due"]
    );
}

#[test]
fn working_time_between_two_instants() {
    let app = TestApp::spawn();
    let r = public(
        &app,
        "/api/v1/calendar/working-time?from=2026-02-13T07:00:00%2B07:00&to=2026-02-23T17:00:00%2B07:00",
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["workingHours"], 16.0);
    assert_eq!(r.body["workingDays"], 2.0);
    let r = public(
        &app,
        "/api/v1/calendar/working-time?from=2026-02-23T17:00:00%2B07:00&to=2026-02-13T07:00:00%2B07:00",
    );
    assert_eq!(r.invalid_names(), ["to"]);
}

#[test]
fn a_province_edits_its_calendar_and_its_units_follow_it() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    province(&app);

    let r = public(&app, "/api/v1/calendars/P/2026");
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        (r.body["source"].as_str(), r.body["version"].as_i64()),
        (Some("announced"), Some(0))
    );
    assert_eq!(r.header("etag"), Some("\"0\""));
    assert_eq!(
        public(&app, "/api/v1/calendars/P/2030").body["source"],
        "computed"
    );
    public(&app, "/api/v1/calendars/D1/2026").assert_problem(Status::NOT_FOUND, "notFound");

    // A provincial day off on Monday 2 March 2026.
    let r = day_off_on_2_march(&app, &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(
        (r.body["source"].as_str(), r.body["version"].as_i64()),
        (Some("edited"), Some(1))
    );

    let start = "start=2026-02-27T10:00:00%2B07:00&amount=1&measure=workingDays";
    let in_province = public(&app, &format!("/api/v1/calendar/due?unit=D1&{start}"));
    assert_eq!(
        in_province.body["due"], "2026-03-03T10:00:00+07:00",
        "{}",
        in_province.text
    );
    assert_eq!(in_province.body["province"], "P");
    assert_eq!(
        in_province.body["years"],
        json!([{"year": 2026, "source": "edited"}])
    );
    let national = public(&app, &format!("/api/v1/calendar/due?{start}"));
    assert_eq!(national.body["due"], "2026-03-02T10:00:00+07:00");

    let days = public(
        &app,
        "/api/v1/calendars/P/2026/days?from=2026-03-01&to=2026-03-03",
    );
    let kinds: Vec<&str> = days.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["weekend", "holiday", "working"]);

    let audit = app.get(
        "/api/v1/audit?resourceType=calendar&resourceId=P/2026",
        &admin,
    );
    let entry = &audit.body["items"][0];
    assert_eq!(entry["reason"], "Ngày lễ của tỉnh");
    assert_eq!(entry["before"]["version"], 0);
    assert_eq!(entry["after"]["version"], 1);

    // A stale ETag is refused and changes nothing.
    let stale = Reply::from(
        app.raw()
            .put(app.url("/api/v1/calendars/P/2026"))
            .bearer_auth(&admin)
            .header("If-Match", "\"0\"")
            .json(&year_body(None))
            .send()
            .unwrap(),
    );
    stale.assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    assert_eq!(public(&app, "/api/v1/calendars/P/2026").body["version"], 1);
}

#[test]
fn bad_calendar_years_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    province(&app);
    let put = |body: &Value| {
        app.call(
            HttpMethod::PUT,
            "/api/v1/calendars/P/2026",
            Some(&admin),
            Some(body),
        )
    };

    let mut body = year_body(Some(("2027-01-01", "next year")));
    let r = put(&body);
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["daysOff[2].date"]);

    body = year_body(Some(("2026-01-01", "twice")));
    assert_eq!(put(&body).invalid_names(), ["daysOff[2].date"]);

    body = year_body(None);
    body["weekdays"] = json!([1, 8]);
    assert_eq!(put(&body).invalid_names(), ["weekdays[1]"]);

    body = year_body(None);
    body["periods"] =
        json!([{"start": "07:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}]);
    assert_eq!(put(&body).invalid_names(), ["periods[1].start"]);

    body = year_body(None);
    body["periods"] = json!([]);
    assert_eq!(put(&body).invalid_names(), ["periods"]);

    body = year_body(None);
    body["daysOff"][0]["kind"] = json!("party");
    assert_eq!(put(&body).invalid_names(), ["daysOff[0].kind"]);

    app.call(
        HttpMethod::PUT,
        "/api/v1/calendars/P/1800",
        Some(&admin),
        Some(&year_body(None)),
    )
    .assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(
        public(&app, "/api/v1/calendars/P/2026").body["version"],
        0,
        "nothing stored"
    );
}

#[test]
fn calendar_writes_need_the_scope_and_the_province() {
    let app = TestApp::spawn();
    province(&app);
    app.unit("Q", "province", None);
    let (_, other) = app.client("q-office", &["calendar:write"], &["Q"]);
    app.call(
        HttpMethod::PUT,
        "/api/v1/calendars/P/2026",
        Some(&other),
        Some(&year_body(None)),
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/calendars/Q/2026",
        Some(&other),
        Some(&year_body(None)),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(public(&app, "/api/v1/calendars/P/2026").body["version"], 0);
}

#[test]
fn two_first_edits_of_a_year_at_once_both_land_one_after_the_other() {
    let app = TestApp::spawn();
    let admin = app.admin_token();
    province(&app);
    let put = |day: &str| {
        app.call(
            HttpMethod::PUT,
            "/api/v1/calendars/P/2026",
            Some(&admin),
            Some(&year_body(Some((day, "Ngày lễ tỉnh")))),
        )
    };
    // No edit stored yet; two at once, while a third writer holds the years' table (on
    // SQLite the write lock): both read the year as announced.
    let answers = app.both_while_held(
        "LOCK TABLE calendar_years IN EXCLUSIVE MODE",
        || put("2026-03-02"),
        || put("2026-03-03"),
    );
    let mut versions = answers.map(|r| {
        assert_eq!(r.status, Status::OK, "{}", r.text);
        r.body["version"].as_i64().unwrap()
    });
    versions.sort_unstable();
    assert_eq!(versions, [1, 2]);
    let r = public(&app, "/api/v1/calendars/P/2026");
    assert_eq!(r.header("etag"), Some("\"2\""), "{}", r.text);
}
