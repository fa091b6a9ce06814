#!/bin/bash
# attribd replay gives the same results whatever its batching: one batch ended by memory (the
# default), many small memory-bounded batches (--cache-mb 1: many flushes into a growing store,
# where LMDB's append path falls back), and fixed event counts (--batch). A synthetic stream of
# `attribd gen` (touches, installs, retargeting, sessions, in-app events over 3,000 devices).
set -u
. "$(dirname "$0")/shell_test_lib.sh"

printf 'apps:\n  com.example.game:\n' >"$T/app.yaml"
"$BIN" gen --devices 3000 --active 500 >"$T/in.ndjson" || { echo "FAIL gen"; exit 1; }
lines=$(wc -l <"$T/in.ndjson")
[ "$lines" -gt 10000 ] && ok "gen wrote $lines events" || bad "gen wrote only $lines events"

run() { # name, extra options
  local name=$1
  shift
  "$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out-$name.ndjson" \
    --state "$T/state-$name" "$@" 2>"$T/err-$name"
  local rc=$?
  [ $rc -eq 0 ] && ok "$name exits 0" || bad "$name exits $rc: $(tail -3 "$T/err-$name")"
}
run default
run small --cache-mb 1
run events --batch 777
run one --batch 1

# without --state: a temporary store, whose last batch is not written; the same results, one
# batch or many (the batches ended by the budget are written: later events read them back)
for v in nostate nostate-small; do
  extra=""; [ $v = nostate-small ] && extra="--cache-mb 1"
  "$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out-$v.ndjson" \
    $extra 2>"$T/err-$v"
  rc=$?
  [ $rc -eq 0 ] && ok "$v exits 0" || bad "$v exits $rc: $(tail -3 "$T/err-$v")"
  cmp -s "$T/out-default.ndjson" "$T/out-$v.ndjson" && ok "$v = default" || bad "$v differs from default"
done

n=$(wc -l <"$T/out-default.ndjson")
[ "$n" -gt 3000 ] && ok "default gave $n results" || bad "default gave only $n results"
for v in small events one; do
  if cmp -s "$T/out-default.ndjson" "$T/out-$v.ndjson"; then ok "$v = default"; else
    bad "$v differs from default"
  fi
done
# the stores hold the same state: a continued run of one more install decides the same
echo '{"type":"install","ts":1893534400000,"app_id":"com.example.game","device_id":"late"}' >"$T/more.ndjson"
for v in default small; do
  "$BIN" replay --config "$T/app.yaml" --input "$T/more.ndjson" --output "$T/more-$v.ndjson" \
    --state "$T/state-$v" 2>/dev/null
done
cmp -s "$T/more-default.ndjson" "$T/more-small.ndjson" && [ -s "$T/more-default.ndjson" ] &&
  ok "continued stores agree" || bad "continued stores disagree"

finish
