#!/bin/bash
# Benchmark of `attribd replay`: events/s on one core and LMDB bytes per device.
#
#   bench/replay.sh [BIN] [DEVICES...]      (default: build/attribd, 1000000 20000000)
#
# For each device count, `attribd gen` writes a synthetic stream (per device: ~4 touches, 75% of
# devices attributed, 15% without advertising id, 10% with a retargeting click, an install, ~2
# sessions, ~1 in-app event; 100k journeys interleaved) to a file (~2.1 KB per device: 41 GB
# for 20 M), and `attribd replay` then reads that file, with results to /dev/null and its store
# kept (--state) to measure it. The stream is written first, not piped, so that the generator
# does not run on the machine's other core during the measurement: on these 2-core VMs it
# shares the caches and memory bandwidth with replay and costs replay ~25 % of its speed
# (BENCHMARKS.md, "Replay"). ATD_BENCH_PIPE=1 pipes it instead (also when the disk has no room
# for the file). The events/s figure is replay's own (wall clock of the run, read + parse +
# engine + LMDB + JSON output); user+sys CPU seconds are printed too, as the machine may be
# shared. Without --state, replay does not write its last batch (the temporary store is
# deleted at exit): the column "without the last write" is that run's figure (CPU seconds less
# the last flush's).
# Env: ATD_BENCH_DIR (scratch folder, default /tmp/attribd-bench), ATD_BENCH_KEEP=1 keeps it.
set -euo pipefail
BIN=${1:-build/attribd}
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1000000 20000000)
DIR=${ATD_BENCH_DIR:-/tmp/attribd-bench}
mkdir -p "$DIR"
[ "${ATD_BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$DIR"' EXIT
printf 'apps:\n  com.example.game:\n' >"$DIR/bench.yaml"

echo "| devices | input | events | events/s (wall) | CPU s (user+sys) | events/s per CPU s | the same without the last write | max RSS MB | kv bytes | bytes/device | flush s (wall) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${COUNTS[@]}"; do
  rm -rf "$DIR/state-$n"
  # room for the stream (~2.1 KB per device) and the store (~0.6 KB per device), with 2 GB left
  free_kb=$(df -Pk "$DIR" | awk 'NR == 2 {print $4}')
  if [ "${ATD_BENCH_PIPE:-0}" != 1 ] && [ "$free_kb" -gt $((n * 27 / 10 + 2000000)) ]; then
    echo "generating $n devices into $DIR/stream-$n.ndjson ..." >&2
    "$BIN" gen --devices "$n" --active 100000 >"$DIR/stream-$n.ndjson"
    input="$DIR/stream-$n.ndjson"
  else
    echo "piping the stream of $n devices (ATD_BENCH_PIPE=1 or no room for the file)" >&2
    input=-
  fi
  run_replay() {
    /usr/bin/time -f "%U %S %M" -o "$DIR/time-$n" \
      "$BIN" replay --config "$DIR/bench.yaml" --input "$input" --output /dev/null \
      --state "$DIR/state-$n" 2>"$DIR/replay-$n.err"
  }
  if [ "$input" = - ]; then
    "$BIN" gen --devices "$n" --active 100000 | run_replay
  else
    run_replay
  fi
  rm -f "$DIR/stream-$n.ndjson"
  done_line=$(grep 'done:' "$DIR/replay-$n.err")
  events=$(sed -E 's/.* ([0-9]+) events, .*/\1/' <<<"$done_line")
  rate=$(sed -E 's/.*\(([0-9]+) events\/s\).*/\1/' <<<"$done_line")
  bytes=$(sed -E 's/.* ([0-9]+) bytes;.*/\1/' <<<"$done_line")
  flush=$(sed -E 's/.* flushes in ([0-9.]+) s.*/\1/' <<<"$done_line")
  last=$(sed -E 's/.* the last ([0-9.]+) s\).*/\1/' <<<"$done_line")
  cpu=$(awk '{printf "%.2f", $1 + $2}' "$DIR/time-$n")
  rss=$(awk '{printf "%.0f", $3 / 1024}' "$DIR/time-$n")
  per_cpu=$(awk -v e="$events" -v c="$cpu" 'BEGIN{printf "%.0f", (c > 0) ? e / c : 0}')
  no_last=$(awk -v e="$events" -v c="$cpu" -v l="$last" 'BEGIN{printf "%.0f", (c - l > 0) ? e / (c - l) : 0}')
  echo "| $n | $([ "$input" = - ] && echo pipe || echo file) | $events | $rate | $cpu | $per_cpu | $no_last | $rss | $bytes | $((bytes / n)) | $flush |"
  rm -rf "$DIR/state-$n"
done
