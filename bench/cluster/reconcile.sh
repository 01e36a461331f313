#!/bin/sh
# Reconciliation benchmark (docs/BENCHMARKS.md, "Cluster mode: reconciliation
# cost and repair after FLUSHALL"):
#   bench/cluster/reconcile.sh [build-dir] cost N [interval] [rounds]
#   bench/cluster/reconcile.sh [build-dir] flush N [interval]
# e.g. build-bench cost 1000000 5 6; build-bench flush 100000 5.
# Needs redis-server and /usr/bin/python3 with requests, PyJWT.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
shift
REVOKD_BIN="$build/service/revokd" exec timeout 1800 /usr/bin/python3 "$here/reconcile.py" "$@"
