-- How long each dossier's handling took, as a class of powers of two days
-- (`tthc_core::dossier::span`): a period's carried-over dossiers (received before it, ended in
-- or after its start) are then read, class by class, in a window of receipts before the start,
-- instead of among every dossier ended since. Null while open.
ALTER TABLE dossiers ADD COLUMN span_class INTEGER;
UPDATE dossiers SET span_class = CASE
        WHEN ended_at - received_at <= INTERVAL '1 days' THEN 0
        WHEN ended_at - received_at <= INTERVAL '2 days' THEN 1
        WHEN ended_at - received_at <= INTERVAL '4 days' THEN 2
        WHEN ended_at - received_at <= INTERVAL '8 days' THEN 3
        WHEN ended_at - received_at <= INTERVAL '16 days' THEN 4
        WHEN ended_at - received_at <= INTERVAL '32 days' THEN 5
        WHEN ended_at - received_at <= INTERVAL '64 days' THEN 6
        WHEN ended_at - received_at <= INTERVAL '128 days' THEN 7
        WHEN ended_at - received_at <= INTERVAL '256 days' THEN 8
        WHEN ended_at - received_at <= INTERVAL '512 days' THEN 9
        WHEN ended_at - received_at <= INTERVAL '1024 days' THEN 10
        WHEN ended_at - received_at <= INTERVAL '2048 days' THEN 11
        WHEN ended_at - received_at <= INTERVAL '4096 days' THEN 12
        ELSE 13 END
    WHERE ended_at IS NOT NULL;
CREATE INDEX dossiers_carried ON dossiers (
    span_class, received_at, ended_at, unit_path, effective_due_at, synced_at, timing
);
