DROP TABLE task_parts;
DROP TABLE tasks;
ALTER TABLE report_submissions DROP COLUMN excused_by;
ALTER TABLE report_submissions DROP COLUMN excused_at;
ALTER TABLE report_submissions DROP COLUMN excuse_reason;
ALTER TABLE reporting_duties DROP COLUMN due_on;
