-- Reporting duties: which report each unit owes, how often, and by when (seed 002: units report
-- to the provincial office before the 21st; the office to the Government Office before the 25th).
CREATE TABLE reporting_duties (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- monthly, quarterly or yearly.
    frequency TEXT NOT NULL,
    -- Due before this day of the month, counted due_months_after months after the period's last.
    due_before_day INTEGER NOT NULL,
    due_months_after INTEGER NOT NULL,
    -- Who receives the reports (free text: the office, the Government Office).
    recipient TEXT NOT NULL,
    -- The units that owe the report, as a JSON array of unit codes.
    reporters TEXT NOT NULL,
    -- The first period owed.
    first_period TEXT NOT NULL,
    -- PAR-index points per late, poor and missing report, as JSON.
    deductions TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Reports sent: a unit's report for a duty and period. The first one sent decides whether it
-- was on time; the office may mark one poor quality.
CREATE TABLE report_submissions (
    id INTEGER PRIMARY KEY,
    duty_id BIGINT NOT NULL REFERENCES reporting_duties (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    period TEXT NOT NULL,
    document_number TEXT NOT NULL,
    -- Local (Vietnam) time, as dossiers' instants.
    submitted_at TIMESTAMP NOT NULL,
    -- The file's metadata (name, media type, size, SHA-256) as JSON, if given.
    file TEXT,
    poor_quality_reason TEXT,
    marked_at TIMESTAMP,
    marked_by TEXT,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL
);

CREATE INDEX report_submissions_by_duty ON report_submissions (duty_id, period, unit_id, submitted_at);
