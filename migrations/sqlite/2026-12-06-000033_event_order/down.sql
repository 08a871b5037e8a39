ALTER TABLE dossier_events DROP COLUMN seq;
