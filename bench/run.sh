#!/bin/sh
# The /auth benchmark (issues 9, 19): revokd beside the nginx ceiling, the Go
# sync.Map peer and the Node fast-jwt peer, in one run, on loopback; every
# ratio is against the best peer of the same run.
#
#   REVOKD_PEERS=/path/to/peers bench/run.sh
#                                full set: -c16/64/256 x 3 reps, ~20 min
#   QUICK=1 bench/run.sh         -c64 only, 2 s runs, ~7 min (LIMIT_QUICK, 900 s, bounds it)
#   BEFORE=<git rev> bench/run.sh  (e.g. 5e82f29) also runs a "before" revokd on the hit
#                                scenarios: this working tree with the hot-path
#                                files (HOT below) as they are in that revision
#                                (git show, read-only)
#   BEFORE_TREE=<git rev> bench/run.sh  (e.g. 7fc5ebc) the same "before" revokd, but
#                                the whole tree of that revision (git archive),
#                                built in release mode in the temporary folder:
#                                for a revision whose files no longer fit this
#                                tree (a refactor moved them). It gets the same
#                                config as revokd (every key drive.py writes
#                                exists since 7fc5ebc). Not with BEFORE.
#   SCENARIOS=hit-one,hit-10k,miss-hs256  only those scenarios (bench/auth/drive.py)
#   REPS=5 bench/run.sh          five repetitions instead of three
#
# Peers (bench/lib.sh): REVOKD_PEERS/tokens is required (token generator and
# rotate.lua); go-syncmap-service and node-fastjwt-service are each skipped,
# with a line saying so, when absent or when go / node is not installed.
# Needs wrk, nginx (bench/install-deps.sh; nothing is installed here).
# Builds revokd in release mode in build-bench, the Go peer and the Node
# peer's node_modules (`npm ci` in a copy) in a temporary folder (never in
# the repo), tokens with the peers' gen_tokens.py (plus an iss claim) cached
# in $TOKENS (regenerated when older than 5 h: they live 12 h), then
# bench/auth/drive.py runs the scenarios and bench/auth/report.py writes
# bench/results/<date>/ and the generated part of docs/BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
. bench/lib.sh
TOKENS=${TOKENS:-/tmp/revokd-bench-tokens}
ISS=https://bench.revokd.test/
QUICK=${QUICK:-0}
export QUICK

bench_need wrk nginx curl
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
export NGINX_BIN
TOKGEN=$(bench_peer tokens) || { echo "run.sh: the tokens peer is required" >&2; exit 2; }
ROTATE="$TOKGEN/rotate.lua"
export ROTATE

bench_tmpdir revokd-bench
W=$BENCH_TMP
trap bench_cleanup EXIT INT TERM
[ -d build-bench ] || meson setup build-bench --buildtype=release >/dev/null
ninja -C build-bench service/revokd bench/verify/verify_bench >/dev/null
export REVOKD_BIN="$REPO/build-bench/service/revokd"
if [ -n "${BEFORE:-}" ] && [ -n "${BEFORE_TREE:-}" ]; then
	echo "run.sh: BEFORE and BEFORE_TREE are exclusive" >&2
	exit 2
fi
if [ -n "${BEFORE_TREE:-}" ]; then
	mkdir "$W/before"
	git archive "$BEFORE_TREE" | tar -xf - -C "$W/before"
	meson setup "$W/before/b" "$W/before" --buildtype=release >/dev/null
	ninja -C "$W/before/b" service/revokd >/dev/null
	export REVOKD_BEFORE_BIN="$W/before/b/service/revokd"
	echo "run.sh: revokd-before is $BEFORE_TREE ($(git rev-parse --short "$BEFORE_TREE")), whole tree" >&2
elif [ -n "${BEFORE:-}" ]; then
	HOT="api/auth_handler.c api/server.c api/metrics.c cache/vcache.c"
	mkdir "$W/before"
	git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$W/before"
	for f in $HOT; do git show "$BEFORE:$f" > "$W/before/$f"; done
	meson setup "$W/before/b" "$W/before" --buildtype=release >/dev/null
	ninja -C "$W/before/b" service/revokd >/dev/null
	export REVOKD_BEFORE_BIN="$W/before/b/service/revokd"
fi

if GOSRC=$(bench_peer go-syncmap-service); then
	if [ -d /usr/share/gocode/src/github.com/golang-jwt/jwt ] && command -v go >/dev/null; then
		(cd "$GOSRC" &&
			GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$W/gocache" \
			go build -o "$W/go-peer" .)
		GO_PEER_BIN="$W/go-peer"
		export GO_PEER_BIN
	else
		echo "run.sh: skipping the Go peer: apt-get install -y golang-go golang-github-golang-jwt-jwt-dev" >&2
	fi
fi
if NODESRC=$(bench_peer node-fastjwt-service); then
	if command -v node >/dev/null && command -v npm >/dev/null; then
		mkdir "$W/node-peer"
		tar -C "$NODESRC" --exclude=node_modules -cf - . | tar -C "$W/node-peer" -xf -
		(cd "$W/node-peer" && npm ci --no-audit --no-fund --silent >/dev/null)
		NODE_PEER_DIR="$W/node-peer"
		export NODE_PEER_DIR
	else
		echo "run.sh: skipping the Node peer: apt-get install -y nodejs npm" >&2
	fi
fi

if [ -d "$TOKENS" ] && [ -n "$(find "$TOKENS" -maxdepth 0 -mmin +300)" ]; then
	rm -rf "$TOKENS"
fi
mkdir -p "$TOKENS"
[ -f "$TOKENS/tok/manifest.json" ] ||
	/usr/bin/python3 bench/auth/prep.py tokens "$TOKENS/tok" 100000 "$ISS" "$TOKGEN"
ln -s "$TOKENS/tok" "$W/tok"
if [ -d "$TOKENS/data-1m" ]; then
	cp -r "$TOKENS/data-1m" "$W/data-revokd-1m"
fi

printf 'whsec_%s' "$(head -c 32 /dev/urandom | base64 -w0)" > "$W/webhook.secret"
head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_' > "$W/admin.token"
/usr/bin/python3 bench/auth/prep.py webhook "$W/webhook.reqs" "$W/webhook.secret" "$ISS" 40000

STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT="$REPO/bench/results/$STAMP"
mkdir -p "$OUT"
LIMIT=${LIMIT:-2400}; [ "$QUICK" = 1 ] && LIMIT=${LIMIT_QUICK:-900}
timeout "$LIMIT" /usr/bin/python3 bench/auth/drive.py "$W" "$OUT" 2>&1 | tee "$OUT/run.log"
[ -d "$TOKENS/data-1m" ] || cp -r "$W/data-revokd-1m" "$TOKENS/data-1m" 2>/dev/null || :
# The crypto floor of this run (issue 19 asks for it beside the RS256 CPU
# target): one verify as revokd makes it, on a pinned key, single-threaded,
# after the servers have stopped; report.py puts it beside the target.
timeout 120 build-bench/bench/verify/verify_bench 2000 > "$OUT/verify.txt" 2>&1 ||
	echo "run.sh: verify_bench failed; no crypto floor in this report" >&2
CMD="bench/run.sh"; [ "$QUICK" = 1 ] && CMD="QUICK=1 $CMD"
[ -n "${BEFORE:-}" ] && CMD="BEFORE=$BEFORE $CMD"
[ -n "${BEFORE_TREE:-}" ] && CMD="BEFORE_TREE=$BEFORE_TREE $CMD"
[ -n "${SCENARIOS:-}" ] && CMD="SCENARIOS=$SCENARIOS $CMD"
[ -n "${REPS:-}" ] && CMD="REPS=$REPS $CMD"
/usr/bin/python3 bench/auth/report.py "$OUT" "$CMD" > /dev/null
echo "run.sh: $OUT/summary.md, docs/BENCHMARKS.md"
