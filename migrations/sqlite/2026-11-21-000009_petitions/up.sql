-- Petitions (phản ánh, kiến nghị) pushed by vendor systems or the national petition system, and
-- their stage events.
CREATE TABLE petitions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    -- The unit's tree path when stored, so that a subtree filter needs no join.
    unit_path TEXT NOT NULL,
    subject TEXT NOT NULL,
    procedure_code TEXT,
    dossier_code TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    handled_at TIMESTAMP,
    -- When it ended (refused, answer published, withdrawn) and its final timing; NULL while open.
    ended_at TIMESTAMP,
    timing TEXT,
    -- The earliest stage deadline missed or still pending (tthc_core::petition::Stages::late_from).
    late_from TIMESTAMP,
    reaction TEXT,
    reaction_at TIMESTAMP,
    further_petition TEXT,
    -- The rest as pushed (summary, outcome, where the answer was published).
    data TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX petitions_unit_received ON petitions (unit_path, received_at, code);
CREATE INDEX petitions_received ON petitions (received_at, code);
CREATE INDEX petitions_open_late ON petitions (ended_at, late_from);
CREATE INDEX petitions_dossier ON petitions (dossier_code);

CREATE TABLE petition_events (
    petition_id BIGINT NOT NULL REFERENCES petitions (id),
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT,
    note TEXT,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (petition_id, event_id)
);

-- A dossier's satisfaction rating (one per dossier, the latest by its instant), from the vendor's
-- push or the citizen portal.
ALTER TABLE dossiers ADD COLUMN rating TEXT;
ALTER TABLE dossiers ADD COLUMN rated_at TIMESTAMP;
ALTER TABLE dossiers ADD COLUMN rating_channel TEXT;
