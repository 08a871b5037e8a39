//! The pool's connections are set up for their backend.

use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use tthc_core::db::{Database, DatabaseUrl, DbConnection};
use tthc_tests::TestDb;

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

/// `on_one_snapshot` reads as of one instant: a change another connection commits between two of
/// its statements is not seen by the second (on PostgreSQL, read committed would see it).
#[test]
fn reads_on_one_snapshot_do_not_see_a_change_made_between_them() {
    use tthc_core::db::{StoreError, on_one_snapshot};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |c: &mut DbConnection| -> Result<i64, StoreError> {
        Ok(diesel::sql_query("SELECT count(*) AS n FROM settings")
            .get_result::<Count>(c)?
            .n)
    };
    let test_db = TestDb::new();
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    db.migrate().unwrap();
    let mut reader = db.conn().unwrap();
    let mut writer = db.conn().unwrap();
    let (first, second) = on_one_snapshot(&mut reader, |c| {
        let first = count(c)?;
        diesel::sql_query("INSERT INTO settings (key, value) VALUES ('snapshot-test', 'x')")
            .execute(&mut *writer)?;
        Ok((first, count(c)?))
    })
    .unwrap();
    assert_eq!(first, second);
    // Outside it, the change is seen.
    assert_eq!(count(&mut reader).unwrap(), first + 1);
}
