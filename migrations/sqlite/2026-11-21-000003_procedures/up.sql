-- The procedure catalogue and announcement decisions.

-- Fields (lĩnh vực), a code list.
CREATE TABLE fields (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE procedures (
    id INTEGER PRIMARY KEY,
    -- National code (1.001234) or a province's localized copy (1.001234.H12).
    code TEXT NOT NULL UNIQUE,
    base_code TEXT NOT NULL,
    localized BOOLEAN NOT NULL,
    -- Published on the national procedure database (CSDLQG); NULL while a draft.
    published_on DATE,
    abolished_on DATE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX procedures_base ON procedures (base_code);

-- Every version of a procedure's content; an amendment adds one, nothing is deleted.
CREATE TABLE procedure_versions (
    id INTEGER PRIMARY KEY,
    procedure_id BIGINT NOT NULL REFERENCES procedures (id),
    seq INTEGER NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    -- The decision that made this version.
    decision TEXT,
    name TEXT NOT NULL,
    -- The name folded for search without diacritics.
    search_name TEXT NOT NULL,
    field TEXT NOT NULL,
    online_level TEXT,
    -- Space-separated levels and missing content parts ('' when complete).
    levels TEXT NOT NULL,
    missing TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (procedure_id, seq)
);
CREATE INDEX procedure_versions_validity ON procedure_versions (procedure_id, valid_from);

-- The units that handle a version.
CREATE TABLE procedure_version_units (
    version_id BIGINT NOT NULL REFERENCES procedure_versions (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (version_id, unit_id)
);

-- Announcement decisions: a ministry's, or the province's.
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('ministry', 'province')),
    number TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    -- The ministry's name, or the province's code.
    issuer TEXT NOT NULL,
    signed_on DATE NOT NULL,
    -- When the legal basis (ministry) or the decision (province) takes effect.
    effective_on DATE,
    -- Ministry: the unit that should submit the provincial decision. Province: the unit that did.
    unit_id BIGINT REFERENCES units (id),
    internal_process_number TEXT,
    internal_process_on DATE,
    -- Province: published on the national database.
    published_on DATE,
    notes TEXT,
    -- Deadlines, each with the rule that produced it.
    announce_due DATE,
    announce_rule TEXT,
    publish_due DATE,
    publish_rule TEXT,
    applied_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX announcements_kind ON announcements (kind, signed_on);

CREATE TABLE announcement_items (
    id INTEGER PRIMARY KEY,
    announcement_id BIGINT NOT NULL REFERENCES announcements (id),
    position INTEGER NOT NULL,
    procedure_code TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('new', 'amended', 'replaced', 'abolished')),
    name TEXT,
    replaces TEXT,
    -- The procedure's content (JSON) for new, amended and replaced items of a provincial decision.
    content TEXT
);
CREATE INDEX announcement_items_decision ON announcement_items (announcement_id, position);

-- Which ministry decisions a provincial decision implements.
CREATE TABLE announcement_links (
    province_decision_id BIGINT NOT NULL REFERENCES announcements (id),
    ministry_decision_id BIGINT NOT NULL REFERENCES announcements (id),
    PRIMARY KEY (province_decision_id, ministry_decision_id)
);
CREATE INDEX announcement_links_ministry ON announcement_links (ministry_decision_id);
