-- What the 766 indicators count of a dossier beyond its timing, as bits (tthc_core::dossier::facts),
-- written with every push. Dossiers stored before this version get theirs on their next push.
ALTER TABLE dossiers ADD COLUMN facts INTEGER NOT NULL DEFAULT 0;
