DROP TABLE dossier_refused_events;
