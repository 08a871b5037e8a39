-- A non-zero fee a dossier lists is a financial obligation whatever its `financialObligation`
-- says (facts bit 1), and with it come "paid online" (bit 2, a fee paid online) and "carries its
-- fees" (bit 512), as tthc_core::dossier::intake::facts_of now writes them. Before, a native push
-- that listed fees without the flag counted as neither paid online nor carrying its fees.
UPDATE dossiers SET facts = facts | 1 | 512
    | CASE WHEN EXISTS (SELECT 1 FROM json_each(data, '$.fees')
                        WHERE json_extract(value, '$.paidOnline') IS 1)
           THEN 2 ELSE 0 END
WHERE facts & 1 = 0
  AND EXISTS (SELECT 1 FROM json_each(data, '$.fees')
              WHERE json_extract(value, '$.amountVnd') > 0);
