//! Service settings kept in the database, shared by every instance on it.

use diesel::prelude::*;

use super::schema::settings;
use super::{DbConnection, StoreError, StoreResult};

/// Reads setting `key`, storing `init()` first if it is unset.
///
/// Safe when several instances start at once: the first insert wins, and everyone reads the
/// winner's value back.
pub fn get_or_init(
    conn: &mut DbConnection,
    key: &str,
    init: impl FnOnce() -> String,
) -> StoreResult<String> {
    if let Some(v) = get(conn, key)? {
        return Ok(v);
    }
    let inserted = diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(init())))
        .execute(conn);
    match inserted {
        Ok(_)
        | Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => get(conn, key)?.ok_or_else(|| StoreError::Setup(format!("setting {key} vanished"))),
        Err(e) => Err(e.into()),
    }
}

/// Reads setting `key`.
pub fn get(conn: &mut DbConnection, key: &str) -> StoreResult<Option<String>> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

/// Sets setting `key` to `value`.
pub fn put(conn: &mut DbConnection, key: &str, value: &str) -> StoreResult<()> {
    let updated = diesel::update(settings::table.find(key))
        .set(settings::value.eq(value))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}
