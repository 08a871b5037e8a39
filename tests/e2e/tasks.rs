//! Tasks assigned by letter (seeds `001_…`, `002_…`), each unit's part judged on its own on the
//! seeds' dates, the notice's explanation list as a task (seed `004_…`), a target's figure from
//! the 766 index, grants, the feed, and the yearly record beside the reporting duties.

use base64::Engine as _;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp, read_xlsx};

use crate::procedures::seed;
use crate::scores::province;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Seed `002_…`'s plan (letter 3512, 25 Aug 2023): clean the catalogue before 20/10/2023 (the
/// province office, P), cut at least 20% of the declared information before 15/9/2023 (STP
/// and STTTT).
fn plan() -> Value {
    json!({
        "source": {"number": "3512/UBND-KSTT", "date": "2023-08-25", "signer": "Chủ tịch UBND tỉnh",
                   "title": "Kế hoạch cải cách TTHC năm 2023"},
        "tasks": [
            {"key": "3512#2", "text": "Rà soát, làm sạch toàn bộ TTHC trên Cơ sở dữ liệu quốc gia về TTHC",
             "dueBefore": "2023-10-20", "units": ["P"]},
            {"key": "3512#3", "text": "Cắt giảm thông tin phải khai báo khi thực hiện dịch vụ công trực tuyến",
             "dueBefore": "2023-09-15", "units": ["STP", "STTTT"],
             "target": {"text": "Cắt giảm ít nhất 20% thông tin phải khai báo", "atLeast": 20.0}}
        ]
    })
}

fn count_tasks(app: &TestApp, token: &str) -> usize {
    let r = app.get("/api/v1/tasks", token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().len()
}

fn part<'a>(task: &'a Value, unit: &str) -> &'a Value {
    task["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["unit"] == unit)
        .unwrap_or_else(|| panic!("no part of {unit} in {task}"))
}

fn put_part(
    app: &TestApp,
    token: &str,
    task: &Value,
    unit: &str,
    body: &Value,
) -> tthc_tests::Reply {
    app.call(
        HttpMethod::PUT,
        &format!("/api/v1/tasks/{}/parts/{unit}", task["id"]),
        Some(token),
        Some(body),
    )
}

fn done(number: &str, date: &str) -> Value {
    json!({"state": "done", "evidence": {"documentNumber": number, "date": date,
           "file": {"name": "bao-cao.pdf", "mediaType": "application/pdf", "size": 120331}}})
}

#[test]
fn a_letters_tasks_are_imported_and_each_units_part_judged_on_the_seeds_dates() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let (_, office) = app.client(
        "office",
        &["tasks:read", "tasks:write", "tasks:admin", "changes:read"],
        &["P"],
    );
    let (_, stp) = app.client(
        "stp",
        &["tasks:read", "tasks:write", "changes:read"],
        &["STP"],
    );

    // Refused whole, every problem named, nothing stored.
    let mut bad = plan();
    bad["tasks"][0]["dueBefore"] = json!("2023-08-01");
    bad["tasks"][1]["units"] = json!(["STP", "NOPE", "STP"]);
    bad["tasks"][1]["key"] = json!("3512#2");
    // The key of a notice's explanations, taken before they are asked for, would stand in for
    // them (`POST /tasks/explanations` answered with this task).
    let mut third = plan()["tasks"][0].clone();
    third["key"] = json!("explanations:P:2023-08");
    bad["tasks"].as_array_mut().unwrap().push(third);
    let r = app.post("/api/v1/tasks/import", &admin, &bad);
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(
        r.invalid_names(),
        [
            "tasks[0].dueBefore",
            "tasks[2].key",
            "tasks[1].units[1]",
            "tasks[1].units[2]",
            "tasks[1].key"
        ],
        "{}",
        r.text
    );
    assert_eq!(count_tasks(&app, &admin), 0);
    // A unit client cannot assign; a unit-limited office cannot assign outside its grant.
    let r = app.post("/api/v1/tasks/import", &stp, &plan());
    r.assert_problem(Status::FORBIDDEN, "insufficientScope");
    let (_, stp_office) = app.client("stp-office", &["tasks:read", "tasks:admin"], &["STP"]);
    let r = app.post("/api/v1/tasks/import", &stp_office, &plan());
    assert_eq!(
        r.invalid_names(),
        ["tasks[0].units[0]", "tasks[1].units[1]"],
        "{}",
        r.text
    );
    assert_eq!(count_tasks(&app, &admin), 0);

    let r = app.post("/api/v1/tasks/import", &office, &plan());
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let items = r.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    let (clean, cut) = (&items[0], &items[1]);
    assert_eq!(clean["lastDay"], "2023-10-19");
    assert_eq!(clean["source"]["number"], "3512/UBND-KSTT");
    assert_eq!(part(clean, "P")["state"], "open");
    // Long past its deadline (today is after 2023): overdue.
    assert_eq!(part(clean, "P")["standing"], "overdue");
    assert_eq!(cut["parts"].as_array().unwrap().len(), 2);

    // Importing the letter again is refused by its keys; nothing more is stored.
    let again = app.post("/api/v1/tasks/import", &office, &plan());
    again.assert_problem(Status::CONFLICT, "conflict");
    assert_eq!(again.invalid_names(), ["tasks[0].key"], "{}", again.text);
    assert_eq!(count_tasks(&app, &admin), 2);

    // STP sees only its part of the cut, not the catalogue task.
    let mine = app.get("/api/v1/tasks", &stp);
    assert_eq!(mine.status, Status::OK, "{}", mine.text);
    let mine = mine.body["items"].as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["parts"].as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["parts"][0]["unit"], "STP");
    app.get(&format!("/api/v1/tasks/{}", clean["id"]), &stp)
        .assert_problem(Status::NOT_FOUND, "notFound");
    // …cannot record another unit's part, nor cancel its own.
    put_part(&app, &stp, cut, "STTTT", &done("1/BC", "2023-09-10"))
        .assert_problem(Status::NOT_FOUND, "notFound");
    put_part(
        &app,
        &stp,
        cut,
        "STP",
        &json!({"state": "cancelled", "reason": "x"}),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    // Done needs evidence; evidence is not dated before the letter.
    let r = put_part(&app, &stp, cut, "STP", &json!({"state": "done"}));
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["evidence"]);
    let r = put_part(&app, &stp, cut, "STP", &done("1/BC", "2023-08-01"));
    assert_eq!(r.invalid_names(), ["evidence.date"], "{}", r.text);

    // STP reports on 14/9: the last day before "trước ngày 15/9/2023", on time, with the
    // figure it reached. STTTT reports on 15/9: the day the letter names, late.
    let mut on_time = done("215/BC-STP", "2023-09-14");
    on_time["evidence"]["figure"] = json!(23.5);
    let r = put_part(&app, &stp, cut, "STP", &on_time);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(part(&r.body, "STP")["standing"], "done");
    assert_eq!(part(&r.body, "STP")["evidence"]["figure"], 23.5);
    let etag = part(&r.body, "STP")["etag"].as_str().unwrap().to_owned();
    // The answer's ETag is the task's, as GET gives it; the part has its own.
    let task_tag = app.get(&format!("/api/v1/tasks/{}", cut["id"]), &stp);
    assert_eq!(r.header("etag"), task_tag.header("etag"));
    // Done, the part is the office's to change: STP cannot redate its evidence.
    let r = put_part(&app, &stp, cut, "STP", &done("216/BC-STP", "2023-09-13"));
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(r.invalid_names(), ["state"]);
    let r = put_part(
        &app,
        &office,
        cut,
        "STTTT",
        &done("88/BC-STTTT", "2023-09-15"),
    );
    assert_eq!(part(&r.body, "STTTT")["standing"], "doneLate", "{}", r.text);
    // A stale write of STP's part is refused; with the part's etag it goes through.
    let with_tag = |tag: &str| {
        app.call_with(
            HttpMethod::PUT,
            &format!("/api/v1/tasks/{}/parts/STP", cut["id"]),
            Some(&office),
            Some(&on_time),
            &[("If-Match", tag)],
        )
    };
    with_tag("\"1\"").assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");
    let r = with_tag(&etag);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_ne!(part(&r.body, "STP")["etag"], json!(etag));
    // The office cancels the catalogue part: it no longer counts.
    let r = put_part(
        &app,
        &office,
        clean,
        "P",
        &json!({"state": "cancelled", "reason": "Giao Sở Thông tin và Truyền thông chủ trì"}),
    );
    assert_eq!(part(&r.body, "P")["standing"], "cancelled", "{}", r.text);

    // Seed 001: report by "trước ngày 15/9/2024"; STTTT never does.
    let r = app.post(
        "/api/v1/tasks",
        &office,
        &json!({"source": {"number": "1826/VP-KSTT", "date": "2024-09-06", "signer": "Phó Chánh Văn phòng"},
                "text": "Báo cáo kết quả rà soát TTHC chưa được địa phương hóa",
                "dueBefore": "2024-09-15", "units": ["STTTT"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let report = r.body.clone();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/tasks/{}", report["id"])
    );
    let overdue = app.get("/api/v1/tasks/overdue", &office);
    assert_eq!(overdue.status, Status::OK, "{}", overdue.text);
    let lines = overdue.body["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{}", overdue.text);
    assert_eq!(lines[0]["unit"], "STTTT");
    assert_eq!(lines[0]["lastDay"], "2024-09-14");
    let today =
        chrono::NaiveDate::parse_from_str(overdue.body["asOf"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    let expected = (chrono::NaiveDate::from_ymd_opt(2024, 9, 14).unwrap() - today).num_days();
    assert_eq!(lines[0]["daysLeft"], expected);
    // STP has nothing overdue.
    let r = app.get("/api/v1/tasks/overdue", &stp);
    assert_eq!(r.body["items"], json!([]));

    // A reminder: a task due in five days is in the week's list, not in the next three days'.
    let due_before = (Utc::now() + Duration::hours(7)).date_naive() + Duration::days(5);
    let r = app.post(
        "/api/v1/tasks",
        &office,
        &json!({"source": {"number": "9/VP", "date": "2024-01-02", "signer": "Chánh Văn phòng"},
                "text": "Báo cáo nhanh", "dueBefore": due_before, "units": ["STP"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let week = app.get("/api/v1/tasks/due?days=7", &stp);
    assert_eq!(week.status, Status::OK, "{}", week.text);
    assert_eq!(
        week.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        week.text
    );
    assert_eq!(week.body["items"][0]["daysLeft"], 4);
    let soon = app.get("/api/v1/tasks/due?days=3", &stp);
    assert_eq!(soon.body["items"], json!([]));

    // The year 2023, by unit: STP on time, STTTT late, P cancelled.
    let c = app.get("/api/v1/tasks/compliance?year=2023", &office);
    assert_eq!(c.status, Status::OK, "{}", c.text);
    let by_unit = |u: &str| {
        c.body["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit"] == u)
            .unwrap()["tasks"]
            .clone()
    };
    assert_eq!(
        by_unit("STP"),
        json!({"assigned": 1, "done": 1, "doneLate": 0, "overdue": 0, "open": 0, "cancelled": 0, "onTimeRate": 100.0})
    );
    assert_eq!(by_unit("STTTT")["doneLate"], 1);
    assert_eq!(by_unit("STTTT")["onTimeRate"], 0.0);
    assert_eq!(by_unit("P")["cancelled"], 1);
    assert_eq!(by_unit("P")["onTimeRate"], Value::Null);
    // STP's own view holds only STP.
    let c = app.get("/api/v1/tasks/compliance?year=2023", &stp);
    let units: Vec<&str> = c.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["STP"]);
    // As a workbook and CSV.
    let (status, _, bytes) = app.download("/api/v1/tasks/compliance?year=2023", &office, XLSX);
    assert_eq!(status, Status::OK);
    let book = read_xlsx(&bytes);
    let sheet = &book[0];
    let row = sheet.row_of(1, "STTTT").unwrap();
    assert_eq!(sheet.at(row, 5), "1", "done late");
    let (status, _, csv) = app.download("/api/v1/tasks?year=2023", &office, "text/csv");
    assert_eq!(status, Status::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("215/BC-STP"), "{csv}");
    assert!(csv.contains("doneLate"), "{csv}");

    // Filters: the parts that stand overdue today.
    let r = app.get("/api/v1/tasks?standing=overdue", &office);
    let ids: Vec<&Value> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["id"])
        .collect();
    assert_eq!(ids, [&report["id"]]);
    app.get("/api/v1/tasks?standing=late", &office)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");

    // A letter extends the deadline: STTTT's report is then on time.
    let r = app.patch(
        &format!("/api/v1/tasks/{}", cut["id"]),
        &office,
        &json!({"dueBefore": "2023-09-30"}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(part(&r.body, "STTTT")["standing"], "done");

    // "trước ngày 1/1/2025" is last done on 31 December: it counts in 2024, not 2025.
    let r = app.post(
        "/api/v1/tasks",
        &office,
        &json!({"source": {"number": "2000/VP", "date": "2024-12-01", "signer": "Chánh Văn phòng"},
                "text": "Tổng kết năm", "dueBefore": "2025-01-01", "units": ["STP"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let in_year = |year: i32| {
        app.get(
            &format!("/api/v1/tasks/compliance?year={year}&unit=STP"),
            &office,
        )
        .body["units"][0]["tasks"]["assigned"]
            .clone()
    };
    assert_eq!((in_year(2024), in_year(2025)), (json!(1), Value::Null));

    // The feed tells STP of its own parts only, the deadline's move included. On PostgreSQL a
    // change shows once every older transaction has ended (any test's): wait for the last.
    let started = std::time::Instant::now();
    let feed = loop {
        let feed = app.get("/api/v1/changes?type=taskPart", &stp);
        assert_eq!(feed.status, Status::OK, "{}", feed.text);
        let seen = feed.body["items"].as_array().map_or(0, Vec::len);
        if seen >= 6 || started.elapsed() > std::time::Duration::from_secs(20) {
            break feed;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let units: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unit"].as_str().unwrap_or(""))
        .collect();
    // The cut: assigned, done, redone by the office, its deadline moved; the reminder's task
    // and the year-end task assigned.
    assert_eq!(units.len(), 6, "{}", feed.text);
    assert!(units.iter().all(|u| *u == "STP"), "{units:?}");

    // `null` removes a target; a field left out stays.
    let path = format!("/api/v1/tasks/{}", cut["id"]);
    let r = app.patch(
        &path,
        &office,
        &json!({"text": "Cắt giảm thông tin phải khai báo"}),
    );
    assert_eq!(r.body["target"]["atLeast"], 20.0, "{}", r.text);
    let r = app.patch(&path, &office, &json!({"target": null}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["target"], Value::Null);
    assert_eq!(r.body["dueBefore"], "2023-09-30");
}

/// The notice of March 2026 for the hand-built province (`scores::province`): STP had a
/// dossier resolved late and one overdue, so it owes an explanation before 17 April; STTTT's
/// one dossier was on time. A target on ON_TIME_PROCESSING for March reads each unit's ratio.
#[test]
fn the_notices_explanations_become_a_task_and_a_target_reads_the_index() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let source = json!({"number": "512/TB-VP", "date": "2026-04-08", "signer": "Chánh Văn phòng"});
    let r = app.post(
        "/api/v1/tasks/explanations",
        &admin,
        &json!({"unit": "P", "period": "2026-03", "source": source}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let task = r.body;
    assert_eq!(task["kind"], "explanation");
    assert_eq!(task["dueBefore"], "2026-04-17");
    assert_eq!(task["key"], "explanations:P:2026-03");
    let units: Vec<&str> = task["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["STP"]);
    assert_eq!(
        part(&task, "STP")["note"],
        "1 hồ sơ giải quyết quá hạn, 1 hồ sơ đang quá hạn"
    );
    // Asked again: the same task.
    let again = app.post(
        "/api/v1/tasks/explanations",
        &admin,
        &json!({"unit": "P", "period": "2026-03", "source": source}),
    );
    assert_eq!(again.status, Status::OK, "{}", again.text);
    assert_eq!(again.body["id"], task["id"]);
    // February had no late dossier: nothing to explain.
    app.post(
        "/api/v1/tasks/explanations",
        &admin,
        &json!({"unit": "P", "period": "2026-02", "source": source}),
    )
    .assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    // The explanation arrives on 16 April: on time.
    let r = put_part(&app, &admin, &task, "STP", &done("77/BC-STP", "2026-04-16"));
    assert_eq!(part(&r.body, "STP")["standing"], "done", "{}", r.text);

    // A target tthc measures: 100% on time in March.
    let bad = app.post(
        "/api/v1/tasks",
        &admin,
        &json!({"source": source, "text": "100% hồ sơ giải quyết đúng hạn", "dueBefore": "2026-05-01",
                "units": ["STP"], "target": {"text": "100%", "indicator": "NOPE", "period": "2026-03"}}),
    );
    assert_eq!(bad.invalid_names(), ["target.indicator"], "{}", bad.text);
    let r = app.post(
        "/api/v1/tasks",
        &admin,
        &json!({"source": source, "text": "100% hồ sơ giải quyết đúng hạn", "dueBefore": "2026-05-01",
                "units": ["STP", "STTTT"],
                "target": {"text": "100% hồ sơ giải quyết đúng hạn", "indicator": "ON_TIME_PROCESSING",
                           "period": "2026-03", "atLeast": 100.0}}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let ratio_of = |unit: &str| {
        let s = app.get(&format!("/api/v1/units/{unit}/scores/2026-03"), &admin);
        s.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["indicators"].as_array().unwrap().clone())
            .find(|i| i["code"] == "ON_TIME_PROCESSING")
            .unwrap()["ratio"]
            .clone()
    };
    assert_eq!(part(&r.body, "STTTT")["figure"]["ratio"], ratio_of("STTTT"));
    assert_eq!(part(&r.body, "STTTT")["figure"]["met"], true);
    assert_eq!(part(&r.body, "STP")["figure"]["ratio"], ratio_of("STP"));
    assert_eq!(part(&r.body, "STP")["figure"]["met"], false);
}

/// One-off report requests (seed `001_…`: reports due 12/9, 15/9, 18/9 and 23/9/2024) judged
/// like periodic ones, and a late report excused by the office (seed `003_…`).
#[test]
fn one_off_requests_are_judged_and_an_excused_delay_costs_nothing() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let once = |code: &str, due: &str| {
        json!({"code": code, "name": format!("Báo cáo {code}"), "frequency": "once", "dueOn": due,
               "recipient": "Văn phòng UBND tỉnh", "reporters": ["STP", "STTTT"]})
    };
    // A one-off request has a due day and no periodic fields.
    let mut bad = once("X", "2024-09-14");
    bad["dueBeforeDay"] = json!(21);
    let r = app.post("/api/v1/reporting-duties", &admin, &bad);
    assert_eq!(r.invalid_names(), ["dueBeforeDay"], "{}", r.text);
    let r = app.post(
        "/api/v1/reporting-duties",
        &admin,
        &json!({"code": "Y", "name": "Y", "frequency": "once", "recipient": "VP", "reporters": ["STP"]}),
    );
    assert_eq!(r.invalid_names(), ["dueOn"], "{}", r.text);
    // "trước ngày 15/9/2024": the last day on time is the 14th; "trước ngày 18/9": the 17th.
    for (code, due) in [("R15", "2024-09-14"), ("R18", "2024-09-17")] {
        let r = app.post("/api/v1/reporting-duties", &admin, &once(code, due));
        assert_eq!(r.status, Status::CREATED, "{}", r.text);
        assert_eq!(r.body["dueOn"], due);
        assert_eq!(r.body["firstPeriod"], Value::Null);
    }
    let send = |duty: &str, unit: &str, at: &str| {
        let r = app.post(
            &format!("/api/v1/reporting-duties/{duty}/submissions"),
            &admin,
            &json!({"unit": unit, "documentNumber": format!("{duty}/BC-{unit}"), "submittedAt": at}),
        );
        assert_eq!(r.status, Status::CREATED, "{}", r.text);
        r.body
    };
    // R15: STP on the 14th (on time), STTTT on the 16th (late, then excused: the document
    // system was down). R18: STP on the 18th (late), STTTT never (missing).
    send("R15", "STP", "2024-09-14T16:00:00+07:00");
    let late = send("R15", "STTTT", "2024-09-16T09:00:00+07:00");
    assert_eq!(late["period"], "2024-09-14");
    let stp_late = send("R18", "STP", "2024-09-18T08:00:00+07:00");
    // A period on a one-off request is refused.
    let r = app.post(
        "/api/v1/reporting-duties/R15/submissions",
        &admin,
        &json!({"unit": "STP", "period": "2024-09", "documentNumber": "1", "submittedAt": "2024-09-14T16:00:00+07:00"}),
    );
    assert_eq!(r.invalid_names(), ["period"], "{}", r.text);
    // …and so is a report dated more than a year before the request fell due.
    let r = app.post(
        "/api/v1/reporting-duties/R15/submissions",
        &admin,
        &json!({"unit": "STP", "documentNumber": "1", "submittedAt": "1990-09-14T16:00:00+07:00"}),
    );
    assert_eq!(r.invalid_names(), ["submittedAt"], "{}", r.text);
    // Its reports are filed under its due day: it cannot move while some are recorded.
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/reporting-duties/R15",
        Some(&admin),
        Some(&once("R15", "2024-09-20")),
    );
    assert_eq!(r.invalid_names(), ["dueOn"], "{}", r.text);

    let excuse =
        |duty: &str, id: &Value| format!("/api/v1/reporting-duties/{duty}/submissions/{id}/excuse");
    let reason = json!({"reason": "Hệ thống quản lý văn bản gián đoạn ngày 13–15/9/2024"});
    // Only the office excuses; an on-time report has nothing to excuse.
    let (_, stp) = app.client("stp", &["reports:read", "reports:write"], &["STP"]);
    app.call(
        HttpMethod::PUT,
        &excuse("R15", &late["id"]),
        Some(&stp),
        Some(&reason),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let on_time = app.get("/api/v1/reporting-duties/R15/submissions?unit=STP", &admin);
    let on_time_id = on_time.body["items"][0]["id"].clone();
    let r = app.call(
        HttpMethod::PUT,
        &excuse("R15", &on_time_id),
        Some(&admin),
        Some(&reason),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let r = app.call(
        HttpMethod::PUT,
        &excuse("R15", &late["id"]),
        Some(&admin),
        Some(&reason),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["excused"]["reason"], reason["reason"]);

    let judged = |token: &str| {
        let c = app.get("/api/v1/reporting-duties/compliance?year=2024", token);
        assert_eq!(c.status, Status::OK, "{}", c.text);
        c.body
    };
    let c = judged(&admin);
    let duty_of = |c: &Value, unit: &str, duty: &str| {
        c["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == unit)
            .unwrap()["duties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["duty"] == duty)
            .unwrap()
            .clone()
    };
    let sttt_r15 = duty_of(&c, "STTTT", "R15");
    assert_eq!(sttt_r15["reports"][0]["standing"], "excused");
    assert_eq!(
        (sttt_r15["excused"].clone(), sttt_r15["deduction"].clone()),
        (json!(1), json!(0.0))
    );
    assert_eq!(
        duty_of(&c, "STTTT", "R18")["reports"][0]["standing"],
        "missing"
    );
    assert_eq!(
        duty_of(&c, "STP", "R15")["reports"][0]["standing"],
        "onTime"
    );
    assert_eq!(duty_of(&c, "STP", "R18")["reports"][0]["standing"], "late");
    // STP: 0.25 (late); STTTT: 0 (excused) + 0.5 (missing).
    let total = |c: &Value, unit: &str| {
        c["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == unit)
            .unwrap()["deduction"]
            .clone()
    };
    assert_eq!(total(&c, "STP"), 0.25);
    assert_eq!(total(&c, "STTTT"), 0.5);
    // The tasks' yearly record carries the same reports beside the tasks.
    let (_, office) = app.client("office", &["tasks:read"], &["P"]);
    let t = app.get("/api/v1/tasks/compliance?year=2024", &office);
    let sttt = t.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "STTTT")
        .unwrap()
        .clone();
    assert_eq!(sttt["reports"]["excused"], 1);
    assert_eq!(sttt["reports"]["deduction"], 0.5);
    assert_eq!(sttt["tasks"]["assigned"], 0);
    // Withdrawn, the excuse no longer covers the delay.
    let r = app.call(
        HttpMethod::DELETE,
        &excuse("R15", &late["id"]),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["excused"], Value::Null);
    assert_eq!(total(&judged(&admin), "STTTT"), 0.75);
    // Only the first report of a request is judged, so only it can be excused.
    let second = send("R18", "STP", "2024-09-19T08:00:00+07:00");
    let r = app.call(
        HttpMethod::PUT,
        &excuse("R18", &second["id"]),
        Some(&admin),
        Some(&reason),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    let r = app.call(
        HttpMethod::PUT,
        &excuse("R18", &stp_late["id"]),
        Some(&admin),
        Some(&reason),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(total(&judged(&admin), "STP"), 0.0);
}

#[test]
fn two_changes_of_one_task_in_flight_are_both_kept() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.post(
        "/api/v1/tasks",
        &admin,
        &json!({"source": {"number": "1826/VP-KSTT", "date": "2024-09-06", "signer": "Phó Chánh Văn phòng"},
                "text": "Báo cáo kết quả rà soát", "dueBefore": "2024-09-15", "units": ["STTTT"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let path = format!("/api/v1/tasks/{}", r.body["id"]);
    // Two changes at once, while a third writer holds the task (its row on PostgreSQL, the
    // write lock on SQLite): one rewords it, the other moves its deadline. Neither carries
    // If-Match, so each applies to the task as it is when it is written.
    let answers = app.both_while_held(
        &format!("SELECT 1 FROM tasks WHERE id = {} FOR UPDATE", r.body["id"]),
        || {
            app.patch(
                &path,
                &admin,
                &json!({"text": "Báo cáo kết quả rà soát, lần 2"}),
            )
        },
        || app.patch(&path, &admin, &json!({"dueBefore": "2024-09-20"})),
    );
    for r in answers {
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
    let got = app.get(&path, &admin);
    assert_eq!(
        (
            &got.body["text"],
            &got.body["dueBefore"],
            got.header("etag")
        ),
        (
            &json!("Báo cáo kết quả rà soát, lần 2"),
            &json!("2024-09-20"),
            Some("\"3\"")
        ),
        "{}",
        got.text
    );
}

/// `GET /tasks` is keyset-paginated like every list: pages by deadline then id, whatever the
/// filters, and the spreadsheets hold the whole list.
#[test]
fn the_task_list_comes_in_pages_by_deadline() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // Seven tasks on three deadlines, not in the order imported (ids): deadlines tie, ids do
    // not. By deadline then id: 1, 2, 5 (20 October), 0, 4 (21), 3, 6 (22).
    let days = [21, 20, 20, 22, 21, 20, 22];
    let tasks: Vec<Value> = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            json!({"key": format!("P#{i}"), "text": format!("Nhiệm vụ {i}"),
                   "dueBefore": format!("2023-10-{day}"),
                   "units": if i % 3 == 0 { json!(["STP"]) } else { json!(["P"]) }})
        })
        .collect();
    let mut letter = plan();
    letter["tasks"] = json!(tasks);
    let r = app.post("/api/v1/tasks/import", &admin, &letter);
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let keys = |items: &Value| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut seen = Vec::new();
    let mut url = "/api/v1/tasks?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let r = app.get(&url, &admin);
        assert_eq!(r.status, Status::OK, "{}", r.text);
        assert!(r.body["items"].as_array().unwrap().len() <= 3, "{}", r.text);
        seen.extend(keys(&r.body["items"]));
        pages += 1;
        match r.body["nextCursor"].as_str() {
            Some(c) => url = format!("/api/v1/tasks?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["P#1", "P#2", "P#5", "P#0", "P#4", "P#3", "P#6"]);
    // A filter pages the same way: STP's three (0, 3, 6), two then one.
    let first = app.get("/api/v1/tasks?unit=STP&limit=2", &admin);
    assert_eq!(keys(&first.body["items"]), ["P#0", "P#3"], "{}", first.text);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = app.get(
        &format!("/api/v1/tasks?unit=STP&limit=2&standing=overdue&cursor={cursor}"),
        &admin,
    );
    assert_eq!(keys(&second.body["items"]), ["P#6"], "{}", second.text);
    assert_eq!(second.body["nextCursor"], Value::Null);
    // The default page holds them all; a spreadsheet too, whatever the limit.
    assert_eq!(count_tasks(&app, &admin), 7);
    let (status, _, csv) = app.download("/api/v1/tasks?limit=1", &admin, "text/csv");
    assert_eq!(status, Status::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("Nhiệm vụ 0") && csv.contains("Nhiệm vụ 6"),
        "{csv}"
    );
    // Cursors this list never made: garbage, another list's (the audit trail's), and a
    // petition list's instant and code.
    let made = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let audit = app.get("/api/v1/audit?limit=1", &admin);
    let foreign = audit.body["nextCursor"].as_str().unwrap().to_owned();
    for cursor in [
        "not-a-cursor".to_owned(),
        foreign,
        made("k:2023-10-20T08:00:00|PAKN-1"),
    ] {
        let r = app.get(&format!("/api/v1/tasks?cursor={cursor}"), &admin);
        r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
        assert_eq!(r.invalid_names(), ["cursor"], "{cursor}: {}", r.text);
    }
    app.get("/api/v1/tasks?limit=0", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
}
