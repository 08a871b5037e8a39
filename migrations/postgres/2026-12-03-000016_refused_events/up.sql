-- Events a vendor sent that the transition rules refused (e.g. received after returned), kept
-- on the dossier with the reason, so that the office sees the vendor's sync problems. The
-- history stored and judged is the rest; a refused event is recorded once per dossier, id,
-- status and instant.
CREATE TABLE dossier_refused_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    -- When tthc refused it (Vietnam local time).
    refused_at TIMESTAMP NOT NULL,
    UNIQUE (dossier_id, event_id, status, at)
);
