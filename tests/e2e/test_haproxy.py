"""revokd behind Debian's HAProxy 2.6, end to end.

HAProxy runs deploy/haproxy/haproxy.cfg and its Lua action
deploy/haproxy/revokd.lua unchanged: addresses come from the environment
(HAPROXY_BIND, REVOKD, APP, REVOKD_LUA), in the foreground (-db). The
gateway matrix (tests/e2e/gateway_matrix.py) runs against it; the Lua
action hands revokd's 401 (WWW-Authenticate and JSON body) to the client.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

from gateway_matrix import gw_fixture, stack_fixture
from revokd_fixtures import ROOT, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CFG = os.path.join(ROOT, "deploy", "haproxy", "haproxy.cfg")
LUA = os.path.join(ROOT, "deploy", "haproxy", "revokd.lua")


class HAProxy:
    VARIANTS = ("haproxy",)
    DOWN_STATUS = 503           # revokd.lua: no answer from revokd
    DENY_BODY = "revokd"

    def __init__(self, run_dir, revokd_port, app_port):
        assert os.path.exists(HAPROXY), "haproxy missing: apt-get install haproxy"
        self.run_dir = run_dir
        self.ports = {"haproxy": free_port()}
        env = dict(os.environ, HAPROXY_BIND=f"127.0.0.1:{self.ports['haproxy']}",
                   REVOKD=f"127.0.0.1:{revokd_port}", APP=f"127.0.0.1:{app_port}",
                   REVOKD_LUA=LUA)
        t = subprocess.run([HAPROXY, "-c", "-f", CFG], capture_output=True, text=True,
                           env=env, cwd=run_dir, timeout=60)
        assert t.returncode == 0, t.stdout + t.stderr
        self.log = os.path.join(run_dir, "haproxy.log")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", CFG], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"), cwd=run_dir, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, self.errors()
            try:
                socket.create_connection(("127.0.0.1", self.ports["haproxy"]), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("haproxy did not start: " + self.errors())

    def errors(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)   # soft stop
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


Gateway = HAProxy
stack = stack_fixture(Gateway)
gw = gw_fixture(Gateway.VARIANTS)
from gateway_matrix import *  # noqa: E402,F401,F403 - the matrix's tests, the app fixture


def test_the_file_strips_every_client_x_auth_header_before_asking_revokd():
    with open(CFG) as f:
        code = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    strip = code.index("http-request del-header ^x-auth- -m reg")
    ask = next(i for i, l in enumerate(code) if l.startswith("http-request lua.revokd-auth "))
    assert strip < ask
    assert not any(l.startswith(("cache ", "http-request cache-use")) for l in code)


def test_the_matrix_raised_no_lua_error(stack):
    """After the matrix ran on the module's HAProxy: the action never failed
    (HAProxy logs "Lua function 'revokd-auth': runtime error: ..." and
    answers 500 when it does) and never lost revokd (the warning of
    revokd.lua)."""
    srv, g = stack
    log = g.errors()
    assert "runtime error" not in log and "revokd-auth:" not in log, log
