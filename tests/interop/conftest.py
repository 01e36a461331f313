"""tests/interop: revokd against real libraries of the identity ecosystem.

The other side of every test is a real, pinned library (package.json,
package-lock.json; installed by tests/install-deps.sh with `npm ci`): jose
signs, oidc-provider is the identity provider, openid-client and
oauth4webapi are the RFC 7662/7009 clients, standardwebhooks sends webhooks.
Small Node scripts in js/ drive them; pytest drives revokd and the scripts.

The integration fixtures (revokd on a free port, the examination of every
server a test starts) come from tests/support/revokd_fixtures.py, as in
tests/integration and tests/e2e."""
import json
import os

import pytest

from interop_support import *  # noqa: F401,F403 - for modules that import conftest
from interop_support import HERE, _JOSE, _check_installed, ic, lib_versions
from revokd_fixtures import pytest_configure  # noqa: F401 - a hook, by name

keys = ic.keys


@pytest.fixture(scope="session", autouse=True)
def interop_libraries():
    """Every interop test needs the pinned libraries; their versions are
    printed once (pytest -s) and asserted to be the pinned ones."""
    _check_installed()
    with open(os.path.join(HERE, "package.json")) as f:
        pinned = json.load(f)["dependencies"]
    got = lib_versions()
    for name, version in pinned.items():
        assert got[name] == version, (name, got[name], version)
    yield got
    _JOSE.close()
