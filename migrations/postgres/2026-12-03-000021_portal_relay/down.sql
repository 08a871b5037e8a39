ALTER TABLE subscriptions DROP COLUMN kind;
