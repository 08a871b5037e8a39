-- Rule sets of the 766 index added at run time (PUT /api/v1/rule-sets/{code}), beside those
-- shipped with the service: a changed portal definition becomes a new rule set, applying from
-- its day, without a new release. The body is the rule set as the API shows it (JSON), checked
-- before it is stored; no two rule sets apply from the same day.
CREATE TABLE rule_sets (
    code TEXT PRIMARY KEY NOT NULL,
    applies_from DATE NOT NULL UNIQUE,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
