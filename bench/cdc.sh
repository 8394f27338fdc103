#!/usr/bin/env bash
# bench/cdc.sh — the change-stream benchmark of issue 4 (item 6).
#
# Builds seed 000's sensor database (bench/sensors_load.sql) with N events on a source, then, in one run
# and on the same machine, drives the source at its maximum write rate with pgbench (70% INSERT into
# events, 20% UPDATE of an event's payload by event_id, 10% DELETE by event_id; -M prepared, a few
# clients, a fixed duration) and measures, for:
#   (a) shardlift run into 4 nodes (./shardlift run --config <spec>, embedded Kafka), once the copy is done
#       and the stream caught up;
#   (b) native logical replication (CREATE PUBLICATION / CREATE SUBSCRIPTION) into one fresh node with the
#       same schema;
# the sustained apply rate (source changes over the time from the load's start until the target has
# caught up), the lag p50/p99 during the load, and the catch-up time after it, and prints the ratio a/b.
#
# Lag is sampled with heartbeat rows written into the events table itself (so they travel exactly the
# path of the load's changes: same table, same Kafka topic and partitions, same apply batches): every
# --hb-ms ms an INSERT of an event of device 1 whose payload is {"bench": "hb", "n": N} and whose
# created_at is clock_timestamp(); a poller on the target (bench/cdc_poll.sql) records when each becomes
# visible. When the load stops, 128 "final" rows are inserted in one transaction: their keys fall into
# every Kafka partition of the topic, so once all 128 are visible every change made before them is
# applied: that moment is "caught up".
#
# (a) and (b) start from identical data: right after the load, the source database is cloned
# (CREATE DATABASE ... TEMPLATE) and (b) replicates the clone; (a)'s database is dropped before (b) runs.
#
# Servers as in bench/snapshot.sh (both start them with bench/lib/servers.sh): the machine's PostgreSQL 15,
# started here with initdb + pg_ctl (as the postgres user when run as root) under bench/out/cdc-run-<variant>/,
# on free ports from 55500, listening on 127.0.0.1 only, identical settings; everything this script starts is
# stopped on exit by PID or pg_ctl. Re-runs wipe bench/out/cdc-run-* (never bench/snapshot.sh's bench/out/run-*); results are kept
# in bench/out/cdc-results-<variant>-<time>.txt.
#
# Usage: bench/cdc.sh [--events N] [--duration S] [--clients N] [--source-pk event_id|event_id,device_id]
#                     [--warmup S] [--hb-ms MS] [--drain S] [--jfr] [--jar FILE] [--fsync on|off] [--keep]
set -euo pipefail

EVENTS=200000
DURATION=60
CLIENTS=4
THREADS=2
WARMUP=120
IDLE=3
HB_MS=200
POLL_MS=25
FINALS=128
CATCHUP_TIMEOUT=900
SOURCE_PK=event_id
FSYNC=on
JFR=0
JAR=""
KEEP=0
NODES=4
HB_DEVICE=1
DRAIN=0

usage() {
  cat <<'EOF'
Usage: bench/cdc.sh [options]
  --events N        events to generate on the source before the load (default 200000)
  --duration S      seconds of pgbench load (default 60)
  --clients N       pgbench clients (default 4; pgbench threads: min(2, N))
  --source-pk K     the source's primary key of events: event_id (the seed's, default; the spec then needs
                    widen_unique: true) or event_id,device_id (the sharding key included; no widening)
  --warmup S        seconds of the same load before the measured one, then wait until caught up (default 120;
                    0: none), so that the measured window is the steady state a migration streams in for hours:
                    with 10 s, C2 still compiled ~3,000 methods in the window, 14-16 of the JVM's 36-38 CPU s
  --hb-ms MS        milliseconds between heartbeat rows (default 200)
  --drain S         also measure each pipeline's capacity without the load competing for the CPU: with the consumer
                    stopped (shardlift: SIGTERM; native: ALTER SUBSCRIPTION ... DISABLE), S seconds of the same load,
                    then the consumer started again (shardlift: the same ./shardlift run, a new JVM; native: ENABLE)
                    and timed until it has applied the backlog (default 0: not measured)
  --jfr             record a JFR profile of the shardlift JVM (jcmd JFR.start/stop, settings=profile) and print the
                    top frames, threads and compilations of (a)'s measured window. The recording starts before the
                    warm-up: starting it stalls the capture for seconds (JFR instruments JDK classes, compiled code
                    that uses them is thrown away and compiled again), which must not fall into the window
EOF
  bench_options_help
}

say() { echo "bench: $(date -u +%H:%M:%S) $*" >&2; }

# die, REPO, BENCH and the servers' functions
# shellcheck source=bench/lib/servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"

bench_parse "--events=EVENTS --duration=DURATION --clients=CLIENTS --source-pk=SOURCE_PK --warmup=WARMUP --hb-ms=HB_MS
  --drain=DRAIN" "$@"
for v in EVENTS DURATION CLIENTS HB_MS; do
  o=${v,,}; [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1 ]] || die "--${o//_/-} must be a positive integer, not '${!v}'"
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be a whole number of seconds, not '$WARMUP'"
[[ "$DRAIN" =~ ^[0-9]+$ ]] || die "--drain must be a whole number of seconds, not '$DRAIN'"
case "$SOURCE_PK" in
  event_id) VARIANT=pk-event_id; WIDEN=", widen_unique: true" ;;
  event_id,device_id) VARIANT=pk-event_id-device_id; WIDEN="" ;;
  *) die "--source-pk must be event_id or event_id,device_id, not '$SOURCE_PK'" ;;
esac
THREADS=$((CLIENTS < 2 ? CLIENTS : 2))
HB_SLEEP=$(awk -v m="$HB_MS" 'BEGIN { printf "%.3f", m / 1000 }')

OUT="$BENCH/out"
RUN="$OUT/cdc-run-$VARIANT"
RESULTS="$OUT/cdc-results-$VARIANT-$(date +%Y%m%d-%H%M%S).txt"
DB=sensors
DB_B=sensors_b
CMDLINE=$(command_line bench/cdc.sh "${ARGS[@]}")

# ------------------------------------------------------------------ prerequisites, servers
BENCH_NAME=bench/cdc.sh
# timestamps written on the source and read on a target compare
PG_EXTRA_CONF="timezone = 'UTC'"
bench_require pgbench
command -v perl >/dev/null || die "perl not found (it timestamps shardlift's status lines)"
[[ "$JFR" -eq 0 ]] || { command -v jcmd >/dev/null && command -v jfr >/dev/null; } || die "--jfr needs jcmd and jfr (a full JDK 17)"
for f in sensors_load.sql cdc_insert.sql cdc_update.sql cdc_delete.sql cdc_poll.sql; do
  [[ -f "$BENCH/$f" ]] || die "$BENCH/$f is missing"
done

# ------------------------------------------------------------------ cleanup: everything we started, by PID
declare -a BG=()        # background processes this run started (shardlift, samplers, pollers, heartbeats)
A_PID=""

stop_all() {
  local rc=$? p
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "$A_PID" ]] && kill -0 "$A_PID" 2>/dev/null; then
    kill -TERM "$A_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$A_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$A_PID" 2>/dev/null || true
  fi
  stop_servers
  return $rc
}
trap stop_all EXIT
trap 'exit 130' INT TERM

q1() { local port=$1 db=$2; shift 2; psql_at "$port" -d "$db" -At -c "$*"; } # one value

clock() { date -u +%H:%M:%S.%3N; }
postmaster() { head -1 "$RUN/pg/$1/postmaster.pid"; }

# sample_cpu OUT FLAG ROOTS...: cpu_snapshot every 0.5 s into OUT while the file FLAG exists
sample_cpu() {
  local out=$1 flag=$2; shift 2
  while [[ -e "$flag" ]]; do cpu_snapshot "$@" >>"$out"; sleep 0.5; done
}
# timeline_cpu FILE T0 HEADER...: the samples as cores used per interval (1.00 = one core busy), t from T0
timeline_cpu() {
  local f=$1 t0=$2; shift 2
  printf "      %6s %8s %8s" "t s" "machine" "iowait"; for h in "$@"; do printf " %8s" "$h"; done; echo
  awk -v t0="$t0" '{ if (NR > 1) { dt = $1 - p[1]; if (dt <= 0) next
         if (int(($1 - t0) / 5) != int((p[1] - t0) / 5) || NR == 2) { printf "      %6.1f", $1 - t0
           for (i = 2; i <= NF; i++) printf " %8.2f", ($i - q[i]) / ($1 - q[1]); printf "\n"; for (i = 1; i <= NF; i++) q[i] = $i } }
         else for (i = 1; i <= NF; i++) q[i] = $i
         for (i = 1; i <= NF; i++) p[i] = $i }' "$f"
}
# jvm_threads PID: "tid ticks name" for every thread of a JVM
top() { awk -v n="$1" 'NR <= n'; } # head without closing the pipe early (pipefail would see sort's SIGPIPE)
# jit_counters PID: "compilations compile-seconds" so far (HotSpot's perf counters; compile time is wall time of the compiler threads)
jit_counters() {
  jcmd "$1" PerfCounter.print 2>/dev/null | awk -F= '/^sun.ci.standardCompiles=/ { s = $2 } /^sun.ci.osrCompiles=/ { o = $2 }
    /^java.ci.totalTime=/ { t = $2 } /^sun.os.hrt.frequency=/ { f = $2 } END { printf "%d %.1f\n", s + o, f ? t / f : 0 }'
}
jvm_threads() {
  local pid=$1 t
  for t in /proc/"$pid"/task/*; do
    { read -r st <"$t/stat" && read -r nm <"$t/comm"; } 2>/dev/null || continue
    st=${st##*) }; set -- $st
    echo "${t##*/} $((${12} + ${13})) $nm"
  done
}

# ------------------------------------------------------------------ wipe and set up
mkdir -p "$OUT"
wipe_runs "$OUT/cdc-run-"
shardlift_program "-Xmx2g -XX:+UseG1GC"
JAVA_OPTS_USED="${SHARDLIFT_JAVA_OPTS:--Xmx2g -XX:+UseG1GC}"
SHARDLIFT_VERSION=$(cd "$REPO" && "${SHARDLIFT[@]}" --version 2>/dev/null | head -1 || echo '?')

say "starting $((NODES + 2)) PostgreSQL 15 servers under $RUN/pg (fsync=$FSYNC) ..."
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
SERVERS=(source)
for ((i = 0; i < NODES; i++)); do SERVERS+=("node$i"); done
SERVERS+=(native)
NODE_NAMES=("${SERVERS[@]:1:$NODES}")
start_servers 55500 "${SERVERS[@]}"
SRC=${PORT[source]}

# ------------------------------------------------------------------ the dataset
say "loading seed 000's sensor dataset with $EVENTS events on the source (primary key of events: $SOURCE_PK) ..."
t0=$(now)
psql_at "$SRC" -d "$DB" -f "$SCHEMA_SQL" >/dev/null
psql_at "$SRC" -d "$DB" -v events="$EVENTS" -f "$BENCH/sensors_load.sql" >/dev/null
PK_SQL="ALTER TABLE public.events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (event_id, device_id)"
[[ "$SOURCE_PK" == event_id ]] || psql_at "$SRC" -d "$DB" -c "$PK_SQL"
psql_at "$SRC" -d "$DB" -c "VACUUM (ANALYZE) public.device_types, public.devices, public.events"
# (b) replicates an identical clone, so both runs start from the same rows, ids and sequence
psql_at "$SRC" -d postgres -c "CREATE DATABASE $DB_B TEMPLATE $DB"
psql_at "$SRC" -d postgres -c CHECKPOINT
LOAD_SECS=$(secs "$t0" "$(now)")
read -r SRC_ROWS SRC_HEAP MAXID <<<"$(psql_at "$SRC" -d "$DB" -At -F ' ' -c \
  "SELECT count(*), pg_table_size('public.events'), max(event_id) FROM public.events")"
[[ "$SRC_ROWS" -eq "$EVENTS" ]] || die "the source holds $SRC_ROWS events, expected $EVENTS"
DEVICES=$(q1 "$SRC" "$DB" "SELECT count(*) FROM public.devices")
say "loaded in $LOAD_SECS s: events heap $((SRC_HEAP / 1000000)) MB; cloned as $DB_B for (b)"

PGBENCH_ARGS=(-n -M prepared -c "$CLIENTS" -j "$THREADS" -D maxid="$MAXID" -D devices="$DEVICES"
  -f "$BENCH/cdc_insert.sql@7" -f "$BENCH/cdc_update.sql@2" -f "$BENCH/cdc_delete.sql@1")
PGBENCH_SHOWN="pgbench -n -M prepared -c $CLIENTS -j $THREADS -T $DURATION -D maxid=$MAXID -D devices=$DEVICES -f bench/cdc_insert.sql@7 -f bench/cdc_update.sql@2 -f bench/cdc_delete.sql@1"

# changes_split DB: "inserted updated deleted" rows of events so far (statistics of finished transactions)
changes_split() { q1 "$SRC" "$1" "SELECT n_tup_ins || ' ' || n_tup_upd || ' ' || n_tup_del FROM pg_stat_user_tables WHERE relid = 'public.events'::regclass"; }

# probe DB TPORT TTABLE TAG: inserts FINALS rows tagged TAG on the source in one transaction and waits until all
# are visible on the target: everything committed before them is then applied
probe() {
  local db=$1 tport=$2 ttable=$3 tag=$4 t=0 got
  q1 "$SRC" "$db" "INSERT INTO public.events (device_id, payload, created_at) SELECT $HB_DEVICE,
    jsonb_build_object('bench', '$tag', 'n', g), clock_timestamp()::timestamp FROM generate_series(1, $FINALS) g" >/dev/null
  while :; do
    got=$(q1 "$tport" "$DB" "SELECT count(*) FROM $ttable WHERE payload ? 'bench' AND payload->>'bench' = '$tag'")
    [[ "$got" -lt "$FINALS" ]] || return 0
    [[ -z "$A_PID" ]] || kill -0 "$A_PID" 2>/dev/null || die "shardlift exited; log: $RUN/a-shardlift.err"
    t=$((t + 1)); [[ "$t" -lt $((CATCHUP_TIMEOUT * 10)) ]] || die "probe '$tag': only $got of $FINALS rows on the target after $CATCHUP_TIMEOUT s"
    sleep 0.1
  done
}

# measure ID DB TPORT TTABLE TARGETROOTS [JVMPID] [SLOT]: the measured window of one run. Sets M_* globals.
measure() {
  local id=$1 db=$2 tport=$3 ttable=$4 troots=$5 jvm=${6:-} slot=${7:-} start_id flag hb_pid poll_pid n
  local roots="$$ $(postmaster source) $troots${jvm:+ $jvm}"
  if [[ -n "$jvm" && "$JFR" -eq 1 ]]; then
    jcmd "$jvm" JFR.start name=cdc settings=profile filename="$RUN/shardlift-$id.jfr" >"$RUN/$id-jfr.log" 2>&1 || say "JFR.start failed (see $RUN/$id-jfr.log)"
  fi
  if [[ "$WARMUP" -gt 0 ]]; then
    say "($id) warm-up: the same load for $WARMUP s, then until caught up ..."
    "$PGBIN/pgbench" -h 127.0.0.1 -p "$SRC" -U postgres -d "$db" "${PGBENCH_ARGS[@]}" -T "$WARMUP" >"$RUN/$id-warmup.pgbench" 2>&1 \
      || { cat "$RUN/$id-warmup.pgbench" >&2; die "($id) warm-up pgbench failed"; }
    probe "$db" "$tport" "$ttable" warm
  fi
  checkpoint_servers
  M_CH0=$(changes_split "$db")
  start_id=$(q1 "$SRC" "$db" "SELECT last_value FROM public.events_event_id_seq")
  flag="$RUN/$id.sampling"; touch "$flag"
  sample_cpu "$RUN/$id-cpu.txt" "$flag" $roots & BG+=($!)
  # the source side once a second: WAL written, the slot's confirmed position, changes committed
  { while [[ -e "$flag" ]]; do
      echo "SELECT round(extract(epoch FROM clock_timestamp()), 3), pg_current_wal_lsn() - '0/0'::pg_lsn,
        coalesce((SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = '$slot'), 0),
        (SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relid = 'public.events'::regclass);"
      sleep 1
    done; } | psql_at "$SRC" -d "$db" -At -F ' ' >"$RUN/$id-source.txt" 2>&1 & BG+=($!)
  # the target side once a second (native: the subscriber's own table statistics)
  { while [[ -e "$flag" ]]; do
      echo "SELECT round(extract(epoch FROM clock_timestamp()), 3),
        (SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relid = 'public.events'::regclass);"
      sleep 1
    done; } | psql_at "$tport" -d "$DB" -At -F ' ' >"$RUN/$id-target.txt" 2>&1 & BG+=($!)
  psql_at "$tport" -d "$DB" -v tbl="$ttable" -v start_id="$start_id" -v finals="$FINALS" -v poll_ms="$POLL_MS" \
    -v timeout_s="$((DURATION + CATCHUP_TIMEOUT + 60))" -f "$BENCH/cdc_poll.sql" >"$RUN/$id-lag.txt" 2>"$RUN/$id-poll.err" &
  poll_pid=$!; BG+=($poll_pid)
  sleep 0.5
  # heartbeats: one psql session, one INSERT every HB_MS ms, until the poller has seen the final rows
  { n=0; while kill -0 "$poll_pid" 2>/dev/null; do
      n=$((n + 1))
      echo "INSERT INTO public.events (device_id, payload, created_at) VALUES ($HB_DEVICE, jsonb_build_object('bench', 'hb', 'n', $n), clock_timestamp()::timestamp);"
      sleep "$HB_SLEEP"
    done; } | psql_at "$SRC" -d "$db" >/dev/null 2>"$RUN/$id-hb.err" & hb_pid=$!; BG+=($hb_pid)
  sleep "$IDLE"
  say "($id) load: $PGBENCH_SHOWN ..."
  [[ -z "$jvm" ]] || { jvm_threads "$jvm" >"$RUN/$id-threads0.txt"; M_JIT0=$(jit_counters "$jvm"); }
  M_CPU0=$(cpu_snapshot $roots)
  M_T0=$(now); M_START=$(clock)
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$SRC" -U postgres -d "$db" "${PGBENCH_ARGS[@]}" -T "$DURATION" -P 5 >"$RUN/$id.pgbench" 2>&1 \
    || { cat "$RUN/$id.pgbench" >&2; die "($id) pgbench failed"; }
  M_T1=$(now)
  q1 "$SRC" "$db" "INSERT INTO public.events (device_id, payload, created_at) SELECT $HB_DEVICE,
    jsonb_build_object('bench', 'final', 'n', g), clock_timestamp()::timestamp FROM generate_series(1, $FINALS) g" >/dev/null
  say "($id) load done; waiting until the target has caught up ..."
  while kill -0 "$poll_pid" 2>/dev/null; do
    [[ -z "$jvm" ]] || kill -0 "$jvm" 2>/dev/null || die "shardlift exited during the measurement; log: $RUN/a-shardlift.err"
    sleep 0.05
  done
  M_T2=$(now); M_END=$(clock)
  M_CPU1=$(cpu_snapshot $roots)
  [[ -z "$jvm" ]] || { jvm_threads "$jvm" >"$RUN/$id-threads1.txt"; M_JIT1=$(jit_counters "$jvm"); }
  if [[ -n "$jvm" && "$JFR" -eq 1 ]]; then
    jcmd "$jvm" JFR.stop name=cdc >>"$RUN/$id-jfr.log" 2>&1 || say "JFR.stop failed (see $RUN/$id-jfr.log)"
  fi
  wait "$poll_pid" || die "($id) the poller failed: $(cat "$RUN/$id-poll.err")"
  wait "$hb_pid" || true
  rm -f "$flag"; sleep 1.2
  M_CH1=$(changes_split "$db")
  M_SEEN_FINAL=$(awk '$2 == "final" { n++; if ($5 > m) m = $5 } END { if (n) printf "%.3f", m }' "$RUN/$id-lag.txt")
  n=$(awk '$2 == "final"' "$RUN/$id-lag.txt" | wc -l)
  [[ "$n" -eq "$FINALS" ]] || die "($id) only $n of $FINALS final rows were seen on the target within the timeout"
}

# drain ID DB TPORT TTABLE TARGETROOTS RESTART: the consumer is stopped; DRAIN s of the load, the final rows, then
# RESTART (a command) starts the consumer again; times it until the final rows are visible on the target.
# Sets D_T0 (restart), D_T1 (caught up), D_CH0/D_CH1, D_CPU0/D_CPU1, D_TPS, D_JVMCPU (the new JVM's CPU, (a) only).
drain() {
  local id=$1 db=$2 tport=$3 ttable=$4 troots=$5 restart=$6 got flag roots
  roots="$$ $(postmaster source) $troots"
  D_CH0=$(changes_split "$db")
  say "($id) drain: consumer stopped, $DRAIN s of the load ..."
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$SRC" -U postgres -d "$db" "${PGBENCH_ARGS[@]}" -T "$DRAIN" -P 5 >"$RUN/$id-drain.pgbench" 2>&1 \
    || { cat "$RUN/$id-drain.pgbench" >&2; die "($id) drain pgbench failed"; }
  D_TPS=$(awk -F'= ' '/^tps = / { split($2, a, " "); printf "%.0f", a[1] }' "$RUN/$id-drain.pgbench")
  q1 "$SRC" "$db" "INSERT INTO public.events (device_id, payload, created_at) SELECT $HB_DEVICE,
    jsonb_build_object('bench', 'drain', 'n', g), clock_timestamp()::timestamp FROM generate_series(1, $FINALS) g" >/dev/null
  sleep 1.2
  D_CH1=$(changes_split "$db")
  checkpoint_servers
  flag="$RUN/$id-drain.sampling"; touch "$flag"
  sample_cpu "$RUN/$id-drain-cpu.txt" "$flag" $roots & BG+=($!)
  { while [[ -e "$flag" ]]; do
      echo "SELECT round(extract(epoch FROM clock_timestamp()), 3),
        (SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relid = 'public.events'::regclass);"
      sleep 1
    done; } | psql_at "$tport" -d "$DB" -At -F ' ' >"$RUN/$id-drain-target.txt" 2>&1 & BG+=($!)
  say "($id) drain: $(( $(echo "$D_CH1" | awk '{ print $1 + $2 + $3 }') - $(echo "$D_CH0" | awk '{ print $1 + $2 + $3 }') )) changes waiting; starting the consumer: $restart"
  D_CPU0=$(cpu_snapshot $roots)
  D_T0=$(now)
  eval "$restart" >/dev/null
  while :; do
    got=$(q1 "$tport" "$DB" "SELECT count(*) FROM $ttable WHERE payload ? 'bench' AND payload->>'bench' = 'drain'" 2>/dev/null || echo 0)
    [[ "$got" -lt "$FINALS" ]] || break
    [[ "$id" != a ]] || kill -0 "$A_PID" 2>/dev/null || die "shardlift exited during the drain; log: $RUN/a-drain-shardlift.err"
    [[ $(secs "$D_T0" "$(now)" | cut -d. -f1) -lt "$CATCHUP_TIMEOUT" ]] || die "($id) drain: not caught up after $CATCHUP_TIMEOUT s"
    sleep 0.05
  done
  D_T1=$(now)
  D_CPU1=$(cpu_snapshot $roots)
  D_JVMCPU=0
  [[ "$id" != a ]] || D_JVMCPU=$(awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$A_PID/stat")
  rm -f "$flag"; sleep 1.2
  say "($id) drain: caught up after $(secs "$D_T0" "$D_T1") s"
}

# lag_stats FILE FROM TO: "count p50 p90 p99 max" in ms of the heartbeats created in [FROM, TO)
lag_stats() {
  awk -v a="$2" -v b="$3" '$2 == "hb" && $4 >= a && $4 < b { printf "%.1f\n", ($5 - $4) * 1000 }' "$1" | sort -n \
    | awk '{ v[NR] = $1 } END { if (!NR) { print "0 - - - -"; exit }
        split("0.50 0.90 0.99", p, " "); printf "%d", NR
        for (i = 1; i <= 3; i++) { k = int(p[i] * NR); if (k < p[i] * NR) k++; if (k < 1) k = 1; printf " %.0f", v[k] }
        printf " %.0f\n", v[NR] }'
}

# ------------------------------------------------------------------ (a) shardlift run
SPEC="$RUN/migrate.yml"
sensors_spec 4 "$WIDEN" embedded "${NODE_NAMES[@]}" >"$SPEC"
# the control plane on a free port: the default 8080 may be held by another program on the machine (a test run)
printf 'control:\n  listen: "127.0.0.1:%s"\n' "$(free_port 55600)" >>"$SPEC"

A_ARGS=(run --config "$SPEC" --data-dir "$RUN/kafka-data" --status-interval 1)
A_CMD="${SHARDLIFT[*]} ${A_ARGS[*]}"
# start_shardlift NAME: ./shardlift run in the background (A_PID), every stderr line written to $RUN/NAME.err with the
# epoch time it was written (the status line carries none)
start_shardlift() {
  rm -f "$RUN/$1.fifo"; mkfifo "$RUN/$1.fifo"
  perl -MTime::HiRes=time -ne '$| = 1; printf "%.3f %s", time, $_' <"$RUN/$1.fifo" >"$RUN/$1.err" & BG+=($!)
  (cd "$REPO" && exec "${SHARDLIFT[@]}" "${A_ARGS[@]}" >"$RUN/$1.out" 2>"$RUN/$1.fifo") &
  A_PID=$!
}
stop_shardlift() {
  say "(a) stopping shardlift (pid $A_PID) ..."
  kill -TERM "$A_PID"
  for _ in $(seq 1 600); do kill -0 "$A_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$A_PID" 2>/dev/null && { say "(a) shardlift still running 60 s after SIGTERM: SIGKILL"; kill -KILL "$A_PID"; }
  local rc=0; wait "$A_PID" || rc=$?; A_PID=""
  [[ "$rc" -eq 0 || "$rc" -eq 143 ]] || say "(a) shardlift exited with $rc after SIGTERM"
}
say "(a) $A_CMD ..."
A_T0=$(now)
start_shardlift a-shardlift
# ready: copy done, every table applying, nothing queued
while :; do
  kill -0 "$A_PID" 2>/dev/null || { tail -30 "$RUN/a-shardlift.err" >&2; die "(a) shardlift exited; log: $RUN/a-shardlift.err"; }
  line=$(grep -E 'copy done \|\|' "$RUN/a-shardlift.err" | tail -1 || true)
  if [[ "$line" =~ APPLYING\ 3/3\ tables,\ [0-9,]+\ events,\ 0\ queued ]]; then break; fi
  [[ $(secs "$A_T0" "$(now)" | cut -d. -f1) -lt "$CATCHUP_TIMEOUT" ]] || die "(a) not copied and caught up after $CATCHUP_TIMEOUT s"
  sleep 0.5
done
A_READY_SECS=$(secs "$A_T0" "$(now)")
say "(a) copied and caught up after $A_READY_SECS s: ${line#* }"
# the heartbeat device's partition and its node (partition i lives on node i mod N)
HB_PART=$(psql_at "${PORT[node0]}" -d "$DB" -At -c "EXPLAIN (COSTS OFF) SELECT 1 FROM public.events WHERE device_id = $HB_DEVICE" \
  | grep -oE 'events_[0-9]+' | top 1)
[[ -n "$HB_PART" ]] || die "(a) cannot tell which partition holds device $HB_DEVICE"
HB_NODE="node$(( ${HB_PART#events_} % NODES ))"
[[ "$(q1 "${PORT[$HB_NODE]}" "$DB" "SELECT relkind FROM pg_class WHERE oid = 'public.$HB_PART'::regclass")" == r ]] \
  || die "(a) public.$HB_PART is not a local table on $HB_NODE"
psql_at "${PORT[$HB_NODE]}" -d "$DB" -c "CREATE INDEX cdc_bench_idx ON public.$HB_PART (event_id) WHERE payload ? 'bench'"
probe "$DB" "${PORT[$HB_NODE]}" "public.$HB_PART" ready
NODE_ROOTS=$(for n in "${NODE_NAMES[@]}"; do postmaster "$n"; done | paste -sd,)
measure a "$DB" "${PORT[$HB_NODE]}" "public.$HB_PART" "$NODE_ROOTS" "$A_PID" shardlift
for v in T0 T1 T2 START END CPU0 CPU1 CH0 CH1 SEEN_FINAL JIT0 JIT1; do eval "A_$v=\$M_$v"; done
A_RSS_KB=$(awk '/^VmHWM/ { print $2 }' "/proc/$A_PID/status")
stop_shardlift
if [[ "$DRAIN" -gt 0 ]]; then
  drain a "$DB" "${PORT[$HB_NODE]}" "public.$HB_PART" "$NODE_ROOTS" "start_shardlift a-drain-shardlift"
  for v in T0 T1 CH0 CH1 CPU0 CPU1 TPS JVMCPU; do eval "DA_$v=\$D_$v"; done
  stop_shardlift
fi
# (a)'s nodes and database go before (b) runs: their autovacuum must not take CPU from it
for n in "${NODE_NAMES[@]}"; do stop_server "$n"; done
psql_at "$SRC" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$DB'" >/dev/null
psql_at "$SRC" -d postgres -c "DROP DATABASE $DB WITH (FORCE)"

# ------------------------------------------------------------------ (b) native logical replication
NAT=${PORT[native]}
say "(b) native logical replication of $DB_B into one node ..."
psql_at "$NAT" -d "$DB" -f "$SCHEMA_SQL" >/dev/null
[[ "$SOURCE_PK" == event_id ]] || psql_at "$NAT" -d "$DB" -c "$PK_SQL"
psql_at "$NAT" -d "$DB" -c "CREATE INDEX cdc_bench_idx ON public.events (event_id) WHERE payload ? 'bench'"
B_PUB="CREATE PUBLICATION bench_pub FOR TABLE public.device_types, public.devices, public.events"
B_SUB="CREATE SUBSCRIPTION bench_sub CONNECTION 'host=127.0.0.1 port=$SRC dbname=$DB_B user=postgres' PUBLICATION bench_pub"
psql_at "$SRC" -d "$DB_B" -c "$B_PUB"
B_T0=$(now)
psql_at "$NAT" -d "$DB" -c "$B_SUB"
while [[ "$(q1 "$NAT" "$DB" "SELECT count(*) FILTER (WHERE srsubstate = 'r') || '/' || count(*) FROM pg_subscription_rel")" != 3/3 ]]; do
  [[ $(secs "$B_T0" "$(now)" | cut -d. -f1) -lt "$CATCHUP_TIMEOUT" ]] || die "(b) the subscription did not sync within $CATCHUP_TIMEOUT s"
  sleep 0.5
done
B_READY_SECS=$(secs "$B_T0" "$(now)")
psql_at "$NAT" -d "$DB" -c "VACUUM (ANALYZE) public.device_types, public.devices, public.events"
probe "$DB_B" "$NAT" public.events ready
measure b "$DB_B" "$NAT" public.events "$(postmaster native)" "" bench_sub
for v in T0 T1 T2 START END CPU0 CPU1 CH0 CH1 SEEN_FINAL; do eval "B_$v=\$M_$v"; done
if [[ "$DRAIN" -gt 0 ]]; then
  psql_at "$NAT" -d "$DB" -c "ALTER SUBSCRIPTION bench_sub DISABLE"
  while [[ -n "$(q1 "$NAT" "$DB" "SELECT pid FROM pg_stat_subscription WHERE subname = 'bench_sub' AND pid IS NOT NULL")" ]]; do sleep 0.1; done
  drain b "$DB_B" "$NAT" public.events "$(postmaster native)" "psql_at $NAT -d $DB -c 'ALTER SUBSCRIPTION bench_sub ENABLE'"
  for v in T0 T1 CH0 CH1 CPU0 CPU1 TPS JVMCPU; do eval "DB_$v=\$D_$v"; done
fi
stop_server native

# ------------------------------------------------------------------ report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# run_figures ID T0 T1 T2 CH0 CH1 SEEN_FINAL CPU0 CPU1: one table row's numbers into R_*
run_figures() {
  local id=$1
  R_WIN=$(secs "$2" "$3"); R_CATCH=$(secs "$3" "$7"); R_TOTAL=$(secs "$2" "$7")
  read -r i0 u0 d0 <<<"$5"; read -r i1 u1 d1 <<<"$6"
  R_INS=$((i1 - i0)); R_UPD=$((u1 - u0)); R_DEL=$((d1 - d0)); R_CHANGES=$((R_INS + R_UPD + R_DEL))
  R_OFFERED=$(awk -v n="$R_CHANGES" -v s="$R_WIN" 'BEGIN { printf "%.0f", n / s }')
  R_RATE=$(awk -v n="$R_CHANGES" -v s="$R_TOTAL" 'BEGIN { printf "%.0f", n / s }')
  R_TPS=$(awk -F'= ' '/^tps = / { split($2, a, " "); printf "%.0f", a[1] }' "$RUN/$id.pgbench")
  read -r R_HB R_P50 R_P90 R_P99 R_MAX <<<"$(lag_stats "$RUN/$id-lag.txt" "$2" "$3")"
  read -r R_IHB R_IP50 _ _ R_IMAX <<<"$(lag_stats "$RUN/$id-lag.txt" 0 "$2")"
  read -r R_CHB R_CP50 _ _ R_CMAX <<<"$(lag_stats "$RUN/$id-lag.txt" "$3" 1e12)"
  # CPU during the window (load start .. caught up): machine, this script's clients, source, targets[, JVM]
  read -r -a c0 <<<"$8"; read -r -a c1 <<<"$9"
  R_BUSY=$(awk -v a="${c0[1]}" -v b="${c1[1]}" 'BEGIN { printf "%.1f", b - a }')
  R_CLI=$(awk -v a="${c0[3]}" -v b="${c1[3]}" 'BEGIN { printf "%.1f", b - a }')
  R_CSRC=$(awk -v a="${c0[4]}" -v b="${c1[4]}" 'BEGIN { printf "%.1f", b - a }')
  R_CTGT=$(awk -v a="${c0[5]}" -v b="${c1[5]}" 'BEGIN { printf "%.1f", b - a }')
  R_CJVM=$(awk -v a="${c0[6]:-0}" -v b="${c1[6]:-0}" 'BEGIN { printf "%.1f", b - a }')
  R_OTHERS=$(awk -v m="$R_BUSY" -v a="$R_CLI" -v b="$R_CSRC" -v c="$R_CTGT" -v d="$R_CJVM" 'BEGIN { o = m - a - b - c - d; if (o < 0) o = 0; printf "%.1f", o }')
  R_CAP=$(awk -v m="$R_BUSY" -v s="$R_TOTAL" -v n="$(nproc)" 'BEGIN { printf "%.1f", n * s }')
}
run_figures a "$A_T0" "$A_T1" "$A_T2" "$A_CH0" "$A_CH1" "$A_SEEN_FINAL" "$A_CPU0" "$A_CPU1"
for v in WIN CATCH TOTAL INS UPD DEL CHANGES OFFERED RATE TPS HB P50 P90 P99 MAX IHB IP50 IMAX CHB CP50 CMAX BUSY CLI CSRC CTGT CJVM OTHERS CAP; do eval "RA_$v=\$R_$v"; done
run_figures b "$B_T0" "$B_T1" "$B_T2" "$B_CH0" "$B_CH1" "$B_SEEN_FINAL" "$B_CPU0" "$B_CPU1"
for v in WIN CATCH TOTAL INS UPD DEL CHANGES OFFERED RATE TPS HB P50 P90 P99 MAX IHB IP50 IMAX CHB CP50 CMAX BUSY CLI CSRC CTGT CJVM OTHERS CAP; do eval "RB_$v=\$R_$v"; done
AB=$(ratio "$RA_RATE" "$RB_RATE")
TARGET_MET=$(awk -v r="$AB" -v p="$RA_P99" 'BEGIN { print (r >= 1.0 && p != "-" && p < 1000 ? "met" : "NOT met") }')

# timeline ID T0 T1 T2 (load start, load end, caught up): per 5 s from the load's start: source changes/s, WAL behind the slot, [shardlift's
# capture and apply events/s, queued, commit lag], target changes/s, heartbeat lag p50/max by send time
timeline() {
  local id=$1 t0=$2 status=/dev/null
  [[ "$id" != a ]] || { grep -E 'copy done \|\|' "$RUN/a-shardlift.err" | sed -E 's/,//g' | awk '{
      match($0, /capture [A-Z]+ [0-9]+ events/); split(substr($0, RSTART, RLENGTH), c, " ")
      match($0, /WAL lag [0-9]+ B/); split(substr($0, RSTART, RLENGTH), w, " ")
      match($0, /tables [0-9]+ events [0-9]+ queued commit lag [0-9]+ ms/); split(substr($0, RSTART, RLENGTH), a, " ")
      print $1, c[3], w[3], a[2], a[4], a[8] }' >"$RUN/a-status.txt"; status="$RUN/a-status.txt"; }
  awk -v t0="$t0" -v t1="$3" -v t2="$4" -v id="$id" '
    FNR == 1 { f++ }
    f == 1 && NF == 4 && $1 ~ /^[0-9.]+$/ { n1++; st[n1] = $1; sw[n1] = $2; sc[n1] = $3; sn[n1] = $4 }   # source
    f == 2 && NF == 2 && $1 ~ /^[0-9.]+$/ { n2++; tt[n2] = $1; tn[n2] = $2 }                              # target
    f == 3 && $2 == "hb" { n3++; hc[n3] = $4; hl[n3] = ($5 - $4) * 1000 }                                 # heartbeats
    f == 4 { n4++; at[n4] = $1; ac[n4] = $2; aw[n4] = $3; aa[n4] = $4; aq[n4] = $5; al[n4] = $6 }          # status lines
    function last(t, times, n,   i, k) { k = 0; for (i = 1; i <= n; i++) if (times[i] <= t) k = i; return k }
    END {
      if (id == "a") printf "      %9s %9s %8s %10s %9s %9s %9s %9s %9s\n", "t s", "src ch/s", "WAL MB", "capture/s", "apply/s", "queued", "commit ms", "lag p50", "lag max"
      else printf "      %9s %9s %8s %10s %9s %9s\n", "t s", "src ch/s", "WAL MB", "tgt ch/s", "lag p50", "lag max"
      end = st[n1]; if (id == "a" && at[n4] > end) end = at[n4]; if (end > t2 + 1) end = t2 + 1
      for (b = 0; t0 + (b - 1) * 5 < end - 0.5; b++) {
        lo = t0 + (b - 1) * 5; hi = t0 + b * 5; if (hi > end) hi = end
        i = last(hi, st, n1); j = last(lo, st, n1)
        src = (i && j && st[i] > st[j]) ? (sn[i] - sn[j]) / (st[i] - st[j]) : 0
        wal = i ? (sw[i] - sc[i]) / 1e6 : 0
        i = last(hi, tt, n2); j = last(lo, tt, n2)
        tgt = (i && j && tt[i] > tt[j]) ? (tn[i] - tn[j]) / (tt[i] - tt[j]) : 0
        m = 0; mx = 0; delete L
        for (k = 1; k <= n3; k++) if (hc[k] >= lo && hc[k] < hi) { m++; L[m] = hl[k]; if (hl[k] > mx) mx = hl[k] }
        for (x = 2; x <= m; x++) { v = L[x]; y = x - 1; while (y >= 1 && L[y] > v) { L[y + 1] = L[y]; y-- } L[y + 1] = v }
        p50 = m ? sprintf("%.0f", L[int((m + 1) / 2)]) : "-"; mxs = m ? sprintf("%.0f", mx) : "-"
        mark = b == 0 ? "  idle" : (hi > t1 && lo < t1) ? "  <- load stops" : ""
        span = sprintf("%.0f..%.0f", lo - t0, hi - t0)
        if (id == "a") {
          i = last(hi, at, n4); j = last(lo, at, n4)
          cap = (i && j && at[i] > at[j]) ? (ac[i] - ac[j]) / (at[i] - at[j]) : 0
          app = (i && j && at[i] > at[j]) ? (aa[i] - aa[j]) / (at[i] - at[j]) : 0
          wal = i ? aw[i] / 1e6 : wal
          printf "      %9s %9.0f %8.1f %10.0f %9.0f %9d %9d %9s %9s%s\n", span, src, wal, cap, app, aq[i], al[i], p50, mxs, mark
        } else printf "      %9s %9.0f %8.1f %10.0f %9s %9s%s\n", span, src, wal, tgt, p50, mxs, mark
      }
    }' "$RUN/$id-source.txt" "$RUN/$id-target.txt" "$RUN/$id-lag.txt" "$status"
}

# drain_timeline ID T0 T1: per 5 s from the consumer's start until caught up: (a) shardlift's status lines (capture and
# apply events/s, queued, WAL not yet in Kafka); (b) the subscriber's changes/s. Last line: "best <max 5 s apply rate>".
drain_timeline() {
  local id=$1
  if [[ "$id" == a ]]; then
    grep -E ' \|\| capture ' "$RUN/a-drain-shardlift.err" | sed -E 's/,//g' | awk '{
      match($0, /capture [A-Z]+ [0-9]+ events/); split(substr($0, RSTART, RLENGTH), c, " ")
      match($0, /WAL lag [0-9]+ B/); split(substr($0, RSTART, RLENGTH), w, " ")
      match($0, /tables [0-9]+ events [0-9]+ queued commit lag [0-9]+ ms/); split(substr($0, RSTART, RLENGTH), a, " ")
      print $1, c[3], w[3], a[2], a[4], a[8] }' >"$RUN/a-drain-status.txt"
  fi
  awk -v t0="$2" -v t1="$3" -v id="$id" '
    { n++; t[n] = $1; x[n] = $2; w[n] = $3; y[n] = $4; q[n] = $5; l[n] = $6 }
    function last(u,   i, k) { k = 0; for (i = 1; i <= n; i++) if (t[i] <= u) k = i; return k }
    END {
      if (id == "a") printf "      %9s %10s %9s %9s %8s %9s\n", "t s", "capture/s", "apply/s", "queued", "WAL MB", "commit ms"
      else printf "      %9s %9s\n", "t s", "apply/s"
      best = 0
      for (b = 1; t0 + (b - 1) * 5 < t1; b++) {
        lo = t0 + (b - 1) * 5; hi = t0 + b * 5; if (hi > t1 + 1) hi = t1 + 1
        i = last(hi); j = last(lo); if (!i) continue
        dt = j ? t[i] - t[j] : 0
        if (id == "a") { cap = dt > 0 ? (x[i] - x[j]) / dt : 0; app = dt > 0 ? (y[i] - y[j]) / dt : 0 }
        else app = dt > 0 ? (x[i] - x[j]) / dt : 0
        if (app > best && hi - lo >= 4.5) best = app
        span = sprintf("%.0f..%.0f", lo - t0, hi - t0)
        if (id == "a") printf "      %9s %10.0f %9.0f %9d %8.1f %9d\n", span, cap, app, q[i], w[i] / 1e6, l[i]
        else printf "      %9s %9.0f\n", span, app
      }
      if (best == 0 && n > 1 && t[n] > t[1]) best = (id == "a" ? y[n] - y[1] : x[n] - x[1]) / (t[n] - t[1])   # shorter than one 5 s step
      printf "best %.0f\n", best
      for (i = 1; i <= n; i++) if ((id == "a" ? y[i] : 0) > 0) { printf "first %.1f\n", t[i] - t0; break }
    }' "$( [[ "$id" == a ]] && echo "$RUN/a-drain-status.txt" || echo "$RUN/b-drain-target.txt")"
}

threads_top() { # the JVM's threads by CPU over the window, names as the kernel keeps them (15 chars), numbers folded
  awk 'FNR == 1 { f++ } f == 1 { t0[$1] = $2; next } { name = $0; sub(/^[0-9]+ [0-9]+ /, "", name); gsub(/-[0-9]+/, "-N", name); gsub(/#[0-9]+/, "#N", name); sub(/[0-9]+$/, "N", name)
       d = $2 - (($1 in t0) ? t0[$1] : 0); c[name] += d; n[name]++; tot += d }
       END { for (k in c) if (c[k] > 0) printf "    %7.2f s %5.1f%%  %-18s (%d threads)\n", c[k] / '"$HZ"', 100 * c[k] / tot, k, n[k] }' \
    "$RUN/a-threads0.txt" "$RUN/a-threads1.txt" | sort -rn | top 18
}

{
  echo "== shardlift CDC benchmark: sustained apply rate and lag under a pgbench write load =="
  echo "command:   $CMDLINE   (from $REPO, $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $SHARDLIFT_VERSION)"
  echo "machine:   $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, $("$PGBIN/postgres" --version), $(java -version 2>&1 | head -1), load average at the start: $LOAD_START"
  echo "servers:   $((NODES + 2)) x PostgreSQL 15 on 127.0.0.1 (source, $NODES nodes, 1 native subscriber), shared_buffers=128MB, fsync=$FSYNC, synchronous_commit=on, wal_level=logical, timezone=UTC"
  echo "dataset:   seed 000 sensors: 10 device types, $DEVICES devices, $EVENTS events (heap $(awk -v b="$SRC_HEAP" 'BEGIN { printf "%.1f", b / 1e6 }') MB), source primary key of events: ($SOURCE_PK); loaded in $LOAD_SECS s"
  echo "load:      $PGBENCH_SHOWN   (after a ${WARMUP} s warm-up of the same load and a ${IDLE} s idle baseline)"
  echo "lag:       heartbeat rows in events (device $HB_DEVICE, one every $HB_MS ms, created_at = clock_timestamp() on the source), polled every $POLL_MS ms on the target that owns them; caught up = $FINALS rows inserted when the load stops all visible"
  echo "(a) $A_CMD   [copy + catch-up before the load: $A_READY_SECS s; measured $A_START .. $A_END UTC]"
  echo "    spec: events sharded by device_id, colocated with devices (8 partitions)${WIDEN:+, widen_unique: true}; device_types global; kafka embedded, 8 partitions per topic; JVM options: $JAVA_OPTS_USED; heartbeats on $HB_NODE.$HB_PART"
  echo "(b) $B_SUB   [initial sync $B_READY_SECS s; measured $B_START .. $B_END UTC]"
  echo
  printf "%-34s %8s %8s %9s %9s %7s %7s %9s %7s %7s %7s %7s\n" "run" "pgbench" "changes" "offered" "sustained" "load s" "catchup" "apply/s" "lag p50" "p90" "p99" "max"
  printf "%-34s %8s %8s %9s %9s %7s %7s %9s %7s %7s %7s %7s\n" "" "tps" "" "ch/s" "apply s" "" "s" "" "ms" "ms" "ms" "ms"
  printf "%-34s %8s %8s %9s %9s %7s %7s %9s %7s %7s %7s %7s\n" "(a) shardlift run, $NODES nodes" "$RA_TPS" "$RA_CHANGES" "$RA_OFFERED" "$RA_TOTAL" "$RA_WIN" "$RA_CATCH" "$RA_RATE" "$RA_P50" "$RA_P90" "$RA_P99" "$RA_MAX"
  printf "%-34s %8s %8s %9s %9s %7s %7s %9s %7s %7s %7s %7s\n" "(b) native logical replication" "$RB_TPS" "$RB_CHANGES" "$RB_OFFERED" "$RB_TOTAL" "$RB_WIN" "$RB_CATCH" "$RB_RATE" "$RB_P50" "$RB_P90" "$RB_P99" "$RB_MAX"
  echo
  echo "a/b (sustained apply rates) = $AB   (target: a/b >= 1.0 with (a)'s lag p99 < 1 s: $TARGET_MET)"
  echo
  if [[ "$DRAIN" -gt 0 ]]; then
    drain_timeline a "$DA_T0" "$DA_T1" >"$RUN/a-drain-timeline.txt"; drain_timeline b "$DB_T0" "$DB_T1" >"$RUN/b-drain-timeline.txt"
    dfig() { # dfig ID T0 T1 CH0 CH1 CPU0 CPU1 JVMCPU: "changes secs rate best | cpu consumer source targets bench others"
      local c0 c1; read -r -a c0 <<<"$6"; read -r -a c1 <<<"$7"
      awk -v t0="$2" -v t1="$3" -v ch0="$4" -v ch1="$5" -v best="$(awk '/^best/ { print $2 }' "$RUN/$1-drain-timeline.txt")" \
          -v m0="${c0[1]}" -v m1="${c1[1]}" -v b0="${c0[3]}" -v b1="${c1[3]}" -v s0="${c0[4]}" -v s1="${c1[4]}" -v g0="${c0[5]}" -v g1="${c1[5]}" -v jvm="$8" -v id="$1" '
        BEGIN { split(ch0, x, " "); split(ch1, y, " "); n = y[1] + y[2] + y[3] - x[1] - x[2] - x[3]; d = t1 - t0
          bench = b1 - b0 - jvm; tgt = g1 - g0; src = s1 - s0; busy = m1 - m0; oth = busy - bench - tgt - src - jvm; if (oth < 0) oth = 0
          printf "%d %.2f %.0f %.0f %.1f %.1f %.1f %.1f %.1f %.1f", n, d, n / d, best, (id == "a" ? jvm : tgt), src, tgt, bench, busy, oth }'
    }
    read -r DA_N DA_S DA_RATE DA_BEST DA_CC DA_CS DA_CT DA_CB DA_BUSY DA_OTH <<<"$(dfig a "$DA_T0" "$DA_T1" "$DA_CH0" "$DA_CH1" "$DA_CPU0" "$DA_CPU1" "$DA_JVMCPU")"
    read -r DB_N DB_S DB_RATE DB_BEST DB_CC DB_CS DB_CT DB_CB DB_BUSY DB_OTH <<<"$(dfig b "$DB_T0" "$DB_T1" "$DB_CH0" "$DB_CH1" "$DB_CPU0" "$DB_CPU1" 0)"
    echo "capacity (--drain $DRAIN): $DRAIN s of the same load with the consumer stopped, then the consumer started again and"
    echo "timed until the backlog is applied (no load competes for the CPU meanwhile):"
    printf "%-52s %8s %8s %8s %9s %10s\n" "run" "tps" "backlog" "drain s" "apply/s" "best 5 s/s"
    printf "%-52s %8s %8s %8s %9s %10s\n" "(a) shardlift: a new JVM (start-up, capture, apply)" "$DA_TPS" "$DA_N" "$DA_S" "$DA_RATE" "$DA_BEST"
    printf "%-52s %8s %8s %8s %9s %10s\n" "(b) native: ALTER SUBSCRIPTION ENABLE" "$DB_TPS" "$DB_N" "$DB_S" "$DB_RATE" "$DB_BEST"
    echo "capacity a/b = $(ratio "$DA_RATE" "$DB_RATE") (whole drain), $(ratio "$DA_BEST" "$DB_BEST") (best 5 s); (a)'s first change was applied $(awk '/^first/ { print $2 }' "$RUN/a-drain-timeline.txt") s after the JVM started"
    echo "CPU seconds during the drain: (a) JVM $DA_CC | source $DA_CS | $NODES nodes $DA_CT | bench $DA_CB | machine busy $DA_BUSY, not ours $DA_OTH"
    echo "                              (b) source $DB_CS | subscriber $DB_CT | bench $DB_CB | machine busy $DB_BUSY, not ours $DB_OTH"
    echo "(a) drain, per 5 s from the JVM's start (status lines):"; grep -vE '^(best|first)' "$RUN/a-drain-timeline.txt"
    echo "(b) drain, per 5 s from ENABLE (the subscriber's table statistics):"; grep -vE '^(best|first)' "$RUN/b-drain-timeline.txt"
    echo
  fi
  echo "changes = rows inserted + updated + deleted in the source's events from the idle baseline to the final rows"
  echo "  (pg_stat_user_tables; an UPDATE or DELETE of an id deleted earlier is no change): (a) $RA_INS + $RA_UPD + $RA_DEL, (b) $RB_INS + $RB_UPD + $RB_DEL"
  echo "sustained apply/s = changes / (load start .. caught up); offered ch/s = changes / load seconds"
  echo "lag = heartbeats created during the load ((a) $RA_HB, (b) $RB_HB); idle baseline before the load p50/max: (a) $RA_IP50/$RA_IMAX ms, (b) $RB_IP50/$RB_IMAX ms;"
  echo "  during the catch-up (created after the load stopped) p50/max: (a) $RA_CP50/$RA_CMAX ms, (b) $RB_CP50/$RB_CMAX ms"
  echo "CPU seconds from the load's start until caught up (user+sys; the machine has $(nproc) cores):"
  echo "  (a) $RA_TOTAL s: machine busy $RA_BUSY of $RA_CAP | shardlift JVM $RA_CJVM | source $RA_CSRC | $NODES nodes $RA_CTGT | pgbench+psql+this script $RA_CLI | not ours $RA_OTHERS"
  echo "  (b) $RB_TOTAL s: machine busy $RB_BUSY of $RB_CAP | source $RB_CSRC | subscriber $RB_CTGT | pgbench+psql+this script $RB_CLI | not ours $RB_OTHERS"
  echo "shardlift JVM peak RSS: $((A_RSS_KB / 1024)) MiB (VmHWM, whole run: copy, embedded broker, stream)"
  echo
  echo "(a) timeline, per 5 s from the load's start (capture = events Kafka acknowledged, apply = events applied, queued = in Kafka"
  echo "    not yet applied, commit lag = now - source commit time of the last applied change; WAL MB = not yet in Kafka):"
  timeline a "$A_T0" "$A_T1" "$A_SEEN_FINAL"
  echo "(a) shardlift JVM threads by CPU, load start .. caught up (JIT: $(awk -v a="$A_JIT0" -v b="$A_JIT1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d methods compiled, %.1f s of compiler wall time", y[1] - x[1], y[2] - x[2] }')):"
  threads_top
  echo "(a) pgbench:"; grep -E '^(tps|latency average|number of transactions actually|SQL script|progress)' "$RUN/a.pgbench" | sed 's/^/    /'
  echo
  echo "(b) timeline, per 5 s from the load's start (WAL MB = source WAL not yet confirmed by the subscriber; tgt ch/s = the subscriber's"
  echo "    own table statistics):"
  timeline b "$B_T0" "$B_T1" "$B_SEEN_FINAL"
  echo "(b) pgbench:"; grep -E '^(tps|latency average|number of transactions actually|SQL script|progress)' "$RUN/b.pgbench" | sed 's/^/    /'
  echo
  echo "CPU timeline (a), cores busy per 5 s (bench = pgbench, psql, samplers):"
  timeline_cpu "$RUN/a-cpu.txt" "$A_T0" bench source nodes JVM
  echo "CPU timeline (b):"
  timeline_cpu "$RUN/b-cpu.txt" "$B_T0" bench source native
  if [[ "$JFR" -eq 1 && -f "$RUN/shardlift-a.jfr" ]]; then
    echo
    # the recording spans warm-up and window: keep the events that started inside the window (jfr prints UTC times here)
    jfr_window() {
      TZ=UTC jfr print --events "$1" "$RUN/shardlift-a.jfr" | awk -v from="$(date -u -d "@$A_T0" +%H:%M:%S.%3N)" -v to="$(date -u -d "@$A_SEEN_FINAL" +%H:%M:%S.%3N)" '
        /^[a-z.A-Z]+ \{$/ { n = 0; keep = 0 }
        { block[++n] = $0 }
        /^  startTime = / { t = $3; keep = (t >= from && t <= to) }
        /^\}$/ { if (keep) for (i = 1; i <= n; i++) print block[i]; n = 0 }'
    }
    echo "(a) JFR execution samples over the measured window ($RUN/shardlift-a.jfr, recorded from the warm-up on), by thread:"
    jfr_window jdk.ExecutionSample >"$RUN/shardlift-a.samples.txt"
    awk '/sampledThread = / { s = $0; sub(/.*sampledThread = "/, "", s); sub(/".*/, "", s); gsub(/-[0-9]+/, "-N", s); gsub(/#[0-9]+/, "#N", s); sub(/[0-9]+$/, "N", s); c[s]++; n++ }
         END { for (k in c) printf "    %6d %5.1f%%  %s\n", c[k], 100 * c[k] / n, k }' "$RUN/shardlift-a.samples.txt" | sort -rn | top 15
    echo "(a) top frames:"
    awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); c[$0]++; n++ }
         END { for (f in c) printf "    %6d %5.1f%%  %s\n", c[f], 100 * c[f] / n, f }' "$RUN/shardlift-a.samples.txt" | sort -rn | top 25
    echo "(a) JIT compilations over 100 ms during the window (jdk.Compilation at the profile threshold), by level, and the longest:"
    jfr_window jdk.Compilation | awk '
      /duration = / { d = $3; u = $4; if (u ~ /^s/) d *= 1000; else if (u ~ /^us/) d /= 1000; else if (u ~ /^ns/) d /= 1e6 }
      /method = / { m = $0; sub(/^[ \t]*method = /, "", m) }
      /compileLevel = / { lv = $3; n[lv]++; t[lv] += d; if (d > 100) print d, "level " lv, m > "/dev/stderr" }
      END { for (l in n) printf "    level %s: %d compilations, %.1f s\n", l, n[l], t[l] / 1000 }' 2>"$RUN/shardlift-a.longcompiles.txt" | sort
    sort -rn "$RUN/shardlift-a.longcompiles.txt" | top 8 | awk '{ printf "    %7.0f ms  ", $1; $1 = ""; print }'
    echo "(a) first shardlift frame on the stack (samples with one):"
    awk '/stackTrace = \[/ { s = 1; next } s && /io\.shardlift\./ { l = $0; sub(/^[ \t]+/, "", l); sub(/[ \t]+line:.*/, "", l); c[l]++; n++; s = 0 }
         /^[ \t]*\]/ { s = 0 }
         END { for (f in c) printf "    %6d %5.1f%%  %s\n", c[f], 100 * c[f] / n, f }' "$RUN/shardlift-a.samples.txt" | sort -rn | top 15
  fi
} | tee "$RESULTS"
say "results saved in $RESULTS; logs under $RUN"
