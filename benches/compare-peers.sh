#!/usr/bin/env bash
# compare-peers.sh — perfdiag logs vs pt-query-digest and pgBadger on real server logs.
#
# Usage:
#   benches/compare-peers.sh [--size-mb N] [--mysql-log FILE] [--pg-log FILE]
#                            [--perfdiag BIN] [--pg-prefix PREFIX] [--keep-logs DIR]
#                            [--only mysql|pg] [--runs N]
#
#   --size-mb N       size of each generated log, in MB (10^6 bytes); default 450
#   --mysql-log FILE  use this MySQL/MariaDB slow log instead of generating one
#   --pg-log FILE     use this PostgreSQL stderr log instead of generating one
#                     (its log_line_prefix must be --pg-prefix)
#   --pg-prefix P     log_line_prefix of the PostgreSQL log; default
#                     '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '
#   --perfdiag BIN    perfdiag release binary; default $CARGO_TARGET_DIR/release/perfdiag
#                     or target/release/perfdiag
#   --keep-logs DIR   copy the generated logs (and the tools' outputs) to DIR
#   --only KIND       run only the mysql or the pg half
#   --runs N          timed runs of perfdiag and cat (median reported); default 3
#   --generate-only   only generate the logs (needs --keep-logs DIR); measure them
#                     later with --mysql-log DIR/mysql-slow.log --pg-log DIR/postgresql.log
#
# What it does (must run as root, on a Debian 12 machine):
#   1. apt-get installs percona-toolkit, pgbadger and sysbench if missing.
#   2. MySQL log: a throwaway MariaDB (mariadb-install-db into a temp dir,
#      long_query_time=0) loaded by sysbench oltp_read_write with 2 threads (or, if
#      sysbench is not installable, a loop of varied SQL through the mariadb client),
#      until the slow log reaches --size-mb.
#   3. PostgreSQL log: a throwaway PostgreSQL 15 (initdb as the postgres user,
#      log_min_duration_statement=0, logging_collector=off, stderr to a file) loaded by
#      pgbench -c 2 -j 2 with custom scripts (multi-line statements, quoted strings,
#      IN lists of several lengths, bind parameters), half with -M prepared, half with
#      -M simple, until the log reaches --size-mb.
#   4. On each log, under /usr/bin/time -v: the I/O floor (cat FILE > /dev/null, page
#      cache warm), perfdiag logs -q, and pt-query-digest (MySQL) or pgBadger -j 1 and
#      -j 2 (PostgreSQL); prints seconds, MB/s, peak RSS and perfdiag's speed ratios,
#      and the event counts each tool reports.
# Servers listen on 127.0.0.1 and a socket in the temp dir only; everything is
# stopped and removed on exit.
set -euo pipefail

SIZE_MB=450
MYSQL_LOG=""
PG_LOG=""
PG_PREFIX='%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '
PERFDIAG=""
KEEP=""
ONLY=""
RUNS=3
GEN_ONLY=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB="$2"; shift 2 ;;
    --mysql-log) MYSQL_LOG="$(realpath "$2")"; shift 2 ;;
    --pg-log) PG_LOG="$(realpath "$2")"; shift 2 ;;
    --pg-prefix) PG_PREFIX="$2"; shift 2 ;;
    --perfdiag) PERFDIAG="$2"; shift 2 ;;
    --keep-logs) KEEP="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --generate-only) GEN_ONLY=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done

[[ $EUID -eq 0 ]] || { echo "run as root (apt-get, throwaway servers)" >&2; exit 2; }
HERE="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "$PERFDIAG" ]]; then
  if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then PERFDIAG="$CARGO_TARGET_DIR/release/perfdiag"
  else PERFDIAG="$HERE/target/release/perfdiag"; fi
fi
if [[ -n "$GEN_ONLY" ]]; then
  [[ -n "$KEEP" ]] || { echo "--generate-only needs --keep-logs DIR" >&2; exit 2; }
elif ! "$PERFDIAG" logs --help >/dev/null 2>&1; then
  echo "no usable perfdiag at $PERFDIAG (needs the logs subcommand; build with cargo build --release -p perfdiag)" >&2
  exit 2
fi
TARGET_BYTES=$(( SIZE_MB * 1000000 ))

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------- packages
need_pkgs=()
command -v pt-query-digest >/dev/null || need_pkgs+=(percona-toolkit)
command -v pgbadger >/dev/null || need_pkgs+=(pgbadger)
command -v sysbench >/dev/null || need_pkgs+=(sysbench)
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
if [[ -z "$MYSQL_LOG" && "$ONLY" != pg ]]; then
  command -v mariadbd >/dev/null || need_pkgs+=(mariadb-server mariadb-client)
fi
if [[ -z "$PG_LOG" && "$ONLY" != mysql ]]; then
  [[ -x /usr/lib/postgresql/15/bin/initdb ]] || need_pkgs+=(postgresql-15)
  command -v pgbench >/dev/null || need_pkgs+=(postgresql-contrib)
fi
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  log "installing ${need_pkgs[*]}"
  apt-get update -qq
  for p in "${need_pkgs[@]}"; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null \
      || log "could not install $p"
  done
fi
command -v pt-query-digest >/dev/null && command -v pgbadger >/dev/null \
  || { echo "pt-query-digest and pgbadger are required" >&2; exit 2; }

# ---------------------------------------------------------------- temp dir, cleanup
WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/compare-peers.XXXXXX")"
chmod 755 "$WORK"
MY_PIDFILE="$WORK/mysql/mariadbd.pid"
PG_DATA="$WORK/pg/data"
LOADPIDS=()
keep_logs() {
  [[ -n "$KEEP" && -z "${KEPT:-}" ]] || return 0
  KEPT=1
  mkdir -p "$KEEP"
  if [[ "$MYSQL_LOG" == "$WORK"/* && -f "$MYSQL_LOG" ]]; then cp "$MYSQL_LOG" "$KEEP/mysql-slow.log"; fi
  if [[ "$PG_LOG" == "$WORK"/* && -f "$PG_LOG" ]]; then cp "$PG_LOG" "$KEEP/postgresql.log"; fi
  if [[ -d "$WORK/out" ]]; then rm -rf "$KEEP/out"; cp -r "$WORK/out" "$KEEP/out"; fi
  log "kept logs and outputs in $KEEP"
}
cleanup() {
  set +e
  keep_logs
  for p in "${LOADPIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [[ -f "$MY_PIDFILE" ]]; then
    kill "$(cat "$MY_PIDFILE")" 2>/dev/null
    for _ in $(seq 60); do [[ -f "$MY_PIDFILE" ]] || break; sleep 0.5; done
  fi
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1
  fi
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 20000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
fsize() { stat -c %s "$1"; }

# ---------------------------------------------------------------- MariaDB slow log
gen_mysql() {
  local d="$WORK/mysql" port sock
  mkdir -p "$d"
  port=$(free_port); sock="$d/mysql.sock"
  MYSQL_LOG="$d/slow.log"
  log "MariaDB: install-db into $d/data"
  mariadb-install-db --no-defaults --datadir="$d/data" --user=root \
    --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1
  mariadbd --no-defaults --datadir="$d/data" --socket="$sock" --port="$port" \
    --bind-address=127.0.0.1 --user=root --pid-file="$MY_PIDFILE" \
    --log-error="$d/error.log" --skip-log-bin --innodb-buffer-pool-size=256M \
    --innodb-flush-log-at-trx-commit=0 --max-connections=50 \
    --slow-query-log=1 --long-query-time=0 --slow-query-log-file="$MYSQL_LOG" &
  for _ in $(seq 120); do mariadb-admin --socket="$sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.5; done
  mariadb --socket="$sock" -uroot -e 'CREATE DATABASE sbtest'
  if command -v sysbench >/dev/null; then
    local sb=(sysbench oltp_read_write --db-driver=mysql --mysql-socket="$sock"
              --mysql-user=root --mysql-db=sbtest --tables=4 --table-size=20000)
    log "MariaDB: sysbench prepare"
    "${sb[@]}" prepare >/dev/null
    log "MariaDB: sysbench oltp_read_write --threads=2 until the log reaches $SIZE_MB MB"
    while (( $(fsize "$MYSQL_LOG") < TARGET_BYTES )); do
      "${sb[@]}" --threads=2 --time=10 --report-interval=0 run >/dev/null
    done
  else
    log "MariaDB: no sysbench; varied SQL through 2 mariadb clients"
    mariadb --socket="$sock" -uroot sbtest -e "CREATE TABLE t (id INT PRIMARY KEY,
      name VARCHAR(64), k INT, note TEXT, KEY(k)) ENGINE=InnoDB"
    local c
    for c in 1 2; do
      ( while (( $(fsize "$MYSQL_LOG") < TARGET_BYTES )); do
          awk -v seed="$RANDOM$c" 'BEGIN { srand(seed);
            for (i = 0; i < 2000; i++) {
              id = int(rand() * 100000); k = int(rand() * 1000); n = 1 + int(rand() * 12);
              printf "REPLACE INTO t (id, name, k, note)\n  VALUES (%d, '\''user-%d'\'', %d, '\''it'\''\'\''s \"quoted\" %d'\'');\n", id, id, k, k;
              printf "SELECT id, name\n  FROM t\n WHERE id IN (%d", id;
              for (j = 1; j < n; j++) printf ", %d", int(rand() * 100000);
              printf ")\n ORDER BY name;\n";
              printf "SELECT COUNT(*) FROM t WHERE k BETWEEN %d AND %d AND name LIKE '\''user-%d%%'\'';\n", k, k + 10, k;
              printf "UPDATE t SET k = k + 1 WHERE id = %d;\n", id;
            } }' | mariadb --socket="$sock" -uroot sbtest
        done ) &
      LOADPIDS+=($!)
    done
    wait "${LOADPIDS[@]}"; LOADPIDS=()
  fi
  kill "$(cat "$MY_PIDFILE")"
  for _ in $(seq 120); do [[ -f "$MY_PIDFILE" ]] || break; sleep 0.5; done
  log "MariaDB: slow log $(( $(fsize "$MYSQL_LOG") / 1000000 )) MB"
}

# ---------------------------------------------------------------- PostgreSQL log
write_pgbench_scripts() {
  local s="$1"
  cat >"$s/multiline.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
SELECT a.aid, a.abalance, b.bbalance
  FROM pgbench_accounts a
  JOIN pgbench_branches b ON b.bid = a.bid
 WHERE a.aid = :aid
   AND a.filler <> 'it''s a -- quoted string';
EOF
  cat >"$s/in3.sql" <<'EOF'
\set a1 random(1, 100000 * :scale)
\set a2 random(1, 100000 * :scale)
\set a3 random(1, 100000 * :scale)
SELECT aid, abalance FROM pgbench_accounts WHERE aid IN (:a1, :a2, :a3) ORDER BY aid;
EOF
  cat >"$s/in8.sql" <<'EOF'
\set a1 random(1, 100000 * :scale)
SELECT aid, bid,
       abalance
  FROM pgbench_accounts
 WHERE aid IN (:a1, :a1 + 1, :a1 + 2, :a1 + 3, :a1 + 4, :a1 + 5, :a1 + 6, :a1 + 7)
   AND filler LIKE '%'
 ORDER BY abalance DESC
 LIMIT 5;
EOF
  cat >"$s/history.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
\set bid random(1, :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts
   SET abalance = abalance + :delta
 WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)
VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
SELECT count(*), 'recent' AS label FROM pgbench_history
 WHERE tid = :tid AND mtime > now() - interval '5 minutes';
END;
EOF
}

gen_pg() {
  local d="$WORK/pg" port bin=/usr/lib/postgresql/15/bin
  mkdir -p "$d/run" "$d/scripts"
  chown -R postgres: "$d"
  port=$(free_port)
  PG_LOG="$d/postgresql.log"
  log "PostgreSQL: initdb into $PG_DATA"
  runuser -u postgres -- "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
    --locale=C --no-sync >"$d/initdb.log" 2>&1
  cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$d/run'
logging_collector = off
log_destination = 'stderr'
log_min_duration_statement = 0
log_line_prefix = '${PG_PREFIX//\'/\'\'}'
lc_messages = 'C'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
EOF
  touch "$PG_LOG"; chown postgres: "$PG_LOG"
  runuser -u postgres -- "$bin/postgres" -D "$PG_DATA" 2>>"$PG_LOG" &
  for _ in $(seq 120); do runuser -u postgres -- "$bin/pg_isready" -q -h "$d/run" -p "$port" && break; sleep 0.5; done
  runuser -u postgres -- "$bin/createdb" -h "$d/run" -p "$port" bench
  write_pgbench_scripts "$d/scripts"
  chown -R postgres: "$d/scripts"
  local pgb=(runuser -u postgres -- pgbench -h "$d/run" -p "$port" -n bench)
  log "PostgreSQL: pgbench -i -s 10"
  runuser -u postgres -- pgbench -h "$d/run" -p "$port" -i -q -s 10 bench >/dev/null 2>&1
  local mode
  for mode in prepared simple; do
    local until=$TARGET_BYTES
    if [[ $mode == prepared ]]; then until=$(( TARGET_BYTES / 2 )); fi
    log "PostgreSQL: pgbench -M $mode -c 2 -j 2 until the log reaches $(( until / 1000000 )) MB"
    while (( $(fsize "$PG_LOG") < until )); do
      "${pgb[@]}" -M "$mode" -c 2 -j 2 -T 10 \
        -f "$d/scripts/multiline.sql@3" -f "$d/scripts/in3.sql@2" -f "$d/scripts/in8.sql@1" \
        -f "$d/scripts/history.sql@2" -b tpcb-like@2 >/dev/null 2>&1
    done
  done
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  log "PostgreSQL: log $(( $(fsize "$PG_LOG") / 1000000 )) MB"
}

# ---------------------------------------------------------------- measuring
RESULTS="$WORK/results.tsv"   # kind tool seconds MBps rssMB
: >"$RESULTS"
OUT="$WORK/out"; mkdir -p "$OUT"

load_now() { cut -d' ' -f1-3 /proc/loadavg; }

# timed KIND TOOL LOGFILE CMD...  → appends a row; stdout of CMD to $OUT/TOOL.KIND.out
timed() {
  local kind="$1" tool="$2" file="$3"; shift 3
  local tv="$OUT/$tool.$kind.time" t0 t1 secs rss bytes
  bytes=$(fsize "$file")
  log "$kind: $tool (load before: $(load_now))"
  t0=$(date +%s%N)
  if ! /usr/bin/time -v -o "$tv" "$@" >"$OUT/$tool.$kind.out" 2>"$OUT/$tool.$kind.err"; then
    log "$kind: $tool failed: $*"; tail -5 "$OUT/$tool.$kind.err" >&2; exit 1
  fi
  t1=$(date +%s%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  rss=$(awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tv")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$tool" "$secs" \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')" "$rss" "$(load_now)" >>"$RESULTS"
}

# median of RUNS timed runs (for the fast ones: cat, perfdiag)
timed_median() {
  local kind="$1" tool="$2" i
  for i in $(seq "$RUNS"); do timed "$kind" "$tool#$i" "${@:3}"; done
  awk -F'\t' -v k="$kind" -v t="$tool" '$1 == k && index($2, t "#") == 1' "$RESULTS" \
    | sort -t$'\t' -k3,3n | awk -v n="$RUNS" 'NR == int((n + 1) / 2)' \
    | awk -F'\t' -v OFS='\t' -v t="$tool" '{ $2 = t; print }' >>"$RESULTS"
  cp "$OUT/$tool#1.$kind.out" "$OUT/$tool.$kind.out"
}

measure_mysql() {
  local f="$MYSQL_LOG"
  cat "$f" >/dev/null; cat "$f" >/dev/null   # warm the page cache
  timed_median mysql cat "$f" cat "$f"
  timed_median mysql perfdiag "$f" "$PERFDIAG" logs -q --format mysql-slow "$f"
  timed mysql pt-query-digest "$f" pt-query-digest --limit 100%:100000 "$f"
}

measure_pg() {
  local f="$PG_LOG"
  cat "$f" >/dev/null; cat "$f" >/dev/null
  timed_median pg cat "$f" cat "$f"
  timed_median pg perfdiag "$f" "$PERFDIAG" logs -q --format pg-stderr --prefix "$PG_PREFIX" "$f"
  timed pg pgbadger-j1 "$f" pgbadger -j 1 -f stderr -p "$PG_PREFIX" -x text -o - "$f"
  timed pg pgbadger-j2 "$f" pgbadger -j 2 -f stderr -p "$PG_PREFIX" -x text -o - "$f"
}

row() { awk -F'\t' -v k="$1" -v t="$2" -v c="$3" '$1 == k && $2 == t { print $c }' "$RESULTS"; }

report() {
  local kind="$1" file="$2" peers=("${@:3}") p tool
  echo
  echo "== $kind: $file ($(( $(fsize "$file") / 1000000 )) MB, $(wc -l <"$file") lines)"
  printf '%-18s %9s %10s %13s %14s   %s\n' tool seconds 'MB/s' 'peak RSS MiB' 'perfdiag is' 'load (1/5/15 min) after'
  for tool in cat perfdiag "${peers[@]}"; do
    local ratio='-'
    if [[ $tool != perfdiag && $tool != cat ]]; then
      ratio=$(awk -v a="$(row "$kind" perfdiag 4)" -v b="$(row "$kind" "$tool" 4)" 'BEGIN { printf "%.1fx faster", a / b }')
    elif [[ $tool == cat ]]; then
      ratio=$(awk -v a="$(row "$kind" perfdiag 4)" -v b="$(row "$kind" cat 4)" 'BEGIN { printf "%.2fx of cat", a / b }')
    fi
    printf '%-18s %9s %10s %13s %14s   %s\n' "$tool" "$(row "$kind" "$tool" 3)" \
      "$(row "$kind" "$tool" 4)" "$(row "$kind" "$tool" 5)" "$ratio" "$(row "$kind" "$tool" 6)"
  done
  echo "-- event counts"
  echo "perfdiag:        $(grep -m1 -E '^# [0-9]+ events' "$OUT/perfdiag.$kind.out")"
  if [[ $kind == mysql ]]; then
    echo "pt-query-digest: $(grep -m1 '# Overall:' "$OUT/pt-query-digest.$kind.out")"
    echo "pt-query-digest: sum of the profile's Calls column = $(awk '
      /^# Profile/ { p = 1; next } p && /^# +[0-9]+ 0x/ { s += $6 } p && /^$/ { p = 0 } END { print s + 0 }' \
      "$OUT/pt-query-digest.$kind.out"), classes = $(awk '
      /^# Profile/ { p = 1; next } p && /^# +[0-9]+ 0x/ { n++ } p && /^$/ { p = 0 } END { print n + 0 }' \
      "$OUT/pt-query-digest.$kind.out")"
  else
    for p in pgbadger-j1 pgbadger-j2; do
      echo "$p:     $(grep -m1 -E '^Number of queries:' "$OUT/$p.$kind.out" || true); $(grep -m1 -E '^Number of unique normalized queries:' "$OUT/$p.$kind.out" || true)"
    done
  fi
}

# ---------------------------------------------------------------- main
log "machine: $(nproc) cores, load $(load_now); work dir $WORK"
log "perfdiag: $PERFDIAG"
if [[ "$ONLY" != pg ]]; then
  [[ -n "$MYSQL_LOG" ]] || gen_mysql
  [[ -n "$GEN_ONLY" ]] || measure_mysql
fi
if [[ "$ONLY" != mysql ]]; then
  [[ -n "$PG_LOG" ]] || gen_pg
  [[ -n "$GEN_ONLY" ]] || measure_pg
fi
if [[ -n "$GEN_ONLY" ]]; then keep_logs; exit 0; fi

{
  echo "perfdiag compare-peers  $(date -u +%FT%TZ)  $(nproc) cores  $(uname -r)"
  echo "pt-query-digest $(pt-query-digest --version 2>/dev/null | awk '{print $NF}'), pgBadger $(pgbadger --version 2>/dev/null | awk '{print $NF}'), perfdiag $PERFDIAG"
  echo "MB = 10^6 bytes; seconds are wall time ($RUNS-run median for cat and perfdiag); peak RSS (MiB) from /usr/bin/time -v"
  echo "(for pgbadger -j 2 that is the largest single process, not the sum)"
  [[ "$ONLY" == pg ]] || report mysql "$MYSQL_LOG" pt-query-digest
  [[ "$ONLY" == mysql ]] || report pg "$PG_LOG" pgbadger-j1 pgbadger-j2
} | tee "$OUT/summary.txt"

keep_logs
