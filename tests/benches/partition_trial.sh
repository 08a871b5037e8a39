#!/usr/bin/env bash
# The declarative-partitioning trial of issue #22, on a database the list benchmark kept:
#
#   TTHC_BENCH_KEEP=1 TTHC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
#     cargo bench -p tthc-tests --bench dossier_list      # prints "keeping the database: URL"
#   bash tests/benches/partition_trial.sh URL
#
# It copies `dossiers` into `pdossiers`, partitioned by receipt month (January 2025 to December
# 2027, and a default partition), with the same indexes; the keys then hold the receipt instant,
# as PostgreSQL requires of a partitioned table's unique indexes. `dossiers` is rewritten
# (`VACUUM FULL`) so that neither table carries the load's dead space. Then `pgbench` (one
# client, simple protocol, so each statement is planned with its values, as the service's
# `force_custom_plan` plans them) runs each statement in `partition_trial/` on either table in
# turn, twice, and prints the mean latencies; the list page also under 32 clients. The statements are what the service sent for the list benchmark's
# requests (its statement log, parameters written in): the list page of D1, the province P's
# March and year scores' parts, the `DOSSIER_SYNC` count, the overdue stock. Two more are made
# here from the data: a dossier by its code, and a bulk batch's look-up of 500 codes. One more,
# `sync_count_by_index`, is the `DOSSIER_SYNC` count with sequential and bitmap scans turned
# off. Last, a fortnight's receipts are inserted again into either table (new ids and codes,
# eight months later), in a transaction rolled back. `pdossiers` is dropped at the end.
set -euo pipefail

url=${1:?usage: partition_trial.sh DATABASE_URL (from TTHC_BENCH_KEEP=1)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'psql -q "$url" -c "DROP TABLE IF EXISTS pdossiers, trial_rows" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

psql -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
SET maintenance_work_mem = '512MB';
DROP TABLE IF EXISTS pdossiers;
CREATE TABLE pdossiers (LIKE dossiers INCLUDING DEFAULTS) PARTITION BY RANGE (received_at);
DO $$
DECLARE m date := '2025-01-01';
BEGIN
  WHILE m < '2028-01-01' LOOP
    EXECUTE format('CREATE TABLE pdossiers_%s PARTITION OF pdossiers FOR VALUES FROM (%L) TO (%L)',
                   to_char(m, 'YYYYMM'), m, m + interval '1 month');
    m := m + interval '1 month';
  END LOOP;
END $$;
CREATE TABLE pdossiers_default PARTITION OF pdossiers DEFAULT;
INSERT INTO pdossiers OVERRIDING SYSTEM VALUE SELECT * FROM dossiers;
ALTER TABLE pdossiers ADD PRIMARY KEY (id, received_at);
ALTER TABLE pdossiers ADD UNIQUE (code, received_at);
ALTER TABLE pdossiers ADD FOREIGN KEY (unit_id) REFERENCES units (id);
CREATE INDEX ON pdossiers (split_part(unit_path, '/', 2), received_at, code, unit_path, ended_at, late_from, synced_at, timing, facts) INCLUDE (channel, status, procedure_code);
CREATE INDEX ON pdossiers (split_part(unit_path, '/', 2), span_class, received_at, ended_at) WHERE span_class IS NOT NULL;
CREATE INDEX ON pdossiers (status, received_at, code, unit_path) WHERE status <> 'finished';
CREATE INDEX ON pdossiers (effective_due_at) WHERE ended_at IS NULL;
CREATE INDEX ON pdossiers (late_from) WHERE ended_at IS NULL;
CREATE INDEX ON pdossiers (split_part(unit_path, '/', 2), ended_at, received_at, unit_path, late_from, synced_at, facts) WHERE ended_at IS NOT NULL;
CREATE INDEX ON pdossiers (received_at, code);
CREATE INDEX ON pdossiers (unit_path text_pattern_ops, received_at, code);
CREATE INDEX ON pdossiers (unit_path text_pattern_ops, received_at) INCLUDE (late_from, synced_at, facts) WHERE ended_at IS NULL;
CREATE INDEX ON pdossiers (split_part(unit_path, '/', 2), received_at, unit_path, late_from, synced_at, facts) WHERE ended_at IS NULL;
VACUUM (ANALYZE) pdossiers;
VACUUM (FULL) dossiers;
-- A rewrite leaves the visibility map empty: without this, index-only scans read the table.
VACUUM (ANALYZE) dossiers;
SQL

psql -At "$url" -c "SELECT 'storage: dossiers ' || pg_size_pretty(pg_total_relation_size('dossiers')) || ', pdossiers ' || pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'pdossiers'::regclass"

cp "$here"/partition_trial/*.sql "$work"/
code=$(psql -At "$url" -c "SELECT code FROM dossiers ORDER BY received_at DESC LIMIT 1")
[[ -n $code ]] || { echo "no dossiers in $url" >&2; exit 1; }
echo "SELECT * FROM dossiers WHERE code = '$code';" >"$work/by_code.sql"
codes=$(psql -At "$url" -c "SELECT string_agg(quote_literal(code), ',') FROM (SELECT code FROM dossiers ORDER BY random() LIMIT 500) c")
echo "SELECT id, code, received_at FROM dossiers WHERE code = ANY (ARRAY[$codes]);" >"$work/batch_500.sql"
for f in "$work"/*.sql; do
  perl -pe 's/"dossiers"/pdossiers/g; s/\bdossiers\b/pdossiers/g' "$f" >"${f%.sql}.partitioned"
  grep -q pdossiers "${f%.sql}.partitioned" || { echo "no table renamed in $f" >&2; exit 1; }
done

# pgbench's own failures (an SQL error, say) are shown, not swallowed.
bench() {
  pgbench -n -M simple "$@" "$url" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
}
latency() { bench -c1 -T "$2" -f "$1"; awk '/latency average/ {print $4}' "$work/out"; }
echo "statement: mean latency in ms, plain table (two runs) / partitioned (two runs)"
for f in "$work"/*.sql; do
  name=$(basename "$f" .sql)
  t=4; [[ $name == year_* ]] && t=8
  a1=$(latency "$f" $t); b1=$(latency "${f%.sql}.partitioned" $t)
  a2=$(latency "$f" $t); b2=$(latency "${f%.sql}.partitioned" $t)
  echo "  $name: $a1 $a2 / $b1 $b2"
done
echo "list page under 32 clients, transactions/s: plain / partitioned"
tps() { bench -c32 -j2 -T8 -f "$1"; awk '/^tps/ {print $3; exit}' "$work/out"; }
echo "  $(tps "$work/list.sql") / $(tps "$work/list.partitioned")"

psql -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
DROP TABLE IF EXISTS trial_rows;
CREATE UNLOGGED TABLE trial_rows AS
  SELECT * FROM dossiers WHERE received_at >= '2026-03-01' AND received_at < '2026-03-15';
UPDATE trial_rows SET id = id + 100000000, code = code || 'x', received_at = received_at + interval '8 months';
SQL
insert_ms() {
  psql -q -v ON_ERROR_STOP=1 "$url" >"$work/out" 2>&1 <<SQL || { cat "$work/out" >&2; exit 1; }
BEGIN;
DO \$\$ DECLARE t timestamptz := clock_timestamp(); BEGIN
  INSERT INTO $1 OVERRIDING SYSTEM VALUE SELECT * FROM trial_rows;
  RAISE NOTICE '%', round(extract(epoch FROM clock_timestamp() - t) * 1000);
END \$\$;
ROLLBACK;
SQL
  sed -n 's/.*NOTICE: *//p' "$work/out"
}
echo "inserting $(psql -At "$url" -c "SELECT count(*) FROM trial_rows") rows (rolled back), ms: plain / partitioned, three times"
for _ in 1 2 3; do
  plain=$(insert_ms dossiers)
  partitioned=$(insert_ms pdossiers)
  echo "  $plain / $partitioned"
done
