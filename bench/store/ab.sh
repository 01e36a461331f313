#!/bin/bash
# bench/store/ab.sh - two builds, durable revocations/s at 1, 16 and 64
# clients, cells interleaved (A then B for each cell, REPS rounds), so that
# both builds see the same neighbours and the same disk. The one-event
# cells of run.sh, each build on its own data dir, both servers up
# throughout (the idle one costs nothing).
#
#   A=/tmp/gc-before/build-gc B=build-gc bench/store/ab.sh
#   DUR=3 REPS=3 (defaults)
# Prints each cell, then per build the median of each client count, rows per
# commit, and 64 clients / 1 client from the medians.
# Needs: wrk, curl; run.sh's post.lua.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DUR=${DUR:-3}
REPS=${REPS:-3}
LUA="$ROOT/bench/store/post.lua"
. "$ROOT/bench/lib.sh"
TOKEN=$BENCH_ADMIN_TOKEN
bin_of() { case $1 in /*) echo "$1/service/revokd" ;; *) echo "$ROOT/$1/service/revokd" ;; esac; }
BIN_A=$(bin_of "${A:?A=build dir}")
BIN_B=$(bin_of "${B:?B=build dir}")

WORK=$(mktemp -d /tmp/revokd-store-ab.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME BIN: a one-issuer revokd in $WORK/NAME; sets PORT.
start() {
	local d="$WORK/$1" port
	bench_store_config "$d"
	port=$(bench_free_port)
	"$2" serve --config "$d/revokd.json" --listen "127.0.0.1:$port" \
	    >/dev/null 2>>"$d/stderr.log" &
	PIDS+=($!)
	until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.01; done
	PORT=$port
}

counters() { # URL -> "commits rows"
	curl -fs -H "Authorization: Bearer $TOKEN" "$1/admin/v1/stats" |
	    python3 -c 'import json,sys; s=json.load(sys.stdin)["store"]; print(s["commits"], s["rows_written"])'
}

# cell NAME URL CLIENTS ROUND: one line "NAME CLIENTS rps p50 p99 rows/commit load"
cell() {
	local c=$3 t c0 r0 c1 r1 line req secs
	t=$(( c < 2 ? c : 2 ))
	read -r c0 r0 < <(counters "$2")
	line=$(ADMIN_TOKEN=$TOKEN BATCH=1 PREFIX="$1-c$c-r$4" \
	       wrk -t "$t" -c "$c" -d "${DUR}s" --timeout 30s -s "$LUA" "$2" | grep '^RESULT')
	read -r c1 r1 < <(counters "$2")
	req=$(echo "$line" | sed 's/.*requests=\([0-9]*\).*/\1/')
	secs=$(echo "$line" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
	echo "$1 $c $(awk -v r="$req" -v s="$secs" 'BEGIN { printf "%.0f", r / s }')" \
	     "$(echo "$line" | sed 's/.*p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\1 \2/')" \
	     "$(awk -v c=$((c1 - c0)) -v r=$((r1 - r0)) 'BEGIN { printf "%.1f", r / c }')" \
	     "$(cut -d' ' -f1 /proc/loadavg)" \
	     "$(echo "$line" | sed 's/.*non201=\([0-9]*\).*/\1/')"
}

start a "$BIN_A"
URL_A="http://127.0.0.1:$PORT"
start b "$BIN_B"
URL_B="http://127.0.0.1:$PORT"
echo "# store A/B, $(date -u +%Y-%m-%dT%H:%MZ), ${DUR} s per cell, $REPS rounds"
echo "# A: $BIN_A"
echo "# B: $BIN_B"
echo "# build clients req/s p50_ms p99_ms rows/commit load non201"
OUT="$WORK/cells"
for r in $(seq 1 "$REPS"); do
	for c in 1 16 64; do
		cell A "$URL_A" "$c" "$r" | tee -a "$OUT"
		cell B "$URL_B" "$c" "$r" | tee -a "$OUT"
	done
done
echo
echo "| build | 1 client req/s | 16 clients req/s | 64 clients req/s | rows/commit at 16 / 64 | 64 / 1 |"
echo "|---|---:|---:|---:|---:|---:|"
for b in A B; do
	python3 - "$OUT" "$b" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split()[0] == sys.argv[2]]
med = lambda c, i: statistics.median(float(x[i]) for x in rows if x[1] == str(c))
one, six, sf = med(1, 2), med(16, 2), med(64, 2)
print(f"| {sys.argv[2]} | {one:.0f} | {six:.0f} | {sf:.0f} | {med(16, 5):.1f} / {med(64, 5):.1f} | {sf / one:.1f}x |")
PY
done
echo "(medians of $REPS interleaved rounds)"
