ALTER TABLE idempotency_keys DROP COLUMN took_effect;
