"""REFERENCE §5.3: OpenID Connect Back-Channel Logout 1.0 logout tokens, minted
by PyJWT, posted as a form to /v1/backchannel-logout."""
import time
import uuid

import jwt

from conftest import ISS, ISS2, assert_deny, pem_private, raw_token

BCL = "http://schemas.openid.net/event/backchannel-logout"


def logout_claims(**over):
    now = int(time.time())
    c = {"iss": ISS, "aud": "gateway", "iat": now, "exp": now + 120,
         "jti": str(uuid.uuid4()), "sid": "bcl-" + uuid.uuid4().hex,
         "events": {BCL: {}}}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint_logout(keys, claims, typ="logout+jwt", kid="rsa1", key=None):
    h = {"kid": kid, "typ": typ}
    if typ is None:
        return raw_token({"alg": "RS256", "kid": kid}, claims, "RS256", key or keys.rsa)
    return jwt.encode(claims, pem_private(key or keys.rsa), algorithm="RS256", headers=h)


def post(srv, data, ctype="application/x-www-form-urlencoded"):
    h = {"Content-Type": ctype} if ctype else {}
    if isinstance(data, dict):
        import urllib.parse
        data = urllib.parse.urlencode(data)
    return srv.session.post(srv.url + "/v1/backchannel-logout", data=data,
                            headers=h, timeout=30)


def assert_400(r):
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["error"] == "invalid_request" and body["error_description"]
    assert r.headers.get("Cache-Control") == "no-store"


def test_sid_revokes_session(intake_server, keys, mint):
    srv = intake_server
    now = int(time.time())
    old = mint.token(sid="bcl-s1", iat=now - 10)
    c = logout_claims(sid="bcl-s1", sub="alice")
    r = post(srv, {"logout_token": mint_logout(keys, c)})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert r.content == b""
    assert_deny(srv.auth(old), "session revoked")
    got = srv.admin("GET", "/admin/v1/revocations/session/bcl-s1", params={"iss": ISS}).json()
    assert got["source"] == "backchannel" and got["revoked_at"] == c["iat"]
    # the subject's other sessions are untouched
    assert srv.auth(mint.token(sid="other", sub="alice", iat=now - 10)).status_code == 200


def test_sub_alone_revokes_subject(intake_server, keys, mint):
    srv = intake_server
    tok = mint.token(sub="bcl-user", iat=int(time.time()) - 10)
    c = logout_claims(sid=None, sub="bcl-user", aud=["x", "gateway"], exp=None)
    r = post(srv, {"logout_token": mint_logout(keys, c, typ=None)})
    assert r.status_code == 200, r.text
    assert_deny(srv.auth(tok), "subject revoked")


def test_keycloak_extra_members_tolerated(intake_server, keys):
    c = logout_claims(events={BCL: {"revoke_offline_access": True}, "urn:x": {}},
                      typ="Logout", sid_extra=1)
    r = post(intake_server, {"logout_token": mint_logout(keys, c,
                                                         typ="application/logout+jwt")})
    assert r.status_code == 200, r.text


def test_replay_is_refused(intake_server, keys):
    # REFERENCE §5.3: the same token again (a sender's retry) is 200 and not
    # reapplied; another token reusing its jti is a replay.
    srv = intake_server
    c = logout_claims()
    t = mint_logout(keys, c)
    assert post(srv, {"logout_token": t}).status_code == 200
    r = post(srv, {"logout_token": t})
    assert r.status_code == 200, r.text
    other = mint_logout(keys, dict(c, sid="bcl-other"))
    r = post(srv, {"logout_token": other})
    assert_400(r)
    assert "replayed" in r.json()["error_description"]


def test_every_validation_rule(intake_server, keys):
    srv = intake_server
    now = int(time.time())
    bad = [
        mint_logout(keys, logout_claims(), key=keys.rsa_other),        # unknown key
        mint_logout(keys, logout_claims(), kid="nope"),
        mint_logout(keys, logout_claims(aud="orders-api")),            # wrong aud
        mint_logout(keys, logout_claims(aud=None)),
        mint_logout(keys, logout_claims(iat=None)),
        mint_logout(keys, logout_claims(jti=None)),
        mint_logout(keys, logout_claims(events=None)),
        mint_logout(keys, logout_claims(events={"urn:other": {}})),
        mint_logout(keys, logout_claims(events={BCL: "yes"})),
        mint_logout(keys, logout_claims(exp=now - 100, iat=now - 200)),
        mint_logout(keys, logout_claims(sid=None)),                    # neither
        mint_logout(keys, logout_claims(nonce="n")),
        mint_logout(keys, logout_claims(), typ="at+jwt"),
        mint_logout(keys, logout_claims(), typ="secevent+jwt"),
        mint_logout(keys, logout_claims(iss="https://unknown")),
        mint_logout(keys, logout_claims(iat=now + 3600, exp=now + 3700)),
        "not.a.jwt",
    ]
    for t in bad:
        assert_400(post(srv, {"logout_token": t}))


def test_typ_jwt_is_a_logout_token(intake_server, keys):
    # REFERENCE §5.3: Keycloak up to 24, Authentik and older Duende send
    # typ JWT; events and no nonce are what make it a logout token.
    srv = intake_server
    r = post(srv, {"logout_token": mint_logout(keys, logout_claims(), typ="JWT")})
    assert r.status_code == 200, r.text
    r = post(srv, {"logout_token": mint_logout(keys, logout_claims(nonce="n"), typ="JWT")})
    assert_400(r)


def test_issuer_without_backchannel_client_id(intake_server, keys):
    c = logout_claims(iss=ISS2)
    t = jwt.encode(c, pem_private(keys.ec256), algorithm="ES256",
                   headers={"typ": "logout+jwt"})
    assert_400(post(intake_server, {"logout_token": t}))


def test_form_errors(intake_server, keys):
    srv = intake_server
    t = mint_logout(keys, logout_claims())
    assert_400(post(srv, {}))
    assert_400(post(srv, {"logout_token": ""}))
    assert_400(post(srv, "logout_token=%zz"))
    assert_400(post(srv, f"logout_token={t}&logout_token={t}"))
    assert_400(post(srv, {"logout_token": t}, ctype="application/json"))
    assert_400(post(srv, {"logout_token": t}, ctype=None))
    # nothing of the above was taken: the same token still works once
    assert post(srv, {"logout_token": t}).status_code == 200
