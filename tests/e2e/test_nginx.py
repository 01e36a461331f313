"""revokd behind Debian's nginx (`auth_request`), end to end.

nginx runs deploy/nginx/revokd.conf, the file operators are given, with its
@NAME@ placeholders filled in: in the foreground, its own prefix in a temp
folder, loopback only, with the headers-more module (Debian's
libnginx-mod-http-headers-more-filter) that removes client X-Auth-* headers.
The gateway matrix (tests/e2e/gateway_matrix.py) runs against both server
blocks of that file: one connection per check, and the keep-alive pool.
Beyond the matrix: the pool really reuses connections to revokd, and the
file never caches /auth.
"""
import os
import re
import signal
import socket
import subprocess
import time

import requests

from gateway_matrix import get, gw_fixture, stack_fixture
from revokd_fixtures import ROOT, free_port

NGINX = "/usr/sbin/nginx"
CONF = os.path.join(ROOT, "deploy", "nginx", "revokd.conf")


def code_lines(text):
    return [l for l in text.splitlines() if not l.lstrip().startswith("#")]


class Nginx:
    VARIANTS = ("plain", "keepalive")
    DOWN_STATUS = 500           # auth_request: a failed subrequest is a 500
    DENY_BODY = "gateway"       # auth_request cannot hand revokd's body over

    def __init__(self, run_dir, revokd_port, app_port):
        assert os.path.exists(NGINX), "nginx missing: apt-get install nginx-light"
        self.run_dir = run_dir
        self.ports = {"plain": free_port(), "keepalive": free_port()}
        with open(CONF) as f:
            text = f.read()
        for name, value in {"RUN_DIR": run_dir, "REVOKD": f"127.0.0.1:{revokd_port}",
                            "APP": f"127.0.0.1:{app_port}",
                            "LISTEN": f"127.0.0.1:{self.ports['plain']}",
                            "LISTEN_KEEPALIVE": f"127.0.0.1:{self.ports['keepalive']}"}.items():
            text = text.replace(f"@{name}@", value)
        assert not re.search(r"@[A-Z_]+@", "\n".join(code_lines(text))), \
            "a placeholder left unfilled"
        self.conf = os.path.join(run_dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        g = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        self.args = [NGINX, "-p", run_dir, "-c", self.conf, "-g", g]
        t = subprocess.run(self.args + ["-t"], capture_output=True, text=True)
        assert t.returncode == 0, t.stderr
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(run_dir, "stderr.log"), "wb"))
        deadline = time.time() + 20
        while time.time() < deadline:
            assert self.proc.poll() is None, self.errors()
            try:
                for port in self.ports.values():
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start: " + self.errors())

    def errors(self):
        out = ""
        for name in ("stderr.log", "error.log"):
            p = os.path.join(self.run_dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

Gateway = Nginx
stack = stack_fixture(Gateway)
gw = gw_fixture(Gateway.VARIANTS)
from gateway_matrix import *  # noqa: E402,F401,F403 - the matrix's tests, the app fixture


def test_keepalive_pool_reuses_connections_to_revokd(stack, mint):
    """Many checks through the keep-alive server open few connections to
    revokd; the plain server opens one per check."""
    srv, ngx = stack
    srv.session.close()         # our own keep-alive connections to revokd
    tok = mint.token()
    url = f"http://127.0.0.1:{ngx.ports['keepalive']}"
    s = requests.Session()
    for _ in range(30):
        assert get(url, tok, session=s).status_code == 200
    with open(f"/proc/{srv.proc.pid}/net/tcp") as f:
        rows = f.read().splitlines()[1:]
    # Established (state 01) sockets whose local port is revokd's and whose
    # peer is nginx: the pooled connections, still open after the requests.
    hexport = f"{srv.port:04X}"
    est = [r for r in rows if r.split()[1].endswith(":" + hexport) and r.split()[3] == "01"]
    assert 1 <= len(est) <= 32, rows


def test_the_file_never_caches_auth_and_strips_every_client_x_auth_header():
    with open(CONF) as f:
        code = "\n".join(code_lines(f.read()))
    assert "proxy_cache" not in code
    assert "proxy_ignore_headers" not in code
    # Every location that proxies to the app clears the client's X-Auth-*.
    assert code.count('more_clear_input_headers "X-Auth-*";') == code.count("auth_request /_revokd;") == 2
