#!/usr/bin/env bash
# Installs (as root, from Debian's packages) everything revokd needs to build,
# test and benchmark. Safe to run again: it installs only what is missing.
set -euo pipefail
BUILD_PKGS=(build-essential meson ninja-build pkg-config
  libjwt-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev libjemalloc-dev
  liburcu-dev libsqlite3-dev libhiredis-dev libsystemd-dev scdoc
  debhelper dpkg-dev pkgconf)
TEST_PKGS=(clang libclang-rt-14-dev python3 python3-pytest python3-jwt
  python3-jwcrypto python3-requests python3-cryptography python3-yaml sqlite3 curl
  nginx-light libnginx-mod-http-headers-more-filter caddy haproxy
  redis-server redis-sentinel wrk prometheus systemd man-db lintian yamllint)
want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--build-only" ] || want+=("${TEST_PKGS[@]}")
# The incident console's browser test (tests/integration/test_console_browser.py):
# Debian's Chromium, driven over the DevTools protocol with python3-websocket.
[ "${1:-}" = "--build-only" ] || want+=(chromium python3-websocket)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tests/interop: the real libraries of the identity ecosystem (test-only npm
# packages, exact versions pinned in tests/interop/package-lock.json).
if [ "${1:-}" != "--build-only" ]; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  here=$(cd "$(dirname "$0")" && pwd)
  stamp="$here/interop/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || ! cmp -s "$here/interop/package-lock.json" "$here/interop/.installed-lock.json"; then
    (cd "$here/interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &&
      cp "$here/interop/package-lock.json" "$here/interop/.installed-lock.json"
  fi
fi
