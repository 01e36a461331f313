"""api/rules.h: one rule per HTTP request rule, the same on every route.

The edge cases where the routes used to disagree, answered the RFC's way:
whitespace around an Authorization value is not part of it (RFC 9110 §5.5)
on every route, `Bearer` and its token are separated by spaces only
(RFC 6750 §2.1), and a Content-Type charset, where given, must be UTF-8 on
every route that reads a body.
"""
import base64
import hashlib
import hmac
import json
import time
import uuid

from conftest import ISS, WEBHOOK_KEY, assert_allow, assert_no_token


def deliver(srv, body, ctype):
    wid = "msg_" + uuid.uuid4().hex
    ts = str(int(time.time()))
    mac = hmac.new(WEBHOOK_KEY, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    h = {"webhook-id": wid, "webhook-timestamp": ts, "Content-Type": ctype,
         "webhook-signature": "v1," + base64.b64encode(mac).decode()}
    return srv.session.post(srv.url + "/v1/events", data=body, headers=h, timeout=30)


def event():
    return json.dumps({"type": "token.revoked", "iss": ISS,
                       "jti": "rules-" + uuid.uuid4().hex}).encode()


def test_trailing_whitespace_after_the_token_is_not_part_of_it(intake_server, mint):
    srv = intake_server
    tok = mint.token("RS256", sub="rules")
    for tail in (" ", "\t", "  \t"):
        # /admin used to compare "token " with the token (401); now as /auth.
        r = srv.session.get(srv.admin_url + "/admin/v1/stats", timeout=10,
                            headers={"Authorization": f"Bearer {srv.admin_token}{tail}"})
        assert r.status_code == 200, (repr(tail), r.status_code, r.text)
        assert_allow(srv.auth(headers={"Authorization": f"Bearer {tok}{tail}"}), sub="rules")
        # /v1/introspect used to trim spaces only.
        r = srv.session.post(srv.url + "/v1/introspect", data={"token": tok}, timeout=30,
                             headers={"Authorization": f"Bearer {srv.admin_token}{tail}",
                                      "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200 and r.json()["active"] is True, (repr(tail), r.text)


def test_a_tab_does_not_separate_bearer_from_its_token(intake_server, mint):
    srv = intake_server
    tok = mint.token("RS256", sub="rules")
    # /auth used to take a tab there; RFC 6750 §2.1 says 1*SP, as /admin did.
    assert_no_token(srv.auth(headers={"Authorization": f"Bearer\t{tok}"}))
    r = srv.session.get(srv.admin_url + "/admin/v1/stats", timeout=10,
                        headers={"Authorization": f"Bearer\t{srv.admin_token}"})
    assert r.status_code == 401
    assert_allow(srv.auth(headers={"Authorization": f"Bearer   {tok}"}), sub="rules")


def test_a_charset_must_be_utf8_on_every_route(intake_server):
    srv = intake_server
    # The webhook used to take any charset; the admin API did not.
    for ct in ("application/json; charset=latin1", 'application/json; charset="iso-8859-1"',
               "application/json; garbage"):
        r = deliver(srv, event(), ct)
        assert r.status_code == 415, (ct, r.status_code, r.text)
        r = srv.admin("POST", "/admin/v1/revocations", data=event(),
                      headers={"Content-Type": ct})
        assert r.status_code == 415, (ct, r.status_code, r.text)
    for ct in ("application/json; charset=UTF-8", "Application/JSON;charset=\"utf-8\"",
               "application/json; v=1"):
        assert deliver(srv, event(), ct).status_code == 202, ct
        r = srv.admin("POST", "/admin/v1/revocations", data=event(),
                      headers={"Content-Type": ct})
        assert r.status_code == 201, (ct, r.text)
    # Forms too (RFC 7009 revoke, RFC 7662 introspect, back-channel logout).
    r = srv.session.post(srv.url + "/v1/revoke", data="token=a.b.c", timeout=30,
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded; charset=iso-8859-1"})
    assert r.status_code == 400, r.text
    r = srv.session.post(srv.url + "/v1/revoke", data="token=a.b.c", timeout=30,
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded; charset=utf-8"})
    assert r.status_code == 200, r.text
