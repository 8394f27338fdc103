# bench/lib/servers.sh — the PostgreSQL 15 servers of the benchmarks, sourced by bench/snapshot.sh and bench/cdc.sh so
# that both start, configure and stop them the same way (their figures are compared with each other).
#
# The caller defines say (its own prefix) before sourcing; this file sets REPO and BENCH and defines die. bench_option parses the options both scripts take
# (FSYNC, JAR, JFR, KEEP). Before starting servers it sets RUN (this run's directory), DB (the database created on
# every server), BENCH_NAME (the script, named in the settings it writes) and optionally PG_EXTRA_CONF (settings
# lines every server gets on top of the shared ones); PGBIN may come from the environment.
#
# Every server: initdb + pg_ctl under $RUN/pg/NAME (as the postgres user when run as root), on a free port from the
# one given, listening on 127.0.0.1 only, trust authentication, identical settings. What this file starts it records
# in STARTED, and stop_servers stops exactly those, by their data directory's postmaster.pid (pg_ctl).

die() { echo "bench: error: $*" >&2; exit 1; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$REPO/bench"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
SCHEMA_SQL="$REPO/embedded/src/main/resources/datasets/sensors_schema.sql"
declare -a STARTED=()   # data directories of the servers this run started
declare -A PORT=()      # server name -> port
declare -A TAKEN=()     # ports handed out by free_port in this run

if [[ "$(id -u)" -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user (initdb refuses root)"
  as_pg() { runuser -u postgres -- "$@"; }
  PG_OWNER=postgres
else
  as_pg() { "$@"; }
  PG_OWNER="$(id -un)"
fi

# bench_parse OPTIONS ARG...: the command line (kept in ARGS). OPTIONS are the script's own options, each with a value,
# and the variable each sets ("--events=EVENTS --jobs=JOBS"); bench_option takes the shared ones; -h/--help prints
# the script's usage and exits
bench_parse() {
  local own=" $1 " var; shift
  ARGS=("$@")
  while [[ $# -gt 0 ]]; do
    case "$1" in -h|--help) usage; exit 0 ;; esac
    if [[ "$1" == --* && "$own" == *" $1="* ]]; then
      var=${own#*" $1="}; var=${var%%[[:space:]]*}
      takes_value "$@"
      printf -v "$var" '%s' "$2"
    else
      bench_option "$@" || { usage >&2; die "unknown argument: $1"; }
    fi
    shift "$BENCH_SHIFT"
  done
}

# takes_value ARG...: for an option with a value: dies when the value is missing, else BENCH_SHIFT=2
takes_value() {
  [[ $# -ge 2 ]] || die "$1 needs a value"
  BENCH_SHIFT=2
}

# bench_option ARG...: the options both benchmarks take (--fsync on|off, --jar FILE, --jfr, --keep): sets FSYNC, JAR,
# JFR or KEEP from the first and BENCH_SHIFT to the words it took; fails when the first is none of them
bench_option() {
  case "$1" in
    --fsync) takes_value "$@"; FSYNC="$2"
      [[ "$FSYNC" == on || "$FSYNC" == off ]] || die "--fsync must be on or off, not '$FSYNC'" ;;
    --jar) takes_value "$@"; JAR="$2" ;;
    --jfr) JFR=1; BENCH_SHIFT=1 ;;
    --keep) KEEP=1; BENCH_SHIFT=1 ;;
    *) return 1 ;;
  esac
}

# bench_options_help: the usage lines of the options bench_option takes (and of --help), for each script's usage
bench_options_help() {
  cat <<'EOF'
  --fsync on|off    fsync of every server (default on)
  --jar FILE        run this shardlift jar with java instead of the ./shardlift launcher (when the tree does not build)
  --keep            leave the servers running at the end (stop them with the pg_ctl lines printed)
  -h, --help        this help
EOF
}

# command_line SCRIPT ARG...: how this run was started, as the results show it
command_line() {
  local c="$1${2+ ${*:2}}"
  [[ -z "${SHARDLIFT_JAVA_OPTS:-}" ]] || c="SHARDLIFT_JAVA_OPTS='$SHARDLIFT_JAVA_OPTS' $c"
  echo "$c"
}

# bench_require PROGRAM...: PostgreSQL 15 (initdb, pg_ctl, psql and the PROGRAMs of its bin directory), java, ss, the
# fixture schema and a --jar that exists (made absolute: the programs run from the repository's root)
bench_require() {
  local b
  for b in initdb pg_ctl psql "$@"; do
    [[ -x "$PGBIN/$b" ]] || die "PostgreSQL 15's $b not found in $PGBIN (apt-get install -y postgresql-15, or set PGBIN)"
  done
  "$PGBIN/postgres" --version | grep -q ' 15\.' || die "$PGBIN/postgres is not PostgreSQL 15: $("$PGBIN/postgres" --version)"
  command -v java >/dev/null || die "java not found (Java 17 is needed for shardlift)"
  command -v ss >/dev/null || die "ss not found (apt-get install -y iproute2)"
  [[ -f "$SCHEMA_SQL" ]] || die "the fixture schema $SCHEMA_SQL is missing"
  [[ -z "$JAR" || -f "$JAR" ]] || die "--jar $JAR: no such file"
  [[ -z "$JAR" ]] || JAR="$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")"
  unset PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS
}

# wipe_runs PREFIX: removes the directories PREFIX* of earlier runs (stopping any server one left running), then
# creates this run's $RUN/pg and $RUN/sock
wipe_runs() {
  local old d
  for old in "$1"*; do
    [[ -d "$old" ]] || continue
    for d in "$old"/pg/*/; do
      if [[ -f "$d/postmaster.pid" ]]; then
        say "stopping a server left over by an earlier run: $d"
        as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
      fi
    done
    rm -rf "$old"
  done
  mkdir -p "$RUN/pg" "$RUN/sock"
  chown "$PG_OWNER" "$RUN/pg" "$RUN/sock"
}

# shardlift_program DEFAULT_JAVA_OPTS: SHARDLIFT=(the command that runs shardlift), built before anything is timed
shardlift_program() {
  if [[ -n "$JAR" ]]; then
    # shellcheck disable=SC2206 # the options are words
    SHARDLIFT=(java ${SHARDLIFT_JAVA_OPTS:-$1} -jar "$JAR")
  else
    say "checking that ./shardlift runs (the launcher builds ops/target/shardlift.jar if sources changed) ..."
    (cd "$REPO" && ./shardlift --version >"$RUN/launcher-build.log" 2>&1) || {
      tail -30 "$RUN/launcher-build.log" >&2
      die "./shardlift could not build or run (above); fix the build, or pass --jar FILE with a built shardlift.jar"
    }
    SHARDLIFT=(./shardlift)
  fi
}

free_port() {
  local p=$1
  while [[ -n "${TAKEN[$p]:-}" ]] || [[ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]]; do p=$((p + 1)); done
  TAKEN[$p]=1
  echo "$p"
}

# start_server NAME PORT: initdb + identical settings + pg_ctl start
start_server() {
  local name=$1 port=$2 dir="$RUN/pg/$1"
  as_pg "$PGBIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$RUN/pg/$name.initdb.log" 2>&1 \
    || { cat "$RUN/pg/$name.initdb.log" >&2; die "initdb of $name failed"; }
  cat >>"$dir/postgresql.conf" <<EOF

# $BENCH_NAME: identical on every server of the benchmark (bench/lib/servers.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$RUN/sock'
max_connections = 100
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
shared_buffers = 128MB
synchronous_commit = on
fsync = $FSYNC
log_line_prefix = '%m [%p] %q%a '
log_min_duration_statement = 200ms
log_checkpoints = on
${PG_EXTRA_CONF:-}
EOF
  cat >"$dir/pg_hba.conf" <<EOF
# $BENCH_NAME: the postgres user over TCP on 127.0.0.1 (and the local socket), trust
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
EOF
  STARTED+=("$dir")
  as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$RUN/pg/$name.log" -w -t 60 -o "-p $port" start >/dev/null \
    || { tail -20 "$RUN/pg/$name.log" >&2 || true; die "server $name did not start on port $port"; }
}

# start_servers FIRST_PORT NAME...: a server for each NAME on free ports from FIRST_PORT (PORT[NAME]), each with $DB
start_servers() {
  local next=$1 n; shift
  for n in "$@"; do
    PORT[$n]=$(free_port "$next")
    next=$((PORT[$n] + 1))
    start_server "$n" "${PORT[$n]}"
    psql_at "${PORT[$n]}" -d postgres -c "CREATE DATABASE $DB"
  done
  say "ports: $(for n in "$@"; do printf '%s=%s ' "$n" "${PORT[$n]}"; done)"
}

# stop_server NAME: a server whose run is measured stops before the next run, so its autovacuum cannot steal CPU
stop_server() {
  [[ "$KEEP" -eq 0 ]] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$RUN/pg/$1" -m fast -w -t 60 stop >/dev/null
}

# stop_servers: every server this run started and has not stopped yet (with --keep: says how to stop them)
stop_servers() {
  local d
  if [[ "$KEEP" -eq 1 ]]; then
    for d in "${STARTED[@]}"; do [[ ! -f "$d/postmaster.pid" ]] || say "left running: $PGBIN/pg_ctl -D $d stop"; done
    return 0
  fi
  for d in "${STARTED[@]}"; do
    [[ -f "$d/postmaster.pid" ]] || continue
    as_pg "$PGBIN/pg_ctl" -D "$d" -m fast -w -t 60 stop >/dev/null 2>&1 \
      || as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
  done
  [[ ${#STARTED[@]} -eq 0 ]] || say "stopped the servers of this run"
}

# checkpoint_servers: a CHECKPOINT on every server still running, so that no measured run pays for an earlier one's
checkpoint_servers() {
  local n
  for n in "${!PORT[@]}"; do [[ ! -f "$RUN/pg/$n/postmaster.pid" ]] || psql_at "${PORT[$n]}" -d postgres -c CHECKPOINT; done
}

psql_at() { # psql_at PORT [psql args...]: as postgres over TCP on 127.0.0.1
  local port=$1; shift
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# sensors_spec JOBS WIDEN KAFKA NODE...: the spec (on stdout) migrating seed 000's sensor schema in $DB from the server
# "source" to the servers NODE..., as the tests lay it out (bench runs and tests are compared); WIDEN is
# ", widen_unique: true" or empty, KAFKA kafka.bootstrap or empty (none: snapshot only)
sensors_spec() {
  local jobs=$1 widen=$2 kafka=$3 n; shift 3
  cat <<EOF
version: "1.0"
migrate:
  connstr: "host=127.0.0.1 port=${PORT[source]} dbname=$DB user=postgres"
  jobs: $jobs
  schemas:
    - name: public
      tables:
        - {name: device_types, type: global, priority: 3}
        - {name: devices, type: sharded, distributedby: device_id, partitions: 8, priority: 2}
        - {name: events, type: sharded, distributedby: device_id, colocatewith: devices$widen, priority: 1}
cluster:
  nodes:
EOF
  for n in "$@"; do echo "    - \"host=127.0.0.1 port=${PORT[$n]} dbname=$DB user=postgres\""; done
  [[ -z "$kafka" ]] || printf 'kafka:\n  bootstrap: %s\n' "$kafka"
}

HZ=$(getconf CLK_TCK)
# cpu_snapshot ROOTS...: one line "epoch machine_busy iowait cpu(root group 1) cpu(root group 2) ...", CPU in
# seconds since boot (machine) or since start (trees). A root group is a comma-separated list of PIDs; a
# process belongs to the group of its nearest ancestor (or itself) that is a root. A tree's CPU is the sum
# over its live processes of their own and their reaped children's user+system time (a postmaster reaps its
# backends, the scripts reap what they start).
cpu_snapshot() {
  { cat /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v hz="$HZ" -v t="$(now)" -v roots="$*" '
    /^cpu / { busy = ($2 + $3 + $4 + $7 + $8 + $9) / hz; iow = $6 / hz; next }
    /^[0-9]+ \(/ { p = $1; sub(/^.*\) /, ""); ppid[p] = $2; cpu[p] = ($12 + $13 + $14 + $15) / hz }
    END {
      ng = split(roots, grp, " ")
      for (i = 1; i <= ng; i++) { nr = split(grp[i], rs, ","); for (j = 1; j <= nr; j++) rootof[rs[j]] = i }
      for (p in cpu) { q = p; d = 0
        while (q != "" && q > 1 && !(q in rootof) && d < 64) { q = ppid[q]; d++ }
        if (q in rootof) sum[rootof[q]] += cpu[p] }
      printf "%.3f %.2f %.2f", t, busy, iow; for (i = 1; i <= ng; i++) printf " %.2f", sum[i]; printf "\n" }'
}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
