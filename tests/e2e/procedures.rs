//! The procedure catalogue: versions, completeness, search, drafts, bulk import, localization.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Reply, Status, TestApp};

pub fn content(name: &str, field: &str, level: &str, unit: &str, with_fees: bool) -> Value {
    json!({
        "name": name, "field": field, "levels": [level], "handlingUnits": [unit],
        "timeLimit": {"amount": 3, "measure": "workingDays"},
        "fees": if with_fees { json!([{"name": "Lệ phí", "amountVnd": 50000, "feeType": "charge"}]) } else { Value::Null },
        "channels": ["inPerson", "online"], "onlineLevel": "partial",
        "components": [{"name": "Tờ khai", "required": true, "copies": 1}],
        "result": {"name": "Kết quả", "paper": true, "electronic": true},
        "legalBasis": ["Luật"], "targetSubjects": ["Công dân"], "steps": ["Nộp hồ sơ", "Trả kết quả"]
    })
}

/// P (province) ─┬─ STP (Sở Tư pháp) ─ C1 (commune)
///               └─ STTTT (Sở Thông tin và Truyền thông)
/// Fields HT and XB; procedures 1.000001 (national, HT, commune level, complete),
/// 1.000001.P (its localized copy), 1.000002 (national, XB, province level, no fees stated).
pub fn seed(app: &TestApp) -> String {
    let admin = app.admin_token();
    app.unit("P", "province", None);
    app.unit("STP", "department", Some("P"));
    app.unit("C1", "commune", Some("STP"));
    app.unit("STTTT", "department", Some("P"));
    for (code, name) in [("HT", "Hộ tịch"), ("XB", "Xuất bản")] {
        let r = app.call(
            HttpMethod::PUT,
            &format!("/api/v1/fields/{code}"),
            Some(&admin),
            Some(&json!({"name": name})),
        );
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
    let put = |code: &str, body: Value| {
        let r = app.call(
            HttpMethod::PUT,
            &format!("/api/v1/procedures/{code}"),
            Some(&admin),
            Some(&body),
        );
        assert_eq!(r.status, Status::CREATED, "{code}: {}", r.text);
    };
    put(
        "1.000001",
        json!({"content": content("Đăng ký khai sinh", "HT", "commune", "C1", true),
        "validFrom": "2024-01-01", "decision": "1/QĐ-BTP", "publishedOn": "2024-01-10"}),
    );
    put(
        "1.000001.P",
        json!({"content": content("Đăng ký khai sinh", "HT", "commune", "C1", true),
        "validFrom": "2024-01-15", "decision": "10/QĐ-UBND", "publishedOn": "2024-01-20"}),
    );
    put(
        "1.000002",
        json!({"content": content("Cấp giấy phép xuất bản bản tin", "XB", "province", "STTTT", false),
        "validFrom": "2024-01-01", "decision": "2/QĐ-BTTTT", "publishedOn": "2024-01-10"}),
    );
    admin
}

/// The codes of a list's items (a list that failed has none: the test fails).
pub fn codes(r: &Reply) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect()
}

fn public(app: &TestApp, path: &str) -> Reply {
    app.call(HttpMethod::GET, path, None, None)
}

#[test]
fn the_published_catalogue_is_public_filtered_and_searchable() {
    let app = TestApp::spawn();
    seed(&app);
    let on = "validOn=2024-06-01";
    assert_eq!(
        codes(&public(&app, &format!("/api/v1/procedures?{on}"))),
        ["1.000001", "1.000001.P", "1.000002"]
    );
    assert_eq!(
        codes(&public(
            &app,
            &format!("/api/v1/procedures?{on}&q=dang%20ky%20khai%20sinh")
        )),
        ["1.000001", "1.000001.P"]
    );
    assert_eq!(
        codes(&public(
            &app,
            &format!("/api/v1/procedures?{on}&q=XU%E1%BA%A4T%20B%E1%BA%A2N")
        )),
        ["1.000002"],
        "ignores case and marks"
    );
    assert_eq!(
        codes(&public(&app, &format!("/api/v1/procedures?{on}&field=XB"))),
        ["1.000002"]
    );
    assert_eq!(
        codes(&public(
            &app,
            &format!("/api/v1/procedures?{on}&level=commune")
        )),
        ["1.000001", "1.000001.P"]
    );
    assert_eq!(
        codes(&public(&app, &format!("/api/v1/procedures?{on}&unit=STP"))),
        ["1.000001", "1.000001.P"],
        "C1 is below STP"
    );
    assert_eq!(
        codes(&public(
            &app,
            &format!("/api/v1/procedures?{on}&localized=true")
        )),
        ["1.000001.P"]
    );
    assert_eq!(
        codes(&public(
            &app,
            &format!("/api/v1/procedures?{on}&onlineLevel=partial&limit=2")
        ))
        .len(),
        2
    );
    assert_eq!(
        codes(&public(&app, "/api/v1/procedures?validOn=2023-12-31")),
        Vec::<String>::new(),
        "not in force yet"
    );

    let incomplete = public(&app, &format!("/api/v1/procedures?{on}&complete=false"));
    assert_eq!(codes(&incomplete), ["1.000002"]);
    assert_eq!(incomplete.body["items"][0]["missing"], json!(["fees"]));
    assert_eq!(incomplete.body["items"][0]["status"], "published");

    let csv = Reply::from(
        app.raw()
            .get(app.url(&format!("/api/v1/procedures?{on}&complete=false")))
            .header("Accept", "text/csv")
            .send()
            .unwrap(),
    );
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.text.starts_with('\u{feff}'), "UTF-8 BOM for Excel");
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "code,name,field,status,localized,validFrom,decision,complete,missing"
    );
    assert_eq!(
        lines[1],
        "1.000002,Cấp giấy phép xuất bản bản tin,XB,published,false,2024-01-01,2/QĐ-BTTTT,false,fees"
    );
}

#[test]
fn amendments_make_versions_and_identical_writes_change_nothing() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let amended = json!({"content": content("Đăng ký khai sinh (sửa đổi)", "HT", "commune", "C1", true),
        "validFrom": "2025-07-01", "decision": "99/QĐ-UBND", "publishedOn": "2024-01-20"});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000001.P",
        Some(&admin),
        Some(&amended),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["versionSeq"], 2);
    let again = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000001.P",
        Some(&admin),
        Some(&amended),
    );
    assert_eq!(again.status, Status::OK);
    assert_eq!(
        again.body["version"], r.body["version"],
        "unchanged: no new row version"
    );

    let versions = public(&app, "/api/v1/procedures/1.000001.P/versions");
    let items = versions.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["validFrom"].as_str(), items[0]["validTo"].as_str()),
        (Some("2024-01-15"), Some("2025-06-30"))
    );
    assert_eq!(
        (
            items[1]["validFrom"].as_str(),
            items[1]["decision"].as_str()
        ),
        (Some("2025-07-01"), Some("99/QĐ-UBND"))
    );
    assert_eq!(
        public(&app, "/api/v1/procedures/1.000001.P?validOn=2025-06-30").body["content"]["name"],
        "Đăng ký khai sinh"
    );
    assert_eq!(
        public(&app, "/api/v1/procedures/1.000001.P?validOn=2025-07-01").body["content"]["name"],
        "Đăng ký khai sinh (sửa đổi)"
    );
    // The tag names the content shown with the row version: a tag read while the first
    // version was in force is not current once the second is (until 2026-12-07 both days had
    // the same tag, and the later one answered 304 with the old content).
    let version = r.body["version"].as_i64().unwrap();
    let earlier = public(&app, "/api/v1/procedures/1.000001.P?validOn=2025-06-30");
    let tag = earlier.header("etag").unwrap().to_owned();
    assert_eq!(tag, format!("\"{version}-1\""));
    let conditional = |day: &str, tag: &str| {
        app.call_with(
            HttpMethod::GET,
            &format!("/api/v1/procedures/1.000001.P?validOn={day}"),
            None,
            None,
            &[("If-None-Match", tag)],
        )
    };
    assert_eq!(conditional("2025-06-30", &tag).status, Status::NOT_MODIFIED);
    let later = conditional("2025-07-01", &tag);
    assert_eq!(later.status, Status::OK, "{}", later.text);
    assert_eq!(later.body["versionSeq"], 2);
    assert_eq!(
        later.header("etag"),
        Some(format!("\"{version}-2\"").as_str())
    );
    // `If-Match` takes the tag by its row version.
    let write = |tag: &str| {
        app.call_with(
            HttpMethod::PUT,
            "/api/v1/procedures/1.000001.P",
            Some(&admin),
            Some(&amended),
            &[("If-Match", tag)],
        )
    };
    assert_eq!(write(&tag).status, Status::OK, "the current row version");
    write(&format!("\"{}-1\"", version - 1))
        .assert_problem(Status::PRECONDITION_FAILED, "preconditionFailed");

    let backwards =
        json!({"content": content("x", "HT", "commune", "C1", true), "validFrom": "2025-01-01"});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000001.P",
        Some(&admin),
        Some(&backwards),
    );
    assert_eq!(r.invalid_names(), ["validFrom"]);
    let audit = app.get(
        "/api/v1/audit?resourceType=procedure&resourceId=1.000001.P",
        &admin,
    );
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        2,
        "create and one update"
    );
}

#[test]
fn drafts_need_the_read_scope() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.post("/api/v1/procedures", &admin, &json!({"code": "1.000003", "content": content("Thủ tục nháp", "HT", "commune", "C1", true), "validFrom": "2024-01-01"}));
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    public(&app, "/api/v1/procedures/1.000003").assert_problem(Status::NOT_FOUND, "notFound");
    assert!(!codes(&public(&app, "/api/v1/procedures")).contains(&"1.000003".to_owned()));
    public(&app, "/api/v1/procedures?status=draft")
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
    let (_, reader) = app.client("reader", &["procedures:read"], &[]);
    assert_eq!(
        codes(&app.get("/api/v1/procedures?status=draft", &reader)),
        ["1.000003"]
    );
    assert_eq!(
        app.get("/api/v1/procedures/1.000003", &reader).status,
        Status::OK
    );
    app.call(
        HttpMethod::GET,
        "/api/v1/procedures",
        Some("bad-token"),
        None,
    )
    .assert_problem(Status::UNAUTHORIZED, "invalidToken");
    let dup = app.post(
        "/api/v1/procedures",
        &admin,
        &json!({"code": "1.000003", "content": content("x", "HT", "commune", "C1", true)}),
    );
    dup.assert_problem(Status::CONFLICT, "conflict");
}

#[test]
fn bad_procedures_name_the_field_and_store_nothing() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut body = json!({"content": content("x", "ZZ", "commune", "NOPE", true)});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000009",
        Some(&admin),
        Some(&body),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(
        r.invalid_names(),
        ["content.field", "content.handlingUnits[0]"]
    );
    body["content"]["channels"] = json!(["pigeon"]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000009",
        Some(&admin),
        Some(&body),
    );
    assert_eq!(r.invalid_names(), ["content.channels[0]"], "{}", r.text);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/not-a-code",
        Some(&admin),
        Some(&json!({"content": content("x", "HT", "commune", "C1", true)})),
    );
    // Procedure codes start with a digit: this path names no procedure (the document's
    // pattern for `code` says so).
    r.assert_problem(Status::NOT_FOUND, "notFound");
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.0000000000000000000000000000000000000000000",
        Some(&admin),
        Some(&json!({"content": content("x", "HT", "commune", "C1", true)})),
    );
    assert_eq!(r.invalid_names(), ["code"]);
    let (_, reader) = app.client("reader", &["procedures:read"], &[]);
    app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000009",
        Some(&reader),
        Some(&json!({"content": content("x", "HT", "commune", "C1", true)})),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
    // A client of STTTT cannot name C1 (under STP) as a handling unit: it does not exist for it.
    let (_, sttt) = app.client("sttt", &["procedures:write"], &["STTTT"]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000009",
        Some(&sttt),
        Some(&json!({"content": content("x", "HT", "commune", "C1", true)})),
    );
    assert_eq!(r.invalid_names(), ["content.handlingUnits[0]"]);
    let reader_view = app.get("/api/v1/procedures/1.000009", &reader);
    reader_view.assert_problem(Status::NOT_FOUND, "notFound");
    // A unit named twice (a 500 before: the version's units' primary key).
    let mut twice = content("x", "HT", "commune", "C1", true);
    twice["handlingUnits"] = json!(["C1", "C1"]);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000009",
        Some(&admin),
        Some(&json!({"content": twice})),
    );
    r.assert_problem(Status::UNPROCESSABLE_ENTITY, "ruleViolated");
    assert_eq!(
        r.invalid_names(),
        ["content.handlingUnits[1]"],
        "{}",
        r.text
    );
    // A time limit the due-date rules cannot take (until 2026-12-07 it was stored, and every
    // dossier of the procedure was judged as having no limit, never late).
    for (amount, measure, reason) in [
        (
            json!(5000),
            "workingDays",
            "must be a number above 0 and at most 1000",
        ),
        (
            json!(-3),
            "workingDays",
            "must be a number above 0 and at most 1000",
        ),
        (json!(1.5), "calendarDays", "calendar days must be whole"),
        (json!(1.234), "workingDays", "may have at most two decimals"),
        (json!(0.000000001), "workingHours", "must be at least 0.01"),
    ] {
        let mut limited = content("x", "HT", "commune", "C1", true);
        limited["timeLimit"] = json!({"amount": amount, "measure": measure});
        let r = app.call(
            HttpMethod::PUT,
            "/api/v1/procedures/1.000009",
            Some(&admin),
            Some(&json!({"content": limited})),
        );
        assert!(r.status.is_client_error(), "{amount} {measure}: {}", r.text);
        assert_eq!(
            r.invalid_names(),
            ["content.timeLimit.amount"],
            "{amount} {measure}: {}",
            r.text
        );
        assert!(r.text.contains(reason), "{amount} {measure}: {}", r.text);
    }
    app.get("/api/v1/procedures/1.000009", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
}

#[test]
fn bulk_import_is_idempotent_per_item() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let items = json!([
        {"code": "1.000010", "content": content("Một", "HT", "commune", "C1", true), "validFrom": "2024-02-01", "publishedOn": "2024-02-02"},
        {"code": "1.000011", "content": content("Hai", "ZZ", "commune", "C1", true)},
        {"code": "bad code"},
        {"code": "1.000012", "content": content("Ba", "XB", "province", "STTTT", false), "validFrom": "2024-02-01"}
    ]);
    let send = |body: &Value| app.post("/api/v1/procedures/bulk", &admin, body);
    let first = send(&items);
    assert_eq!(first.status, Status::OK, "{}", first.text);
    assert_eq!(
        (
            first.body["created"].as_u64(),
            first.body["rejected"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let results: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["created", "rejected", "rejected", "created"]);
    assert_eq!(
        first.body["items"][1]["invalidParams"][0]["name"],
        "content.field"
    );
    assert_eq!(first.body["items"][2]["invalidParams"][0]["name"], "code");
    for _ in 0..2 {
        let again = send(&items);
        assert_eq!(
            (
                again.body["unchanged"].as_u64(),
                again.body["created"].as_u64()
            ),
            (Some(2), Some(0)),
            "{}",
            again.text
        );
    }
    // NDJSON is read the same way.
    let ndjson = items
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let r = Reply::from(
        app.raw()
            .post(app.url("/api/v1/procedures/bulk"))
            .bearer_auth(&admin)
            .header("Content-Type", "application/x-ndjson")
            .body(ndjson)
            .send()
            .unwrap(),
    );
    assert_eq!(r.body["unchanged"], 2, "{}", r.text);
    let r = Reply::from(
        app.raw()
            .post(app.url("/api/v1/procedures/bulk"))
            .bearer_auth(&admin)
            .header("Content-Type", "application/json")
            .body("{")
            .send()
            .unwrap(),
    );
    r.assert_problem(Status::BAD_REQUEST, "malformedJson");
}

#[test]
fn a_bulk_item_the_database_could_not_write_is_retried_under_the_same_key() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let items = json!([
        {"code": "1.000010", "content": content("Một", "HT", "commune", "C1", true), "validFrom": "2024-02-01", "publishedOn": "2024-02-02"},
        {"code": "1.000011", "content": content("Hai", "HT", "commune", "C1", true), "validFrom": "2024-02-01", "publishedOn": "2024-02-02"}
    ]);
    let send = || {
        app.call_with(
            HttpMethod::POST,
            "/api/v1/procedures/bulk",
            Some(&admin),
            Some(&items),
            &[("Idempotency-Key", "procedures-1")],
        )
    };
    let results = |r: &tthc_tests::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["result"].as_str().unwrap().to_owned())
            .collect()
    };
    // The second item's writer waits past the database's lock timeout (10 s). On SQLite the
    // whole database is held, so the key itself cannot be claimed: 503 at once.
    let mut holder = app.hold("SELECT pg_advisory_xact_lock(hashtext('procedure:1.000011'))");
    let first = send();
    diesel::connection::SimpleConnection::batch_execute(&mut *holder, "COMMIT").unwrap();
    drop(holder);
    if app.is_postgres() {
        assert_eq!(first.status, Status::OK, "{}", first.text);
        assert_eq!(results(&first), ["created", "rejected"], "{}", first.text);
        let reason = first.body["items"][1]["invalidParams"][0]["reason"]
            .as_str()
            .unwrap();
        assert!(reason.contains("retry"), "{reason}");
    } else {
        first.assert_problem(Status::SERVICE_UNAVAILABLE, "unavailable");
    }
    // The retry the item asks for is judged again: nothing was kept under the key.
    let retry = send();
    assert_eq!(retry.status, Status::OK, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed"), None);
    let expected = if app.is_postgres() {
        ["unchanged", "created"]
    } else {
        ["created", "created"]
    };
    assert_eq!(results(&retry), expected, "{}", retry.text);
    for code in ["1.000010", "1.000011"] {
        let r = app.get(&format!("/api/v1/procedures/{code}"), &admin);
        assert_eq!(r.status, Status::OK, "{}", r.text);
    }
}

#[test]
fn base_procedures_not_localized_are_counted_by_field_and_unit() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let r = app.get(
        "/api/v1/procedures/not-localized?validOn=2024-06-01",
        &admin,
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["items"][0]["code"], "1.000002");
    assert_eq!(r.body["byField"], json!([{"key": "XB", "count": 1}]));
    assert_eq!(r.body["byUnit"], json!([{"key": "STTTT", "count": 1}]));
    // A client of STP sees nothing of STTTT's.
    let (_, stp) = app.client("stp", &["procedures:read"], &["STP"]);
    assert_eq!(
        app.get("/api/v1/procedures/not-localized?validOn=2024-06-01", &stp)
            .body["total"],
        0
    );
    public(&app, "/api/v1/procedures/not-localized")
        .assert_problem(Status::UNAUTHORIZED, "invalidToken");
}
