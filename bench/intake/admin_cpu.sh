#!/bin/bash
# bench/intake/admin_cpu.sh - server CPU per admin request (issue 19, item
# 4): one revokd (production settings: synchronous=FULL, log_level info,
# threads 2), C wrk clients posting one random-jti event per request to
# POST /admin/v1/revocations for DUR seconds, REPS times. Prints per run the
# requests/s, non-201 answers and the server's own CPU time (user + system,
# /proc/PID/stat) per request, which holds up on a shared machine better than
# the rate. PERF=file also records the server with `perf record -e cpu-clock
# -g` during the last run (perf report -i file ...).
#
#   BUILD=build-rel bench/intake/admin_cpu.sh     (a build dir or a dir
#                                      holding revokd; default build-rel)
#   DUR=4 REPS=3 C=64 (defaults); PERF=/tmp/admin.perf
# Needs: wrk, curl, python3 (perf with PERF).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DUR=${DUR:-4}
REPS=${REPS:-3}
C=${C:-64}
. "$ROOT/bench/lib.sh"
bench_need wrk curl python3
BUILD=${BUILD:-build-rel}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/service/revokd
[ -x "$BIN" ] || BIN=$BUILD/revokd

bench_tmpdir revokd-admin-cpu
trap bench_cleanup EXIT INT TERM
bench_store_config "$BENCH_TMP"
PORT=$(bench_free_port)
bench_spawn "$BIN" serve --config "$BENCH_TMP/revokd.json" --listen "127.0.0.1:$PORT" \
    >/dev/null 2>>"$BENCH_TMP/stderr.log"
PID=$BENCH_PID
bench_wait_ready "http://127.0.0.1:$PORT/readyz" "$PID"
HZ=$(getconf CLK_TCK)
echo "# admin single events, $(date -u +%Y-%m-%dT%H:%MZ), $C clients, ${DUR} s x $REPS, $(nproc) CPUs"
echo "# $BIN"
echo "# run requests/s non201 server_cpu_us/request load"
for r in $(seq 1 "$REPS"); do
	t0=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
	perf_pid=
	if [ -n "${PERF:-}" ] && [ "$r" = "$REPS" ]; then
		perf record -q -e cpu-clock -g -p "$PID" -o "$PERF" -- sleep "$DUR" 2>/dev/null &
		perf_pid=$!
	fi
	out=$(ADMIN_TOKEN=$BENCH_ADMIN_TOKEN BATCH=1 IDS=random PREFIX="r$r" \
	      wrk -t"$(( C < 2 ? C : 2 ))" -c"$C" -d"${DUR}s" --timeout 30s \
	      -s "$ROOT/bench/store/post.lua" "http://127.0.0.1:$PORT" | grep '^RESULT')
	t1=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
	[ -n "$perf_pid" ] && wait "$perf_pid"
	echo "$out" | awk -v r="$r" -v t=$((t1 - t0)) -v hz="$HZ" -v load="$(cut -d' ' -f1 /proc/loadavg)" '{
		split($2, a, "="); split($3, b, "="); split($4, s, "=");
		printf "%d %.0f %d %.1f %s\n", r, a[2] / s[2], b[2], t * 1e6 / hz / a[2], load }'
done
