-- A unit's move used to leave the stored tree path of its subtree's dossiers and petitions as it
-- was: lists, scores and grants then found them under the old parent. Moves now rewrite them;
-- this repairs the records of moves made before.
UPDATE dossiers SET unit_path = (SELECT path FROM units WHERE units.id = dossiers.unit_id)
WHERE unit_path <> (SELECT path FROM units WHERE units.id = dossiers.unit_id);
UPDATE petitions SET unit_path = (SELECT path FROM units WHERE units.id = petitions.unit_id)
WHERE unit_path <> (SELECT path FROM units WHERE units.id = petitions.unit_id);
