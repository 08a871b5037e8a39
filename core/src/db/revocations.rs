//! Tokens taken back before they expire. Access tokens are signed and checked without the
//! database; what takes one back is a row here, which every instance reads into memory
//! ([`load`]) and checks each token against ([`Revoked::refuses`]):
//! - a row for a subject (a client id, or `user:<username>`) refuses every token of it issued
//!   before the row: a token carries the id of its subject's latest row when it was issued
//!   ([`generation`]), and one carrying a smaller id is refused. Written in the transaction that
//!   disables, deletes or re-keys the subject or changes its grant ([`revoke_subject`]).
//! - a row for a token id refuses that token alone: a person signing out ([`revoke_token`]).
//!
//! Ids are never used twice (a sequence, SQLite's `AUTOINCREMENT`), so a row pruned once every
//! token it refused has expired leaves nothing an old token could pass for.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::token_revocations;
use super::{DbConnection, StoreResult};

/// How long a row is kept past the last expiry of a token it refuses: beyond the 30 s of leeway
/// tokens are checked with, and clocks of instances that disagree by less than the rest.
const MARGIN: TimeDelta = TimeDelta::seconds(300);

/// The longest token lifetime (`TTHC_TOKEN_TTL` is at most a day).
const LONGEST_TOKEN: TimeDelta = TimeDelta::seconds(86_400);

/// What every instance holds in memory: the latest row of each subject, and the tokens signed
/// out, while any token they refuse may still be unexpired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked {
    subjects: HashMap<String, i64>,
    tokens: HashSet<String>,
}

impl Revoked {
    /// Whether the token `jti` of `subject`, issued when its subject's latest row was
    /// `generation`, is refused.
    pub fn refuses(&self, subject: &str, jti: &str, generation: i64) -> bool {
        self.tokens.contains(jti)
            || self
                .subjects
                .get(subject)
                .is_some_and(|&latest| generation < latest)
    }

    /// Adds what a row says, as [`load`] would read it.
    pub fn add(&mut self, id: i64, subject: &str, jti: Option<&str>) {
        match jti {
            Some(jti) => {
                self.tokens.insert(jti.to_owned());
            }
            None => {
                let latest = self.subjects.entry(subject.to_owned()).or_insert(id);
                *latest = (*latest).max(id);
            }
        }
    }
}

/// Whether two lists of scopes or units grant the same, in whatever order and however often
/// each is named: a change that only reorders them revokes nothing.
pub fn same_grant(a: &[String], b: &[String]) -> bool {
    fn set(l: &[String]) -> std::collections::BTreeSet<&str> {
        l.iter().map(String::as_str).collect()
    }
    set(a) == set(b)
}

/// Every row still kept. Rows are kept and pruned by the database's clock on PostgreSQL, so
/// that instances whose clocks disagree read the same rows (on SQLite, the one machine's).
pub fn load(conn: &mut DbConnection) -> StoreResult<Revoked> {
    let now = super::database_now(conn)?;
    let rows: Vec<(i64, String, Option<String>)> = token_revocations::table
        .filter(token_revocations::keep_until.gt(now))
        .select((
            token_revocations::id,
            token_revocations::subject,
            token_revocations::jti,
        ))
        .load(conn)?;
    let mut revoked = Revoked::default();
    for (id, subject, jti) in rows {
        revoked.add(id, &subject, jti.as_deref());
    }
    Ok(revoked)
}

/// The id of `subject`'s latest row, which a token issued now carries (0 without one).
pub fn generation(conn: &mut DbConnection, subject: &str) -> StoreResult<i64> {
    Ok(token_revocations::table
        .filter(token_revocations::subject.eq(subject))
        .filter(token_revocations::jti.is_null())
        .select(diesel::dsl::max(token_revocations::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Refuses every token of `subject` issued before now; run it in the transaction of the change
/// that calls for it. Rows no longer needed are pruned on the way.
pub fn revoke_subject(conn: &mut DbConnection, subject: &str) -> StoreResult<()> {
    let now = super::database_now(conn)?;
    insert(conn, subject, None, now, now + LONGEST_TOKEN + MARGIN)
}

/// Refuses the token `jti` of `subject`, which expires at `expires_at` (UTC).
pub fn revoke_token(
    conn: &mut DbConnection,
    subject: &str,
    jti: &str,
    expires_at: NaiveDateTime,
) -> StoreResult<()> {
    super::write_tx(conn, |conn| {
        let now = super::database_now(conn)?;
        insert(conn, subject, Some(jti), now, expires_at.max(now) + MARGIN)
    })
}

fn insert(
    conn: &mut DbConnection,
    subject: &str,
    jti: Option<&str>,
    now: NaiveDateTime,
    keep_until: NaiveDateTime,
) -> StoreResult<()> {
    diesel::delete(token_revocations::table.filter(token_revocations::keep_until.lt(now)))
        .execute(conn)?;
    diesel::insert_into(token_revocations::table)
        .values((
            token_revocations::subject.eq(subject),
            token_revocations::jti.eq(jti),
            token_revocations::revoked_at.eq(now),
            token_revocations::keep_until.eq(keep_until),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subjects_row_refuses_the_tokens_issued_before_it_and_a_token_row_that_token_only() {
        let mut revoked = Revoked::default();
        assert!(!revoked.refuses("vnpt", "t1", 0));
        revoked.add(7, "vnpt", None);
        revoked.add(3, "vnpt", None);
        // Issued before row 7 (carrying 0 or 3), refused; issued after it (carrying 7), not.
        assert!(revoked.refuses("vnpt", "t1", 0));
        assert!(revoked.refuses("vnpt", "t1", 3));
        assert!(!revoked.refuses("vnpt", "t2", 7));
        // Another subject's tokens are not touched.
        assert!(!revoked.refuses("user:lan", "t3", 0));
        revoked.add(8, "user:lan", Some("t3"));
        assert!(revoked.refuses("user:lan", "t3", 0));
        assert!(!revoked.refuses("user:lan", "t4", 0));
    }
}
