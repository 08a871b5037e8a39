DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (received_at, code);
DROP INDEX dossiers_status_received;
CREATE INDEX dossiers_status ON dossiers (status, received_at);
