-- A national database holds every province, and the indexes the scores, misses, gains and
-- overdue stock read led with an instant: a province's month was a range of the country's
-- month, read entry by entry and 97% thrown away (10,000,000 dossiers over 34 provinces: the
-- province-month score 337.5 ms, README "The country"). Led by the root of the unit path, the
-- province, each reads its province's entries only. The queries name the same expression
-- (`db::subtree_by_time`); an index on an expression serves only a query that names it.
-- Lists of every unit, newest first, keep a receipt index of their own, without the columns
-- only the scores read.
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (received_at, code, unit_path);
CREATE INDEX dossiers_root_received ON dossiers (
    split_part(unit_path, '/', 2), received_at, code, unit_path, ended_at, late_from, synced_at,
    timing, facts
) INCLUDE (channel, status, procedure_code);
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    split_part(unit_path, '/', 2), span_class, received_at, ended_at, unit_path, late_from,
    synced_at, timing, facts
) INCLUDE (channel, status, procedure_code);
DROP INDEX dossiers_ended_received;
CREATE INDEX dossiers_ended_received ON dossiers (
    split_part(unit_path, '/', 2), ended_at, received_at, unit_path, late_from, synced_at, facts
);
