"""Fixtures of the end-to-end suites: the shared fixtures of
tests/support/revokd_fixtures.py (revokd on a free port, keys, minting, the
harness that examines every server), plus a real redis-server."""
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from revokd_fixtures import *  # noqa: E402,F401,F403
from revokd_fixtures import pytest_configure  # noqa: E402,F401 - a hook, by name
import revokd_fixtures as ic  # noqa: E402 - `from conftest import ic`


class Redis:
    """A private redis-server on a loopback port, no persistence; stop()
    and start() keep the port (an outage, then the same server back)."""

    def __init__(self, workdir):
        self.port = ic.free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None
        self.start()

    def start(self):
        log = open(os.path.join(self.workdir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--save", "", "--appendonly", "no",
             "--port", str(self.port), "--bind", "127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout


@pytest.fixture
def redis(tmp_path):
    r = Redis(str(tmp_path))
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
        cfg = ic.base_config(wd, keys, redis={"url": redis.url, "stream": stream},
                             **over)
        srv = ic.start_server(wd, cfg, wait=wait)
        started.append(srv)
        return srv

    yield make
    # Stop every replica before judging any, so a failed check leaves no
    # process behind.
    failures = []
    for srv in started:
        try:
            ic.finish_server(srv)
        except AssertionError as e:
            failures.append(e)
    if failures:
        raise failures[0]
