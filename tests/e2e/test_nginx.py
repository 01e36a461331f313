"""revokd behind Debian's nginx (`auth_request`), end to end (DECISIONS D17).

nginx runs deploy/nginx/revokd.conf, the file operators are given, with its
@NAME@ placeholders filled in: in the foreground, its own prefix in a temp
folder, loopback only. The protected app is a tiny Python HTTP server that
echoes the headers it got. Both nginx servers of that file are exercised:
one connection per check, and the keep-alive pool.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

from revokd_fixtures import (ISS, ROOT, assert_clean_exit, base_config, finish_server,
                             free_port, start_server)

NGINX = "/usr/sbin/nginx"
CONF = os.path.join(ROOT, "deploy", "nginx", "revokd.conf")
WH_KEY = b"e2e-nginx-webhook-key-0123456789"


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """The protected app: answers 200 with the request's headers as JSON."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


class Nginx:
    def __init__(self, run_dir, revokd_port, app_port):
        self.run_dir = run_dir
        self.port = free_port()
        self.port_keepalive = free_port()
        with open(CONF) as f:
            text = f.read()
        for name, value in {"RUN_DIR": run_dir, "REVOKD": f"127.0.0.1:{revokd_port}",
                            "APP": f"127.0.0.1:{app_port}",
                            "LISTEN": f"127.0.0.1:{self.port}",
                            "LISTEN_KEEPALIVE": f"127.0.0.1:{self.port_keepalive}"}.items():
            text = text.replace(f"@{name}@", value)
        code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
        assert not re.search(r"@[A-Z_]+@", code), "a placeholder left unfilled"
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
                with socket.create_connection(("127.0.0.1", self.port_keepalive), 0.2):
                    with socket.create_connection(("127.0.0.1", self.port), 0.2):
                        return
            except OSError:
                time.sleep(0.05)
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


@pytest.fixture(scope="module")
def app():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def start_revokd(d, keys):
    os.makedirs(os.path.join(d, "secrets"), exist_ok=True)
    with open(os.path.join(d, "secrets", "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WH_KEY).decode() + "\n")
    cfg = base_config(d, keys, webhook={"secret_file": "secrets/webhook.secret",
                                        "tolerance": 300})
    return start_server(d, cfg)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, keys, app):
    """revokd + nginx (both server blocks) + the echo app, for the module."""
    srv = start_revokd(str(tmp_path_factory.mktemp("revokd")), keys)
    ngx = Nginx(str(tmp_path_factory.mktemp("nginx")), srv.port, app)
    yield srv, ngx
    ngx.stop()
    finish_server(srv)


@pytest.fixture(params=["plain", "keepalive"])
def gw(request, stack):
    """The gateway URL of one of the two nginx server blocks."""
    srv, ngx = stack
    port = ngx.port if request.param == "plain" else ngx.port_keepalive
    return srv, ngx, f"http://127.0.0.1:{port}"


def get(url, token=None, headers=None, session=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return (session or requests).get(url + "/orders/42?x=1", headers=h, timeout=10)


def admin_revoke(srv, jti):
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "token.revoked", "iss": ISS, "jti": jti,
                        "reason": "e2e nginx"})
    assert r.status_code == 201, r.text


def webhook_revoke(srv, event):
    body = json.dumps(event).encode()
    wid, ts = "msg_" + uuid.uuid4().hex, str(int(time.time()))
    mac = hmac.new(WH_KEY, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    r = requests.post(srv.url + "/v1/events", data=body, timeout=30, headers={
        "Content-Type": "application/json", "webhook-id": wid, "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode()})
    assert r.status_code == 202, r.text


def test_valid_token_reaches_the_app_with_the_subject(gw, mint):
    srv, ngx, url = gw
    r = get(url, mint.token(sub="alice@example"))
    assert r.status_code == 200, (r.status_code, r.text, ngx.errors()[-2000:])
    seen = r.json()
    assert seen["path"] == "/orders/42?x=1"
    assert seen["headers"]["x-auth-subject"] == "alice@example"
    # The token itself still reaches the app (it may want the claims).
    assert seen["headers"]["authorization"].startswith("Bearer ")


def test_client_cannot_forge_the_subject_header(gw, mint):
    srv, ngx, url = gw
    r = get(url, mint.token(sub="alice"), headers={"X-Auth-Subject": "root"})
    assert r.status_code == 200
    assert r.json()["headers"]["x-auth-subject"] == "alice"


def test_no_token_forged_and_expired_get_401(gw, mint):
    srv, ngx, url = gw
    tok = mint.token()
    forged = tok[:-6] + ("AAAAAA" if not tok.endswith("AAAAAA") else "BBBBBB")
    now = int(time.time())
    expired = mint.token(exp=now - 3600, iat=now - 7200)
    other_key = mint.token(alg="ES256", key=mint.keys.ec_other)
    for t, challenge in ((None, 'Bearer realm="revokd"'),
                         (forged, "invalid signature"),
                         (expired, "token expired"),
                         (other_key, "invalid signature")):
        r = get(url, t)
        assert r.status_code == 401, (t, r.status_code, r.text)
        # auth_request hands revokd's challenge to the client.
        assert challenge in r.headers.get("WWW-Authenticate", ""), r.headers
        assert "x-auth-subject" not in r.text


def test_admin_revocation_takes_effect_on_the_very_next_request(gw, mint):
    srv, ngx, url = gw
    jti = "e2e-admin-" + uuid.uuid4().hex
    tok = mint.token(jti=jti)
    s = requests.Session()      # a client on one keep-alive connection
    for _ in range(3):          # also fills revokd's verified cache
        assert get(url, tok, session=s).status_code == 200
    admin_revoke(srv, jti)
    r = get(url, tok, session=s)
    assert r.status_code == 401, r.text
    assert "token revoked" in r.headers.get("WWW-Authenticate", "")
    # Other tokens are unaffected.
    assert get(url, mint.token(), session=s).status_code == 200


def test_webhook_revocation_takes_effect_on_the_very_next_request(gw, mint):
    srv, ngx, url = gw
    sid = "e2e-sid-" + uuid.uuid4().hex
    now = int(time.time())
    tok = mint.token(sid=sid, iat=now - 5)
    assert get(url, tok).status_code == 200
    webhook_revoke(srv, {"type": "session.revoked", "iss": ISS, "sid": sid, "at": now})
    r = get(url, tok)
    assert r.status_code == 401, r.text
    assert "session revoked" in r.headers.get("WWW-Authenticate", "")


def test_keepalive_pool_reuses_connections_to_revokd(stack, mint):
    """Many checks through the keep-alive server open few connections to
    revokd; the plain server opens one per check."""
    srv, ngx = stack
    srv.session.close()         # our own keep-alive connections to revokd
    tok = mint.token()
    url = f"http://127.0.0.1:{ngx.port_keepalive}"
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


def test_revokd_down_fails_closed(tmp_path, keys, app, mint):
    srv = start_revokd(str(tmp_path / "revokd"), keys)
    os.makedirs(tmp_path / "nginx")
    ngx = Nginx(str(tmp_path / "nginx"), srv.port, app)
    try:
        tok = mint.token()
        assert get(f"http://127.0.0.1:{ngx.port}", tok).status_code == 200
        assert_clean_exit(srv)
        for port in (ngx.port, ngx.port_keepalive):
            r = get(f"http://127.0.0.1:{port}", tok)
            assert r.status_code == 500, r.status_code
            assert "x-auth-subject" not in r.text
    finally:
        ngx.stop()
