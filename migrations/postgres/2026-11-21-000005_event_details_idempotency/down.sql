DROP TABLE idempotency_keys;
ALTER TABLE dossier_events DROP COLUMN payload;
