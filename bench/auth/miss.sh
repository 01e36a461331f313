#!/bin/sh
# The cache-miss scenarios of the /auth benchmark alone, with an optional
# "before" binary beside revokd and the peers (Go, Node: REVOKD_PEERS, see
# bench/lib.sh) in the same run (ratios
# within one run only: the machine is shared). Prints a table; writes no
# docs (bench/run.sh does).
#
#   bench/auth/miss.sh REVOKD_BIN [BEFORE_BIN]
#   SCENARIOS=miss-rs256,miss-es256 (default)  REPS=3  DUR=3  CONNS via QUICK=1 (c=64)
set -eu
cd "$(dirname "$0")/../.."
REVOKD_BIN=$(realpath "$1")
export REVOKD_BIN
[ -n "${2:-}" ] && { REVOKD_BEFORE_BIN=$(realpath "$2"); export REVOKD_BEFORE_BIN; }
. bench/lib.sh
bench_need wrk nginx curl
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
TOKGEN=$(bench_peer tokens) || exit 2
ROTATE="$TOKGEN/rotate.lua"
export NGINX_BIN ROTATE
TOKENS=${TOKENS:-/tmp/revokd-bench-tokens}
export QUICK=${QUICK:-1} DUR=${DUR:-3}
export SCENARIOS=${SCENARIOS:-miss-rs256,miss-es256}
[ -f "$TOKENS/tok/manifest.json" ] || { echo "miss.sh: run bench/run.sh once for the tokens" >&2; exit 1; }
bench_tmpdir revokd-miss
W=$BENCH_TMP
trap bench_cleanup EXIT INT TERM
if GOSRC=$(bench_peer go-syncmap-service) && command -v go >/dev/null; then
	(cd "$GOSRC" &&
		GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$W/gocache" \
		go build -o "$W/go-peer" .)
	GO_PEER_BIN="$W/go-peer"
	export GO_PEER_BIN
fi
if NODESRC=$(bench_peer node-fastjwt-service) && command -v npm >/dev/null; then
	mkdir "$W/node-peer"
	tar -C "$NODESRC" --exclude=node_modules -cf - . | tar -C "$W/node-peer" -xf -
	(cd "$W/node-peer" && npm ci --no-audit --no-fund --silent >/dev/null)
	NODE_PEER_DIR="$W/node-peer"
	export NODE_PEER_DIR
fi
ln -s "$TOKENS/tok" "$W/tok"
printf 'whsec_%s' "$(head -c 32 /dev/urandom | base64 -w0)" > "$W/webhook.secret"
head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_' > "$W/admin.token"
mkdir "$W/out"
timeout "${LIMIT:-900}" /usr/bin/python3 bench/auth/drive.py "$W" "$W/out" >&2
/usr/bin/python3 - "$W/out/runs.json" <<'PY'
import json, statistics, sys
R = json.load(open(sys.argv[1]))
print("| scenario | server | req/s (median) | server CPU µs/req (median) | load 1m |")
print("|---|---|---|---|---|")
for name, _, variants in R["scenarios"]:
    for v in variants:
        rs = [r for r in R["runs"] if r["scenario"] == name and r["variant"] == v]
        print("| %s | %s | %.0f | %.1f | %s–%s |" % (
            name, v, statistics.median(r["rps"] for r in rs),
            statistics.median(r["cpu_us_per_req"] for r in rs),
            min(r["load_before"] for r in rs), max(r["load_after"] for r in rs)))
PY
