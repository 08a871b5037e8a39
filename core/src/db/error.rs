//! The storage layer's error type.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::InvalidParam;

/// What can go wrong when reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or is outside what the caller may see).
    #[error("{resource} {id:?} not found")]
    NotFound {
        /// Kind of record.
        resource: &'static str,
        /// Its identifier.
        id: String,
    },
    /// The write would break a uniqueness or existence rule.
    #[error("conflict on {}: {}", .0.name, .0.reason)]
    Conflict(InvalidParam),
    /// The input breaks a domain rule.
    #[error("invalid input")]
    Invalid(Vec<InvalidParam>),
    /// The record exists, but belongs to units outside the caller's grant (records that are
    /// public to read, such as procedures; private records answer [`StoreError::NotFound`]).
    #[error("{0}")]
    OutsideGrant(String),
    /// The record changed since the caller read it (`If-Match` mismatch).
    #[error("version mismatch: the record is at version {current}")]
    VersionMismatch {
        /// The version stored now.
        current: i64,
    },
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] DieselError),
    /// No connection could be had from the pool.
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// Connecting, configuring or migrating failed.
    #[error("{0}")]
    Setup(String),
}

impl StoreError {
    /// A single invalid field.
    pub fn invalid(param: InvalidParam) -> Self {
        Self::Invalid(vec![param])
    }

    /// Maps a unique-constraint violation to a conflict on `field`; other errors pass through.
    pub fn unique_as_conflict(err: DieselError, field: &str, reason: &str) -> Self {
        match err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict(InvalidParam::new(field, reason))
            }
            other => Self::Database(other),
        }
    }
}

impl StoreError {
    /// Whether the database was too busy to do the work now (SQLite's write lock held past the
    /// busy timeout, a PostgreSQL lock or serialization conflict): a retry later may succeed.
    pub fn is_busy(&self) -> bool {
        match self {
            Self::Pool(_) => true,
            Self::Database(DieselError::DatabaseError(kind, info)) => {
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || [
                        "database is locked",
                        "database table is locked",
                        "lock timeout",
                        "deadlock detected",
                    ]
                    .iter()
                    .any(|m| info.message().contains(m))
            }
            _ => false,
        }
    }
}

/// Result of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;
