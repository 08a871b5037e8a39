//! The pool's connections are set up for their backend.

use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use tthc_core::db::{Database, DatabaseUrl, DbConnection};
use tthc_tests::TestDb;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

#[test]
fn connections_are_set_up_for_their_backend() {
    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    let mut conn = db.conn().unwrap();
    match &mut *conn {
        // Every statement planned with its parameters, timestamps read in UTC.
        DbConnection::Pg(c) => {
            let show = |c: &mut diesel::PgConnection, name: &str| {
                diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
                    .get_result::<Setting>(c)
                    .unwrap()
                    .value
            };
            assert_eq!(show(c, "plan_cache_mode"), "force_custom_plan");
            assert_eq!(show(c, "TimeZone"), "UTC");
            // Untranslated, so that a lock timeout is known by its message (this test's role
            // is a superuser; the server's own setting here is `C.UTF-8`).
            assert_eq!(show(c, "lc_messages"), "C");
        }
        // Readers beside the writer, foreign keys enforced.
        DbConnection::Sqlite(c) => {
            let pragma = |c: &mut diesel::SqliteConnection, name: &str| {
                diesel::sql_query(format!(
                    "SELECT CAST({name} AS TEXT) AS value FROM pragma_{name}"
                ))
                .get_result::<Setting>(c)
                .unwrap()
                .value
            };
            assert_eq!(pragma(c, "journal_mode"), "wal");
            assert_eq!(pragma(c, "foreign_keys"), "1");
        }
    }
}

/// A role that may not set `lc_messages` still gets working connections, with the server's
/// messages, and the service can tell whether they are English.
#[test]
fn a_role_that_may_not_choose_the_messages_language_still_connects() {
    let test_db = TestDb::new();
    if !test_db.is_postgres() {
        return;
    }
    let admin = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    {
        let mut conn = admin.conn().unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut *conn,
            "DO $$ BEGIN CREATE ROLE tthc_plain_role LOGIN; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .unwrap();
    }
    let (scheme, rest) = test_db.url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let url = format!("{scheme}://tthc_plain_role@{host}");
    let ask = "SELECT current_setting('lc_messages') || ' ' || current_user AS value";
    // What the role gets from the server, on a connection of its own.
    let mut own = <diesel::PgConnection as diesel::Connection>::establish(&url).unwrap();
    let server = diesel::sql_query(ask)
        .get_result::<Setting>(&mut own)
        .unwrap()
        .value;
    let db = Database::open(&DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let mut conn = db.conn().unwrap();
    let DbConnection::Pg(c) = &mut *conn else {
        unreachable!()
    };
    let value = diesel::sql_query(ask)
        .get_result::<Setting>(c)
        .unwrap()
        .value;
    assert_eq!(value, server);
    assert!(value.ends_with(" tthc_plain_role"), "{value}");
    drop(conn);
    // This machine's server gives English messages (`C.UTF-8`).
    assert_eq!(db.messages_untranslated().unwrap(), Ok(()));
    drop((db, own));
    diesel::connection::SimpleConnection::batch_execute(
        &mut *admin.conn().unwrap(),
        "DROP ROLE IF EXISTS tthc_plain_role",
    )
    .unwrap();
}

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The PostgreSQL backend serving `conn`.
fn backend_of(conn: &mut DbConnection) -> i32 {
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Backend>(conn)
        .unwrap()
        .pid
}

/// A connection the server closed while it sat in the pool is replaced before it is lent: the
/// next statement works, on another backend.
#[test]
fn a_connection_closed_in_the_pool_is_replaced_before_use() {
    use diesel::Connection;
    let test_db = TestDb::new();
    let url = DatabaseUrl::parse(&test_db.url).unwrap();
    if url.backend != tthc_core::db::Backend::Postgres {
        // An SQLite connection is a file handle: nothing outside can close it.
        return;
    }
    let db = Database::open(&url, 1).unwrap();
    let first = backend_of(&mut db.conn().unwrap());
    let mut admin = diesel::PgConnection::establish(&test_db.url).unwrap();
    // With a timeout it returns once the backend has gone, not when the signal is sent.
    diesel::sql_query("SELECT pg_terminate_backend($1, 5000) AS pid")
        .bind::<diesel::sql_types::Integer, _>(first)
        .execute(&mut admin)
        .unwrap();
    let second = backend_of(&mut db.conn().unwrap());
    assert_ne!(first, second);
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = Text)]
    query: String,
    #[diesel(sql_type = Text)]
    state: String,
}

/// Lending a connection costs no round trip: the pool's check reads what the server already
/// sent, and sends nothing, so the backend's last statement is still the last request's.
#[test]
fn lending_a_connection_sends_nothing_to_the_server() {
    use diesel::Connection;
    let test_db = TestDb::new();
    let url = DatabaseUrl::parse(&test_db.url).unwrap();
    if url.backend != tthc_core::db::Backend::Postgres {
        return;
    }
    let db = Database::open(&url, 1).unwrap();
    let pid = backend_of(&mut db.conn().unwrap());
    let lent = db.conn().unwrap();
    let mut admin = diesel::PgConnection::establish(&test_db.url).unwrap();
    let activity = diesel::sql_query(
        "SELECT query, coalesce(state, '') AS state FROM pg_stat_activity WHERE pid = $1",
    )
    .bind::<diesel::sql_types::Integer, _>(pid)
    .get_result::<Activity>(&mut admin)
    .unwrap();
    assert_eq!(activity.query, "SELECT pg_backend_pid() AS pid");
    assert_eq!(activity.state, "idle");
    drop(lent);
}

/// A connection lost while a request holds it (what a server gone without closing its
/// connections looks like to the request that finds out) fails that request as retryable (503),
/// not as a fault; the pool replaces the connection before lending it again.
#[test]
fn a_connection_lost_under_a_request_is_answered_retry_and_replaced() {
    use diesel::Connection;
    let test_db = TestDb::new();
    let url = DatabaseUrl::parse(&test_db.url).unwrap();
    if url.backend != tthc_core::db::Backend::Postgres {
        return;
    }
    let db = Database::open(&url, 1).unwrap();
    let mut lent = db.conn().unwrap();
    let first = backend_of(&mut lent);
    let mut admin = diesel::PgConnection::establish(&test_db.url).unwrap();
    diesel::sql_query("SELECT pg_terminate_backend($1, 5000) AS pid")
        .bind::<diesel::sql_types::Integer, _>(first)
        .execute(&mut admin)
        .unwrap();
    let lost = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Backend>(&mut *lent)
        .map(|b| b.pid)
        .map_err(tthc_core::db::StoreError::from)
        .unwrap_err();
    assert!(lost.is_connection_lost(), "{lost:?}");
    assert!(!lost.is_busy(), "{lost:?}");
    drop(lent);
    let second = backend_of(&mut db.conn().unwrap());
    assert_ne!(first, second);
}

/// A connection given back with a transaction still open on it is closed, which rolls the
/// transaction back, and never lent again: what was written in it is gone, and what the next
/// request writes is committed and seen by others.
#[test]
fn a_connection_given_back_inside_a_transaction_is_not_lent_again() {
    use diesel::Connection;
    use diesel::connection::TransactionManager;

    let rows = |c: &mut DbConnection, key: &str| {
        diesel::sql_query("SELECT count(*) AS n FROM settings WHERE key = $1")
            .bind::<Text, _>(key)
            .get_result::<Count>(c)
            .unwrap()
            .n
    };
    let insert = |c: &mut DbConnection, key: &str| {
        diesel::sql_query("INSERT INTO settings (key, value) VALUES ($1, 'x')")
            .bind::<Text, _>(key)
            .execute(c)
            .unwrap();
    };
    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    db.migrate().unwrap();
    {
        let mut abandoned = db.conn().unwrap();
        <DbConnection as Connection>::TransactionManager::begin_transaction(&mut *abandoned)
            .unwrap();
        insert(&mut abandoned, "abandoned");
    }
    insert(&mut db.conn().unwrap(), "kept");
    // Read from both connections the pool holds now.
    let mut a = db.conn().unwrap();
    let mut b = db.conn().unwrap();
    for conn in [&mut a, &mut b] {
        assert_eq!(rows(conn, "abandoned"), 0);
        assert_eq!(rows(conn, "kept"), 1);
    }
}

/// A startup step (migrating, loading the demo) that fails with its transaction left aborted,
/// where not even the unlock can run, does not keep its lock: another instance takes the same
/// step at once after it instead of waiting for ever, and the first one's pool still lends a
/// working connection.
#[test]
fn a_startup_step_that_fails_leaves_no_lock_behind() {
    use diesel::connection::SimpleConnection;
    use tthc_core::db::StartupStep;
    let test_db = TestDb::new();
    let url = DatabaseUrl::parse(&test_db.url).unwrap();
    if url.backend != tthc_core::db::Backend::Postgres {
        // SQLite takes no lock: each caller's step bears the race itself.
        return;
    }
    let first = Database::open(&url, 1).unwrap();
    let failed = first.one_instance_at_a_time(StartupStep::Migrate, |conn| {
        conn.batch_execute("BEGIN; SELECT 1/0")?;
        Ok(())
    });
    assert!(failed.is_err());
    let second = Database::open(&url, 1).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ran = second.one_instance_at_a_time(StartupStep::Migrate, |_| Ok(()));
        tx.send(ran.map_err(|e| e.to_string())).ok();
    });
    let ran = rx.recv_timeout(std::time::Duration::from_secs(15));
    assert_eq!(
        ran,
        Ok(Ok(())),
        "the second instance waited for the lock the first one's failed step held"
    );
    first.conn().unwrap().batch_execute("SELECT 1").unwrap();
}

/// `read_tx` reads one snapshot: a row another connection commits after its first read is not
/// in its later reads. Closing a month counts every unit on it, so that a unit moved or
/// dossiers pushed meanwhile are in every unit's figures or in none.
#[test]
fn a_read_transaction_reads_one_snapshot() {
    use diesel::connection::SimpleConnection;
    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    let mut reader = db.conn().unwrap();
    let mut writer = db.conn().unwrap();
    reader
        .batch_execute("CREATE TABLE snapshot_probe (n INTEGER)")
        .unwrap();
    let count = |c: &mut DbConnection| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM snapshot_probe")
            .get_result::<Count>(c)
            .unwrap()
            .n
    };
    let seen = tthc_core::db::read_tx(&mut reader, |r| {
        let before = count(r);
        writer
            .batch_execute("INSERT INTO snapshot_probe VALUES (1)")
            .unwrap();
        Ok((before, count(r)))
    })
    .unwrap();
    assert_eq!(seen, (0, 0), "the insert committed meanwhile is not seen");
    assert_eq!(count(&mut reader), 1, "after the transaction it is");
    // It only reads: on PostgreSQL a write inside it is refused.
    if test_db.is_postgres() {
        let write = tthc_core::db::read_tx(&mut reader, |r| {
            Ok(r.batch_execute("INSERT INTO snapshot_probe VALUES (2)")?)
        });
        assert!(write.is_err());
    }
    reader.batch_execute("DROP TABLE snapshot_probe").unwrap();
}
