DROP INDEX dossiers_open_late;
CREATE INDEX dossiers_open_late ON dossiers (ended_at, late_from);
DROP INDEX dossiers_open_due;
CREATE INDEX dossiers_open_due ON dossiers (ended_at, effective_due_at);
