//! This instance's copy of the tokens taken back before they expire
//! (`tthc_core::db::revocations`): read before the service answers, again every
//! [`RELOAD_EVERY`] (what other instances revoked), and at once after this instance revokes one.
//! A request's token is checked against it in memory, so revocation costs no query per request.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::web;
use tthc_core::db::revocations::{self, Revoked};
use tthc_core::db::{Database, StoreError};

use super::Claims;
use crate::error::ApiError;

/// How often an instance reads what other instances revoked: the longest a revoked token still
/// passes at another instance.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The revoked tokens, as last read.
#[derive(Debug, Default)]
pub struct Revocations {
    revoked: RwLock<Revoked>,
}

impl Revocations {
    /// Reads them from `db`.
    pub fn load(db: &Database) -> Result<Self, StoreError> {
        let mut conn = db.conn()?;
        Ok(Self {
            revoked: RwLock::new(revocations::load(&mut conn)?),
        })
    }

    /// Refuses, 401, a token taken back since it was issued.
    pub fn check(&self, claims: &Claims) -> Result<(), ApiError> {
        let revoked = self.revoked.read().unwrap_or_else(|e| e.into_inner());
        if revoked.refuses(&claims.sub, &claims.jti, claims.generation) {
            return Err(ApiError::Unauthorized {
                code: "invalidToken",
                detail: "the access token was revoked: its client or person was changed, \
                         disabled or deleted since, or it signed out; get a new one"
                    .into(),
            });
        }
        Ok(())
    }

    /// Reads them again; a failure keeps what was read before (and is logged), since the
    /// change that called for it is already stored and the next reload brings it.
    pub async fn reload(&self, db: &Database) {
        let db = db.clone();
        let read = web::block(move || {
            let mut conn = db.conn()?;
            revocations::load(&mut conn)
        })
        .await;
        match read {
            Ok(Ok(revoked)) => *self.revoked.write().unwrap_or_else(|e| e.into_inner()) = revoked,
            Ok(Err(e)) => tracing::warn!(error = %e, "reading the revoked tokens failed"),
            Err(e) => tracing::warn!(error = %e, "reading the revoked tokens stopped"),
        }
    }

    /// Reloads every [`RELOAD_EVERY`], as long as the runtime runs.
    pub async fn keep_current(self: Arc<Self>, db: Database) {
        loop {
            actix_web::rt::time::sleep(RELOAD_EVERY).await;
            self.reload(&db).await;
        }
    }
}
