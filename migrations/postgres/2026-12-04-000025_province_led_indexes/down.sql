DROP INDEX dossiers_ended_received;
CREATE INDEX dossiers_ended_received ON dossiers (
    ended_at, received_at, unit_path, late_from, synced_at, facts
);
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, late_from, synced_at, timing, facts
) INCLUDE (channel, status, procedure_code);
DROP INDEX dossiers_root_received;
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (
    received_at, code, unit_path, ended_at, late_from, synced_at, timing, facts
) INCLUDE (channel, status, procedure_code);
