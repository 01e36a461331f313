"""jose (pinned in package.json) signs; revokd verifies (REFERENCE §2, §3
steps 3-5, §5.2, §5.3, §6).

Every JWS algorithm: HS256/384/512, RS256/384/512, PS256/384/512,
ES256/384/512, EdDSA (Ed25519 by jose; Ed448 by Python's cryptography, which
jose 6 does not offer). Each key is loaded two ways, from configuration
(PEM or secret file) and from a JWKS (jose's exported public JWKs; HS keys
never come from a JWKS), and each token is

- allowed under its own key and algorithm;
- refused under every other configured key (its kid pointing at a key of
  another algorithm: `unsupported algorithm`; another key of its own
  algorithm: `invalid signature`);
- refused under every other algorithm on its key (the header names another
  algorithm: `unsupported algorithm`; where jose can sign that algorithm with
  the same key material — RS*/PS* on one RSA key, HS* on one secret — the
  signature is real and still refused).

jose's SETs and logout tokens are taken with every algorithm too, and its
invalid outputs (wrong key, expired, wrong aud, replay) are refused for the
right reason."""
import json
import os
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed448

from interop_support import (assert_allow, assert_deny, b64u, finish_server, free_port,  # noqa: F401
                      jose_keygen, jose_sign, pem_public, raw_token, start_server,
                      write_file)

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
        "PS512", "ES256", "ES384", "ES512", "EdDSA"]
ALL = ALGS + ["Ed448"]          # Ed448 is alg EdDSA on an Ed448 key
ASYM = [a for a in ALL if not a.startswith("HS")]
ISS_CFG = "https://jose.test/static"
ISS_JWKS = "https://jose.test/jwks"
SET_AUD = "https://revokd.test/"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
BCL = "http://schemas.openid.net/event/backchannel-logout"


def hdr_alg(name):
    return "EdDSA" if name == "Ed448" else name


def kid(name, n=1):
    return f"{name.lower()}-{n}"


class Ed448Key:
    """Ed448 where jose cannot: Python's cryptography signs."""

    def __init__(self):
        self.key = ed448.Ed448PrivateKey.generate()

    def public_jwk(self):
        from cryptography.hazmat.primitives import serialization
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed448", "x": b64u(raw)}

    def pem(self):
        return pem_public(self.key)

    def sign(self, header, payload):
        h = b64u(json.dumps(header, separators=(",", ":")).encode())
        p = b64u(json.dumps(payload, separators=(",", ":")).encode())
        return f"{h}.{p}.{b64u(self.key.sign(f'{h}.{p}'.encode()))}"


class Material:
    """Two keys of every algorithm: n=1 configured, n=2 the impostor."""

    def __init__(self):
        self.k = {1: jose_keygen(ALGS), 2: jose_keygen(ALGS)}
        self.ed448 = {1: Ed448Key(), 2: Ed448Key()}

    def private(self, name, n=1):
        k = self.k[n][name]
        return k if name.startswith("HS") else k["private_jwk"]

    def sign_many(self, jobs):
        """jobs: (name, n, header, payload) -> tokens, in order."""
        out = [None] * len(jobs)
        jose_jobs, where = [], []
        for i, (name, n, header, payload) in enumerate(jobs):
            if name == "Ed448":
                out[i] = self.ed448[n].sign({"alg": "EdDSA", **header}, payload)
            else:
                jose_jobs.append({"alg": header.pop("alg", name), "key": self.private(name, n),
                                  "header": header, "payload": payload})
                where.append(i)
        for i, t in zip(where, jose_sign(jose_jobs)):
            out[i] = t
        return out


def claims(iss, **over):
    now = int(time.time())
    c = {"iss": iss, "sub": "alice", "aud": "orders-api", "iat": now, "exp": now + 600,
         "jti": str(uuid.uuid4())}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


@pytest.fixture(scope="module")
def mat():
    return Material()


@pytest.fixture(scope="module")
def jwks(mat):
    srv = ic_jwks_server()
    ks = []
    for name in ASYM:
        j = (mat.ed448[1].public_jwk() if name == "Ed448"
             else dict(mat.k[1][name]["public_jwk"]))
        j.update(kid=kid(name), alg=hdr_alg(name), use="sig")
        ks.append(j)
    srv.keys = ks
    yield srv
    srv.stop()


def ic_jwks_server():
    import revokd_fixtures as ic
    return ic.JwksServer()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, keys, mat, jwks):
    d = str(tmp_path_factory.mktemp("jose"))
    import base64
    static = []
    for name in ALL:
        if name.startswith("HS"):
            path = f"keys/{name}.secret"
            write_file(os.path.join(d, path),
                       base64.urlsafe_b64decode(mat.k[1][name]["secret_b64u"] + "=="))
            static.append({"kid": kid(name), "alg": name, "secret_file": path})
        else:
            path = f"keys/{name}.pem"
            pem = mat.ed448[1].pem() if name == "Ed448" else mat.k[1][name]["spki_pem"]
            write_file(os.path.join(d, path), pem)
            static.append({"kid": kid(name), "alg": hdr_alg(name), "pem_file": path})
    write_file(os.path.join(d, "keys", "admin.token"), "test-admin-token-0123456789\n")
    cfg = {
        "data_dir": "data", "threads": 2, "log_format": "json",
        "set_audience": SET_AUD,
        "admin": {"token_file": "keys/admin.token"},
        "issuers": [
            {"issuer": ISS_CFG, "audiences": ["orders-api"], "algorithms": ALGS,
             "keys": static, "backchannel_client_id": "gateway"},
            {"issuer": ISS_JWKS, "audiences": ["orders-api"],
             "algorithms": [a for a in ALGS if not a.startswith("HS")],
             "jwks_uri": jwks.base + "/jwks", "backchannel_client_id": "gateway"},
        ],
    }
    s = start_server(d, cfg)
    yield s
    finish_server(s)


SOURCES = [ISS_CFG, ISS_JWKS]


def names_for(iss):
    return ALL if iss == ISS_CFG else ASYM


@pytest.mark.parametrize("iss", SOURCES, ids=["config", "jwks"])
def test_every_algorithm_allowed_under_its_own_key(srv, mat, iss):
    names = names_for(iss)
    toks = mat.sign_many([(n, 1, {"kid": kid(n), "typ": "at+jwt"}, claims(iss)) for n in names])
    for n, t in zip(names, toks):
        r = srv.auth(t)
        assert r.status_code == 200, (n, r.headers.get("WWW-Authenticate"))
        assert r.headers["X-Auth-Issuer"] == iss


@pytest.mark.parametrize("iss", SOURCES, ids=["config", "jwks"])
def test_every_token_refused_under_every_other_key(srv, mat, iss):
    names = names_for(iss)
    jobs, want = [], []
    for a in names:
        for b in names:
            if a == b:
                continue
            jobs.append((a, 1, {"kid": kid(b)}, claims(iss)))
            # the key under that kid is pinned to its own algorithm
            want.append((a, b, "unsupported algorithm" if hdr_alg(a) != hdr_alg(b)
                         else "invalid signature"))
        # the impostor's key of the same algorithm, under the real kid
        jobs.append((a, 2, {"kid": kid(a)}, claims(iss)))
        want.append((a, a + "(impostor)", "invalid signature"))
    toks = mat.sign_many(jobs)
    for (a, b, reason), t in zip(want, toks):
        r = srv.auth(t)
        assert r.status_code == 401, (a, b)
        assert f'error_description="{reason}"' in r.headers["WWW-Authenticate"], \
            (a, b, r.headers["WWW-Authenticate"])


def same_material(a):
    if a.startswith("HS"):
        return ["HS256", "HS384", "HS512"]
    if a[:2] in ("RS", "PS"):
        return [f"{f}{h}" for f in ("RS", "PS") for h in ("256", "384", "512")]
    return []


@pytest.mark.parametrize("iss", SOURCES, ids=["config", "jwks"])
def test_every_token_refused_under_every_other_algorithm(srv, mat, iss):
    names = names_for(iss)
    jobs, want = [], []
    for a in names:
        # jose signs another algorithm with the very same key material
        for b in same_material(a):
            if b != a:
                jobs.append((a, 1, {"alg": b, "kid": kid(a)}, claims(iss)))
                want.append((a, b))
    toks = mat.sign_many(jobs)
    # and every other algorithm name on this key, with a signature of the
    # right shape but from no key (only the header's alg differs)
    for a in names:
        for b in ALGS + ["none", "None", "eddsa", "Ed25519"]:
            if b != hdr_alg(a):
                toks.append(raw_token({"alg": b, "kid": kid(a)}, claims(iss), sig=b64u(b"\x01" * 64)))
                want.append((a, b))
    assert len(toks) == len(want)
    for (a, b), t in zip(want, toks):
        r = srv.auth(t)
        assert r.status_code == 401, (a, b)
        assert 'error_description="unsupported algorithm"' in r.headers["WWW-Authenticate"], \
            (a, b, r.headers["WWW-Authenticate"])


def test_invalid_outputs_refused_for_the_right_reason(srv, mat):
    now = int(time.time())
    cases = [
        ("expired", claims(ISS_CFG, iat=now - 900, exp=now - 300), "token expired"),
        ("wrong aud", claims(ISS_CFG, aud="billing-api"), "invalid audience"),
        ("not yet valid", claims(ISS_CFG, nbf=now + 600), "token not yet valid"),
        ("future iat", claims(ISS_CFG, iat=now + 600, exp=now + 900), "issued in the future"),
        ("no jti", claims(ISS_CFG, jti=None), "missing jti"),
        ("unknown issuer", claims("https://jose.test/other"), "unknown issuer"),
        ("nonce: an ID token", claims(ISS_CFG, nonce="n"), "wrong token type"),
    ]
    for name in ("ES256", "PS256", "EdDSA", "HS512"):
        toks = mat.sign_many([(name, 1, {"kid": kid(name)}, c) for _, c, _ in cases])
        for (what, _, reason), t in zip(cases, toks):
            assert_deny(srv.auth(t), reason)
    # typ logout+jwt / secevent+jwt from jose are never access tokens
    toks = mat.sign_many([("ES256", 1, {"kid": kid("ES256"), "typ": typ}, claims(ISS_CFG))
                          for typ in ("logout+jwt", "secevent+jwt")])
    for t in toks:
        assert_deny(srv.auth(t), "wrong token type")


def post_set(srv, tok):
    return requests.post(srv.url + "/v1/events", data=tok, timeout=10,
                         headers={"Content-Type": "application/secevent+jwt"})


def set_claims(iss, sid, **over):
    now = int(time.time())
    c = {"iss": iss, "aud": SET_AUD, "iat": now, "jti": str(uuid.uuid4()),
         "events": {CAEP: {"subject": {"format": "opaque", "id": sid},
                           "event_timestamp": now}}}
    c.update(over)
    return c


@pytest.mark.parametrize("iss", SOURCES, ids=["config", "jwks"])
def test_sets_with_every_algorithm(srv, mat, iss):
    names = names_for(iss)
    sids = {n: f"sid-{n}-{uuid.uuid4().hex[:8]}" for n in names}
    access = mat.sign_many([(n, 1, {"kid": kid(n)}, claims(iss, sid=sids[n], iat=int(time.time()) - 5))
                            for n in names])
    for t in access:
        assert_allow(srv.auth(t))
    sets = mat.sign_many([(n, 1, {"kid": kid(n), "typ": "secevent+jwt"}, set_claims(iss, sids[n]))
                          for n in names])
    bad = mat.sign_many([(n, 2, {"kid": kid(n), "typ": "secevent+jwt"}, set_claims(iss, "x"))
                         for n in names])
    for n, t, b in zip(names, sets, bad):
        r = post_set(srv, b)
        assert r.status_code == 400 and r.json()["err"] == "invalid_key", (n, r.text)
        r = post_set(srv, t)
        assert r.status_code == 202, (n, r.text)
        # the same SET again: 202, not reapplied
        assert post_set(srv, t).status_code == 202
    for n, t in zip(names, access):
        assert_deny(srv.auth(t), "session revoked")


def test_set_invalid_outputs(srv, mat):
    now = int(time.time())
    cases = [
        (set_claims(ISS_CFG, "s", aud="https://elsewhere/"), "invalid_audience"),
        (set_claims(ISS_CFG, "s", exp=now - 300, iat=now - 600), "invalid_request"),
        (set_claims("https://jose.test/other", "s"), "invalid_issuer"),
        (set_claims(ISS_CFG, "s", jti=None), "invalid_request"),
    ]
    for c, _ in cases:
        c.pop("jti", None) if c.get("jti") is None else None
    toks = mat.sign_many([("ES384", 1, {"kid": kid("ES384"), "typ": "secevent+jwt"},
                           {k: v for k, v in c.items() if v is not None}) for c, _ in cases])
    for (c, err), t in zip(cases, toks):
        r = post_set(srv, t)
        assert r.status_code == 400 and r.json()["err"] == err, (c, r.text)


@pytest.mark.parametrize("typ", ["logout+jwt", "JWT", None])
def test_logout_tokens_with_every_algorithm(srv, mat, typ):
    names = ALL
    sids = {n: f"bcl-{n}-{uuid.uuid4().hex[:8]}" for n in names}
    now = int(time.time())
    access = mat.sign_many([(n, 1, {"kid": kid(n)}, claims(ISS_CFG, sid=sids[n], iat=now - 5))
                            for n in names])
    h = lambda n: {"kid": kid(n), **({"typ": typ} if typ else {})}  # noqa: E731
    lt = lambda sid, **o: {"iss": ISS_CFG, "aud": "gateway", "iat": now, "exp": now + 120,  # noqa: E731
                           "jti": str(uuid.uuid4()), "sid": sid, "events": {BCL: {}}, **o}
    logout = mat.sign_many([(n, 1, h(n), lt(sids[n])) for n in names])
    for n, a, t in zip(names, access, logout):
        assert_allow(srv.auth(a))
        r = requests.post(srv.url + "/v1/backchannel-logout", data={"logout_token": t}, timeout=10)
        assert r.status_code == 200, (n, r.text)
        assert_deny(srv.auth(a), "session revoked")
        # the logout token is never an access token
        assert srv.auth(t).status_code == 401


def test_logout_invalid_outputs(srv, mat):
    now = int(time.time())
    base = {"iss": ISS_CFG, "aud": "gateway", "iat": now, "exp": now + 120, "sid": "s-1",
            "events": {BCL: {}}}
    jti = str(uuid.uuid4())
    cases = [
        ("ES256", 2, dict(base, jti=str(uuid.uuid4()))),                        # wrong key
        ("ES256", 1, dict(base, jti=str(uuid.uuid4()), aud="orders-api")),      # wrong aud
        ("ES256", 1, dict(base, jti=str(uuid.uuid4()), iat=now - 600, exp=now - 300)),  # expired
        ("ES256", 1, dict(base, jti=str(uuid.uuid4()), nonce="n")),             # an ID token
        ("PS512", 1, dict(base, jti=jti)),                                      # first use
        ("PS512", 1, dict(base, jti=jti, sid="s-2")),                           # replay of the jti
    ]
    toks = mat.sign_many([(n, k, {"kid": kid(n), "typ": "logout+jwt"}, c) for n, k, c in cases])
    codes = [requests.post(srv.url + "/v1/backchannel-logout", data={"logout_token": t},
                           timeout=10) for t in toks]
    assert [r.status_code for r in codes] == [400, 400, 400, 400, 200, 400], \
        [(r.status_code, r.text) for r in codes]
    assert "replayed" in codes[5].json()["error_description"]
