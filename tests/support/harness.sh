# The steps of tests/run.sh, sourced by it and by tests/support/selftest.sh
# (which feeds them failures that must turn the closing line red).
#
# Every step leaves, in $REPORTS, a JUnit report and what JUnit cannot say:
# NAME.status (the runner's exit status) and, for meson, NAME.testlog.json
# (meson's per-program results: a crash, a timeout or a non-zero exit after
# the last TAP line). tests/support/count.py reads all three.
#
# Requires: REPORTS (a folder), ROOT (the source tree).

# Sanitizers exit with a code that no test expects: revokd's own exit codes
# are 0, 1 and 2 (1 is also ASan's and UBSan's default), and a test that
# expects 1 would otherwise pass when a sanitizer fired. 86 means "a
# sanitizer reported"; tests/support/revokd_fixtures.py knows it as
# SANITIZER_EXIT and fails on it wherever a process exits.
export RVK_SANITIZER_EXIT=86

sanitizer_env() {
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=$RVK_SANITIZER_EXIT"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=$RVK_SANITIZER_EXIT"
  export LSAN_OPTIONS="suppressions=$ROOT/tests/support/lsan.supp:exitcode=$RVK_SANITIZER_EXIT"
}

tsan_env() {
  export TSAN_OPTIONS="suppressions=$ROOT/tests/support/tsan.supp halt_on_error=0 exitcode=$RVK_SANITIZER_EXIT"
}

step() { echo; echo "=== $*"; }

# configure DIR [meson options...]: a fresh or reconfigured build dir.
configure() {
  local dir=$1; shift
  local log="$REPORTS/setup-$(basename "$dir").log"
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >"$log" 2>&1
  else
    meson setup "$dir" "$@" >"$log" 2>&1
  fi || { cat "$log"; return 1; }
  ninja -C "$dir" >"$REPORTS/ninja-$(basename "$dir").log" 2>&1 ||
    { tail -50 "$REPORTS/ninja-$(basename "$dir").log"; return 1; }
}

# unit DIR NAME SUITE: meson's tests of one suite -> $REPORTS/unit-NAME.*
unit() {
  local dir=$1 name=$2 suite=$3 rc
  step "unit tests ($name, suite $suite)"
  rm -f "$dir/meson-logs/testlog.junit.xml" "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --suite "$suite" --print-errorlogs --num-processes 2 \
    --timeout-multiplier "${RVK_TIMEOUT_MULTIPLIER:-3}" >"$REPORTS/meson-$name.log" 2>&1
  rc=$?
  tail -25 "$REPORTS/meson-$name.log"
  echo "$rc" >"$REPORTS/unit-$name.status"
  cp "$dir/meson-logs/testlog.junit.xml" "$REPORTS/unit-$name.xml" 2>/dev/null
  cp "$dir/meson-logs/testlog.json" "$REPORTS/unit-$name.testlog.json" 2>/dev/null
  return 0
}

# integration NAME BIN [PYTEST ARGS...]: the pytest suites (default: all of
# tests/integration and tests/e2e) against one build of the server.
integration() {
  local name=$1 bin=$2 rc; shift 2
  [ $# -gt 0 ] || set -- tests/integration tests/e2e
  step "integration and end-to-end tests ($name)"
  local t0=$SECONDS
  REVOKD_BIN="$bin" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    --junitxml="$REPORTS/integration-$name.xml" -o junit_suite_name="$name" \
    "$@" >"$REPORTS/pytest-$name.log" 2>&1
  rc=$?
  echo "$rc" >"$REPORTS/integration-$name.status"
  tail -30 "$REPORTS/pytest-$name.log"
  # The tail hides the failures' details: print them (the log keeps all).
  sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* short test summary/p' \
    "$REPORTS/pytest-$name.log" | head -300
  echo "($name: $((SECONDS - t0)) s, pytest exit $rc)"
  return 0
}
