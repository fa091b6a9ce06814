#!/usr/bin/env bash
# Replays one attribution scenario and checks its results (registered by tests/CMakeLists.txt).
#
#   run-scenario.sh NAME      (env: ATD_BIN = the attribd binary, ATD_SRC = the source root)
#
# Input NAME.in.ndjson, config NAME.yaml (else default.yaml), expected NAME.out.ndjson (derived
# by hand from ATTRIBUTION.md, see tests/reference/scenario_book.py), expected exit status
# NAME.exit (else 0). Both `attribd replay` and the independent reference implementation
# (tests/reference/attribution_ref.py) must produce exactly the expected results.
set -euo pipefail

name=${1:?usage: run-scenario.sh NAME}
src=${ATD_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$src/tests/scenarios
ref=$src/tests/reference
in=$dir/$name.in.ndjson
want=$dir/$name.out.ndjson
cfg=$dir/$name.yaml
[ -f "$cfg" ] || cfg=$dir/default.yaml
want_rc=0
[ -f "$dir/$name.exit" ] && want_rc=$(tr -d ' \n' < "$dir/$name.exit")
for f in "$in" "$want" "$cfg"; do
  [ -f "$f" ] || { echo "FAIL $name: missing $f"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# check LABEL RC OUT ERR: exit status and results against the expected ones
check() {
  local label=$1 rc=$2 out=$3 err=$4
  if [ "$rc" != "$want_rc" ]; then
    echo "FAIL $name ($label): exit status $rc, expected $want_rc"
    sed -n '1,20p' "$err"
    fail=1
  fi
  if ! python3 "$ref/compare_ndjson.py" "$want" "$out" --label "$name ($label)" --input "$in" --context 8; then
    fail=1
  fi
}

# 1. the reference implementation (keeps the reference honest)
set +e
python3 "$ref/attribution_ref.py" --config "$cfg" --input "$in" --output - \
  > "$tmp/ref.out" 2> "$tmp/ref.err"
rc=$?
set -e
check reference "$rc" "$tmp/ref.out" "$tmp/ref.err"

# 2. attribd replay
bin=${ATD_BIN:?ATD_BIN must point to the attribd binary}
set +e
"$bin" replay --config "$cfg" --input "$in" --output - > "$tmp/c.out" 2> "$tmp/c.err"
rc=$?
set -e
if [ "$rc" = 1 ] && grep -q "not implemented yet" "$tmp/c.err"; then
  # Only while src/tools/replay.c is the skeleton's placeholder.
  echo "NOTE $name: attribd replay is not implemented yet; only the reference was checked"
else
  check "attribd replay" "$rc" "$tmp/c.out" "$tmp/c.err"
fi

[ "$fail" = 0 ] && echo "ok $name"
exit "$fail"
