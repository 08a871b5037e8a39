-- Foundation: organisational units, API clients, the audit trail and service settings.
-- Timestamps are UTC; dates are calendar dates in Asia/Ho_Chi_Minh.

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'department', 'district', 'commune', 'other')),
    parent_id BIGINT REFERENCES units (id),
    -- Codes from the root down to this unit: '/P/D/C/'. A subtree is a prefix.
    path TEXT NOT NULL UNIQUE,
    valid_from DATE,
    valid_to DATE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX units_parent ON units (parent_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    -- Space-separated scope names and unit codes.
    scopes TEXT NOT NULL,
    units TEXT NOT NULL,
    all_units BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    client_id TEXT NOT NULL,
    end_user_id TEXT,
    end_user_name TEXT,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    reason TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id, id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
