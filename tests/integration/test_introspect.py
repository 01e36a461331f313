"""REFERENCE §5.7: RFC 7662 introspection at /v1/introspect."""
import time

from conftest import INTROSPECT_ID, INTROSPECT_SECRET, ISS

AUTH = (INTROSPECT_ID, INTROSPECT_SECRET)


def introspect(srv, data, auth=AUTH, headers=None,
               ctype="application/x-www-form-urlencoded"):
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return srv.session.post(srv.url + "/v1/introspect", data=data, auth=auth,
                            headers=h, timeout=30)


def test_active_token(intake_server, mint):
    srv = intake_server
    tok = mint.token(jti="intro-1", scope="read write", azp="web-app", sid="s-intro")
    r = introspect(srv, {"token": tok})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    claims = mint.claims()
    assert body["active"] is True
    assert body["iss"] == ISS and body["sub"] == "alice" and body["jti"] == "intro-1"
    assert body["aud"] == "orders-api" and body["scope"] == "read write"
    assert body["client_id"] == "web-app"
    assert isinstance(body["exp"], int) and isinstance(body["iat"], int)
    assert set(body) == {"active", "iss", "sub", "jti", "exp", "iat", "aud", "scope",
                         "client_id"}
    del claims


def test_client_id_preferred_and_absent_claims_omitted(intake_server, mint):
    tok = mint.token(client_id="cid", azp="azp", sub=None)
    body = introspect(intake_server, {"token": tok}).json()
    assert body["client_id"] == "cid"
    assert "sub" not in body and "scope" not in body


def test_admin_token_as_bearer(intake_server, mint):
    srv = intake_server
    r = introspect(srv, {"token": mint.token()}, auth=None,
                   headers={"Authorization": f"Bearer {srv.admin_token}"})
    assert r.status_code == 200 and r.json()["active"] is True


def test_inactive_tokens(intake_server, mint, keys):
    srv = intake_server
    now = int(time.time())
    revoked = mint.token(jti="intro-revoked")
    assert srv.admin("POST", "/admin/v1/revocations",
                     json={"type": "token.revoked", "iss": ISS,
                           "jti": "intro-revoked"}).status_code == 201
    for t in ("garbage", mint.token(key=keys.rsa_other),
              mint.token(exp=now - 100, iat=now - 200), revoked):
        r = introspect(srv, {"token": t})
        assert r.status_code == 200
        assert r.json() == {"active": False}


def test_unauthenticated_is_401(intake_server, mint):
    srv = intake_server
    tok = mint.token()
    for auth, headers in ((None, None), ((INTROSPECT_ID, "wrong"), None),
                          (("someone", INTROSPECT_SECRET), None),
                          (None, {"Authorization": "Bearer wrong-token"}),
                          (None, {"Authorization": "Basic !!!"})):
        r = introspect(srv, {"token": tok}, auth=auth, headers=headers)
        assert r.status_code == 401, (auth, headers)
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        assert "active" not in r.text


def test_missing_token_is_400(intake_server):
    r = introspect(intake_server, {"token_type_hint": "access_token"})
    assert r.status_code == 400 and r.json() == {"error": "invalid_request"}


def test_rfc6749_client_authentication(intake_server, mint):
    # REFERENCE §5.7: Basic credentials form-urlencoded before base64 (as
    # openid-client and oauth4webapi send them), decoded; as sent; and
    # client_id/client_secret in the form body.
    import base64
    import urllib.parse
    srv = intake_server
    tok = mint.token()
    enc = lambda s: urllib.parse.quote(s, safe="").replace("-", "%2D")  # noqa: E731
    basic = base64.b64encode(f"{enc(INTROSPECT_ID)}:{enc(INTROSPECT_SECRET)}".encode()).decode()
    r = introspect(srv, {"token": tok}, auth=None, headers={"Authorization": "Basic " + basic})
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    r = introspect(srv, {"token": tok, "client_id": INTROSPECT_ID,
                         "client_secret": INTROSPECT_SECRET}, auth=None)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    r = introspect(srv, {"token": tok, "client_id": INTROSPECT_ID, "client_secret": "nope"},
                   auth=None)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.headers["WWW-Authenticate"].startswith("Basic")
