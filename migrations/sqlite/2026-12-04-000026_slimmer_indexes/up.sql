-- The span index serves only the carried-over queries, which name one class each: an open
-- dossier, with no class yet, is never read from it, and is left out.
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, late_from, synced_at, timing, facts,
    channel, status, procedure_code
) WHERE span_class IS NOT NULL;
