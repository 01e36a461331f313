#!/bin/bash
# bench/webhook/run.sh - signed Standard Webhooks revocations per second
# (issue 5): one event per request at 1, 16 and 64 connections, and 1,000
# events per request.
#
# Hypothesis: a webhook costs an HMAC-SHA256 over the body, a JSON parse and
# a durable commit; with one event per request the rate follows the store's
# group commit (bench/store: ~2k/s for one client, several times that with
# 64), and with 1,000 events per request it is bounded by JSON and SQLite
# inserts, tens of thousands of events per second.
#
#   bench/webhook/run.sh                 (BUILD_DIR=build-release, DUR=5)
# Needs: wrk, python3. Loopback only; every run is bounded by DUR seconds.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build-release}
DUR=${DUR:-5}
cd "$ROOT"
. bench/lib.sh
bench_need wrk curl
[ -d "$BUILD_DIR" ] || meson setup "$BUILD_DIR" --buildtype=release >/dev/null
ninja -C "$BUILD_DIR" service/revokd >/dev/null
bench_tmpdir revokd-webhook-bench
WORK=$BENCH_TMP
trap bench_cleanup EXIT
PORT=$(bench_free_port)
SECRET=$(head -c 32 /dev/urandom | base64)
ISS=https://bench.example
head -c 32 /dev/urandom >"$WORK/hs.secret"
printf 'whsec_%s\n' "$SECRET" >"$WORK/webhook.secret"
cat >"$WORK/revokd.json" <<JSON
{"listen":"127.0.0.1:$PORT","data_dir":"data","log_level":"warn","threads":2,
 "issuers":[{"issuer":"$ISS","algorithms":["HS256"],
   "keys":[{"kid":"h","alg":"HS256","secret_file":"hs.secret"}]}],
 "webhook":{"secret_file":"webhook.secret","tolerance":3600}}
JSON
bench_spawn "$ROOT/$BUILD_DIR/service/revokd" serve --config "$WORK/revokd.json" 2>"$WORK/stderr"
bench_wait_ready "http://127.0.0.1:$PORT/readyz" "$BENCH_PID"

echo "# bench/webhook  $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| events/request | connections | requests/s | events/s | p50 | p99 | non-2xx |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
cell() {  # EVENTS CONNS COUNT
	python3 bench/webhook/gen.py "$SECRET" "$3" "$1" "$ISS" "$WORK/reqs.txt"
	out=$(wrk -t1 -c"$2" -d"${DUR}s" --latency -s bench/webhook/send.lua \
		"http://127.0.0.1:$PORT" -- "$WORK/reqs.txt" 2>&1)
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	bad=$(echo "$out" | awk '/Non-2xx/ {print $5}')
	eps=$(python3 -c "print(round(float('$rps')*$1))")
	echo "| $1 | $2 | $rps | $eps | $p50 | $p99 | ${bad:-0} |"
}
cell 1 1 40000
cell 1 16 80000
cell 1 64 80000
cell 1000 1 400
cell 1000 4 600
