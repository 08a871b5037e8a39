ALTER TABLE dossiers DROP COLUMN rating_channel;
ALTER TABLE dossiers DROP COLUMN rated_at;
ALTER TABLE dossiers DROP COLUMN rating;
DROP TABLE petition_events;
DROP TABLE petitions;
