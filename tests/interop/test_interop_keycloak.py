"""Keycloak 22, 24, 25 and 26 on the wire (REFERENCE §3 step 5, §5.3, §5.5):
access tokens with and without nonce, payload typ Bearer and ID, logout
tokens with header typ JWT and logout+jwt, PushNotBeforeAction for
/k_push_not_before. The formats are keycloak_formats.py's (field by field
from Keycloak's token classes); jose signs them with the realm's keys."""
import os
import time
import uuid

import pytest
import requests

from interop_support import (assert_allow, assert_deny, finish_server, jose_keygen, jose_sign,
                      start_server, write_file)
import keycloak_formats as kc

REALM = "https://kc.test/realms/main"          # allow_nonce: true (Keycloak <= 24)
REALM_STRICT = "https://kc.test/realms/strict"  # defaults: nonce refused


@pytest.fixture(scope="module")
def realm_keys():
    k = jose_keygen(["RS256", "ES256"])
    return {"RS256": k["RS256"], "ES256": k["ES256"]}


@pytest.fixture(scope="module")
def srv(tmp_path_factory, realm_keys):
    d = str(tmp_path_factory.mktemp("kc"))
    for alg, k in realm_keys.items():
        write_file(os.path.join(d, "keys", f"{alg}.pem"), k["spki_pem"])
    write_file(os.path.join(d, "keys", "admin.token"), "test-admin-token-0123456789\n")
    keys = [{"kid": "kc-rs256", "alg": "RS256", "pem_file": "keys/RS256.pem"},
            {"kid": "kc-es256", "alg": "ES256", "pem_file": "keys/ES256.pem"}]
    cfg = {"data_dir": "data", "threads": 2, "log_format": "json",
           "admin": {"token_file": "keys/admin.token"},
           "issuers": [
               {"issuer": REALM, "audiences": ["orders-api"], "algorithms": ["RS256", "ES256"],
                "keys": keys, "allow_nonce": True, "backchannel_client_id": "gateway"},
               {"issuer": REALM_STRICT, "audiences": ["orders-api"],
                "algorithms": ["RS256", "ES256"], "keys": keys,
                "backchannel_client_id": "gateway-strict"}]}
    s = start_server(d, cfg)
    yield s
    finish_server(s)


def sign(realm_keys, payload, typ="JWT", alg="RS256"):
    kid = "kc-" + alg.lower()
    return jose_sign([{"alg": alg, "key": realm_keys[alg]["private_jwk"],
                       "header": {"typ": typ, "kid": kid}, "payload": payload}])[0]


def sid():
    return str(uuid.uuid4())


@pytest.mark.parametrize("version", kc.VERSIONS)
@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_access_tokens(srv, realm_keys, version, alg):
    # without nonce: every version, both realms
    for realm in (REALM, REALM_STRICT):
        t = sign(realm_keys, kc.access_token(version, realm, sid()), alg=alg)
        r = srv.auth(t)
        assert_allow(r)
        if version >= 26:
            assert r.headers["X-Auth-Token-Id"].startswith("onrtac:")
    # the client sent a nonce: Keycloak <= 24 copies it into the access token
    p = kc.access_token(version, REALM, sid(), nonce="n-0S6_WzA2Mj")
    assert ("nonce" in p) == (version <= 24)
    assert_allow(srv.auth(sign(realm_keys, p, alg=alg)))        # allow_nonce: true
    p = kc.access_token(version, REALM_STRICT, sid(), nonce="n-0S6_WzA2Mj")
    t = sign(realm_keys, p, alg=alg)
    if version <= 24:
        assert_deny(srv.auth(t), "wrong token type")             # needs allow_nonce
    else:
        assert_allow(srv.auth(t))


@pytest.mark.parametrize("version", kc.VERSIONS)
def test_id_tokens_refused(srv, realm_keys, version):
    for realm in (REALM, REALM_STRICT):
        t = sign(realm_keys, kc.id_token(version, realm, sid()))
        # aud is the client: its ID tokens never pass, allow_nonce or not
        assert_deny(srv.auth(t), "invalid audience")
    # one whose aud happens to be the API (a client named like it): only
    # its nonce tells it apart, so only an issuer without allow_nonce
    # refuses it (docs/COMPATIBILITY.md: allow_nonce needs client IDs that
    # are not audiences)
    p = kc.id_token(version, REALM_STRICT, sid(), client="orders-api")
    assert_deny(srv.auth(sign(realm_keys, p)), "wrong token type")


def bcl(srv, tok):
    return requests.post(srv.url + "/v1/backchannel-logout", data={"logout_token": tok},
                         timeout=10)


@pytest.mark.parametrize("version", kc.VERSIONS)
def test_logout_tokens(srv, realm_keys, version):
    s = sid()
    at = sign(realm_keys, kc.access_token(version, REALM, s, now=int(time.time()) - 2))
    other = sign(realm_keys, kc.access_token(version, REALM, sid(), now=int(time.time()) - 2))
    assert_allow(srv.auth(at))
    typ = kc.logout_header_typ(version)
    lt = sign(realm_keys, kc.logout_token(REALM, s, revoke_offline=version % 2 == 0), typ=typ)
    r = bcl(srv, lt)
    assert r.status_code == 200, r.text
    assert_deny(srv.auth(at), "session revoked")
    assert_allow(srv.auth(other))
    # the logout token is never an access token (events; typ)
    assert srv.auth(lt).status_code == 401
    # invalid outputs: wrong client, another realm's client, expired, replayed jti
    now = int(time.time())
    bad = [
        kc.logout_token(REALM, sid(), client="someone-else"),
        kc.logout_token(REALM_STRICT, sid(), client="gateway"),
        dict(kc.logout_token(REALM, sid()), iat=now - 900, exp=now - 600),
    ]
    for p in bad:
        r = bcl(srv, sign(realm_keys, p, typ=typ))
        assert r.status_code == 400, (p, r.text)
    replay = dict(kc.logout_token(REALM, sid()), jti=kc.logout_token(REALM, s)["jti"])
    first = sign(realm_keys, replay, typ=typ)
    assert bcl(srv, first).status_code == 200
    again = sign(realm_keys, dict(replay, sid=sid()), typ=typ)
    r = bcl(srv, again)
    assert r.status_code == 400 and "replayed" in r.json()["error_description"], r.text


def push(srv, body, path="/k_push_not_before"):
    return requests.post(srv.url + path, data=body, timeout=10,
                         headers={"Content-Type": "text/plain"})


def test_push_not_before(srv, realm_keys):
    now = int(time.time())
    old = sign(realm_keys, kc.access_token(26, REALM_STRICT, sid(), now=now - 10))
    assert_allow(srv.auth(old))
    action = kc.push_not_before("gateway-strict", now - 5)
    r = push(srv, sign(realm_keys, action))
    assert r.status_code == 204, r.text
    assert_deny(srv.auth(old), "issuer revoked")
    # the other realm is untouched
    assert_allow(srv.auth(sign(realm_keys, kc.access_token(26, REALM, sid(), now=now - 10))))
    # a token issued at or after notBefore passes
    assert_allow(srv.auth(sign(realm_keys, kc.access_token(26, REALM_STRICT, sid(), now=now - 5))))
    # invalid outputs: another realm's key is fine (same keys here), but an
    # unknown client, an expired action or a LOGOUT action sent as a push are not
    for bad in (kc.push_not_before("unknown-client", now),
                dict(kc.push_not_before("gateway-strict", now), expiration=now - 600),
                dict(kc.push_not_before("gateway-strict", now), action="LOGOUT")):
        assert push(srv, sign(realm_keys, bad)).status_code == 400
    # notBefore 0 lifts it
    assert push(srv, sign(realm_keys, kc.push_not_before("gateway-strict", 0))).status_code == 204
    assert_allow(srv.auth(old))


def test_logout_action(srv, realm_keys):
    """Keycloak's "Sign out all active sessions" (realm Sessions tab, admin
    REST logout-all): a LogoutAction to the client's admin URL + /k_logout."""
    now = int(time.time())
    old = sign(realm_keys, kc.access_token(25, REALM, sid(), now=now - 10))
    assert_allow(srv.auth(old))
    action = kc.logout_action("gateway", now - 5, adapter_session_ids=["a1b2", "c3d4"])
    tok = sign(realm_keys, action, alg="ES256")
    r = push(srv, tok, "/k_logout")
    assert r.status_code == 204, r.text
    assert_deny(srv.auth(old), "issuer revoked")
    assert_allow(srv.auth(sign(realm_keys, kc.access_token(25, REALM, sid(), now=now - 5))))
    # single use: the same action again is 204, nothing reapplied
    assert push(srv, tok, "/k_logout").status_code == 204
    # notBefore 0 (a per-user logout of an old adapter) records and lifts nothing
    assert push(srv, sign(realm_keys, kc.logout_action("gateway", 0)), "/k_logout").status_code == 204
    assert_deny(srv.auth(old), "issuer revoked")
    # a push is no logout action and the other way round; wrong key; expired
    other = jose_keygen(["RS256"])["RS256"]
    bad = [
        sign(realm_keys, kc.push_not_before("gateway", now)),
        jose_sign([{"alg": "RS256", "key": other["private_jwk"],
                    "header": {"typ": "JWT", "kid": "kc-rs256"},
                    "payload": kc.logout_action("gateway", now)}])[0],
        sign(realm_keys, dict(kc.logout_action("gateway", now), expiration=now - 600)),
        sign(realm_keys, dict(kc.logout_action("gateway", now), adapterSessionIds="a1")),
    ]
    for b in bad:
        assert push(srv, b, "/k_logout").status_code == 400
    assert push(srv, sign(realm_keys, kc.logout_action("gateway", now)),
                "/k_push_not_before").status_code == 400
