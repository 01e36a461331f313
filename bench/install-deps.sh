#!/bin/sh
# bench/install-deps.sh - installs (Debian, as root) every tool bench/ uses.
# The benchmarks themselves install nothing: a missing tool stops them with
# the apt-get line to run (bench/lib.sh, bench_need).
#
#   wrk                    the load generator of every HTTP benchmark
#   nginx-light            the /auth ceiling (bench/run.sh)
#   golang-go, golang-github-golang-jwt-jwt-dev
#                          the Go sync.Map peer and benchmark
#   nodejs, npm            the Node fast-jwt peer, when node or npm is absent
#                          (bench/run.sh runs
#                          `npm ci` in a temporary copy of its folder)
#   gnuplot-nox            the plot of bench/run.sh (skipped without it)
#   valgrind               callgrind profiles (bench/alloc/profile.sh)
#   sqlite3, curl          bench/store
#   python3-jwt, python3-cryptography  the token generator (tokens/ peer)
#
# The peers themselves are not packages: point REVOKD_PEERS at their folder.
set -eu
# Node and npm only when absent: a machine with Node from elsewhere (a
# NodeSource nodejs carries its own npm) cannot take Debian's nodejs and
# npm beside it ("nodejs : Conflicts: npm"), and any Node >= 18 serves.
node=""
command -v node >/dev/null && command -v npm >/dev/null || node="nodejs npm"
# shellcheck disable=SC2086  # $node: zero or two words
apt-get install -y wrk nginx-light golang-go golang-github-golang-jwt-jwt-dev \
	$node gnuplot-nox valgrind sqlite3 curl python3-jwt python3-cryptography
