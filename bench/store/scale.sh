#!/bin/bash
# bench/store/scale.sh - revokd with N stored revocations (issue 19, item 5):
# start-up time, memory, the sweeper's idle CPU and the /auth hit rate,
# beside an empty store, in one run.
#
#   bench/store/scale.sh [N]           default N = 10000000
#   BUILD_DIR=build-x bench/store/scale.sh 1000000
#
# What it does, every step bounded in time:
#   1. generates a database of N revocations in revokd's own schema (the
#      one a first start of revokd creates and migrates: per-source rows in
#      `revocations`, and with VERSIONS=1 (the default) one `versions` row
#      per contribution as a cluster replica writes them) with
#      bench/store/gen_db.sh, 1,000,000 rows per transaction, at nice 10; mix 80% token, 10%
#      session, 5% subject, 5% key (as bench/store/run.sh), every one live
#      for a day. The file's size per row comes from SQLite's dbstat table.
#   2. starts revokd on an empty data dir and on the N-row one through its
#      real start-up path (open, quick_check when the file has no clean-stop marker, load): time to /readyz 200,
#      the process's CPU time at that moment (what survives a loaded host),
#      RSS when ready, the store's own load_ms; bytes per revocation =
#      (RSS full - RSS empty) / N.
#   3. leaves both idle for IDLE seconds (default 120) and reads each
#      thread's CPU from /proc/PID/task/*/stat (threads are named:
#      rvk-sweeper, rvk-store, ...), so the sweeper's cost with N rows is
#      measured, not assumed.
#   4. /auth cache hits with 10,000 distinct HS256 tokens (none revoked, so
#      every request looks up jti, sid, sub, issuer and kid in the table),
#      wrk -t1 -c16 for DUR seconds (default 5), alternating empty, full,
#      empty, full: the ratio full / empty within the run.
#
# Knobs: N (argument), BUILD_DIR (default build-release, created as a
# release build if absent), IDLE, DUR, VERSIONS (1/0), CLEAN_STOP=1 (start
# revokd once on the N-row file and stop it with SIGTERM before the
# measured start: a restart after a clean stop, which skips the whole-file
# check, DECISIONS D26; default 0: the file as the generator left it, with
# no clean-stop marker, so the check runs), KEEP_DB=path (reuse
# a database a previous run generated with the same N; it is copied, never
# changed), WORK (a folder for the data, default a new one under /tmp:
# 10M rows need ~3 GB). Needs: wrk, sqlite3, curl, python3 (stdlib only).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-10000000}
BUILD_DIR=${BUILD_DIR:-build-release}
IDLE=${IDLE:-120}
DUR=${DUR:-5}
VERSIONS=${VERSIONS:-1}
case $BUILD_DIR in
/*) BIN="$BUILD_DIR/service/revokd" ;;
*) BIN="$ROOT/$BUILD_DIR/service/revokd" ;;
esac
. "$ROOT/bench/lib.sh"
TOKEN=$BENCH_ADMIN_TOKEN
bench_need wrk sqlite3 curl python3 meson ninja

cd "$ROOT"
if [ ! -d "$BUILD_DIR" ]; then
	meson setup "$BUILD_DIR" --buildtype=release >/dev/null
fi
nice ninja -C "$BUILD_DIR" service/revokd >/dev/null

OWN_WORK=
if [ -n "${WORK:-}" ]; then mkdir -p "$WORK"; else WORK=$(mktemp -d /tmp/revokd-scale.XXXXXX); OWN_WORK=1; fi
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$WORK/empty" "$WORK/full" "$WORK/tokens.txt" "$WORK"/[ef][01d]
	[ -n "$OWN_WORK" ] && rm -rf "$WORK"
	return 0
}
trap cleanup EXIT INT TERM

now_ns() { date +%s%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# start DIR PORT: starts revokd, waits (at most 600 s) for /readyz 200;
# sets PID and READY_MS.
start() {
	local t0 t1 n=0
	t0=$(now_ns)
	"$BIN" serve --config "$1/revokd.json" --listen "127.0.0.1:$2" 2>>"$1/stderr.log" &
	PID=$!
	PIDS="$PIDS $PID"
	until curl -fs -o /dev/null "http://127.0.0.1:$2/readyz"; do
		kill -0 "$PID" 2>/dev/null || { echo "revokd died:" >&2; tail "$1/stderr.log" >&2; exit 1; }
		n=$((n + 1))
		[ "$n" -gt 60000 ] && { echo "not ready within 600 s" >&2; exit 1; }
		sleep 0.01
	done
	t1=$(now_ns)
	READY_MS=$(( (t1 - t0) / 1000000 ))
}

stop() { # PID
	kill -TERM "$1"
	wait "$1" || true
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

cpu_ms() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($12 + $13) * 1000 / hz }'; }
rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
load_ms() { grep '"store opened"' "$1/stderr.log" | tail -1 | sed 's/.*"load_ms":"\([0-9.]*\)".*/\1/'; }
# "full (N ms)" or "skipped" from the last "store opened" line; "full
# (always)" for a build that checks at every start and does not say so.
check_of() {
	local l
	l=$(grep '"store opened"' "$1/stderr.log" | tail -1)
	case $l in
	*'"integrity_check":"full"'*) echo "full ($(echo "$l" | sed 's/.*"check_ms":"\([0-9.]*\)".*/\1/') ms)" ;;
	*'"integrity_check":"skipped"'*) echo skipped ;;
	*) echo "full (always)" ;;
	esac
}

# Per-thread CPU ticks, "comm ticks" per line (utime + stime).
threads_cpu() {
	for t in /proc/"$1"/task/*; do
		printf '%s %s\n' "$(cat "$t/comm")" \
		    "$(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }')"
	done | awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }' | sort
}

echo "# revokd at scale: $N revocations, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "host: $(nproc) CPUs, $(free -g | awk '/Mem:/ { print $2 }') GB, $(uname -r); build: $BUILD_DIR; load average $(load)"
echo

# --- 1. the database ------------------------------------------------------
mkdir -p "$WORK/empty" "$WORK/full"
bench_store_config "$WORK/empty"
bench_store_config "$WORK/full"
cp "$WORK/full/hs.secret" "$WORK/empty/hs.secret"   # one secret: the same tokens for both
PE=$(bench_free_port)
PF=$(bench_free_port)
start "$WORK/full" "$PF"       # creates and migrates the database
stop "$PID"
DB="$WORK/full/data/revokd.db"
if [ -n "${KEEP_DB:-}" ] && [ -f "$KEEP_DB" ]; then
	cp "$KEEP_DB" "$DB"
	rm -f "$DB-wal" "$DB-shm"
	echo "database: copied from $KEEP_DB"
else
	t0=$(now_ns)
	VERSIONS=$VERSIONS "$ROOT/bench/store/gen_db.sh" "$DB" "$N"
	t1=$(now_ns)
	echo "database: generated with bench/store/gen_db.sh in $(( (t1 - t0) / 1000000 )) ms (nice 10, 1M rows per transaction)"
fi
bytes=$(stat -c %s "$DB")
echo "file: $bytes bytes, $(awk -v b="$bytes" -v n="$N" 'BEGIN { printf "%.0f", b / n }') bytes per revocation; by table and index (dbstat):"
sqlite3 "$DB" "SELECT name, sum(pgsize), count(*) FROM dbstat GROUP BY name ORDER BY 2 DESC;" |
	awk -F'|' -v n="$N" '$2 > 100000 { printf "  %-22s %12d bytes  %6.1f bytes/row  (%d pages)\n", $1, $2, $2 / n, $3 }'
echo

# --- 2. start-up ----------------------------------------------------------
if [ "${CLEAN_STOP:-0}" = 1 ]; then
	start "$WORK/full" "$PF"
	stop "$PID"
	echo "before the measured start: one start on the $N-row file and a clean stop (CLEAN_STOP=1)"
fi
sync
start "$WORK/empty" "$PE"; PIDE=$PID; RE=$READY_MS; CE=$(cpu_ms "$PIDE")
sleep 1
RSSE=$(rss_kb "$PIDE")
L0=$(load)
start "$WORK/full" "$PF"; PIDF=$PID; RF=$READY_MS; CF=$(cpu_ms "$PIDF")
RSSF=$(rss_kb "$PIDF")
total=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PF/admin/v1/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["revocations"]["total"])')
echo "## Start-up (page cache warm: the file was just written or copied; load average $L0 before, $(load) after)"
echo
echo "| store | time to /readyz 200 (ms) | CPU at ready (ms, utime+stime) | load scan (ms, load_ms in its log) | whole-file check | RSS when ready (MB) | revocations loaded |"
echo "|---|---:|---:|---:|---|---:|---:|"
echo "| empty | $RE | $CE | $(load_ms "$WORK/empty") | $(check_of "$WORK/empty") | $(( RSSE / 1024 )) | 0 |"
echo "| $N | $RF | $CF | $(load_ms "$WORK/full") | $(check_of "$WORK/full") | $(( RSSF / 1024 )) | $total |"
echo
echo "memory per revocation: (RSS full - RSS empty) / N = $(awk -v a="$RSSF" -v b="$RSSE" -v n="$N" 'BEGIN { printf "%.1f", (a - b) * 1024 / n }') bytes"
echo "start-up per million: $(awk -v t="$RF" -v e="$RE" -v n="$N" 'BEGIN { printf "%.0f", (t - e) * 1e6 / n }') ms wall, $(awk -v t="$CF" -v e="$CE" -v n="$N" 'BEGIN { printf "%.0f", (t - e) * 1e6 / n }') ms CPU (minus the empty start's; CPU is the figure that survives a loaded host)"
echo "before the load scan: open, PRAGMA quick_check (every page of the file; after an unclean stop only, DECISIONS D26) and SELECT max(version) FROM versions; the load scan: one SELECT over revocations and a put per row"
echo

# --- 3. idle CPU by thread ------------------------------------------------
echo "## Idle CPU by thread over $IDLE s (load average $(load) before)"
echo
threads_cpu "$PIDE" >"$WORK/e0"; threads_cpu "$PIDF" >"$WORK/f0"
t0=$(now_ns)
sleep "$IDLE"
t1=$(now_ns)
threads_cpu "$PIDE" >"$WORK/e1"; threads_cpu "$PIDF" >"$WORK/f1"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
hz=$(getconf CLK_TCK)
echo "| thread | empty: CPU ms per s | $N rows: CPU ms per s |"
echo "|---|---:|---:|"
join -a1 -a2 -e0 -o 0,1.2,2.2 "$WORK/e0" "$WORK/e1" >"$WORK/ed"
join -a1 -a2 -e0 -o 0,1.2,2.2 "$WORK/f0" "$WORK/f1" >"$WORK/fd"
join -a1 -a2 -e0 -o 0,1.2,1.3,2.2,2.3 "$WORK/ed" "$WORK/fd" |
	awk -v s="$secs" -v hz="$hz" '{ printf "| %s | %.2f | %.2f |\n", $1, ($3 - $2) * 1000 / hz / s, ($5 - $4) * 1000 / hz / s }'
echo
echo "(over $secs s; load average $(load) after; ticks of $(( 1000 / hz )) ms, so a figure under $(awk -v s="$secs" -v hz="$hz" 'BEGIN { printf "%.2f", 1000 / hz / s }') ms/s is one tick or none)"
grep -h '"expired revocations purged"' "$WORK/full/stderr.log" | tail -1 || :
echo

# --- 4. /auth hits, empty vs N --------------------------------------------
TOK="$WORK/tokens.txt"
python3 - "$WORK/full/hs.secret" "$TOK" <<'PY'
import base64, hashlib, hmac, json, sys, time
key = open(sys.argv[1], "rb").read()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
now = int(time.time())
hdr = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "h1"}).encode())
with open(sys.argv[2], "w") as f:
    for i in range(10000):
        body = b64(json.dumps({"iss": "https://bench.test", "sub": f"user-{i}",
                               "sid": f"sess-{i}", "jti": f"scale-{i}",
                               "iat": now - 10, "exp": now + 3000}).encode())
        msg = hdr + b"." + body
        f.write((msg + b"." + b64(hmac.new(key, msg, hashlib.sha256).digest())).decode() + "\n")
PY
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(head -1 "$TOK")" "http://127.0.0.1:$1/auth"; }
[ "$(code "$PE")" = 200 ] && [ "$(code "$PF")" = 200 ] || { echo "a token was not accepted: empty $(code "$PE"), full $(code "$PF")" >&2; exit 1; }
MIX="$ROOT/bench/auth/mix.lua"
rate() { wrk -t1 -c16 -d"${DUR}s" -s "$MIX" "http://127.0.0.1:$1" -- "$TOK" /dev/null 0 |
         awk '/^Requests\/sec/ { printf "%.0f", $2 }'; }
# warm both verified-token caches first
rate "$PE" >/dev/null; rate "$PF" >/dev/null
echo "## /auth cache hits, 10,000 tokens, wrk -t1 -c16 -d${DUR}s (load average $(load) before)"
echo
echo "| round | empty req/s | $N rows req/s | ratio |"
echo "|---:|---:|---:|---:|"
for r in 1 2; do
	a=$(rate "$PE"); b=$(rate "$PF")
	echo "| $r | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b / a }') |"
done
echo
echo "load average after: $(load); RSS after the run: empty $(( $(rss_kb "$PIDE") / 1024 )) MB, full $(( $(rss_kb "$PIDF") / 1024 )) MB"
