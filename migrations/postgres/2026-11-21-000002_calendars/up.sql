-- Years of a province's working-day calendar edited through the API. Years not stored here
-- follow the national calendar shipped with the service.
CREATE TABLE calendar_years (
    unit_id BIGINT NOT NULL REFERENCES units (id),
    year INTEGER NOT NULL,
    -- The whole year as JSON: rules, days off, make-up working days.
    data TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_id, year)
);
