#!/usr/bin/env bash
# The harness proves it can fail: tests/support/harness.sh and count.py are
# fed failures that print only passing lines (a TAP program that exits
# non-zero after its last `ok`, one that aborts mid-plan, one that plans more
# than it runs, one that times out; a pytest assertion in a worker thread;
# a server that dies of a real AddressSanitizer report while the test's own
# assertions pass). Each must turn the closing line red; a passing control
# must stay green.
#
#   tests/support/selftest.sh OUT.xml
# writes one JUnit case per scenario to OUT.xml (passed = the harness saw
# the failure) and exits non-zero if any scenario went unnoticed.
set -uo pipefail
OUT=$1
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=$(mktemp -d)
trap '[ -n "${RVK_SELFTEST_KEEP:-}" ] || rm -rf "$WORK"' EXIT
. tests/support/harness.sh

cases=()
record() {  # record NAME OK(0|1) DETAIL
  local detail=${3//&/&amp;}; detail=${detail//</&lt;}; detail=${detail//>/&gt;}
  if [ "$2" = 0 ]; then
    cases+=("<testcase classname=\"harness.selftest\" name=\"$1\"/>")
    echo "selftest $1: ok"
  else
    cases+=("<testcase classname=\"harness.selftest\" name=\"$1\"><failure message=\"$1\">$detail</failure></testcase>")
    echo "selftest $1: NOT NOTICED: $3"
  fi
}

# expect_count WANT_FAILED WANT_PASSED_MIN REPORT...: count.py over the
# reports must exit 1 and report exactly WANT_FAILED failures.
expect_count() {
  local want=$1 min=$2; shift 2
  local out rc line
  out=$(/usr/bin/python3 "$ROOT/tests/support/count.py" "$@"); rc=$?
  line=$(echo "$out" | tail -n 1)
  if [ "$want" = 0 ]; then
    [ $rc = 0 ] && [[ $line == *" 0 failed"* ]]
  else
    [ $rc = 1 ] && [[ $line == *" $want failed"* ]] &&
      [ "$(echo "$line" | sed 's/ passed.*//')" -ge "$min" ]
  fi || { echo "$out"; return 1; }
}

build="$WORK/build"
if meson setup "$build" tests/support/selftest >"$WORK/setup.log" 2>&1 &&
   ninja -C "$build" >>"$WORK/setup.log" 2>&1; then
  export RVK_TIMEOUT_MULTIPLIER=1
  for t in exit_after_plan abort_mid_plan short_plan times_out; do
    REPORTS="$WORK/r-$t"; mkdir -p "$REPORTS"
    # One program per run (its own suite), so each must be noticed alone.
    unit "$build" "$t" "$t" >/dev/null 2>&1
    echo 0 >"$REPORTS/unit-$t.status"  # JUnit and testlog alone must tell
    expect_count 1 0 "$REPORTS/unit-$t.xml"
    record "unit program: $t" $? "count.py reported no failure for $t"
  done
  # The whole bad suite through unit(): meson's exit status is kept too.
  REPORTS="$WORK/r-all"; mkdir -p "$REPORTS"
  unit "$build" all bad >/dev/null 2>&1
  [ "$(cat "$REPORTS/unit-all.status")" != 0 ] && expect_count 4 1 "$REPORTS/unit-all.xml"
  record "unit suite: meson status and testlog" $? "the bad suite was not 4 failures"
  REPORTS="$WORK/r-good"; mkdir -p "$REPORTS"
  unit "$build" good good >/dev/null 2>&1
  expect_count 0 2 "$REPORTS/unit-good.xml"
  record "unit control: a good program passes" $? "the good program did not count as passed"

  # pytest: a thread's assertion, and a server that dies of an ASan report.
  REPORTS="$WORK/r-py"; mkdir -p "$REPORTS"
  sanitizer_env
  integration selftest "$build/asan_server" tests/support/selftest/test_harness_fails.py \
    >"$WORK/pytest.out" 2>&1
  grep -q "heap-use-after-free" "$REPORTS/pytest-selftest.log" 2>/dev/null ||
    grep -rq "heap-use-after-free" "$REPORTS/pytest-selftest.log"
  expect_count 2 0 "$REPORTS/integration-selftest.xml" >"$WORK/py-count.out"
  ok=$?
  grep -q "test_assertion_in_a_thread" "$REPORTS/pytest-selftest.log" || ok=1
  record "pytest: a thread's assertion and a server's ASan death" $ok \
    "$(tail -c 3000 "$REPORTS/pytest-selftest.log" 2>/dev/null)"
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

  # A report that is missing (a suite that never ran) is a failure.
  expect_count 1 0 "$WORK/no-such-report.xml"
  record "a missing report" $? "count.py accepted a missing report"
else
  record "self-test build" 1 "$(tail -c 3000 "$WORK/setup.log")"
fi

failed=0
for c in "${cases[@]}"; do [[ $c == *"<failure"* ]] && failed=$((failed + 1)); done
{
  echo "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
  echo "<testsuites><testsuite name=\"harness-selftest\" tests=\"${#cases[@]}\" failures=\"$failed\">"
  printf '%s\n' "${cases[@]}"
  echo "</testsuite></testsuites>"
} >"$OUT"
[ "$failed" = 0 ]
