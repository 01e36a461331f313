#!/bin/sh
# The /auth benchmark (issue 9): revokd beside the nginx ceiling and the Go
# sync.Map peer, in one run, on loopback.
#
#   bench/run.sh                 full set: -c16/64/256 x 3 reps, ~15 min
#   QUICK=1 bench/run.sh         -c64 only, 2 s runs, ~3 min
#   BEFORE=<git rev> bench/run.sh  (e.g. 5e82f29) also runs a "before" revokd on the hit
#                                scenarios: this working tree with the hot-path
#                                files (HOT below) as they are in that revision
#                                (git show, read-only)
#
# Installs (Debian): golang-go golang-github-golang-jwt-jwt-dev wrk
# nginx-light gnuplot-nox (the plot is gnuplot's). Builds revokd in release
# mode in build-bench, the Go peer into a temporary folder (never in the
# repo), tokens with the peers' gen_tokens.py (plus an iss claim) cached in
# $TOKENS (regenerated when older than 5 h: they live 12 h), then
# bench/auth/drive.py runs the scenarios and bench/auth/report.py writes
# bench/results/<date>/ and the generated part of docs/BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
PEERS=${PEERS:-/work/shared/peers}
TOKENS=${TOKENS:-/tmp/revokd-bench-tokens}
ISS=https://bench.revokd.test/
QUICK=${QUICK:-0}
export QUICK

need=""
command -v wrk >/dev/null || need="$need wrk"
command -v go >/dev/null || need="$need golang-go"
[ -d /usr/share/gocode/src/github.com/golang-jwt/jwt ] || need="$need golang-github-golang-jwt-jwt-dev"
[ -x /usr/sbin/nginx ] || need="$need nginx-light"
command -v gnuplot >/dev/null || need="$need gnuplot-nox"
if [ -n "$need" ]; then
	echo "run.sh: apt-get install -y$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y $need >/dev/null
fi

W=$(mktemp -d /tmp/revokd-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM

[ -d build-bench ] || meson setup build-bench --buildtype=release >/dev/null
ninja -C build-bench service/revokd >/dev/null
export REVOKD_BIN="$REPO/build-bench/service/revokd"
if [ -n "${BEFORE:-}" ]; then
	HOT="api/auth_handler.c api/server.c api/metrics.c cache/vcache.c"
	mkdir "$W/before"
	git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$W/before"
	for f in $HOT; do git show "$BEFORE:$f" > "$W/before/$f"; done
	meson setup "$W/before/b" "$W/before" --buildtype=release >/dev/null
	ninja -C "$W/before/b" service/revokd >/dev/null
	export REVOKD_BEFORE_BIN="$W/before/b/service/revokd"
fi

(cd "$PEERS/go-syncmap-service" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$W/gocache" \
	go build -o "$W/go-peer" .)
export GO_PEER_BIN="$W/go-peer"

if [ -d "$TOKENS" ] && [ -n "$(find "$TOKENS" -maxdepth 0 -mmin +300)" ]; then
	rm -rf "$TOKENS"
fi
mkdir -p "$TOKENS"
[ -f "$TOKENS/tok/manifest.json" ] ||
	/usr/bin/python3 bench/auth/prep.py tokens "$TOKENS/tok" 100000 "$ISS"
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
LIMIT=1200; [ "$QUICK" = 1 ] && LIMIT=300
timeout "$LIMIT" /usr/bin/python3 bench/auth/drive.py "$W" "$OUT" 2>&1 | tee "$OUT/run.log"
[ -d "$TOKENS/data-1m" ] || cp -r "$W/data-revokd-1m" "$TOKENS/data-1m" 2>/dev/null || :
CMD="bench/run.sh"; [ "$QUICK" = 1 ] && CMD="QUICK=1 $CMD"
[ -n "${BEFORE:-}" ] && CMD="BEFORE=$BEFORE $CMD"
/usr/bin/python3 bench/auth/report.py "$OUT" "$CMD" > /dev/null
echo "run.sh: $OUT/summary.md, docs/BENCHMARKS.md"
