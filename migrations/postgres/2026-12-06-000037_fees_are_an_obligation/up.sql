-- A non-zero fee a dossier lists is a financial obligation whatever its `financialObligation`
-- says (facts bit 1), and with it come "paid online" (bit 2, a fee paid online) and "carries its
-- fees" (bit 512), as tthc_core::dossier::intake::facts_of now writes them. Before, a native push
-- that listed fees without the flag counted as neither paid online nor carrying its fees.
UPDATE dossiers SET facts = facts | 1 | 512
    | CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(data::jsonb -> 'fees') AS f
                        WHERE (f ->> 'paidOnline') = 'true')
           THEN 2 ELSE 0 END
WHERE facts & 1 = 0
  AND data LIKE '%"fees"%'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(data::jsonb -> 'fees') AS f
              WHERE (f ->> 'amountVnd')::bigint > 0);
