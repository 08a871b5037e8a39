-- The relay to the national portal is a subscription to the change feed whose receiver is the
-- portal's sync service (kind 'portal'): it reuses the cursor, the lease, the retries and the
-- dead letters of webhooks, and sends whole dossiers in the portal's dialect.
ALTER TABLE subscriptions ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
