-- The indexes of open dossiers by due and by lateness held every dossier, ended ones under their
-- end: the queries that read them name open dossiers only (`ended_at IS NULL`), so they hold
-- those only, a small share of the table (PostgreSQL only: storage per dossier, README).
DROP INDEX dossiers_open_due;
CREATE INDEX dossiers_open_due ON dossiers (effective_due_at) WHERE ended_at IS NULL;
DROP INDEX dossiers_open_late;
CREATE INDEX dossiers_open_late ON dossiers (late_from) WHERE ended_at IS NULL;
