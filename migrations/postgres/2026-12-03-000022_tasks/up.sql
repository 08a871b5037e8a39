-- One-off report requests (a report due on a given day, seed 001: reports due 12/9, 15/9, 18/9 and
-- 23/9/2024) are reporting duties of frequency 'once' with their due day.
ALTER TABLE reporting_duties ADD COLUMN due_on DATE;

-- The office may excuse a late report (a system outage, seed 003): it then costs nothing.
ALTER TABLE report_submissions ADD COLUMN excuse_reason TEXT;
ALTER TABLE report_submissions ADD COLUMN excused_at TIMESTAMP;
ALTER TABLE report_submissions ADD COLUMN excused_by TEXT;

-- Tasks the provincial office assigns by letter, with a deadline (seed 002: clean the catalogue
-- before 20/10/2023; cut 20% of the declared information before 15/9/2023). One task, many units:
-- each unit's part is tracked on its own in task_parts.
CREATE TABLE tasks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The caller's key (e.g. the letter's number and item): importing a letter twice does not
    -- duplicate its tasks; the notice's explanation task is keyed by unit and period.
    task_key TEXT UNIQUE,
    -- 'task', or 'explanation' (a notice's late dossiers to explain).
    kind TEXT NOT NULL,
    -- The letter: number, date, signer, title.
    source_number TEXT NOT NULL,
    source_date DATE NOT NULL,
    source_signer TEXT NOT NULL,
    source_title TEXT,
    body TEXT NOT NULL,
    -- The day the letter names in "trước ngày …": done on or after it is late.
    due_before DATE NOT NULL,
    -- The measurable target, as JSON, if any.
    target TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX tasks_by_due ON tasks (due_before);

-- A unit's part of a task: open, done (with evidence) or cancelled. Late is judged, not stored.
CREATE TABLE task_parts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    state TEXT NOT NULL,
    -- What the part is about beyond the task (the explanation task: the unit's late dossiers).
    note TEXT,
    -- The evidence's document number and date (the day the part was done), and its file and
    -- reported figure as JSON.
    document_number TEXT,
    done_on DATE,
    evidence TEXT,
    cancel_reason TEXT,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (task_id, unit_id)
);

CREATE INDEX task_parts_by_unit ON task_parts (unit_id, state);
