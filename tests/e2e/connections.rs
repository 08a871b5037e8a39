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
