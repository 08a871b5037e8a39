-- Which `d` of a fold came from an Eth is not kept; a fold with `d` finds what the old one did
-- but for a query typed with `ð`.
SELECT 1;
