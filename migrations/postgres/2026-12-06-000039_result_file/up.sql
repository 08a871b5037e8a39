-- Facts bit 1 << 13 (RESULT_FILE): a result document is attached, whatever it holds. The
-- portal counts "a linked result file" for ORIGINAL_RESULT_AVAILABLE and
-- SO_HOA_GIAY_TO_GIAI_QUYET (PORTAL_RULES 4.1, 4.2), an archive or an empty file included;
-- bit 1 << 2 (ELECTRONIC_RESULT, neither) stays for rule sets that ask it. Backfilled from the
-- results kept as pushed, only where no electronic result is: one is a result file too, and the
-- counting reads either bit (so only the dossiers whose results are all archives or empty
-- files, not every finished dossier).
UPDATE dossiers SET facts = facts | 8192
WHERE (facts & 4) = 0
  AND data LIKE '%"results"%'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(data::jsonb -> 'results'));
