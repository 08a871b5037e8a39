-- How long each dossier's handling took, as a class of powers of two days
-- (`tthc_core::dossier::span`): a period's carried-over dossiers (received before it, ended in
-- or after its start) are then read, class by class, in a window of receipts before the start,
-- instead of among every dossier ended since. Null while open.
ALTER TABLE dossiers ADD COLUMN span_class INTEGER;
-- julianday() is a double: each bound is lowered by about a tenth of a second so that rounding
-- can only put a dossier in a longer class than the service would (a wider window, still
-- correct).
UPDATE dossiers SET span_class = CASE
        WHEN julianday(ended_at) - julianday(received_at) <= 1 - 0.000001 THEN 0
        WHEN julianday(ended_at) - julianday(received_at) <= 2 - 0.000001 THEN 1
        WHEN julianday(ended_at) - julianday(received_at) <= 4 - 0.000001 THEN 2
        WHEN julianday(ended_at) - julianday(received_at) <= 8 - 0.000001 THEN 3
        WHEN julianday(ended_at) - julianday(received_at) <= 16 - 0.000001 THEN 4
        WHEN julianday(ended_at) - julianday(received_at) <= 32 - 0.000001 THEN 5
        WHEN julianday(ended_at) - julianday(received_at) <= 64 - 0.000001 THEN 6
        WHEN julianday(ended_at) - julianday(received_at) <= 128 - 0.000001 THEN 7
        WHEN julianday(ended_at) - julianday(received_at) <= 256 - 0.000001 THEN 8
        WHEN julianday(ended_at) - julianday(received_at) <= 512 - 0.000001 THEN 9
        WHEN julianday(ended_at) - julianday(received_at) <= 1024 - 0.000001 THEN 10
        WHEN julianday(ended_at) - julianday(received_at) <= 2048 - 0.000001 THEN 11
        WHEN julianday(ended_at) - julianday(received_at) <= 4096 - 0.000001 THEN 12
        ELSE 13 END
    WHERE ended_at IS NOT NULL;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, effective_due_at, synced_at, timing
);
