-- Storage per dossier (README, "Storage, after migration 000030"), PostgreSQL only.
--
-- The index by end held open dossiers too, under a NULL end, after every ended one: ended
-- dossiers were then inserted before the last page, whose splits leave pages half full. It
-- holds ended dossiers now (inserted last, about when they end), and the open ones, which the
-- scores and the overdue stock read by receipt, have an index of their own.
DROP INDEX dossiers_ended_received;
CREATE INDEX dossiers_ended_received ON dossiers (
    split_part(unit_path, '/', 2), ended_at, received_at, unit_path, late_from, synced_at, facts
) WHERE ended_at IS NOT NULL;
CREATE INDEX dossiers_open_received ON dossiers (
    split_part(unit_path, '/', 2), received_at, unit_path, late_from, synced_at, facts
) WHERE ended_at IS NULL;
-- The receipt index of lists over every unit: a list reads its rows from the table, which
-- tests the unit there, so the index needs the order only.
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (received_at, code);
-- The audit trail is read by subtree, `unit_path LIKE '/P/D1/%'`, and a B-tree of the default
-- operator class serves a prefix only under the C collation: on any other (C.UTF-8,
-- en_US.UTF-8) this index served no query, at 72 bytes per dossier. With the pattern operator
-- class it serves the prefix; keyed by the path alone, the entries of a unit share one key,
-- which B-tree deduplication keeps as one list (about 7 bytes an entry).
DROP INDEX audit_log_unit;
CREATE INDEX audit_log_unit ON audit_log (unit_path text_pattern_ops);
