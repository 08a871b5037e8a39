-- The quality flags as bits (`Flag::bit`) instead of words with spaces round them
-- (' noResultDocument neverSynced nonStandardCode ', 40 bytes a dossier; the bits take 4). A
-- dossier flagged with refused events after it was stored had the word without its spaces, which
-- the flag filter missed; every flag is found from its bit.
-- On PostgreSQL the rows written before keep the dropped words until they are next written
-- (or the table is rewritten by VACUUM FULL).
ALTER TABLE dossiers ADD COLUMN flag_bits INTEGER NOT NULL DEFAULT 0;
UPDATE dossiers SET flag_bits =
      CASE WHEN ' ' || flags || ' ' LIKE '% noResultDocument %' THEN 1 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% archiveResult %' THEN 2 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% emptyResult %' THEN 4 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% resultIsComponent %' THEN 8 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% neverSynced %' THEN 16 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% syncBehind %' THEN 32 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% syncFailing %' THEN 64 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% missingSteps %' THEN 128 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% nonStandardCode %' THEN 256 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% dueDateDisagrees %' THEN 512 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% noTimeLimit %' THEN 1024 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% noDueDate %' THEN 2048 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% notReceived %' THEN 4096 ELSE 0 END
    + CASE WHEN ' ' || flags || ' ' LIKE '% refusedEvents %' THEN 8192 ELSE 0 END;
ALTER TABLE dossiers DROP COLUMN flags;
ALTER TABLE dossiers RENAME COLUMN flag_bits TO flags;
