//! Bulk ingest of dossiers over HTTP, against the physical limit of the database: on SQLite a
//! raw diesel multi-row insert of the same dossier and event rows; on PostgreSQL (with
//! `TTHC_TEST_DATABASE_URL` set, as the tests) `COPY` into a fresh database of the very rows the
//! service stored (dossiers, their events and their audit trail). Then the same dossiers synced in the national portal's dialect (`POST /portal-sync`), and once
//! more with a webhook subscription delivering every dossier's change to a receiver on a
//! loopback port while they are ingested (delivery throughput and lag).
//!
//! The bulk API and the dialect are each measured twice, in the order A B B A. Each run of the
//! bulk API then pushes its dossiers a second time, each with a status change (a sixth event:
//! the result handed back), into the database it filled: the vendors' everyday write; it also
//! counts the event rows that second push left as the first wrote them. Each run of the dialect
//! then syncs a progress step of each dossier (`CapNhatTienDoHoSoMC`, untimed) and the whole
//! dossiers again with the date their result was handed back, counted the same way.
//!
//! `cargo bench -p tthc-tests --bench dossier_ingest` (`TTHC_BENCH_DOSSIERS`, default 100,000,
//! each with 5 events, sent as NDJSON in batches of 10,000 over one connection; in the dialect,
//! `DongBoHoSoMC` requests of 10,000 dossiers whose dates give 4 events each).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};
use tthc_core::db::schema::{dossier_events, dossiers};
use tthc_core::db::{Database, DatabaseUrl, DbConnection};
use tthc_tests::bench::LARGE_TABLES;
use tthc_tests::receiver::Receiver;
use tthc_tests::{HttpMethod, Status, TestApp, TestDb, config};

const BATCH: usize = 10_000;

fn dossier(i: usize) -> Value {
    let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + TimeDelta::days((i / 400) as i64);
    let at = |offset_days: i64, hm: &str| {
        format!("{}T{hm}:00+07:00", day + TimeDelta::days(offset_days))
    };
    json!({
        "code": format!("C1-{}-{:04}", day.format("%y%m%d"), i % 400),
        "procedureCode": "1.000001", "unit": "C1", "channel": if i.is_multiple_of(3) { "inPerson" } else { "online" },
        "receivedAt": at(0, "08:00"),
        "applicant": {"kind": "citizen", "name": format!("Công dân {i}"), "identityNumber": format!("0010900{i:05}")},
        "components": [{"name": "Tờ khai", "sha256": format!("{i:064x}"), "digitized": true}],
        "results": [{"name": "ketqua.pdf", "mediaType": "application/pdf", "sizeBytes": 1000, "sha256": format!("{:064x}", i + 1_000_000), "pages": 1}],
        "sync": {"syncedAt": at(3, "11:00"), "syncedStatus": "finished"},
        "events": [
            {"id": "1", "status": "received", "at": at(0, "08:00")},
            {"id": "2", "status": "processing", "at": at(0, "09:00")},
            {"id": "3", "status": "supplementRequested", "at": at(1, "10:00")},
            {"id": "4", "status": "processing", "at": at(2, "10:00")},
            {"id": "5", "status": "finished", "at": at(3, "10:00")}
        ]
    })
}

/// Dossier `i` pushed again after its result was handed back: the whole dossier with a sixth
/// event, as a vendor pushes every status change.
fn returned_dossier(i: usize) -> Value {
    let mut d = dossier(i);
    let finished = d["events"][4]["at"]
        .as_str()
        .unwrap()
        .replace("T10:00", "T15:00");
    d["events"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "6", "status": "returned", "at": finished}));
    d
}

/// Dossier `i` as a vendor syncs it to the portal: the same receipt, supplement, finish, sync
/// and documents as [`dossier`] (the processing steps are not in the whole-dossier payload).
fn portal_dossier(i: usize) -> Value {
    let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + TimeDelta::days((i / 400) as i64);
    let at = |offset_days: i64, hm: &str| {
        format!(
            "{}{hm}00",
            (day + TimeDelta::days(offset_days)).format("%Y%m%d")
        )
    };
    json!({
        "MaHoSo": format!("C1-{}-{:04}", day.format("%y%m%d"), i % 400),
        "MaTTHC": "1.000001", "TenTTHC": "Đăng ký khai sinh", "DonViXuLy": "C1",
        "KenhThucHien": if i.is_multiple_of(3) { 1 } else { 2 },
        "ChuHoSo": format!("Công dân {i}"), "LoaiDoiTuong": 1, "MaDoiTuong": format!("0010900{i:05}"),
        "NgayTiepNhan": at(0, "0800"), "TrangThaiHoSo": 9, "NgayKetThucXuLy": at(3, "1000"),
        "TaiLieuNop": [{"TenTepDinhKem": "Tờ khai", "DuongDanTaiTepTin": format!("https://mc.example/f/{i}")}],
        "DanhSachHoSoBoSung": [{"NgayBoSung": at(1, "1000"), "NgayTiepNhanBoSung": at(2, "1000")}],
        "DanhSachGiayToKetQua": [{"TenGiayTo": "ketqua.pdf", "DuongDanTepTinKetQua": format!("https://mc.example/kq/{i}.pdf")}]
    })
}

/// Dossier `i` synced whole again after its result was handed back (a fifth date of its own, a
/// sixth event stored): the steps
/// synced one by one are kept after the dialect's own events.
fn portal_returned(i: usize) -> Value {
    let mut d = portal_dossier(i);
    let finished = d["NgayKetThucXuLy"].as_str().unwrap().to_owned();
    d["NgayTra"] = json!(format!("{}150000", &finished[..8]));
    d["TrangThaiHoSo"] = json!(10);
    d
}

/// The progress step of dossier `i` the vendor syncs one by one: processing on the receipt day.
fn portal_step(i: usize) -> Value {
    let d = portal_dossier(i);
    let received = d["NgayTiepNhan"].as_str().unwrap();
    json!({"MaHoSo": d["MaHoSo"], "NguoiXuLy": "Trần Thị Bình", "NoiDungXuLy": "Chuyển xử lý",
           "ThoiDiemXuLy": format!("{}090000", &received[..8]), "TrangThai": 4})
}

/// The second pass of [`ingest`]: `steps` sent first and not timed (each answer counted by
/// `added`), then `bodies`, the same dossiers with a status change each (each answer counted by
/// `updated`).
struct Again<A, U> {
    steps: Vec<String>,
    added: A,
    bodies: Vec<String>,
    updated: U,
}

/// Dossiers per second through `POST {path}` of `bodies` (each `content_type`, answering its
/// dossiers created) into a fresh database, returned with it; `created` reads how many an
/// answer created. Then, when `again` holds bodies, its steps, and the same dossiers pushed
/// again with a status change each, per second.
fn ingest(
    n: usize,
    path: &str,
    content_type: &str,
    bodies: Vec<String>,
    created: impl Fn(&Value) -> usize,
    again: Again<impl Fn(&Value) -> usize, impl Fn(&Value) -> usize>,
) -> (f64, Option<Rewrite>, TestDb) {
    let test_db = TestDb::new();
    let mut cfg = config(&test_db.url);
    cfg.workers = Some(2);
    let app = TestApp::spawn_with(cfg);
    let admin = seed(&app);
    let push = |bodies: Vec<String>, count: &dyn Fn(&Value) -> usize| {
        let started = Instant::now();
        let mut total = 0;
        for body in bodies {
            let r = app
                .raw()
                .post(app.url(path))
                .bearer_auth(&admin)
                .header("Content-Type", content_type)
                .body(body)
                .timeout(std::time::Duration::from_secs(600))
                .send()
                .unwrap();
            assert_eq!(r.status(), Status::OK, "{}", r.text().unwrap_or_default());
            total += count(&r.json().unwrap());
        }
        assert_eq!(total, n);
        n as f64 / started.elapsed().as_secs_f64()
    };
    let rate = push(bodies, &created);
    let changed = (!again.bodies.is_empty()).then(|| {
        if !again.steps.is_empty() {
            push(again.steps, &again.added);
        }
        let before = tthc_core::db::now();
        let rate = push(again.bodies, &again.updated);
        // Event rows written before the second push: those it left as stored.
        let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
        let conn = &mut *db.conn().unwrap();
        let kept: i64 = dossier_events::table
            .filter(dossier_events::received_at.lt(before))
            .count()
            .get_result(conn)
            .unwrap();
        let all: i64 = dossier_events::table.count().get_result(conn).unwrap();
        Rewrite { rate, kept, all }
    });
    drop(app);
    (rate, changed, test_db)
}

/// The second push of [`ingest`]: dossiers per second, and of the event rows stored after it,
/// how many it left as the first push wrote them.
#[derive(Default)]
struct Rewrite {
    rate: f64,
    kept: i64,
    all: i64,
}

/// `$body` with `$t` bound to the table named `$name`: one of [`LARGE_TABLES`] (the tables the
/// ingest writes rows into) or `units`.
macro_rules! with_table {
    ($name:expr, $t:ident => $body:expr) => {
        match $name {
            "units" => {
                let $t = tthc_core::db::schema::units::table;
                $body
            }
            "dossiers" => {
                let $t = dossiers::table;
                $body
            }
            "dossier_events" => {
                let $t = dossier_events::table;
                $body
            }
            _ => {
                let $t = tthc_core::db::schema::audit_log::table;
                $body
            }
        }
    };
}

/// `COPY` into a fresh database of the rows the service stored in `source`: dossiers per
/// second for the dossier and event rows alone, and with their audit trail (the change feed).
fn copy_limit(n: usize, source: &TestDb) -> (f64, f64) {
    use diesel::pg::{CopyFormat, PgConnection};
    use std::io::{Read, Write};
    let target = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&target.url).unwrap(), 1).unwrap();
    db.migrate().unwrap();
    drop(db);
    let mut to = PgConnection::establish(&target.url).unwrap();
    // Binary COPY out of every table the rows need (units for the foreign key), read whole, each
    // on a connection of its own: diesel's raw COPY TO leaves its connection busy.
    let out = |table: &str| -> Vec<u8> {
        let mut from = PgConnection::establish(&source.url).unwrap();
        let mut bytes = Vec::new();
        with_table!(table, t => diesel::copy_to(t)
            .with_format(CopyFormat::Binary)
            .load_raw(&mut from)
            .map(|mut r| r.read_to_end(&mut bytes)))
        .unwrap_or_else(|e| panic!("COPY {table} TO: {e}"))
        .unwrap_or_else(|e| panic!("COPY {table} TO: {e}"));
        bytes
    };
    let units = out("units");
    let written: Vec<Vec<u8>> = LARGE_TABLES.iter().map(|t| out(t)).collect();
    let put = |to: &mut PgConnection, table: &str, bytes: &[u8]| {
        let write = |w: &mut dyn Write| {
            w.write_all(bytes)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
        };
        with_table!(table, t => diesel::copy_from(t)
            .from_raw_data(t, write)
            .with_format(CopyFormat::Binary)
            .execute(to))
        .unwrap_or_else(|e| panic!("COPY {table} FROM: {e}"));
    };
    put(&mut to, "units", &units);
    // Twice: the dossier tables alone, then emptied and copied again with the audit trail (the
    // second pass finds the database warmer).
    let timed = |to: &mut PgConnection, tables: usize| {
        let started = Instant::now();
        to.transaction::<_, diesel::result::Error, _>(|to| {
            for (table, bytes) in LARGE_TABLES.iter().zip(&written).take(tables) {
                put(to, table, bytes);
            }
            Ok(())
        })
        .unwrap();
        n as f64 / started.elapsed().as_secs_f64()
    };
    let dossier_rows = timed(&mut to, 2);
    diesel::sql_query("TRUNCATE dossier_events, dossiers CASCADE")
        .execute(&mut to)
        .unwrap();
    let all_rows = timed(&mut to, 3);
    (dossier_rows, all_rows)
}

/// What webhook delivery did under the bulk ingest.
struct Webhooks {
    /// Ingest rate with the deliverer running.
    ingest: f64,
    /// Changes delivered per second, from the first request of the ingest to the last delivery.
    throughput: f64,
    /// Delay from a change's commit to its arrival at the receiver: median, 99th percentile, most.
    lag: [f64; 3],
    /// From the end of the ingest to the last delivery.
    drain: f64,
}

fn webhooks_under_ingest(n: usize, bodies: Vec<String>) -> Webhooks {
    let test_db = TestDb::new();
    let mut cfg = config(&test_db.url);
    cfg.workers = Some(2);
    cfg.webhooks.poll = std::time::Duration::from_millis(100);
    let app = TestApp::spawn_with(cfg);
    let admin = seed(&app);
    let receiver = Receiver::start();
    let r = app.post(
        "/api/v1/subscriptions",
        &admin,
        &json!({"url": receiver.url, "resourceTypes": ["dossier"]}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    let started = Instant::now();
    for body in bodies {
        let r = app
            .raw()
            .post(app.url("/api/v1/dossiers/bulk"))
            .bearer_auth(&admin)
            .header("Content-Type", "application/x-ndjson")
            .body(body)
            .timeout(std::time::Duration::from_secs(600))
            .send()
            .unwrap();
        assert_eq!(r.status(), Status::OK, "{}", r.text().unwrap_or_default());
    }
    let ingested = started.elapsed().as_secs_f64();
    assert!(
        wait(std::time::Duration::from_secs(600), || receiver
            .taken_changes()
            >= n),
        "every change delivered"
    );
    assert_eq!(receiver.taken_sequences().len(), n, "every change once");
    let deliveries = receiver.deliveries();
    let last = deliveries.iter().map(|d| d.at).max().unwrap();
    let mut lags: Vec<f64> = deliveries
        .iter()
        .flat_map(|d| {
            d.body["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let at: chrono::DateTime<chrono::Utc> =
                        c["at"].as_str().unwrap().parse().unwrap();
                    (d.at_utc - at).as_seconds_f64()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    let pick = |q: f64| lags[((lags.len() - 1) as f64 * q) as usize];
    Webhooks {
        ingest: n as f64 / ingested,
        throughput: n as f64 / (last - started).as_secs_f64(),
        lag: [pick(0.5), pick(0.99), pick(1.0)],
        drain: (last - started).as_secs_f64() - ingested,
    }
}

/// Waits up to `timeout` for `done`, looking every 10 ms.
fn wait(timeout: std::time::Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

fn seed(app: &TestApp) -> String {
    let admin = app.admin_token();
    app.unit("P", "province", None);
    app.unit("C1", "commune", Some("P"));
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/fields/HT",
        Some(&admin),
        Some(&json!({"name": "Hộ tịch"})),
    );
    assert_eq!(r.status, Status::OK);
    let content = json!({"name": "Đăng ký khai sinh", "field": "HT", "levels": ["commune"], "handlingUnits": ["C1"],
        "timeLimit": {"amount": 3, "measure": "workingDays"}, "fees": [], "channels": ["online"]});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000001",
        Some(&admin),
        Some(&json!({"content": content, "validFrom": "2025-01-01"})),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    admin
}

fn raw_insert(n: usize) -> f64 {
    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    db.migrate().unwrap();
    let mut conn = db.conn().unwrap();
    let DbConnection::Sqlite(c) = &mut *conn else {
        panic!("the benchmark runs on SQLite")
    };
    diesel::sql_query("INSERT INTO units (code, name, level, path, version, created_at, updated_at) VALUES ('C1', 'C1', 'commune', '/C1/', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')").execute(c).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let started = Instant::now();
    c.transaction::<_, diesel::result::Error, _>(|c| {
        for chunk_start in (0..n).step_by(500) {
            let end = (chunk_start + 500).min(n);
            let rows: Vec<_> = (chunk_start..end)
                .map(|i| {
                    let d = dossier(i);
                    (
                        dossiers::code.eq(d["code"].as_str().unwrap().to_owned()),
                        dossiers::unit_id.eq(1i64),
                        dossiers::unit_path.eq("/C1/"),
                        dossiers::procedure_code.eq("1.000001"),
                        dossiers::channel.eq("online"),
                        dossiers::status.eq("finished"),
                        dossiers::received_at.eq(now),
                        dossiers::flags.eq(0),
                        dossiers::data.eq(d.to_string()),
                        dossiers::input_hash.eq(format!("{i:032x}")),
                        dossiers::created_at.eq(now),
                        dossiers::updated_at.eq(now),
                    )
                })
                .collect();
            diesel::insert_into(dossiers::table)
                .values(rows)
                .execute(c)?;
            let events: Vec<_> = (chunk_start..end)
                .flat_map(|i| {
                    (1..=5).map(move |e| {
                        (
                            dossier_events::dossier_id.eq(i as i64 + 1),
                            dossier_events::event_id.eq(e.to_string()),
                            dossier_events::status.eq("processing"),
                            dossier_events::at.eq(now),
                            dossier_events::received_at.eq(now),
                        )
                    })
                })
                .collect();
            diesel::insert_into(dossier_events::table)
                .values(events)
                .execute(c)?;
        }
        Ok(())
    })
    .unwrap();
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("TTHC_BENCH_DOSSIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let batches = || {
        (0..n)
            .step_by(BATCH)
            .map(|start| start..(start + BATCH).min(n))
    };
    let ndjson_of = |one: fn(usize) -> Value| -> Vec<String> {
        batches()
            .map(|b| b.map(|i| one(i).to_string()).collect::<Vec<_>>().join("\n"))
            .collect()
    };
    let ndjson = || ndjson_of(dossier);
    let answered = |key: &'static str| {
        move |v: &Value| {
            assert_eq!(v["rejected"], 0, "{v}");
            v[key].as_u64().unwrap() as usize
        }
    };
    // Created, then each pushed again with its result handed back (a sixth event).
    let native = || {
        let (created, changed, db) = ingest(
            n,
            "/api/v1/dossiers/bulk",
            "application/x-ndjson",
            ndjson(),
            answered("created"),
            Again {
                steps: Vec::new(),
                added: |_: &Value| 0,
                bodies: ndjson_of(returned_dossier),
                updated: answered("updated"),
            },
        );
        (created, changed.unwrap_or_default(), db)
    };
    let portal_requests = |service: &str, one: fn(usize) -> Value| -> Vec<String> {
        batches()
            .map(|b| {
                let data: Vec<Value> = b.map(one).collect();
                json!({"service": service, "isUpdating": false, "data": data}).to_string()
            })
            .collect()
    };
    let portal_answered = |result: &'static str| {
        move |v: &Value| {
            assert_eq!(v["error_code"], 0, "{}", v["data"][0]);
            let items = v["data"].as_array().unwrap();
            items.iter().filter(|i| i["result"] == result).count()
        }
    };
    // Created; then a progress step each, and each synced whole again with its return date.
    let dialect = || {
        let (created, changed, _) = ingest(
            n,
            "/api/v1/portal-sync?mirrorsPortal=true",
            "application/json",
            portal_requests("DongBoHoSoMC", portal_dossier),
            portal_answered("created"),
            Again {
                steps: portal_requests("CapNhatTienDoHoSoMC", portal_step),
                added: portal_answered("added"),
                bodies: portal_requests("DongBoHoSoMC", portal_returned),
                updated: portal_answered("updated"),
            },
        );
        (created, changed.unwrap_or_default())
    };
    // Each endpoint twice, in the order A B B A, so that a machine slowing down or speeding up
    // during the run weighs on both alike; the faster run of each is compared.
    let (native_1, changed_1, stored) = native();
    let (dialect_1, resynced_1) = dialect();
    let postgres = stored.is_postgres();
    let raw = if postgres {
        let (dossier_rows, all_rows) = copy_limit(n, &stored);
        println!(
            "COPY into a fresh database of the rows the bulk API stored: {dossier_rows:.0} dossiers/s for the dossier and event rows, {all_rows:.0} dossiers/s with their audit trail"
        );
        all_rows
    } else {
        raw_insert(n)
    };
    drop(stored);
    let (dialect_2, resynced_2) = dialect();
    let (native_2, changed_2, _) = native();
    let (http, dialect) = (native_1.max(native_2), dialect_1.max(dialect_2));
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    println!("dossier ingest over HTTP into {backend}: {n} dossiers × 5 events");
    println!("  tthc bulk API: {native_1:.0} and {native_2:.0} dossiers/s");
    if postgres {
        println!(
            "  limit, COPY of the same rows (dossiers, events, audit trail): {raw:.0} dossiers/s"
        );
    } else {
        println!("  raw diesel insert of the same rows: {raw:.0} dossiers/s");
    }
    println!("  ratio (faster run): {:.2}", http / raw);
    println!(
        "  the same dossiers pushed again, each with a status change (a sixth event): {:.0} and {:.0} dossiers/s ({:.2} of the first push, faster runs); event rows left as stored: {} of {}",
        changed_1.rate,
        changed_2.rate,
        changed_1.rate.max(changed_2.rate) / http,
        changed_1.kept,
        changed_1.all
    );
    println!(
        "  the portal's dialect (POST /portal-sync, DongBoHoSoMC): {dialect_1:.0} and {dialect_2:.0} dossiers/s"
    );
    println!("  dialect / bulk API (faster runs): {:.2}", dialect / http);
    println!(
        "  after a progress step each, the same dossiers synced whole again with their return date (a sixth event): {:.0} and {:.0} dossiers/s ({:.2} of the first sync, faster runs); event rows left as stored: {} of {}",
        resynced_1.rate,
        resynced_2.rate,
        resynced_1.rate.max(resynced_2.rate) / dialect,
        resynced_1.kept,
        resynced_1.all
    );
    let hooks = webhooks_under_ingest(n, ndjson());
    println!("  with a webhook subscription delivering every dossier's change meanwhile:");
    println!(
        "    ingest {:.0} dossiers/s ({:.2} of the bulk API alone)",
        hooks.ingest,
        hooks.ingest / http
    );
    println!(
        "    delivery throughput {:.0} changes/s (first request to last delivery)",
        hooks.throughput
    );
    println!(
        "    lag commit → receiver: median {:.2} s, p99 {:.2} s, most {:.2} s; drained {:.2} s after the ingest ended",
        hooks.lag[0], hooks.lag[1], hooks.lag[2], hooks.drain
    );
}
