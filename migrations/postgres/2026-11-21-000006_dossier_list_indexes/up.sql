-- List pages filter by status and period and order by receipt, then code. With the code in the
-- index the order needs no sort (many dossiers share a receipt instant), and with the unit path
-- in it a subtree filter reads no table rows it then throws away.
DROP INDEX dossiers_status;
CREATE INDEX dossiers_status_received ON dossiers (status, received_at, code, unit_path);
DROP INDEX dossiers_received;
CREATE INDEX dossiers_received ON dossiers (received_at, code, unit_path);
