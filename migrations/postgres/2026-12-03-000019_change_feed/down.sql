DROP INDEX audit_log_feed;
ALTER TABLE audit_log DROP COLUMN txid;
