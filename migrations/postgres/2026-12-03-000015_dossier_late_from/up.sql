-- The instant from which an open dossier counts late (`tthc_core::dossier::timing`), judged
-- from the events up to each instant: a later event (a supplement request, an apology) never
-- moves it, so a past period reads the same from the records whenever it is read. Null while
-- the dossier is within its time (or paused for a supplement) and for one that ended in time.
-- The indexes the scores read carry it instead of the effective due instant, and the facts
-- (a dossier refused before receipt, `facts >= 2^30`, is not counted). Rows stored before take their effective due instant, as they were judged; a push or
-- `POST /dossiers/{code}/recompute-due` derives it anew.
ALTER TABLE dossiers ADD COLUMN late_from TIMESTAMP;
UPDATE dossiers SET late_from = effective_due_at;
DROP INDEX dossiers_received;
DROP INDEX dossiers_ended_received;
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_received ON dossiers (
    received_at, code, unit_path, ended_at, late_from, synced_at, timing, facts
);
CREATE INDEX dossiers_ended_received ON dossiers (
    ended_at, received_at, unit_path, late_from, synced_at, facts
);
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, late_from, synced_at, timing, facts
);
CREATE INDEX dossiers_open_late ON dossiers (ended_at, late_from);
