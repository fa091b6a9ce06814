#!/usr/bin/env bash
# Ingest benchmark: attribd `POST /v1/events/{app}` (one ~330 B install per request, unique device
# ids, keep-alive, default group-commit fsync, server.threads = 2) against nginx `return 204` under
# the same wrk load, in one run of ROUNDS (3) alternating rounds: which server goes first swaps
# every round, and the round with the median ratio is reported (with every round's ratio; these
# machines are shared, and one pair of runs swings by ±15 %). Prints events/s for both, the
# ratio, p50/p99 latency, checks that
# every 2xx'd event is in the log, the bytes on disk per event, and the server's CPU time per
# request (user + system of its process over the wrk run: a steadier measure than requests/s on
# a machine shared with other work; wrk runs on the same cores, so every µs the server spends is
# one the load generator does not get).
#
#   bench/ingest.sh            # wrk -t2 -c64 -d10s
#   DURATION=30s CONNS=128 ROUNDS=5 bench/ingest.sh
#   bench/ingest.sh --record   # also appends the result row to BENCHMARKS.md
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-2}
RECORD=0
[ "${1:-}" = "--record" ] && RECORD=1

for tool in wrk nginx python3; do
  command -v "$tool" >/dev/null || { echo "ingest.sh: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
if [ ! -x "$BUILD/attribd" ] || [ ! -x "$BUILD/bench/atd_log_count" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j2 --target attribd atd_log_count >/dev/null
fi

TMP=$(mktemp -d /tmp/attribd-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "ingest.sh: nothing listens on port $1" >&2
  return 1
}
# wrk_run URL OUT: the measured run (keep-alive, latency distribution)
wrk_run() {
  local i0 i1
  i0=$(idle_ticks)
  (
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$ROOT/bench/post.lua" "$1" >"$2"
    times >"$2.times" # the subshell's children: wrk's user and system time
  )
  i1=$(idle_ticks)
  echo $((i1 - i0)) >"$2.idle"
}
# idle_ticks: idle + iowait clock ticks of the whole machine (/proc/stat)
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
# cpu_ticks PID...: user + system clock ticks of the processes
cpu_ticks() {
  local s=0 p
  for p in "$@"; do [ -r "/proc/$p/stat" ] && s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$s"
}
requests() { awk '/requests in/ {print $1}' "$1"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1" | grep . || echo 0; }
rps() { awk '/Requests\/sec:/ {print $2}' "$1"; }
pct() { awk -v p="$2%" '$1 == p {print $2}' "$1"; }

LOAD=$(cut -d' ' -f1 /proc/loadavg) # before the runs: the other work on the machine
HZ=$(getconf CLK_TCK)
export ATD_BENCH_PATH=/v1/events/bench.app

# run_attribd R: one wrk run against a fresh attribd (its own data folder); results in $TMP/a$R.*
run_attribd() {
  local r=$1 port pid t0 t1
  port=$(free_port)
  cat >"$TMP/attribd$r.yaml" <<EOF
server:
  listen: "127.0.0.1:$port"
  data_dir: "$TMP/data$r"
  threads: 2
log:
  backend: file
apps:
  bench.app:
    sdk_key: "bench-key"
EOF
  "$BUILD/attribd" serve --role ingest --config "$TMP/attribd$r.yaml" >"$TMP/attribd$r.out" 2>&1 &
  pid=$!
  PIDS=("$pid")
  wait_port "$port"
  t0=$(cpu_ticks "$pid")
  export ATD_BENCH_KEY=bench-key
  wrk_run "http://127.0.0.1:$port" "$TMP/a$r"
  t1=$(cpu_ticks "$pid")
  kill -TERM "$pid"
  wait "$pid" || { echo "ingest.sh: attribd did not stop cleanly" >&2; cat "$TMP/attribd$r.out" >&2; exit 1; }
  PIDS=()
  echo $((t1 - t0)) >"$TMP/a$r.ticks"
}

# run_nginx R: one wrk run against nginx; results in $TMP/n$R.*
run_nginx() {
  local r=$1 port pid workers t0 t1
  port=$(free_port)
  mkdir -p "$TMP/nginx$r"
  sed -e "s|@TMP@|$TMP/nginx$r|g" -e "s|@PORT@|$port|g" bench/nginx.conf.in >"$TMP/nginx$r/nginx.conf"
  nginx -p "$TMP/nginx$r" -c "$TMP/nginx$r/nginx.conf" -g 'daemon off;' &
  pid=$!
  PIDS=("$pid")
  wait_port "$port"
  workers=$(pgrep -P "$pid" | tr '\n' ' ')
  # shellcheck disable=SC2086
  t0=$(cpu_ticks "$pid" $workers)
  export ATD_BENCH_KEY=
  wrk_run "http://127.0.0.1:$port/" "$TMP/n$r"
  # shellcheck disable=SC2086
  t1=$(cpu_ticks "$pid" $workers)
  kill -QUIT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  PIDS=()
  echo $((t1 - t0)) >"$TMP/n$r.ticks"
}

ratio_of() { python3 -c "print(f'{$(rps "$TMP/a$1") / $(rps "$TMP/n$1"):.2f}')"; }

# The rounds alternate which server goes first, so that a drift of the host's speed during the
# run (these machines are shared) falls on both sides alike; the median round is reported.
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    run_attribd "$r"
    run_nginx "$r"
  else
    run_nginx "$r"
    run_attribd "$r"
  fi
  echo "round $r: attribd $(rps "$TMP/a$r") events/s, nginx $(rps "$TMP/n$r") req/s, ratio $(ratio_of "$r")"
done

# --- results -----------------------------------------------------------------------------------
# wrk_us FILE REQS: wrk's CPU µs per request (the second line of `times`: children user, system)
wrk_us() {
  awk -v n="$2" 'NR == 2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] }
    printf "%.1f", t * 1e6 / (n > 0 ? n : 1) }' "$1.times"
}
# idle_pct FILE: the machine's idle share over the run (of all cores)
idle_pct() {
  python3 -c "print(f'{$(cat "$1.idle") / ($HZ * $(nproc) * $(echo "$DURATION" | tr -d s)) * 100:.0f}')"
}
# us_per_req FILE: the server's CPU µs per request over the run
us_per_req() { python3 -c "print(f'{$(cat "$1.ticks") / $HZ * 1e6 / max($(requests "$1"), 1):.1f}')"; }

# Every acknowledged event must be in the log, in every round. wrk stops with requests in flight
# that the server may have logged without wrk counting the answer, so the log may hold up to
# CONNS more.
STATUS=0
for r in $(seq "$ROUNDS"); do
  A_REQ=$(requests "$TMP/a$r")
  A_BAD=$(non2xx "$TMP/a$r")
  A_OK=$((A_REQ - A_BAD))
  RECORDS=$("$BUILD/bench/atd_log_count" "$TMP/data$r/log")
  if [ "$RECORDS" -lt "$A_OK" ]; then
    echo "FAIL: round $r: $A_OK events acknowledged but only $RECORDS in the log" >&2
    STATUS=1
  elif [ "$RECORDS" -gt $((A_OK + CONNS)) ]; then
    echo "FAIL: round $r: $RECORDS records for $A_OK acknowledged events (more than $CONNS in flight)" >&2
    STATUS=1
  fi
  [ "$A_BAD" -eq 0 ] || { echo "FAIL: round $r: attribd answered $A_BAD non-2xx" >&2; STATUS=1; }
done

# the median round by its ratio, and every round's ratio
M=$(for r in $(seq "$ROUNDS"); do echo "$(ratio_of "$r") $r"; done | sort -n | awk -v n="$ROUNDS" 'NR == int(n / 2) + 1 {print $2}')
ALL=$(for r in $(seq "$ROUNDS"); do ratio_of "$r"; done | paste -sd, - | sed 's/,/, /g')
RATIO=$(ratio_of "$M")
A_RPS=$(rps "$TMP/a$M")
N_RPS=$(rps "$TMP/n$M")
A_P50=$(pct "$TMP/a$M" 50)
A_P99=$(pct "$TMP/a$M" 99)
N_P50=$(pct "$TMP/n$M" 50)
N_P99=$(pct "$TMP/n$M" 99)
A_REQ=$(requests "$TMP/a$M")
A_BAD=$(non2xx "$TMP/a$M")
A_OK=$((A_REQ - A_BAD))
N_REQ=$(requests "$TMP/n$M")
RECORDS=$("$BUILD/bench/atd_log_count" "$TMP/data$M/log")
BYTES=$(du -sb "$TMP/data$M/log" | awk '{print $1}')
PER_EVENT=$(python3 -c "print(f'{$BYTES / max($RECORDS, 1):.0f}')")
A_US=$(us_per_req "$TMP/a$M")
N_US=$(us_per_req "$TMP/n$M")
A_WRK=$(wrk_us "$TMP/a$M" "$A_REQ")
N_WRK=$(wrk_us "$TMP/n$M" "$N_REQ")
A_IDLE=$(idle_pct "$TMP/a$M")
N_IDLE=$(idle_pct "$TMP/n$M")
CPU=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)

echo "median round: $M of $ROUNDS (ratios by round: $ALL)"
echo "attribd: $A_RPS events/s (p50 $A_P50, p99 $A_P99), $A_OK acknowledged, $A_BAD non-2xx, $A_US µs CPU/request"
echo "nginx:   $N_RPS req/s    (p50 $N_P50, p99 $N_P99), $N_US µs CPU/request"
echo "wrk CPU/request: $A_WRK µs against attribd, $N_WRK µs against nginx; machine idle $A_IDLE % / $N_IDLE %"
echo "ratio attribd/nginx: $RATIO"
echo "log: $RECORDS records, $BYTES bytes on disk, $PER_EVENT bytes/event"
[ "$STATUS" = 0 ] && echo "check: every acknowledged event is in the log, in every round"

ROW="| $(date -u +%Y-%m-%d) | \`bench/ingest.sh\` (wrk -t$WRK_THREADS -c$CONNS -d$DURATION; median of $ROUNDS alternating rounds: $ALL) | $(nproc) × $CPU | attribd $A_RPS ev/s (p50 $A_P50, p99 $A_P99, $A_US µs CPU/req); nginx $N_RPS req/s (p50 $N_P50, p99 $N_P99, $N_US µs CPU/req); $PER_EVENT B/event on disk; load $LOAD | $RATIO |"
echo "$ROW"
# the row goes at the end of the Ingest table (above its marker line)
MARK='<!-- bench/ingest.sh --record adds its rows above this line -->'
if [ "$RECORD" = 1 ] && [ "$STATUS" = 0 ]; then
  if grep -qF "$MARK" BENCHMARKS.md; then
    ROW="$ROW" MARK="$MARK" python3 -c '
import os
p = "BENCHMARKS.md"
s = open(p).read()
m = os.environ["MARK"]
open(p, "w").write(s.replace(m, os.environ["ROW"] + "\n" + m, 1))'
  else
    echo "$ROW" >>BENCHMARKS.md
  fi
fi
exit $STATUS
