-- What a vendor attaches to a status event beyond its status (kept, never interpreted).
ALTER TABLE dossier_events ADD COLUMN payload TEXT;

-- Responses to POST requests sent with an Idempotency-Key, replayed when the same client sends
-- the same key again. A row whose status is NULL is a first request still being answered.
CREATE TABLE idempotency_keys (
    client_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    -- SHA-256 of method, path, query and body: the same key with another request is refused.
    request_hash TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BLOB,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
