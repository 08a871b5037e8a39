-- Closed months: their 766 figures are frozen as snapshots that later data does not change.
CREATE TABLE closed_periods (
    -- 2026-08.
    period TEXT PRIMARY KEY,
    closed_at TIMESTAMP NOT NULL,
    -- The client (and end user) that closed it.
    closed_by TEXT NOT NULL
);

-- The figures of every unit for a closed month, as JSON (indicator → numerator, denominator,
-- source), with the rule set they were scored by.
CREATE TABLE score_snapshots (
    period TEXT NOT NULL REFERENCES closed_periods (period) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    rule_set TEXT NOT NULL,
    figures TEXT NOT NULL,
    PRIMARY KEY (period, unit_id)
);

-- The scores the national portal published for a unit and period, as JSON.
CREATE TABLE official_scores (
    unit_id BIGINT NOT NULL REFERENCES units (id),
    period TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_id, period)
);
