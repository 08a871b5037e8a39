//! Every migration applies up, down and up again on the backend under test.

use tthc_core::db::{Database, DatabaseUrl};
use tthc_tests::TestDb;

#[test]
fn migrations_apply_up_down_up() {
    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    let applied = db.migrate().unwrap();
    assert!(applied >= 1);
    db.check_ready(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(db.revert_all().unwrap(), applied);
    assert!(
        db.check_ready(std::time::Duration::from_secs(5)).is_err(),
        "reverted migrations are pending again"
    );
    assert_eq!(db.migrate().unwrap(), applied);
    db.check_ready(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(db.migrate().unwrap(), 0, "a second run applies nothing");
}

/// Migration 000017 sets the "every component digitized" facts bit of the dossiers stored before
/// it, and 000034 the "a component with a file" bit, from the components kept as pushed; 000036
/// the "fees all zero" bit from the fees.
#[test]
fn the_components_bit_is_backfilled_from_the_stored_components() {
    use diesel::prelude::*;
    use serde_json::json;
    use tthc_tests::{Status, TestApp};

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let dossier = |code: &str, components: serde_json::Value, fees: serde_json::Value| {
        json!({
            "code": code, "procedureCode": "1.000001", "unit": "C1", "channel": "online",
            "receivedAt": "2026-03-02T08:00:00+07:00",
            "applicant": {"kind": "citizen", "name": "Phạm Thị Dung"},
            "components": components, "fees": fees,
            "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]
        })
    };
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier("C1-A", json!([{"name": "Tờ khai", "digitized": true}, {"name": "Bản sao", "digitized": true}]),
                json!([{"name": "Lệ phí", "amountVnd": 0}, {"name": "Phí", "amountVnd": 0}])),
            dossier("C1-B", json!([{"name": "Tờ khai", "digitized": true}, {"name": "Bản sao", "digitized": false}]),
                json!([{"name": "Lệ phí", "amountVnd": 0}, {"name": "Phí", "amountVnd": 5000, "paidOnline": true}])),
            dossier("C1-C", json!([]), json!([])),
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let bits = |db: &Database| -> Vec<(String, i32)> {
        let mut conn = db.conn().unwrap();
        tthc_core::db::schema::dossiers::table
            .select((
                tthc_core::db::schema::dossiers::code,
                tthc_core::db::schema::dossiers::facts,
            ))
            .order(tthc_core::db::schema::dossiers::code.asc())
            .load::<(String, i32)>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|(code, facts)| (code, facts & (1024 | 2048 | 4096)))
            .collect()
    };
    let written = bits(&db);
    assert_eq!(
        written,
        [
            ("C1-A".to_owned(), 1024 | 2048 | 4096),
            ("C1-B".to_owned(), 2048),
            ("C1-C".to_owned(), 0)
        ]
    );
    // As stored before the bits existed: reverting the backend's migrations from the last to
    // 000017 clears both; applying them again sets them from the components. The service stops
    // first: its deliverer reads tables of the later migrations.
    drop(app);
    let since_17 = migrations_since(&test_db, 17);
    db.revert_last(since_17).unwrap();
    assert!(bits(&db).iter().all(|(_, bit)| *bit == 0));
    assert_eq!(db.migrate().unwrap(), since_17);
    assert_eq!(bits(&db), written);
    // Migration 000037: C1-B's fee of 5,000 paid online, pushed without `financialObligation`,
    // is an obligation paid online and carried (bits 1, 2 and 512), as a push now writes it; as
    // an older version stored it, without them, the migration sets them.
    let fee_bits = |db: &Database| -> Vec<i32> {
        let mut conn = db.conn().unwrap();
        tthc_core::db::schema::dossiers::table
            .select(tthc_core::db::schema::dossiers::facts)
            .order(tthc_core::db::schema::dossiers::code.asc())
            .load::<i32>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|facts| facts & (1 | 2 | 512))
            .collect()
    };
    assert_eq!(fee_bits(&db), [0, 1 | 2 | 512, 0]);
    let since_37 = migrations_since(&test_db, 37);
    db.revert_last(since_37).unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE dossiers SET facts = facts & ~515"),
        &mut *db.conn().unwrap(),
    )
    .unwrap();
    assert_eq!(db.migrate().unwrap(), since_37);
    assert_eq!(fee_bits(&db), [0, 1 | 2 | 512, 0]);
}

/// Migration 000039 sets the "a result file is attached" facts bit (1 << 13) of the dossiers
/// stored before it, from the results kept as pushed: an archive or an empty file counts, as the
/// portal sees it. A dossier with an electronic result (1 << 2) is left alone: the counting
/// reads either bit.
#[test]
fn the_result_file_bit_is_backfilled_from_the_stored_results() {
    use diesel::prelude::*;
    use serde_json::json;
    use tthc_core::db::schema::dossiers as d;
    use tthc_tests::{Status, TestApp};

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let dossier = |code: &str, results: serde_json::Value| {
        json!({
            "code": code, "procedureCode": "1.000001", "unit": "C1", "channel": "online",
            "receivedAt": "2026-03-02T08:00:00+07:00",
            "applicant": {"kind": "citizen", "name": "Phạm Thị Dung"}, "results": results,
            "events": [{"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"}]
        })
    };
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            dossier("C1-PDF", json!([{"name": "kq.pdf", "mediaType": "application/pdf", "sizeBytes": 10, "sha256": "aa"}])),
            dossier("C1-ZIP", json!([{"name": "kq.zip", "mediaType": "application/zip", "sizeBytes": 10, "sha256": "bb"}])),
            dossier("C1-EMPTY", json!([{"name": "trang.pdf", "mediaType": "application/pdf", "sizeBytes": 0, "sha256": "cc"}])),
            dossier("C1-NONE", json!([])),
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    // The result-file bit and the electronic-result bit (1 << 2), by code.
    let bits = |db: &Database| -> Vec<(String, i32)> {
        d::table
            .select((d::code, d::facts))
            .order(d::code.asc())
            .load::<(String, i32)>(&mut *db.conn().unwrap())
            .unwrap()
            .into_iter()
            .map(|(code, facts)| (code, facts & (8192 | 4)))
            .collect()
    };
    let only = |bits: Vec<(String, i32)>| bits.into_iter().map(|(_, b)| b).collect::<Vec<_>>();
    // By code: EMPTY, NONE, PDF, ZIP.
    assert_eq!(only(bits(&db)), [8192, 0, 8192 | 4, 8192]);
    drop(app);
    let since_39 = migrations_since(&test_db, 39);
    db.revert_last(since_39).unwrap();
    assert_eq!(only(bits(&db)), [0, 0, 4, 0]);
    assert_eq!(db.migrate().unwrap(), since_39);
    // The PDF keeps its electronic result alone; the others have a result file as pushed.
    assert_eq!(only(bits(&db)), [8192, 0, 4, 8192]);
}

/// Migration 000035 ends, at their one unanswered supplement request, the dossiers stored open
/// before it, as the service now judges them on a push: the same end, timing and span class.
#[test]
fn an_unanswered_request_stored_open_is_ended_as_a_push_ends_it() {
    use diesel::prelude::*;
    use serde_json::{Value, json};
    use tthc_core::db::schema::dossiers as d;
    use tthc_tests::TestApp;

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let ev = |id: &str, status: &str, at: &str| json!({"id": id, "status": status, "at": format!("2026-03-{at}+07:00")});
    let mut apology = ev("2", "processing", "03T09:00:00");
    apology["newDue"] = json!("2026-03-10T08:00:00+07:00");
    // Received on Monday 2 March at 08:00, due on Thursday 5 March at 08:00.
    let received = || ev("1", "received", "02T08:00:00");
    let histories: [(&str, Value); 9] = [
        // Requested before the due day: early.
        (
            "U1",
            json!([received(), ev("2", "supplementRequested", "03T10:00:00")]),
        ),
        // After the due instant: late.
        (
            "U2",
            json!([received(), ev("2", "supplementRequested", "05T09:00:00")]),
        ),
        // On the due day, before the due instant: on time.
        (
            "U3",
            json!([received(), ev("2", "supplementRequested", "05T07:30:00")]),
        ),
        // Rescheduled by an apology: on time, never early.
        (
            "U4",
            json!([
                received(),
                apology,
                ev("3", "supplementRequested", "04T10:00:00")
            ]),
        ),
        // Answered: open.
        (
            "U5",
            json!([
                received(),
                ev("2", "supplementRequested", "03T10:00:00"),
                ev("3", "processing", "04T10:00:00")
            ]),
        ),
        // A second request: open, late.
        (
            "U6",
            json!([
                received(),
                ev("2", "supplementRequested", "03T10:00:00"),
                ev("3", "processing", "03T11:00:00"),
                ev("4", "supplementRequested", "03T14:00:00")
            ]),
        ),
        // A span of exactly a day (class 0), and half a second more (class 1).
        (
            "U8",
            json!([received(), ev("2", "supplementRequested", "03T08:00:00")]),
        ),
        (
            "U9",
            json!([
                received(),
                ev("2", "supplementRequested", "03T08:00:00.500")
            ]),
        ),
        // Three weeks on: late, a longer span.
        (
            "U7",
            json!([
                received(),
                ev("2", "processing", "03T10:00:00"),
                ev("3", "supplementRequested", "25T10:00:00")
            ]),
        ),
    ];
    let bodies: Vec<Value> = histories
        .into_iter()
        .map(|(code, events)| {
            json!({
                "code": code, "procedureCode": "1.000001", "unit": "C1", "channel": "online",
                "receivedAt": "2026-03-02T08:00:00+07:00",
                "applicant": {"kind": "citizen", "name": "Phạm Thị Dung"},
                "events": events
            })
        })
        .collect();
    let r = app.post("/api/v1/dossiers/bulk", &admin, &Value::Array(bodies));
    assert_eq!(r.body["created"], 9, "{}", r.text);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    type Stored = (
        String,
        Option<String>,
        Option<i32>,
        Option<tthc_core::db::timestamp::Stamp>,
    );
    /// Code, timing, span class, end.
    type Judged = (String, Option<String>, Option<i32>, Option<String>);
    let judged = |db: &Database| -> Vec<Judged> {
        let mut conn = db.conn().unwrap();
        d::table
            .select((d::code, d::timing, d::span_class, d::ended_at))
            .order(d::code.asc())
            .load::<Stored>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|(code, timing, span, end)| (code, timing, span, end.map(|e| e.0.to_string())))
            .collect()
    };
    let written = judged(&db);
    let timing: Vec<(&str, Option<&str>)> = written
        .iter()
        .map(|(code, timing, _, _)| (code.as_str(), timing.as_deref()))
        .collect();
    assert_eq!(
        timing,
        [
            ("U1", Some("finishedEarly")),
            ("U2", Some("finishedLate")),
            ("U3", Some("finishedOnTime")),
            ("U4", Some("finishedOnTime")),
            ("U5", None),
            ("U6", None),
            ("U7", Some("finishedLate")),
            ("U8", Some("finishedEarly")),
            ("U9", Some("finishedEarly")),
        ]
    );
    let spans: Vec<Option<i32>> = written[7..].iter().map(|j| j.2).collect();
    assert_eq!(spans, [Some(0), Some(1)]);
    // As stored before the rule: reverting 000035 (and what came after) opens them again;
    // applying it again ends them as the push did.
    drop(app);
    let since_35 = migrations_since(&test_db, 35);
    db.revert_last(since_35).unwrap();
    assert!(
        judged(&db)
            .iter()
            .all(|(_, timing, span, end)| timing.is_none() && span.is_none() && end.is_none())
    );
    assert_eq!(db.migrate().unwrap(), since_35);
    assert_eq!(judged(&db), written);
}

/// Migration 000027 turns the flags stored as words into bits, also a word an earlier version
/// appended without its spaces (which the flag filter then missed).
#[test]
fn flags_stored_as_words_become_bits() {
    use diesel::RunQueryDsl;
    use serde_json::json;
    use tthc_tests::{Status, TestApp};

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([{
            "code": "C1-W", "procedureCode": "1.000001", "unit": "C1", "channel": "online",
            "receivedAt": "2026-03-02T08:00:00+07:00",
            "applicant": {"kind": "citizen", "name": "Phạm Thị Dung"},
            "events": [
                {"id": "1", "status": "received", "at": "2026-03-02T08:00:00+07:00"},
                {"id": "2", "status": "finished", "at": "2026-03-03T08:00:00+07:00"}
            ]
        }]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let flags = |app: &TestApp| app.get("/api/v1/dossiers/C1-W", &admin).body["flags"].clone();
    let before = flags(&app);
    assert_eq!(
        before,
        json!(["noResultDocument", "neverSynced", "nonStandardCode"])
    );
    drop(app);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let since_27 = migrations_since(&test_db, 27);
    db.revert_last(since_27).unwrap();
    {
        let mut conn = db.conn().unwrap();
        let words: Vec<Words> = diesel::sql_query("SELECT flags FROM dossiers")
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            words[0].flags,
            " noResultDocument neverSynced nonStandardCode "
        );
        diesel::sql_query("UPDATE dossiers SET flags = flags || 'refusedEvents'")
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(db.migrate().unwrap(), since_27);
    let app = TestApp::spawn_on(&test_db.url);
    assert_eq!(
        flags(&app),
        json!([
            "noResultDocument",
            "neverSynced",
            "nonStandardCode",
            "refusedEvents"
        ])
    );
    let found = app.get("/api/v1/dossiers?flag=refusedEvents", &admin);
    assert_eq!(found.body["items"][0]["code"], "C1-W", "{}", found.text);
    let none = app.get("/api/v1/dossiers?flag=syncBehind", &admin);
    assert_eq!(none.body["items"], json!([]), "{}", none.text);
}

#[derive(diesel::QueryableByName)]
struct Words {
    #[diesel(sql_type = diesel::sql_types::Text)]
    flags: String,
}

/// How many of the migrations of `db`'s backend are numbered `number` or later (the backends'
/// folders differ: PostgreSQL has migrations of its own indexes).
fn migrations_since(db: &TestDb, number: u32) -> usize {
    let backend = if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            // `2026-12-03-000017_name`: the number after the date.
            name.get(11..17)?.parse::<u32>().ok()
        })
        .filter(|n| *n >= number)
        .count()
}

/// The audit trail's index by unit serves the prefix its readers ask for (`unit_path LIKE
/// '/P/D1/%'`). On PostgreSQL the index of migration 000014, of the default operator class,
/// served it only under the C collation; migration 000030 gives it the pattern operator class.
#[test]
fn the_audit_trail_by_unit_is_read_by_its_index() {
    use diesel::RunQueryDsl;
    use tthc_core::db::DbConnection;

    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    db.migrate().unwrap();
    let mut conn = db.conn().unwrap();
    let query = "SELECT count(*) FROM audit_log WHERE unit_path LIKE '/P/D1/%'";
    let plan: Vec<String> = match &mut *conn {
        DbConnection::Pg(c) => {
            // The table is empty: without sequential scans, the planner shows whether an index
            // can serve the condition at all.
            diesel::sql_query("SET enable_seqscan = off")
                .execute(c)
                .unwrap();
            diesel::sql_query(format!("EXPLAIN {query}"))
                .load::<PgPlanLine>(c)
                .unwrap()
                .into_iter()
                .map(|l| l.line)
                .collect()
        }
        DbConnection::Sqlite(c) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
            .load::<SqlitePlanLine>(c)
            .unwrap()
            .into_iter()
            .map(|l| l.detail)
            .collect(),
    };
    // The prefix bounds the index's range (PostgreSQL `Index Cond: ((unit_path ~>=~ …`, SQLite
    // `USING … INDEX audit_log_unit (unit_path>? AND unit_path<?)`): an index read whole, the
    // condition as a filter, does not count.
    let bounded = |l: &String| {
        (l.contains("Index Cond") && l.contains("unit_path ~>=~"))
            || l.contains("audit_log_unit (unit_path>")
    };
    assert!(plan.iter().any(bounded), "{plan:#?}");
}

/// On PostgreSQL a district's open stock before an instant, as the scores and the overdue stock
/// ask for it, can be read as a range of the open dossiers' index by unit (migration 000031)
/// rather than the province's whole open stock filtered.
#[test]
fn a_districts_open_stock_is_a_range_of_an_index() {
    use diesel::RunQueryDsl;
    use tthc_core::db::DbConnection;

    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    db.migrate().unwrap();
    let mut conn = db.conn().unwrap();
    let DbConnection::Pg(c) = &mut *conn else {
        // SQLite holds one province and reads its time indexes; nothing to check.
        return;
    };
    // An empty table: without sequential scans, and with the other indexes of open dossiers and
    // the other one led by the path out of the way (on no rows any of them costs nothing), the
    // planner shows whether the index can bound the district's entries at all.
    diesel::sql_query("SET enable_seqscan = off")
        .execute(c)
        .unwrap();
    diesel::sql_query("BEGIN").execute(c).unwrap();
    diesel::sql_query(
        "DROP INDEX dossiers_open_received, dossiers_open_late, dossiers_open_due, \
         dossiers_unit_received",
    )
    .execute(c)
    .unwrap();
    let plan: Vec<String> = diesel::sql_query(
        "EXPLAIN SELECT count(*), count(synced_at) FROM dossiers \
         WHERE split_part(unit_path, '/', 2) = 'P' AND unit_path LIKE '/P/D1/%' \
         AND facts < 1024 AND ended_at IS NULL AND received_at < '2026-03-01'",
    )
    .load::<PgPlanLine>(c)
    .unwrap()
    .into_iter()
    .map(|l| l.line)
    .collect();
    diesel::sql_query("ROLLBACK").execute(c).unwrap();
    assert!(
        plan.iter().any(|l| l.contains("dossiers_open_unit")),
        "{plan:#?}"
    );
    assert!(
        plan.iter()
            .any(|l| l.contains("Index Cond") && l.contains("unit_path ~>=~")),
        "{plan:#?}"
    );
}

#[derive(diesel::QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(diesel::QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// Migration 000032 puts back under their unit the dossiers and petitions that a unit's move
/// left under its old parent's path, before moves rewrote them, and marks the moved dossiers
/// as petitioned by the petitions of their unit's chain as it is now.
#[test]
fn records_left_behind_by_an_old_move_follow_their_unit() {
    use diesel::RunQueryDsl;
    use serde_json::json;
    use tthc_tests::{HttpMethod, Status, TestApp};

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let put = |path: &str, body: serde_json::Value| {
        let r = app.call(HttpMethod::PUT, path, Some(&admin), Some(&body));
        assert_eq!(r.status, Status::CREATED, "{}", r.text);
    };
    let at = "2026-03-02T08:00:00+07:00";
    put(
        "/api/v1/dossiers/C1-M",
        json!({"code": "C1-M", "procedureCode": "1.000001", "unit": "C1", "channel": "online",
            "receivedAt": at, "applicant": {"kind": "citizen", "name": "Phạm Thị Dung"},
            "events": [{"id": "1", "status": "received", "at": at},
                       {"id": "2", "status": "finished", "at": "2026-03-02T10:00:00+07:00"}]}),
    );
    let petition = |unit: &str, dossier: Option<&str>| {
        json!({"unit": unit, "subject": "regulation", "channel": "portal", "receivedAt": at,
            "summary": "Yêu cầu nộp thêm giấy tờ", "dossierCode": dossier,
            "events": [{"id": "1", "status": "received", "at": at}]})
    };
    put("/api/v1/petitions/PAKN-M", petition("C1", None));
    // A petition of C1's department about its dossier: the dossier is not a satisfied receipt.
    put("/api/v1/petitions/PAKN-S", petition("STP", Some("C1-M")));
    drop(app);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let since_32 = migrations_since(&test_db, 32);
    db.revert_last(since_32).unwrap();
    {
        // As an old move left them: C1 moved under STTTT, its records under STP's path.
        let mut conn = db.conn().unwrap();
        diesel::sql_query(
            "UPDATE units SET path = '/P/STTTT/C1/', \
             parent_id = (SELECT id FROM units WHERE code = 'STTTT') WHERE code = 'C1'",
        )
        .execute(&mut *conn)
        .unwrap();
    }
    assert_eq!(db.migrate().unwrap(), since_32);
    let app = TestApp::spawn_on(&test_db.url);
    let codes = |list: &str, unit: &str| {
        crate::procedures::codes(&app.get(&format!("/api/v1/{list}?unit={unit}"), &admin))
    };
    assert_eq!(codes("dossiers", "STTTT"), ["C1-M"]);
    assert!(codes("dossiers", "STP").is_empty());
    assert_eq!(codes("petitions", "STTTT"), ["PAKN-M"]);
    assert_eq!(codes("petitions", "STP"), ["PAKN-S"]);
    // STP's petition no longer concerns it.
    let score = app.get("/api/v1/units/STTTT/scores/2026-03", &admin);
    let (n, d, _) = crate::scores::counts(&score.body, "DOSSIER_RECEIVING_SATISFACTION");
    assert_eq!((n, d), (json!(1), json!(1)), "{}", score.text);
}

/// Migration 000040 refolds the search names stored before the fold mapped the Eth (`Ð`/`ð`,
/// which text converted from legacy encodings has for `Đ`/`đ`) to `d`: such a name was stored
/// with `ð`, and a search for "dang ky" did not find it.
#[test]
fn search_names_stored_with_the_eth_are_refolded() {
    use diesel::prelude::*;
    use serde_json::json;
    use tthc_core::db::schema::{procedure_versions as v, procedures as p};
    use tthc_tests::{HttpMethod, Status, TestApp};

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000009",
        Some(&admin),
        Some(&json!({"content": crate::procedures::content("Ðăng ký kết hôn", "HT", "commune", "C1", true),
            "validFrom": "2024-01-01", "decision": "9/QĐ-BTP", "publishedOn": "2024-01-10"})),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let found = |query: &str| {
        crate::procedures::codes(&app.call(
            HttpMethod::GET,
            &format!("/api/v1/procedures?validOn=2024-06-01&q={query}"),
            None,
            None,
        ))
    };
    // Found without marks, and a query typed with the Eth finds the `Đ` of the others.
    assert_eq!(found("dang%20ky%20ket"), ["1.000009"]);
    assert_eq!(
        found("%C3%B0ang%20ky"),
        ["1.000001", "1.000001.P", "1.000009"]
    );
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let stored = |db: &Database| -> String {
        v::table
            .inner_join(p::table)
            .filter(p::code.eq("1.000009"))
            .select(v::search_name)
            .first(&mut *db.conn().unwrap())
            .unwrap()
    };
    assert_eq!(stored(&db), "dang ky ket hon");
    let since_40 = migrations_since(&test_db, 40);
    db.revert_last(since_40).unwrap();
    // As the fold before 000040 stored it.
    diesel::update(v::table)
        .set(v::search_name.eq("ðang ky ket hon"))
        .filter(v::search_name.eq("dang ky ket hon"))
        .execute(&mut *db.conn().unwrap())
        .unwrap();
    assert!(found("dang%20ky%20ket").is_empty());
    assert_eq!(db.migrate().unwrap(), since_40);
    assert_eq!(stored(&db), "dang ky ket hon");
    assert_eq!(found("dang%20ky%20ket"), ["1.000009"]);
}

/// Migration 000042 sets the population bit of the dossiers stored with the VNeID mark alone,
/// which PORTAL_RULES 4.5 counts (stored before, they counted for neither 4.5 indicator); its
/// reversal clears it from those only.
#[test]
fn dossiers_stored_with_the_vneid_mark_alone_are_marked_for_citizens_data() {
    use diesel::prelude::*;
    use serde_json::json;
    use tthc_core::db::schema::dossiers as d;
    use tthc_core::dossier::facts::POPULATION_DB;
    use tthc_tests::{Status, TestApp};

    let test_db = TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = crate::procedures::seed(&app);
    let at = "2026-05-04T08:00:00+07:00";
    let pushed = |code: &str, marks: serde_json::Value| {
        let mut body = crate::scores::dossier(
            code,
            "C1",
            "online",
            at,
            json!([{"id": "1", "status": "received", "at": at}]),
            true,
        );
        for (k, v) in marks.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([
            pushed("C1-1", json!({"vneidVerified": true})),
            pushed(
                "C1-2",
                json!({"vneidVerified": true, "populationDbUsed": true})
            ),
            pushed("C1-3", json!({})),
        ]),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["created"], 3, "{}", r.text);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let marked = |db: &Database| -> Vec<String> {
        d::table
            .filter(d::facts.ge(0))
            .select((d::code, d::facts))
            .order(d::code.asc())
            .load::<(String, i32)>(&mut *db.conn().unwrap())
            .unwrap()
            .into_iter()
            .filter(|(_, facts)| facts & POPULATION_DB != 0)
            .map(|(code, _)| code)
            .collect()
    };
    assert_eq!(marked(&db), ["C1-1", "C1-2"]);
    let since_42 = migrations_since(&test_db, 42);
    db.revert_last(since_42).unwrap();
    // As stored before: the mark alone set nothing.
    assert_eq!(marked(&db), ["C1-2"]);
    assert_eq!(db.migrate().unwrap(), since_42);
    assert_eq!(marked(&db), ["C1-1", "C1-2"]);
}
