#!/bin/bash
# bench/intake/ab.sh - durable intake at 64 clients (issue 19, item 4), two
# builds side by side: revocations/s through signed webhook batches
# (POST /v1/events, Standard Webhooks, 1,000 token.revoked events with
# random UUID jtis per request) and through the admin API (POST
# /admin/v1/revocations, one event per request, random 32-hex jtis), each at
# 1 and 64 clients. Cells are interleaved (A then B for each cell, REPS
# rounds) so both builds see the same neighbours and the same disk; each
# build has its own server and data dir, both up throughout. Every server
# runs as in production: synchronous=FULL, log_level info.
#
# Hypothesis: random keys dirty about one B-tree page per row, so a group
# commit of N rows writes ~N pages to the WAL and, every
# wal_autocheckpoint pages, again to the database; the rate is bounded by
# those page writes and by the writer's statements per row, not by the
# fsync (one per group).
#
#   A=/tmp/before B=build-rel bench/intake/ab.sh     (build dirs or dirs
#                                       holding service/revokd)
#   DUR=4 REPS=3 (defaults); CELLS="wh1 wh64 ad1 ad64" (default: all);
#   also adb64: the admin API with batches of 1,000 events per request.
#   SEED_DB=path: each server starts on a copy of that revokd.db, to
#   measure intake into a file that already holds millions of rows, not an
#   empty one. Make one with random UUIDs, as intake meets them: start
#   revokd once with an empty data dir DIR/data, stop it, then
#   `IDS=uuid VERSIONS=0 bench/store/gen_db.sh DIR/data/revokd.db 3000000`.
#   SEED_DB_A, SEED_DB_B: a seed for one build only, when the two builds'
#   schemas differ (each made as above, by gen_db.sh of its own version).
#   BDUR=15 (default): seconds per batch cell. A batch of 1,000 takes
#   ~1.3 s at 64 clients, so in a 4 s cell each client finishes only two
#   or three and the batches still in flight at the end (up to 64,000
#   rows) are a third of the work: wrk's rate undercounts them and the
#   server's CPU per row counts their parsing but not their rows.
#   CLUSTER=1: each server runs in cluster mode (REFERENCE §7) against its
#   own redis-server, started here on a free loopback port with no
#   persistence (the two servers do not replicate to each other). Every
#   new revocation then also writes a versions row and an outbox row in its
#   transaction, still acknowledged after COMMIT, and the publisher thread
#   drains the outbox into the Redis stream. Cells start once
#   /admin/v1/stats reads "cluster":"connected". Each cell also prints
#   outbox_left: the revocations not yet in Redis
#   (revokd_replication_outbox) when its rows stopped moving, i.e. whether
#   the stream kept up; the outbox is then drained outside every timing
#   before the next cell (the publisher's CPU for that rest is not in
#   cpu_us/row). At the end, per build: rows, versions rows, outbox rows
#   written and left, stream entries. A seed for cluster mode carries one
#   versions row per revocation: made as above (a server started in
#   single-node mode will do: same schema), then
#   `IDS=uuid VERSIONS=1 bench/store/gen_db.sh DIR/data/revokd.db N`.
# After each cell the script waits until the server's row count stops
# moving, so CPU per row covers every row the cell's CPU paid for; the
# "server rows/s" column is those rows over the wrk run plus that drain.
# Prints each cell, then per build and cell the median and the range.
# Needs: wrk, curl, python3; with CLUSTER=1 also redis-server and
# redis-cli (Redis 6.2 or later).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DUR=${DUR:-4}
BDUR=${BDUR:-15}
REPS=${REPS:-3}
CELLS=${CELLS:-"wh1 wh64 ad1 ad64"}
CLUSTER=${CLUSTER:-0}
. "$ROOT/bench/lib.sh"
bench_need wrk curl python3
CLUSTER_COL=
if [ "$CLUSTER" = 1 ]; then
	bench_need redis-server redis-cli
	CLUSTER_COL=" outbox_left"
fi
TOKEN=$BENCH_ADMIN_TOKEN
bin_of() { case $1 in /*) echo "$1/service/revokd" ;; *) echo "$ROOT/$1/service/revokd" ;; esac; }
BIN_A=$(bin_of "${A:?A=build dir}")
BIN_B=$(bin_of "${B:?B=build dir}")
[ -x "$BIN_A" ] || BIN_A=${A}/revokd
[ -x "$BIN_B" ] || BIN_B=${B}/revokd

bench_tmpdir revokd-intake-ab
WORK=$BENCH_TMP
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
SECRET=$(head -c 32 /dev/urandom | base64)
ISS=https://bench.test

# start NAME BIN: revokd with the admin API and a webhook secret (and with
# CLUSTER=1, its own redis-server); sets PORT and REDIS_PORT.
start() {
	local d="$WORK/$1" redis=
	bench_store_config "$d"
	printf 'whsec_%s\n' "$SECRET" >"$d/webhook.secret"
	local seed=${SEED_DB:-}
	[ "$1" = a ] && seed=${SEED_DB_A:-$seed}
	[ "$1" = b ] && seed=${SEED_DB_B:-$seed}
	if [ -n "$seed" ]; then
		mkdir -p "$d/data"
		cp "$seed" "$d/data/revokd.db"
	fi
	REDIS_PORT=
	if [ "$CLUSTER" = 1 ]; then
		bench_redis "$d/redis"
		REDIS_PORT=$BENCH_REDIS_PORT
		redis="redis://127.0.0.1:$REDIS_PORT/0"
	fi
	python3 - "$d/revokd.json" "$redis" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["webhook"] = {"secret_file": "webhook.secret", "tolerance": 3600}
if sys.argv[2]:
    c["redis"] = {"url": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"))
PY
	PORT=$(bench_free_port)
	bench_spawn "$2" serve --config "$d/revokd.json" --listen "127.0.0.1:$PORT" \
	    >/dev/null 2>>"$d/stderr.log"
	bench_wait_ready "http://127.0.0.1:$PORT/readyz" "$BENCH_PID" 600
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]; do
		sleep 0.2
	done
	[ "$CLUSTER" = 1 ] && wait_connected "http://127.0.0.1:$PORT" "$BENCH_PID"
	return 0
}

# cluster URL -> the "cluster" field of /admin/v1/stats
cluster() {
	curl -fs -H "Authorization: Bearer $TOKEN" "$1/admin/v1/stats" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster"])'
}

# wait_connected URL PID: until the server's replication is "connected"
# (at most 60 s)
wait_connected() {
	local n=300
	until [ "$(cluster "$1")" = connected ]; do
		if ! kill -0 "$2" 2>/dev/null || [ "$n" -eq 0 ]; then
			echo "ab.sh: $1 not connected to Redis: $(cluster "$1" || echo down)" >&2
			return 1
		fi
		sleep 0.2
		n=$((n - 1))
	done
}

# outbox URL -> revokd_replication_outbox, or - in single-node mode
outbox() {
	curl -fs "$1/metrics" | awk '/^revokd_replication_outbox / { o = $2 } END { print o == "" ? "-" : o }'
}

# drain_outbox URL: until the server's outbox is empty (at most 300 s);
# fails if the server stops answering
drain_outbox() {
	local n=1500 o
	while o=$(outbox "$1") && [ "$o" != 0 ]; do
		if [ "$o" = - ]; then
			echo "ab.sh: $1 no longer reports its outbox" >&2
			return 1
		fi
		if [ "$n" -eq 0 ]; then
			echo "ab.sh: $1 still has $o revocations in its outbox after 300 s" >&2
			return 0
		fi
		sleep 0.2
		n=$((n - 1))
	done
}

# counters URL -> "commits rows_written commit_seconds_sum rows_in_file
#   outbox" (outbox: revokd_replication_outbox, - in single-node mode)
counters() {
	local c r s n o
	read -r c r n < <(curl -fs -H "Authorization: Bearer $TOKEN" "$1/admin/v1/stats" |
	    python3 -c 'import json,sys; s=json.load(sys.stdin)["store"]; print(s["commits"], s["rows_written"], s["rows"])')
	read -r s o < <(curl -fs "$1/metrics" | awk '
	    /^revokd_store_commit_duration_seconds_sum / { s = $2 }
	    /^revokd_replication_outbox / { o = $2 }
	    END { print s, o == "" ? "-" : o }')
	echo "$c $r $s $n $o"
}

# procstat PID -> "cpu_ticks bytes_written write_calls" of the server so far
procstat() {
	echo "$(awk '{ print $14 + $15 }' "/proc/$1/stat")" \
	     "$(awk '/^wchar/ { w = $2 } /^syscw/ { c = $2 } END { print w, c }' "/proc/$1/io")"
}

# cell BUILD URL CELL ROUND PID -> "BUILD CELL events/s p50 p99 rows/commit
#   commit_ms load bad cpu_us/row written_bytes/row write_calls/row
#   server_rows/s rows_in_file_before" and with CLUSTER=1 "outbox_left"
# (CPU time and bytes written are the server's own, so they hold up under a
# loaded machine better than the rates do.)
cell() {
	local c0 r0 s0 c1 r1 s1 out eps p50 p99 bad conns per t0 w0 k0 t1 w1 k1
	local dur=$DUR start end prev srate n0 n1 o1 left=
	case $3 in
	wh*) conns=${3#wh}; per=1000; dur=$BDUR ;;
	adb*) conns=${3#adb}; per=1000; dur=$BDUR ;;
	ad*) conns=${3#ad}; per=1 ;;
	esac
	read -r c0 r0 s0 n0 _ < <(counters "$2")
	start=$(date +%s.%N)
	read -r t0 w0 k0 < <(procstat "$5")
	case $3 in
	wh*)
		out=$(wrk -t1 -c"$conns" -d"${dur}s" --timeout 30s --latency \
		      -s "$ROOT/bench/webhook/send.lua" "$2" -- "$WORK/reqs-$3-$4.txt" 2>&1)
		eps=$(echo "$out" | awk -v per=$per '/Requests\/sec/ { printf "%.0f", $2 * per }')
		p50=$(echo "$out" | awk '$1=="50%" { print $2 }')
		p99=$(echo "$out" | awk '$1=="99%" { print $2 }')
		bad=$(echo "$out" | awk '/Non-2xx/ { print $5 }')
		bad=${bad:-0}
		;;
	ad*)
		out=$(ADMIN_TOKEN=$TOKEN BATCH=$per IDS=random PREFIX="$1-$3-$4" \
		      wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${dur}s" --timeout 30s \
		      -s "$ROOT/bench/store/post.lua" "$2" | grep '^RESULT')
		eps=$(echo "$out" | awk -v per=$per '{ split($2, a, "="); split($4, b, "="); printf "%.0f", a[2] * per / b[2] }')
		p50=$(echo "$out" | sed 's/.*p50_ms=\([0-9.]*\).*/\1ms/')
		p99=$(echo "$out" | sed 's/.*p99_ms=\([0-9.]*\).*/\1ms/')
		bad=$(echo "$out" | sed 's/.*non201=\([0-9]*\).*/\1/')
		;;
	esac
	# drain: the requests wrk left in flight still commit
	prev=-1
	for _ in $(seq 1 50); do
		read -r c1 r1 s1 n1 o1 < <(counters "$2")
		[ "$r1" = "$prev" ] && break
		prev=$r1
		sleep 0.3
	done
	end=$(date +%s.%N)
	read -r t1 w1 k1 < <(procstat "$5")
	[ "$CLUSTER" = 1 ] && left=" $o1"
	srate=$(awk -v r=$((r1 - r0)) -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", r / (b - a) }')
	echo "$1 $3 $eps $p50 $p99 $(awk -v c=$((c1 - c0)) -v r=$((r1 - r0)) -v s0="$s0" -v s1="$s1" \
	     'BEGIN { printf "%.1f %.2f", r / c, (s1 - s0) * 1000 / c }') $(cut -d' ' -f1 /proc/loadavg) $bad" \
	     "$(awk -v r=$((r1 - r0)) -v t=$((t1 - t0)) -v w=$((w1 - w0)) -v k=$((k1 - k0)) -v hz="$(getconf CLK_TCK)" \
	        'BEGIN { printf "%.1f %.0f %.2f", t * 1e6 / hz / r, w / r, k / r }') $srate $n0$left"
}

# check NAME URL REDIS_PORT: with CLUSTER=1, what the server's file and its
# Redis stream hold at the end (each outbox row written is one stream entry
# once published; seq only grows, so sqlite_sequence counts them all)
check() {
	local db held
	db=$WORK/$(echo "$1" | tr AB ab)/data/revokd.db
	held=$(python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def one(q):
    return (db.execute(q).fetchone() or (0,))[0]
seq = "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"
print(f"revocations {one('SELECT count(*) FROM revocations')},"
      f" versions {one('SELECT count(*) FROM versions')},"
      f" outbox rows written {one(seq)} (left {one('SELECT count(*) FROM outbox')})")
PY
)
	echo "# $1: $held, stream entries $(redis-cli -p "$3" XLEN revokd:revocations), cluster $(cluster "$2")"
}

start a "$BIN_A"
URL_A="http://127.0.0.1:$PORT"
PID_A=$BENCH_PID
REDIS_A=$REDIS_PORT
start b "$BIN_B"
URL_B="http://127.0.0.1:$PORT"
PID_B=$BENCH_PID
REDIS_B=$REDIS_PORT
echo "# intake A/B, $(date -u +%Y-%m-%dT%H:%MZ), ${DUR} s per cell, $REPS rounds, $(nproc) CPUs"
if [ "$CLUSTER" = 1 ]; then
	echo "# mode: cluster, each build against its own redis-server $(redis-cli -p "$REDIS_A" INFO server |
	    tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }') (no persistence)"
else
	echo "# mode: single-node"
fi
echo "# A: $BIN_A"
echo "# B: $BIN_B"
echo "# build cell events/s p50 p99 rows/commit commit_ms load non2xx cpu_us/row wbytes/row wcalls/row server_rows/s rows_in_file_before$CLUSTER_COL"
OUT="$WORK/cells"
for r in $(seq 1 "$REPS"); do
	for c in $CELLS; do
		case $c in wh*)
			# the same signed requests for A and B (each server sees them once)
			python3 "$ROOT/bench/webhook/gen.py" "$SECRET" "$(( ${c#wh} > 1 ? 100 * BDUR : 40 * BDUR ))" \
			    1000 "$ISS" "$WORK/reqs-$c-$r.txt" ;;
		esac
		cell A "$URL_A" "$c" "$r" "$PID_A" | tee -a "$OUT"
		if [ "$CLUSTER" = 1 ]; then drain_outbox "$URL_A"; fi
		cell B "$URL_B" "$c" "$r" "$PID_B" | tee -a "$OUT"
		if [ "$CLUSTER" = 1 ]; then drain_outbox "$URL_B"; fi
		rm -f "$WORK/reqs-$c-$r.txt"
	done
done
echo
if [ "$CLUSTER" = 1 ]; then
	echo "| build | cell | events/s median | range | server rows/s median | rows in file at start | rows/commit | commit ms | server CPU us/row | bytes written/row | writes/row | outbox left max |"
	echo "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|"
else
	echo "| build | cell | events/s median | range | server rows/s median | rows in file at start | rows/commit | commit ms | server CPU us/row | bytes written/row | writes/row |"
	echo "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|"
fi
python3 - "$OUT" "$CELLS" "$CLUSTER" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
for b in "AB":
    for c in sys.argv[2].split():
        v = [x for x in rows if x[0] == b and x[1] == c]
        if not v:
            continue
        eps = [float(x[2]) for x in v]
        med = lambda i: statistics.median(float(x[i]) for x in v)
        print(f"| {b} | {c} | {statistics.median(eps):.0f} | {min(eps):.0f}-{max(eps):.0f} | {med(12):.0f} | {min(int(x[13]) for x in v)}-{max(int(x[13]) for x in v)} | {med(5):.1f} | {med(6):.2f} | {med(9):.1f} | {med(10):.0f} | {med(11):.2f} |"
              + (f" {max(int(x[14]) for x in v)} |" if sys.argv[3] == "1" else ""))
PY
echo "(medians of $REPS interleaved rounds; wh = webhook, 1,000 events/request; ad = admin, 1 event/request; adb = admin, 1,000 events/request; batch cells ran ${BDUR} s, others ${DUR} s)"
if [ "$CLUSTER" = 1 ]; then
	check A "$URL_A" "$REDIS_A"
	check B "$URL_B" "$REDIS_B"
fi
