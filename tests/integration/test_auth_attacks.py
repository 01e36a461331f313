"""REFERENCE §3 step 3: the algorithm is pinned by the key, keys come only from
configuration, and token types are kept apart. The classic JWT attacks."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import (ISS, ISS2, assert_allow, assert_deny, b64u, pem_public,
                      raw_token, sign_raw)


@pytest.fixture
def mint(fast_mint):
    # Same tokens as conftest's Minter, minted without re-reading PEM keys.
    return fast_mint

NONE_SPELLINGS = ["none", "None", "NONE", "nOnE"]


@pytest.fixture(scope="module")
def srv(module_make_server):
    return module_make_server()


@pytest.fixture(scope="module")
def attacker():
    return ec.generate_private_key(ec.SECP256R1())


def jwk_of(key):
    nums = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256",
            "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big"))}


# --- alg: none -------------------------------------------------------------

@pytest.mark.parametrize("alg", NONE_SPELLINGS)
@pytest.mark.parametrize("sig", ["", "anVuaw", b64u(b"\x00" * 256)])
@pytest.mark.parametrize("kid", ["rsa1", "hs1", None])
def test_alg_none_is_unsupported(srv, mint, alg, sig, kid):
    hdr = {"alg": alg, "typ": "JWT"}
    if kid:
        hdr["kid"] = kid
    tok = raw_token(hdr, mint.claims(), sig=sig)
    assert_deny(srv.auth(tok), "unsupported algorithm")


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
def test_alg_none_second_issuer(srv, mint, alg):
    tok = raw_token({"alg": alg}, mint.claims(iss=ISS2, aud=None), sig="")
    assert_deny(srv.auth(tok), "unsupported algorithm")


# --- HS/RS (and HS/ES) key confusion ---------------------------------------

@pytest.mark.parametrize("which", ["rsa", "ec256"])
@pytest.mark.parametrize("pem_variant", ["exact", "no_newline"])
def test_hmac_with_public_key_pem(srv, mint, keys, which, pem_variant):
    pem = pem_public(getattr(keys, which))
    if pem_variant == "no_newline":
        pem = pem.rstrip(b"\n")
    c = mint.claims()
    kid = {"rsa": "rsa1", "ec256": "ec1"}[which]
    # The attacker names the public key's kid: that key is RS256/ES256, not
    # HS256 -> the algorithm is pinned by the key.
    tok = raw_token({"alg": "HS256", "typ": "JWT", "kid": kid}, c, "HS256", pem)
    assert_deny(srv.auth(tok), "unsupported algorithm")
    # Without kid the issuer's only HS256 key (hs1) is used: the PEM is not it.
    tok = raw_token({"alg": "HS256", "typ": "JWT"}, c, "HS256", pem)
    assert_deny(srv.auth(tok), "invalid signature")
    # With the HMAC key's own kid: still not that secret.
    tok = raw_token({"alg": "HS256", "typ": "JWT", "kid": "hs1"}, c, "HS256", pem)
    assert_deny(srv.auth(tok), "invalid signature")


def test_hmac_with_pem_on_issuer_without_hmac(srv, mint, keys):
    # ISS2 allows only ES256: HS256 is not even an allowed algorithm.
    pem = pem_public(keys.ec256)
    tok = raw_token({"alg": "HS256"}, mint.claims(iss=ISS2, aud=None), "HS256", pem)
    assert_deny(srv.auth(tok), "unsupported algorithm")


def test_key_alg_mismatch_is_unsupported_algorithm(srv, mint, keys):
    # kid rsa1 (an RS256 key) with an ES256 header signed by the EC key.
    tok = mint.token("ES256", kid="rsa1")
    assert_deny(srv.auth(tok), "unsupported algorithm")
    # kid ec1 (ES256) with an ES384 header.
    tok = mint.token("ES384", kid="ec1")
    assert_deny(srv.auth(tok), "unsupported algorithm")
    # kid hs1 (HS256) with RS256.
    tok = mint.token("RS256", kid="hs1")
    assert_deny(srv.auth(tok), "unsupported algorithm")


def test_es256_signed_by_other_ec_key(srv, mint, keys):
    assert_deny(srv.auth(mint.token("ES256", key=keys.ec_other)), "invalid signature")
    assert_deny(srv.auth(mint.token("ES256", kid=None, key=keys.ec_other)),
                "invalid signature")
    tok = mint.token("ES256", kid=None, key=keys.ec_other, iss=ISS2, aud=None)
    assert_deny(srv.auth(tok), "invalid signature")


def test_es256_high_s_and_zero_signature(srv, mint, keys):
    # r = s = 0 must never verify.
    h, p, _ = mint.token("ES256").split(".")
    assert_deny(srv.auth(f"{h}.{p}.{b64u(bytes(64))}"), "invalid signature")
    # A signature of the wrong length for ES256.
    assert_deny(srv.auth(f"{h}.{p}.{b64u(bytes(63))}"), "invalid signature")


# --- crit ------------------------------------------------------------------

@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["http://example.com/x"], "exp"])
def test_crit_header_is_rejected(srv, mint, crit):
    tok = mint.token("RS256", headers={"crit": crit, "exp": 1, "b64": True,
                                        "http://example.com/x": 1})
    assert_deny(srv.auth(tok), "unsupported critical header")


def test_crit_with_bad_signature_is_crit_first(srv, mint, keys):
    # crit is a step 3 check: it wins over the signature (step 4).
    tok = mint.token("RS256", key=keys.rsa_other, headers={"crit": ["exp"], "exp": 1})
    assert_deny(srv.auth(tok), "unsupported critical header")


# --- keys never come from the token ---------------------------------------

def test_embedded_jwk_is_ignored(srv, mint, attacker):
    hdr = {"jwk": jwk_of(attacker)}
    assert_deny(srv.auth(mint.token("ES256", headers=hdr, key=attacker)), "invalid signature")
    assert_deny(srv.auth(mint.token("ES256", kid=None, headers=hdr, key=attacker)),
                "invalid signature")
    # jwk with a kid that does not exist in configuration: unknown key.
    hdr = {"jwk": dict(jwk_of(attacker), kid="attacker")}
    assert_deny(srv.auth(mint.token("ES256", kid="attacker", headers=hdr, key=attacker)),
                "unknown key")


@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_jku_x5u_pointing_elsewhere_are_ignored(srv, mint, attacker, member):
    # No fetch happens (the URL is unreachable anyway); the attacker's
    # signature is checked against the configured key and fails.
    hdr = {member: "http://127.0.0.1:1/evil.json"}
    assert_deny(srv.auth(mint.token("ES256", headers=hdr, key=attacker)), "invalid signature")
    # A properly signed token carrying the header is fine: it is ignored.
    c = mint.claims(sub="jku-user")
    r = srv.auth(mint.token("ES256", headers=hdr, **c))
    assert_allow(r, sub="jku-user")


def test_x5c_is_ignored(srv, mint, attacker):
    hdr = {"x5c": [b64u(b"not really a certificate")]}
    assert_deny(srv.auth(mint.token("ES256", headers=hdr, key=attacker)), "invalid signature")
    assert_allow(srv.auth(mint.token("ES256", headers=hdr)))


def test_valid_token_with_all_key_headers_is_allowed(srv, mint, attacker):
    hdr = {"jku": "https://evil.test/jwks", "x5u": "https://evil.test/cert",
           "jwk": jwk_of(attacker), "x5c": ["AAAA"]}
    c = mint.claims(sub="ok")
    assert_allow(srv.auth(mint.token("RS256", headers=hdr, **c)), sub="ok", jti=c["jti"])


# --- token types -----------------------------------------------------------

@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+JWT",
                                 "Application/JWT", "APPLICATION/at+jwt", None])
def test_allowed_typ(srv, mint, keys, typ):
    hdr = {"alg": "ES256", "kid": "ec1"}
    if typ is not None:
        hdr["typ"] = typ
    tok = raw_token(hdr, mint.claims(sub="typ-user"), "ES256", keys.ec256)
    assert ("typ" in jwt_header(tok)) == (typ is not None)
    assert_allow(srv.auth(tok), sub="typ-user")


def jwt_header(tok):
    import base64
    h = tok.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))


@pytest.mark.parametrize("typ", ["logout+jwt", "secevent+jwt", "application/secevent+jwt",
                                 "Logout+JWT", "application/application/jwt", "at+jwt ",
                                 "", "JWS"])
def test_rejected_typ(srv, mint, keys, typ):
    # Built by hand: PyJWT drops an empty typ.
    hdr = {"alg": "ES256", "kid": "ec1", "typ": typ}
    tok = raw_token(hdr, mint.claims(), "ES256", keys.ec256)
    assert jwt_header(tok)["typ"] == typ
    assert_deny(srv.auth(tok), "wrong token type")


def test_events_claim_is_wrong_type(srv, mint):
    ev = {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert_deny(srv.auth(mint.token("RS256", events=ev)), "wrong token type")
    assert_deny(srv.auth(mint.token("RS256", events={})), "wrong token type")


def test_nonce_claim_is_wrong_type(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", nonce="n-0S6_WzA2Mj")), "wrong token type")


def test_token_types_config(make_server, mint):
    issuers = [{
        "issuer": ISS, "audiences": ["orders-api"], "algorithms": ["RS256"],
        "keys": [{"kid": "rsa1", "alg": "RS256", "pem_file": "keys/rsa.pem"}],
        "token_types": ["at+jwt"],
    }]
    srv = make_server(issuers=issuers)
    assert_deny(srv.auth(mint.token("RS256", headers={"typ": "JWT"})), "wrong token type")
    assert_allow(srv.auth(mint.token("RS256", headers={"typ": "application/AT+jwt"})))
    assert_allow(srv.auth(mint.token("RS256", headers={"typ": None})))


# --- kid selection ---------------------------------------------------------

def test_no_kid_second_issuer_single_key(srv, mint):
    assert_allow(srv.auth(mint.token("ES256", kid=None, iss=ISS2, aud=None, sub="s2")),
                 sub="s2", iss=ISS2)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "ES384", "HS256"])
def test_no_kid_first_issuer_single_key_per_alg(srv, mint, alg):
    # Each algorithm has exactly one key on ISS: a token without kid uses it.
    assert_allow(srv.auth(mint.token(alg, kid=None, sub="nokid")), sub="nokid", iss=ISS)


def test_kid_not_a_string(srv, mint, keys):
    tok = raw_token({"alg": "RS256", "kid": 1}, mint.claims(), "RS256", keys.rsa)
    # Documented choice (auth/jws.c): a registered member of the wrong type
    # is malformed.
    assert_deny(srv.auth(tok), "malformed token")


def test_kid_is_exact(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", kid="RSA1")), "unknown key")
    assert_deny(srv.auth(mint.token("RS256", kid="rsa1 ")), "unknown key")
    assert_deny(srv.auth(mint.token("RS256", kid="")), "unknown key")


def test_signature_over_input_as_received(srv, mint, keys):
    # Re-encoding the same header JSON differently changes the signing
    # input: the original signature no longer matches.
    tok = mint.token("RS256")
    h, p, s = tok.split(".")
    hdr = jwt_header(tok)
    h2 = b64u(json.dumps(hdr, indent=1))
    assert h2 != h
    assert_deny(srv.auth(f"{h2}.{p}.{s}"), "invalid signature")
    # And signing what was received verifies.
    si = f"{h2}.{p}".encode()
    assert_allow(srv.auth(f"{h2}.{p}.{b64u(sign_raw('RS256', keys.rsa, si))}"))
