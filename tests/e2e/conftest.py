"""Fixtures of the end-to-end suites: the shared fixtures of
tests/support/revokd_fixtures.py (revokd on a free port, keys, minting, the
harness that examines every server), plus a real redis-server."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from revokd_fixtures import *  # noqa: E402,F401,F403
from revokd_fixtures import pytest_configure  # noqa: E402,F401 - a hook, by name
import revokd_fixtures as ic  # noqa: E402 - `from conftest import ic`
# The Redis helpers live in their own module: tests/run.sh collects
# tests/integration and tests/e2e in one session, where `conftest` may be
# the integration one; test modules import them from redis_support.
from redis_support import CertAuthority, Redis, tls_config  # noqa: E402,F401


@pytest.fixture
def redis(tmp_path):
    r = Redis(str(tmp_path))
    yield r
    r.stop()


@pytest.fixture
def test_ca(tmp_path):
    return CertAuthority(str(tmp_path / "pki"))


@pytest.fixture
def tls_redis(tmp_path, test_ca):
    """A redis-server with TLS (server certificate for 127.0.0.1 and
    localhost from test_ca, no client certificate asked)."""
    r = Redis(str(tmp_path), tls=test_ca)
    yield r
    r.stop()


@pytest.fixture
def make_replica(tmp_path, keys, redis):
    """Factory: make_replica(name, wait=True, **config) -> Server on redis.
    Each name has its own data dir, kept across restarts of that name."""
    started = []

    def make(name, wait=True, stream="revokd:test", **over):
        wd = os.path.join(str(tmp_path), name)
        os.makedirs(wd, exist_ok=True)
        cfg = ic.base_config(wd, keys, redis=tls_config(redis, stream=stream),
                             **over)
        srv = ic.start_server(wd, cfg, wait=wait)
        started.append(srv)
        return srv

    yield make
    ic.finish_all(started)
