#!/usr/bin/env bash
# bench/cutover.sh — the zero-downtime switch benchmark of issue 13 (item 7).
#
# Each run, on fresh servers: seed 000's sensor database with N events on a source, a PgBouncer in front of it
# (transaction pooling, alias "app", its [databases] line in an include file), `shardlift run` migrating it into the
# nodes with a `pooler:` section naming that PgBouncer; once the copy is done and the stream caught up, pgbench
# writes through PgBouncer at a steady rate (-R) for the whole duration, and after --cutover-at seconds the script
# POSTs /cutover. pgbench goes on through the pause and, after the switch, writes to the cluster through the same
# alias; after --rollback-at seconds (0: no rollback) the script POSTs /rollback, and pgbench goes on through the
# rollback's pause and, after the switch back, writes to the source again. Then, per run:
#   - client errors: pgbench's failed transactions, its aborted clients (and their error lines in its stderr);
#   - acknowledged writes: every INSERT (bench/cutover_insert.sql) writes an id its client's counter derives, so
#     the k-th line of client c in pgbench's per-transaction log (-l) names one row; each acknowledged id is looked
#     up, row by row, on the database at the end: the cluster (node 0 answers for every partition), or after a
#     rollback the source, which must hold every write the cluster acknowledged in between;
#   - the pause the clients saw (PAUSE issued -> RESUME done, the JSON's pooler-resume step), the write freeze and
#     the time of every step: of the cutover, and of the rollback;
#   - pgbench's latencies: worst, and p50/p99/worst of the transactions that ended before the cutover was asked
#     for (the reference of the same run, no cutover).
# Over the runs: the pause's p50 and max (cutover's, rollback's), the worst latency, the errors and missing writes summed.
#
# Servers as in bench/cdc.sh (bench/lib/servers.sh): the machine's PostgreSQL 15 under bench/out/cutover-run-<i>/,
# free ports from 55700, 127.0.0.1 only; PgBouncer as the postgres user when run as root; everything this script
# starts is stopped by PID (shardlift, pgbench, PgBouncer's pid file) or pg_ctl. Results in
# bench/out/cutover-results-<time>.txt.
#
# Usage: bench/cutover.sh [--runs N] [--rate TPS] [--duration S] [--cutover-at S] [--rollback-at S] [--clients N]
#                         [--events N] [--nodes N] [--jar FILE] [--fsync on|off] [--keep]
set -euo pipefail

RUNS=3
RATE=500
DURATION=90
CUTOVER_AT=20
ROLLBACK_AT=55
CLIENTS=8
EVENTS=100000
NODES=2
FSYNC=on
JFR=0
JAR=""
KEEP=0
READY_TIMEOUT=900
BASE=1000000000000

usage() {
  cat <<'EOF'
Usage: bench/cutover.sh [options]
  --runs N          runs, each on fresh servers with its own migration and cutover (default 3)
  --rate TPS        pgbench's steady rate (-R), INSERTs per second through PgBouncer (default 500)
  --duration S      seconds of pgbench per run (default 90); the cutover must end inside it
  --cutover-at S    seconds into the load when POST /cutover is sent (default 20); what ends before is the reference
  --rollback-at S   seconds into the load when POST /rollback is sent (default 55; 0: no rollback)
  --clients N       pgbench clients (default 8; 2 threads)
  --events N        events on the source before the migration (default 100000)
  --nodes N         cluster nodes (default 2)
EOF
  bench_options_help
}

say() { echo "bench: $(date -u +%H:%M:%S) $*" >&2; }

# shellcheck source=bench/lib/servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"

bench_parse "--runs=RUNS --rate=RATE --duration=DURATION --cutover-at=CUTOVER_AT --rollback-at=ROLLBACK_AT --clients=CLIENTS --events=EVENTS --nodes=NODES" "$@"
for v in RUNS RATE DURATION CUTOVER_AT CLIENTS EVENTS NODES; do
  o=${v,,}; [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1 ]] || die "--${o//_/-} must be a positive integer, not '${!v}'"
done
[[ "$ROLLBACK_AT" =~ ^[0-9]+$ ]] || die "--rollback-at must be a number of seconds (0: no rollback), not '$ROLLBACK_AT'"
[[ "$CUTOVER_AT" -lt "$DURATION" ]] || die "--cutover-at $CUTOVER_AT must be below --duration $DURATION"
[[ "$ROLLBACK_AT" -eq 0 || ( "$ROLLBACK_AT" -gt "$CUTOVER_AT" && "$ROLLBACK_AT" -lt "$DURATION" ) ]] \
  || die "--rollback-at $ROLLBACK_AT must be above --cutover-at $CUTOVER_AT and below --duration $DURATION (or 0)"
THREADS=$((CLIENTS < 2 ? CLIENTS : 2))

OUT="$BENCH/out"
RESULTS="$OUT/cutover-results-$(date +%Y%m%d-%H%M%S).txt"
DB=sensors
CMDLINE=$(command_line bench/cutover.sh "${ARGS[@]}")
BENCH_NAME=bench/cutover.sh

bench_require pgbench
PGBOUNCER=$(command -v pgbouncer || true)
[[ -n "$PGBOUNCER" ]] || for p in /usr/sbin/pgbouncer /usr/bin/pgbouncer; do [[ -x "$p" ]] && PGBOUNCER=$p; done
[[ -n "$PGBOUNCER" ]] || die "pgbouncer not found (apt-get install -y pgbouncer)"
for c in curl jq; do command -v "$c" >/dev/null || die "$c not found (apt-get install -y $c)"; done
[[ -f "$BENCH/cutover_insert.sql" && -f "$BENCH/sensors_load.sql" ]] || die "bench/cutover_insert.sql or bench/sensors_load.sql is missing"

# ------------------------------------------------------------------ cleanup: everything we started, by PID
A_PID=""; PGB_PID=""; LOAD_PID=""
stop_shardlift() {
  [[ -n "$A_PID" ]] || return 0
  kill -TERM "$A_PID" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$A_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$A_PID" 2>/dev/null || true
  wait "$A_PID" 2>/dev/null || true
  A_PID=""
}
stop_pgbouncer() {
  [[ -n "$PGB_PID" ]] || return 0
  kill -TERM "$PGB_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$PGB_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PGB_PID" 2>/dev/null || true
  PGB_PID=""
}
stop_all() {
  local rc=$?
  [[ -z "$LOAD_PID" ]] || kill "$LOAD_PID" 2>/dev/null || true
  stop_shardlift
  stop_pgbouncer
  stop_servers
  return $rc
}
trap stop_all EXIT
trap 'exit 130' INT TERM

q1() { local port=$1; shift; psql_at "$port" -d "$DB" -At -c "$*"; }

mkdir -p "$OUT"
RUN="$OUT/cutover-run-1"
wipe_runs "$OUT/cutover-run-"
shardlift_program "-Xmx2g -XX:+UseG1GC"
JAVA_OPTS_USED="${SHARDLIFT_JAVA_OPTS:--Xmx2g -XX:+UseG1GC}"
SHARDLIFT_VERSION=$(cd "$REPO" && "${SHARDLIFT[@]}" --version 2>/dev/null | head -1 || echo '?')
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
export SHARDLIFT_BENCH_TOKEN
SHARDLIFT_BENCH_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
PGBENCH_SHOWN="pgbench -n -M simple -R $RATE -T $DURATION -c $CLIENTS -j $THREADS -l -D n=0 -D base=$BASE -D devices=1000 -f bench/cutover_insert.sql (through PgBouncer, alias app)"

# start_pgbouncer DIR SOURCE_PORT: PgBouncer in transaction pooling in front of the source, its alias "app" in an
# include file (what shardlift rewrites); as the postgres user when we are root (it refuses root). Sets PGB_PORT,
# PGB_PID, PGB_INCLUDE.
start_pgbouncer() {
  local dir=$1 src=$2
  mkdir -p "$dir"; chown "$PG_OWNER" "$dir"
  PGB_PORT=$(free_port 56400)
  PGB_INCLUDE="$dir/shardlift-databases.ini"
  echo "app = host=127.0.0.1 port=$src dbname=$DB pool_size=20" >"$PGB_INCLUDE"
  echo '"postgres" ""' >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
%include $PGB_INCLUDE

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
ignore_startup_parameters = extra_float_digits
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
default_pool_size = 20
max_client_conn = 200
; clients wait through the pause (fence, drain, verify) instead of being disconnected
query_wait_timeout = 120
EOF
  chown "$PG_OWNER" "$dir"/*
  as_pg "$PGBOUNCER" -d "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 || { cat "$dir/stdout.log" >&2; die "PgBouncer did not start"; }
  for _ in $(seq 1 100); do [[ -s "$dir/pgbouncer.pid" ]] && break; sleep 0.1; done
  PGB_PID=$(cat "$dir/pgbouncer.pid" 2>/dev/null) || die "PgBouncer wrote no pid file: $(tail -5 "$dir/pgbouncer.log")"
  for _ in $(seq 1 100); do [[ -n "$(ss -Htln "( sport = :$PGB_PORT )")" ]] && return 0; sleep 0.1; done
  die "PgBouncer (pid $PGB_PID) does not listen on $PGB_PORT: $(tail -5 "$dir/pgbouncer.log")"
}

# post_op PATH OUT: POST /cutover or /rollback until the lag gate (or the pre-drain) lets it through (at most 60
# tries, 2 s apart); the answer in OUT; "HTTP-status refusals" on stdout
post_op() {
  local path=$1 out=$2 code last tries=0
  while :; do
    code=$(curl -s -o "$out" -w '%{http_code}' -X POST -H "Authorization: Bearer $SHARDLIFT_BENCH_TOKEN" \
      --max-time 600 "http://127.0.0.1:$CTL_PORT$path") || code=000
    last=$(jq -r '.steps[-1].name // ""' "$out" 2>/dev/null || true)
    if [[ "$code" == 422 && ( "$last" == gate || "$last" == pre-drain ) && "$tries" -lt 60 ]]; then
      tries=$((tries + 1)); sleep 2; continue
    fi
    echo "$code $tries"; return 0
  done
}

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE, one a line
pct() { sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END { if (!NR) { print "-"; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; print a[i] }'; }

# pause_of JSON: the client-visible pause (ms) its pooler-resume step reports, or -
pause_of() {
  local p
  p=$(jq -r '.steps[] | select(.name == "pooler-resume") | .detail' "$1" 2>/dev/null | sed -nE 's/.*paused ([0-9]+) ms.*/\1/p')
  echo "${p:--}"
}
# inside_pause JSON: the steps between PAUSE and RESUME, where the pause goes
inside_pause() {
  jq -r '[.steps as $s | ($s | map(.name) | index("pooler-pause")) as $a | ($s | map(.name) | index("pooler-resume")) as $b
    | if $a == null or $b == null then empty else $s[$a + 1:$b + 1][] | "\(.name) \(.ms)" end] | join(", ")' "$1" 2>/dev/null || echo '?'
}

declare -a R_PAUSE=() R_RB_PAUSE=() R_LINES=()
for ((run = 1; run <= RUNS; run++)); do
  RUN="$OUT/cutover-run-$run"
  [[ "$run" -eq 1 ]] || { mkdir -p "$RUN/pg" "$RUN/sock"; chown "$PG_OWNER" "$RUN/pg" "$RUN/sock"; }
  say "run $run/$RUNS: starting $((NODES + 1)) PostgreSQL 15 servers under $RUN/pg (fsync=$FSYNC) ..."
  SERVERS=(source); for ((i = 0; i < NODES; i++)); do SERVERS+=("node$i"); done
  start_servers 55700 "${SERVERS[@]}"
  SRC=${PORT[source]}
  say "run $run: loading seed 000's sensor dataset with $EVENTS events ..."
  psql_at "$SRC" -d "$DB" -f "$SCHEMA_SQL" >/dev/null
  psql_at "$SRC" -d "$DB" -v events="$EVENTS" -f "$BENCH/sensors_load.sql" >/dev/null
  start_pgbouncer "$RUN/pgbouncer" "$SRC"
  CTL_PORT=$(free_port 56500)
  SPEC="$RUN/spec.yml"
  {
    sensors_spec 2 ", widen_unique: true" embedded "${SERVERS[@]:1}"
    cat <<EOF
control:
  listen: 127.0.0.1:$CTL_PORT
  token_env: SHARDLIFT_BENCH_TOKEN
pooler:
  pgbouncer:
    - admin: "host=127.0.0.1 port=$PGB_PORT dbname=pgbouncer user=postgres"
      include_file: $PGB_INCLUDE
      databases: [app]
  pause_timeout: 2s
  target_node: 0
EOF
  } >"$SPEC"

  say "run $run: shardlift run (control plane on $CTL_PORT, PgBouncer on $PGB_PORT) ..."
  (cd "$REPO" && exec "${SHARDLIFT[@]}" run --config "$SPEC" --data-dir "$RUN/kafka-data" --status-interval 5 \
    >"$RUN/shardlift.out" 2>"$RUN/shardlift.err") &
  A_PID=$!
  t0=$(now)
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CTL_PORT/health/ready" || true)" == 200 ]]; do
    kill -0 "$A_PID" 2>/dev/null || { tail -30 "$RUN/shardlift.err" >&2; die "shardlift exited; log: $RUN/shardlift.err"; }
    [[ $(awk -v a="$t0" -v b="$(now)" 'BEGIN { print (b - a < '"$READY_TIMEOUT"') }') -eq 1 ]] || die "not ready after $READY_TIMEOUT s; log: $RUN/shardlift.err"
    sleep 1
  done
  READY_SECS=$(secs "$t0" "$(now)")
  say "run $run: copy done and caught up after $READY_SECS s; pgbench at $RATE/s for $DURATION s, cutover at $CUTOVER_AT s ..."

  mkdir -p "$RUN/pgbench"
  (cd "$RUN/pgbench" && exec "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGB_PORT" -U postgres -n -M simple \
    -R "$RATE" -T "$DURATION" -c "$CLIENTS" -j "$THREADS" -P 5 -l --log-prefix="$RUN/pgbench/log" \
    -D n=0 -D base="$BASE" -D devices=1000 -f "$BENCH/cutover_insert.sql" app >"$RUN/pgbench.out" 2>"$RUN/pgbench.err") &
  LOAD_PID=$!
  LOAD_T0=$(now)
  sleep "$CUTOVER_AT"
  T_POST=$(now)
  read -r HTTP GATE_RETRIES <<<"$(post_op /cutover "$RUN/cutover.json")"
  T_DONE=$(now)
  say "run $run: cutover answered $HTTP after $(secs "$T_POST" "$T_DONE") s ($GATE_RETRIES refusals by the lag gate first); pgbench goes on ..."
  RB_HTTP="-"; RB_RETRIES=0; T_RB_POST=""; T_RB_DONE=""
  if [[ "$ROLLBACK_AT" -gt 0 && "$HTTP" == 200 ]]; then
    wait_s=$(awk -v a="$LOAD_T0" -v b="$(now)" -v at="$ROLLBACK_AT" 'BEGIN { w = at - (b - a); print (w > 0 ? w : 0) }')
    [[ "$wait_s" != 0 ]] || say "run $run: WARNING: the cutover ended after --rollback-at $ROLLBACK_AT s of the load; rolling back now"
    sleep "$wait_s"
    kill -0 "$LOAD_PID" 2>/dev/null || say "run $run: WARNING: pgbench has ended: the rollback's pause is measured with no client; raise --duration"
    T_RB_POST=$(now)
    read -r RB_HTTP RB_RETRIES <<<"$(post_op /rollback "$RUN/rollback.json")"
    T_RB_DONE=$(now)
    say "run $run: rollback answered $RB_HTTP after $(secs "$T_RB_POST" "$T_RB_DONE") s ($RB_RETRIES refusals by the reverse lag gate first); pgbench goes on ..."
    T_DONE=$T_RB_DONE
  fi
  LOAD_RC=0; wait "$LOAD_PID" || LOAD_RC=$?; LOAD_PID=""
  LOAD_T1=$(now)
  [[ $(awk -v a="$T_DONE" -v b="$LOAD_T1" 'BEGIN { print (b - a >= 5) }') -eq 1 ]] \
    || say "run $run: WARNING: the cutover (or rollback) ended less than 5 s before the load; raise --duration"

  # acknowledged writes: per client, the k-th line of its log that is not failed is id base + c * 1e9 + k
  cat "$RUN"/pgbench/log.* | sort -k1,1n -k2,2n -s >"$RUN/txlog.txt"
  awk -v base="$BASE" '{ k[$1]++; if ($3 != "failed" && $3 != "skipped") printf "%.0f\n", base + $1 * 1000000000 + k[$1] }' \
    "$RUN/txlog.txt" | sort >"$RUN/acked.txt"
  q1 "${PORT[node0]}" "SELECT event_id FROM public.events WHERE event_id >= $BASE" | sort >"$RUN/on-cluster.txt"
  q1 "$SRC" "SELECT event_id FROM public.events WHERE event_id >= $BASE" | sort >"$RUN/on-source.txt"
  ACKED=$(wc -l <"$RUN/acked.txt")
  # the database at the end holds every acknowledged write: the cluster, or after a rollback the source
  AT_END="$RUN/on-cluster.txt"; [[ "$RB_HTTP" != 200 ]] || AT_END="$RUN/on-source.txt"
  MISSING=$(comm -23 "$RUN/acked.txt" "$AT_END" | wc -l)
  UNACKED=$(comm -13 "$RUN/acked.txt" "$AT_END" | wc -l)
  ON_SOURCE=$(wc -l <"$RUN/on-source.txt")
  FAILED=$(awk '$3 == "failed"' "$RUN/txlog.txt" | wc -l)
  ABORTED=$(grep -c 'aborted' "$RUN/pgbench.err" || true)
  TPS=$(awk '/^tps = / { printf "%.0f", $3 }' "$RUN/pgbench.out")

  # latencies (ms, the log's time field: with -R pgbench counts from the transaction's scheduled start, so a
  # transaction scheduled during the pause counts its wait; the schedule lag, its part before the client could start
  # it, is the last field): before the cutover was asked for (reference), and over the whole load
  awk -v t="$T_POST" '$3 != "failed" && $5 + $6 / 1e6 < t { print $3 / 1000 }' "$RUN/txlog.txt" >"$RUN/lat-ref.txt"
  awk '$3 != "failed" { print $3 / 1000 }' "$RUN/txlog.txt" >"$RUN/lat-all.txt"
  awk '$3 != "failed" { print $7 / 1000 }' "$RUN/txlog.txt" >"$RUN/lag-all.txt"
  REF="$(pct "$RUN/lat-ref.txt" 50)/$(pct "$RUN/lat-ref.txt" 99)/$(pct "$RUN/lat-ref.txt" 100)"
  WORST=$(pct "$RUN/lat-all.txt" 100); WORST_LAG=$(pct "$RUN/lag-all.txt" 100)
  P99_ALL=$(pct "$RUN/lat-all.txt" 99)

  OUTCOME=$(jq -r '.outcome // "?"' "$RUN/cutover.json" 2>/dev/null || echo '?')
  FREEZE=$(jq -r '.writeFreezeMs // "-"' "$RUN/cutover.json" 2>/dev/null || echo '-')
  PAUSE=$(pause_of "$RUN/cutover.json")
  STEPS=$(jq -r '[.steps[] | "\(.name) \(.ms)"] | join(", ")' "$RUN/cutover.json" 2>/dev/null || echo '?')
  INSIDE=$(inside_pause "$RUN/cutover.json")
  [[ "$PAUSE" == "-" ]] || R_PAUSE+=("$PAUSE")
  R_STEPS+=("run $run steps (ms): $STEPS")
  R_INSIDE+=("run $run inside the pause (ms, steps after pooler-pause up to pooler-resume): $INSIDE")
  RB_OUTCOME="-"; RB_PAUSE="-"; RB_FREEZE="-"
  if [[ -f "$RUN/rollback.json" ]]; then
    RB_OUTCOME=$(jq -r '.outcome // "?"' "$RUN/rollback.json" 2>/dev/null || echo '?')
    RB_FREEZE=$(jq -r '.writeFreezeMs // "-"' "$RUN/rollback.json" 2>/dev/null || echo '-')
    RB_PAUSE=$(pause_of "$RUN/rollback.json")
    [[ "$RB_PAUSE" == "-" ]] || R_RB_PAUSE+=("$RB_PAUSE")
    R_STEPS+=("run $run rollback steps (ms): $(jq -r '[.steps[] | "\(.name) \(.ms)"] | join(", ")' "$RUN/rollback.json" 2>/dev/null || echo '?')")
    R_INSIDE+=("run $run inside the rollback's pause (ms): $(inside_pause "$RUN/rollback.json")")
    [[ "$RB_HTTP" == 200 ]] || say "run $run: the rollback answered $RB_HTTP: $(jq -c '{outcome, reason}' "$RUN/rollback.json" 2>/dev/null || head -c 300 "$RUN/rollback.json")"
  fi
  R_LINES+=("$(printf "%-4s %-8s %5s %9s %8s %-8s %9s %8s %8s %7s %8s %8s %9s %9s %16s %9s %9s" "$run" "$OUTCOME" "$HTTP" "$PAUSE" "$FREEZE" \
    "$RB_OUTCOME" "$RB_PAUSE" "$RB_FREEZE" "$TPS" "$FAILED" "$ABORTED" "$ACKED" "$MISSING" "$ON_SOURCE" "$REF" "$P99_ALL" "$WORST/$WORST_LAG")")

  R_MISC+=("run $run: ready after $READY_SECS s; cutover asked at +$(secs "$LOAD_T0" "$T_POST") s of the load ($GATE_RETRIES gate refusals)$([[ -z "$T_RB_POST" ]] || echo "; rollback asked at +$(secs "$LOAD_T0" "$T_RB_POST") s, answered after $(secs "$T_RB_POST" "$T_RB_DONE") s ($RB_RETRIES gate refusals)"); pgbench exit $LOAD_RC; rows at the end not acknowledged (in flight when a client ended): $UNACKED")
  SUM_FAILED=$((${SUM_FAILED:-0} + FAILED)); SUM_ABORTED=$((${SUM_ABORTED:-0} + ABORTED)); SUM_MISSING=$((${SUM_MISSING:-0} + MISSING))
  SUM_ACKED=$((${SUM_ACKED:-0} + ACKED))
  [[ "$HTTP" == 200 ]] || say "run $run: the cutover answered $HTTP: $(jq -c '{outcome, reason}' "$RUN/cutover.json" 2>/dev/null || head -c 300 "$RUN/cutover.json")"
  [[ "$ABORTED" -eq 0 ]] || say "run $run: pgbench: $(grep -m1 aborted "$RUN/pgbench.err")"

  stop_shardlift
  stop_pgbouncer
  stop_servers
  STARTED=()
done

printf '%s\n' "${R_PAUSE[@]}" >"$OUT/cutover-pauses.txt"
printf '%s\n' "${R_RB_PAUSE[@]}" | grep . >"$OUT/rollback-pauses.txt" || true
{
  echo "== shardlift cutover benchmark: pgbench writing through PgBouncer across the cutover =="
  echo "command:   $CMDLINE   (from $REPO, $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $SHARDLIFT_VERSION)"
  echo "machine:   $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, $("$PGBIN/postgres" --version), $("$PGBOUNCER" --version | head -1), load average at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "servers:   per run $((NODES + 1)) x PostgreSQL 15 on 127.0.0.1 (source, $NODES nodes), fsync=$FSYNC; PgBouncer transaction pooling, pool_size 20, query_wait_timeout 120"
  echo "dataset:   seed 000 sensors, $EVENTS events; events sharded by device_id (widen_unique), devices colocated, device_types global; embedded Kafka; JVM $JAVA_OPTS_USED"
  echo "load:      $PGBENCH_SHOWN; POST /cutover at +$CUTOVER_AT s$([[ "$ROLLBACK_AT" -eq 0 ]] || echo ", POST /rollback at +$ROLLBACK_AT s")"
  echo
  printf "%-4s %-8s %5s %9s %8s %-8s %9s %8s %8s %7s %8s %8s %9s %9s %16s %9s %9s\n" run outcome http "pause ms" "freeze" rollback "rb pause" "rb freez" tps failed aborted acked "missing" "on source" "ref p50/p99/max" "p99 ms" "worst/lag"
  printf '%s\n' "${R_LINES[@]}"
  echo
  echo "pause (PAUSE issued -> RESUME done) over $((${#R_PAUSE[@]})) runs: p50 $(pct "$OUT/cutover-pauses.txt" 50) ms, max $(pct "$OUT/cutover-pauses.txt" 100) ms   (target: p50 < 250 ms, max < 1000 ms)"
  [[ "$ROLLBACK_AT" -eq 0 ]] || echo "rollback's pause (PAUSE issued -> RESUME done) over $(grep -c . "$OUT/rollback-pauses.txt" || true) runs: p50 $(pct "$OUT/rollback-pauses.txt" 50) ms, max $(pct "$OUT/rollback-pauses.txt" 100) ms"
  echo "client errors: $SUM_FAILED failed transactions, $SUM_ABORTED aborted clients; acknowledged writes: $SUM_ACKED, missing at the end: $SUM_MISSING"

  echo
  echo "pause ms = the pooler-resume step's client-visible pause; freeze = writeFreezeMs (first LOCK attempt .. COMMIT);"
  echo "rollback, rb pause, rb freez = the same of the rollback (its freeze: the cluster's fence .. the source's fence lifted);"
  echo "acked = transactions pgbench logged as done, each an id looked up on the database at the end, the cluster, or after"
  echo "a rollback the source (missing: not there);"
  echo "on source = bench rows on the source at the end (without a rollback: written before the pause); ref = latency ms of the transactions that"
  echo "ended before POST /cutover (same run, no cutover); p99, worst = latency ms over all transactions, from the scheduled start (-R),
  so including the wait before the client could start it: worst/lag = the max latency / the max of that wait"
  printf '%s\n' "${R_INSIDE[@]}" "${R_STEPS[@]}" "${R_MISC[@]}"
} | tee "$RESULTS"
say "results saved in $RESULTS; logs under $OUT/cutover-run-*"
