#!/bin/bash
# bench/store/stop.sh - how long revokd takes to stop (SIGTERM to exit)
# with N stored revocations, and the CPU the stop burns; one or more builds
# in the same run, alternated, so they see the same host load.
#
#   bench/store/stop.sh [N]             default N = 1000000
#   BINS="old/revokd new/revokd" ROUNDS=2 bench/store/stop.sh 2000000
#
# What it does, every step bounded in time:
#   1. generates a database of N revocations with bench/store/gen_db.sh
#      (the mix of bench/store/scale.sh), or copies KEEP_DB=path (if that
#      does not exist yet, the generated one is saved there);
#   2. for each round and each binary of BINS (default build-release's):
#      starts it on a fresh copy under /usr/bin/time, waits (at most 600 s)
#      for /readyz 200, reads its CPU time from /proc, sends SIGTERM and
#      waits for the exit (at most 600 s). Prints the wall time from the
#      signal to the exit, and the CPU seconds (user + system) of the stop:
#      the process's total at exit (from /usr/bin/time) minus its total at
#      the signal. The wall time depends on the host's load; the CPU less.
#      Each row also gives the start it stopped: time to /readyz 200, CPU
#      and RSS at ready, and the whole-file check from the "store opened"
#      line. CLEAN_START=1: the copy is started once and stopped with
#      SIGTERM before the measured start (a restart after a clean stop,
#      which skips the whole-file check, DECISIONS D26); default: the file
#      as generated, with no clean-stop marker.
#      DURING_SWEEP=1: instead of 2 s after ready, the SIGTERM goes as soon
#      as the rvk-sweeper thread has used CPU since ready (its first walk of
#      the table has begun: the first sweep is due a second after start),
#      so the stop lands in a walk; the row says "no walk seen" when none
#      began within 10 s.
# Needs: sqlite3, curl, /usr/bin/time.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000000}
BINS=${BINS:-$ROOT/build-release/service/revokd}
ROUNDS=${ROUNDS:-2}
. "$ROOT/bench/lib.sh"
bench_need sqlite3 curl
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 2; }

bench_tmpdir revokd-stop
trap bench_cleanup EXIT INT TERM
W=$BENCH_TMP
now_ns() { date +%s%N; }
cpu_ms() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($12 + $13) * 1000 / hz }'; }
# The rvk-sweeper thread's CPU ticks (utime + stime), 0 when not found.
sweeper_ticks() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rvk-sweeper ] || continue
		sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }'
		return
	done
	echo 0
}
# Waits (at most 10 s) until the sweeper has used CPU since now. Sets WALK.
wait_for_walk() {
	local s0 n=0
	s0=$(sweeper_ticks "$1")
	WALK=yes
	while [ "$(sweeper_ticks "$1")" -le "$s0" ]; do
		n=$((n + 1))
		[ "$n" -gt 2000 ] && { WALK="no walk seen"; return; }
		sleep 0.005
	done
}

# start BIN DIR: revokd under /usr/bin/time; sets PID (revokd's), TPID and
# READY_MS.
start() {
	local port n=0 t0
	port=$(bench_free_port)
	t0=$(now_ns)
	/usr/bin/time -f '%U %S' -o "$2/time.out" \
	    "$1" serve --config "$2/revokd.json" --listen "127.0.0.1:$port" 2>>"$2/stderr.log" &
	TPID=$!
	BENCH_PIDS="$BENCH_PIDS $TPID"
	until PID=$(pgrep -P "$TPID"); do sleep 0.01; done
	until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do
		kill -0 "$PID" 2>/dev/null || { echo "revokd died:" >&2; tail "$2/stderr.log" >&2; exit 1; }
		n=$((n + 1))
		[ "$n" -gt 60000 ] && { echo "not ready within 600 s" >&2; exit 1; }
		sleep 0.01
	done
	READY_MS=$(( ($(now_ns) - t0) / 1000000 ))
}
rss_mb() { awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
# The whole-file check of the last "store opened" line in DIR's log.
check_of() {
	local l
	l=$(grep '"store opened"' "$1/stderr.log" | tail -1)
	case $l in
	*'"integrity_check":"full"'*) echo "full, $(echo "$l" | sed 's/.*"check_ms":"\([0-9.]*\)".*/\1/') ms" ;;
	*'"integrity_check":"skipped"'*) echo skipped ;;
	*) echo "full (always)" ;;
	esac
}

mkdir -p "$W/gen"
bench_store_config "$W/gen"
DB=$W/revokd.db
if [ -n "${KEEP_DB:-}" ] && [ -f "$KEEP_DB" ]; then
	cp "$KEEP_DB" "$DB"
else
	set -- $BINS
	start "$1" "$W/gen"      # creates and migrates the database
	kill -TERM "$PID"; wait "$TPID" || true
	cp "$W/gen/data/revokd.db" "$DB"
	"$ROOT/bench/store/gen_db.sh" "$DB" "$N"
	[ -n "${KEEP_DB:-}" ] && cp "$DB" "$KEEP_DB"
fi

echo "# revokd stop with $N revocations, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "host: $(nproc) CPUs, $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| binary | round | to /readyz (ms) | CPU at ready (ms) | RSS at ready (MB) | whole-file check | SIGTERM to exit (ms) | CPU of the stop (ms, user+sys) | load average |${DURING_SWEEP:+ in a walk |}"
echo "|---|---:|---:|---:|---:|---|---:|---:|---|${DURING_SWEEP:+---|}"
for r in $(seq 1 "$ROUNDS"); do
	for b in $BINS; do
		d=$W/run
		rm -rf "$d"; mkdir -p "$d/data"
		cp "$W/gen/revokd.json" "$W/gen/hs.secret" "$W/gen/admin.token" "$d/"
		cp "$DB" "$d/data/revokd.db"
		if [ "${CLEAN_START:-0}" = 1 ]; then
			start "$b" "$d"
			kill -TERM "$PID"; wait "$TPID" || true
		fi
		start "$b" "$d"
		ready_ms=$READY_MS
		ready_cpu=$(cpu_ms "$PID")
		ready_rss=$(rss_mb "$PID")
		WALK=
		if [ "${DURING_SWEEP:-0}" = 1 ]; then wait_for_walk "$PID"; else sleep 2; fi
		c0=$(cpu_ms "$PID")
		t0=$(now_ns)
		kill -TERM "$PID"
		timeout 600 tail --pid="$TPID" -s 0.01 -f /dev/null || { echo "not stopped within 600 s" >&2; exit 1; }
		wait "$TPID" || true
		t1=$(now_ns)
		BENCH_PIDS=
		c1=$(awk -v hz=1 '{ printf "%.0f", ($1 + $2) * 1000 }' "$d/time.out")
		grep -q '"stopped"' "$d/stderr.log" || { echo "no \"stopped\" in its log" >&2; tail "$d/stderr.log" >&2; exit 1; }
		echo "| $b | $r | $ready_ms | $ready_cpu | $ready_rss | $(check_of "$d") | $(( (t1 - t0) / 1000000 )) | $((c1 - c0)) | $(cut -d' ' -f1-3 /proc/loadavg) |${DURING_SWEEP:+ $WALK |}"
	done
done
