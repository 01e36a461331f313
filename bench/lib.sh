# bench/lib.sh - what every bench/ script shares; sourced, POSIX sh.
#
# Peers. The comparison peers are not part of this repository; they are
# found through ONE variable, REVOKD_PEERS, a folder holding any of:
#
#   go-syncmap-service/    the Go sync.Map JWT service (bench/run.sh)
#   node-fastjwt-service/  the Node 20 fast-jwt service (bench/run.sh)
#   go-syncmap-bench/      Go's sync.Map benchmark (bench/map/run.sh)
#   tokens/                gen_tokens.py and rotate.lua (every /auth bench)
#
# A peer that is absent (or REVOKD_PEERS unset) is skipped with one line on
# stderr saying which and why; the rest of the benchmark runs. nginx (the
# ceiling) is Debian's nginx-light, found on the PATH or in /usr/sbin.
#
# Nothing here installs anything: bench_need prints the exact apt-get line
# and exits; bench/install-deps.sh installs everything bench/ uses.
#
# Helpers:
#   bench_peer NAME       prints $REVOKD_PEERS/NAME; else says why, returns 1
#   bench_need CMD...     every CMD on the PATH, or print the apt-get line
#                         for the missing ones and exit 2
#   bench_free_port       a free loopback TCP port
#   bench_wait_ready URL PID [SECS]  poll URL until it answers (any HTTP
#                         status); fail if PID dies or SECS (30) pass
#   bench_tmpdir PREFIX   sets BENCH_TMP to a new /tmp folder
#   bench_spawn CMD...    runs CMD in the background, remembers its pid
#                         (BENCH_PID, and in BENCH_PIDS for bench_cleanup)
#   bench_cleanup         TERM the spawned pids, the last spawned first (a
#                         server before the redis-server it uses), remove
#                         BENCH_TMP; install with: trap bench_cleanup EXIT INT TERM
#   bench_redis DIR       a private redis-server on a free loopback port,
#                         no persistence, working dir and redis.log in DIR;
#                         waits until it answers PING (at most 10 s); sets
#                         BENCH_REDIS_PORT and BENCH_PID (bench_spawn)
#   bench_store_config DIR  the one-issuer HS256 config of bench/store
#                         (DIR/revokd.json, its secret and admin token
#                         $BENCH_ADMIN_TOKEN)

BENCH_PIDS=
BENCH_TMP=
BENCH_ADMIN_TOKEN=bench-admin-token-0123456789abcdef

bench_peer() {
	if [ -z "${REVOKD_PEERS:-}" ]; then
		echo "bench: REVOKD_PEERS is not set: skipping peer $1 (see bench/lib.sh)" >&2
		return 1
	fi
	if [ ! -d "$REVOKD_PEERS/$1" ]; then
		echo "bench: no $REVOKD_PEERS/$1: skipping peer $1" >&2
		return 1
	fi
	printf '%s\n' "$REVOKD_PEERS/$1"
}

# The Debian package of each command bench/ uses.
bench_pkg() {
	case $1 in
	nginx) echo nginx-light ;;
	go) echo golang-go ;;
	gnuplot) echo gnuplot-nox ;;
	node) echo nodejs ;;
	callgrind_annotate | callgrind_control) echo valgrind ;;
	*) echo "$1" ;;
	esac
}

bench_need() {
	_missing=
	for _c in "$@"; do
		if [ "$_c" = nginx ] && [ -x /usr/sbin/nginx ]; then continue; fi
		command -v "$_c" >/dev/null 2>&1 || _missing="$_missing $(bench_pkg "$_c")"
	done
	if [ -n "$_missing" ]; then
		echo "bench: missing commands; install them with (or run bench/install-deps.sh):" >&2
		echo "  apt-get install -y$_missing" >&2
		exit 2
	fi
}

bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_wait_ready() {
	_n=$(( ${3:-30} * 20 ))
	while [ "$_n" -gt 0 ]; do
		_code=$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null) || _code=000
		[ "$_code" != 000 ] && return 0
		if ! kill -0 "$2" 2>/dev/null; then
			echo "bench: process $2 died before $1 answered" >&2
			return 1
		fi
		sleep 0.05
		_n=$((_n - 1))
	done
	echo "bench: $1 did not answer within ${3:-30} s" >&2
	return 1
}

bench_tmpdir() {
	BENCH_TMP=$(mktemp -d "/tmp/$1.XXXXXX")
}

bench_spawn() {
	"$@" &
	BENCH_PID=$!
	BENCH_PIDS="$BENCH_PIDS $BENCH_PID"
}

bench_cleanup() {
	_rev=
	for _p in $BENCH_PIDS; do _rev="$_p $_rev"; done
	for _p in $_rev; do
		kill "$_p" 2>/dev/null && wait "$_p" 2>/dev/null
	done
	BENCH_PIDS=
	[ -n "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
	BENCH_TMP=
	return 0
}

bench_redis() {
	mkdir -p "$1"
	BENCH_REDIS_PORT=$(bench_free_port)
	bench_spawn redis-server --save '' --appendonly no --daemonize no \
	    --bind 127.0.0.1 --port "$BENCH_REDIS_PORT" --dir "$1" >>"$1/redis.log" 2>&1
	_n=200
	until [ "$(redis-cli -p "$BENCH_REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
		if ! kill -0 "$BENCH_PID" 2>/dev/null || [ "$_n" -eq 0 ]; then
			echo "bench: redis-server on port $BENCH_REDIS_PORT did not start (see $1/redis.log)" >&2
			return 1
		fi
		sleep 0.05
		_n=$((_n - 1))
	done
}

bench_store_config() {
	mkdir -p "$1"
	head -c 32 /dev/urandom >"$1/hs.secret"
	printf '%s\n' "$BENCH_ADMIN_TOKEN" >"$1/admin.token"
	cat >"$1/revokd.json" <<JSON
{ "data_dir": "data", "log_format": "json", "log_level": "info", "threads": 2,
  "issuers": [ { "issuer": "https://bench.test", "algorithms": ["HS256"],
                 "keys": [ { "kid": "h1", "alg": "HS256", "secret_file": "hs.secret" } ] } ],
  "admin": { "token_file": "admin.token" } }
JSON
}
