//! Storage of the people who sign in to the office console: their hashed passwords, roles and
//! unit grants. (API clients, machines, are in `clients`.)

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Actor, Change};
use super::revocations;
use super::schema::users;
use super::{DbConnection, StoreError, StoreResult, write_tx};
use crate::version::Versions;

/// How the subject of a person's session token begins (`user:{username}`): an API client's id
/// cannot hold a `:`, so the two never meet.
pub const SUBJECT_PREFIX: &str = "user:";

/// The subject of `username`'s session tokens, under which their revocations are kept.
pub fn subject(username: &str) -> String {
    format!("{SUBJECT_PREFIX}{username}")
}

/// A stored person.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Sign-in name.
    pub username: String,
    /// Full name.
    pub name: String,
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// Role.
    pub role: String,
    /// Space-separated unit codes.
    pub units: String,
    /// Acts for every unit.
    pub all_units: bool,
    /// Cannot sign in.
    pub disabled: bool,
    /// Version.
    pub version: i64,
    /// Created at (UTC).
    pub created_at: NaiveDateTime,
    /// Updated at (UTC).
    pub updated_at: NaiveDateTime,
    /// Password set at (UTC).
    pub password_set_at: NaiveDateTime,
}

/// A person as the service shows them, without the password (also what the audit trail keeps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Sign-in name.
    pub username: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Units the person acts for, each with its subtree.
    pub units: Vec<String>,
    /// Whether the person acts for every unit.
    pub all_units: bool,
    /// Whether the person is refused sign-in.
    pub disabled: bool,
    /// Version (the API's `ETag`).
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// When the password was last set.
    pub password_set_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            units: row.units.split_whitespace().map(str::to_owned).collect(),
            username: row.username,
            name: row.name,
            role: row.role,
            all_units: row.all_units,
            disabled: row.disabled,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            password_set_at: row.password_set_at.and_utc(),
        }
    }
}

/// What a new person is made of. Role and units are checked by the caller.
#[derive(Debug, Clone)]
pub struct UserInsertForm {
    /// Sign-in name.
    pub username: String,
    /// Full name.
    pub name: String,
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// Role.
    pub role: String,
    /// Unit codes.
    pub units: Vec<String>,
    /// Acts for every unit.
    pub all_units: bool,
}

/// A change to a person; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdateForm {
    /// New name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// New units.
    pub units: Option<Vec<String>>,
    /// New all-units flag.
    pub all_units: Option<bool>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// The grant the caller's right to change the person was judged on, read before the
    /// change; a grant changed since answers a conflict and nothing is written.
    pub checked_grant: Option<Grant>,
}

/// What a person may do, which decides who may manage them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Role.
    pub role: String,
    /// Units, by code.
    pub units: Vec<String>,
    /// Every unit.
    pub all_units: bool,
}

impl User {
    /// Their grant.
    pub fn grant(&self) -> Grant {
        Grant {
            role: self.role.clone(),
            units: self.units.clone(),
            all_units: self.all_units,
        }
    }
}

fn not_found(username: &str) -> StoreError {
    StoreError::NotFound {
        resource: "user",
        id: username.to_owned(),
    }
}

/// The row of `username`, with the password hash.
pub fn find_row(conn: &mut DbConnection, username: &str) -> StoreResult<Option<UserRow>> {
    Ok(users::table
        .find(username)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Person `username`.
pub fn get(conn: &mut DbConnection, username: &str) -> StoreResult<User> {
    find_row(conn, username)?
        .map(User::from)
        .ok_or_else(|| not_found(username))
}

/// People ordered by username, after the cursor `after`.
pub fn list(conn: &mut DbConnection, after: Option<&str>, limit: i64) -> StoreResult<Vec<User>> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::username.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(users::username.gt(after.to_owned()));
    }
    Ok(q.load(conn)?.into_iter().map(User::from).collect())
}

/// Creates a person. Audited (without the password).
pub fn create(conn: &mut DbConnection, actor: &Actor, form: &UserInsertForm) -> StoreResult<User> {
    write_tx(conn, |conn| {
        let now = super::now();
        diesel::insert_into(users::table)
            .values((
                users::username.eq(&form.username),
                users::name.eq(&form.name),
                users::password_hash.eq(&form.password_hash),
                users::role.eq(&form.role),
                users::units.eq(form.units.join(" ")),
                users::all_units.eq(form.all_units),
                users::disabled.eq(false),
                users::version.eq(1),
                users::created_at.eq(now),
                users::updated_at.eq(now),
                users::password_set_at.eq(now),
            ))
            .execute(conn)
            .map_err(|e| {
                StoreError::unique_as_conflict(
                    e,
                    "username",
                    &format!("a user named {} exists already", form.username),
                )
            })?;
        let created = get(conn, &form.username)?;
        audit::record(
            conn,
            actor,
            &Change {
                action: "create",
                resource_type: "user",
                resource_id: &form.username,
                before: None,
                after: Some(&created),
            },
        )?;
        Ok(created)
    })
}

/// Changes person `username`; with `expected_version`, refuses when it changed since. Audited
/// (a new password as `setPassword`, never its value). A new password, another grant or
/// disabling the person refuses the sessions they hold.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    username: &str,
    form: &UserUpdateForm,
    expected_version: Option<&Versions>,
) -> StoreResult<User> {
    write_tx(conn, |conn| {
        super::lock_record(conn, &format!("user:{username}"))?;
        let row = find_row(conn, username)?.ok_or_else(|| not_found(username))?;
        let before = User::from(row.clone());
        super::grant_as_checked(form.checked_grant.as_ref(), &before.grant(), "user")?;
        if let Some(expected) = expected_version
            && !expected.allows(row.version)
        {
            return Err(StoreError::VersionMismatch {
                current: row.version,
            });
        }
        let now = super::now();
        let new_password = form.password_hash.is_some();
        let changed = diesel::update(
            users::table
                .find(username)
                .filter(users::version.eq(row.version)),
        )
        .set((
            users::name.eq(form.name.as_deref().unwrap_or(&row.name)),
            users::role.eq(form.role.as_deref().unwrap_or(&row.role)),
            users::units.eq(form
                .units
                .as_ref()
                .map_or(row.units.clone(), |u| u.join(" "))),
            users::all_units.eq(form.all_units.unwrap_or(row.all_units)),
            users::disabled.eq(form.disabled.unwrap_or(row.disabled)),
            users::password_hash.eq(form.password_hash.as_deref().unwrap_or(&row.password_hash)),
            users::password_set_at.eq(if new_password {
                now
            } else {
                row.password_set_at
            }),
            users::version.eq(row.version + 1),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 0 {
            // Another instance changed the row between the read and the write.
            return Err(StoreError::VersionMismatch {
                current: row.version + 1,
            });
        }
        let after = get(conn, username)?;
        let regranted = after.role != before.role
            || !revocations::same_grant(&after.units, &before.units)
            || after.all_units != before.all_units;
        if new_password || regranted || (after.disabled && !before.disabled) {
            // The sessions it holds were opened under what no longer stands.
            revocations::revoke_subject(conn, &subject(username))?;
        }
        audit::record(
            conn,
            actor,
            &Change {
                action: if new_password {
                    "setPassword"
                } else {
                    "update"
                },
                resource_type: "user",
                resource_id: username,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}
