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

    /// Whether the connection to the database was lost under a request: the pool lends a
    /// connection without a round trip to check it, so one whose server went away without
    /// closing it (a host's crash, a failover) fails its next request, and is replaced
    /// afterwards. A retry gets a working connection; whether a write that failed so was made
    /// is not known (the loss may have come with its commit).
    pub fn is_connection_lost(&self) -> bool {
        // diesel says `ClosedConnection` when libpq finds the connection bad after a statement;
        // a send on a connection already gone, and a `COPY`, fail with other kinds, which also
        // cover errors that are not a loss (a command already in progress, too many
        // parameters): for those, libpq's words for a lost connection decide.
        const LOST: [&str; 5] = [
            "server closed the connection unexpectedly",
            "no connection to the server",
            "connection not open",
            "SSL connection has been closed unexpectedly",
            "SSL SYSCALL error: EOF detected",
        ];
        match self {
            Self::Database(DieselError::DatabaseError(kind, info)) => match kind {
                DatabaseErrorKind::ClosedConnection => true,
                DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::Unknown => {
                    LOST.iter().any(|m| info.message().contains(m))
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// Result of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;
