"""revokd behind Debian's Caddy (`forward_auth`), end to end.

Caddy runs deploy/caddy/Caddyfile, the file operators are given, unchanged:
its addresses come from the environment (CADDY_PORT, CADDY_BIND, REVOKD,
APP). No admin endpoint, its storage in a temp folder. The gateway matrix
(tests/e2e/gateway_matrix.py) runs against it; Caddy hands revokd's 401
(WWW-Authenticate and JSON body) to the client as it is.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

from gateway_matrix import gw_fixture, stack_fixture
from revokd_fixtures import ROOT, free_port

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
CADDYFILE = os.path.join(ROOT, "deploy", "caddy", "Caddyfile")


class Caddy:
    VARIANTS = ("caddy",)
    DOWN_STATUS = 502           # forward_auth: the upstream cannot be reached
    DENY_BODY = "revokd"

    def __init__(self, run_dir, revokd_port, app_port):
        assert os.path.exists(CADDY), "caddy missing: apt-get install caddy"
        self.run_dir = run_dir
        self.ports = {"caddy": free_port()}
        env = dict(os.environ, HOME=run_dir, XDG_DATA_HOME=run_dir, XDG_CONFIG_HOME=run_dir,
                   CADDY_PORT=str(self.ports["caddy"]), CADDY_BIND="127.0.0.1",
                   REVOKD=f"127.0.0.1:{revokd_port}", APP=f"127.0.0.1:{app_port}")
        args = [CADDY, "run", "--adapter", "caddyfile", "--config", CADDYFILE]
        t = subprocess.run([CADDY, "validate", "--adapter", "caddyfile", "--config", CADDYFILE],
                           capture_output=True, text=True, env=env, cwd=run_dir, timeout=60)
        assert t.returncode == 0, t.stdout + t.stderr
        self.log = os.path.join(run_dir, "caddy.log")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, cwd=run_dir, env=env,
                                     stderr=open(self.log, "wb"))
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, self.errors()
            try:
                socket.create_connection(("127.0.0.1", self.ports["caddy"]), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("caddy did not start: " + self.errors())

    def errors(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


Gateway = Caddy
stack = stack_fixture(Gateway)
gw = gw_fixture(Gateway.VARIANTS)
from gateway_matrix import *  # noqa: E402,F401,F403 - the matrix's tests, the app fixture


def test_the_file_has_no_cache_and_strips_every_client_x_auth_header():
    with open(CADDYFILE) as f:
        code = [l.strip() for l in f if not l.lstrip().startswith("#")]
    assert "request_header -X-Auth-*" in code
    assert code.index("request_header -X-Auth-*") < next(
        i for i, l in enumerate(code) if l.startswith("forward_auth "))
    assert not any(l.startswith("cache") for l in code)
