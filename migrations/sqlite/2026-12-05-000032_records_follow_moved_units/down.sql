-- The paths rewritten by the up migration were wrong; there is nothing to restore.
SELECT 1;
