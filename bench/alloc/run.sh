#!/bin/sh
# Heap allocations per /auth cache hit (issue 9): revokd (build-alloc:
# release, -Dallocator=libc) under the counting shim alloc_count.so; one
# keep-alive connection sends one request (the miss that fills the
# cache), then N hits, and the per-thread
# malloc/calloc/realloc counts before and after give allocations per hit.
# Also 401 denials (no token; a revoked-style bad token is the same path).
#
#   bench/alloc/run.sh [N]     (needs bench/run.sh's token cache, $TOKENS)
#   ALLOC_BT=5 bench/alloc/run.sh   also prints 5 backtraces of hit-time
#                                   allocations, if there are any
set -eu
cd "$(dirname "$0")/../.."
N=${1:-20000}
TOKENS=${TOKENS:-/tmp/revokd-bench-tokens}
W=$(mktemp -d /tmp/revokd-alloc.XXXXXX)
trap 'kill $PID 2>/dev/null; rm -rf "$W"' EXIT INT TERM
# A build on the C library's allocator: the counting shim interposes
# malloc and friends, which jemalloc (linked into the default build since
# DECISIONS D28) does not survive ("Error setting tsd"). What is counted
# is what revokd and its libraries ask for, whichever allocator answers.
[ -d build-alloc ] || meson setup build-alloc --buildtype=release -Dallocator=libc >/dev/null
ninja -C build-alloc service/revokd >/dev/null
gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$W/alloc_count.so" bench/alloc/alloc_count.c -lpthread
K="$TOKENS/tok/keys"
for T in 1 2; do
cat > "$W/revokd.json" <<JSON
{"listen": "127.0.0.1:28499", "admin_listen": "127.0.0.1:28496", "threads": $T, "data_dir": "$W/data", "log_level": "error",
 "max_token_lifetime": 86400, "verified_cache": {"max_entries": 10000, "ttl": 3600},
 "issuers": [{"issuer": "https://bench.revokd.test/", "algorithms": ["HS256","RS256","ES256"],
   "keys": [{"alg": "HS256", "secret_file": "$K/hs256.secret"},
            {"alg": "RS256", "pem_file": "$K/rs256.pub.pem"},
            {"alg": "ES256", "pem_file": "$K/es256.pub.pem"}]}]}
JSON
ALLOC_COUNT_OUT="$W/counts" LD_PRELOAD="$W/alloc_count.so" \
	build-alloc/service/revokd serve --config "$W/revokd.json" 2>"$W/stderr" &
PID=$!
echo "== threads=$T"
/usr/bin/python3 - "$W/counts" "$TOKENS/tok/hs256.one" "$N" <<'PY'
import http.client, os, sys, time
counts, tokfile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
tok = open(tokfile).read().strip()
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", 28499); c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
def snap():
    time.sleep(0.35)   # two reporter periods
    out = {}
    for line in open(counts):
        tid, comm, k = line.split()
        out[tid] = (comm, int(k))
    return out
def diff(a, b):
    return {t: (b[t][0], b[t][1] - a.get(t, ("", 0))[1]) for t in b if b[t][1] - a.get(t, ("", 0))[1]}
def go(label, headers, status):
    c = http.client.HTTPConnection("127.0.0.1", 28499)
    c.request("GET", "/auth", headers=headers); r = c.getresponse(); r.read()
    assert r.status == status, (label, r.status)
    a = snap()
    for _ in range(n):
        c.request("GET", "/auth", headers=headers); r = c.getresponse(); r.read()
        assert r.status == status
    b = snap()
    d = diff(a, b)
    tot = sum(k for _, k in d.values())
    print(f"{label}: {n} requests on one keep-alive connection: {tot} allocations "
          f"= {tot / n:.4f} per request; by thread: {d}")
    c.close()
go("cache hit (200)", {"Authorization": "Bearer " + tok}, 200)
go("no token (prepared 401)", {}, 401)
go("bad token (prepared 401, malformed)", {"Authorization": "Bearer x.y"}, 401)
PY
if [ -n "${ALLOC_BT:-}" ]; then
	touch "$W/counts.arm"
	/usr/bin/python3 -c "
import http.client,sys
c=http.client.HTTPConnection('127.0.0.1',28499)
t=open('$TOKENS/tok/hs256.one').read().strip()
for _ in range(50):
    c.request('GET','/auth',headers={'Authorization':'Bearer '+t}); c.getresponse().read()"
	sleep 0.3
	grep -A24 "alloc_count:" "$W/stderr" | head -80 || :
	rm -f "$W/counts.arm"
fi
kill $PID; wait $PID 2>/dev/null || :
done
