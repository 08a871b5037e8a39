-- People who sign in to the office console (API clients are machines): a password, a role that
-- gives their scopes, and the units they act for. Sessions are tokens in an HttpOnly cookie.
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Argon2id PHC string of the password.
    password_hash TEXT NOT NULL,
    -- 'viewer', 'officer' or 'admin'.
    role TEXT NOT NULL,
    -- Space-separated unit codes the person acts for (each with its subtree).
    units TEXT NOT NULL,
    all_units BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    password_set_at TIMESTAMP NOT NULL
);
