//! This instance's copy of the tokens taken back before they expire
//! (`tthc_core::db::revocations`): read before the service answers, again every
//! [`RELOAD_EVERY`] (what other instances revoked), and at once after this instance revokes one.
//! A request's token is checked against it in memory, so revocation costs no query per request.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::web;
use tthc_core::db::revocations::{self, Revoked};
use tthc_core::db::{Database, DbConnection, StoreError};

use super::Claims;
use crate::error::ApiError;

/// How often an instance reads what other instances revoked: while the database answers, the
/// longest a revoked token still passes at another instance (and the time a read takes).
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// How old the copy may grow while the database does not answer before tokens are no longer
/// taken on its word: past it, every request with a token is answered 503 until a read
/// succeeds, rather than let a token revoked meanwhile through without limit.
pub const TRUSTED_FOR: Duration = Duration::from_secs(60);

/// How long a periodic read is waited for before the loop logs it and goes on waiting for it
/// (a read is never given up: its thread would go on holding the connection, and new ones would
/// pile up behind a lost connection).
const SLOW_READ: Duration = Duration::from_secs(10);

/// A copy of the revocations, and which read made it.
#[derive(Debug)]
struct Copy {
    revoked: Revoked,
    /// The read's number: a read started earlier never replaces one started later.
    read: u64,
    /// When the read started.
    at: Instant,
}

/// The revoked tokens, as last read.
#[derive(Debug)]
pub struct Revocations {
    copy: RwLock<Copy>,
    reads: AtomicU64,
}

impl Revocations {
    /// Reads them from `db`.
    pub fn load(db: &Database) -> Result<Self, StoreError> {
        let empty = Self {
            copy: RwLock::new(Copy {
                revoked: Revoked::default(),
                read: 0,
                at: Instant::now(),
            }),
            reads: AtomicU64::new(1),
        };
        empty.refresh(db)?;
        Ok(empty)
    }

    /// Refuses, 401, a token taken back since it was issued; 503 when the copy is older than
    /// [`TRUSTED_FOR`].
    pub fn check(&self, claims: &Claims) -> Result<(), ApiError> {
        let copy = self.copy.read().unwrap_or_else(|e| e.into_inner());
        if copy.at.elapsed() > TRUSTED_FOR {
            return Err(ApiError::Unavailable(
                "the revoked tokens could not be read from the database lately, so no token is \
                 taken; retry in a moment"
                    .into(),
            ));
        }
        if copy
            .revoked
            .refuses(&claims.sub, &claims.jti, claims.generation)
        {
            return Err(ApiError::Unauthorized {
                code: "invalidToken",
                detail: "the access token was revoked: its client or person was changed, \
                         disabled or deleted since, or it signed out; get a new one"
                    .into(),
            });
        }
        Ok(())
    }

    /// Whether the token was revoked, by the copy however old.
    pub fn is_revoked(&self, claims: &Claims) -> bool {
        let copy = self.copy.read().unwrap_or_else(|e| e.into_inner());
        copy.revoked
            .refuses(&claims.sub, &claims.jti, claims.generation)
    }

    /// Starts a read: its number and instant.
    fn start(&self) -> (u64, Instant) {
        (self.reads.fetch_add(1, Ordering::Relaxed), Instant::now())
    }

    /// Keeps what the read `read` started at `at` found, unless a read started later was kept.
    fn keep(&self, (read, at): (u64, Instant), revoked: Revoked) {
        let mut copy = self.copy.write().unwrap_or_else(|e| e.into_inner());
        // Reads overlap when this instance revokes a token while its timer reads: the one
        // that started first may end last, and holds less.
        if read > copy.read {
            *copy = Copy { revoked, read, at };
        }
    }

    /// Reads them again now, on the calling thread: before the service starts answering, since
    /// what was read when it was prepared may be older than [`TRUSTED_FOR`] by then (the demo
    /// loaded meanwhile, say). A failure keeps the copy.
    pub fn refresh(&self, db: &Database) -> Result<(), StoreError> {
        let started = self.start();
        self.keep(started, read(db)?);
        Ok(())
    }

    /// Reads them again, after this instance revoked a token; a failure keeps what was read
    /// before (and is logged), since the change is already stored and the next periodic read
    /// brings it.
    pub async fn reload(&self, db: &Database) {
        let started = self.start();
        let db = db.clone();
        let loaded = web::block(move || read(&db)).await;
        match loaded {
            Ok(Ok(revoked)) => self.keep(started, revoked),
            Ok(Err(e)) => tracing::warn!(error = %e, "reading the revoked tokens failed"),
            Err(e) => tracing::warn!(error = %e, "reading the revoked tokens stopped"),
        }
    }

    /// Reads them every [`RELOAD_EVERY`], as long as the runtime runs, on a connection of its
    /// own outside the pool: under load the pool's connections go to requests, and a read
    /// starved of one past [`TRUSTED_FOR`] would turn every request away. One read at a time:
    /// a read still running after [`SLOW_READ`] is logged and waited for again. The connection
    /// is opened again after a failed read.
    pub async fn keep_current(self: std::sync::Arc<Self>, db: Database) {
        let mut own: Option<DbConnection> = None;
        loop {
            let (db, taken) = (db.clone(), own.take());
            let started = self.start();
            let mut read = std::pin::pin!(web::block(move || {
                let mut conn = match taken {
                    Some(conn) => conn,
                    None => db.dedicated()?,
                };
                let revoked = revocations::load(&mut conn)?;
                Ok::<_, StoreError>((conn, revoked))
            }));
            let done = loop {
                match actix_web::rt::time::timeout(SLOW_READ, read.as_mut()).await {
                    Ok(done) => break done,
                    Err(_) => {
                        tracing::warn!("reading the revoked tokens is slow; still waiting for it")
                    }
                }
            };
            match done {
                Ok(Ok((conn, revoked))) => {
                    own = Some(conn);
                    self.keep(started, revoked);
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "reading the revoked tokens failed"),
                Err(e) => tracing::warn!(error = %e, "reading the revoked tokens stopped"),
            }
            actix_web::rt::time::sleep(RELOAD_EVERY).await;
        }
    }
}

/// The revoked tokens as the database holds them now, on a connection of the pool.
fn read(db: &Database) -> Result<Revoked, StoreError> {
    let mut conn = db.conn()?;
    revocations::load(&mut conn)
}
