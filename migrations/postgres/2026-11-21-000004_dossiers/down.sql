DROP TABLE dossier_events;
DROP TABLE dossiers;
