#!/bin/bash
# bench/cluster/steady.sh - reconciliation under steady traffic, no loss
# (DECISIONS D36; docs/BENCHMARKS.md, "Reconciliation under steady
# traffic"). Two replicas of one build share a redis-server; revocations go
# to them in turn at RATE a second (admin API, one per request, from one
# client) for SECS seconds; then the rounds' outcomes are counted from the
# two logs. Nothing is lost, so a republish is a false one and a skipped
# round is one that found no empty outbox in time.
#
#   bench/cluster/steady.sh [build-dir]     (default build-bench)
#   RATE=20 SECS=30 RI=2 (reconcile_interval, seconds)
# Needs redis-server, curl and python3. At most SECS + 120 s.
set -u
cd "$(dirname "$0")/../.."
. bench/lib.sh
bench_need redis-server curl
BUILD=${1:-build-bench}
BIN=$(realpath "$BUILD/service/revokd")
RATE=${RATE:-20}; SECS=${SECS:-30}; RI=${RI:-2}
bench_tmpdir revokd-steady
W=$BENCH_TMP
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_redis "$W/redis"
BENCH_ADMIN_TOKEN=$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')
for n in a b; do
	bench_store_config "$W/$n"
	python3 - "$W/$n/revokd.json" "$BENCH_REDIS_PORT" "$RI" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["redis"] = {"url": "redis://127.0.0.1:%s/0" % sys.argv[2],
              "reconcile_interval": int(sys.argv[3])}
json.dump(c, open(sys.argv[1], "w"))
PY
	port=$(bench_free_port)
	echo "$port" >"$W/$n/port"
	(cd "$W/$n" && exec "$BIN" serve --config revokd.json \
	    --listen "127.0.0.1:$port" >log 2>&1) &
	BENCH_PIDS="$BENCH_PIDS $!"
	bench_wait_ready "http://127.0.0.1:$port/readyz" $! 30 || exit 1
done
echo "# steady.sh $(date -u +%Y-%m-%dT%H:%MZ): $BIN, $RATE revocations/s for $SECS s, reconcile_interval $RI s"
timeout $((SECS + 60)) python3 - "$(cat "$W/a/port")" "$(cat "$W/b/port")" \
    "$RATE" "$SECS" "$BENCH_ADMIN_TOKEN" <<'PY'
import json, sys, time, urllib.request, uuid
pa, pb, rate, secs, tok = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
t0, i, bad = time.time(), 0, 0
while time.time() - t0 < secs:
    port = pa if i % 2 == 0 else pb
    body = json.dumps({"type": "token.revoked", "iss": "https://bench.test",
                       "jti": str(uuid.uuid4()), "exp": int(time.time()) + 3600}).encode()
    req = urllib.request.Request("http://127.0.0.1:%s/admin/v1/revocations" % port, data=body,
                                 method="POST", headers={"Authorization": "Bearer " + tok,
                                                         "Content-Type": "application/json"})
    try:
        bad += urllib.request.urlopen(req, timeout=30).status != 201
    except Exception:
        bad += 1
    i += 1
    time.sleep(max(0, t0 + i / rate - time.time()))
print("sent %d revocations in %.1f s (%.1f/s), %d not taken" % (i, time.time() - t0, i / (time.time() - t0), bad))
PY
sleep $((RI * 3))
for n in a b; do
	rep=$(grep -c 'reconciliation republished' "$W/$n/log")
	rows=$(grep 'reconciliation republished' "$W/$n/log" |
	    sed -n 's/.*"rows":"\([0-9]*\)".*/\1/p' | awk '{s += $1} END {print s + 0}')
	done_=$(curl -s "http://127.0.0.1:$(cat "$W/$n/port")/metrics" |
	    sed -n 's/^revokd_replication_reconcile_rounds_total \([0-9]*\)$/\1/p')
	echo "replica $n: ${done_:-?} rounds done, $rep republished ($rows rows), $(grep -c 'reconciliation round skipped\|reconciliation deferred' "$W/$n/log") skipped or deferred, $(grep -c 'digest refused' "$W/$n/log") digests refused"
done
