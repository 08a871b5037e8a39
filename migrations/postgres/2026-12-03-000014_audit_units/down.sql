DROP INDEX audit_log_unit;
ALTER TABLE audit_log DROP COLUMN unit_path;
