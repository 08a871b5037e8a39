//! The diesel schema, one for both backends (the migrations keep them alike).

diesel::table! {
    /// Organisational units.
    units (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Identifier code, unique.
        code -> Text,
        /// Official name.
        name -> Text,
        /// Level name, see `UnitLevel`.
        level -> Text,
        /// The parent unit.
        parent_id -> Nullable<BigInt>,
        /// Materialised path of codes from the root.
        path -> Text,
        /// First day of validity.
        valid_from -> Nullable<Date>,
        /// Last day of validity.
        valid_to -> Nullable<Date>,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// API clients (OAuth2 client credentials).
    clients (id) {
        /// Client id, chosen by the administrator.
        id -> Text,
        /// Human-readable name.
        name -> Text,
        /// Argon2 PHC string of the secret.
        secret_hash -> Text,
        /// Space-separated scopes.
        scopes -> Text,
        /// Space-separated unit codes the client may act for (each with its subtree).
        units -> Text,
        /// Whether the client may act for every unit.
        all_units -> Bool,
        /// A disabled client cannot get tokens.
        disabled -> Bool,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
        /// When the secret was last set (UTC).
        secret_rotated_at -> Timestamp,
    }
}

diesel::table! {
    /// Who changed what, when and why.
    audit_log (id) {
        /// Sequence number.
        id -> BigInt,
        /// When (UTC).
        at -> Timestamp,
        /// Client that made the change.
        client_id -> Text,
        /// End user named in the token, if any.
        end_user_id -> Nullable<Text>,
        /// End user's name, if any.
        end_user_name -> Nullable<Text>,
        /// What was done (`create`, `update`, `delete`, …).
        action -> Text,
        /// Kind of resource (`unit`, `client`, …).
        resource_type -> Text,
        /// The resource's identifier (its code or id).
        resource_id -> Text,
        /// JSON of the resource before the change.
        before_json -> Nullable<Text>,
        /// JSON of the resource after the change.
        after_json -> Nullable<Text>,
        /// `X-Audit-Reason` of the request.
        reason -> Nullable<Text>,
        /// Request id of the change.
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Service-wide settings kept in the database (e.g. the generated JWT key).
    settings (key) {
        /// Setting name.
        key -> Text,
        /// Setting value.
        value -> Text,
    }
}

diesel::table! {
    /// Calendar years edited by a province.
    calendar_years (unit_id, year) {
        /// The province.
        unit_id -> BigInt,
        /// The year.
        year -> Integer,
        /// The year as JSON (`YearCalendar`).
        data -> Text,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(units, clients, audit_log, settings, calendar_years);
