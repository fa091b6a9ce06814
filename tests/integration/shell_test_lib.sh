# Sourced by the shell tests of tests/integration (test_*.sh): the binary under test, a scratch
# folder removed at exit, and ok / bad / check that count failures; a test ends with `finish`.
BIN=${ATD_BIN:-./attribd}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
finish() {
  echo "$fails failed"
  [ "$fails" -eq 0 ]
}
