-- The scores read each dossier's channel, status and procedure beside its timing and facts.
-- Carried in the receipt and span indexes (as included columns, not keys), a period's dossiers
-- are read from the index alone, with no table rows: a year of a province was a sequential
-- scan of the whole table, because reading a third of it through the index and then its rows
-- cost more (README, "On PostgreSQL").
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (
    received_at, code, unit_path, ended_at, late_from, synced_at, timing, facts
) INCLUDE (channel, status, procedure_code);
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, late_from, synced_at, timing, facts
) INCLUDE (channel, status, procedure_code);
