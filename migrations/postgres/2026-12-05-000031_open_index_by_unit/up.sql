-- The open stock of a unit below its province (a district's misses page and overdue stock):
-- the province-led index of open dossiers gives the province's whole open stock, of which a
-- district keeps a quarter. Led by the unit's path, with the pattern operator class so that a
-- prefix (`unit_path LIKE '/P/D1/%'`) is a range under any collation, this index gives the
-- district's own. A province's whole tree is named by its root alone and keeps the
-- province-led index. README, "A district's open stock".
CREATE INDEX dossiers_open_unit ON dossiers (unit_path text_pattern_ops, received_at)
    INCLUDE (late_from, synced_at, facts) WHERE ended_at IS NULL;
