#!/bin/sh
# Redis's memory and wire bytes per revocation, and a new replica's catch-up
# time (docs/BENCHMARKS.md, "Scale: 10 million revocations, and 100
# replicas on paper"):
#   bench/cluster/scale.sh [build-dir] [N] [KEYS]   (default: build-release, 1000000, 10000)
# bench/cluster/scale.py says what is measured. Bounded: timeout 2400 around
# the driver, every wait in it has a limit. ~8 min at 1M on 2 shared cores.
# Needs redis-server and /usr/bin/python3 with requests, PyJWT.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build-release}
case $build in /*) ;; *) build="$root/$build" ;; esac
for c in redis-server redis-cli; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench: $c missing: apt-get install -y redis-server" >&2; exit 2; }
done
[ -x "$build/service/revokd" ] || { echo "bench: no $build/service/revokd (meson setup $build --buildtype=release && ninja -C $build service/revokd)" >&2; exit 2; }
REVOKD_BIN="$build/service/revokd" exec timeout 2400 /usr/bin/python3 "$here/scale.py" "${2:-1000000}" "${3:-10000}"
