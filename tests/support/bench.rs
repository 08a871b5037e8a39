//! What the benchmarks measure of the database beside the service: its size per dossier, the
//! timing of plain SQL (the physical limit tthc's figure is set against) and, on PostgreSQL,
//! whether any request read a large table by a sequential scan.

use std::collections::BTreeMap;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::TestDb;

/// The tables that grow with the dossiers, parents first: a sequential scan of one is a plan
/// gone wrong.
pub const LARGE_TABLES: [&str; 3] = ["dossiers", "dossier_events", "audit_log"];

/// Median and slowest of `times` (milliseconds), sorted in place.
pub fn median_slowest(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}

/// Milliseconds each of `runs` calls of `f` took.
pub fn time_runs(runs: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

/// A direct connection to the benchmark's PostgreSQL database, beside the service's pool.
pub struct Pg {
    conn: PgConnection,
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    value: i64,
}

impl Pg {
    /// Connects to `db`, or `None` on SQLite.
    pub fn of(db: &TestDb) -> Option<Self> {
        db.is_postgres().then(|| Self {
            conn: PgConnection::establish(&db.url).expect("connect to the benchmark database"),
        })
    }

    /// Runs SQL statements, answers ignored.
    pub fn execute(&mut self, sql: &str) {
        self.conn.batch_execute(sql).expect(sql);
    }

    /// What autovacuum does to a freshly loaded table, done now: the visibility map lets the
    /// scores' index-only scans skip the table, and the statistics size the plans.
    pub fn vacuum_analyze(&mut self) {
        self.execute(&format!("VACUUM (ANALYZE) {}", LARGE_TABLES.join(", ")));
    }

    /// Sequential scans so far of each of [`LARGE_TABLES`]. The service's own connections are
    /// closed first (its pool opens new ones), so that they report what they counted:
    /// PostgreSQL sends a backend's counts on its exit or at most every ten seconds.
    pub fn seq_scans(&mut self) -> BTreeMap<String, i64> {
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        // Wait until they have gone, then read the counts afresh.
        for _ in 0..100 {
            let left: Vec<Named> = diesel::sql_query(
                "SELECT 'left' AS name, count(*) AS value FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .load(&mut self.conn)
            .expect("pg_stat_activity");
            if left.first().is_none_or(|l| l.value == 0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.execute("SELECT pg_stat_clear_snapshot()");
        diesel::sql_query(
            "SELECT relname::text AS name, coalesce(seq_scan, 0) AS value FROM pg_stat_user_tables \
             WHERE relname = ANY ($1)",
        )
        .bind::<diesel::sql_types::Array<Text>, _>(LARGE_TABLES.to_vec())
        .load::<Named>(&mut self.conn)
        .expect("pg_stat_user_tables")
        .into_iter()
        .map(|r| (r.name, r.value))
        .collect()
    }

    /// Bytes on disk of each table with its indexes and TOAST, and of its indexes alone.
    pub fn sizes(&mut self) -> Vec<(String, i64, i64)> {
        #[derive(QueryableByName)]
        struct Size {
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = BigInt)]
            total: i64,
            #[diesel(sql_type = BigInt)]
            indexes: i64,
        }
        diesel::sql_query(
            "SELECT relname::text AS name, pg_total_relation_size(relid) AS total, \
             pg_indexes_size(relid) AS indexes FROM pg_stat_user_tables ORDER BY 2 DESC",
        )
        .load::<Size>(&mut self.conn)
        .expect("sizes")
        .into_iter()
        .map(|s| (s.name, s.total, s.indexes))
        .collect()
    }

    /// Milliseconds of each of `runs` runs of `sql`, read whole.
    pub fn time_sql(&mut self, sql: &str, runs: usize) -> Vec<f64> {
        time_runs(runs, || {
            self.conn.batch_execute(sql).expect(sql);
        })
    }
}

/// Bytes per dossier the database takes on disk, with what takes them, as lines to print.
pub fn storage_report(db: &TestDb, dossiers: usize) -> Vec<String> {
    let per = |bytes: i64| bytes as f64 / dossiers as f64;
    match Pg::of(db) {
        Some(mut pg) => {
            let sizes = pg.sizes();
            let total: i64 = sizes.iter().map(|s| s.1).sum();
            let mut lines = vec![format!(
                "storage on PostgreSQL: {:.0} bytes per dossier (every table with its indexes and TOAST)",
                per(total)
            )];
            // The tables that grow with the dossiers; the rest is the catalogue and settings.
            for (name, all, indexes) in sizes.iter().filter(|s| per(s.1) >= 10.0) {
                lines.push(format!(
                    "  {name}: {:.0} bytes per dossier, of which indexes {:.0}",
                    per(*all),
                    per(*indexes)
                ));
            }
            lines
        }
        None => {
            let path = db.url.trim_start_matches("sqlite://");
            let bytes: u64 = ["", "-wal"]
                .iter()
                .filter_map(|s| std::fs::metadata(format!("{path}{s}")).ok())
                .map(|m| m.len())
                .sum();
            vec![format!(
                "storage on SQLite: {:.0} bytes per dossier (the file and its write-ahead log)",
                per(bytes as i64)
            )]
        }
    }
}
