//! Index upkeep on PostgreSQL (`tthc_core::db::index_upkeep`): loose indexes are rebuilt and
//! packed ones left alone, what an interrupted rebuild left is dropped, one instance works at
//! a time; on SQLite there is nothing to do.

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{Value, json};
use tthc_core::db::Database;
use tthc_core::db::DbConnection;
use tthc_core::db::index_upkeep::{self, IndexState, Policy, Rebuilt, Upkeep};
use tthc_tests::{Status, TestApp};

use crate::procedures::seed;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// A connection of its own to `app`'s PostgreSQL database.
fn pg(app: &TestApp) -> PgConnection {
    match app.db.dedicated().unwrap() {
        DbConnection::Pg(c) => c,
        DbConnection::Sqlite(_) => panic!("not PostgreSQL"),
    }
}

/// A round of upkeep that was done: what it dropped, what it rebuilt, what failed.
fn round(db: &Database, policy: &Policy) -> (Vec<String>, Vec<Rebuilt>, Vec<(String, String)>) {
    match index_upkeep::keep_compact(db, policy).unwrap() {
        Upkeep::Done {
            dropped,
            rebuilt,
            failed,
        } => (dropped, rebuilt, failed),
        other => panic!("no round was done: {other:?}"),
    }
}

/// `n` dossiers through the bulk API, received a second apart (equal keys would be
/// deduplicated, which the estimate leaves out).
fn load(app: &TestApp, admin: &str, n: usize) {
    let dossiers: Vec<Value> = (0..n)
        .map(|i| {
            let at = format!(
                "2026-03-02T{:02}:{:02}:{:02}+07:00",
                8 + i / 3600,
                i / 60 % 60,
                i % 60
            );
            json!({"code": format!("C1-260302-{i:05}"), "procedureCode": "1.000001",
                   "unit": "C1", "channel": "online", "receivedAt": at,
                   "applicant": {"kind": "citizen", "name": "An"},
                   "events": [{"id": "1", "status": "received", "at": at}]})
        })
        .collect();
    let r = app.post("/api/v1/dossiers/bulk", admin, &Value::Array(dossiers));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    assert_eq!(r.body["created"], n, "{}", r.text);
}

fn invalid_indexes(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE NOT i.indisvalid ORDER BY 1",
    )
    .load::<Name>(conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

#[test]
fn loose_indexes_are_rebuilt_smaller_and_packed_ones_left_alone() {
    let app = TestApp::spawn();
    let db = app.db.clone();
    if !app.is_postgres() {
        assert_eq!(
            index_upkeep::keep_compact(&db, &Policy::default()).unwrap(),
            Upkeep::NotPostgres
        );
        assert!(
            index_upkeep::index_states(&mut db.dedicated().unwrap(), 0)
                .unwrap()
                .is_empty()
        );
        return;
    }
    let admin = seed(&app);
    load(&app, &admin, 4000);
    // Three dossiers in four gone, and vacuumed: the indexes keep their pages, a quarter full.
    let mut conn = pg(&app);
    conn.batch_execute(
        "DELETE FROM dossier_events WHERE dossier_id IN (SELECT id FROM dossiers WHERE id % 4 <> 0); \
         DELETE FROM dossiers WHERE id % 4 <> 0",
    )
    .unwrap();
    conn.batch_execute("VACUUM (ANALYZE) dossiers, dossier_events")
        .unwrap();
    let policy = Policy {
        min_bytes: 64 << 10,
        ..Policy::default()
    };
    let before =
        index_upkeep::index_states(&mut db.dedicated().unwrap(), policy.min_bytes).unwrap();
    let loose: Vec<&IndexState> = before.iter().filter(|s| s.is_loose(&policy)).collect();
    let names = |states: &[&IndexState]| -> Vec<String> {
        let mut names: Vec<String> = states.iter().map(|s| s.name.clone()).collect();
        names.sort();
        names
    };
    // The dossiers' code and receipt indexes are among them, four times their packed size.
    for name in ["dossiers_code_key", "dossiers_received"] {
        let state = loose.iter().find(|s| s.name == name);
        assert!(state.is_some(), "{name} not loose: {before:#?}");
        let looseness = state.and_then(|s| s.looseness()).unwrap();
        assert!(looseness > 2.5, "{name}: {looseness}");
    }
    let (dropped, rebuilt, failed) = round(&db, &policy);
    assert!(
        dropped.is_empty() && failed.is_empty(),
        "{dropped:?} {failed:?}"
    );
    let mut rebuilt_names: Vec<String> = rebuilt.iter().map(|r| r.name.clone()).collect();
    rebuilt_names.sort();
    assert_eq!(rebuilt_names, names(&loose));
    for r in &rebuilt {
        assert!(r.bytes_after * 2 < r.bytes_before, "{r:?}");
    }
    // Rebuilt, every index is within the policy of its estimate: the next round has nothing
    // to do, and the estimate is no further from a packed index than the policy allows.
    let after = index_upkeep::index_states(&mut db.dedicated().unwrap(), policy.min_bytes).unwrap();
    for s in &after {
        // The audit trail's tables were not analysed: not judged.
        let Some(looseness) = s.looseness() else {
            assert_eq!(s.table, "audit_log");
            continue;
        };
        assert!((0.7..=policy.max_looseness).contains(&looseness), "{s:?}");
    }
    let (_, rebuilt, _) = round(&db, &policy);
    assert!(rebuilt.is_empty(), "{rebuilt:?}");
    // The rebuilt indexes answer: the dossiers left, by code and by receipt.
    assert!(invalid_indexes(&mut conn).is_empty());
    let r = app.get(
        "/api/v1/dossiers?unit=C1&receivedFrom=2026-03-02T00:00:00%2B07:00&limit=500",
        &admin,
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let code = r.body["items"][499]["code"].as_str().unwrap();
    let one = app.get(&format!("/api/v1/dossiers/{code}"), &admin);
    assert_eq!(one.status, Status::OK, "{}", one.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 500);
}

#[test]
fn what_an_interrupted_rebuild_left_is_dropped_and_one_instance_works_at_a_time() {
    let app = TestApp::spawn();
    if !app.is_postgres() {
        return;
    }
    let admin = seed(&app);
    load(&app, &admin, 3);
    let db = app.db.clone();
    let mut conn = pg(&app);
    // A concurrent build that fails leaves its index invalid, as a rebuild stopped midway
    // leaves `…_ccnew`.
    let failed = conn.batch_execute(
        "CREATE UNIQUE INDEX CONCURRENTLY dossiers_received_ccnew ON dossiers (channel)",
    );
    assert!(failed.is_err());
    assert_eq!(invalid_indexes(&mut conn), ["dossiers_received_ccnew"]);
    // While another instance holds the round's lock, nothing is done.
    let mut other = pg(&app);
    let (k1, k2) = index_upkeep::LOCK_KEYS;
    other
        .batch_execute(&format!("SELECT pg_advisory_lock({k1}, {k2})"))
        .unwrap();
    assert_eq!(
        index_upkeep::keep_compact(&db, &Policy::default()).unwrap(),
        Upkeep::Busy
    );
    assert_eq!(invalid_indexes(&mut conn), ["dossiers_received_ccnew"]);
    other
        .batch_execute(&format!("SELECT pg_advisory_unlock({k1}, {k2})"))
        .unwrap();
    let round = index_upkeep::keep_compact(&db, &Policy::default()).unwrap();
    assert_eq!(
        round,
        Upkeep::Done {
            dropped: vec!["dossiers_received_ccnew".into()],
            rebuilt: Vec::new(),
            failed: Vec::new(),
        }
    );
    assert!(invalid_indexes(&mut conn).is_empty());
}

#[test]
fn a_rebuild_that_cannot_have_its_table_fails_alone_and_the_round_goes_on() {
    let app = TestApp::spawn();
    if !app.is_postgres() {
        return;
    }
    let admin = seed(&app);
    load(&app, &admin, 3);
    let mut conn = pg(&app);
    conn.batch_execute("ANALYZE").unwrap();
    // Every index judged loose, and a second's wait: the dossiers' table is held by another
    // session (a share lock, which a rebuild's waits on), the audit trail's is free.
    let policy = Policy {
        min_bytes: 0,
        max_looseness: 0.0,
        lock_wait: std::time::Duration::from_secs(1),
    };
    let mut other = pg(&app);
    other
        .batch_execute("BEGIN; LOCK TABLE dossiers IN SHARE MODE")
        .unwrap();
    let (dropped, rebuilt, failed) = round(&app.db, &policy);
    assert!(dropped.is_empty(), "{dropped:?}");
    assert!(
        failed
            .iter()
            .any(|(name, why)| name == "dossiers_code_key" && why.contains("lock")),
        "{failed:?}"
    );
    assert!(
        failed.iter().all(|(name, _)| name.starts_with("dossiers")),
        "{failed:?}"
    );
    assert!(
        rebuilt.iter().any(|r| r.name == "audit_log_pkey"),
        "{rebuilt:?}"
    );
    other.batch_execute("ROLLBACK").unwrap();
    // Nothing half-built is left, and the next round rebuilds what failed.
    assert!(invalid_indexes(&mut conn).is_empty());
    let (_, rebuilt, failed) = round(&app.db, &policy);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        rebuilt.iter().any(|r| r.name == "dossiers_code_key"),
        "{rebuilt:?}"
    );
}
