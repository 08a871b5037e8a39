DROP INDEX audit_log_resource;
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id, id);
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    split_part(unit_path, '/', 2), span_class, received_at, ended_at, unit_path, late_from,
    synced_at, timing, facts
) INCLUDE (channel, status, procedure_code);
