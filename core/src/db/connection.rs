//! The connection type over both backends.
//!
//! The derive generates the backend, query builder and bind collector types that make one query
//! run on either database; they are not documented items of ours, hence the allowance.
#![allow(missing_docs)]

use diesel::MultiConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

/// A connection to either backend; every query in the crate is written once against it.
#[derive(MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Pg(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}
