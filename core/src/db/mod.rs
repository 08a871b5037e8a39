//! Persistence with diesel, one codebase over SQLite (embedded default) and PostgreSQL
//! (production, several service instances on one database).
//!
//! The backend is picked from the URL scheme. Backend-specific SQL (connection pragmas,
//! transaction start, migration locking) lives in this module only, each in one `match`.

pub mod announcements;
pub mod audit;
pub mod calendars;
pub mod catalogue_figures;
pub mod changes;
pub mod clients;
mod connection;
pub mod dossiers;
pub mod duties;
mod encode;
mod error;
pub mod gains;
pub mod idempotency;
pub mod index_upkeep;
pub mod official;
pub mod overdue;
pub mod periods;
pub mod petitions;
pub mod procedures;
pub mod reports;
pub mod revocations;
pub mod rule_sets;
pub mod schema;
pub mod scores;
pub mod settings;
pub mod subscriptions;
pub mod tasks;
pub mod timestamp;
mod union_all;
pub mod units;
pub mod users;

use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use connection::DbConnection;
pub use error::{StoreError, StoreResult};

/// Migrations for SQLite, embedded at build time from `migrations/sqlite`.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
/// Migrations for PostgreSQL, embedded at build time from `migrations/postgres`.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// The database backends tthc runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, a file beside the service.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Where the database is: the backend and what its driver is given to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The backend.
    pub backend: Backend,
    /// For SQLite, the file path; for PostgreSQL, the whole URL.
    pub target: String,
}

impl DatabaseUrl {
    /// Reads `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err("a sqlite URL needs a file path, e.g. sqlite://tthc.db".into());
            }
            if path == ":memory:" {
                return Err(
                    "an in-memory SQLite database is not shared by the pool; use a file".into(),
                );
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: path.to_owned(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        Err("must start with sqlite:// or postgres://".into())
    }
}

/// How the service's PostgreSQL connections cache plans: every statement planned per run with
/// its parameters (why: [`Manager`]; the exception: [`copy_with_cached_checks`]).
const PLAN_CACHE_MODE: &str = "force_custom_plan";

/// How long a PostgreSQL statement waits for a lock before the request is answered 503 (SQLite's
/// busy timeout is the same 10 s).
const LOCK_TIMEOUT: &str = "10s";

/// How long a unit's move waits for the writers in flight ([`hold_unit_tree`]): new writers
/// queue behind it meanwhile, so not the whole [`LOCK_TIMEOUT`].
const MOVE_LOCK_TIMEOUT: &str = "2s";

/// Opens connections of the configured backend, set up for the service (the pool's manager).
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self.url.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.target)?;
                // The busy timeout comes first: switching to WAL takes a lock that the pool's
                // other new connections would otherwise fail on. WAL lets readers run beside the
                // writer; LIKE must be case-sensitive to use the path index. Memory-mapped reads
                // (up to SQLite's 2 GiB cap) spare each page read a system call and a copy: with
                // them a list page under load took half the time (README, performance).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA case_sensitive_like = ON; PRAGMA mmap_size = 2147418112; ",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url.target)?;
                // diesel keeps each statement prepared for the connection's life, and after five
                // runs PostgreSQL may switch it to a generic plan made without the parameters: a
                // plan made while a table was small (a seq scan for the bulk ingest's lookup of
                // dossiers by code) then stays until the table's statistics change, and without
                // autovacuum never does (the demo load took 19 minutes that way). Planned per
                // run, each statement sees its parameters and the table's current size.
                // A writer waits at most 10 s for another's lock, as SQLite's busy timeout: then
                // the request is answered 503 with Retry-After instead of hanging.
                // A lock timeout is told from other errors by its message alone (diesel gives
                // no SQLSTATE for it), so a superuser's messages are set untranslated; another
                // role may not set them (asking would log an error on every connection), and
                // `messages_untranslated` warns at startup when its setting is not English.
                conn.batch_execute(&format!(
                    "SET TIME ZONE 'UTC'; SET plan_cache_mode = {PLAN_CACHE_MODE}; \
                     SET lock_timeout = '{LOCK_TIMEOUT}'; \
                     SELECT set_config('lc_messages', 'C', false) \
                     WHERE current_setting('is_superuser') = 'on'"
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Pg(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.establish()
    }

    // Every checkout: a connection closed since its last use (the server restarted, the backend
    // was ended, an idle timeout) is replaced here instead of failing a request. A server that
    // closes a connection says so on its socket (an error, then the end of the stream), so
    // reading what is already there without waiting finds it without a round trip; a `SELECT 1`
    // ping cost one per request (README, "The pool"). A read may take only one message or TLS
    // record (the error, then TLS's closing one) before the end shows, hence a few; each on a
    // healthy connection finds nothing and returns at once. An SQLite connection is a file
    // handle that nothing outside closes.
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        match conn {
            DbConnection::Pg(c) => {
                for _ in 0..4 {
                    // A notification (nothing here listens) is read and dropped; only a
                    // failed read tells.
                    if let Some(Err(e)) = c.notifications_iter().next() {
                        return Err(diesel::ConnectionError::CouldntSetupConfiguration(e));
                    }
                }
                Ok(())
            }
            DbConnection::Sqlite(_) => Ok(()),
        }
    }

    // diesel marks a connection broken when a transaction was left open on it (or, on
    // PostgreSQL, when libpq lost track of its state): the pool then closes it, which rolls
    // the transaction back, instead of lending it, transaction and all, to the next request.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// The database: a connection pool and its backend.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.url.backend)
            .finish()
    }
}

impl Database {
    /// Opens a pool of `pool_size` connections. SQLite files are created when missing.
    pub fn open(url: &DatabaseUrl, pool_size: u32) -> StoreResult<Self> {
        let manager = Manager { url: url.clone() };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| StoreError::Setup(format!("cannot connect to the database: {e}")))?;
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    /// Whether the database's error messages are in English, which [`StoreError::is_busy`]
    /// reads: always on SQLite; on PostgreSQL when `lc_messages` is `C`, `POSIX` or English.
    /// A superuser's connections set `C`; another role's keep the role's or the server's
    /// setting. Returns the setting when it is not known to be English.
    pub fn messages_untranslated(&self) -> StoreResult<Result<(), String>> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let mut conn = self.conn()?;
        let DbConnection::Pg(pg) = &mut *conn else {
            return Ok(Ok(()));
        };
        let setting = diesel::sql_query("SELECT current_setting('lc_messages') AS value")
            .get_result::<Setting>(pg)?
            .value;
        Ok(if is_english_locale(&setting) {
            Ok(())
        } else {
            Err(setting)
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.url.backend
    }

    /// A connection from the pool.
    pub fn conn(&self) -> StoreResult<PooledConnection> {
        Ok(self.pool.get()?)
    }

    /// A connection outside the pool, set up as the pool's, for work that holds one for
    /// minutes ([`index_upkeep`]) or whose session lock must end with it
    /// ([`Database::one_instance_at_a_time`]).
    pub fn dedicated(&self) -> StoreResult<DbConnection> {
        Manager {
            url: self.url.clone(),
        }
        .establish()
        .map_err(|e| StoreError::Setup(format!("cannot connect to the database: {e}")))
    }

    /// Copies an SQLite database, while it serves, into the new file `to` (`VACUUM INTO`: a
    /// consistent snapshot, compacted; the file must not exist). PostgreSQL is backed up with
    /// its own tools (`pg_dump`), which this refuses to stand in for.
    pub fn backup_to(&self, to: &std::path::Path) -> StoreResult<()> {
        use diesel::RunQueryDsl;
        if to.exists() {
            return Err(StoreError::Setup(format!(
                "{} exists already: back up into a new file",
                to.display()
            )));
        }
        let mut conn = self.conn()?;
        match &mut *conn {
            DbConnection::Sqlite(c) => {
                diesel::sql_query("VACUUM INTO ?")
                    .bind::<diesel::sql_types::Text, _>(to.to_string_lossy().into_owned())
                    .execute(c)?;
                Ok(())
            }
            DbConnection::Pg(_) => Err(StoreError::Setup(
                "a PostgreSQL database is backed up with pg_dump (see the README)".into(),
            )),
        }
    }

    /// Applies every pending migration. On PostgreSQL instances that start together take turns
    /// ([`Database::one_instance_at_a_time`]), so exactly one of them migrates.
    pub fn migrate(&self) -> StoreResult<usize> {
        self.one_instance_at_a_time(StartupStep::Migrate, |conn| {
            match conn {
                DbConnection::Sqlite(c) => migrate_sqlite(c),
                DbConnection::Pg(c) => c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.len()),
            }
            .map_err(|e| StoreError::Setup(format!("migration failed: {e}")))
        })
    }

    /// Runs `step` on one connection while, on PostgreSQL, no other instance runs the same
    /// step: it holds the step's session-level advisory lock, and an instance that finds it
    /// taken waits as long as the holder takes (migrating the country's dossiers takes
    /// minutes), not the connection's lock timeout, which still bounds the step's own waits
    /// for tables; nor a statement timeout the role may carry (a managed server's). On SQLite
    /// it just runs: the step itself must bear a race (each caller's does).
    ///
    /// On PostgreSQL the step runs on a connection of its own, outside the pool, closed when
    /// it ends: closing it releases the lock whatever the step left behind (a transaction
    /// aborted, where not even the unlock can run), where a pooled connection would have gone
    /// back to the pool still holding it, and every other instance would have waited for ever.
    pub fn one_instance_at_a_time<T>(
        &self,
        step: StartupStep,
        run: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if self.url.backend == Backend::Sqlite {
            return run(&mut *self.conn()?);
        }
        let mut conn = self.dedicated()?;
        let key = step.lock_key();
        conn.batch_execute(&format!(
            "SET lock_timeout = 0; SET statement_timeout = 0; \
             SELECT pg_advisory_lock({key}); SET lock_timeout = '{LOCK_TIMEOUT}'"
        ))?;
        run(&mut conn)
    }

    /// Reverts every applied migration (for tests and for `tthc migrate --revert-all`).
    pub fn revert_all(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        let result = match &mut *conn {
            DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConnection::Pg(c) => c
                .revert_all_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        };
        result.map_err(|e| StoreError::Setup(format!("migration revert failed: {e}")))
    }

    /// Reverts the `n` migrations applied last (for tests of a migration over stored data).
    pub fn revert_last(&self, n: usize) -> StoreResult<()> {
        let mut conn = self.conn()?;
        for _ in 0..n {
            let result = match &mut *conn {
                DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
                DbConnection::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
            };
            result.map_err(|e| StoreError::Setup(format!("migration revert failed: {e}")))?;
        }
        Ok(())
    }

    /// Whether the database answers and every migration is applied (for `/readyz`), waiting at
    /// most `wait` for a connection.
    pub fn check_ready(&self, wait: Duration) -> StoreResult<()> {
        let mut conn = self.pool.get_timeout(wait)?;
        conn.batch_execute("SELECT 1")?;
        let pending = match &mut *conn {
            DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| StoreError::Setup(format!("cannot read migrations: {e}")))?;
        if pending {
            return Err(StoreError::Setup("migrations are pending".into()));
        }
        Ok(())
    }
}

/// SQLite has no advisory lock: when instances start together, the one that loses the race
/// fails on a table the winner created. It then waits for the winner to finish and applies
/// whatever is still pending.
fn migrate_sqlite(conn: &mut SqliteConnection) -> diesel::migration::Result<usize> {
    let mut attempt = 0;
    loop {
        match conn.run_pending_migrations(SQLITE_MIGRATIONS) {
            Ok(applied) => return Ok(applied.len()),
            Err(_) if attempt < 50 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(100));
                if !conn.has_pending_migration(SQLITE_MIGRATIONS)? {
                    return Ok(0);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs `f` in a write transaction and commits when it returns `Ok`.
///
/// SQLite starts it with `BEGIN IMMEDIATE`, so that a writer waits for the write lock up front
/// (honouring the busy timeout) instead of failing when a read transaction tries to upgrade.
/// `f` must not open transactions of its own.
pub fn write_tx<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    // A request holding an `Idempotency-Key` marks it in the same transaction as its write.
    let f = |conn: &mut DbConnection| {
        let start = idempotency::start(conn)?;
        let value = f(conn)?;
        idempotency::mark_took_effect(conn, start)?;
        Ok(value)
    };
    if matches!(conn, DbConnection::Pg(_)) {
        return conn.transaction(f);
    }
    conn.batch_execute("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => match conn.batch_execute("COMMIT") {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            conn.batch_execute("ROLLBACK")?;
            Err(e)
        }
    }
}

/// Runs `f`, which only reads, on one snapshot of the database, so that what it reads in many
/// statements fits together (a unit moved, or dossiers pushed, meanwhile are seen in none of
/// them or in all). On PostgreSQL a `REPEATABLE READ READ ONLY` transaction: it takes no
/// transaction id, so it holds back neither writers nor the change feed; on SQLite a deferred
/// transaction, whose snapshot is taken at its first read. Not inside another transaction: it
/// would start one within [`write_tx`]'s on SQLite, and on PostgreSQL its isolation can only be
/// chosen first.
pub fn read_tx<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    conn.transaction(|conn| {
        if matches!(conn, DbConnection::Pg(_)) {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Runs `copy` (a `COPY` of many rows, inside the caller's transaction) with PostgreSQL's
/// plan cache in its default mode, then back to [`PLAN_CACHE_MODE`]. Under that mode the
/// foreign-key check `COPY` runs for each row would be planned per row; planned once instead,
/// the bulk ingest went from 5,903 to 10,968 dossiers/s (README, "PostgreSQL beside SQLite"). A
/// key lookup's plan does not depend on the table's size.
pub(crate) fn copy_with_cached_checks(
    conn: &mut PgConnection,
    copy: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<usize>,
) -> diesel::QueryResult<usize> {
    use diesel::RunQueryDsl;
    let mode = |mode: &str| {
        diesel::sql_query("SELECT set_config('plan_cache_mode', $1, true)")
            .bind::<diesel::sql_types::Text, _>(mode.to_owned())
    };
    mode("auto").execute(conn)?;
    let copied = copy(conn)?;
    mode(PLAN_CACHE_MODE).execute(conn)?;
    Ok(copied)
}

/// A start-up step that one instance at a time takes on PostgreSQL
/// ([`Database::one_instance_at_a_time`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupStep {
    /// Applying the pending migrations.
    Migrate,
    /// Loading the demo province (`tthc demo`, `tthc serve --demo`).
    Demo,
}

impl StartupStep {
    /// The step's session-level advisory lock. The migrations' single key is the one every
    /// version of tthc has taken, so that an older instance and a newer one still take turns;
    /// the others are two 32-bit keys beside [`UNIT_TREE_LOCK`].
    fn lock_key(self) -> &'static str {
        match self {
            Self::Migrate => "7660766",
            Self::Demo => "7660, 769",
        }
    }
}

/// The advisory locks of the keys `$1` (a text array), as a relation `sorted` of one column `h`,
/// in the order they are taken: sorted by the lock itself (the key's hash), not by the key, so
/// that two keys of one hash cannot be taken in opposite orders by two writers.
const SORTED_LOCKS: &str =
    "(SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS sorted";

/// The transaction-scoped advisory lock that keeps the units' tree paths still while records
/// are written with them: every writer of records holds it shared ([`lock_keys`]), as do
/// writers of units; a unit's move holds it alone ([`hold_unit_tree`]). Two 32-bit keys, a key
/// space apart from the records' 64-bit ones, beside the index upkeep's `(7660, 767)`.
pub const UNIT_TREE_LOCK: (i32, i32) = (7660, 768);

/// Serializes the writers of the same records across API instances, inside the caller's write
/// transaction: on PostgreSQL, a transaction-scoped advisory lock per key, taken in sorted order
/// so that two writers never wait on each other in a cycle; on SQLite the write transaction
/// already serializes every writer. Keys name records, e.g. `petition:PAKN-1`.
///
/// On PostgreSQL it first holds the units' tree shared ([`UNIT_TREE_LOCK`]), so that a unit
/// cannot move between the writer reading a unit's path and storing it on a record: a move
/// rewrites the stored paths of the records it finds, and waits for writers in flight. Taken
/// before the records' keys: while a move holds the tree, no other transaction holds a
/// record's key (the move's own, for the petitions' marks, cannot wait on anyone). A writer
/// that resolved its grant before this call reads it again after: [`lock_records`].
pub fn lock_keys(conn: &mut DbConnection, keys: &[String]) -> StoreResult<()> {
    use diesel::RunQueryDsl;
    if let DbConnection::Pg(c) = conn
        && !keys.is_empty()
    {
        // One round trip for a whole batch, the keys locked in order (`SORTED_LOCKS`). Each
        // key's lock is taken in the projection of a row joined with `tree`, so after the tree's.
        let (k1, k2) = UNIT_TREE_LOCK;
        diesel::sql_query(format!(
            "WITH tree AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared({k1}, {k2})) \
             SELECT pg_advisory_xact_lock(h) FROM tree, {SORTED_LOCKS}"
        ))
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(keys)
        .execute(c)?;
    }
    Ok(())
}

/// Serializes the writers of one record whose change is read, checked and written back (a
/// unit's own row, a client, a user, a subscription, a procedure, a decision, a calendar year,
/// a duty, a rule set, a task), across API instances: on PostgreSQL a transaction-scoped
/// advisory lock on `key` (e.g. `client:vnpt`), taken before the record is read, so that the
/// second of two changes in flight reads the first's result: it neither writes back the fields
/// the first changed nor passes the same `If-Match`. On SQLite the write transaction already
/// serializes every writer. Unlike [`lock_keys`] it leaves the units' tree alone: none of these
/// records stores a unit's path.
pub(crate) fn lock_record(conn: &mut DbConnection, key: &str) -> StoreResult<()> {
    lock_each(conn, &[key.to_owned()])
}

/// [`lock_record`] for several records at once, in sorted order, so that two writers of
/// overlapping sets never wait on each other in a cycle.
pub(crate) fn lock_each(conn: &mut DbConnection, keys: &[String]) -> StoreResult<()> {
    use diesel::RunQueryDsl;
    if let DbConnection::Pg(c) = conn
        && !keys.is_empty()
    {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock(h) FROM {SORTED_LOCKS}"
        ))
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(keys)
        .execute(c)?;
    }
    Ok(())
}

/// Refuses a change of a client or a person whose grant, read under the record's lock, is no
/// longer the one `checked` (read before it): the caller's right to change them was judged on
/// it. A conflict, not a failed `If-Match`: the caller may have sent none.
pub(crate) fn grant_as_checked<G: PartialEq>(
    checked: Option<&G>,
    current: &G,
    what: &str,
) -> StoreResult<()> {
    match checked {
        Some(g) if g != current => Err(StoreError::Conflict(crate::InvalidParam::new(
            "grant",
            format!(
                "the {what}'s grant changed while the request was checked against it: \
                 read it again and retry"
            ),
        ))),
        _ => Ok(()),
    }
}

/// Locks the records of `keys` ([`lock_keys`]), then reads `scope`, the caller's grant resolved
/// before its transaction, as the tree is now ([`units::current_scope`]): a move the writer
/// waited for would leave the grant naming old paths and refuse the caller's own units.
pub(crate) fn lock_records(
    conn: &mut DbConnection,
    keys: &[String],
    scope: &crate::unit::UnitScope,
) -> StoreResult<crate::unit::UnitScope> {
    lock_keys(conn, keys)?;
    units::current_scope(conn, scope)
}

/// Holds the units' tree for the rest of the caller's write transaction, on PostgreSQL, before
/// any unit's path is read: alone for a move (`moving`), which waits for the writers holding
/// it shared ([`lock_keys`]) to commit, at most [`MOVE_LOCK_TIMEOUT`], and keeps new ones
/// waiting until it commits; shared for the other writes of units, which store paths as they
/// read them. On SQLite the write transaction already serializes every writer.
pub(crate) fn hold_unit_tree(conn: &mut DbConnection, moving: bool) -> StoreResult<()> {
    if let DbConnection::Pg(c) = conn {
        let (k1, k2) = UNIT_TREE_LOCK;
        c.batch_execute(&if moving {
            format!(
                "SET LOCAL lock_timeout = '{MOVE_LOCK_TIMEOUT}'; \
                 SELECT pg_advisory_xact_lock({k1}, {k2}); \
                 SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
            )
        } else {
            format!("SELECT pg_advisory_xact_lock_shared({k1}, {k2})")
        })?;
    }
    Ok(())
}

/// A condition on the rows of `QS`, boxed for filters built at run time.
pub(crate) type BoxedCondition<QS> = Box<
    dyn diesel::expression::BoxableExpression<
            QS,
            <DbConnection as Connection>::Backend,
            SqlType = diesel::sql_types::Bool,
        >,
>;

/// `unit_path LIKE prefix` (a subtree, `prefix` being a unit's path followed by `%`) for queries
/// whose other constraint is a time range. On SQLite written `+unit_path` so that the planner
/// ranges over the time index and filters the path inside it, rather than walking the whole
/// subtree (a province's is every row) for a month. On PostgreSQL, which holds the country, it
/// also names the subtree's root, the province ([`root_of`]), as the time indexes' leading key
/// `split_part(unit_path, '/', 2)` reads it: a province's month is then its own entries, not
/// the country's month filtered (migration `000025_province_led_indexes`). For a whole tree (a
/// province's own subtree, what scores read most) the root alone says it, and the path is not
/// matched again on every entry: a fifth of the time of an index-only scan of 160,000 entries
/// (README, "Whole provinces without the path match").
pub(crate) fn subtree_by_time<QS: 'static>(
    conn: &DbConnection,
    prefix: &str,
) -> BoxedCondition<QS> {
    let fragment = match conn {
        DbConnection::Sqlite(_) => "+unit_path LIKE ",
        DbConnection::Pg(_) => "unit_path LIKE ",
    };
    let path: BoxedCondition<QS> = Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>(fragment)
            .bind::<diesel::sql_types::Text, _>(prefix.to_owned()),
    );
    match under_root(conn, prefix) {
        Some(root) if is_whole_tree(prefix) => root,
        Some(root) => Box::new(diesel::BoolExpressionMethods::and(root, path)),
        None => path,
    }
}

/// Whether the subtree `prefix` (a unit's path followed by `%`) is a whole tree: its root's
/// own. Codes hold no `/` and no wildcard, so every stored path with that root matches it.
pub(crate) fn is_whole_tree(prefix: &str) -> bool {
    prefix
        .strip_suffix('%')
        .is_some_and(|path| path.len() == root_of(prefix).len() + 2)
}

/// On PostgreSQL, that the rows lie under the root of the subtree `prefix` (a unit's path
/// followed by `%`), written as the province-led indexes key it ([`ROOT_OF_PATH`]), so that a
/// subtree's rows are a range of those indexes: named beside `unit_path LIKE prefix`, or alone
/// for a whole tree ([`is_whole_tree`]).
/// None on SQLite, the embedded backend of one province, which has no such indexes.
fn under_root<QS>(conn: &DbConnection, prefix: &str) -> Option<BoxedCondition<QS>> {
    match conn {
        DbConnection::Sqlite(_) => None,
        DbConnection::Pg(_) => Some(Box::new(
            diesel::dsl::sql::<diesel::sql_types::Bool>(ROOT_OF_PATH)
                .sql(" = ")
                .bind::<diesel::sql_types::Text, _>(root_of(prefix).to_owned()),
        )),
    }
}

/// The root of a stored unit path as PostgreSQL's time indexes key it, written as they are
/// (an index on an expression serves only a query naming the same expression).
pub(crate) const ROOT_OF_PATH: &str = "split_part(unit_path, '/', 2)";

/// The code of the root of the tree that the subtree `prefix` (`/P/D1/%`) lies in: the first
/// segment of the path (`P`), as [`ROOT_OF_PATH`] reads it from a stored path under it.
pub(crate) fn root_of(prefix: &str) -> &str {
    prefix.split('/').nth(1).unwrap_or_default()
}

/// The current instant in Vietnam local time, to the microsecond, as records' instants are
/// kept: an answer shows the instant a later read gives back.
pub fn now_local() -> chrono::NaiveDateTime {
    to_microseconds(crate::calendar::to_local(&chrono::Utc::now()))
}

fn to_microseconds(at: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    chrono::DurationRound::duration_trunc(at, chrono::TimeDelta::microseconds(1)).unwrap_or(at)
}

/// Whether a locale name (`lc_messages`) gives PostgreSQL's messages in English: `C`,
/// `POSIX`, `en` and their variants (`English_…` on Windows). Empty leaves the language to the
/// server's environment, which cannot be read from SQL: not known to be English.
fn is_english_locale(name: &str) -> bool {
    let language = name.split(['_', '.', '@']).next().unwrap_or_default();
    ["C", "POSIX", "en", "English"].contains(&language)
}

/// The database's clock (UTC, to the microsecond): what leases held across instances are
/// judged by, whatever the instances' own clocks say. On SQLite, one machine: its clock.
pub fn database_now(conn: &mut DbConnection) -> StoreResult<chrono::NaiveDateTime> {
    use diesel::RunQueryDsl;
    match conn {
        DbConnection::Pg(_) => Ok(diesel::select(
            diesel::dsl::sql::<diesel::sql_types::Timestamp>(
                "(now() AT TIME ZONE 'UTC')::timestamp",
            ),
        )
        .get_result(conn)?),
        DbConnection::Sqlite(_) => Ok(now()),
    }
}

/// The current instant as stored: UTC, to the microsecond (both backends keep microseconds).
pub fn now() -> chrono::NaiveDateTime {
    to_microseconds(chrono::Utc::now().naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_english_in_c_posix_and_english_locales_only() {
        let english = [
            "C",
            "C.UTF-8",
            "C.utf8",
            "POSIX",
            "en_US.UTF-8",
            "en_GB",
            "en",
            "English_United States.1252",
        ];
        for name in english {
            assert!(is_english_locale(name), "{name}");
        }
        for name in [
            "",
            "vi_VN.UTF-8",
            "vi",
            "de_DE.utf8",
            "fr_FR@euro",
            "ca",
            "Cy",
        ] {
            assert!(!is_english_locale(name), "{name}");
        }
    }

    #[test]
    fn urls_pick_the_backend_by_scheme() {
        let u = DatabaseUrl::parse("sqlite://tthc.db").unwrap();
        assert_eq!((u.backend, u.target.as_str()), (Backend::Sqlite, "tthc.db"));
        let u = DatabaseUrl::parse("sqlite:///var/lib/tthc.db").unwrap();
        assert_eq!(u.target, "/var/lib/tthc.db");
        let u = DatabaseUrl::parse("postgres://u@h/db").unwrap();
        assert_eq!(u.backend, Backend::Postgres);
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn a_subtree_lies_under_the_first_segment_of_its_path() {
        assert_eq!(root_of("/P/D1/C01/%"), "P");
        assert!(is_whole_tree("/P/%"));
        assert!(is_whole_tree("/000.00.00.H12/%"));
        assert!(!is_whole_tree("/P/D1/%"));
        assert!(!is_whole_tree("/P01/D/%"));
        assert!(!is_whole_tree("/P/"));
        assert_eq!(root_of("/P01/%"), "P01");
        assert_eq!(root_of("/000.00.00.H12/X/%"), "000.00.00.H12");
    }
}
