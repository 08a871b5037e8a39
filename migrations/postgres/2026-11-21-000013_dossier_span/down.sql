DROP INDEX dossiers_carried;
ALTER TABLE dossiers DROP COLUMN span_class;
