#!/bin/bash
# attribd replay as a user runs it: options, invalid lines (stderr, exit 2), stdin/stdout,
# the temporary store removed at exit, --state kept and continued.
set -u
. "$(dirname "$0")/shell_test_lib.sh"

printf 'apps:\n  com.example.game:\n' >"$T/app.yaml"
TS=1793534400000
cat >"$T/in.ndjson" <<EOF2
{"type":"click","ts":$((TS - 3600000)),"app_id":"com.example.game","media_source":"netA","advertising_id":"AD-1"}
{"type":"install","ts":"soon","app_id":"com.example.game","device_id":"d1"}

{"type":"install","ts":$TS,"app_id":"com.example.game","device_id":"d1","advertising_id":"ad-1"}
{"type":"session","ts":$((TS + 1000)),"app_id":"nope","device_id":"d1"}
not json at all
{"type":"session","ts":$((TS + 2000)),"app_id":"com.example.game","device_id":"d1"}
EOF2

# --help
"$BIN" replay --help >"$T/help.txt"
check "help exits 0 and documents --input" "grep -q -- '--input' '$T/help.txt'"
"$BIN" replay --input "$T/in.ndjson" >/dev/null 2>&1
check "no --config is a usage error (2)" "[ $? -eq 2 ]"
"$BIN" replay --config "$T/missing.yaml" --input "$T/in.ndjson" >/dev/null 2>"$T/err0"
rc=$?
check "a missing config fails with 1 and names the file" "[ $rc -eq 1 ] && grep -q missing.yaml '$T/err0'"

# invalid lines: reported with line number and field, skipped, exit 2 after the run
mkdir -p "$T/tmp"
TMPDIR="$T/tmp" "$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out.ndjson" 2>"$T/err"
rc=$?
check "rejected lines give exit 2" "[ $rc -eq 2 ]"
check "line 2 names field ts" "grep -q 'in.ndjson:2: field ts' '$T/err'"
check "line 5 names field app_id" "grep -q 'in.ndjson:5: field app_id' '$T/err'"
check "line 6 is reported" "grep -q 'in.ndjson:6: ' '$T/err'"
check "the blank line 3 is not reported" "! grep -q 'in.ndjson:3:' '$T/err'"
check "three rejected lines" "[ \$(grep -c 'in.ndjson:' '$T/err') -eq 3 ]"
check "two results in input order" "[ \$(wc -l <'$T/out.ndjson') -eq 2 ] && head -1 '$T/out.ndjson' | grep -q '\"event_type\":\"install\"' && tail -1 '$T/out.ndjson' | grep -q '\"event_type\":\"session\"'"
check "the install is attributed to netA" "head -1 '$T/out.ndjson' | grep -q '\"media_source\":\"netA\"'"
check "the temporary store is removed" "[ -z \"\$(ls -A '$T/tmp')\" ]"

# stdin and stdout, all valid: exit 0
grep -v -e soon -e nope -e 'not json' "$T/in.ndjson" | "$BIN" replay --config "$T/app.yaml" --input - --output - >"$T/out2.ndjson" 2>"$T/err2"
rc=$?
check "stdin/stdout run exits 0" "[ $rc -eq 0 ]"
check "stdin/stdout gives the same results" "cmp -s '$T/out.ndjson' '$T/out2.ndjson'"

# --state keeps the store: a second run knows the device (a reinstall)
printf '{"type":"install","ts":%s,"app_id":"com.example.game","device_id":"d1"}\n' $((TS + 86400000)) >"$T/again.ndjson"
"$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output /dev/null --state "$T/state" 2>/dev/null
"$BIN" replay --config "$T/app.yaml" --input "$T/again.ndjson" --output "$T/out3.ndjson" --state "$T/state"
rc=$?
check "--state run exits 0" "[ $rc -eq 0 ]"
check "--state keeps the device: reinstall" "grep -q '\"event_type\":\"reinstall\"' '$T/out3.ndjson'"
check "--state folder kept" "[ -n \"\$(ls -A '$T/state')\" ]"

# a last line without a newline is read
printf '{"type":"install","ts":%s,"app_id":"com.example.game","device_id":"d9"}' "$TS" | "$BIN" replay --config "$T/app.yaml" >"$T/out4.ndjson"
check "last line without newline" "grep -q '\"device_id\":\"d9\"' '$T/out4.ndjson'"

# a rejected value with a control character in it still makes one stderr line per rejected line
printf '{"type":"install","ts":%s,"app_id":"com.example.game","device_id":"d1","ip":"192.0.2.1\\n"}\n{"type":"install","ts":%s,"app_id":"com.example.game","device_id":"d2","ip":"1.2.3.4\\t\\r\\u0007x"}\n' "$TS" "$TS" >"$T/ctl.ndjson"
"$BIN" replay --config "$T/app.yaml" --input "$T/ctl.ndjson" --output /dev/null 2>"$T/err5"
check "control characters in a message do not split its line" "[ \$(grep -c 'ctl.ndjson:[12]: field ip' '$T/err5') -eq 2 ] && [ \$(grep -vc 'attribd replay:' '$T/err5') -eq 2 ]"

# replay executes itself again with glibc's huge-page heap (where THP is "madvise"): the same
# results with it, without it (ATD_REPLAY_REEXEC=0) and with other tunables already set; a
# replay waiting on its input has been executed again (its marker is in its environment; glibc
# rewrites GLIBC_TUNABLES itself in what /proc shows, so that one is not compared)
"$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out6.ndjson" 2>/dev/null
ATD_REPLAY_REEXEC=0 "$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out7.ndjson" 2>/dev/null
GLIBC_TUNABLES=glibc.malloc.perturb=0 "$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out8.ndjson" 2>/dev/null
check "results with and without the re-execution agree" "cmp -s '$T/out6.ndjson' '$T/out7.ndjson' && cmp -s '$T/out6.ndjson' '$T/out8.ndjson' && [ -s '$T/out6.ndjson' ]"
if grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
  mkfifo "$T/fifo"
  for v in 1 0; do
    env -u GLIBC_TUNABLES ATD_REPLAY_REEXEC=$v "$BIN" replay --config "$T/app.yaml" --input "$T/fifo" --output /dev/null 2>/dev/null &
    pid=$!
    exec 7>"$T/fifo" # returns once replay opened its input: past the re-execution
    envs=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null)
    exec 7>&-
    wait $pid
    if [ $v = 1 ]; then
      check "replay re-executed itself with the tunable" "grep -qx 'ATD_REPLAY_REEXEC=0' <<<\"\$envs\" && grep -q '^GLIBC_TUNABLES=' <<<\"\$envs\""
    else
      check "ATD_REPLAY_REEXEC=0: no re-execution" "! grep -q '^GLIBC_TUNABLES=' <<<\"\$envs\""
    fi
  done
fi

# an unknown option is a usage error
"$BIN" replay --config "$T/app.yaml" --bogus 2>/dev/null
check "unknown option gives 2" "[ $? -eq 2 ]"

finish
