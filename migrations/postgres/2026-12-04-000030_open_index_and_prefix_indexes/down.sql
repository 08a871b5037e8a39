DROP INDEX audit_log_unit;
CREATE INDEX audit_log_unit ON audit_log (unit_path, id);
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (received_at, code, unit_path);
DROP INDEX dossiers_open_received;
DROP INDEX dossiers_ended_received;
CREATE INDEX dossiers_ended_received ON dossiers (
    split_part(unit_path, '/', 2), ended_at, received_at, unit_path, late_from, synced_at, facts
);
