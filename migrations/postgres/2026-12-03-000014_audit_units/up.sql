-- The tree path of the unit a recorded change concerns (NULL: the whole service, such as
-- clients, calendars and rule sets), so that a client limited to some units reads only their
-- part of the trail.
ALTER TABLE audit_log ADD COLUMN unit_path TEXT;

UPDATE audit_log SET unit_path = (SELECT u.path FROM units u WHERE u.code = audit_log.resource_id)
WHERE resource_type = 'unit';
UPDATE audit_log SET unit_path = (
    SELECT u.path FROM dossiers d JOIN units u ON u.id = d.unit_id WHERE d.code = audit_log.resource_id
) WHERE resource_type = 'dossier';
UPDATE audit_log SET unit_path = (
    SELECT u.path FROM petitions p JOIN units u ON u.id = p.unit_id WHERE p.code = audit_log.resource_id
) WHERE resource_type = 'petition';

CREATE INDEX audit_log_unit ON audit_log (unit_path, id);
