//! The audit trail: who changed what, when, and why. Written in the same transaction as the
//! change it records, so that neither exists without the other.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use diesel::sql_types::Bool;

use super::schema::audit_log;
use super::{DbConnection, StoreResult};

type Db = <DbConnection as Connection>::Backend;

/// Who is making a change and why: taken from the token and the request.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The API client.
    pub client_id: String,
    /// The end user named in the token, if any.
    pub end_user_id: Option<String>,
    /// The end user's name, if any.
    pub end_user_name: Option<String>,
    /// The `X-Audit-Reason` header, if any.
    pub reason: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Actor {
    /// The service itself (start-up, demo loading, command line).
    pub fn system(reason: &str) -> Self {
        Self {
            client_id: "system".into(),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// A change to record.
#[derive(Debug)]
pub struct Change<'a, T: Serialize> {
    /// `create`, `update`, `delete`, `rotateSecret` …
    pub action: &'a str,
    /// `unit`, `client` …
    pub resource_type: &'a str,
    /// The resource's code or id.
    pub resource_id: &'a str,
    /// The resource before, if it existed.
    pub before: Option<&'a T>,
    /// The resource after, if it still exists.
    pub after: Option<&'a T>,
}

#[derive(Insertable)]
// None is NULL, not DEFAULT: SQLite has no DEFAULT in multi-row VALUES.
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct NewAuditRow<'a> {
    at: NaiveDateTime,
    client_id: &'a str,
    end_user_id: Option<&'a str>,
    end_user_name: Option<&'a str>,
    action: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    before_json: Option<String>,
    after_json: Option<String>,
    reason: Option<&'a str>,
    request_id: Option<&'a str>,
    unit_path: Option<&'a str>,
}

/// Records `change` made by `actor`, a change of the whole service (clients, calendars, rule
/// sets) that only clients acting for every unit read. Call it inside the transaction of the
/// change.
pub fn record<T: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    change: &Change<'_, T>,
) -> StoreResult<()> {
    record_in_unit(conn, actor, None, change)
}

/// Records `change` made by `actor` to a record of the unit at `unit_path`: clients whose
/// grant covers that unit read it. Call it inside the transaction of the change.
pub fn record_in_unit<T: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    unit_path: Option<&str>,
    change: &Change<'_, T>,
) -> StoreResult<()> {
    let json = |v: Option<&T>| v.and_then(|v| serde_json::to_string(v).ok());
    diesel::insert_into(audit_log::table)
        .values(NewAuditRow {
            at: super::now(),
            client_id: &actor.client_id,
            end_user_id: actor.end_user_id.as_deref(),
            end_user_name: actor.end_user_name.as_deref(),
            action: change.action,
            resource_type: change.resource_type,
            resource_id: change.resource_id,
            before_json: json(change.before),
            after_json: json(change.after),
            reason: actor.reason.as_deref(),
            request_id: actor.request_id.as_deref(),
            unit_path,
        })
        .execute(conn)?;
    Ok(())
}

/// One of many changes recorded at once: action, resource id, the unit's tree path, and the
/// resource after the change.
pub type ManyChange<'a, T> = (&'a str, &'a str, &'a str, &'a T);

/// Records many changes of one resource type by `actor` at once (after-states only), each to a
/// record of a unit, with multi-row inserts. Call it inside the transaction of the changes.
pub fn record_many<T: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    resource_type: &str,
    changes: &[ManyChange<'_, T>],
) -> StoreResult<()> {
    let at = super::now();
    let rows: Vec<NewAuditRow<'_>> = changes
        .iter()
        .map(|(action, id, unit_path, after)| NewAuditRow {
            at,
            client_id: &actor.client_id,
            end_user_id: actor.end_user_id.as_deref(),
            end_user_name: actor.end_user_name.as_deref(),
            action,
            resource_type,
            resource_id: id,
            before_json: None,
            after_json: serde_json::to_string(after).ok(),
            reason: actor.reason.as_deref(),
            request_id: actor.request_id.as_deref(),
            unit_path: Some(unit_path),
        })
        .collect();
    // Multi-row inserts are not expressible over both backends at once (MultiConnection). On
    // PostgreSQL a binary COPY takes them all, as the dossiers' rows (`db::dossiers`).
    match conn {
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(audit_log::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Pg(c) => {
            if !rows.is_empty() {
                diesel::copy_from(audit_log::table)
                    .from_insertable(&rows)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// One recorded change.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    /// Sequence number (newer is larger).
    pub id: i64,
    /// When (UTC).
    pub at: NaiveDateTime,
    /// Client.
    pub client_id: String,
    /// End user id.
    pub end_user_id: Option<String>,
    /// End user name.
    pub end_user_name: Option<String>,
    /// Action.
    pub action: String,
    /// Resource kind.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// JSON before.
    pub before_json: Option<String>,
    /// JSON after.
    pub after_json: Option<String>,
    /// Reason given.
    pub reason: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Tree path of the unit the change concerns; `None` for the whole service.
    pub unit_path: Option<String>,
}

/// Which audit entries to list: newest first, keyset-paginated.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// Only this kind of resource.
    pub resource_type: Option<String>,
    /// Only this resource.
    pub resource_id: Option<String>,
    /// Only changes by this client.
    pub client_id: Option<String>,
    /// Entries older than this id (the cursor).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: i64,
    /// The caller's units: a unit-limited caller reads the changes to records of its units
    /// only, never those of the whole service.
    pub scope: crate::unit::UnitScope,
}

/// Lists audit entries, newest first.
pub fn list(conn: &mut DbConnection, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>> {
    let mut q = audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(t) = &filter.resource_type {
        q = q.filter(audit_log::resource_type.eq(t.clone()));
    }
    if let Some(r) = &filter.resource_id {
        q = q.filter(audit_log::resource_id.eq(r.clone()));
    }
    if let Some(c) = &filter.client_id {
        q = q.filter(audit_log::client_id.eq(c.clone()));
    }
    if let Some(before) = filter.before_id {
        q = q.filter(audit_log::id.lt(before));
    }
    if let Some(within) = within_scope(&filter.scope) {
        q = q.filter(within);
    }
    Ok(q.load(conn)?)
}

/// The audit rows a unit-limited caller may read: those of its units' subtrees (NULL paths,
/// changes of the whole service, match no root). `None` for a caller of every unit.
pub(super) fn within_scope(
    scope: &crate::unit::UnitScope,
) -> Option<Box<dyn BoxableExpression<audit_log::table, Db, SqlType = Bool>>> {
    let crate::unit::UnitScope::Within(roots) = scope else {
        return None;
    };
    let mut any: Box<dyn BoxableExpression<audit_log::table, Db, SqlType = Bool>> =
        Box::new(diesel::dsl::sql::<Bool>("1 = 0"));
    for root in roots {
        any = Box::new(
            any.or(audit_log::unit_path
                .assume_not_null()
                .like(format!("{}%", super::encode::escape_like(root)))
                .escape('\\')),
        );
    }
    Some(any)
}
