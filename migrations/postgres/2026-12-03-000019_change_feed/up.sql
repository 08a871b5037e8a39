-- The change feed reads the audit log in commit order. A sequence number is taken when a row is
-- inserted, not when its transaction commits, so two writers can commit out of order; the id of
-- the writing transaction orders the rows instead. The feed returns only rows of transactions
-- older than every transaction still running (pg_snapshot_xmin), and such a row can never be
-- followed by one that sorts before it. Rows written before this migration get its own id.
ALTER TABLE audit_log ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX audit_log_feed ON audit_log (txid, id);
