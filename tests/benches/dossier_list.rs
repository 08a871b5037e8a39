//! A filtered dossier list over 1,000,000 stored dossiers on SQLite: latency of one client, the
//! live 766 score of the province (month and year), the first page of an indicator's misses and
//! the gains, then 32 concurrent clients with `wrk` when it is installed
//! (`apt-get install wrk`).
//!
//! `cargo bench -p tthc-tests --bench dossier_list` (`TTHC_BENCH_DOSSIERS`, default 1,000,000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::process::Command;
use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use serde_json::{Value, json};
use tthc_tests::{HttpMethod, Status, TestApp, TestDb, config};

const BATCH: usize = 10_000;
const PATH: &str = "/api/v1/dossiers?unit=D1&status=finished&receivedFrom=2026-03-01T00:00:00%2B07:00&receivedTo=2026-04-01T00:00:00%2B07:00&limit=100";

fn dossier(i: usize, n: usize) -> Value {
    // Spread over 660 days from 2025-01-01; 100 communes under 4 districts.
    let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + TimeDelta::days((i * 660 / n) as i64);
    let commune = format!("C{:02}", i % 100);
    let at = |d: i64, hm: &str| format!("{}T{hm}:00+07:00", day + TimeDelta::days(d));
    let mut events = vec![json!({"id": "1", "status": "received", "at": at(0, "08:00")})];
    if i % 4 != 3 {
        events.push(json!({"id": "2", "status": "processing", "at": at(0, "09:00")}));
        events.push(json!({"id": "3", "status": "finished", "at": at(2, "10:00")}));
    }
    json!({
        "code": format!("{commune}-{}-{:06}", day.format("%y%m%d"), i),
        "procedureCode": "1.000001", "unit": commune, "channel": "online",
        "receivedAt": at(0, "08:00"),
        "applicant": {"kind": "citizen", "name": "Công dân"},
        "events": events
    })
}

fn seed(app: &TestApp) -> String {
    let admin = app.admin_token();
    app.unit("P", "province", None);
    for d in 0..4 {
        app.unit(&format!("D{d}"), "district", Some("P"));
    }
    for c in 0..100 {
        app.unit(
            &format!("C{c:02}"),
            "commune",
            Some(&format!("D{}", c / 25)),
        );
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

fn main() {
    let n: usize = std::env::var("TTHC_BENCH_DOSSIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let test_db = TestDb::new();
    assert!(
        !test_db.is_postgres(),
        "run the list benchmark without TTHC_TEST_DATABASE_URL (SQLite)"
    );
    let mut cfg = config(&test_db.url);
    cfg.workers = Some(2);
    let app = TestApp::spawn_with(cfg);
    let admin = seed(&app);
    let loading = Instant::now();
    for start in (0..n).step_by(BATCH) {
        let body = (start..(start + BATCH).min(n))
            .map(|i| dossier(i, n).to_string())
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
        assert_eq!(r.status(), Status::OK);
    }
    println!(
        "loaded {n} dossiers in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    let first = app.get(PATH, &admin);
    assert_eq!(first.status, Status::OK, "{}", first.text);
    let rows = first.body["items"].as_array().unwrap().len();
    let mut times: Vec<f64> = (0..300)
        .map(|_| {
            let t = Instant::now();
            let r = app
                .raw()
                .get(app.url(PATH))
                .bearer_auth(&admin)
                .send()
                .unwrap();
            assert_eq!(r.status(), Status::OK);
            let _ = r.bytes().unwrap();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("GET {PATH}");
    println!(
        "  {rows} rows; one client: median {:.2} ms, p99 {:.2} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );

    // The live 766 score of the whole province for a month, and for the year (every dossier).
    for period in ["2026-03", "2026"] {
        let path = format!("/api/v1/units/P/scores/{period}");
        let mut times: Vec<f64> = (0..20)
            .map(|_| {
                let t = Instant::now();
                let r = app.get(&path, &admin);
                assert_eq!(r.status, Status::OK, "{}", r.text);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "GET {path}: median {:.1} ms, slowest {:.1} ms",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }

    // The first page of an indicator's misses, and the gains of the province for the month.
    for path in [
        "/api/v1/units/P/scores/2026-03/indicators/ON_TIME_PROCESSING/misses?limit=50",
        "/api/v1/units/P/scores/2026-03/indicators/DOSSIER_SYNC/misses?limit=50",
        "/api/v1/units/D1/scores/2026-03/indicators/ON_TIME_PROCESSING/misses?limit=50",
        "/api/v1/units/P/scores/2026-03/indicators/ONLINE_PAYMENT_FORMALITY/misses?limit=50",
        "/api/v1/units/P/scores/2026-03/gains",
    ] {
        let mut times: Vec<f64> = (0..20)
            .map(|_| {
                let t = Instant::now();
                let r = app.get(path, &admin);
                assert_eq!(r.status, Status::OK, "{}", r.text);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "GET {path}: median {:.1} ms, slowest {:.1} ms",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }

    match Command::new("wrk")
        .args([
            "-t2",
            "-c32",
            "-d10s",
            "--latency",
            "-H",
            &format!("Authorization: Bearer {admin}"),
            &app.url(PATH),
        ])
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            println!("  32 clients (wrk -t2 -c32 -d10s):");
            for line in text
                .lines()
                .filter(|l| l.contains('%') || l.contains("Requests/sec") || l.contains("Non-2xx"))
            {
                println!("   {}", line.trim());
            }
        }
        Err(_) => println!(
            "  wrk is not installed: apt-get install wrk, then run again for 32 concurrent clients"
        ),
    }
    drop(app);
    drop(test_db);
}
