DROP TABLE announcement_links;
DROP TABLE announcement_items;
DROP TABLE announcements;
DROP TABLE procedure_version_units;
DROP TABLE procedure_versions;
DROP TABLE procedures;
DROP TABLE fields;
