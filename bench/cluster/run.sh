#!/bin/sh
# Cluster-mode benchmark (issue 8): propagation delay from the 2xx on
# replica A to the first deny on replica B (p50/p99 over N revocations),
# and the stream's throughput under a batched burst.
#   bench/cluster/run.sh [build-dir] [N] [plain,tls]   (default: build, 1000, both)
# Needs redis-server and /usr/bin/python3 with requests, PyJWT.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
REVOKD_BIN="$build/service/revokd" exec /usr/bin/python3 "$here/bench.py" "${2:-1000}" "${3:-plain,tls}"
