DROP INDEX dossiers_status_received;
CREATE INDEX dossiers_status_received ON dossiers (status, received_at, code, unit_path);
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    split_part(unit_path, '/', 2), span_class, received_at, ended_at, unit_path, late_from,
    synced_at, timing, facts
) INCLUDE (channel, status, procedure_code) WHERE span_class IS NOT NULL;
