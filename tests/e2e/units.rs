//! Units: the tree, its filters and pages, moves, validity, versions.

use serde_json::{Value, json};
use tthc_tests::{Status, TestApp};

fn codes(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_owned())
        .collect()
}

/// P ─┬─ D1 ─ D1.1
///    ├─ D2
///    └─ C1 (commune)
fn small_tree(app: &TestApp) {
    app.unit("P", "province", None);
    app.unit("D1", "department", Some("P"));
    app.unit("D1.1", "other", Some("D1"));
    app.unit("D2", "department", Some("P"));
    app.unit("C1", "commune", Some("P"));
}

#[test]
fn created_units_are_listed_filtered_and_read_back() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    small_tree(&app);

    let r = app.get("/api/v1/units", &token);
    assert_eq!(r.status, Status::OK);
    assert_eq!(codes(&r.body), ["C1", "D1", "D1.1", "D2", "P"]);
    assert!(r.body["nextCursor"].is_null());
    assert!(r.body.get("total").is_none(), "total only when asked");

    assert_eq!(
        codes(&app.get("/api/v1/units?parent=P", &token).body),
        ["C1", "D1", "D2"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/units?level=department", &token).body),
        ["D1", "D2"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/units?within=D1", &token).body),
        ["D1", "D1.1"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/units?within=P&level=commune", &token).body),
        ["C1"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/units?parent=NOPE", &token).body),
        Vec::<String>::new()
    );
    assert_eq!(
        app.get("/api/v1/units?count=true&parent=P", &token).body["total"],
        3
    );

    let r = app.get("/api/v1/units/D1.1", &token);
    assert_eq!(r.status, Status::OK);
    assert_eq!(r.body["parent"], "D1");
    assert_eq!(r.body["level"], "other");
    assert_eq!(r.body["name"], "Đơn vị D1.1");
    assert_eq!(r.header("etag"), Some("\"1\""));
}

#[test]
fn pages_follow_the_cursor_to_the_end_without_gaps() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    app.unit("P", "province", None);
    for i in 0..23 {
        app.unit(&format!("C{i:02}"), "commune", Some("P"));
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/units?parent=P&limit=10&count=true".to_owned();
    loop {
        let r = app.get(&path, &token);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        assert_eq!(r.body["total"], 23);
        seen.extend(codes(&r.body));
        match r.body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/units?parent=P&limit=10&count=true&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|i| format!("C{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn validity_dates_filter_units_by_day() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    app.unit("P", "province", None);
    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "H1", "name": "Huyện Yên Dũng", "level": "district", "parent": "P",
                "validFrom": "2019-01-01", "validTo": "2025-06-30"}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.header("location"), Some("/api/v1/units/H1"));
    assert_eq!(
        codes(&app.get("/api/v1/units?validOn=2025-06-30", &token).body),
        ["H1", "P"]
    );
    assert_eq!(
        codes(&app.get("/api/v1/units?validOn=2025-07-01", &token).body),
        ["P"]
    );

    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "H2", "name": "x", "level": "district", "parent": "P",
                "validFrom": "2025-07-01", "validTo": "2025-06-30"}),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["validTo"]);
    app.get("/api/v1/units/H2", &token)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn duplicate_codes_and_unknown_parents_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    small_tree(&app);
    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "D1", "name": "again", "level": "department", "parent": "P"}),
    );
    r.assert_problem(Status::CONFLICT, "conflict");
    assert_eq!(r.invalid_names(), ["code"]);
    assert_eq!(
        app.get("/api/v1/units/D1", &token).body["name"],
        "Đơn vị D1",
        "the first D1 stands"
    );

    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "X", "name": "x", "level": "commune", "parent": "NOPE"}),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["parent"]);
    assert!(
        r.body["invalidParams"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("NOPE")
    );
    app.get("/api/v1/units/X", &token)
        .assert_problem(Status::NOT_FOUND, "notFound");
    assert_eq!(app.get("/api/v1/units?count=true", &token).body["total"], 5);

    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "Y", "name": "", "level": "commune", "parent": "P"}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(r.invalid_names(), ["name"]);
    // White space only: stored trimmed, it was stored empty.
    for blank in [" ", "\u{a0}\t\u{2003}"] {
        let r = app.post(
            "/api/v1/units",
            &token,
            &json!({"code": "Y", "name": blank, "level": "commune", "parent": "P"}),
        );
        r.assert_problem(Status::BAD_REQUEST, "validationFailed");
        assert_eq!(r.invalid_names(), ["name"]);
        let r = app.call(
            tthc_tests::HttpMethod::PATCH,
            "/api/v1/units/P",
            Some(&token),
            Some(&json!({"name": blank})),
        );
        r.assert_problem(Status::BAD_REQUEST, "validationFailed");
        assert_eq!(r.invalid_names(), ["name"]);
    }
    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "Y", "name": "y", "level": "village", "parent": "P"}),
    );
    assert_eq!(r.invalid_names(), ["level"]);
    let r = app.post(
        "/api/v1/units",
        &token,
        &json!({"code": "Y", "name": "y", "level": "commune", "parent": "P", "colour": 1}),
    );
    assert_eq!(r.invalid_names(), ["colour"], "{}", r.text);
    assert!(r.text.contains("colour"));
    assert_eq!(app.get("/api/v1/units?count=true", &token).body["total"], 5);
}

#[test]
fn moving_a_unit_moves_its_subtree_and_never_under_itself() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    small_tree(&app);

    let r = app.patch("/api/v1/units/D1", &token, &json!({"parent": "D1.1"}));
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["parent"]);
    let r = app.patch("/api/v1/units/D1", &token, &json!({"parent": "D1"}));
    assert_eq!(r.invalid_names(), ["parent"]);
    assert_eq!(
        app.get("/api/v1/units/D1", &token).body["version"],
        1,
        "refused moves change nothing"
    );

    let r = app.patch(
        "/api/v1/units/D1",
        &token,
        &json!({"parent": "D2", "name": "Sở mới"}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["parent"], "D2");
    assert_eq!(r.body["name"], "Sở mới");
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(
        codes(&app.get("/api/v1/units?within=D2", &token).body),
        ["D1", "D1.1", "D2"]
    );
    assert_eq!(app.get("/api/v1/units/D1.1", &token).body["parent"], "D1");

    // Close a unit, then reopen it with an explicit null.
    let r = app.patch(
        "/api/v1/units/C1",
        &token,
        &json!({"validTo": "2025-06-30"}),
    );
    assert_eq!(r.body["validTo"], "2025-06-30");
    let r = app.patch("/api/v1/units/C1", &token, &json!({"validTo": null}));
    assert!(r.body["validTo"].is_null());
    assert_eq!(r.body["name"], "Đơn vị C1", "fields left out stay");
}

#[test]
fn if_match_refuses_a_stale_update() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    small_tree(&app);
    let patch_with = |etag: &str, name: &str| {
        app.raw()
            .patch(app.url("/api/v1/units/D2"))
            .bearer_auth(&token)
            .header("If-Match", etag)
            .json(&json!({"name": name}))
            .send()
            .unwrap()
    };
    assert_eq!(patch_with("\"1\"", "first").status(), Status::OK);
    let stale = tthc_tests::Reply::from(patch_with("\"1\"", "second"));
    stale.assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    assert_eq!(app.get("/api/v1/units/D2", &token).body["name"], "first");
    assert_eq!(patch_with("\"2\"", "second").status(), Status::OK);
    // A tag this service never returned matches nothing; a list matches when one tag does.
    tthc_tests::Reply::from(patch_with("yesterday", "third"))
        .assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    tthc_tests::Reply::from(patch_with("\"9\", W/\"7\"", "third"))
        .assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    assert_eq!(app.get("/api/v1/units/D2", &token).body["name"], "second");
    assert_eq!(patch_with("\"9\", W/\"3\"", "third").status(), Status::OK);
    assert_eq!(app.get("/api/v1/units/D2", &token).body["name"], "third");
}

#[test]
fn two_changes_of_one_unit_in_flight_are_both_kept() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    small_tree(&app);
    let patch = |body: Value, if_match: Option<&str>| {
        let headers: Vec<(&str, &str)> = if_match.map(|t| ("If-Match", t)).into_iter().collect();
        app.call_with(
            tthc_tests::HttpMethod::PATCH,
            "/api/v1/units/D2",
            Some(&token),
            Some(&body),
            &headers,
        )
    };
    // Two requests at once, while a third writer holds D2 (its row on PostgreSQL, the write
    // lock on SQLite): each must be applied to the other's result.
    let both = |a: (Value, Option<&str>), b: (Value, Option<&str>)| {
        let mut statuses = app
            .both_while_held(
                "SELECT 1 FROM units WHERE code = 'D2' FOR UPDATE",
                || patch(a.0, a.1),
                || patch(b.0, b.1),
            )
            .map(|r| (r.status, r.header("etag").map(str::to_owned)));
        statuses.sort();
        statuses
    };

    // Different fields, no `If-Match`: neither writes back what the other changed.
    let statuses = both(
        (json!({"name": "Sở Tư pháp"}), None),
        (json!({"validTo": "2030-12-31"}), None),
    );
    assert_eq!(
        statuses.each_ref().map(|s| s.0),
        [Status::OK, Status::OK],
        "{statuses:?}"
    );
    let d2 = app.get("/api/v1/units/D2", &token);
    assert_eq!(
        (&d2.body["name"], &d2.body["validTo"], d2.header("etag")),
        (&json!("Sở Tư pháp"), &json!("2030-12-31"), Some("\"3\"")),
        "{}",
        d2.text
    );

    // The same `If-Match`: one passes, the other finds the unit changed.
    let statuses = both(
        (json!({"name": "first"}), Some("\"3\"")),
        (json!({"name": "second"}), Some("\"3\"")),
    );
    assert_eq!(
        statuses.each_ref().map(|s| s.0),
        [Status::OK, Status::PRECONDITION_FAILED],
        "{statuses:?}"
    );
    assert_eq!(
        app.get("/api/v1/units/D2", &token).header("etag"),
        Some("\"4\"")
    );
}

#[test]
fn concurrent_writers_all_succeed() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    app.unit("P", "province", None);
    std::thread::scope(|s| {
        for t in 0..6 {
            let (app, token) = (&app, &token);
            s.spawn(move || {
                for i in 0..8 {
                    let r = app.post(
                        "/api/v1/units",
                        token,
                        &json!({"code": format!("C{t}.{i}"), "name": "xã", "level": "commune", "parent": "P"}),
                    );
                    assert_eq!(r.status, Status::CREATED, "{}", r.text);
                }
            });
        }
    });
    assert_eq!(
        app.get("/api/v1/units?parent=P&count=true", &token).body["total"],
        48
    );
}

#[test]
fn the_demo_province_loads_once() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    let first = tthc_api::demo::load(&app.db, 3000).unwrap();
    // The demo's data ends the day before it is loaded; the three months before the last one
    // are closed.
    let year = tthc_api::demo::DemoYear::to_yesterday();
    let closed: Vec<String> = year.closed_months().iter().map(|p| p.to_string()).collect();
    let running = tthc_core::period::Period::month(
        chrono::Datelike::year(&year.last),
        chrono::Datelike::month(&year.last),
    )
    .unwrap()
    .to_string();
    assert_eq!(first.units_created, 121);
    // Generated deterministically: the same catalogue every time.
    assert_eq!(
        (first.procedures_created, first.decisions_created),
        (498, 38)
    );
    assert_eq!(first.dossiers_created, 3000);
    assert_eq!(first.petitions_created, 30);
    assert_eq!(first.months_closed, 3);
    // August to October are closed, with the portal's scores for the province: the
    // reconciliation answers from the snapshot, and the portal (seeing only synced dossiers)
    // counts fewer dossiers than tthc.
    let periods = app.get("/api/v1/periods", &token);
    assert_eq!(periods.body["items"][0]["period"], closed[2]);
    assert_eq!(periods.body["items"][0]["units"], 121);
    let r = app.get(
        &format!("/api/v1/units/000.00.00.H12/reconciliation/{}", closed[1]),
        &token,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["basis"], "snapshot");
    let progress = r.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "ON_TIME_PROCESSING")
        .unwrap()
        .clone();
    assert!(
        progress["tthc"]["denominator"].as_u64() > progress["official"]["denominator"].as_u64(),
        "{progress}"
    );
    assert!(
        progress["causes"][1]
            .as_str()
            .unwrap()
            .contains("never synced"),
        "{progress}"
    );
    // A year of reports, up to the demo's last day: 120 units owe the monthly report, the
    // province the consolidated one; some were late, poor or never sent, and cost PAR-index
    // points.
    assert!(
        first.reports_submitted > 1000,
        "{}",
        first.reports_submitted
    );
    // The year of a closed month has months of reports whenever the demo is loaded.
    let c = app.get(
        &format!(
            "/api/v1/reporting-duties/compliance?year={}",
            &closed[1][..4]
        ),
        &token,
    );
    assert_eq!(c.status, 200, "{}", c.body);
    let units = c.body["units"].as_array().unwrap();
    assert_eq!(units.len(), 121);
    let sum = |key: &str| -> u64 {
        units
            .iter()
            .flat_map(|u| u["duties"].as_array().unwrap())
            .map(|d| d[key].as_u64().unwrap())
            .sum()
    };
    assert!(sum("late") > 0 && sum("missing") > 0 && sum("poorQuality") > 0);
    assert!(sum("onTime") > 3 * (sum("late") + sum("missing") + sum("poorQuality")));
    // The notice of a closed month ranks every department and commune, from its snapshot.
    let n = app.get(
        &format!(
            "/api/v1/reports/notice?unit=000.00.00.H12&period={}",
            closed[1]
        ),
        &token,
    );
    assert_eq!(n.status, 200, "{}", n.body);
    assert_eq!(n.body["basis"], "snapshot");
    let ranked = n.body["departments"].as_array().unwrap().len()
        + n.body["localities"].as_array().unwrap().len();
    assert_eq!(ranked, 120);
    assert!(n.body["official"]["score"].is_number());
    // The running month has gains to show.
    let g = app.get(
        &format!("/api/v1/units/000.00.00.H12/scores/{running}/gains"),
        &token,
    );
    assert!(
        !g.body["actions"].as_array().unwrap().is_empty(),
        "{}",
        g.body
    );
    // The demo's tasks: a letter's three (two departments never cleaned the catalogue: overdue)
    // and the last closed month's explanations, half of them sent.
    assert!(first.tasks_created >= 3, "{}", first.tasks_created);
    let t = app.get("/api/v1/tasks?standing=overdue", &token);
    assert_eq!(t.status, 200, "{}", t.body);
    let clean = t.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"].as_str().unwrap().ends_with("#1"))
        .unwrap()
        .clone();
    assert_eq!(clean["parts"].as_array().unwrap().len(), 2, "{clean}");
    let year = clean["dueBefore"].as_str().unwrap()[..4].to_owned();
    let c = app.get(&format!("/api/v1/tasks/compliance?year={year}"), &token);
    let done_late: u64 = c.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["tasks"]["doneLate"].as_u64().unwrap())
        .sum();
    assert!(done_late >= 1, "{}", c.body);
    let again = tthc_api::demo::load(&app.db, 3000).unwrap();
    assert_eq!(
        (
            again.units_created,
            again.procedures_created,
            again.dossiers_created
        ),
        (0, 0, 0)
    );
    let r = app.get(
        "/api/v1/units?within=000.00.00.H12&count=true&limit=1",
        &token,
    );
    assert_eq!(r.body["total"], 121);
    assert_eq!(
        app.get("/api/v1/units?level=department&count=true", &token)
            .body["total"],
        20
    );
    assert_eq!(
        app.get("/api/v1/units?level=commune&count=true", &token)
            .body["total"],
        100
    );
}

/// A demo load that stopped partway (its start marked, its end not) leaves a province with
/// part of its year. On PostgreSQL, where no other instance loads it meanwhile, loading again
/// is refused with what to do; on SQLite another instance may still be loading it, and it is
/// left to that one.
#[test]
fn a_demo_load_that_stopped_partway_is_not_taken_for_whole() {
    let app = TestApp::spawn();
    tthc_core::db::settings::put(
        &mut app.db.conn().unwrap(),
        "demo.load_started",
        "2026-12-06 02:00:00",
    )
    .unwrap();
    app.unit("000.00.00.H12", "province", None);
    let again = tthc_api::demo::load(&app.db, 1000);
    if app.is_postgres() {
        let message = again.unwrap_err().to_string();
        assert!(
            message.contains("loaded partway") && message.contains("2026-12-06 02:00:00"),
            "{message}"
        );
    } else {
        assert_eq!(again.unwrap().units_created, 0);
    }
}

fn year_span() -> tthc_api::demo::DemoYear {
    tthc_api::demo::DemoYear::to_yesterday()
}

#[test]
fn the_demo_year_of_dossiers_has_what_a_province_sees() {
    let app = TestApp::spawn();
    let token = app.admin_token();
    tthc_api::demo::load(&app.db, 3000).unwrap();
    let total = |query: &str| -> u64 {
        let mut count = 0;
        let mut next = Some(format!("/api/v1/dossiers?limit=500{query}"));
        while let Some(url) = next {
            let r = app.get(&url, &token);
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            count += r.body["items"].as_array().unwrap().len() as u64;
            next = r.body["nextCursor"]
                .as_str()
                .map(|c| format!("/api/v1/dossiers?limit=500{query}&cursor={c}"));
        }
        count
    };
    assert_eq!(total(""), 3000);
    // A realistic mix, not a uniform one: every kind present, none dominant where it should
    // be rare.
    let online = total("&channel=online");
    assert!((900..2100).contains(&online), "online {online}");
    let late = total("&timing=finishedLate");
    let early = total("&timing=finishedEarly");
    assert!(late > 30 && early > 4 * late, "late {late}, early {early}");
    let overdue = total("&overdue=true");
    assert!(overdue > 0 && overdue < 300, "overdue {overdue}");
    let unsynced = total("&synced=false");
    assert!((250..800).contains(&unsynced), "never synced {unsynced}");
    for flag in [
        "archiveResult",
        "emptyResult",
        "resultIsComponent",
        "syncBehind",
        "syncFailing",
        "noResultDocument",
    ] {
        let n = total(&format!("&flag={flag}"));
        assert!(n > 0 && n < 300, "{flag}: {n}");
    }
    // Every unit has dossiers; the communes receive most of them (civil status, certification).
    let units = app.get("/api/v1/units?within=000.00.00.H12&limit=500", &token);
    let mut at_communes = 0;
    for unit in units.body["items"].as_array().unwrap() {
        let code = unit["code"].as_str().unwrap();
        if code == "000.00.00.H12" {
            continue;
        }
        let n = app.get(
            &format!("/api/v1/dossiers?unit={code}&count=true&limit=1"),
            &token,
        );
        let n = n.body["total"].as_u64().unwrap();
        assert!(n > 0, "{code} has no dossiers");
        if unit["level"] == "commune" {
            at_communes += n;
        }
    }
    assert!(
        (1800..2400).contains(&at_communes),
        "communes received {at_communes} of 3000"
    );
    // No unit sits at the 12 points the petition indicators give for want of data.
    let middle = year_span().first + chrono::TimeDelta::days(183);
    let ranking = app.get(
        &format!(
            "/api/v1/units/000.00.00.H12/rankings/{}",
            chrono::Datelike::year(&middle)
        ),
        &token,
    );
    assert_eq!(ranking.status, 200, "{}", ranking.body);
    for item in ranking.body["items"].as_array().unwrap() {
        let score = item["score"].as_f64().unwrap();
        assert!(score > 12.5, "{} scores {score}", item["unit"]);
    }
    // The data runs to the day before the demo was loaded.
    let year = tthc_api::demo::DemoYear::to_yesterday();
    let last_week = year.last - chrono::TimeDelta::days(7);
    let recent = total(&format!("&receivedFrom={last_week}T00:00:00%2B07:00"));
    assert!(recent > 0, "nothing received in the last week");
    // The year's petitions (over the calendar years the demo touches): mostly answered, some
    // late, and the two petition indicators counted.
    let (mut all, mut on_time, mut due, mut handled) = (0, 0, 0, 0);
    for y in chrono::Datelike::year(&year.first)..=chrono::Datelike::year(&year.last) {
        let f = app.get(
            &format!("/api/v1/units/000.00.00.H12/petition-figures/{y}"),
            &token,
        );
        assert_eq!(f.status, 200, "{}", f.body);
        let n = |pointer: &str| f.body.pointer(pointer).and_then(Value::as_u64).unwrap();
        all += n("/received/regulation") + n("/received/officerConduct");
        on_time += n("/processingOnTime/numerator");
        due += n("/processingOnTime/denominator");
        handled += n("/handlingSatisfaction/denominator");
    }
    assert!(all >= 25, "{all} petitions");
    assert!(
        on_time < due && on_time * 2 > due,
        "{on_time} of {due} on time"
    );
    assert!(handled > 15, "{handled} first received");
}
