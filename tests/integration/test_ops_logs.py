"""Logs (REFERENCE §6): JSON lines on stderr by default, every line an object with
ts, level and msg; `--log-format text` is not JSON; every revocation taken is
logged with its source; no secret and no whole token ever appears in stderr,
whatever the traffic (failed admin auth, invalid tokens, bad webhooks)."""
import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid

from conftest import ISS, assert_clean_exit, base_config, start_server

ADMIN_TOKEN = "test-admin-token-0123456789"
WH_KEY = b"ops-log-webhook-key-0123456789ab"
INTRO_SECRET = "ops-log-introspect-secret-42"


def start_with_secrets(tmp_path, keys, extra_args=()):
    d = str(tmp_path)
    os.makedirs(os.path.join(d, "secrets"), exist_ok=True)
    with open(os.path.join(d, "secrets", "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WH_KEY).decode() + "\n")
    with open(os.path.join(d, "secrets", "intro.secret"), "w") as f:
        f.write(INTRO_SECRET + "\n")
    cfg = base_config(d, keys,
                      webhook={"secret_file": "secrets/webhook.secret", "tolerance": 300},
                      introspection={"clients": [{"id": "oathkeeper",
                                                  "secret_file": "secrets/intro.secret"}]})
    return start_server(d, cfg, extra_args)


def webhook(srv, payload, key=WH_KEY):
    body = json.dumps(payload).encode()
    wid, ts = "msg_" + uuid.uuid4().hex, str(int(time.time()))
    mac = hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    return srv.session.post(srv.url + "/v1/events", data=body, timeout=30, headers={
        "Content-Type": "application/json", "webhook-id": wid,
        "webhook-timestamp": ts, "webhook-signature": "v1," + base64.b64encode(mac).decode()})


def noisy_traffic(srv, mint):
    """Every kind of request that might tempt a log line; returns the
    tokens sent."""
    sent = []
    good = mint.token(jti="log-good")
    hs = mint.token(alg="HS256", jti="log-hs")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    expired = mint.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    wrong_key = mint.token(alg="ES256", key=mint.keys.ec_other)
    for t in (good, hs, forged, expired, wrong_key):
        sent.append(t)
        srv.auth(t)
        srv.auth(headers={"Cookie": f"session={t}"})
    srv.auth(None)
    srv.auth("garbage")
    # Admin API: wrong token, then the right one.
    for bad in ("wrong-admin-token", ADMIN_TOKEN + "x", ""):
        r = srv.admin("GET", "/admin/v1/revocations",
                      headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "token.revoked", "iss": ISS, "jti": "log-good"})
    assert r.status_code == 201, r.text
    assert srv.auth(good).status_code == 401
    r = srv.admin("POST", "/admin/v1/revocations", json={"type": "bogus"})
    assert r.status_code == 400
    # Webhook: a good one, a badly signed one.
    r = webhook(srv, {"type": "session.revoked", "iss": ISS, "sid": "log-sid"})
    assert r.status_code == 202, r.text
    r = webhook(srv, {"type": "session.revoked", "iss": ISS, "sid": "x"}, key=b"k" * 32)
    assert r.status_code == 401
    # Introspection with a wrong and a right client secret, and a token.
    for secret in ("nope", INTRO_SECRET):
        srv.session.post(srv.url + "/v1/introspect", data={"token": hs},
                         auth=("oathkeeper", secret), timeout=10)
    # Back-channel logout with a token that is not a logout token.
    srv.session.post(srv.url + "/v1/backchannel-logout", data={"logout_token": good},
                     timeout=10)
    srv.session.post(srv.url + "/v1/revoke", data={"token": hs},
                     auth=("oathkeeper", INTRO_SECRET), timeout=10)
    return sent


def secrets_of(keys):
    """Every spelling of a secret that a careless log line could contain."""
    out = [ADMIN_TOKEN.encode(), INTRO_SECRET.encode(), WH_KEY,
           base64.b64encode(WH_KEY), b"whsec_", keys.hs, keys.hs.hex().encode(),
           base64.b64encode(keys.hs).rstrip(b"="),
           base64.urlsafe_b64encode(keys.hs).rstrip(b"=")]
    return out


def assert_no_leak(raw, keys, tokens):
    for s in secrets_of(keys):
        assert s not in raw, f"secret {s[:8]!r}... in stderr"
    for t in tokens:
        assert t.encode() not in raw, "a whole token in stderr"
        sig = t.rsplit(".", 1)[1]
        assert sig.encode() not in raw, "a token's signature in stderr"


def test_json_lines_and_no_secrets(tmp_path, keys, mint):
    srv = start_with_secrets(tmp_path, keys, ["--log-level", "debug"])
    tokens = noisy_traffic(srv, mint)
    assert_clean_exit(srv)
    with open(os.path.join(srv.workdir, "stderr.log"), "rb") as f:
        raw = f.read()
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) >= 4, raw
    parsed = []
    for line in lines:
        o = json.loads(line)       # every line, not just most
        assert isinstance(o, dict), line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), line
        assert o["level"] in ("debug", "info", "warn", "error"), line
        assert isinstance(o["msg"], str) and o["msg"], line
        parsed.append(o)
    msgs = [o["msg"] for o in parsed]
    assert "stopped" in msgs
    taken = [o for o in parsed if o["msg"] == "revocation taken"]
    sources = {o.get("source") for o in taken}
    assert {"admin", "webhook"} <= sources, taken
    assert_no_leak(raw, keys, tokens)


def test_text_format_is_not_json(tmp_path, keys, mint):
    srv = start_with_secrets(tmp_path, keys, ["--log-format", "text", "--log-level", "debug"])
    tokens = noisy_traffic(srv, mint)
    assert_clean_exit(srv)
    with open(os.path.join(srv.workdir, "stderr.log"), "rb") as f:
        raw = f.read()
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) >= 4
    for line in lines:
        assert not line.startswith("{"), line
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) ",
                        line), line
    assert any(" revocation taken " in line and "source=admin" in line for line in lines), lines
    assert_no_leak(raw, keys, tokens)
