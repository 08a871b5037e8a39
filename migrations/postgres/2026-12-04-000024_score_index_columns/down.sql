DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (
    received_at, code, unit_path, ended_at, late_from, synced_at, timing, facts
);
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, late_from, synced_at, timing, facts
);
