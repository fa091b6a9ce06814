#!/bin/bash
# How attribd replay splits its input into lines (64 bytes at a time where the CPU allows):
# lines of every length over several 64-byte blocks, so that every newline offset inside a
# block occurs; blank lines (empty, spaces, tabs, CR); CRLF endings; runs of newlines; a last
# line without a newline; an input bigger than one read chunk (4 MiB). Every install must
# give its result, in order, and every rejected line must be reported with its number.
set -u
. "$(dirname "$0")/shell_test_lib.sh"

printf 'apps:\n  com.example.game:\n' >"$T/app.yaml"
TS=1793534400000

# installs whose device ids grow by one byte a line: 200 lengths, 3+ blocks of 64 bytes; every
# 7th line is preceded by a blank line of its own kind, every 11th by an invalid line
awk -v ts=$TS 'BEGIN {
  blank[0] = ""; blank[1] = "   "; blank[2] = "\t"; blank[3] = "\r"; blank[4] = " \t \r";
  for (i = 1; i <= 200; i++) {
    if (i % 7 == 0) printf "%s\n", blank[i % 5];
    if (i % 11 == 0) printf "{\"type\":\"install\",\"ts\":\"x%d\",\"app_id\":\"com.example.game\"}\n", i;
    id = sprintf("d%d-", i); while (length(id) < i) id = id "x";
    end = (i % 13 == 0) ? "\r\n" : "\n";
    printf "{\"type\":\"install\",\"ts\":%d,\"app_id\":\"com.example.game\",\"device_id\":\"%s\"}%s", ts + i, id, end;
    if (i % 17 == 0) printf "\n\n\n";
  }
  printf "{\"type\":\"install\",\"ts\":%d,\"app_id\":\"com.example.game\",\"device_id\":\"last\"}", ts + 999;
}' >"$T/in.ndjson"

"$BIN" replay --config "$T/app.yaml" --input "$T/in.ndjson" --output "$T/out.ndjson" 2>"$T/err"
rc=$?
check "rejected lines give exit 2" "[ $rc -eq 2 ]"
check "201 results" "[ \$(wc -l <'$T/out.ndjson') -eq 201 ]"
# the device ids in order, as the input has them
awk '{ if (match($0, /"device_id":"[^"]*"/)) print substr($0, RSTART + 13, RLENGTH - 14) }' \
  "$T/out.ndjson" >"$T/got.txt"
awk 'BEGIN { for (i = 1; i <= 200; i++) { id = sprintf("d%d-", i); while (length(id) < i) id = id "x"; print id }; print "last" }' >"$T/want.txt"
check "every device in order" "cmp -s '$T/got.txt' '$T/want.txt'"
# the rejected lines' numbers, counted as the input's lines
awk '/"ts":"x/ { print NR }' "$T/in.ndjson" >"$T/want_err.txt"
sed -n 's|^.*/in\.ndjson:\([0-9]*\): field ts: .*$|\1|p' "$T/err" >"$T/got_err.txt"
check "18 rejected lines, with their numbers" "[ \$(wc -l <'$T/got_err.txt') -eq 18 ] && cmp -s '$T/got_err.txt' '$T/want_err.txt'"
check "nothing else on stderr but progress" "[ \$(grep -vc 'attribd replay:' '$T/err') -eq 18 ]"

# an input of several read chunks: the same installs many times, lines crossing chunk edges
for k in $(seq 1 120); do cat "$T/in.ndjson"; echo; done | grep -v '"ts":"x' >"$T/big.ndjson"
"$BIN" replay --config "$T/app.yaml" --input "$T/big.ndjson" --output "$T/big_out.ndjson" 2>"$T/err2"
rc=$?
check "a multi-chunk input is clean (exit 0)" "[ $rc -eq 0 ]"
check "a multi-chunk input: every line gives its result" "[ \$(wc -l <'$T/big_out.ndjson') -eq $((201 * 120)) ]"
check "the input is bigger than a read chunk" "[ \$(stat -c %s '$T/big.ndjson') -gt $((4 << 20)) ]"

finish
