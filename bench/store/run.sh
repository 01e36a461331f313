#!/bin/bash
# bench/store/run.sh - durable revocations per second through the admin API,
# and start-up time and memory with many stored revocations (issue 4).
#
# Hypotheses (stated before measuring):
#   - one event per request, one client: bounded by one fsync per request
#     (synchronous=FULL, WAL); 16 and 64 clients share fsyncs through group
#     commit, so 64 clients give at least 5x the one-client rate;
#   - 1,000 events per request: one transaction per request, so events/s is
#     bounded by JSON parsing, SQLite inserts and the rendered answer, far
#     above the one-event rate;
#   - start-up with 1M rows: load is one table scan into the revocation
#     table; ready in under 3 s, RSS a few hundred MB at most.
#
# Everything runs on loopback against a real revokd (info-level logs to a
# file, as in production: one "revocation taken" line per revocation).
#
#   bench/store/run.sh                     defaults: 5 s per load cell, 1M rows
#   DUR=3 ROWS=200000 bench/store/run.sh   quicker
#   BUILD_DIR=build-x bench/store/run.sh   another build (default build-release)
#   SKIP_LOAD=1 bench/store/run.sh         only the start-up part
#   SKIP_STARTUP=1 bench/store/run.sh      only the load part
#   SKIP_BATCH=1 bench/store/run.sh        the load part without the
#                                          1,000-event cells
#   BUILD_DIR may be absolute (another worktree's build, e.g. a "before").
# Needs: wrk, sqlite3, curl.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build-release}
DUR=${DUR:-5}
ROWS=${ROWS:-1000000}
STARTS=${STARTS:-3}
case $BUILD_DIR in
/*) BIN="$BUILD_DIR/service/revokd" ;;
*) BIN="$ROOT/$BUILD_DIR/service/revokd" ;;
esac
LUA="$ROOT/bench/store/post.lua"
. "$ROOT/bench/lib.sh"
TOKEN=$BENCH_ADMIN_TOKEN

cd "$ROOT"
if [ ! -d "$BUILD_DIR" ]; then
	meson setup "$BUILD_DIR" --buildtype=release >/dev/null
fi
ninja -C "$BUILD_DIR" service/revokd >/dev/null
bench_need wrk sqlite3 curl

WORK=$(mktemp -d /tmp/revokd-store-bench.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# start DIR PORT: starts revokd, waits for /readyz; sets PID and READY_MS.
start() {
	local t0 t1
	t0=$(now_ns)
	"$BIN" serve --config "$1/revokd.json" --listen "127.0.0.1:$2" 2>>"$1/stderr.log" &
	PID=$!
	until curl -fs -o /dev/null "http://127.0.0.1:$2/readyz"; do
		kill -0 "$PID" 2>/dev/null || { echo "revokd died:" >&2; tail "$1/stderr.log" >&2; exit 1; }
		sleep 0.01
	done
	t1=$(now_ns)
	READY_MS=$(( (t1 - t0) / 1000000 ))
}

stop() {
	kill -TERM "$PID"
	wait "$PID" || true
	PID=
}

rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

echo "# revokd store benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "host: $(nproc) CPUs, $(uname -r); build: $BUILD_DIR ($(meson introspect "$BUILD_DIR" --buildoptions 2>/dev/null | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null || echo '?'))"
echo "data dir filesystem: $(df -T /tmp | awk 'NR==2 { print $2 }')"
echo

# --- 1. durable revocations per second -----------------------------------
if [ -z "${SKIP_LOAD:-}" ]; then
D="$WORK/load"
bench_store_config "$D"
PORT=$(bench_free_port)
start "$D" "$PORT"
URL="http://127.0.0.1:$PORT"
echo "## Durable revocations/s, admin API, ${DUR} s per cell (load average $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| events/request | clients | requests/s | events/s | p50 ms | p99 ms | non-201 | rows/commit | mean commit ms |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
# counters: "commits rows commit_seconds_sum" from /admin/v1/stats and /metrics
counters() {
	local c r s
	read -r c r < <(curl -fs -H "Authorization: Bearer $TOKEN" "$URL/admin/v1/stats" |
	    python3 -c 'import json,sys; s=json.load(sys.stdin)["store"]; print(s["commits"], s["rows_written"])')
	s=$(curl -fs "$URL/metrics" | awk '/^revokd_store_commit_duration_seconds_sum/ { print $2 }')
	echo "$c $r $s"
}
one_rate=
run_cell() { # BATCH CLIENTS
	local batch=$1 c=$2 t out line req secs rps bad p50 p99 c0 r0 s0 c1 r1 s1
	t=$(( c < 2 ? c : 2 ))
	read -r c0 r0 s0 < <(counters)
	out=$(ADMIN_TOKEN=$TOKEN BATCH=$batch PREFIX="b$batch-c$c" \
	      wrk -t "$t" -c "$c" -d "${DUR}s" --timeout 30s -s "$LUA" "$URL")
	line=$(echo "$out" | grep '^RESULT')
	req=$(echo "$line" | sed 's/.*requests=\([0-9]*\).*/\1/')
	bad=$(echo "$line" | sed 's/.*non201=\([0-9]*\).*/\1/')
	secs=$(echo "$line" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
	p50=$(echo "$line" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
	p99=$(echo "$line" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
	rps=$(awk -v r="$req" -v s="$secs" 'BEGIN { printf "%.0f", r / s }')
	read -r c1 r1 s1 < <(counters)
	echo "| $batch | $c | $rps | $(( rps * batch )) | $p50 | $p99 | $bad |" \
	     "$(awk -v c=$((c1 - c0)) -v r=$((r1 - r0)) -v s0="$s0" -v s1="$s1" \
	        'BEGIN { printf "%.1f | %.2f |", r / c, (s1 - s0) * 1000 / c }')"
	LAST_EPS=$(( rps * batch ))
}
run_cell 1 1;  one_rate=$LAST_EPS
run_cell 1 16
run_cell 1 64; c64_rate=$LAST_EPS
if [ -z "${SKIP_BATCH:-}" ]; then
	run_cell 1000 1
	run_cell 1000 4
fi
echo
echo "64 clients / 1 client: $(awk -v a="$c64_rate" -v b="$one_rate" 'BEGIN { printf "%.1fx", a / b }') (target >= 5x)"
stats=$(curl -fs -H "Authorization: Bearer $TOKEN" "$URL/admin/v1/stats")
echo "store after the run: $(echo "$stats" | python3 -c 'import json,sys; s=json.load(sys.stdin)["store"]; print(s["commits"], "commits,", s["rows_written"], "rows written,", s["failed_commits"], "failed")')"
stop
echo
fi

# --- 2. start-up with ROWS stored revocations -----------------------------
[ -n "${SKIP_STARTUP:-}" ] && exit 0
D="$WORK/startup"
bench_store_config "$D"
PORT=$(bench_free_port)
start "$D" "$PORT"      # creates and migrates the database
stop
now=$(date +%s)
t0=$(now_ns)
python3 "$ROOT/bench/store/kh_sql.py" "$D/data/revokd.db" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT $ROWS),
r AS MATERIALIZED (SELECT x, printf('id-%09d-%s', x, hex(randomblob(4))) AS id FROM c)
INSERT INTO revocations (type, iss, id, revoked_at, expires_at, reason, source, kh)
SELECT t, 'https://bench.test', id,
       $now - (x % 3600),
       CASE WHEN x % 20 = 19 THEN NULL ELSE $now + 86400 - (x % 3600) END,
       CASE WHEN x % 10 = 0 THEN 'bulk' ELSE NULL END, 'admin',
       rvk_kh(t, 'https://bench.test', id)
FROM (SELECT x, id, CASE WHEN x % 20 < 16 THEN 0 WHEN x % 20 < 18 THEN 1
                         WHEN x % 20 = 18 THEN 2 ELSE 4 END AS t FROM r);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
t1=$(now_ns)
echo "## Start-up with $ROWS stored revocations"
echo
echo "database: $(du -h "$D/data/revokd.db" | cut -f1) (generated with bench/store/kh_sql.py in $(( (t1 - t0) / 1000000 )) ms)"
echo
echo "| start | time to /readyz 200 (ms) | store open+load (ms, its log) | RSS when ready (MB) | revocations loaded | load average |"
echo "|---:|---:|---:|---:|---:|---:|"
for i in $(seq 1 "$STARTS"); do
	sync
	start "$D" "$PORT"
	rss=$(rss_mb "$PID")
	total=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/admin/v1/stats" |
	        python3 -c 'import json,sys; print(json.load(sys.stdin)["revocations"]["total"])')
	load_ms=$(grep '"store opened"' "$D/stderr.log" | tail -1 | sed 's/.*"load_ms":"\([0-9.]*\)".*/\1/')
	echo "| $i | $READY_MS | $load_ms | $rss | $total | $(cut -d' ' -f1 /proc/loadavg) |"
	stop
done
echo
echo "(time to ready includes process start, SQLite open (+ quick_check after a stop that was not clean, DECISIONS D26), the load, and the"
echo " polling interval of 10 ms; page cache warm after the first start.)"
