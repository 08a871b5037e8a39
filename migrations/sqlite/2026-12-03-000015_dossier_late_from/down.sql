DROP INDEX dossiers_open_late;
DROP INDEX dossiers_carried;
DROP INDEX dossiers_ended_received;
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (
    received_at, code, unit_path, ended_at, effective_due_at, synced_at, timing
);
CREATE INDEX dossiers_ended_received ON dossiers (
    ended_at, received_at, unit_path, effective_due_at, synced_at
);
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, effective_due_at, synced_at, timing
);
ALTER TABLE dossiers DROP COLUMN late_from;
