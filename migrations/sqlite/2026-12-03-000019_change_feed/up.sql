-- The change feed reads the audit log in commit order. SQLite has one writer at a time, so ids
-- are taken in commit order: every row's transaction id is 0 and the id orders the feed.
ALTER TABLE audit_log ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
CREATE INDEX audit_log_feed ON audit_log (txid, id);
