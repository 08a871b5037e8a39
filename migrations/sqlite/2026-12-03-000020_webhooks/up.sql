-- Webhook subscriptions: each follows the change feed (migration 000019) with its own cursor and
-- delivers what it has not delivered yet, in batches, to its URL. One instance at a time holds a
-- subscription (lease_owner until lease_until, taken with a conditional UPDATE), so several
-- instances on one database never deliver the same change twice at once. A batch being tried is
-- fixed (batch_end) so that every retry sends the same changes under the same delivery id.
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    owner_client TEXT NOT NULL,
    url TEXT NOT NULL,
    resource_types TEXT NOT NULL,
    unit_code TEXT,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    cursor_txid BIGINT NOT NULL,
    cursor_id BIGINT NOT NULL,
    batch_end_txid BIGINT,
    batch_end_id BIGINT,
    failures INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    last_success_at TIMESTAMP,
    last_error TEXT,
    delivered BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX subscriptions_due ON subscriptions (next_attempt_at);

-- Batches a subscription gave up on after its last retry: the range of the feed they held
-- (after from_*, up to and including to_*), kept to be looked at and delivered again on request.
CREATE TABLE webhook_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    from_txid BIGINT NOT NULL,
    from_id BIGINT NOT NULL,
    to_txid BIGINT NOT NULL,
    to_id BIGINT NOT NULL,
    changes INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_dead_letters_subscription ON webhook_dead_letters (subscription_id, id);
