-- Facts bit 1 << 11 (COMPONENT_FILE): at least one submitted component was digitized. The
-- portal's SO_HOA_GIAY_TO_GIAI_QUYET asks for "a file in their components" (PORTAL_RULES 4.2),
-- not that every component be digitized (bit 1 << 10, kept for rule sets that ask it).
-- Backfilled from the components kept as pushed.
UPDATE dossiers SET facts = facts | 2048
WHERE EXISTS (
    SELECT 1 FROM json_each(data, '$.components')
    WHERE json_extract(value, '$.digitized') IS 1
);
