-- A period's score reads the dossiers received in it, those received before and ended in or
-- after it, and those received before and still open. The first part ranges over receipt, the
-- other two over the end; with the columns the counts read in the indexes, counting needs no
-- table rows (the unit path is filtered inside the index).
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (
    received_at, code, unit_path, ended_at, effective_due_at, synced_at, timing
);
CREATE INDEX dossiers_ended_received ON dossiers (
    ended_at, received_at, unit_path, effective_due_at, synced_at
);
