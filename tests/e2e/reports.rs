//! Form II.06a and the monthly notice on the hand-built March 2026 of `scores::province`, read
//! as JSON, CSV, XLSX (opened again with calamine) and HTML.

use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp, read_xlsx};

use crate::announcements::decisions;
use crate::procedures::seed;
use crate::scores::{counts, province};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The eleven counts of a line, in the form's order.
fn line(v: &Value) -> Vec<u64> {
    let r = &v["received"];
    let s = &v["resolved"];
    let p = &v["inProgress"];
    [
        &r["total"],
        &r["online"],
        &r["inPersonOrPostal"],
        &r["carriedOver"],
        &s["total"],
        &s["early"],
        &s["onTime"],
        &s["late"],
        &p["total"],
        &p["withinTime"],
        &p["overdue"],
    ]
    .iter()
    .map(|x| x.as_u64().unwrap())
    .collect()
}

/// By hand, March 2026 (see `scores::province`):
/// STP's subtree (C1): 1 online early, 2 in person late, 3 online still open and overdue,
///   5 carried over from February and finished early → received 4 (2 online, 1 in person,
///   1 carried over), resolved 3 (2 early, 1 late), in progress 1 (overdue).
/// STTTT: 4 in person, early → received 1, resolved 1 early.
const STP: [u64; 11] = [4, 2, 1, 1, 3, 2, 0, 1, 1, 0, 1];
const STTTT: [u64; 11] = [1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0];
const TOTAL: [u64; 11] = [5, 2, 2, 1, 4, 3, 0, 1, 1, 0, 1];

#[test]
fn form_ii06a_by_unit_field_and_procedure_agrees_with_the_score() {
    let app = TestApp::spawn();
    let admin = province(&app);
    let r = app.get(
        "/api/v1/reports/ii06a?unit=P&period=2026-03&by=unit",
        &admin,
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let lines = r.body["lines"].as_array().unwrap();
    let keys: Vec<&str> = lines.iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["STP", "STTTT"]);
    assert_eq!(lines[0]["name"], "Đơn vị STP");
    assert_eq!(line(&lines[0]), STP);
    assert_eq!(line(&lines[1]), STTTT);
    assert_eq!(line(&r.body["total"]), TOTAL);
    assert_eq!(r.body["judgedAt"], "2026-04-01T00:00:00+07:00");
    // The score counts the same dossiers the same way.
    let score = app.get("/api/v1/units/P/scores/2026-03", &admin);
    let (n, d, _) = counts(&score.body, "ON_TIME_PROCESSING");
    assert_eq!(
        r.body["onTimeProcessing"],
        json!({"numerator": n, "denominator": d})
    );
    assert_eq!(
        r.body["onTimeProcessing"],
        json!({"numerator": 3, "denominator": 5})
    );

    // Every dossier's procedure is in field HT; STP's subtree alone; by procedure.
    let f = app.get("/api/v1/reports/ii06a?unit=P&period=2026-03", &admin);
    assert_eq!(f.body["by"], "field");
    assert_eq!(f.body["lines"][0]["key"], "HT");
    assert_eq!(f.body["lines"][0]["name"], "Hộ tịch");
    assert_eq!(line(&f.body["lines"][0]), TOTAL);
    let s = app.get(
        "/api/v1/reports/ii06a?unit=STP&period=2026-03&by=procedure",
        &admin,
    );
    assert_eq!(s.body["lines"][0]["key"], "1.000001");
    assert_eq!(s.body["lines"][0]["name"], "Đăng ký khai sinh");
    assert_eq!(line(&s.body["total"]), STP);
    // The first quarter: dossier 6 (February) is received and resolved in it too.
    let q = app.get(
        "/api/v1/reports/ii06a?unit=P&period=2026-Q1&by=unit",
        &admin,
    );
    assert_eq!(line(&q.body["total"]), [6, 2, 4, 0, 5, 4, 0, 1, 1, 0, 1]);

    // CSV: BOM, column keys, the lines, the totals row.
    let csv = app.call_with(
        HttpMethod::GET,
        "/api/v1/reports/ii06a?unit=P&period=2026-03&by=unit",
        Some(&admin),
        None,
        &[("Accept", "text/csv")],
    );
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let rows: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        rows[0],
        "\u{feff}no,code,name,receivedTotal,receivedOnline,receivedInPersonOrPostal,receivedCarriedOver,resolvedTotal,resolvedEarly,resolvedOnTime,resolvedLate,inProgressTotal,inProgressWithinTime,inProgressOverdue"
    );
    assert_eq!(rows[1], "1,STP,Đơn vị STP,4,2,1,1,3,2,0,1,1,0,1");
    assert_eq!(rows[2], "2,STTTT,Đơn vị STTTT,1,0,1,0,1,1,0,0,0,0,0");
    assert_eq!(rows[3], ",,Tổng cộng,5,2,2,1,4,3,0,1,1,0,1");

    // XLSX, read back: title, two-row header with merged group cells, lines, totals.
    let (status, headers, bytes) = app.download(
        "/api/v1/reports/ii06a?unit=P&period=2026-03&by=unit",
        &admin,
        XLSX,
    );
    assert_eq!(status, Status::OK);
    assert_eq!(headers["content-type"], XLSX);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ii06a-P-2026-03.xlsx")
    );
    let book = read_xlsx(&bytes);
    assert_eq!(book.len(), 1);
    let sheet = &book[0];
    assert_eq!(sheet.name, "II.06a");
    assert!(
        sheet
            .at(0, 0)
            .starts_with("TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH")
    );
    assert_eq!(sheet.at(1, 0), "Đơn vị: Đơn vị P (P)");
    let head = sheet.row_of(0, "STT").unwrap();
    assert_eq!(head, 4);
    for merged in [
        ((4, 0), (5, 0)),
        ((4, 2), (5, 2)),
        ((4, 3), (4, 6)),
        ((4, 7), (4, 10)),
        ((4, 11), (4, 13)),
        ((0, 0), (0, 13)),
    ] {
        assert!(
            sheet.merged.contains(&merged),
            "{merged:?} in {:?}",
            sheet.merged
        );
    }
    assert_eq!(sheet.at(4, 2), "Đơn vị");
    assert_eq!(sheet.at(4, 3), "Số hồ sơ nhận giải quyết");
    assert_eq!(sheet.at(4, 7), "Số hồ sơ đã giải quyết");
    assert_eq!(sheet.at(4, 11), "Số hồ sơ đang giải quyết");
    let second: Vec<&str> = (3..14).map(|c| sheet.at(5, c)).collect();
    assert_eq!(
        second,
        [
            "Tổng số",
            "Trực tuyến",
            "Trực tiếp, dịch vụ bưu chính",
            "Từ kỳ trước chuyển qua",
            "Tổng số",
            "Trước hạn",
            "Đúng hạn",
            "Quá hạn",
            "Tổng số",
            "Trong hạn",
            "Quá hạn"
        ]
    );
    let numbers =
        |row: usize| -> Vec<u64> { (3..14).map(|c| sheet.at(row, c).parse().unwrap()).collect() };
    assert_eq!((sheet.at(6, 1), numbers(6)), ("STP", STP.to_vec()));
    assert_eq!((sheet.at(7, 1), numbers(7)), ("STTTT", STTTT.to_vec()));
    assert_eq!((sheet.at(8, 2), numbers(8)), ("Tổng cộng", TOTAL.to_vec()));

    // Refusals.
    app.get("/api/v1/reports/ii06a?unit=P&period=2026-13", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
    let bad = app.get(
        "/api/v1/reports/ii06a?unit=P&period=2026-03&by=district",
        &admin,
    );
    bad.assert_problem(Status::BAD_REQUEST, "validationFailed");
    assert_eq!(bad.invalid_names(), ["by"]);
    let bad = app.get(
        "/api/v1/reports/ii06a?unit=P&period=2026-03&format=pdf",
        &admin,
    );
    assert_eq!(bad.invalid_names(), ["format"]);
    app.get("/api/v1/reports/ii06a?unit=NOPE&period=2026-03", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    let (_, stp) = app.client("stp", &["reports:read"], &["STP"]);
    app.get("/api/v1/reports/ii06a?unit=P&period=2026-03", &stp)
        .assert_problem(Status::NOT_FOUND, "notFound");
    assert_eq!(
        line(
            &app.get("/api/v1/reports/ii06a?unit=STP&period=2026-03", &stp)
                .body["total"]
        ),
        STP
    );
    let (_, scores_only) = app.client("dash", &["scores:read"], &["P"]);
    app.get("/api/v1/reports/ii06a?unit=P&period=2026-03", &scores_only)
        .assert_problem(Status::FORBIDDEN, "insufficientScope");
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {text}"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    &text[from..to]
}

#[test]
fn the_monthly_notice_in_the_order_of_the_seed_as_json_xlsx_and_html() {
    let app = TestApp::spawn();
    let admin = province(&app);
    app.unit("X1", "commune", Some("P"));
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/units/P/official-scores/2026-03",
        Some(&admin),
        Some(&json!({"score": 77.73, "rank": 17, "rankOf": 63, "source": "Cổng DVC quốc gia"})),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);

    let n = app.get("/api/v1/reports/notice?unit=P&period=2026-03", &admin);
    assert_eq!(n.status, Status::OK, "{}", n.text);
    let b = &n.body;
    assert_eq!(
        b["official"],
        json!({"score": 77.73, "rank": 17, "rankOf": 63, "source": "Cổng DVC quốc gia"})
    );
    assert_eq!(b["score"], 38.17);
    assert_eq!(b["basis"], "live");
    // Appendix 1: departments ranked (STTTT 46.0, STP 36.44); appendix 2: the commune.
    let ranked = |v: &Value| -> Vec<(u64, String, f64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["rank"].as_u64().unwrap(),
                    s["unit"].as_str().unwrap().to_owned(),
                    s["score"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        ranked(&b["departments"]),
        [(1, "STTTT".to_owned(), 46.0), (2, "STP".to_owned(), 36.44)]
    );
    assert_eq!(ranked(&b["localities"]).len(), 1);
    assert_eq!(b["localities"][0]["unit"], "X1");
    // Appendix 3: II.06a by unit; X1 has no dossiers and still has its line.
    let keys: Vec<&str> = b["processing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["STP", "STTTT", "X1"]);
    assert_eq!(line(&b["processing"][0]), STP);
    assert_eq!(line(&b["processing"][2]), [0; 11]);
    assert_eq!(b["lateAnnouncements"], json!([]));
    // STP had a late and an overdue dossier: it owes an explanation by 17 April.
    assert_eq!(
        b["explanations"],
        json!({"dueOn": "2026-04-17", "units": [{"unit": "STP", "name": "Đơn vị STP", "resolvedLate": 1, "inProgressOverdue": 1}]})
    );
    let later = app.get(
        "/api/v1/reports/notice?unit=P&period=2026-03&explainBy=2026-04-20",
        &admin,
    );
    assert_eq!(later.body["explanations"]["dueOn"], "2026-04-20");

    // XLSX: the letter, then one sheet per appendix and table.
    let (status, _, bytes) = app.download(
        "/api/v1/reports/notice?unit=P&period=2026-03&number=112/TB-VPUBND",
        &admin,
        XLSX,
    );
    assert_eq!(status, Status::OK);
    let book = read_xlsx(&bytes);
    let names: Vec<&str> = book.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Thông báo",
            "Phụ lục 1",
            "Phụ lục 2",
            "Phụ lục 3",
            "Công bố chậm",
            "Giải trình"
        ]
    );
    // The letter: letterhead, kind, subject, and the province's score and rank.
    let letter = &book[0];
    assert_eq!(
        (letter.at(0, 0), letter.at(0, 3)),
        ("ĐƠN VỊ P", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    );
    assert_eq!(
        (letter.at(1, 0), letter.at(1, 3)),
        ("VĂN PHÒNG", "Độc lập - Tự do - Hạnh phúc")
    );
    assert_eq!(letter.at(3, 0), "Số: 112/TB-VPUBND");
    assert!(
        letter.at(3, 3).starts_with("Đơn vị P, ngày "),
        "{}",
        letter.at(3, 3)
    );
    assert_eq!(letter.at(5, 0), "THÔNG BÁO");
    assert!(letter.at(6, 0).starts_with("Về chỉ số chỉ đạo"));
    let said: Vec<&str> = (8..letter.cells.len()).map(|r| letter.at(r, 0)).collect();
    assert!(
        said.iter()
            .any(|p| p.contains("đạt 77,73 điểm, xếp hạng 17/63")),
        "{said:?}"
    );
    let a1 = &book[1];
    assert!(a1.at(0, 0).starts_with("Phụ lục 1."));
    let head = a1.row_of(0, "STT").unwrap();
    assert_eq!(a1.at(head, 3), "Điểm theo nhóm chỉ số");
    assert!(
        a1.merged.contains(&((head as u32, 3), (head as u32, 8))),
        "{:?}",
        a1.merged
    );
    let last = a1.cells[head].len() - 1;
    assert_eq!(
        (a1.at(head, last - 1), a1.at(head, last)),
        ("Tổng điểm", "Xếp hạng")
    );
    assert_eq!(
        (
            a1.at(head + 2, 1),
            a1.at(head + 2, last - 1),
            a1.at(head + 2, last)
        ),
        ("STTTT", "46", "1")
    );
    assert_eq!(
        (a1.at(head + 3, 1), a1.at(head + 3, last - 1)),
        ("STP", "36.44")
    );
    let a3 = &book[3];
    let total = a3.row_of(2, "Tổng cộng").unwrap();
    assert_eq!(a3.at(total, 3), "5");
    let owing = &book[5];
    assert!(owing.at(0, 0).ends_with("17/04/2026"));
    assert_eq!(owing.at(3, 1), "STP");
    assert_eq!((owing.at(3, 3), owing.at(3, 4)), ("1", "1"));

    // HTML for people: the summary, every table, the totals.
    let page = app.call_with(
        HttpMethod::GET,
        "/api/v1/reports/notice?unit=P&period=2026-03",
        Some(&admin),
        None,
        &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    );
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = &page.text;
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("đạt 77,73 điểm, xếp hạng 17/63"), "{html}");
    assert!(html.contains("đạt 38,17 điểm"));
    assert!(html.contains("<h1>THÔNG BÁO</h1>"));
    // A draft's number is left blank, in spaces that HTML does not collapse.
    let blank = "\u{a0}".repeat(8);
    assert!(
        html.contains(&format!("<td>Số: {blank}/TB-VPUBND</td>")),
        "{html}"
    );
    assert_eq!(html.matches("<table class=\"data\">").count(), 5);
    let appendix1 = between(html, "Phụ lục 1.", "</table>");
    let stttt = appendix1.find("STTTT").unwrap();
    assert!(
        stttt < appendix1.find("<td class=\"c\">STP</td>").unwrap(),
        "ranked order"
    );
    assert!(
        appendix1.contains("<td class=\"n\">36,44</td>"),
        "{appendix1}"
    );
    let appendix3 = between(html, "Phụ lục 3.", "</table>");
    assert_eq!(
        between(appendix3, "<tfoot>\n<tr>", "</tr>"),
        "<td></td><td class=\"c\"></td><td>Tổng cộng</td><td class=\"n\">5</td><td class=\"n\">2</td><td class=\"n\">2</td><td class=\"n\">1</td><td class=\"n\">4</td><td class=\"n\">3</td><td class=\"n\">0</td><td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">0</td><td class=\"n\">1</td>"
    );
    assert!(
        between(html, "trễ hạn báo cáo giải trình", "</table>")
            .contains("<td class=\"c\">STP</td>")
    );
    assert!(html.contains("trước ngày 17/04/2026"));
    assert!(
        html.contains("tthc (số liệu hiện tại), Đơn vị P đạt 38,17 điểm")
            && !html.contains("đã chốt"),
        "{html}"
    );
    // Closed, the scores come from the snapshot and the letter says so; appendix 3 is still
    // counted from the records, and the letter says that too.
    let r = app.call(
        HttpMethod::POST,
        "/api/v1/periods/2026-03/close",
        Some(&admin),
        None,
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let closed = app.call_with(
        HttpMethod::GET,
        "/api/v1/reports/notice?unit=P&period=2026-03",
        Some(&admin),
        None,
        &[("Accept", "text/html")],
    );
    let html = &closed.text;
    assert!(
        html.contains("tthc (số liệu đã chốt), Đơn vị P đạt 38,17 điểm")
            && html.contains("tại Phụ lục 3 (số liệu hiện tại) kèm theo"),
        "{html}"
    );
    let json = app.get("/api/v1/reports/notice?unit=P&period=2026-03", &admin);
    assert_eq!(json.body["basis"], "snapshot");
    // A notice needs a rule set.
    app.get("/api/v1/reports/notice?unit=P&period=2021-03", &admin)
        .assert_problem(Status::BAD_REQUEST, "validationFailed");
}

#[test]
fn the_notice_lists_the_decisions_announced_late_in_its_month() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    decisions(&app, &admin);
    // April 2024: M1 503/QĐ-BTTTT due 16 April, announced on 24 April (5 working days late).
    let april = app.get("/api/v1/reports/notice?unit=P&period=2024-04", &admin);
    assert_eq!(april.status, Status::OK, "{}", april.text);
    let late = april.body["lateAnnouncements"].as_array().unwrap();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["ministryDecision"]["number"], "503/QĐ-BTTTT");
    assert_eq!(late[0]["unit"]["code"], "STTTT");
    assert_eq!(late[0]["announcedBy"]["number"], "812/QĐ-UBND");
    assert_eq!(late[0]["workingDaysLate"], 5);
    // May 2024, judged at its end: M3 200/QĐ-BYT (due 13 May) and M4 300/QĐ-BNV (due 22 May)
    // never announced; M1 belongs to April.
    let may = app.get("/api/v1/reports/notice?unit=P&period=2024-05", &admin);
    let late = may.body["lateAnnouncements"].as_array().unwrap();
    let numbers: Vec<&str> = late
        .iter()
        .map(|a| a["ministryDecision"]["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["200/QĐ-BYT", "300/QĐ-BNV"]);
    assert_eq!(late[0]["announcedBy"], Value::Null);
    // The table in the workbook: decision, unit that should submit, notes.
    let (_, _, bytes) = app.download(
        "/api/v1/reports/notice?unit=P&period=2024-04&format=xlsx",
        &admin,
        "*/*",
    );
    let book = read_xlsx(&bytes);
    let table = book.iter().find(|s| s.name == "Công bố chậm").unwrap();
    assert_eq!(table.at(2, 1), "Quyết định công bố của bộ, ngành");
    assert!(table.at(3, 1).starts_with(
        "Quyết định số 503/QĐ-BTTTT ngày 09/04/2024 của Bộ Thông tin và Truyền thông"
    ));
    assert_eq!(table.at(3, 2), "Đơn vị STTTT");
    assert!(
        table
            .at(3, 5)
            .starts_with("Đã công bố tại Quyết định số 812/QĐ-UBND ngày 24/04/2024")
    );
    assert!(table.at(3, 5).contains("Tờ trình số 41/TTr-STTTT"));
}
