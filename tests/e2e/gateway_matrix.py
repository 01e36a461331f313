"""The gateway test matrix: what every gateway example in deploy/ must do
in front of revokd, run end to end against the real gateway binary.

A gateway test module (test_nginx.py, test_caddy.py, test_haproxy.py)
defines a class with the interface below and does

    Gateway = MyGateway
    stack = stack_fixture(Gateway)
    gw = gw_fixture(Gateway.VARIANTS)
    from gateway_matrix import *   # the matrix's tests and the app fixture

The matrix (each test once per listener of the gateway):
  - a valid token reaches the app with the identity headers (X-Auth-Subject,
    -Issuer, -Token-Id, -Expires, -Scope) and its Authorization header;
  - no token, a forged signature, an expired token, a revoked token: 401
    with revokd's reason in WWW-Authenticate, and the app is never reached;
  - a client-forged X-Auth-* header of any name never reaches the app, with
    a valid token or without one;
  - a revocation (admin API, webhook) denies the very next request on the
    same client connection;
  - one client keep-alive connection carries allows and denies (401 with a
    body) in turn, and is never closed by the gateway;
  - revokd down: the gateway answers 5xx, the app is never reached.

Gateway interface: Gateway(run_dir, revokd_port, app_port) starts it and
returns once it accepts connections; .ports maps each variant name to its
listening port; .errors() returns its logs; .stop(). Class attributes:
VARIANTS (names of its listeners), DOWN_STATUS (its answer when revokd
cannot be reached), DENY_BODY ("revokd": the client gets revokd's JSON
error; "gateway": the gateway's own error page, e.g. nginx auth_request).
"""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import threading
import time
import uuid

import pytest
import requests

from revokd_fixtures import (ISS, assert_clean_exit, base_config, finish_server,
                                      start_server)

WH_KEY = b"e2e-gateway-webhook-key-01234567"
PATH = "/orders/42?x=1"


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """The protected app: answers 200 with the request's headers as JSON and
    counts the requests it got."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with self.server.lock:
            self.server.hits += 1
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


class EchoApp:
    def __init__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
        self.httpd.daemon_threads = True
        self.httpd.lock = threading.Lock()
        self.httpd.hits = 0
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def hits(self):
        with self.httpd.lock:
            return self.httpd.hits

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def app():
    a = EchoApp()
    yield a
    a.stop()


def start_revokd(d, keys):
    """revokd with a Standard Webhooks secret (the webhook revocation test)."""
    os.makedirs(os.path.join(d, "secrets"), exist_ok=True)
    with open(os.path.join(d, "secrets", "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WH_KEY).decode() + "\n")
    cfg = base_config(d, keys, webhook={"secret_file": "secrets/webhook.secret",
                                        "tolerance": 300})
    return start_server(d, cfg)


def stack_fixture(gateway_cls):
    """Module fixture: (revokd, gateway) sharing the module's echo app."""
    @pytest.fixture(scope="module")
    def stack(tmp_path_factory, keys, app):
        srv = start_revokd(str(tmp_path_factory.mktemp("revokd")), keys)
        try:
            g = gateway_cls(str(tmp_path_factory.mktemp("gateway")), srv.port, app.port)
        except BaseException:
            finish_server(srv)
            raise
        yield srv, g
        g.stop()
        finish_server(srv)
    return stack


class Gw:
    """What a matrix test gets: revokd, the gateway, one listener's URL and
    port, and the app."""

    def __init__(self, srv, gateway, variant, app):
        self.srv = srv
        self.gateway = gateway
        self.variant = variant
        self.port = gateway.ports[variant]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app


def gw_fixture(variants):
    @pytest.fixture(params=list(variants))
    def gw(request, stack, app):
        srv, g = stack
        return Gw(srv, g, request.param, app)
    return gw


def get(url, token=None, headers=None, session=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return (session or requests).get(url + PATH, headers=h, timeout=10)


def admin_revoke(srv, jti):
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "token.revoked", "iss": ISS, "jti": jti,
                        "reason": "e2e gateway"})
    assert r.status_code == 201, r.text


def webhook_revoke(srv, event):
    body = json.dumps(event).encode()
    wid, ts = "msg_" + uuid.uuid4().hex, str(int(time.time()))
    mac = hmac.new(WH_KEY, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    r = requests.post(srv.url + "/v1/events", data=body, timeout=30, headers={
        "Content-Type": "application/json", "webhook-id": wid, "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode()})
    assert r.status_code == 202, r.text


def forge(tok):
    return tok[:-6] + ("AAAAAA" if not tok.endswith("AAAAAA") else "BBBBBB")


def assert_denied(gw, r, reason):
    """A 401 from the gateway carrying revokd's verdict."""
    assert r.status_code == 401, (r.status_code, r.text, gw.gateway.errors()[-2000:])
    www = r.headers.get("WWW-Authenticate", "")
    if reason is None:
        assert www == 'Bearer realm="revokd"', r.headers
    else:
        assert f'error_description="{reason}"' in www, r.headers
    assert "x-auth-" not in r.text.lower()
    if gw.gateway.DENY_BODY == "revokd":
        body = r.json()
        assert body["error"] == ("invalid_request" if reason is None else "invalid_token")
        assert body["error_description"] == (reason or "no token")
    else:
        assert r.content, "a 401 without a body"


FORGED_HEADERS = {
    "X-Auth-Subject": "root", "X-Auth-Issuer": "https://evil.test",
    "X-Auth-Token-Id": "forged", "X-Auth-Expires": "9999999999",
    "X-Auth-Scope": "admin", "X-Auth-Roles": "admin",
    "X-Auth-Tenant": "other-tenant", "x-auth-lowercase": "1", "X-AUTH-UPPER": "1",
}


# ---------------------------------------------------------------------------
# The matrix.

def test_valid_token_reaches_the_app_with_the_identity_headers(gw, mint):
    jti = "gw-" + uuid.uuid4().hex
    now = int(time.time())
    tok = mint.token(sub="alice@example", jti=jti, scope="orders:read orders:write",
                     iat=now, exp=now + 600)
    r = get(gw.url, tok)
    assert r.status_code == 200, (r.status_code, r.text, gw.gateway.errors()[-2000:])
    seen = r.json()
    assert seen["path"] == PATH
    h = seen["headers"]
    assert h["x-auth-subject"] == "alice@example"
    assert h["x-auth-issuer"] == ISS
    assert h["x-auth-token-id"] == jti
    assert h["x-auth-expires"] == str(now + 600)
    assert h["x-auth-scope"] == "orders:read orders:write"
    # The token itself still reaches the app (it may want the claims).
    assert h["authorization"] == f"Bearer {tok}"


def test_client_forged_x_auth_headers_never_reach_the_app(gw, mint):
    # A token without a scope claim: revokd sends no X-Auth-Scope, so a
    # gateway that only overwrites what revokd answered would let the
    # client's through.
    tok = mint.token(sub="alice")
    r = get(gw.url, tok, headers=FORGED_HEADERS)
    assert r.status_code == 200, (r.status_code, r.text)
    h = r.json()["headers"]
    assert h["x-auth-subject"] == "alice"
    assert h["x-auth-issuer"] == ISS
    assert h["x-auth-token-id"] != "forged"
    assert h["x-auth-expires"] != "9999999999"
    leaked = sorted(k for k in h if k.startswith("x-auth-") and k not in (
        "x-auth-subject", "x-auth-issuer", "x-auth-token-id", "x-auth-expires"))
    assert leaked == [], h
    # Without a token the forged headers do not help either.
    before = gw.app.hits
    assert_denied(gw, get(gw.url, None, headers=FORGED_HEADERS), None)
    assert gw.app.hits == before


def test_no_token_forged_expired_and_revoked_get_401_with_the_reason(gw, mint):
    tok = mint.token()
    now = int(time.time())
    expired = mint.token(exp=now - 3600, iat=now - 7200)
    other_key = mint.token(alg="ES256", key=mint.keys.ec_other)
    jti = "gw-revoked-" + uuid.uuid4().hex
    revoked = mint.token(jti=jti)
    admin_revoke(gw.srv, jti)
    before = gw.app.hits
    for t, reason in ((None, None), ("", None), (forge(tok), "invalid signature"),
                      (expired, "token expired"), (other_key, "invalid signature"),
                      (revoked, "token revoked"), ("not.a.token", "malformed token")):
        assert_denied(gw, get(gw.url, t), reason)
    # Another scheme is "no token" too.
    assert_denied(gw, get(gw.url, headers={"Authorization": "Basic dTpw"}), None)
    assert gw.app.hits == before, "a denied request reached the app"


def test_admin_revocation_takes_effect_on_the_very_next_request(gw, mint):
    jti = "gw-admin-" + uuid.uuid4().hex
    tok = mint.token(jti=jti)
    s = requests.Session()      # a client on one keep-alive connection
    for _ in range(3):          # also fills revokd's verified cache
        assert get(gw.url, tok, session=s).status_code == 200
    admin_revoke(gw.srv, jti)
    assert_denied(gw, get(gw.url, tok, session=s), "token revoked")
    # Other tokens are unaffected.
    assert get(gw.url, mint.token(), session=s).status_code == 200


def test_webhook_revocation_takes_effect_on_the_very_next_request(gw, mint):
    sid = "gw-sid-" + uuid.uuid4().hex
    now = int(time.time())
    tok = mint.token(sid=sid, iat=now - 5)
    s = requests.Session()
    assert get(gw.url, tok, session=s).status_code == 200
    webhook_revoke(gw.srv, {"type": "session.revoked", "iss": ISS, "sid": sid, "at": now})
    assert_denied(gw, get(gw.url, tok, session=s), "session revoked")


class _R:
    """An http.client response in the shape assert_denied reads."""

    def __init__(self, resp, body):
        self.status_code = resp.status
        self.headers = requests.structures.CaseInsensitiveDict(resp.getheaders())
        self.content = body
        self.text = body.decode(errors="replace")

    def json(self):
        return json.loads(self.content)


def test_one_client_connection_carries_allows_and_denies(gw, mint):
    """A client keeps one connection across allows and 401s with a body: the
    gateway frames each answer and never closes the connection on a deny."""
    tok = mint.token()
    jti = "gw-ka-" + uuid.uuid4().hex
    victim = mint.token(jti=jti)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        conn.connect()
        sock = conn.sock
        steps = [(tok, 200, None), (None, 401, None), (tok, 200, None),
                 (forge(tok), 401, "invalid signature"), (victim, 200, None),
                 ("revoke", None, None), (victim, 401, "token revoked"),
                 (tok, 200, None), ("", 401, None), (tok, 200, None)]
        for t, status, reason in steps:
            if t == "revoke":
                admin_revoke(gw.srv, jti)
                continue
            h = {} if t is None else {"Authorization": f"Bearer {t}"}
            conn.request("GET", PATH, headers=h)
            resp = conn.getresponse()
            body = resp.read()
            r = _R(resp, body)
            if status == 200:
                assert r.status_code == 200, (r.status_code, r.text)
                assert r.json()["headers"]["x-auth-subject"] == "alice"
            else:
                assert_denied(gw, r, reason)
            assert not resp.will_close, f"the gateway closed the connection after {status}"
            assert conn.sock is sock, "the client connection was not reused"
    finally:
        conn.close()


def test_revokd_down_fails_closed(request, tmp_path, keys, app, mint):
    gateway_cls = request.module.Gateway
    srv = start_revokd(str(tmp_path / "revokd"), keys)
    os.makedirs(tmp_path / "gateway")
    g = gateway_cls(str(tmp_path / "gateway"), srv.port, app.port)
    try:
        tok = mint.token()
        for port in g.ports.values():
            assert get(f"http://127.0.0.1:{port}", tok).status_code == 200
        assert_clean_exit(srv)
        before = app.hits
        for port in g.ports.values():
            for t in (tok, None):
                r = get(f"http://127.0.0.1:{port}", t,
                        headers={"X-Auth-Subject": "alice"})
                assert r.status_code == gateway_cls.DOWN_STATUS, (r.status_code, r.text)
                assert "x-auth-subject" not in r.text.lower()
        assert app.hits == before, "the app was reached while revokd was down"
    finally:
        g.stop()
