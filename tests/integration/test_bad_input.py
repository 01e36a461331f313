"""REFERENCE §8: every class of bad input gets its clear 4xx and changes nothing.

One test per class: malformed tokens, base64 and JSON; oversized headers,
tokens and bodies; wrong content types; duplicate or missing fields;
numbers out of range; non-UTF-8. "Changes nothing": the revocations the
admin API lists are the same after the bad requests as before, and a token
that was allowed is still allowed (tests/e2e/test_abuse.py does the same
at volume).
"""
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import pytest
import requests

from conftest import ISS, WEBHOOK_KEY, assert_allow, assert_deny, b64u, base_config, \
    raw_token, start_server, finish_server

RV = "/admin/v1/revocations"


@pytest.fixture(scope="module")
def srv(tmp_path_factory, keys):
    d = str(tmp_path_factory.mktemp("badinput"))
    os.makedirs(os.path.join(d, "secrets"), exist_ok=True)
    with open(os.path.join(d, "secrets", "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WEBHOOK_KEY).decode() + "\n")
    cfg = base_config(d, keys, webhook={"secret_file": "secrets/webhook.secret",
                                        "tolerance": 300})
    s = start_server(d, cfg, admin=True)
    r = s.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": "already"})
    assert r.status_code == 201
    yield s
    finish_server(s)


def snapshot(srv):
    r = srv.admin("GET", RV + "?limit=1000")
    assert r.status_code == 200
    return sorted((i["type"], i["iss"], i["id"], i["revoked_at"], i["expires_at"])
                  for i in r.json()["items"])


@pytest.fixture
def unchanged(srv, mint):
    """Yields; then checks the store and a decision are as before."""
    tok = mint.token("RS256", jti="keep-" + uuid.uuid4().hex)
    assert_allow(srv.auth(tok))
    before = snapshot(srv)
    yield
    assert snapshot(srv) == before
    assert_allow(srv.auth(tok))
    assert requests.get(srv.url + "/healthz", timeout=10).status_code == 200


def admin_post(srv, body, ctype="application/json"):
    return srv.admin("POST", RV, data=body, headers={
        "Authorization": f"Bearer {srv.admin_token}", "Content-Type": ctype})


def deliver(srv, body, ctype="application/json"):
    wid = "msg_" + uuid.uuid4().hex
    ts = str(int(time.time()))
    mac = hmac.new(WEBHOOK_KEY, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    h = {"webhook-id": wid, "webhook-timestamp": ts, "Content-Type": ctype,
         "webhook-signature": "v1," + base64.b64encode(mac).decode()}
    return srv.session.post(srv.url + "/v1/events", data=body, headers=h, timeout=30)


def form(srv, path, body):
    return srv.session.post(srv.url + path, data=body, timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded"})


def is_4xx_json(r, code=400):
    assert r.status_code == code, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.json()["error"], r.text


def test_malformed_tokens_base64_and_json(srv, mint, unchanged, keys):
    good = mint.token("RS256")
    h, p, s = good.split(".")
    for bad in ["abc", "a.b", "a.b.c.d", h + "." + p + "=." + s, h + "." + p + "+" + "." + s,
                h + ".." + s, "." + p + "." + s, h + "." + p[:-1] + "*." + s,
                b64u(b"not json") + "." + p + "." + s,
                b64u(b'{"alg":"RS256"') + "." + p + "." + s,
                h + "." + b64u(b"[1,2]") + "." + s,
                h + "." + b64u(b'{"iss":"' + ISS.encode() + b'","x":1e999}') + "." + s]:
        assert_deny(srv.auth(bad), "malformed token")
    # The same garbage where a token is a body: 400, nothing recorded.
    is_4xx_json(form(srv, "/v1/backchannel-logout", "logout_token=abc.def"))
    is_4xx_json(srv.session.post(srv.url + "/k_push_not_before", data="x.y.z", timeout=30))
    r = form(srv, "/v1/revoke", "token=abc.def.ghi")
    assert r.status_code == 200            # RFC 7009 §2.2: invalid token, 200, no change
    for body in [b"{", b"nope", b"[]", b'{"type":"token.revoked",}', b"\"x\"", b""]:
        is_4xx_json(admin_post(srv, body))
        is_4xx_json(deliver(srv, body))


def test_oversized_headers_tokens_and_bodies(srv, unchanged):
    r = requests.get(srv.url + "/auth", headers={"X-Big": "a" * 70000}, timeout=20)
    assert r.status_code == 431
    assert_deny(srv.auth("a" * 8193), "token too large")
    is_4xx_json(admin_post(srv, b" " * ((4 << 20) + 1)), 413)
    is_4xx_json(deliver(srv, b" " * ((4 << 20) + 1)), 413)
    is_4xx_json(form(srv, "/v1/backchannel-logout", "logout_token=" + "a" * (65 << 10)), 413)
    cur = "A" * 40000
    is_4xx_json(srv.admin("GET", RV + "?cursor=" + cur))


def test_wrong_content_types(srv, unchanged):
    ev = json.dumps({"type": "token.revoked", "iss": ISS, "jti": "ct-" + uuid.uuid4().hex})
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx",
               "multipart/form-data; boundary=x"]:
        is_4xx_json(admin_post(srv, ev, ct), 415)
        is_4xx_json(deliver(srv, ev.encode(), ct), 415)
    r = srv.session.post(srv.url + "/v1/backchannel-logout", data="logout_token=a.b.c",
                         headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500, r.status_code
    r = srv.session.post(srv.url + "/v1/revoke", data=json.dumps({"token": "a.b.c"}),
                         headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500, r.status_code


def test_duplicate_or_missing_fields(srv, mint, keys, unchanged):
    jti = "dup-" + uuid.uuid4().hex
    for body in ['{"type":"token.revoked","iss":"%s","jti":"%s","jti":"other"}' % (ISS, jti),
                 '{"type":"token.revoked","type":"session.revoked","iss":"%s","jti":"%s"}' % (ISS, jti),
                 '{"type":"token.revoked","iss":"%s"}' % ISS,
                 '{"iss":"%s","jti":"%s"}' % (ISS, jti),
                 '{"type":"token.revoked","jti":"%s"}' % jti,      # iss: two issuers
                 '{"type":"session.revoked","iss":"%s","sid":""}' % ISS,
                 '{"events":[{"type":"token.revoked","iss":"%s","jti":"%s"},{"type":"token.revoked"}]}'
                 % (ISS, jti)]:
        is_4xx_json(admin_post(srv, body.encode()))
        is_4xx_json(deliver(srv, body.encode()))
    # Tokens: duplicate members in header or payload are malformed.
    claims = mint.claims()
    payload = json.dumps(claims)[:-1] + ', "sub": "again"}'
    tok = raw_token({"alg": "RS256", "kid": "rsa1"}, payload, alg="RS256", key=keys.rsa)
    assert_deny(srv.auth(tok), "malformed token")
    hdr = '{"alg":"RS256","kid":"rsa1","alg":"RS256"}'
    tok = raw_token(hdr, claims, alg="RS256", key=keys.rsa)
    assert_deny(srv.auth(tok), "malformed token")
    # Forms: a repeated or missing field.
    is_4xx_json(form(srv, "/v1/backchannel-logout", "logout_token=a.b.c&logout_token=a.b.c"))
    is_4xx_json(form(srv, "/v1/backchannel-logout", "other=1"))
    is_4xx_json(form(srv, "/v1/revoke", "token_type_hint=access_token"))


def test_numbers_out_of_range(srv, mint, unchanged):
    for at in ["-1", "1e999", "99999999999999999999", "1.5", "\"1\"", str(int(time.time()) + 3600)]:
        body = '{"type":"token.revoked","iss":"%s","jti":"n","at":%s}' % (ISS, at)
        is_4xx_json(admin_post(srv, body.encode()))
    for exp in ["-5", "1e400", "184467440737095516160", "\"soon\""]:
        body = '{"type":"token.revoked","iss":"%s","jti":"n","exp":%s}' % (ISS, exp)
        is_4xx_json(admin_post(srv, body.encode()))
    for q in ["limit=0", "limit=1001", "limit=-1", "limit=99999999999999999999", "limit=1e3",
              "type=7"]:
        is_4xx_json(srv.admin("GET", RV + "?" + q))
    for exp in [1e400, 2 ** 64, -2 ** 64]:
        claims = mint.claims()
        claims["exp"] = exp
        tok = raw_token({"alg": "RS256", "kid": "rsa1"},
                        json.dumps(claims).replace("Infinity", "1e400"), alg="RS256",
                        key=mint.keys.rsa)
        assert_deny(srv.auth(tok), "malformed token")


def test_non_utf8(srv, mint, keys, unchanged):
    for body in [b'{"type":"token.revoked","iss":"' + ISS.encode() + b'","jti":"\xff\xfe"}',
                 b'{"type":"token.revoked","iss":"' + ISS.encode() + b'","jti":"\xc0\xaf"}',
                 b'{"type":"token.revoked","iss":"' + ISS.encode() + b'","jti":"\xed\xa0\x80"}',
                 b'{"type":"token.revoked","iss":"' + ISS.encode() + b'","jti":"a\\u0000b"}']:
        is_4xx_json(admin_post(srv, body))
        is_4xx_json(deliver(srv, body))
    claims = json.dumps(mint.claims()).encode()[:-1] + b', "name": "\xff"}'
    tok = raw_token({"alg": "RS256", "kid": "rsa1"}, claims, alg="RS256", key=keys.rsa)
    assert_deny(srv.auth(tok), "malformed token")
