-- A unit's move used to leave the stored tree path of its subtree's dossiers and petitions as it
-- was: lists, scores and grants then found them under the old parent. Moves now rewrite them;
-- this repairs the records of moves made before.
UPDATE dossiers SET unit_path = units.path FROM units
WHERE units.id = dossiers.unit_id AND dossiers.unit_path <> units.path;
UPDATE petitions SET unit_path = units.path FROM units
WHERE units.id = petitions.unit_id AND petitions.unit_path <> units.path;
-- A moved dossier is marked as petitioned by the petitions of its unit's chain as it is now
-- (facts bit 256, as `db::petitions::refresh_petitioned` sets it): one of its old parent no
-- longer concerns it, one of its new parent does.
UPDATE dossiers SET facts = CASE WHEN EXISTS (
    SELECT 1 FROM petitions
    WHERE petitions.dossier_code = dossiers.code
      AND petitions.status NOT IN ('refused', 'withdrawn')
      AND substr(dossiers.unit_path, 1, length(petitions.unit_path)) = petitions.unit_path
) THEN facts | 256 ELSE (facts | 256) - 256 END
WHERE code IN (SELECT dossier_code FROM petitions WHERE dossier_code IS NOT NULL);
