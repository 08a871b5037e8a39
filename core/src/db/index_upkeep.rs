//! Keeping PostgreSQL's B-tree indexes compact as dossiers arrive.
//!
//! The province-led indexes take each province's new entries at the end of the province's own
//! range, 34 places at once at the country's size. A B-tree page split anywhere but at the
//! index's right end leaves both halves half full, and the left half never fills again. As
//! loaded, 10,000,000 dossiers over 34 provinces took 1,643 bytes each; the same database with
//! its indexes rebuilt took 1,343 (README, "The country again"). PostgreSQL never compacts an
//! index itself: `VACUUM` frees entries and empty pages, but never merges half-full ones.
//!
//! [`keep_compact`] finds the indexes well over the size their entries need packed
//! ([`packed_bytes`], estimated from the catalogue's statistics, as GitLab's reindexing does)
//! and rebuilds them one at a time with `REINDEX INDEX CONCURRENTLY`, which blocks neither
//! reads nor writes. One instance works at a time (a session advisory lock; the others skip
//! the round). A rebuild that was interrupted leaves an invalid `…_ccnew` index behind; it is
//! dropped first. SQLite has nothing to do here: its only way to compact is `VACUUM`, which
//! rewrites the whole file and blocks writers, so it is left to the operator.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Double, Integer, Text};

use super::{Backend, Database, DbConnection, StoreResult};

/// The session advisory lock that makes one instance at a time do the upkeep: a pair of
/// 32-bit keys, a key space apart from the single 64-bit keys records are locked by
/// (`lock_keys`), so that no record's hash can collide with it.
pub const LOCK_KEYS: (i32, i32) = (7660, 767);

/// A page of PostgreSQL's, and what a B-tree page holds after its header (24 bytes) and its
/// special space (16).
const PAGE: f64 = 8192.0;
const PAGE_USABLE: f64 = 8192.0 - 24.0 - 16.0;
/// How full a rebuild packs the leaf pages (B-tree's default `fillfactor`).
const LEAF_FILL: f64 = 0.90;

/// When an index is rebuilt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Indexes smaller than this are left alone: their slack is not worth a rebuild.
    pub min_bytes: i64,
    /// Rebuilt when its size is over this many times the packed estimate.
    pub max_looseness: f64,
    /// How long a rebuild may wait for the transactions before it (a `pg_dump` takes a
    /// while) and for its table's lock, without holding up the service's reads and writes;
    /// past that, it fails, and the next round tries again.
    pub lock_wait: Duration,
}

impl Default for Policy {
    /// 16 MiB and 1.4: loaded, the national indexes measured 1.76 times their rebuilt size;
    /// the estimate of a packed index came within 0.82–1.19 of its size (README, "Index
    /// upkeep"), most within 6%.
    fn default() -> Self {
        Self {
            min_bytes: 16 << 20,
            max_looseness: 1.4,
            lock_wait: Duration::from_secs(300),
        }
    }
}

/// One attribute of an index entry, as the estimate reads it from the catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryColumn {
    /// Bytes of a fixed-width type (`pg_attribute.attlen`), or -1 for a variable width one.
    pub len: i32,
    /// Its alignment (`pg_attribute.attalign`: `c`, `s`, `i` or `d`).
    pub align: char,
    /// The average width of its values that are not null (`pg_stats.avg_width`).
    pub avg_width: f64,
    /// The share of entries where it is null (`pg_stats.null_frac`).
    pub null_frac: f64,
}

/// The bytes an index of `entries` entries of these columns takes when packed, as a rebuild
/// leaves it: the leaf pages filled to 90%, the pages above them, the meta page. Deduplicated
/// entries (equal keys) take less than this, so the estimate errs towards leaving an index be.
pub fn packed_bytes(entries: f64, columns: &[EntryColumn]) -> f64 {
    let entry = entry_bytes(columns);
    let leaves = (entries.max(0.0) * entry / (PAGE_USABLE * LEAF_FILL)).ceil();
    // Each page above holds the first key of many pages below (suffix-truncated, at most an
    // entry wide).
    let fanout = (PAGE_USABLE * LEAF_FILL / entry).max(2.0);
    let mut pages = leaves.max(1.0);
    let mut level = leaves;
    while level > 1.0 {
        level = (level / fanout).ceil();
        pages += level;
    }
    (pages + 1.0) * PAGE
}

/// The average bytes an entry takes in its page. A null takes no room, but moves the columns
/// after it and adds a bitmap, so each combination of the columns that are sometimes null is
/// weighed by its likelihood (taking their nulls as independent); past ten such columns, each
/// counts as present when it mostly is.
fn entry_bytes(columns: &[EntryColumn]) -> f64 {
    let sometimes: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].null_frac > 0.0 && columns[i].null_frac < 1.0)
        .collect();
    if sometimes.len() > 10 {
        return entry_bytes_with(columns, |i| columns[i].null_frac < 0.5);
    }
    (0..1_u32 << sometimes.len())
        .map(|mask| {
            let present = |i: usize| match sometimes.iter().position(|&s| s == i) {
                Some(bit) => mask & (1 << bit) != 0,
                None => columns[i].null_frac < 1.0,
            };
            let likelihood: f64 = sometimes
                .iter()
                .enumerate()
                .map(|(bit, &i)| {
                    let null = columns[i].null_frac;
                    if mask & (1 << bit) != 0 {
                        1.0 - null
                    } else {
                        null
                    }
                })
                .product();
            likelihood * entry_bytes_with(columns, present)
        })
        .sum()
}

/// The bytes of an entry whose columns `present` says are not null.
fn entry_bytes_with(columns: &[EntryColumn], present: impl Fn(usize) -> bool) -> f64 {
    let align_up = |offset: f64, to: f64| (offset / to).ceil() * to;
    let mut data = 0.0;
    let mut any_null = false;
    for (i, c) in columns.iter().enumerate() {
        if !present(i) {
            any_null = true;
            continue;
        }
        // A variable-width value under 127 bytes has a one-byte header and no alignment.
        let (width, align) = if c.len > 0 {
            (f64::from(c.len), c.align)
        } else if c.avg_width < 127.0 {
            (c.avg_width, 'c')
        } else {
            (c.avg_width, c.align)
        };
        let to = match align {
            'd' => 8.0,
            'i' => 4.0,
            's' => 2.0,
            _ => 1.0,
        };
        data = align_up(data, to) + width;
    }
    // The entry's header (its row's address and flags), 8 bytes more with a null bitmap,
    // the whole aligned to 8, and its 4-byte pointer in the page.
    let header = if any_null { 16.0 } else { 8.0 };
    align_up(header + data, 8.0) + 4.0
}

/// An index as it stands, with its packed estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexState {
    /// The index.
    pub name: String,
    /// Its table.
    pub table: String,
    /// Bytes on disk.
    pub bytes: i64,
    /// Entries, as of the table's last `VACUUM` or `ANALYZE`.
    pub entries: f64,
    /// Bytes it would take packed ([`packed_bytes`]); `None` while the table has no statistics
    /// (never analysed), when it is not judged.
    pub packed: Option<f64>,
}

impl IndexState {
    /// Its size over its packed estimate.
    pub fn looseness(&self) -> Option<f64> {
        self.packed
            .filter(|p| *p > 0.0)
            .map(|p| self.bytes as f64 / p)
    }

    /// Whether `policy` has it rebuilt.
    pub fn is_loose(&self, policy: &Policy) -> bool {
        self.bytes >= policy.min_bytes
            && self
                .looseness()
                .is_some_and(|loose| loose > policy.max_looseness)
    }
}

/// An index rebuilt.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebuilt {
    /// The index.
    pub name: String,
    /// Bytes before.
    pub bytes_before: i64,
    /// Bytes after.
    pub bytes_after: i64,
    /// How long the rebuild took.
    pub took: Duration,
}

/// What a round of upkeep did.
#[derive(Debug, Clone, PartialEq)]
pub enum Upkeep {
    /// The database is SQLite: nothing to do.
    NotPostgres,
    /// Another instance is doing it now.
    Busy,
    /// Done.
    Done {
        /// Invalid indexes left by interrupted rebuilds, dropped.
        dropped: Vec<String>,
        /// The loose indexes rebuilt.
        rebuilt: Vec<Rebuilt>,
        /// Loose indexes whose rebuild failed, and leftovers that could not be dropped, with
        /// why; the next round tries again.
        failed: Vec<(String, String)>,
    },
}

/// The valid B-tree indexes of the service's schema of at least `min_bytes`, largest first.
pub fn index_states(conn: &mut DbConnection, min_bytes: i64) -> StoreResult<Vec<IndexState>> {
    match conn {
        DbConnection::Sqlite(_) => Ok(Vec::new()),
        DbConnection::Pg(c) => pg_index_states(c, min_bytes),
    }
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = BigInt)]
    bytes: i64,
    #[diesel(sql_type = Double)]
    entries: f64,
    #[diesel(sql_type = Integer)]
    len: i32,
    #[diesel(sql_type = Text)]
    align: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Double>)]
    avg_width: Option<f64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Double>)]
    null_frac: Option<f64>,
}

fn pg_index_states(conn: &mut PgConnection, min_bytes: i64) -> StoreResult<Vec<IndexState>> {
    // One row per attribute of each index. A column's statistics are its table's (never null
    // when the index is limited to its rows that are not); an expression's (the province a
    // path names) are the index's own, which ANALYZE of the table gathers.
    // Each index's size is read once (it grows under inserts while the query runs), and its
    // rows stay together, ordered by its oid.
    let rows: Vec<ColumnRow> = diesel::sql_query(
        "WITH sized AS ( \
           SELECT i.indexrelid, i.indrelid, i.indkey, i.indpred, \
                  pg_relation_size(i.indexrelid) AS bytes \
           FROM pg_index i \
           JOIN pg_class ix ON ix.oid = i.indexrelid \
           JOIN pg_am am ON am.oid = ix.relam AND am.amname = 'btree' \
           JOIN pg_namespace n ON n.oid = ix.relnamespace AND n.nspname = current_schema() \
           WHERE i.indisvalid) \
         SELECT ix.relname::text AS index_name, tb.relname::text AS table_name, \
                sized.bytes, greatest(ix.reltuples, 0)::float8 AS entries, \
                ia.attlen::int4 AS len, ia.attalign::text AS align, \
                s.avg_width::float8 AS avg_width, \
                CASE WHEN pg_get_expr(sized.indpred, sized.indrelid) ~ ('\\m' || ta.attname || ' IS NOT NULL') \
                     THEN 0 ELSE s.null_frac END::float8 AS null_frac \
         FROM sized \
         JOIN pg_class ix ON ix.oid = sized.indexrelid \
         JOIN pg_class tb ON tb.oid = sized.indrelid \
         JOIN pg_attribute ia ON ia.attrelid = ix.oid AND ia.attnum > 0 \
         LEFT JOIN pg_attribute ta ON ta.attrelid = tb.oid AND ta.attnum = sized.indkey[ia.attnum - 1] \
         LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND NOT s.inherited AND ( \
              (ta.attname IS NOT NULL AND s.tablename = tb.relname AND s.attname = ta.attname) \
           OR (ta.attname IS NULL AND s.tablename = ix.relname AND s.attname = ia.attname)) \
         WHERE sized.bytes >= $1 \
         ORDER BY sized.bytes DESC, ix.oid, ia.attnum",
    )
    .bind::<BigInt, _>(min_bytes)
    .load(conn)?;
    let mut states: Vec<IndexState> = Vec::new();
    let mut columns: Vec<Option<EntryColumn>> = Vec::new();
    let finish = |state: &mut IndexState, columns: &mut Vec<Option<EntryColumn>>| {
        let known: Option<Vec<EntryColumn>> = columns.drain(..).collect();
        state.packed = known
            .filter(|_| state.entries > 0.0)
            .map(|c| packed_bytes(state.entries, &c));
    };
    for row in rows {
        if states.last().is_none_or(|s| s.name != row.index_name) {
            if let Some(last) = states.last_mut() {
                finish(last, &mut columns);
            }
            states.push(IndexState {
                name: row.index_name,
                table: row.table_name,
                bytes: row.bytes,
                entries: row.entries,
                packed: None,
            });
        }
        columns.push(row.avg_width.map(|avg_width| EntryColumn {
            len: row.len,
            align: row.align.chars().next().unwrap_or('c'),
            avg_width,
            null_frac: row.null_frac.unwrap_or(0.0),
        }));
    }
    if let Some(last) = states.last_mut() {
        finish(last, &mut columns);
    }
    Ok(states)
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(diesel::QueryableByName)]
struct Size {
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

/// `"name"`, quoted as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One round of upkeep: drops what interrupted rebuilds left, then rebuilds every index
/// `policy` finds loose, largest first, on a connection of its own (a rebuild takes minutes
/// at the country's size, and must not hold one of the pool's).
pub fn keep_compact(db: &Database, policy: &Policy) -> StoreResult<Upkeep> {
    if db.backend() == Backend::Sqlite {
        return Ok(Upkeep::NotPostgres);
    }
    let DbConnection::Pg(mut conn) = db.dedicated()? else {
        return Ok(Upkeep::NotPostgres);
    };
    let (k1, k2) = LOCK_KEYS;
    let locked = diesel::sql_query("SELECT pg_try_advisory_lock($1, $2) AS locked")
        .bind::<Integer, _>(k1)
        .bind::<Integer, _>(k2)
        .get_result::<Locked>(&mut conn)?
        .locked;
    if !locked {
        return Ok(Upkeep::Busy);
    }
    // A rebuild may wait longer than a request's 10 s (`Policy::lock_wait`); the statement
    // itself takes as long as the index is large.
    conn.batch_execute(&format!(
        "SET statement_timeout = 0; SET lock_timeout = {}",
        policy.lock_wait.as_millis()
    ))?;
    let result = rebuild_loose(&mut conn, policy);
    // The lock is the session's: the connection closes next anyway, but say so.
    let _ = conn.batch_execute(&format!("SELECT pg_advisory_unlock({k1}, {k2})"));
    result
}

fn rebuild_loose(conn: &mut PgConnection, policy: &Policy) -> StoreResult<Upkeep> {
    let schema = quoted(
        &diesel::sql_query("SELECT current_schema()::text AS name")
            .get_result::<Name>(conn)?
            .name,
    );
    let mut failed = Vec::new();
    let dropped = drop_leftovers(conn, &schema, &mut failed)?;
    let mut rebuilt = Vec::new();
    let loose: Vec<IndexState> = pg_index_states(conn, policy.min_bytes)?
        .into_iter()
        .filter(|s| s.is_loose(policy))
        .collect();
    for index in loose {
        let started = Instant::now();
        match conn.batch_execute(&format!(
            "REINDEX INDEX CONCURRENTLY {schema}.{}",
            quoted(&index.name)
        )) {
            Ok(()) => {
                let bytes_after = diesel::sql_query(
                    "SELECT pg_relation_size(c.oid) AS bytes FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relname = $1 AND n.nspname = current_schema()",
                )
                .bind::<Text, _>(&index.name)
                .get_result::<Size>(conn)?
                .bytes;
                rebuilt.push(Rebuilt {
                    name: index.name,
                    bytes_before: index.bytes,
                    bytes_after,
                    took: started.elapsed(),
                });
            }
            Err(e) => {
                failed.push((index.name, e.to_string()));
                drop_leftovers(conn, &schema, &mut failed)?;
            }
        }
    }
    Ok(Upkeep::Done {
        dropped,
        rebuilt,
        failed,
    })
}

/// Drops the invalid indexes an interrupted `REINDEX … CONCURRENTLY` leaves (`…_ccnew`, and
/// `…_ccold` when it stopped after the swap), and returns their names. One that cannot be
/// dropped now (its table's lock is held past the wait) goes to `failed`, for the next round.
fn drop_leftovers(
    conn: &mut PgConnection,
    schema: &str,
    failed: &mut Vec<(String, String)>,
) -> StoreResult<Vec<String>> {
    let names: Vec<String> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT i.indisvalid AND n.nspname = current_schema() \
           AND c.relname ~ '_cc(new|old)[0-9]*$' ORDER BY 1",
    )
    .load::<Name>(conn)?
    .into_iter()
    .map(|n| n.name)
    .collect();
    let mut dropped = Vec::new();
    for name in names {
        match conn.batch_execute(&format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {schema}.{}",
            quoted(&name)
        )) {
            Ok(()) => dropped.push(name),
            Err(e) => failed.push((name, e.to_string())),
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(len: i32, align: char) -> EntryColumn {
        EntryColumn {
            len,
            align,
            avg_width: f64::from(len),
            null_frac: 0.0,
        }
    }

    #[test]
    fn a_bigint_index_of_a_million_entries_packs_into_what_postgres_builds() {
        // CREATE INDEX on a million bigints builds 2,745 pages (PostgreSQL 12 to 17): 20
        // bytes an entry, 367 to a leaf page filled to 90%.
        let pages = packed_bytes(1e6, &[fixed(8, 'd')]) / PAGE;
        assert!((pages - 2745.0).abs() < 2745.0 * 0.02, "{pages}");
    }

    #[test]
    fn columns_are_aligned_and_short_texts_are_not() {
        // (text of 20 bytes, timestamp): the timestamp starts at 24, the entry is 8 + 32.
        let text = EntryColumn {
            len: -1,
            align: 'i',
            avg_width: 20.0,
            null_frac: 0.0,
        };
        let with_text = packed_bytes(1e6, &[text, fixed(8, 'd')]);
        let two_bigints = packed_bytes(1e6, &[fixed(8, 'd'), fixed(8, 'd')]);
        // 44 bytes an entry against 28.
        let ratio = with_text / two_bigints;
        assert!((ratio - 44.0 / 28.0).abs() < 0.01, "{ratio}");
        // Nulls take no data, but a bitmap in the header.
        let mostly_null = EntryColumn {
            null_frac: 0.9,
            ..text
        };
        assert!(packed_bytes(1e6, &[mostly_null, fixed(8, 'd')]) < with_text);
    }

    #[test]
    fn an_entry_weighs_each_combination_of_its_nulls() {
        let sometimes = |null_frac: f64| EntryColumn {
            null_frac,
            ..fixed(8, 'd')
        };
        // (text of 6 bytes, timestamp): 8 + 8 + 8, and 4 → 28.
        let text = EntryColumn {
            len: -1,
            align: 'i',
            avg_width: 6.0,
            null_frac: 0.0,
        };
        assert!((entry_bytes(&[text, fixed(8, 'd')]) - 28.0).abs() < 1e-9);
        // A timestamp null three times in four: 28 when present; when null, the bitmap takes
        // the room the value left (16 + 6, aligned to 24, and 4).
        assert!((entry_bytes(&[text, sometimes(0.75)]) - 28.0).abs() < 1e-9);
        // Two such: both present 8 + 24 = 32 + 4 (1/16), one 16 + 16 = 32 + 4 (6/16), none
        // 16 + 6 → 24 + 4 (9/16).
        let two = entry_bytes(&[text, sometimes(0.75), sometimes(0.75)]);
        assert!(
            (two - (36.0 + 6.0 * 36.0 + 9.0 * 28.0) / 16.0).abs() < 1e-9,
            "{two}"
        );
        // Always null: no room, the bitmap only.
        assert!((entry_bytes(&[text, sometimes(1.0)]) - 28.0).abs() < 1e-9);
    }

    #[test]
    fn an_index_is_loose_over_the_policy_s_ratio_and_size_only() {
        let policy = Policy {
            min_bytes: 1000,
            ..Policy::default()
        };
        let index = |bytes: i64, packed: Option<f64>| IndexState {
            name: "i".into(),
            table: "t".into(),
            bytes,
            entries: 10.0,
            packed,
        };
        assert!(index(1500, Some(1000.0)).is_loose(&policy));
        assert!(!index(1400, Some(1000.0)).is_loose(&policy));
        // Too small to matter, or never analysed: left alone.
        assert!(!index(900, Some(100.0)).is_loose(&policy));
        assert!(!index(5000, None).is_loose(&policy));
        assert_eq!(index(1500, Some(1000.0)).looseness(), Some(1.5));
    }

    #[test]
    fn names_are_quoted_as_identifiers() {
        assert_eq!(quoted("dossiers_received"), "\"dossiers_received\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
