DROP INDEX dossiers_ended_received;
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (received_at, code, unit_path);
