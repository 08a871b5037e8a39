SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT COUNT(*), count("dossiers"."synced_at") FROM "dossiers" WHERE (((split_part(unit_path, '/', 2) = 'P' AND ("dossiers"."facts" < '1073741824')) AND ("dossiers"."received_at" >= '2026-03-01 00:00:00')) AND ("dossiers"."received_at" < '2026-04-01 00:00:00')) LIMIT '1';
RESET enable_seqscan;
RESET enable_bitmapscan;
