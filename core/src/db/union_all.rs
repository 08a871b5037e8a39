//! Several queries of one row type read as of one snapshot: on PostgreSQL as one statement,
//! `UNION ALL`, so that the parts a count or a page is read in (a period's receipts, each class
//! of carried-over dossiers, those still open) cost one round trip rather than one each, and
//! PostgreSQL may read the parts side by side. Each part keeps its own index range, order and
//! limit: it is a subquery of its own.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::LoadQuery;
use diesel::{Connection, QueryResult, RunQueryDsl};

use super::DbConnection;

/// The rows of every part, in no particular order (each part's `ORDER BY` and `LIMIT` hold
/// within it). It has at least one part: [`load_all`] builds it.
#[derive(Debug)]
pub(crate) struct UnionAll<Q>(Vec<Q>);

/// The rows of every one of `parts`, as of one snapshot (none when there are no parts). On
/// PostgreSQL one statement, `UNION ALL`; on SQLite a statement each inside a transaction: it
/// has no round trips to save, and inside a compound select its planner made the year's score
/// a tenth slower (README, "Whole provinces without the path match"). Not for use inside
/// [`super::write_tx`], whose SQLite transaction diesel does not know of.
pub(crate) fn load_all<'q, Q, T>(
    conn: &mut DbConnection,
    parts: impl IntoIterator<Item = Q>,
) -> QueryResult<Vec<T>>
where
    Q: LoadQuery<'q, DbConnection, T>,
    UnionAll<Q>: LoadQuery<'q, DbConnection, T>,
{
    let parts: Vec<Q> = parts.into_iter().collect();
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    match conn {
        DbConnection::Pg(_) => UnionAll(parts).load(conn),
        DbConnection::Sqlite(_) => conn.transaction(|conn| {
            let mut rows = Vec::new();
            for part in parts {
                rows.extend(part.load(conn)?);
            }
            Ok(rows)
        }),
    }
}

impl<Q: Query> Query for UnionAll<Q> {
    type SqlType = Q::SqlType;
}

// The statement's text depends on the number of parts: never cached by its type.
impl<Q> QueryId for UnionAll<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for UnionAll<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // `SELECT * FROM (part)` rather than `(part)`: SQLite accepts neither parentheses nor
        // a part's own ORDER BY and LIMIT in a compound select, but both backends take them in
        // a subquery.
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_sql(" UNION ALL ");
            }
            out.push_sql("SELECT * FROM (");
            part.walk_ast(out.reborrow())?;
            out.push_sql(&format!(") AS part_{i}"));
        }
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for UnionAll<Q> {}
