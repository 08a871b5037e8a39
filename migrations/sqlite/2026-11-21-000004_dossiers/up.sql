-- Dossiers pushed by vendor one-stop systems, and their status events.
CREATE TABLE dossiers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    -- The unit's tree path when stored, so that a subtree filter needs no join.
    unit_path TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    procedure_version INTEGER,
    field TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    -- The due instant used for timing (the vendor's when sent, else the rules'), the rules' one,
    -- and the due instant after apologies and supplement time.
    due_at TIMESTAMP,
    rule_due_at TIMESTAMP,
    effective_due_at TIMESTAMP,
    -- When handling ended by the timing rules (NULL while in progress) and the final timing.
    ended_at TIMESTAMP,
    timing TEXT,
    -- Space-delimited quality flags, with a leading and trailing space: ' neverSynced '.
    flags TEXT NOT NULL,
    synced_at TIMESTAMP,
    synced_status TEXT,
    -- The rest of the dossier as pushed (applicant without identity number, components, results …).
    data TEXT NOT NULL,
    -- Hash of the last write's input: the same push again changes nothing.
    input_hash TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dossiers_unit_received ON dossiers (unit_path, received_at, code);
CREATE INDEX dossiers_status ON dossiers (status, received_at);
-- Lists are newest first: read backwards, this index gives their order.
CREATE INDEX dossiers_received ON dossiers (received_at, code);
CREATE INDEX dossiers_open_due ON dossiers (ended_at, effective_due_at);

CREATE TABLE dossier_events (
    dossier_id BIGINT NOT NULL REFERENCES dossiers (id),
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    new_due TIMESTAMP,
    actor TEXT,
    note TEXT,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (dossier_id, event_id)
);
