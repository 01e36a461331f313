#!/bin/sh
# CPU profile of the /auth path (issue 9): revokd (threads=1) under
# valgrind --tool=callgrind while wrk sends tokens for a bounded time;
# prints the top functions by instructions, inclusive and self, and the
# requests answered, so totals divide into instructions per request.
# `perf stat -e instructions` is not supported on this machine (no PMU in
# the VM), so callgrind's instruction counts stand in.
#
#   bench/alloc/profile.sh [SECONDS] [OUTFILE]
#   TOKFILE=/tmp/revokd-bench-tokens/tok/hs256.tokens bench/alloc/profile.sh  (misses)
#   BUILD=build-miss (default build-bench): the release build to profile
#   KEEP=/tmp/cg.out: keep callgrind's output file there
#
# Instrumentation starts after the server answers /healthz (start-up, key
# loading and the first-request warm-up are not in the counts).
#   needs valgrind, wrk, curl and $REVOKD_PEERS/tokens (rotate.lua; bench/lib.sh)
set -eu
cd "$(dirname "$0")/../.."
. bench/lib.sh
bench_need valgrind callgrind_control wrk curl
TOKGEN=$(bench_peer tokens) || exit 2
SECS=${1:-8}
OUTF=${2:-/dev/stdout}
TOKENS=${TOKENS:-/tmp/revokd-bench-tokens}
BUILD=${BUILD:-build-bench}
W=$(mktemp -d /tmp/revokd-prof.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
ninja -C "$BUILD" service/revokd >/dev/null
K="$TOKENS/tok/keys"
cat > "$W/revokd.json" <<JSON
{"listen": "127.0.0.1:28498", "admin_listen": "127.0.0.1:28497", "threads": 1, "data_dir": "$W/data", "log_level": "error",
 "max_token_lifetime": 86400, "verified_cache": {"max_entries": ${VCACHE_MAX:-10000}, "ttl": 3600},
 "issuers": [{"issuer": "https://bench.revokd.test/", "algorithms": ["HS256","RS256","ES256"],
   "keys": [{"alg": "HS256", "secret_file": "$K/hs256.secret"},
            {"alg": "RS256", "pem_file": "$K/rs256.pub.pem"},
            {"alg": "ES256", "pem_file": "$K/es256.pub.pem"}]}]}
JSON
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --instr-atstart=no \
	"$BUILD"/service/revokd serve --config "$W/revokd.json" 2>"$W/vg.log" &
PID=$!
for i in $(seq 1 100); do
	curl -s -o /dev/null http://127.0.0.1:28498/healthz && break
	sleep 0.3
done
callgrind_control -i on $PID >/dev/null
# Misses: every token of TOKFILE once (rotate.lua); hits: the first request
# verifies and caches, the rest are hits.
wrk -t1 -c4 -d"$SECS"s -s "$TOKGEN/rotate.lua" http://127.0.0.1:28498 \
	-- "${TOKFILE:-$TOKENS/tok/hs256.one}" > "$W/wrk.txt"
callgrind_control -i off $PID >/dev/null
kill -TERM $PID; wait $PID 2>/dev/null || :
REQS=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
[ -n "${KEEP:-}" ] && cp "$W/cg.out" "$KEEP"
{
	echo "requests: $REQS (wrk -c4 -d${SECS}s under callgrind)"
	callgrind_annotate --inclusive=yes "$W/cg.out" 2>/dev/null | sed -n '1,60p'
	echo "---- self"
	callgrind_annotate "$W/cg.out" 2>/dev/null | sed -n '/Ir/,$p' | sed -n '1,50p'
} > "$OUTF"
