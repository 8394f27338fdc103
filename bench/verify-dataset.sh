#!/usr/bin/env bash
# bench/verify-dataset.sh — proves that bench/sensors_load.sql builds exactly the test kit's sensor fixture:
# loads N events once with the test kit (Datasets.loadSensors through bench/FixtureLoad.java) and once with
# psql, on one throwaway PostgreSQL 15 under bench/out/verify/, and compares every table's rows (count and
# md5 of all rows in key order), the events sequence, the constraints and the indexes.
# Usage: bench/verify-dataset.sh [--events N] [--jar FILE]   (default 1000000; the jar provides the test kit)
set -euo pipefail
EVENTS=1000000
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$REPO/ops/target/shardlift.jar"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --jar) JAR="$2"; shift 2 ;;
    *) echo "usage: bench/verify-dataset.sh [--events N] [--jar FILE]" >&2; exit 2 ;;
  esac
done
die() { echo "verify-dataset: error: $*" >&2; exit 1; }
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
[[ -f "$JAR" ]] || die "$JAR missing: build it (./shardlift --version) or pass --jar FILE"
if [[ "$(id -u)" -eq 0 ]]; then as_pg() { runuser -u postgres -- "$@"; }; OWNER=postgres; else as_pg() { "$@"; }; OWNER="$(id -un)"; fi
DIR="$REPO/bench/out/verify"
[[ ! -f "$DIR/pg/postmaster.pid" ]] || as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$DIR"; mkdir -p "$DIR/sock"; chown "$OWNER" "$DIR" "$DIR/sock"
PORT=55390
while [[ -n "$(ss -Htan "( sport = :$PORT )")" ]]; do PORT=$((PORT + 1)); done
as_pg "$PGBIN/initdb" -D "$DIR/pg" -U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null
printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\n" "$DIR/sock" >>"$DIR/pg/postgresql.conf"
trap 'as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true' EXIT
as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w -o "-p $PORT" start >/dev/null
q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
q -d postgres -c "CREATE DATABASE fixture" -c "CREATE DATABASE bench"
echo "loading $EVENTS events with the test kit ..." >&2
java -cp "$JAR" "$REPO/bench/FixtureLoad.java" "jdbc:postgresql://127.0.0.1:$PORT/fixture?user=postgres" "$EVENTS"
echo "loading $EVENTS events with bench/sensors_load.sql ..." >&2
q -d bench -f "$REPO/embedded/src/main/resources/datasets/sensors_schema.sql" >/dev/null
q -d bench -v events="$EVENTS" -f "$REPO/bench/sensors_load.sql" >/dev/null
fingerprint() {
  q -d "$1" -At <<'SQL'
SELECT 'device_types', count(*), md5(string_agg(t::text, E'\n' ORDER BY device_type_id)) FROM public.device_types t;
SELECT 'devices', count(*), md5(string_agg(t::text, E'\n' ORDER BY device_id)) FROM public.devices t;
SELECT 'events', count(*), md5(string_agg(t::text, E'\n' ORDER BY event_id)) FROM public.events t;
SELECT 'events_event_id_seq', last_value FROM public.events_event_id_seq;
SELECT 'constraint', conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 2, 3;
SELECT 'index', indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid::regclass::text IN ('device_types', 'devices', 'events') ORDER BY 2;
SQL
}
fingerprint fixture >"$DIR/fixture.txt"
fingerprint bench >"$DIR/bench.txt"
cat "$DIR/bench.txt"
if diff -u "$DIR/fixture.txt" "$DIR/bench.txt"; then
  echo "verify-dataset: bench/sensors_load.sql and Datasets.loadSensors give the same $EVENTS-event dataset"
else
  die "the datasets differ (diff above)"
fi
