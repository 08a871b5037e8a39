ALTER TABLE dossiers DROP COLUMN facts;
