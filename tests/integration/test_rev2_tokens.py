"""REFERENCE §2, §3 step 5, §6: PS256/384/512 and EdDSA (Ed25519, Ed448)
keys from PEM files and JWKS (RSA and OKP JWKs); per-issuer allow_nonce,
require_jti and jti_claim. tests/interop proves the same against real
libraries (jose, oidc-provider); this is the plain-Python side."""
import os
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, padding
from cryptography.hazmat.primitives import hashes

from conftest import (ISS, assert_allow, assert_deny, b64u, jwk_of,
                      pem_private, pem_public, raw_token, start_server, free_port,
                      finish_server, base_config)

ISS_OKP = "https://okp.test"
ISS_ENTRA = "https://login.microsoftonline.test/tenant/v2.0"


@pytest.fixture(scope="module")
def okp():
    return {"ed25519": ed25519.Ed25519PrivateKey.generate(),
            "ed448": ed448.Ed448PrivateKey.generate(),
            "ed25519_other": ed25519.Ed25519PrivateKey.generate()}


def raw_pub(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def okp_jwk(key, kid, alg="EdDSA"):
    crv = "Ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "Ed448"
    j = {"kty": "OKP", "crv": crv, "x": b64u(raw_pub(key)), "kid": kid}
    if alg:
        j["alg"] = alg
    return j


def eddsa_token(key, kid, claims, header_extra=None):
    h = {"alg": "EdDSA", "kid": kid}
    h.update(header_extra or {})
    signing = None

    def enc(o):
        import json
        return b64u(json.dumps(o, separators=(",", ":")).encode())
    signing = enc(h) + "." + enc(claims)
    return signing + "." + b64u(key.sign(signing.encode()))


def claims(iss=ISS, **over):
    now = int(time.time())
    c = {"iss": iss, "sub": "alice", "aud": "orders-api", "iat": now,
         "exp": now + 600, "jti": str(uuid.uuid4())}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def srv(tmp_path_factory, keys, okp):
    d = str(tmp_path_factory.mktemp("rev2"))
    cfg = base_config(d, keys)
    write(os.path.join(d, "keys", "ed25519.pem"), pem_public(okp["ed25519"]))
    write(os.path.join(d, "keys", "ed448.pem"), pem_public(okp["ed448"]))
    main = cfg["issuers"][0]
    main["algorithms"] += ["PS256", "PS384", "PS512", "EdDSA"]
    main["keys"] += [
        {"kid": "ps256", "alg": "PS256", "pem_file": "keys/rsa.pem"},
        {"kid": "ps384", "alg": "PS384", "pem_file": "keys/rsa.pem"},
        {"kid": "ps512", "alg": "PS512", "pem_file": "keys/rsa.pem"},
        {"kid": "ed1", "alg": "EdDSA", "pem_file": "keys/ed25519.pem"},
        {"kid": "ed448", "alg": "EdDSA", "pem_file": "keys/ed448.pem"},
    ]
    main["allow_nonce"] = True
    cfg["issuers"].append({
        "issuer": ISS_ENTRA, "algorithms": ["RS256"], "audiences": ["api://orders"],
        "jti_claim": "uti", "require_jti": True,
        "keys": [{"kid": "entra", "alg": "RS256", "pem_file": "keys/rsa.pem"}]})
    cfg["issuers"].append({
        "issuer": ISS_OKP, "algorithms": ["EdDSA", "PS256"], "require_jti": False,
        "keys": [{"kid": "o1", "alg": "EdDSA", "pem_file": "keys/ed25519.pem"}]})
    s = start_server(d, cfg)
    yield s
    finish_server(s)


@pytest.mark.parametrize("alg", ["PS256", "PS384", "PS512"])
def test_pss_from_pem(srv, keys, alg):
    kid = alg.lower()
    tok = jwt.encode(claims(), pem_private(keys.rsa), algorithm=alg, headers={"kid": kid})
    assert_allow(srv.auth(tok))
    # the RSA key pinned to PS256 never verifies RS256 (PKCS#1 v1.5) ...
    tok = jwt.encode(claims(), pem_private(keys.rsa), algorithm="RS256", headers={"kid": kid})
    assert_deny(srv.auth(tok), "unsupported algorithm")
    # ... nor another key's PSS signature
    tok = jwt.encode(claims(), pem_private(keys.rsa_other), algorithm=alg, headers={"kid": kid})
    assert_deny(srv.auth(tok), "invalid signature")


def test_pss_salt_length_must_be_the_hash_length(srv, keys):
    import json
    h = b64u(json.dumps({"alg": "PS256", "kid": "ps256"}).encode())
    p = b64u(json.dumps(claims()).encode())
    sig = keys.rsa.sign(f"{h}.{p}".encode(),
                        padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                    salt_length=padding.PSS.MAX_LENGTH),
                        hashes.SHA256())
    assert_deny(srv.auth(f"{h}.{p}.{b64u(sig)}"), "invalid signature")


@pytest.mark.parametrize("which,kid", [("ed25519", "ed1"), ("ed448", "ed448")])
def test_eddsa_from_pem(srv, okp, which, kid):
    assert_allow(srv.auth(eddsa_token(okp[which], kid, claims())))
    assert_deny(srv.auth(eddsa_token(okp["ed25519_other"], kid, claims())),
                "invalid signature")
    # the Ed key never serves ES256 or HS256
    tok = raw_token({"alg": "ES256", "kid": kid}, claims(), sig=b64u(b"\x01" * 64))
    assert_deny(srv.auth(tok), "unsupported algorithm")


def test_eddsa_not_allowed_for_issuer(srv, okp, keys):
    # ISS2 allows ES256 only
    tok = eddsa_token(okp["ed25519"], "ed1", claims(iss="https://other.test", aud=None))
    assert_deny(srv.auth(tok), "unsupported algorithm")


def test_allow_nonce_with_audiences(srv, okp):
    assert_allow(srv.auth(eddsa_token(okp["ed25519"], "ed1", claims(nonce="n-1"))))
    # its ID token (aud: the client) stays out
    assert_deny(srv.auth(eddsa_token(okp["ed25519"], "ed1", claims(nonce="n-1", aud="web-client"))),
                "invalid audience")


def test_nonce_refused_without_allow_nonce(srv, okp):
    tok = eddsa_token(okp["ed25519"], "o1", claims(iss=ISS_OKP, aud=None, nonce="n"))
    assert_deny(srv.auth(tok), "wrong token type")


def test_require_jti_per_issuer(srv, okp, keys):
    # ISS_OKP: require_jti false although the top level says true
    r = srv.auth(eddsa_token(okp["ed25519"], "o1", claims(iss=ISS_OKP, aud=None, jti=None)))
    assert r.status_code == 200 and "X-Auth-Token-Id" not in r.headers
    # the main issuer keeps the top-level default
    assert_deny(srv.auth(eddsa_token(okp["ed25519"], "ed1", claims(jti=None))), "missing jti")


def test_jti_claim_uti(srv, keys):
    uti = "AbC_dEf-123"
    tok = jwt.encode(claims(iss=ISS_ENTRA, aud="api://orders", jti=None, uti=uti),
                     pem_private(keys.rsa), algorithm="RS256", headers={"kid": "entra"})
    r = srv.auth(tok)
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-Token-Id"] == uti
    # a jti without uti is missing the issuer's token ID
    tok2 = jwt.encode(claims(iss=ISS_ENTRA, aud="api://orders"),
                      pem_private(keys.rsa), algorithm="RS256", headers={"kid": "entra"})
    assert_deny(srv.auth(tok2), "missing jti")
    # a non-string uti is malformed
    tok3 = jwt.encode(claims(iss=ISS_ENTRA, aud="api://orders", jti=None, uti=5),
                      pem_private(keys.rsa), algorithm="RS256", headers={"kid": "entra"})
    assert_deny(srv.auth(tok3), "malformed token")
    # revoking the uti (as the token ID) denies it
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "token.revoked", "iss": ISS_ENTRA, "jti": uti,
                        "exp": int(time.time()) + 600})
    assert r.status_code == 201, r.text
    assert_deny(srv.auth(tok), "token revoked")


def test_jwks_okp_and_pss(tmp_path, keys, okp, jwks_server):
    jwks_server.keys = [okp_jwk(okp["ed25519"], "j-ed"), okp_jwk(okp["ed448"], "j-ed448", alg=None),
                        jwk_of(keys.rsa, "j-rsa"),
                        {"kty": "OKP", "crv": "X25519", "x": b64u(b"\x09" * 32), "kid": "x"}]
    cfg = base_config(str(tmp_path), keys)
    cfg["issuers"] = [{"issuer": ISS_OKP, "algorithms": ["EdDSA", "PS384", "RS256"],
                       "jwks_uri": jwks_server.base + "/jwks"}]
    s = start_server(str(tmp_path), cfg)
    try:
        c = lambda **o: claims(iss=ISS_OKP, aud=None, **o)  # noqa: E731
        assert_allow(s.auth(eddsa_token(okp["ed25519"], "j-ed", c())))
        assert_allow(s.auth(eddsa_token(okp["ed448"], "j-ed448", c())))
        assert_allow(s.auth(jwt.encode(c(), pem_private(keys.rsa), algorithm="PS384",
                                       headers={"kid": "j-rsa"})))
        assert_allow(s.auth(jwt.encode(c(), pem_private(keys.rsa), algorithm="RS256",
                                       headers={"kid": "j-rsa"})))
        assert_deny(s.auth(jwt.encode(c(), pem_private(keys.rsa), algorithm="PS256",
                                      headers={"kid": "j-rsa"})), "unsupported algorithm")
        assert_deny(s.auth(eddsa_token(okp["ed25519"], "x", c())), "unknown key")
        assert "X25519" in s.stderr_text() or "Ed25519 or Ed448" in s.stderr_text()
    finally:
        finish_server(s)


@pytest.mark.parametrize("issuer_over,msg", [
    ({"allow_nonce": True}, "allow_nonce"),
    ({"allow_nonce": "yes"}, "allow_nonce"),
    ({"jti_claim": ""}, "jti_claim"),
    ({"require_jti": 1}, "require_jti"),
    ({"algorithms": ["EDDSA"]}, "unknown algorithm"),
])
def test_config_errors(tmp_path, keys, issuer_over, msg):
    import subprocess
    import json
    from conftest import REVOKD
    cfg = base_config(str(tmp_path), keys)
    cfg["issuers"][1].update(issuer_over)   # ISS2 has no audiences
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run([REVOKD, "serve", "--config", path, "--listen",
                        f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2, (r.returncode, r.stderr)
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("revokd: config ")][0]
    assert "issuers[1]." in line and msg in line, line
