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
