#!/usr/bin/env bash
# revokd in one command, on a fresh Debian 12 machine as root:
# installs the build dependencies, builds a release binary, and runs
# `revokd serve --dev` (docs/CONFIGURATION.md §2): keys, secrets, the
# database and the configuration it runs with (var/revokd.json) in ./var, a
# ready-to-use token, the curl lines that check and revoke it, and the
# revokd check, admin client and serve --config lines (README.md, the tour).
#
#   deploy/quickstart.sh [--data-dir DIR]    (other flags go to revokd serve)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  tests/install-deps.sh --build-only
else
  echo "quickstart: not root: assuming the build dependencies are installed" >&2
fi
if [ -d build-release ]; then
  meson setup --reconfigure build-release --buildtype=release >/dev/null
else
  meson setup build-release --buildtype=release >/dev/null
fi
ninja -C build-release >/dev/null
echo "quickstart: built build-release/service/revokd" >&2
exec build-release/service/revokd serve --dev "$@"
