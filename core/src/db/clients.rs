//! Storage of API clients: their hashed secrets, scopes and unit grants.

use crate::version::Versions;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::revocations;
use super::schema::{clients, idempotency_keys};
use super::{DbConnection, StoreError, StoreResult, write_tx};

/// A stored client row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    /// Client id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Argon2 PHC string.
    pub secret_hash: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Space-separated unit codes.
    pub units: String,
    /// Acts for every unit.
    pub all_units: bool,
    /// Cannot get tokens.
    pub disabled: bool,
    /// Version.
    pub version: i64,
    /// Created at (UTC).
    pub created_at: NaiveDateTime,
    /// Updated at (UTC).
    pub updated_at: NaiveDateTime,
    /// Secret set at (UTC).
    pub secret_rotated_at: NaiveDateTime,
}

/// A client as the service knows it, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// Client id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Units the client may act for, each with its subtree.
    pub units: Vec<String>,
    /// Whether it may act for every unit.
    pub all_units: bool,
    /// Whether it is refused tokens.
    pub disabled: bool,
    /// Version (the API's `ETag`).
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// When the secret was last set.
    pub secret_rotated_at: DateTime<Utc>,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

impl From<ClientRow> for Client {
    fn from(row: ClientRow) -> Self {
        Self {
            scopes: words(&row.scopes),
            units: words(&row.units),
            id: row.id,
            name: row.name,
            all_units: row.all_units,
            disabled: row.disabled,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            secret_rotated_at: row.secret_rotated_at.and_utc(),
        }
    }
}

/// What a new client is made of. Scopes and units are checked by the caller.
#[derive(Debug, Clone)]
pub struct ClientInsertForm {
    /// Client id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Argon2 PHC string of the secret.
    pub secret_hash: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Unit codes.
    pub units: Vec<String>,
    /// Acts for every unit.
    pub all_units: bool,
}

/// A change to a client; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientUpdateForm {
    /// New name.
    pub name: Option<String>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// New units.
    pub units: Option<Vec<String>>,
    /// New all-units flag.
    pub all_units: Option<bool>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New secret hash (rotation).
    pub secret_hash: Option<String>,
    /// The grant the caller's right to change the client was judged on, read before the
    /// change; a grant changed since answers a conflict and nothing is written.
    pub checked_grant: Option<Grant>,
}

/// What a client may do, which decides who may manage it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Scopes.
    pub scopes: Vec<String>,
    /// Units, by code.
    pub units: Vec<String>,
    /// Every unit.
    pub all_units: bool,
}

impl Client {
    /// Its grant.
    pub fn grant(&self) -> Grant {
        Grant {
            scopes: self.scopes.clone(),
            units: self.units.clone(),
            all_units: self.all_units,
        }
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        resource: "client",
        id: id.to_owned(),
    }
}

/// The row of client `id`, with its secret hash.
pub fn find_row(conn: &mut DbConnection, id: &str) -> StoreResult<Option<ClientRow>> {
    Ok(clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}

/// Client `id`.
pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Client> {
    find_row(conn, id)?
        .map(Client::from)
        .ok_or_else(|| not_found(id))
}

/// Clients ordered by id, after the cursor `after`.
pub fn list(conn: &mut DbConnection, after: Option<&str>, limit: i64) -> StoreResult<Vec<Client>> {
    let mut q = clients::table
        .select(ClientRow::as_select())
        .order(clients::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(clients::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?.into_iter().map(Client::from).collect())
}

/// Creates a client.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &ClientInsertForm,
) -> StoreResult<Client> {
    write_tx(conn, |conn| {
        let now = super::now();
        diesel::insert_into(clients::table)
            .values((
                clients::id.eq(&form.id),
                clients::name.eq(&form.name),
                clients::secret_hash.eq(&form.secret_hash),
                clients::scopes.eq(form.scopes.join(" ")),
                clients::units.eq(form.units.join(" ")),
                clients::all_units.eq(form.all_units),
                clients::disabled.eq(false),
                clients::version.eq(1),
                clients::created_at.eq(now),
                clients::updated_at.eq(now),
                clients::secret_rotated_at.eq(now),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "id",
                    &format!("a client with the id {} exists already", form.id),
                )
            })?;
        let created = get(conn, &form.id)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "create",
                resource_type: "client",
                resource_id: &form.id,
                before: None,
                after: Some(&created),
            },
        )?;
        Ok(created)
    })
}

/// Changes client `id`; with `expected_version`, refuses when it changed since. A new secret,
/// another grant or disabling it refuses the tokens it holds.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    form: &ClientUpdateForm,
    expected_version: Option<&Versions>,
) -> StoreResult<Client> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("client:{id}"))?;
        let row = find_row(conn, id)?.ok_or_else(|| not_found(id))?;
        let before = Client::from(row.clone());
        super::grant_as_checked(form.checked_grant.as_ref(), &before.grant(), "client")?;
        if let Some(expected) = expected_version
            && !expected.allows(row.version)
        {
            return Err(StoreError::VersionMismatch {
                current: row.version,
            });
        }
        let now = super::now();
        let rotated = form.secret_hash.is_some();
        diesel::update(clients::table.find(id))
            .set((
                clients::name.eq(form.name.as_deref().unwrap_or(&row.name)),
                clients::scopes.eq(form
                    .scopes
                    .as_ref()
                    .map_or(row.scopes.clone(), |s| s.join(" "))),
                clients::units.eq(form
                    .units
                    .as_ref()
                    .map_or(row.units.clone(), |u| u.join(" "))),
                clients::all_units.eq(form.all_units.unwrap_or(row.all_units)),
                clients::disabled.eq(form.disabled.unwrap_or(row.disabled)),
                clients::secret_hash.eq(form.secret_hash.as_deref().unwrap_or(&row.secret_hash)),
                clients::secret_rotated_at.eq(if rotated { now } else { row.secret_rotated_at }),
                clients::version.eq(row.version + 1),
                clients::updated_at.eq(now),
            ))
            .execute(conn)?;
        let after = get(conn, id)?;
        let regranted = !(revocations::same_grant(&after.scopes, &before.scopes)
            && revocations::same_grant(&after.units, &before.units)
            && after.all_units == before.all_units);
        if rotated || regranted || (after.disabled && !before.disabled) {
            // The tokens it holds were issued under what no longer stands.
            revocations::revoke_subject(conn, id)?;
        }
        audit::record(
            conn,
            actor,
            &Change {
                action: if rotated { "rotateSecret" } else { "update" },
                resource_type: "client",
                resource_id: id,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

/// Deletes client `id`, refuses the tokens it holds, and leaves its subscriptions owned by no
/// client ([`super::subscriptions::disown`]).
/// `checked_grant` is the grant the caller's right to delete it was judged on: changed since,
/// the deletion is refused as a conflict.
pub fn delete(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    checked_grant: Option<&Grant>,
) -> StoreResult<()> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("client:{id}"))?;
        let before = get(conn, id)?;
        super::grant_as_checked(checked_grant, &before.grant(), "client")?;
        diesel::delete(clients::table.find(id)).execute(conn)?;
        revocations::revoke_subject(conn, id)?;
        // Nothing of it passes to a client created later under the same id: neither its
        // deliveries nor the answers kept under its idempotency keys.
        super::subscriptions::disown(conn, actor, id)?;
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::client_id.eq(id)))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "delete",
                resource_type: "client",
                resource_id: id,
                before: Some(&before),
                after: None,
            },
        )
    })
}
