//! Reporting duties (seed `002_…`), the reports units send, the office's quality marks, and the
//! year's compliance with the PAR-index deductions of seed `003_…`, worked out by hand.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp, read_xlsx};

use crate::procedures::seed;

fn monthly(code: &str, before: u32, reporters: &[&str], first: &str) -> Value {
    json!({"code": code, "name": format!("Báo cáo {code}"), "frequency": "monthly",
           "dueBeforeDay": before, "dueMonthsAfter": 0, "recipient": "Văn phòng UBND tỉnh",
           "reporters": reporters, "firstPeriod": first})
}

fn send(app: &TestApp, token: &str, duty: &str, unit: &str, period: &str, at: &str) -> Value {
    let r = app.post(
        &format!("/api/v1/reporting-duties/{duty}/submissions"),
        token,
        &json!({"unit": unit, "period": period, "documentNumber": format!("{period}/BC-{unit}"),
                "submittedAt": at,
                "file": {"name": "bao-cao.pdf", "mediaType": "application/pdf", "size": 48211}}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    r.body
}

/// Duty M (units report before the 21st) from September 2025, reporters STP and STTTT; duty C
/// (the office's consolidated report before the 25th) from December 2025, reporter P.
/// STP: September on 19 Sep (on time); October first on 21 Oct 09:00 (late: the 21st is too
///   late), corrected on 25 Oct; November on time but marked poor; December never (missing)
///   → 1 on time, 1 late, 1 poor, 1 missing: 0.25 + 0.25 + 0.5 = 1.0 points.
/// STTTT: September and October on time (20 Oct 23:59), November and December never
///   → 2 on time, 2 missing: 1.0 points.
/// P: December on 24 Dec → on time, 0 points.
#[test]
fn compliance_for_the_year_costs_the_points_of_seed_003() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.post(
        "/api/v1/reporting-duties",
        &admin,
        &monthly("M", 21, &["STP", "STTTT"], "2025-09"),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.header("location"), Some("/api/v1/reporting-duties/M"));
    assert_eq!(
        r.body["deductions"],
        json!({"late": 0.25, "poorQuality": 0.25, "missing": 0.5})
    );
    let c = app.post(
        "/api/v1/reporting-duties",
        &admin,
        &monthly("C", 25, &["P"], "2025-12"),
    );
    assert_eq!(c.status, Status::CREATED, "{}", c.text);

    let (_, stp) = app.client("stp", &["reports:read", "reports:write"], &["STP"]);
    send(
        &app,
        &stp,
        "M",
        "STP",
        "2025-09",
        "2025-09-19T16:00:00+07:00",
    );
    send(
        &app,
        &stp,
        "M",
        "STP",
        "2025-10",
        "2025-10-21T09:00:00+07:00",
    );
    send(
        &app,
        &stp,
        "M",
        "STP",
        "2025-10",
        "2025-10-25T09:00:00+07:00",
    );
    let poor = send(
        &app,
        &stp,
        "M",
        "STP",
        "2025-11",
        "2025-11-10T09:00:00+07:00",
    );
    send(
        &app,
        &admin,
        "M",
        "STTTT",
        "2025-09",
        "2025-09-15T08:00:00+07:00",
    );
    send(
        &app,
        &admin,
        "M",
        "STTTT",
        "2025-10",
        "2025-10-20T23:59:00+07:00",
    );
    send(
        &app,
        &admin,
        "C",
        "P",
        "2025-12",
        "2025-12-24T10:00:00+07:00",
    );

    // Only the office marks quality, with a reason.
    let mark = format!("/api/v1/reporting-duties/M/submissions/{}", poor["id"]);
    let body = json!({"poorQuality": true, "reason": "Thiếu số liệu biểu II.06a"});
    app.patch(&mark, &stp, &body)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let (_, sttt_office) = app.client("sttt-admin", &["reports:admin"], &["STTTT"]);
    app.patch(&mark, &sttt_office, &body)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let no_reason = app.patch(&mark, &admin, &json!({"poorQuality": true}));
    assert_eq!(no_reason.invalid_names(), ["reason"]);
    let marked = app.patch(&mark, &admin, &body);
    assert_eq!(marked.status, Status::OK, "{}", marked.text);
    assert_eq!(
        marked.body["poorQuality"]["reason"],
        "Thiếu số liệu biểu II.06a"
    );
    assert_eq!(marked.body["poorQuality"]["markedBy"], "admin");

    let r = app.get("/api/v1/reporting-duties/compliance?year=2025", &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let units = r.body["units"].as_array().unwrap();
    let summary: Vec<(String, f64)> = units
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().unwrap().to_owned(),
                u["deduction"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("P".to_owned(), 0.0),
            ("STP".to_owned(), 1.0),
            ("STTTT".to_owned(), 1.0)
        ]
    );
    let stp_m = &units[1]["duties"][0];
    assert_eq!(stp_m["duty"], "M");
    let tally = |d: &Value| {
        ["onTime", "late", "poorQuality", "missing", "pending"].map(|k| d[k].as_u64().unwrap())
    };
    assert_eq!(tally(stp_m), [1, 1, 1, 1, 0]);
    let standings: Vec<&str> = stp_m["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["standing"].as_str().unwrap())
        .collect();
    assert_eq!(standings, ["onTime", "late", "poorQuality", "missing"]);
    assert_eq!(stp_m["reports"][0]["dueOn"], "2025-09-20");
    assert_eq!(
        stp_m["reports"][1]["submittedAt"], "2025-10-21T09:00:00",
        "the first report decides"
    );
    assert_eq!(
        stp_m["reports"][2]["poorQualityReason"],
        "Thiếu số liệu biểu II.06a"
    );
    assert_eq!(tally(&units[2]["duties"][0]), [2, 0, 0, 2, 0]);
    assert_eq!(tally(&units[0]["duties"][0]), [1, 0, 0, 0, 0]);

    // A unit sees its own record only; the list of reports shows the correction too.
    let mine = app.get("/api/v1/reporting-duties/compliance?year=2025", &stp);
    assert_eq!(mine.body["units"].as_array().unwrap().len(), 1);
    let sent = app.get(
        "/api/v1/reporting-duties/M/submissions?period=2025-10",
        &stp,
    );
    assert_eq!(
        sent.body["items"].as_array().unwrap().len(),
        2,
        "its report and its correction; STTTT's is not STP's to see"
    );
    let all = app.get(
        "/api/v1/reporting-duties/M/submissions?period=2025-10",
        &admin,
    );
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);

    // CSV and XLSX: one row per unit and duty, then the totals.
    let csv = app.call_with(
        HttpMethod::GET,
        "/api/v1/reporting-duties/compliance?year=2025",
        Some(&admin),
        None,
        &[("Accept", "text/csv")],
    );
    let rows: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        rows[0],
        "\u{feff}no,unit,name,duty,onTime,late,poorQuality,excused,missing,pending,deduction"
    );
    assert_eq!(rows[2], "2,STP,Đơn vị STP,M,1,1,1,0,1,0,1");
    assert_eq!(rows[4], ",,Tổng cộng,,4,1,1,0,3,0,2");
    let (_, _, bytes) = app.download(
        "/api/v1/reporting-duties/compliance?year=2025&format=xlsx",
        &admin,
        "*/*",
    );
    let sheet = &read_xlsx(&bytes)[0];
    let head = sheet.row_of(0, "STT").unwrap();
    assert_eq!(sheet.at(head, 4), "Số báo cáo");
    assert_eq!(sheet.at(head + 1, 8), "Không gửi");
    assert_eq!(
        (sheet.at(head + 3, 1), sheet.at(head + 3, 10)),
        ("STP", "1")
    );

    // Deductions are configurable: a missing report costing 1 point doubles STTTT's.
    let mut changed = monthly("M", 21, &["STP", "STTTT"], "2025-09");
    changed["deductions"] = json!({"late": 0.25, "poorQuality": 0.25, "missing": 1.0});
    let etag = app
        .get("/api/v1/reporting-duties/M", &admin)
        .header("etag")
        .unwrap()
        .to_owned();
    let put = app.call_with(
        HttpMethod::PUT,
        "/api/v1/reporting-duties/M",
        Some(&admin),
        Some(&changed),
        &[("If-Match", &etag)],
    );
    assert_eq!(put.status, Status::OK, "{}", put.text);
    let stale = app.call_with(
        HttpMethod::PUT,
        "/api/v1/reporting-duties/M",
        Some(&admin),
        Some(&changed),
        &[("If-Match", &etag)],
    );
    stale.assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    let r = app.get(
        "/api/v1/reporting-duties/compliance?year=2025&unit=STTTT",
        &admin,
    );
    assert_eq!(r.body["units"][0]["deduction"], 2.0);
    // Every write is audited.
    let audit = app.get("/api/v1/audit?resourceType=reportSubmission", &admin);
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        8,
        "7 reports and 1 mark"
    );
}

#[test]
fn bad_duties_and_reports_are_refused_by_field_and_nothing_is_stored() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut bad = monthly("M", 30, &["STP"], "2025-09");
    let r = app.post("/api/v1/reporting-duties", &admin, &bad);
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(r.invalid_names(), ["dueBeforeDay"]);
    bad = monthly("bad code", 21, &["STP", "STP"], "2025-Q3");
    bad["deductions"] = json!({"late": 0.25, "poorQuality": 0.25, "missing": -1});
    let r = app.post("/api/v1/reporting-duties", &admin, &bad);
    assert_eq!(
        r.invalid_names(),
        ["code", "firstPeriod", "reporters[1]", "deductions.missing"]
    );
    let r = app.post(
        "/api/v1/reporting-duties",
        &admin,
        &monthly("M", 21, &["STP", "NOPE"], "2025-09"),
    );
    assert_eq!(r.invalid_names(), ["reporters[1]"]);
    let (_, reader) = app.client("reader", &["reports:read", "reports:write"], &["P"]);
    app.post(
        "/api/v1/reporting-duties",
        &reader,
        &monthly("M", 21, &["STP"], "2025-09"),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    assert_eq!(
        app.get("/api/v1/reporting-duties", &admin).body["items"],
        json!([])
    );

    let r = app.post(
        "/api/v1/reporting-duties",
        &admin,
        &monthly("M", 21, &["STP"], "2025-09"),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    app.post(
        "/api/v1/reporting-duties",
        &admin,
        &monthly("M", 21, &["STP"], "2025-09"),
    )
    .assert_problem(Status::CONFLICT, "conflict");
    let future = (Utc::now() + Duration::days(2)).to_rfc3339();
    let r = app.post(
        "/api/v1/reporting-duties/M/submissions",
        &admin,
        &json!({"unit": "STTTT", "period": "2025-Q4", "documentNumber": "1/BC", "submittedAt": future,
                "file": {"name": "a.pdf", "mediaType": "application/pdf", "size": 1, "sha256": "xyz"}}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(
        r.invalid_names(),
        ["period", "submittedAt", "unit", "file.sha256"]
    );
    let early = app.post(
        "/api/v1/reporting-duties/M/submissions",
        &admin,
        &json!({"unit": "STP", "period": "2025-08", "documentNumber": "1/BC", "submittedAt": "2025-08-10T08:00:00+07:00"}),
    );
    assert_eq!(early.invalid_names(), ["period"], "owed from 2025-09");
    let (_, sttt) = app.client("sttt", &["reports:write"], &["STTTT"]);
    app.post(
        "/api/v1/reporting-duties/M/submissions",
        &sttt,
        &json!({"unit": "STP", "period": "2025-09", "documentNumber": "1/BC", "submittedAt": "2025-09-10T08:00:00+07:00"}),
    )
    .assert_problem(Status::NOT_FOUND, "notFound");
    app.post("/api/v1/reporting-duties/NOPE/submissions", &admin, &json!({"unit": "STP", "period": "2025-09", "documentNumber": "1/BC", "submittedAt": "2025-09-10T08:00:00+07:00"}))
        .assert_problem(Status::NOT_FOUND, "notFound");
    assert_eq!(
        app.get("/api/v1/reporting-duties/M/submissions", &admin)
            .body["items"],
        json!([])
    );
    app.get("/api/v1/reporting-duties/compliance?year=1999", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
}

#[test]
fn reports_due_in_the_next_days_leave_the_list_once_sent() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let today = (Utc::now() + Duration::hours(7)).date_naive();
    // Due before the 21st of the month after the month reported on.
    let mut duty = monthly("M", 21, &["STP", "STTTT"], "2020-01");
    duty["dueMonthsAfter"] = json!(1);
    let r = app.post("/api/v1/reporting-duties", &admin, &duty);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    // The months whose report is due (the 20th of the next month) within the next 31 days,
    // worked out here.
    let due: Vec<(String, NaiveDate)> = (0..=31)
        .map(|d| today + Duration::days(d))
        .filter(|d| d.day() == 20)
        .map(|d| {
            let (y, m) = if d.month() == 1 {
                (d.year() - 1, 12)
            } else {
                (d.year(), d.month() - 1)
            };
            (format!("{y}-{m:02}"), d)
        })
        .collect();
    assert!(!due.is_empty());
    let list = app.get("/api/v1/reporting-duties/due?days=31", &admin);
    assert_eq!(list.status, Status::OK, "{}", list.text);
    let items: Vec<(String, String, String, i64)> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["unit"].as_str().unwrap().to_owned(),
                i["period"].as_str().unwrap().to_owned(),
                i["dueOn"].as_str().unwrap().to_owned(),
                i["daysLeft"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String, i64)> = due
        .iter()
        .flat_map(|(p, d)| {
            ["STP", "STTTT"].map(|u| {
                (
                    u.to_owned(),
                    p.clone(),
                    d.to_string(),
                    (*d - today).num_days(),
                )
            })
        })
        .collect();
    assert_eq!(items, expected);
    // STP sends its report: only STTTT still owes it.
    let (period, _) = &due[0];
    send(&app, &admin, "M", "STP", period, &Utc::now().to_rfc3339());
    let list = app.get("/api/v1/reporting-duties/due?days=31&unit=STTTT", &admin);
    assert_eq!(list.body["items"][0]["unit"], "STTTT");
    let list = app.get("/api/v1/reporting-duties/due?days=31&unit=STP", &admin);
    let periods: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["period"].as_str().unwrap())
        .collect();
    assert!(!periods.contains(&period.as_str()), "{periods:?}");
    app.get("/api/v1/reporting-duties/due?days=400", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
}

/// A report and an excuse are checked against the duty as read before they are stored; when
/// the duty is replaced meanwhile (another writer holding it, its version moving) they answer
/// 409 and store nothing, and go through when sent again.
#[test]
fn a_report_or_an_excuse_recorded_while_the_duty_is_replaced_answers_409() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.post(
        "/api/v1/reporting-duties",
        &admin,
        &monthly("M", 21, &["STP"], "2025-09"),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let late = send(
        &app,
        &admin,
        "M",
        "STP",
        "2025-10",
        "2025-10-25T09:00:00+07:00",
    );
    let excuse_path = format!(
        "/api/v1/reporting-duties/M/submissions/{}/excuse",
        late["id"]
    );
    let report = json!({"unit": "STP", "period": "2025-11", "documentNumber": "11/BC-STP",
                        "submittedAt": "2025-11-20T09:00:00+07:00"});
    let excuse = json!({"reason": "the document system was down"});
    // A replacement in flight: on PostgreSQL the duty's lock, on SQLite the write lock; the
    // duty's version moves before it lets go.
    let replacing = || {
        let mut holder = app.hold("SELECT pg_advisory_xact_lock(hashtext('duty:M'))");
        holder
            .batch_execute("UPDATE reporting_duties SET version = version + 1 WHERE code = 'M'")
            .unwrap();
        holder
    };
    for (method, path, body) in [
        (
            HttpMethod::POST,
            "/api/v1/reporting-duties/M/submissions",
            &report,
        ),
        (HttpMethod::PUT, excuse_path.as_str(), &excuse),
    ] {
        let mut holder = replacing();
        std::thread::scope(|s| {
            let sent = s.spawn(|| app.call(method.clone(), path, Some(&admin), Some(body)));
            app.until_requests_wait(1);
            holder.batch_execute("COMMIT").unwrap();
            sent.join()
                .unwrap()
                .assert_problem(Status::CONFLICT, "conflict");
        });
    }
    let listed = app.get("/api/v1/reporting-duties/M/submissions", &admin);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.text);
    assert_eq!(items[0]["excused"], Value::Null);
    // Sent again, on the duty as it now is.
    let r = app.post("/api/v1/reporting-duties/M/submissions", &admin, &report);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let r = app.call(HttpMethod::PUT, &excuse_path, Some(&admin), Some(&excuse));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["excused"]["reason"], "the document system was down");
}

/// A quarterly duty due before the 15th of the month after the quarter, and a yearly one due
/// before 15 January: STP sends Q3 2025 on 14 Oct (its last day: on time) and Q4 on 15 Jan
/// (late), and its 2025 yearly report on 10 Jan; STTTT never sends the yearly report.
#[test]
fn quarterly_and_yearly_duties_fall_due_after_their_period() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let duty = |code: &str, frequency: &str, reporters: &[&str], first: &str| {
        json!({"code": code, "name": code, "frequency": frequency, "dueBeforeDay": 15,
               "dueMonthsAfter": 1, "recipient": "Văn phòng UBND tỉnh", "reporters": reporters,
               "firstPeriod": first})
    };
    for body in [
        duty("Q", "quarterly", &["STP"], "2025-Q3"),
        duty("Y", "yearly", &["STP", "STTTT"], "2025"),
    ] {
        let r = app.post("/api/v1/reporting-duties", &admin, &body);
        assert_eq!(r.status, Status::CREATED, "{}", r.text);
    }
    let monthly = app.post(
        "/api/v1/reporting-duties/Q/submissions",
        &admin,
        &json!({"unit": "STP", "period": "2025-10", "documentNumber": "1/BC", "submittedAt": "2025-10-14T08:00:00+07:00"}),
    );
    assert_eq!(monthly.invalid_names(), ["period"]);
    send(
        &app,
        &admin,
        "Q",
        "STP",
        "2025-Q3",
        "2025-10-14T17:00:00+07:00",
    );
    send(
        &app,
        &admin,
        "Q",
        "STP",
        "2025-Q4",
        "2026-01-15T08:00:00+07:00",
    );
    send(
        &app,
        &admin,
        "Y",
        "STP",
        "2025",
        "2026-01-10T08:00:00+07:00",
    );
    let r = app.get("/api/v1/reporting-duties/compliance?year=2025", &admin);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let units = r.body["units"].as_array().unwrap();
    let stp = &units[0];
    assert_eq!(
        (stp["unit"].as_str(), stp["deduction"].as_f64()),
        (Some("STP"), Some(0.25))
    );
    let reports = |d: &Value| -> Vec<(String, String, String)> {
        d["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["period"].as_str().unwrap().to_owned(),
                    x["dueOn"].as_str().unwrap().to_owned(),
                    x["standing"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let q = stp["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["duty"] == "Q")
        .unwrap();
    assert_eq!(
        reports(q),
        [
            (
                "2025-Q3".to_owned(),
                "2025-10-14".to_owned(),
                "onTime".to_owned()
            ),
            (
                "2025-Q4".to_owned(),
                "2026-01-14".to_owned(),
                "late".to_owned()
            ),
        ]
    );
    let y = stp["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["duty"] == "Y")
        .unwrap();
    assert_eq!(
        reports(y),
        [(
            "2025".to_owned(),
            "2026-01-14".to_owned(),
            "onTime".to_owned()
        )]
    );
    assert_eq!(units[1]["unit"], "STTTT");
    assert_eq!(units[1]["deduction"], 0.5);
    assert_eq!(reports(&units[1]["duties"][0])[0].2, "missing");
}
