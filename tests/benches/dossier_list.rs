//! A filtered dossier list over 1,000,000 stored dossiers: latency of one client, the live 766
//! score of the province (month and year), the first page of an indicator's misses and the
//! gains, then 32 concurrent clients with `wrk` when it is installed (`apt-get install wrk`),
//! on one instance of the service and on two sharing the database; and the bytes each dossier
//! takes on disk.
//!
//! On SQLite by default; on PostgreSQL with `TTHC_TEST_DATABASE_URL` set, as the tests. There,
//! each figure is printed beside the physical limit measured in the same run on a direct
//! connection: the same page as one keyset SQL statement (and under 32 clients with `pgbench`),
//! one aggregate over the period's dossiers for the scores, misses and gains. It fails when a
//! request read a large table by a sequential scan (`pg_stat_user_tables`), so that CI, running
//! it at a reduced size, catches a plan gone wrong.
//!
//! `cargo bench -p tthc-tests --bench dossier_list` (`TTHC_BENCH_DOSSIERS`, default 1,000,000;
//! `TTHC_BENCH_PROVINCES`, default 1, spreads them round that many provinces, the measured one
//! among them, as a national deployment holds 34; `TTHC_BENCH_KEEP=1` keeps the database and
//! prints its URL).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use serde_json::{Value, json};
use tthc_tests::bench::{Pg, median_slowest, storage_report, time_runs};
use tthc_tests::{HttpMethod, Status, TestApp, TestDb, config};

const BATCH: usize = 10_000;
const PATH: &str = "/api/v1/dossiers?unit=D1&status=finished&receivedFrom=2026-03-01T00:00:00%2B07:00&receivedTo=2026-04-01T00:00:00%2B07:00&limit=100";

/// The code of province `k` (0 is `P`, the one measured), and the prefix of its units' codes.
fn province(k: usize) -> (String, String) {
    if k == 0 {
        ("P".into(), String::new())
    } else {
        (format!("P{k:02}"), format!("P{k:02}"))
    }
}

fn dossier(i: usize, n: usize, provinces: usize) -> Value {
    // Spread over 660 days from 2025-01-01, round the provinces; 100 communes under 4 districts
    // in each.
    let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + TimeDelta::days((i * 660 / n) as i64);
    let (_, prefix) = province(i % provinces);
    let commune = format!("{prefix}C{:02}", (i / provinces) % 100);
    let at = |d: i64, hm: &str| format!("{}T{hm}:00+07:00", day + TimeDelta::days(d));
    // Receipts a second apart through the first hour of the day, as real ones are: equal
    // instants would let B-tree deduplication shrink the indexes without the code.
    let second = (i / provinces) % 3600;
    let received = format!("{day}T08:{:02}:{:02}+07:00", second / 60, second % 60);
    let mut events = vec![json!({"id": "1", "status": "received", "at": received})];
    if i % 4 != 3 {
        events.push(json!({"id": "2", "status": "processing", "at": at(0, "09:00")}));
        events.push(json!({"id": "3", "status": "finished", "at": at(2, "10:00")}));
    }
    json!({
        "code": format!("{commune}-{}-{:06}", day.format("%y%m%d"), i),
        "procedureCode": "1.000001", "unit": commune, "channel": "online",
        "receivedAt": received,
        "applicant": {"kind": "citizen", "name": "Công dân"},
        "events": events
    })
}

/// Creates a unit with the token given: `TestApp::unit` signs in for each unit, and a sign-in
/// costs a password hash, which at 34 provinces' 3,570 units is minutes.
fn unit(app: &TestApp, admin: &str, code: &str, level: &str, parent: Option<&str>) {
    let r = app.post(
        "/api/v1/units",
        admin,
        &json!({"code": code, "name": format!("Đơn vị {code}"), "level": level, "parent": parent}),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.body);
}

fn seed(app: &TestApp, provinces: usize) -> String {
    let admin = app.admin_token();
    for k in 0..provinces {
        let (code, prefix) = province(k);
        unit(app, &admin, &code, "province", None);
        for d in 0..4 {
            unit(
                app,
                &admin,
                &format!("{prefix}D{d}"),
                "district",
                Some(&code),
            );
        }
        for c in 0..100 {
            unit(
                app,
                &admin,
                &format!("{prefix}C{c:02}"),
                "commune",
                Some(&format!("{prefix}D{}", c / 25)),
            );
        }
    }
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/fields/HT",
        Some(&admin),
        Some(&json!({"name": "Hộ tịch"})),
    );
    assert_eq!(r.status, Status::OK);
    let content = json!({"name": "Đăng ký khai sinh", "field": "HT", "levels": ["commune"], "handlingUnits": ["C00"],
        "timeLimit": {"amount": 3, "measure": "workingDays"}, "fees": [], "channels": ["online"]});
    let r = app.call(
        HttpMethod::PUT,
        "/api/v1/procedures/1.000001",
        Some(&admin),
        Some(&json!({"content": content, "validFrom": "2024-01-01"})),
    );
    assert_eq!(r.status, Status::CREATED, "{}", r.text);
    admin
}

/// The requests measured after the list page, each with the period it counts.
const REQUESTS: [(&str, &str); 8] = [
    ("/api/v1/units/P/scores/2026-03", "2026-03"),
    ("/api/v1/units/P/scores/2026", "2026"),
    (
        "/api/v1/units/P/scores/2026-03/indicators/ON_TIME_PROCESSING/misses?limit=50",
        "2026-03",
    ),
    (
        "/api/v1/units/P/scores/2026-03/indicators/DOSSIER_SYNC/misses?limit=50",
        "2026-03",
    ),
    (
        "/api/v1/units/D1/scores/2026-03/indicators/ON_TIME_PROCESSING/misses?limit=50",
        "2026-03",
    ),
    (
        "/api/v1/units/P/scores/2026-03/indicators/ONLINE_PAYMENT_FORMALITY/misses?limit=50",
        "2026-03",
    ),
    ("/api/v1/units/P/scores/2026-03/gains", "2026-03"),
    // The overdue stock in the middle of the month: the dossiers open then, of every receipt
    // before it (its "limit" is the month's aggregate, a smaller read).
    (
        "/api/v1/units/P/overdue?at=2026-03-15T00:00:00%2B07:00",
        "2026-03",
    ),
];

/// The list page as one SQL statement: the columns the list shows, the same filters, the
/// order read from the receipt index, 100 rows.
const KEYSET_PAGE: &str = "SELECT code, unit_path, procedure_code, field, channel, status, received_at, \
    due_at, effective_due_at, ended_at, timing, flags, synced_at FROM dossiers \
    WHERE unit_path LIKE '/P/D1/%' AND status = 'finished' \
    AND received_at >= '2026-03-01 00:00:00' AND received_at < '2026-04-01 00:00:00' \
    ORDER BY received_at DESC, code DESC LIMIT 100";

/// One aggregate over the dossiers received in a period, the bulk of what its score reads,
/// over the columns the score reads: one range of the province's receipt index.
fn aggregate(period: &str) -> String {
    let (from, to) = match period {
        "2026" => ("2026-01-01", "2027-01-01"),
        _ => ("2026-03-01", "2026-04-01"),
    };
    format!(
        "SELECT count(*), count(ended_at), count(*) FILTER (WHERE ended_at > late_from), \
         count(synced_at), count(*) FILTER (WHERE channel = 'online'), \
         count(*) FILTER (WHERE status = 'finished'), count(DISTINCT procedure_code), \
         sum(facts & 2048) FROM dossiers WHERE split_part(unit_path, '/', 2) = 'P' \
         AND unit_path LIKE '/P/%' AND facts < 1073741824 \
         AND received_at >= '{from}' AND received_at < '{to}'"
    )
}

/// The sequential scans of large tables since `before`, noted in `found` under `what`.
fn seq_scans_since(
    pg: &mut Pg,
    before: &mut BTreeMap<String, i64>,
    what: &str,
    found: &mut Vec<String>,
) {
    let now = pg.seq_scans();
    for (table, n) in &now {
        let was = before.get(table).copied().unwrap_or(0);
        if *n != was {
            found.push(format!("{what}: {} sequential scan(s) of {table}", n - was));
        }
    }
    *before = now;
}

/// `wrk` for 10 s with `connections` clients on `url`, its report; `None` when not installed.
fn wrk(url: &str, token: &str, connections: usize) -> Option<String> {
    Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            "-d10s",
            "--latency",
            "-H",
        ])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The requests per second of a `wrk` report.
fn requests_per_second(report: &str) -> Option<f64> {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

/// One round of the index upkeep the service runs daily, and the storage it leaves.
fn upkeep(app: &TestApp, test_db: &TestDb, n: usize) {
    use tthc_core::db::index_upkeep::{self, Policy, Upkeep};
    let t = Instant::now();
    let round = index_upkeep::keep_compact(&app.db, &Policy::default()).unwrap();
    let Upkeep::Done {
        rebuilt, failed, ..
    } = round
    else {
        panic!("no upkeep round: {round:?}");
    };
    assert!(failed.is_empty(), "{failed:?}");
    println!(
        "  index upkeep (tthc reindex): {} index(es) rebuilt in {:.1} s",
        rebuilt.len(),
        t.elapsed().as_secs_f64()
    );
    for r in &rebuilt {
        println!(
            "    {}: {:.1} → {:.1} bytes per dossier ({:.1} s)",
            r.name,
            r.bytes_before as f64 / n as f64,
            r.bytes_after as f64 / n as f64,
            r.took.as_secs_f64()
        );
    }
    for line in storage_report(test_db, n) {
        println!("  after the upkeep, {line}");
    }
}

fn main() {
    let n: usize = std::env::var("TTHC_BENCH_DOSSIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let provinces: usize = std::env::var("TTHC_BENCH_PROVINCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let test_db = TestDb::new();
    let url = test_db.url.clone();
    let backend = if test_db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut cfg = config(&test_db.url);
    cfg.workers = Some(2);
    // The benchmark runs the upkeep's round itself, after the load; the service's own first
    // round would come ten minutes into a long load.
    cfg.index_upkeep = None;
    let app = TestApp::spawn_with(cfg);
    let admin = seed(&app, provinces);
    let loading = Instant::now();
    for start in (0..n).step_by(BATCH) {
        let body = (start..(start + BATCH).min(n))
            .map(|i| dossier(i, n, provinces).to_string())
            .collect::<Vec<_>>()
            .join("\n");
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
    println!(
        "{backend}: loaded {n} dossiers over {provinces} province(s) in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let mut pg = Pg::of(&test_db);
    if let Some(pg) = &mut pg {
        let t = Instant::now();
        pg.vacuum_analyze();
        println!(
            "  VACUUM (ANALYZE), as autovacuum does after a load: {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    for line in storage_report(&test_db, n) {
        println!("{line}");
    }
    if pg.is_some() {
        upkeep(&app, &test_db, n);
    }
    let mut scans = pg.as_mut().map(Pg::seq_scans).unwrap_or_default();
    let _test_db = if std::env::var_os("TTHC_BENCH_KEEP").is_some() {
        println!("keeping the database: {url}");
        std::mem::forget(test_db);
        None
    } else {
        Some(test_db)
    };
    let mut found: Vec<String> = Vec::new();

    let first = app.get(PATH, &admin);
    assert_eq!(first.status, Status::OK, "{}", first.text);
    let rows = first.body["items"].as_array().unwrap().len();
    let (median, p99) = {
        let mut times = time_runs(300, || {
            let r = app
                .raw()
                .get(app.url(PATH))
                .bearer_auth(&admin)
                .send()
                .unwrap();
            assert_eq!(r.status(), Status::OK);
            let _ = r.bytes().unwrap();
        });
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], times[times.len() * 99 / 100])
    };
    println!("GET {PATH}");
    println!("  {rows} rows; one client: median {median:.2} ms, p99 {p99:.2} ms");
    if let Some(pg) = &mut pg {
        seq_scans_since(pg, &mut scans, "the list page", &mut found);
        let (limit, _) = median_slowest(&mut pg.time_sql(KEYSET_PAGE, 300));
        println!(
            "  limit, the same page as one keyset SQL statement on a direct connection: median {limit:.2} ms; tthc / limit {:.1}",
            median / limit
        );
    }

    // The live 766 score of the whole province for a month and for the year (every dossier),
    // the first page of an indicator's misses, and the gains of the province for the month.
    let mut limits: BTreeMap<&str, f64> = BTreeMap::new();
    for (path, period) in REQUESTS {
        let (median, slowest) = median_slowest(&mut time_runs(20, || {
            let r = app.get(path, &admin);
            assert_eq!(r.status, Status::OK, "{}", r.text);
        }));
        println!("GET {path}: median {median:.1} ms, slowest {slowest:.1} ms");
        if let Some(pg) = &mut pg {
            seq_scans_since(pg, &mut scans, path, &mut found);
            let limit = *limits
                .entry(period)
                .or_insert_with(|| median_slowest(&mut pg.time_sql(&aggregate(period), 20)).0);
            println!(
                "  limit, one aggregate over the dossiers of the province received in {period}: median {limit:.1} ms; tthc / limit {:.1}",
                median / limit
            );
        }
    }

    let one = match wrk(&app.url(PATH), &admin, 32) {
        Some(out) => {
            println!("  32 clients (wrk -t2 -c32 -d10s):");
            for line in out
                .lines()
                .filter(|l| l.contains('%') || l.contains("Requests/sec") || l.contains("Non-2xx"))
            {
                println!("   {}", line.trim());
            }
            requests_per_second(&out)
        }
        None => {
            println!(
                "  wrk is not installed: apt-get install wrk, then run again for 32 concurrent clients"
            );
            None
        }
    };
    // A second instance of the service on the same database, each taking 16 of the 32 clients.
    if let Some(one) = one {
        let mut cfg = config(&url);
        cfg.workers = Some(2);
        let second = TestApp::spawn_with(cfg);
        let urls = [app.url(PATH), second.url(PATH)];
        let both: Vec<Option<f64>> = std::thread::scope(|s| {
            let runs: Vec<_> = urls
                .iter()
                .map(|u| s.spawn(|| wrk(u, &admin, 16).as_deref().and_then(requests_per_second)))
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let total: f64 = both.iter().flatten().sum();
        println!(
            "  two instances on one database, 16 clients each: {:.0} + {:.0} = {total:.0} requests/s, {:.2}× one instance",
            both[0].unwrap_or(0.0),
            both[1].unwrap_or(0.0),
            total / one
        );
        drop(second);
    }
    if let Some(pg) = &mut pg {
        seq_scans_since(pg, &mut scans, "32 clients", &mut found);
        let script = std::env::temp_dir().join(format!("tthc-keyset-{}.sql", std::process::id()));
        std::fs::write(&script, format!("{KEYSET_PAGE};\n")).unwrap();
        match Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-c32", "-j2", "-T10", "-f"])
            .arg(&script)
            .arg(&url)
            .output()
        {
            Ok(out) => {
                let text = String::from_utf8_lossy(&out.stdout);
                println!("  limit, the keyset page under 32 clients (pgbench -c32 -j2 -T10):");
                for line in text
                    .lines()
                    .filter(|l| l.starts_with("latency") || l.starts_with("tps"))
                {
                    println!("   {}", line.trim());
                }
            }
            Err(_) => println!("  pgbench is not installed: it comes with PostgreSQL"),
        }
        let _ = std::fs::remove_file(script);
        assert!(
            found.is_empty(),
            "a plan regressed to a sequential scan of a large table:\n{}",
            found.join("\n")
        );
        println!("no request read dossiers, their events or the audit log by a sequential scan");
    }
    drop(app);
}
