-- Storage per dossier (README, "Storage, after migrations 000026–000029"), PostgreSQL only.
-- The span index finds the few dossiers carried over into a period whose handling took long; the
-- many that took days are a short window of receipts before the period, which the province's
-- receipt index reads as fast (1.6 ms either way for the 2,273 of March 2026 at 1,000,000
-- dossiers). It keeps the columns it ranges over, not those the score reads: the few rows it
-- finds are read from the table.
DROP INDEX dossiers_carried;
CREATE INDEX dossiers_carried ON dossiers (
    split_part(unit_path, '/', 2), span_class, received_at, ended_at
) WHERE span_class IS NOT NULL;
-- Lists by status: most dossiers are finished, and a list of finished ones finds them by unit or
-- receipt with the status as a filter; the index serves the other statuses, which are few.
DROP INDEX dossiers_status_received;
CREATE INDEX dossiers_status_received ON dossiers (status, received_at, code, unit_path)
    WHERE status <> 'finished';
