DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, late_from, synced_at, timing, facts,
    channel, status, procedure_code
);
