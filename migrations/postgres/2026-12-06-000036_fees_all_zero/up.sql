-- Facts bit 1 << 12 (FEES_ALL_ZERO): the dossier lists its fees and every amount is zero. The
-- portal's ONLINE_PAYMENT_DOSSIER leaves such dossiers out of the dossiers of fee-bearing
-- procedures it counts (PORTAL_RULES 3.6). Backfilled from the fees kept as pushed.
UPDATE dossiers SET facts = facts | 4096
WHERE data LIKE '%"fees"%'
  AND jsonb_array_length(data::jsonb -> 'fees') > 0
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_array_elements(data::jsonb -> 'fees') AS f
    WHERE coalesce((f ->> 'amountVnd')::bigint, 0) <> 0
  );
