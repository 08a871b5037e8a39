//! What every handler shares: the database, the token keys, the configuration, the metrics.

use std::sync::Arc;

use actix_web::web;
use tthc_core::db::{Database, DbConnection, PooledConnection, idempotency};

use crate::auth::{Hasher, JwtKeys, Revocations, SignInLimits};
use crate::config::Config;
use crate::error::ApiError;
use crate::middleware::Metrics;

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: Database,
    /// Token keys.
    pub jwt: JwtKeys,
    /// The tokens taken back before they expire.
    pub revocations: Arc<Revocations>,
    /// The configuration.
    pub config: Arc<Config>,
    /// Request metrics.
    pub metrics: Metrics,
    /// The paths, their methods and the scopes of their POST operations, from the OpenAPI
    /// document.
    pub routes: Arc<crate::openapi::RouteIndex>,
    /// The thread that hashes and checks secrets.
    pub hasher: Hasher,
    /// Failed sign-ins by client id and address.
    pub sign_in_limits: Arc<SignInLimits>,
    /// The identity numbers' hashing key.
    pub identity: crate::identity::IdentityKey,
    /// The units' tree paths as this instance last read them, for the lists.
    pub unit_paths: Arc<crate::auth::UnitPaths>,
}

impl AppState {
    /// Runs blocking database work `f` on the blocking thread pool with a pooled connection.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.db.clone();
        // The `Idempotency-Key` of the request this runs for, marked by its writes.
        let mark = crate::idempotency::current_mark();
        web::block(move || {
            idempotency::with_mark(mark, || {
                let mut conn: PooledConnection = db.conn()?;
                f(&mut conn)
            })
        })
        .await?
    }
}
