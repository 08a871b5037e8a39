DROP TABLE settings;
DROP TABLE audit_log;
DROP TABLE clients;
DROP TABLE units;
