#!/bin/sh
# bench/map/run.sh - the map benchmark and Go's sync.Map peer, in one run.
#
# Builds map_bench in release mode, runs it (cache/syncmap vs pthread_rwlock
# + chained hash, same keys/hash/presizing), then Go's sync.Map benchmark on
# the same workload ($REVOKD_PEERS/go-syncmap-bench, w=churn; bench/lib.sh), and
# writes everything to bench/results/map-<date>.txt, ending with a summary
# table of the three at every mix. Needs golang-go (bench/install-deps.sh)
# and the peer; without either the Go part is skipped and says so.
#
#   bench/map/run.sh                 defaults: 1.0 s per cell, best of 2
#   CELL=0.5 REPS=1 bench/map/run.sh quicker
#   BUILD_DIR=build-x bench/map/run.sh
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build-release}
CELL=${CELL:-1.0}
REPS=${REPS:-2}
. "$ROOT/bench/lib.sh"
PEER=$(bench_peer go-syncmap-bench) || PEER=
OUT_DIR="$ROOT/bench/results"
OUT="$OUT_DIR/map-$(date -u +%Y%m%d-%H%M%S).txt"
mkdir -p "$OUT_DIR"

cd "$ROOT"
if [ ! -d "$BUILD_DIR" ]; then
	meson setup "$BUILD_DIR" --buildtype=release >/dev/null
fi
ninja -C "$BUILD_DIR" bench/map/map_bench >/dev/null

{
	echo "# bench/map/run.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(uname -srm)  $(nproc) CPUs"
	echo "# command: CELL=$CELL REPS=$REPS BUILD_DIR=$BUILD_DIR bench/map/run.sh"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## C: $BUILD_DIR/bench/map/map_bench $CELL $REPS"
	"$BUILD_DIR/bench/map/map_bench" "$CELL" "$REPS"
	echo
	if command -v go >/dev/null 2>&1 && [ -n "$PEER" ]; then
		TMP=$(mktemp -d)
		cp "$PEER"/*.go "$TMP"/
		echo "## Go $(go version | cut -d' ' -f3): sync.Map, same workload (w=churn), GOMAXPROCS=2"
		echo "# GO111MODULE=off GOMAXPROCS=2 go test -run XXX -bench 'Table/impl=syncmap/n=/mix=(100-0|99-1|90-10|50-50)\$/w=(none|churn)/' -benchtime 500ms -count 3"
		(cd "$TMP" && GO111MODULE=off GOMAXPROCS=2 GOFLAGS= go test -run XXX \
			-bench 'Table/impl=syncmap/n=/mix=(100-0|99-1|90-10|50-50)$/w=(none|churn)/' \
			-benchtime 500ms -count 3)
		echo
		echo "## Go memory per entry and promotion stall"
		(cd "$TMP" && GO111MODULE=off GOFLAGS= go test -run 'TestMemPerEntry|TestSyncMapStall' -v) |
			grep -E '^(MEM|STALL)'
		rm -rf "$TMP"
	else
		echo "## Go sync.Map: skipped (no 'go' on PATH, or no go-syncmap-bench under REVOKD_PEERS)"
	fi
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT" 2>&1

# Summary: C rows and the median of Go's three runs per cell, side by side.
python3 - "$OUT" >> "$OUT" <<'EOF'
import re, statistics, sys
text = open(sys.argv[1]).read()
c = {}
for m in re.finditer(r'^(10k|1M)\s+(\d+)/(\d+)\s+(\d)\s+\|\s+([\d.]+)\s+\d+%\s+[\d.]+\s+\|\s+([\d.]+)', text, re.M):
    c[(m[1], f"{m[2]}-{m[3]}", m[4])] = (float(m[5]), float(m[6]))
go = {}
for m in re.finditer(r'impl=syncmap/n=(10k|1M)/mix=([\d-]+)/w=\w+/g=(\d)\S*\s.*?([\d.e+]+) ops/s', text):
    go.setdefault((m[1], m[2], m[3]), []).append(float(m[4]) / 1e6)
print("\n## Summary (Mops/s; Go = median of 3)")
print("| n | mix | threads | syncmap | rwlock+chained | Go sync.Map | syncmap/rwlock | syncmap/Go |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(c, key=lambda k: (k[0] != '10k', ['100-0','99-1','90-10','50-50'].index(k[1]), k[2])):
    s, b = c[key]
    g = statistics.median(go[key]) if key in go else None
    gs = f"{g:.2f}" if g else "-"
    rg = f"{s / g:.1f}x" if g else "-"
    print(f"| {key[0]} | {key[1].replace('-', '/')} | {key[2]} | {s:.2f} | {b:.2f} | {gs} | {s / b:.2f}x | {rg} |")
EOF
cat "$OUT"
echo "written: $OUT"
