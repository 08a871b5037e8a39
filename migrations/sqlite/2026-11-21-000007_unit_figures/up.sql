-- Figures of the 766 index that tthc cannot observe (the national reporting system's dossier
-- count, communes offering electronic certified copies …), entered per unit and period.
CREATE TABLE unit_figures (
    unit_id BIGINT NOT NULL REFERENCES units (id),
    -- 2026-08, 2026-Q3 or 2026.
    period TEXT NOT NULL,
    indicator TEXT NOT NULL,
    -- NULL: tthc's own count is the numerator (only for indicators it observes).
    numerator BIGINT,
    denominator BIGINT NOT NULL,
    note TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_id, period, indicator)
);
