"""REFERENCE §5.4: RFC 7009 token revocation at /v1/revoke."""
import time

from conftest import ISS, assert_deny


def revoke(srv, data, ctype="application/x-www-form-urlencoded"):
    h = {"Content-Type": ctype} if ctype else {}
    return srv.session.post(srv.url + "/v1/revoke", data=data, headers=h, timeout=30)


def test_valid_token_is_revoked_until_exp(intake_server, mint):
    srv = intake_server
    exp = int(time.time()) + 500
    tok = mint.token(jti="r7009-1", exp=exp)
    assert srv.auth(tok).status_code == 200
    r = revoke(srv, {"token": tok, "token_type_hint": "access_token"})
    assert r.status_code == 200 and r.content == b""
    assert_deny(srv.auth(tok), "token revoked")
    got = srv.admin("GET", "/admin/v1/revocations/token/r7009-1", params={"iss": ISS}).json()
    assert got["source"] == "rfc7009" and got["expires_at"] == exp


def test_invalid_tokens_are_200_and_change_nothing(intake_server, mint, keys):
    srv = intake_server
    now = int(time.time())
    bad = [
        "garbage",
        mint.token(jti="r7009-bad-1", key=keys.rsa_other),
        mint.token(jti="r7009-bad-2", exp=now - 100, iat=now - 200),
        mint.token(jti="r7009-bad-3", aud="elsewhere"),
    ]
    for t in bad:
        r = revoke(srv, {"token": t})
        assert r.status_code == 200, r.text
    for i in (1, 2, 3):
        assert srv.admin("GET", f"/admin/v1/revocations/token/r7009-bad-{i}",
                         params={"iss": ISS}).status_code == 404


def test_missing_token_is_400(intake_server):
    srv = intake_server
    for data in ({}, {"token": ""}, {"token_type_hint": "access_token"}, "token=%G1"):
        r = revoke(srv, data)
        assert r.status_code == 400
        assert r.json() == {"error": "invalid_request"}
        assert r.headers["Content-Type"] == "application/json"
