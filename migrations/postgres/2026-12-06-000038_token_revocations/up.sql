-- Tokens taken back before they expire. A row with a token id (`jti`) refuses that token (a
-- person signed out); a row without one refuses every token of its subject issued before it
-- (the client or person was disabled, deleted, given a new secret or password, or another
-- grant): a token carries the id of its subject's latest such row when it was issued, and one
-- carrying a smaller id is refused. A sequence never hands out an id twice, even after the rows
-- are pruned, so an id once handed out never names a later row.
CREATE TABLE token_revocations (
    id BIGSERIAL PRIMARY KEY,
    subject TEXT NOT NULL,
    jti TEXT,
    revoked_at TIMESTAMP NOT NULL,
    -- After this instant no token the row refuses is still unexpired: the row is pruned.
    keep_until TIMESTAMP NOT NULL
);
CREATE INDEX token_revocations_subject ON token_revocations (subject, id);
CREATE INDEX token_revocations_keep_until ON token_revocations (keep_until);
