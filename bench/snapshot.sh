#!/usr/bin/env bash
# bench/snapshot.sh — the snapshot benchmark of issue 3 (item 8).
#
# Builds seed 000's sensor database (the test kit's fixture, reproduced in bench/sensors_load.sql) with
# N events on a source, then, in one run and on the same machine, times:
#   (a) shardlift snapshot into 4 nodes, ready to serve (rows, keys, indexes, ANALYZE): the real program,
#       ./shardlift snapshot --config <spec>, under /usr/bin/time -v for the JVM's peak RSS;
#   (b) a raw binary COPY events TO STDOUT | COPY events_copy FROM STDIN pipe into one unindexed table;
#   (c) pgcopydb clone of the whole database (tables, keys, indexes, constraints, vacuum analyze) to one
#       fresh database;
# and prints wall times, rows/s, MB/s and the ratios a/b and a/c.
#
# Every server is the machine's PostgreSQL 15, started here with initdb + pg_ctl by bench/lib/servers.sh (as
# the postgres user when run as root) under bench/out/run-<events>/, on free ports, listening on 127.0.0.1
# only, with the same settings; all are stopped on exit. Re-runs wipe bench/out/run-*; results are kept in
# bench/out/results-<events>-<time>.txt.
#
# Usage: bench/snapshot.sh [--events N] [--jobs N] [--fsync on|off] [--jfr] [--jar FILE] [--pgcopydb-split SIZE] [--keep]
set -euo pipefail

EVENTS=1000000
JOBS=4
FSYNC=on
JFR=0
JAR=""
KEEP=0
NODES=4
PGCOPYDB_SPLIT=""

usage() {
  cat <<'EOF'
Usage: bench/snapshot.sh [options]
  --events N        events to generate on the source (default 1000000)
  --jobs N          parallel jobs for shardlift (--jobs) and pgcopydb (--table-jobs, --index-jobs) (default 4)
  --jfr             also record a JFR profile of the shardlift JVM and print its top frames (slows (a) a little)
  --pgcopydb-split SIZE
                    give pgcopydb --split-tables-larger-than SIZE (e.g. 50MB; default: not split, pgcopydb's default)
EOF
  bench_options_help
}

say() { echo "bench: $*" >&2; }

# die, REPO, BENCH and the servers' functions
# shellcheck source=bench/lib/servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"

bench_parse "--events=EVENTS --jobs=JOBS --pgcopydb-split=PGCOPYDB_SPLIT" "$@"
[[ "$EVENTS" =~ ^[0-9]+$ && "$EVENTS" -ge 1 ]] || die "--events must be a positive integer, not '$EVENTS'"
[[ "$JOBS" =~ ^[0-9]+$ && "$JOBS" -ge 1 ]] || die "--jobs must be a positive integer, not '$JOBS'"

OUT="$BENCH/out"
RUN="$OUT/run-$EVENTS"
RESULTS="$OUT/results-$EVENTS-$(date +%Y%m%d-%H%M%S).txt"
DB=sensors
CMDLINE=$(command_line bench/snapshot.sh "${ARGS[@]}")

# ------------------------------------------------------------------ prerequisites, servers
BENCH_NAME=bench/snapshot.sh
bench_require
command -v pgcopydb >/dev/null || die "pgcopydb not found (apt-get update && apt-get install -y pgcopydb)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install -y time)"
# pgcopydb runs pg_dump and pg_restore from the PATH: make them PostgreSQL 15's
export PATH="$PGBIN:$PATH"

stop_all() {
  local rc=$?
  stop_servers
  return $rc
}
trap stop_all EXIT
trap 'exit 130' INT TERM

clock() { date +%H:%M:%S.%3N; }

# server_cpu NAME: CPU seconds a server has used so far: its postmaster, the backends that have exited
# (reaped by the postmaster: cutime + cstime) and the processes still alive under it
server_cpu() {
  local pid ticks
  pid=$(head -1 "$RUN/pg/$1/postmaster.pid")
  ticks=$({ cat "/proc/$pid/stat" $(ps -o pid= --ppid "$pid" | sed 's|^ *|/proc/|; s|$|/stat|') 2>/dev/null || true; } \
    | awk '{ sub(/^.*\) /, ""); t += $12 + $13; if (NR == 1) t += $14 + $15 } END { print t + 0 }')
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
# cpu_of NAME...: the sum of server_cpu over the servers named
cpu_of() { local n total=0; for n in "$@"; do total=$(awk -v a="$total" -v b="$(server_cpu "$n")" 'BEGIN { printf "%.2f", a + b }'); done; echo "$total"; }

# ------------------------------------------------------------------ wipe and set up
mkdir -p "$OUT"
wipe_runs "$OUT/run-"
# the shardlift program: the launcher's own default JVM options
shardlift_program "-Xmx2g -XX:+UseG1GC -XX:TieredStopAtLevel=1"

say "starting $((NODES + 3)) PostgreSQL 15 servers under $RUN/pg (fsync=$FSYNC) ..."
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
SERVERS=(source)
for ((i = 0; i < NODES; i++)); do SERVERS+=("node$i"); done
SERVERS+=(rawcopy pgcopydb)
start_servers 55400 "${SERVERS[@]}"

# ------------------------------------------------------------------ the dataset
say "loading seed 000's sensor dataset with $EVENTS events on the source ..."
t0=$(now)
psql_at "${PORT[source]}" -d "$DB" -f "$SCHEMA_SQL" >/dev/null
psql_at "${PORT[source]}" -d "$DB" -v events="$EVENTS" -f "$BENCH/sensors_load.sql" >/dev/null
# set hint bits and the visibility map once, so that no measured run pays for the first read of fresh rows
psql_at "${PORT[source]}" -d "$DB" -c "VACUUM (ANALYZE) public.device_types, public.devices, public.events" -c "CHECKPOINT"
t1=$(now)
LOAD_SECS=$(secs "$t0" "$t1")
read -r SRC_ROWS SRC_HEAP SRC_TOTAL <<<"$(psql_at "${PORT[source]}" -d "$DB" -At -F ' ' -c \
  "SELECT count(*), pg_table_size('public.events'), pg_total_relation_size('public.events') FROM public.events")"
[[ "$SRC_ROWS" -eq "$EVENTS" ]] || die "the source holds $SRC_ROWS events, expected $EVENTS"
say "loaded in $LOAD_SECS s: events heap $((SRC_HEAP / 1000000)) MB, with indexes $((SRC_TOTAL / 1000000)) MB"

checkpoint_all() {
  checkpoint_servers
  sync
}
declare -A LOGPOS=()
mark_logs() { local n; for n in "$@"; do LOGPOS[$n]=$(stat -c %s "$RUN/pg/$n.log"); done; }
# slice_logs RUNID NAME...: what each server logged since mark_logs, kept as $RUN/logs/RUNID-NAME.log
slice_logs() {
  local id=$1 n; shift
  mkdir -p "$RUN/logs"
  for n in "$@"; do tail -c +$((LOGPOS[$n] + 1)) "$RUN/pg/$n.log" >"$RUN/logs/$id-$n.log"; done
}
phases() { # phases RUNID NAME: the slow statements (>= 200 ms) of a slice, summed by kind
  awk '/duration: [0-9.]+ ms/ {
       match($0, /duration: [0-9.]+ ms/); d = substr($0, RSTART + 10, RLENGTH - 13) / 1000
       s = toupper($0); k = "other"
       if (s ~ /COPY .*FROM STDIN/) k = "COPY FROM"; else if (s ~ /COPY .*TO STDOUT/) k = "COPY TO"
       else if (s ~ /PRIMARY KEY|UNIQUE/) k = "primary key"; else if (s ~ /FOREIGN KEY|ALTER TABLE ONLY/) k = "foreign key"
       else if (s ~ /CREATE INDEX/) k = "CREATE INDEX"; else if (s ~ /VACUUM/) k = "VACUUM ANALYZE"
       else if (s ~ /ANALYZE/) k = "ANALYZE"; else if (s ~ /CHECKPOINT/) k = "CHECKPOINT"
       t[k] += d; n[k]++ }
     END { for (k in t) printf "      %-16s %3d statements %8.2f s\n", k, n[k], t[k] }' "$RUN/logs/$1-$2.log" | sort
}
# machine_busy: CPU seconds the whole machine has been busy since boot (all processes, ours and the others')
machine_busy() { awk -v hz="$HZ" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat; }
# sample_cpu PID OUT GROUP...: every 0.5 s while PID runs, appends "seconds machine iowait program group..." to OUT:
# the cumulative CPU seconds of the whole machine (busy, and idle waiting for I/O), of the process tree under PID (the program under /usr/bin/time) and
# of each GROUP of servers (comma-separated names), each a process tree under its postmaster (cpu_snapshot).
sample_cpu() {
  local pid=$1 out=$2 t0 g n roots; shift 2
  roots="$pid"
  for g in "$@"; do
    roots="$roots"; local r=""
    for n in ${g//,/ }; do r="$r${r:+,}$(head -1 "$RUN/pg/$n/postmaster.pid")"; done
    roots="$roots $r"
  done
  t0=$(now)
  while kill -0 "$pid" 2>/dev/null; do
    # shellcheck disable=SC2086 # the roots are words
    cpu_snapshot $roots | awk -v t0="$t0" '{ $1 = sprintf("%.2f", $1 - t0) } 1' >>"$out"
    sleep 0.5
  done
}
# timed_run ID NAME SERVERS CMD...: runs CMD from the repository's root under /usr/bin/time -v (into $RUN/NAME.time,
# .out and .err) while sample_cpu records $RUN/ID-cpu.txt for it, the source and SERVERS (comma-separated); sets
# T_START and T_END (clock), T_SECS (wall), T_BUSY (the machine's CPU) and T_CPU (the program's user+sys seconds);
# dies with the end of its log when CMD fails
timed_run() {
  local id=$1 name=$2 servers=$3 pid sampler rc=0 busy0 t0 t1; shift 3
  T_START=$(clock)
  busy0=$(machine_busy)
  t0=$(now)
  (cd "$REPO" && exec /usr/bin/time -v -o "$RUN/$name.time" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err") &
  pid=$!
  sample_cpu "$pid" "$RUN/$id-cpu.txt" source "$servers" &
  sampler=$!
  wait "$pid" || rc=$?
  t1=$(now)  # before the sampler's last round (up to 0.5 s of sleep) ends: that is not the program's time
  wait "$sampler" || true
  if [[ "$rc" -ne 0 ]]; then
    tail -30 "$RUN/$name.err" >&2
    die "($id) $name failed (exit $rc); log: $RUN/$name.err"
  fi
  T_BUSY=$(secs "$busy0" "$(machine_busy)")
  T_END=$(clock)
  T_SECS=$(secs "$t0" "$t1")
  T_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$RUN/$name.time")
}
# timeline FILE HEADER...: the samples as cores used per interval (1.00 = one core busy)
timeline() {
  local f=$1; shift
  printf "      %6s %8s %8s" "t s" "machine" "iowait"; for h in "$@"; do printf " %8s" "$h"; done; echo
  awk '{ if (NR > 1) { dt = $1 - p[1]; if (dt <= 0) next; printf "      %6.1f", $1
         for (i = 2; i <= NF; i++) printf " %8.2f", ($i - p[i]) / dt; printf "\n" }
         for (i = 1; i <= NF; i++) p[i] = $i }' "$f"
}

# ------------------------------------------------------------------ (b) raw binary COPY pipe
psql_at "${PORT[rawcopy]}" -d "$DB" -c "CREATE TABLE public.events_copy (event_id bigint NOT NULL, device_id int NOT NULL,
  payload jsonb, created_at timestamp)"
checkpoint_all
mark_logs source rawcopy
say "(b) raw COPY events TO STDOUT (FORMAT binary) | COPY events_copy FROM STDIN (FORMAT binary) ..."
cpu_b0_src=$(cpu_of source); cpu_b0_dst=$(cpu_of rawcopy); busy_b0=$(machine_busy)
tb0=$(now)
psql_at "${PORT[source]}" -d "$DB" -c "COPY public.events TO STDOUT (FORMAT binary)" \
  | psql_at "${PORT[rawcopy]}" -d "$DB" -c "COPY public.events_copy FROM STDIN (FORMAT binary)"
tb1=$(now)
B_BUSY=$(secs "$busy_b0" "$(machine_busy)")
B_SECS=$(secs "$tb0" "$tb1")
slice_logs b source rawcopy
B_CPU_SRC=$(secs "$cpu_b0_src" "$(cpu_of source)"); B_CPU_DST=$(secs "$cpu_b0_dst" "$(cpu_of rawcopy)")
B_ROWS=$(psql_at "${PORT[rawcopy]}" -d "$DB" -At -c "SELECT count(*) FROM public.events_copy")
[[ "$B_ROWS" -eq "$EVENTS" ]] || die "(b) copied $B_ROWS rows, expected $EVENTS"
B_SENT=$(psql_at "${PORT[rawcopy]}" -d "$DB" -At -c "SELECT pg_table_size('public.events_copy')")
stop_server rawcopy

# ------------------------------------------------------------------ (a) shardlift snapshot
SPEC="$RUN/migrate.yml"
NODE_NAMES=(); for ((i = 0; i < NODES; i++)); do NODE_NAMES+=("node$i"); done
sensors_spec "$JOBS" ", widen_unique: true" "" "${NODE_NAMES[@]}" >"$SPEC"

checkpoint_all
mark_logs source "${NODE_NAMES[@]}"
JFR_FILE="$RUN/shardlift.jfr"
JAVA_OPTS_USED="${SHARDLIFT_JAVA_OPTS:--Xmx2g -XX:+UseG1GC -XX:TieredStopAtLevel=1}"
if [[ "$JFR" -eq 1 ]]; then
  JAVA_OPTS_USED="$JAVA_OPTS_USED -XX:StartFlightRecording=filename=$JFR_FILE,settings=profile"
  export SHARDLIFT_JAVA_OPTS="$JAVA_OPTS_USED"
  [[ -z "$JAR" ]] || SHARDLIFT=(java $JAVA_OPTS_USED -jar "$JAR")
fi
A_CMD="${SHARDLIFT[*]} snapshot --config $SPEC"
say "(a) $A_CMD ..."
cpu_a0_src=$(cpu_of source); cpu_a0_nodes=$(cpu_of "${NODE_NAMES[@]}")
timed_run a shardlift "$(IFS=,; echo "${NODE_NAMES[*]}")" "${SHARDLIFT[@]}" snapshot --config "$SPEC" --progress-interval 5
A_START=$T_START; A_END=$T_END; A_SECS=$T_SECS; A_BUSY=$T_BUSY; A_CPU=$T_CPU
slice_logs a source "${NODE_NAMES[@]}"
A_CPU_SRC=$(secs "$cpu_a0_src" "$(cpu_of source)"); A_CPU_NODES=$(secs "$cpu_a0_nodes" "$(cpu_of "${NODE_NAMES[@]}")")
A_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$RUN/shardlift.time")
A_ROWS=$(psql_at "${PORT[node0]}" -d "$DB" -At -c "SELECT count(*) FROM public.events")
[[ "$A_ROWS" -eq "$EVENTS" ]] || die "(a) the cluster holds $A_ROWS events, expected $EVENTS"
A_IDX=$(for n in "${NODE_NAMES[@]}"; do psql_at "${PORT[$n]}" -d "$DB" -At -c "SELECT count(*) FROM pg_index
  WHERE indrelid::regclass::text ~ '^events_[0-9]+$'"; done | awk '{ t += $1 } END { print t }')
for n in "${NODE_NAMES[@]}"; do stop_server "$n"; done

# ------------------------------------------------------------------ (c) pgcopydb clone
checkpoint_all
mark_logs source pgcopydb
SRC_URI="postgres://postgres@127.0.0.1:${PORT[source]}/$DB"
PGC_URI="postgres://postgres@127.0.0.1:${PORT[pgcopydb]}/$DB"
C_ARGS=(clone --source "$SRC_URI" --target "$PGC_URI" --dir "$RUN/pgcopydb" --table-jobs "$JOBS" --index-jobs "$JOBS")
[[ -z "$PGCOPYDB_SPLIT" ]] || C_ARGS+=(--split-tables-larger-than "$PGCOPYDB_SPLIT")
C_CMD="pgcopydb ${C_ARGS[*]}"
say "(c) $C_CMD ..."
cpu_c0_src=$(cpu_of source); cpu_c0_dst=$(cpu_of pgcopydb)
timed_run c pgcopydb pgcopydb pgcopydb "${C_ARGS[@]}"
C_START=$T_START; C_END=$T_END; C_SECS=$T_SECS; C_BUSY=$T_BUSY; C_CPU=$T_CPU
slice_logs c source pgcopydb
C_CPU_SRC=$(secs "$cpu_c0_src" "$(cpu_of source)"); C_CPU_DST=$(secs "$cpu_c0_dst" "$(cpu_of pgcopydb)")
C_ROWS=$(psql_at "${PORT[pgcopydb]}" -d "$DB" -At -c "SELECT count(*) FROM public.events")
[[ "$C_ROWS" -eq "$EVENTS" ]] || die "(c) the clone holds $C_ROWS events, expected $EVENTS"
C_IDX=$(psql_at "${PORT[pgcopydb]}" -d "$DB" -At -c "SELECT string_agg(pg_get_constraintdef(oid), ', ' ORDER BY conname)
  FROM pg_constraint WHERE conrelid = 'public.events'::regclass")
C_IDX="$C_IDX; $(psql_at "${PORT[pgcopydb]}" -d "$DB" -At -c "SELECT string_agg(indexrelid::regclass::text, ', ' ORDER BY 1)
  FROM pg_index WHERE indrelid = 'public.events'::regclass")"

# ------------------------------------------------------------------ report
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
mbps() { awk -v b="$SRC_HEAP" -v s="$1" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
sum() { awk -v a="$1" -v b="$2" -v c="${3:-0}" 'BEGIN { printf "%.2f", a + b + c }'; }
AC=$(ratio "$A_SECS" "$C_SECS")

{
  echo "== shardlift snapshot benchmark =="
  echo "command:   $CMDLINE   (from $REPO, $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "machine:   $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, $("$PGBIN/postgres" --version), $(pgcopydb --version 2>/dev/null | grep -m1 'pgcopydb version'), load average at the start: $LOAD_START"
  echo "servers:   $((NODES + 3)) x PostgreSQL 15 on 127.0.0.1, shared_buffers=128MB, fsync=$FSYNC, synchronous_commit=on, wal_level=logical, max_replication_slots=10, max_wal_senders=10"
  echo "dataset:   seed 000 sensors: 10 device types, 1000 devices, $EVENTS events; events heap $(awk -v b="$SRC_HEAP" 'BEGIN { printf "%.1f", b / 1e6 }') MB (pg_table_size), $(awk -v b="$SRC_TOTAL" 'BEGIN { printf "%.1f", b / 1e6 }') MB with its indexes; loaded in $LOAD_SECS s"
  echo "rows/s and MB/s: events rows and events heap MB (source pg_table_size) over the wall time"
  echo
  printf "%-66s %8s %10s %7s %9s\n" "run" "wall s" "rows/s" "MB/s" "CPU s"
  printf "%-66s %8s %10s %7s %9s\n" "(a) shardlift snapshot, $NODES nodes, keys+indexes+analyze" "$A_SECS" "$(rate "$EVENTS" "$A_SECS")" "$(mbps "$A_SECS")" "$(sum "$A_CPU" "$A_CPU_SRC" "$A_CPU_NODES")"
  printf "%-66s %8s %10s %7s %9s\n" "(b) raw binary COPY pipe, 1 unindexed table" "$B_SECS" "$(rate "$EVENTS" "$B_SECS")" "$(mbps "$B_SECS")" "$(sum "$B_CPU_SRC" "$B_CPU_DST")"
  printf "%-66s %8s %10s %7s %9s\n" "(c) pgcopydb clone, 1 target, keys+indexes+vacuum analyze${PGCOPYDB_SPLIT:+ (split)}" "$C_SECS" "$(rate "$EVENTS" "$C_SECS")" "$(mbps "$C_SECS")" "$(sum "$C_CPU" "$C_CPU_SRC" "$C_CPU_DST")"
  echo
  echo "a/b = $(ratio "$A_SECS" "$B_SECS")   a/c = $AC   (target a/c <= 0.8: $(awk -v r="$AC" 'BEGIN { print (r <= 0.8 ? "met" : "NOT met") }'))"
  echo "shardlift JVM peak RSS: $((A_RSS_KB / 1024)) MiB (/usr/bin/time -v), JVM options: $JAVA_OPTS_USED"
  others() { awk -v busy="$1" -v ours="$2" -v w="$3" -v cores="$(nproc)" 'BEGIN { o = busy - ours; if (o < 0) o = 0; printf "%.1f s busy of %.1f s, %.1f s not ours", busy, cores * w, o }'; }
  echo "machine CPU during each run (busy of cores x wall): (a) $(others "$A_BUSY" "$(sum "$A_CPU" "$A_CPU_SRC" "$A_CPU_NODES")" "$A_SECS") | (b) $(others "$B_BUSY" "$(sum "$B_CPU_SRC" "$B_CPU_DST")" "$B_SECS") | (c) $(others "$C_BUSY" "$(sum "$C_CPU" "$C_CPU_SRC" "$C_CPU_DST")" "$C_SECS")"
  echo "CPU seconds (user+sys): (a) JVM $A_CPU, source $A_CPU_SRC, nodes $A_CPU_NODES | (b) source $B_CPU_SRC, target $B_CPU_DST | (c) pgcopydb+pg_dump/pg_restore $C_CPU, source $C_CPU_SRC, target $C_CPU_DST"
  echo
  echo "(a) $A_CMD    [$A_START .. $A_END]"
  sed 's/^/    /' "$RUN/shardlift.out"
  echo "    local partition indexes on the nodes: $A_IDX"
  # phases from the log's timestamps: the events table's keys start when its last chunk is in
  awk -v start="$A_START" -v end="$A_END" '
    function s(t,  a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    / slot .* created / || / exported a fresh snapshot / { if (!slot) slot = s($1) }
    /public.events indexed and analyzed/ { m = $0; sub(/.*statements, /, "", m); sub(/ ms.*/, "", m)
      b = s($1) - m / 1000; if (!ib || b < ib) ib = b }
    /snapshot complete/ { done = s($1) }
    END { if (slot && ib && done) printf "  phases: start-up (JVM, plan, layout, publication, slot) %.1f s | copy %.1f s | events keys+indexes+ANALYZE %.1f s | exit %.1f s\n",
            slot - s(start), ib - slot, done - ib, s(end) - done }' "$RUN/shardlift.err"
  echo "  shardlift log:"
  grep -E 'slot .* created|chunks on|indexed and analyzed|snapshot complete' "$RUN/shardlift.err" | sed 's/^/    /' || true
  echo "  slow statements (>= 200 ms, wall time of each, summed):"
  for n in source "${NODE_NAMES[@]}"; do echo "    $n:"; phases a "$n"; done
  echo "  CPU timeline, cores busy per interval (JVM counts from when the launcher has exec'd java):"
  timeline "$RUN/a-cpu.txt" JVM source nodes
  echo "(b) psql -h 127.0.0.1 -p ${PORT[source]} -d $DB -c \"COPY public.events TO STDOUT (FORMAT binary)\" | psql -h 127.0.0.1 -p ${PORT[rawcopy]} -d $DB -c \"COPY public.events_copy FROM STDIN (FORMAT binary)\""
  echo "(c) $C_CMD    [$C_START .. $C_END]"
  echo "    events on the clone: $C_IDX"
  echo "  slow statements (>= 200 ms, wall time of each, summed):"
  for n in source pgcopydb; do echo "    $n:"; phases c "$n"; done
  echo "  CPU timeline, cores busy per interval (pgcopydb counts its pg_dump/pg_restore children once they exit):"
  timeline "$RUN/c-cpu.txt" pgcopydb source target
  if [[ "$JFR" -eq 1 && -f "$JFR_FILE" ]]; then
    echo
    echo "(a) JFR execution samples of the shardlift JVM, top frames ($JFR_FILE):"
    jfr print --events jdk.ExecutionSample "$JFR_FILE" \
      | awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); c[$0]++; n++ }
             END { for (f in c) printf "    %6d %5.1f%%  %s\n", c[f], 100 * c[f] / n, f }' | sort -rn | head -25
  fi
} | tee "$RESULTS"
say "results saved in $RESULTS; logs under $RUN"
