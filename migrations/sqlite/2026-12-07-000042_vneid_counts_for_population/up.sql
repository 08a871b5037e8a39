-- PORTAL_RULES 4.5 counts a dossier carrying the VNeID mark or population-database data: the
-- facts bit 1 << 6 (POPULATION_DB) is now set by either, and here for the dossiers stored with
-- the mark alone. Closed months keep their snapshots.
UPDATE dossiers SET facts = facts | 64
WHERE (facts & 64) = 0
  AND json_extract(data, '$.vneidVerified') = 1;
