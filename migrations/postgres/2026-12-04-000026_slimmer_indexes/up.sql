-- Storage per dossier (README, "Storage per dossier"). The span index serves only the carried-
-- over queries, which name one class each: an open dossier, with no class yet, is never read
-- from it, and is left out. The audit trail is read by resource one resource at a time, its few
-- entries sorted by id: a hash index of the id finds them in a quarter of the B-tree's bytes
-- (105 bytes per dossier at 1,000,000; its pages half full, as a B-tree is when entries arrive
-- interleaved at many places).
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    split_part(unit_path, '/', 2), span_class, received_at, ended_at, unit_path, late_from,
    synced_at, timing, facts
) INCLUDE (channel, status, procedure_code) WHERE span_class IS NOT NULL;
DROP INDEX audit_log_resource;
CREATE INDEX audit_log_resource ON audit_log USING hash (resource_id);
