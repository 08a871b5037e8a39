-- The bits are what the service writes for such a dossier: there is nothing to restore.
SELECT 1;
