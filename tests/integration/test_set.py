"""REFERENCE §5.2: RFC 8935 push delivery of RFC 8417 Security Event Tokens.

SETs are minted by PyJWT and jwcrypto (independent of revokd).
"""
import json
import time
import uuid

import jwt
from jwcrypto import jwk as jwc_jwk
from jwcrypto import jwt as jwc_jwt

from conftest import (ISS, ISS2, SET_AUDIENCE, assert_deny, metric_value,
                      metrics_text, pem_private, raw_token)

CAEP = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
RISC_SR = "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
RISC_AD = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"


def set_claims(evs, **over):
    c = {"iss": ISS, "aud": SET_AUDIENCE, "iat": int(time.time()),
         "jti": str(uuid.uuid4()), "events": evs}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint_set(keys, claims, typ="secevent+jwt", kid="rsa1", key=None, alg="RS256"):
    h = {"kid": kid} if kid else {}
    if typ is None:  # PyJWT would add "typ": "JWT"
        return raw_token(dict(h, alg=alg), claims, alg, key or keys.rsa)
    h["typ"] = typ
    return jwt.encode(claims, pem_private(key or keys.rsa), algorithm=alg, headers=h)


def push(srv, body, ctype="application/secevent+jwt"):
    if isinstance(body, str):
        body = body.encode()
    return srv.session.post(srv.url + "/v1/events", data=body,
                            headers={"Content-Type": ctype}, timeout=30)


def assert_set_error(r, code):
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["err"] == code, body
    assert isinstance(body["description"], str) and body["description"]
    assert set(body) == {"err", "description"}


def test_caep_session_revoked_opaque(intake_server, keys, mint):
    srv = intake_server
    tok = mint.token(sid="set-sess-1", iat=int(time.time()) - 5)
    assert srv.auth(tok).status_code == 200
    ev = {CAEP: {"subject": {"format": "opaque", "id": "set-sess-1"},
                 "event_timestamp": int(time.time())}}
    r = push(srv, mint_set(keys, set_claims(ev)))
    assert r.status_code == 202, r.text
    assert r.content == b""
    assert_deny(srv.auth(tok), "session revoked")
    got = srv.admin("GET", "/admin/v1/revocations/session/set-sess-1", params={"iss": ISS})
    assert got.json()["source"] == "set"


def test_sub_id_iss_sub_and_jwcrypto(intake_server, keys, mint):
    srv = intake_server
    tok = mint.token(sub="set-user-2", iat=int(time.time()) - 5)
    k = jwc_jwk.JWK.from_pem(pem_private(keys.ec256))
    claims = set_claims({RISC_AD: {}},
                        sub_id={"format": "iss_sub", "iss": ISS, "sub": "set-user-2"})
    t = jwc_jwt.JWT(header={"alg": "ES256", "kid": "ec1", "typ": "secevent+jwt"},
                    claims=json.dumps(claims))
    t.make_signed_token(k)
    r = push(srv, t.serialize())
    assert r.status_code == 202, r.text
    assert_deny(srv.auth(tok), "subject revoked")


def test_risc_sessions_revoked_opaque_is_subject(intake_server, keys, mint):
    srv = intake_server
    tok = mint.token(sub="set-user-3", iat=int(time.time()) - 5)
    ev = {RISC_SR: {"subject": {"format": "opaque", "id": "set-user-3"}}}
    assert push(srv, mint_set(keys, set_claims(ev))).status_code == 202
    assert_deny(srv.auth(tok), "subject revoked")


def test_jwt_id_revokes_token(intake_server, keys, mint):
    srv = intake_server
    tok = mint.token(jti="set-jti-4")
    ev = {CAEP: {"subject": {"format": "jwt_id", "iss": ISS, "jti": "set-jti-4"}}}
    assert push(srv, mint_set(keys, set_claims(ev))).status_code == 202
    assert_deny(srv.auth(tok), "token revoked")


def test_complex_subjects(intake_server, keys, mint):
    srv = intake_server
    now = int(time.time())
    t_sess = mint.token(sid="set-cx-sess", iat=now - 5)
    t_user = mint.token(sub="set-cx-user", iat=now - 5)
    ev = {CAEP: {"subject": {"session": {"format": "opaque", "id": "set-cx-sess"},
                             "user": {"format": "iss_sub", "iss": ISS, "sub": "x"}}}}
    assert push(srv, mint_set(keys, set_claims(ev))).status_code == 202
    assert_deny(srv.auth(t_sess), "session revoked")
    ev = {CAEP: {"subject": {"user": {"format": "iss_sub", "iss": ISS,
                                      "sub": "set-cx-user"}}}}
    assert push(srv, mint_set(keys, set_claims(ev))).status_code == 202
    assert_deny(srv.auth(t_user), "subject revoked")


def test_revoked_at_is_event_timestamp_else_iat(intake_server, keys):
    srv = intake_server
    now = int(time.time())
    ev = {CAEP: {"subject": {"format": "opaque", "id": "set-ts-a"},
                 "event_timestamp": now - 50}}
    assert push(srv, mint_set(keys, set_claims(ev, iat=now - 20))).status_code == 202
    got = srv.admin("GET", "/admin/v1/revocations/session/set-ts-a", params={"iss": ISS})
    assert got.json()["revoked_at"] == now - 50
    ev = {CAEP: {"subject": {"format": "opaque", "id": "set-ts-b"}}}
    assert push(srv, mint_set(keys, set_claims(ev, iat=now - 20))).status_code == 202
    got = srv.admin("GET", "/admin/v1/revocations/session/set-ts-b", params={"iss": ISS})
    assert got.json()["revoked_at"] == now - 20


def test_unknown_event_type_is_202_and_ignored(intake_server, keys):
    srv = intake_server
    n = metric_value(metrics_text(srv), "revokd_revocations_taken_total", {"source": "set"})
    ev = {"https://schemas.openid.net/secevent/caep/event-type/credential-change":
          {"subject": {"format": "opaque", "id": "x"}}}
    assert push(srv, mint_set(keys, set_claims(ev))).status_code == 202
    assert metric_value(metrics_text(srv), "revokd_revocations_taken_total",
                        {"source": "set"}) == n
    assert "unknown types ignored" in srv.stderr_text()


def test_replayed_set_is_not_reapplied(intake_server, keys):
    srv = intake_server
    ev = {CAEP: {"subject": {"format": "opaque", "id": "set-replay"}}}
    s = mint_set(keys, set_claims(ev))
    assert push(srv, s).status_code == 202
    assert srv.admin("DELETE", "/admin/v1/revocations/session/set-replay",
                     params={"iss": ISS}).status_code == 204
    assert push(srv, s).status_code == 202
    assert srv.admin("GET", "/admin/v1/revocations/session/set-replay",
                     params={"iss": ISS}).status_code == 404


def test_invalid_request_rows(intake_server, keys):
    srv = intake_server
    now = int(time.time())
    ok_ev = {CAEP: {"subject": {"format": "opaque", "id": "set-never"}}}
    assert_set_error(push(srv, "not a jwt"), "invalid_request")
    assert_set_error(push(srv, mint_set(keys, set_claims(ok_ev), typ="JWT")),
                     "invalid_request")
    assert_set_error(push(srv, mint_set(keys, set_claims(ok_ev), typ=None)),
                     "invalid_request")
    for missing in ("iat", "jti", "events"):
        assert_set_error(push(srv, mint_set(keys, set_claims(ok_ev, **{missing: None}))),
                         "invalid_request")
    bad_subjects = [
        {CAEP: {}},                                                   # no subject
        {CAEP: {"subject": {"format": "email", "email": "a@b.c"}}},
        {CAEP: {"subject": {"format": "opaque"}}},
        {CAEP: {"subject": {"format": "iss_sub", "iss": ISS2, "sub": "x"}}},
        {CAEP: {"subject": {"format": "jwt_id", "iss": ISS2, "jti": "x"}}},
        {RISC_SR: {"subject": {"session": {"format": "opaque", "id": "s"}}}},
        {CAEP: {"subject": {"format": "opaque", "id": "x"},
                "event_timestamp": now + 3600}},
        {CAEP: "not an object"},
    ]
    for ev in bad_subjects:
        assert_set_error(push(srv, mint_set(keys, set_claims(ev))), "invalid_request")
    assert srv.admin("GET", "/admin/v1/revocations/session/set-never",
                     params={"iss": ISS}).status_code == 404


def test_invalid_key_issuer_audience(intake_server, keys):
    srv = intake_server
    ev = {CAEP: {"subject": {"format": "opaque", "id": "set-never-2"}}}
    # signed by a key revokd does not know, under a known kid
    assert_set_error(push(srv, mint_set(keys, set_claims(ev), key=keys.rsa_other)),
                     "invalid_key")
    assert_set_error(push(srv, mint_set(keys, set_claims(ev), kid="nope")), "invalid_key")
    assert_set_error(push(srv, mint_set(keys, set_claims(ev), alg="RS384")), "invalid_key")
    assert_set_error(push(srv, mint_set(keys, set_claims(ev, iss="https://evil"))),
                     "invalid_issuer")
    assert_set_error(push(srv, mint_set(keys, set_claims(ev, iss=None))), "invalid_issuer")
    assert_set_error(push(srv, mint_set(keys, set_claims(ev, aud="https://elsewhere/"))),
                     "invalid_audience")
    assert_set_error(push(srv, mint_set(keys, set_claims(ev, aud=None))),
                     "invalid_audience")
    assert srv.admin("GET", "/admin/v1/revocations/session/set-never-2",
                     params={"iss": ISS}).status_code == 404


def test_aud_array(intake_server, keys):
    srv = intake_server
    ev = {CAEP: {"subject": {"format": "opaque", "id": "set-aud-arr"}}}
    s = mint_set(keys, set_claims(ev, aud=["https://x/", SET_AUDIENCE]))
    assert push(srv, s).status_code == 202


def test_no_set_audience_refuses(module_make_server, keys):
    srv = module_make_server()
    ev = {CAEP: {"subject": {"format": "opaque", "id": "x"}}}
    assert_set_error(push(srv, mint_set(keys, set_claims(ev))), "invalid_audience")
