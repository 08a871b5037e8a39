ALTER TABLE dossiers RENAME COLUMN flags TO flag_words;
ALTER TABLE dossiers ADD COLUMN flags TEXT NOT NULL DEFAULT ' ';
UPDATE dossiers SET flags = ' '
    || CASE WHEN flag_words & 1 <> 0 THEN 'noResultDocument ' ELSE '' END
    || CASE WHEN flag_words & 2 <> 0 THEN 'archiveResult ' ELSE '' END
    || CASE WHEN flag_words & 4 <> 0 THEN 'emptyResult ' ELSE '' END
    || CASE WHEN flag_words & 8 <> 0 THEN 'resultIsComponent ' ELSE '' END
    || CASE WHEN flag_words & 16 <> 0 THEN 'neverSynced ' ELSE '' END
    || CASE WHEN flag_words & 32 <> 0 THEN 'syncBehind ' ELSE '' END
    || CASE WHEN flag_words & 64 <> 0 THEN 'syncFailing ' ELSE '' END
    || CASE WHEN flag_words & 128 <> 0 THEN 'missingSteps ' ELSE '' END
    || CASE WHEN flag_words & 256 <> 0 THEN 'nonStandardCode ' ELSE '' END
    || CASE WHEN flag_words & 512 <> 0 THEN 'dueDateDisagrees ' ELSE '' END
    || CASE WHEN flag_words & 1024 <> 0 THEN 'noTimeLimit ' ELSE '' END
    || CASE WHEN flag_words & 2048 <> 0 THEN 'noDueDate ' ELSE '' END
    || CASE WHEN flag_words & 4096 <> 0 THEN 'notReceived ' ELSE '' END
    || CASE WHEN flag_words & 8192 <> 0 THEN 'refusedEvents ' ELSE '' END;
ALTER TABLE dossiers DROP COLUMN flag_words;
