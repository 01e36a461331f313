"""REFERENCE §5.5: Keycloak's not-before push to /k_push_not_before."""
import time
import uuid

import jwt

from conftest import ISS, assert_deny, pem_private


def push_token(keys, key=None, kid="rsa1", **over):
    now = int(time.time())
    p = {"id": str(uuid.uuid4()), "action": "PUSH_NOT_BEFORE", "resource": "gateway",
         "notBefore": now, "expiration": now + 10, "realm": "main"}
    for k, v in over.items():
        if v is None:
            p.pop(k, None)
        else:
            p[k] = v
    return jwt.encode(p, pem_private(key or keys.rsa), algorithm="RS256",
                      headers={"kid": kid} if kid else None)


def push(srv, body, ctype="text/plain"):
    return srv.session.post(srv.url + "/k_push_not_before", data=body,
                            headers={"Content-Type": ctype}, timeout=30)


def issuer_rev(srv):
    return srv.admin("GET", "/admin/v1/revocations/issuer/", params={"iss": ISS})


def assert_400(r):
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_request" and r.json()["error_description"]


def test_push_and_clear(module_make_server, keys, mint):
    srv = module_make_server()
    now = int(time.time())
    old = mint.token(iat=now - 10)
    r = push(srv, push_token(keys, notBefore=now - 5), ctype="application/jwt")
    assert r.status_code == 204, r.text
    got = issuer_rev(srv).json()
    assert got["revoked_at"] == now - 6 and got["source"] == "keycloak"
    assert_deny(srv.auth(old), "issuer revoked")
    assert srv.auth(mint.token(iat=now - 5)).status_code == 200
    # notBefore 0 removes what Keycloak set
    assert push(srv, push_token(keys, notBefore=0)).status_code == 204
    assert issuer_rev(srv).status_code == 404
    assert srv.auth(old).status_code == 200


def test_clear_leaves_an_operators_revocation(module_make_server, keys):
    srv = module_make_server()
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "issuer.revoked", "iss": ISS, "at": int(time.time()) - 60})
    assert r.status_code == 201, r.text
    assert push(srv, push_token(keys, notBefore=0)).status_code == 204
    assert issuer_rev(srv).json()["source"] == "admin"


def test_refusals(module_make_server, keys):
    srv = module_make_server()
    now = int(time.time())
    bad = [
        "not a jws",
        push_token(keys, key=keys.rsa_other),
        push_token(keys, kid="nope"),
        push_token(keys, expiration=None),
        push_token(keys, expiration=now - 3600),
        push_token(keys, resource="someone-else"),
        push_token(keys, action="LOGOUT"),
        push_token(keys, notBefore=None),
        push_token(keys, notBefore=now + 3600),
        push_token(keys, notBefore="soon"),
    ]
    for b in bad:
        assert_400(push(srv, b))
    assert issuer_rev(srv).status_code == 404


def test_logout_action(module_make_server, keys, mint):
    # REFERENCE §5.5: POST /k_logout, Keycloak's LogoutAction.
    srv = module_make_server()
    now = int(time.time())
    old = mint.token(iat=now - 10)
    la = push_token(keys, action="LOGOUT", notBefore=now - 5, adapterSessionIds=["a1"])
    r = srv.session.post(srv.url + "/k_logout", data=la, timeout=30,
                         headers={"Content-Type": "text/plain"})
    assert r.status_code == 204, r.text
    assert_deny(srv.auth(old), "issuer revoked")
    # a push is not a logout action, nor the other way round
    r = srv.session.post(srv.url + "/k_logout", data=push_token(keys), timeout=30)
    assert_400(r)
    assert_400(push(srv, push_token(keys, action="LOGOUT")))
