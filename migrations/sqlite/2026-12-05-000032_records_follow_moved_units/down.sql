-- The paths rewritten by the up migration were wrong; there is nothing to restore (a statement,
-- as PostgreSQL refuses an empty one).
SELECT 1;
