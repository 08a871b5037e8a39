-- Facts bit 1 << 10 (COMPONENTS_DIGITIZED): every submitted component was digitized, whatever
-- the result. SO_HOA_GIAY_TO_GIAI_QUYET asks an electronic result only of the procedures whose
-- result is on paper (PORTAL_RULES 4.2), so the components are read apart from the result.
-- Backfilled from the components kept as pushed.
UPDATE dossiers SET facts = facts | 1024
WHERE jsonb_array_length(data::jsonb -> 'components') > 0
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_array_elements(data::jsonb -> 'components') AS c
    WHERE (c ->> 'digitized') IS DISTINCT FROM 'true'
  );
