-- Set by the request's own write transaction, so that it commits with the write: a key whose
-- request took effect but whose answer was lost (the connection to the database broke as it
-- committed) is not freed for a retry that would make the write again.
ALTER TABLE idempotency_keys ADD COLUMN took_effect BOOLEAN NOT NULL DEFAULT FALSE;
