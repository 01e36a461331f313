"""REFERENCE §3: the /auth outcomes, one test per reason string, exactly.

Each assertion checks the status, the WWW-Authenticate value and the JSON
body byte for byte (assert_deny / assert_no_token / assert_allow in
conftest.py). One server serves the whole module; tests that need another
configuration start their own with make_server(**overrides).
"""
import json
import time

import pytest

from conftest import (ISS, ISS2, assert_allow, assert_deny, assert_no_token,
                      b64u, raw_token)


@pytest.fixture
def mint(fast_mint):
    # Same tokens as conftest's Minter, minted without re-reading PEM keys.
    return fast_mint


@pytest.fixture(scope="module")
def srv(module_make_server):
    return module_make_server()


def rs_header(**extra):
    h = {"alg": "RS256", "typ": "JWT", "kid": "rsa1"}
    h.update(extra)
    return h


# --- allow -----------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256", "ES384", "HS256"])
def test_allow_every_configured_algorithm(srv, mint, alg):
    c = mint.claims(sub="alice")
    tok = mint.token(alg, **c)
    r = srv.auth(tok)
    assert_allow(r, sub="alice", iss=ISS, jti=c["jti"], exp=c["exp"])


def test_allow_second_issuer_without_kid(srv, mint):
    # ISS2 has a single ES256 key without kid: a token without kid uses it.
    tok = mint.token("ES256", kid=None, iss=ISS2, aud=None, sub="bob")
    assert_allow(srv.auth(tok), sub="bob", iss=ISS2)


def test_allow_headers_absent_when_claims_absent(srv, mint):
    tok = mint.token("RS256", sub=None)
    r = srv.auth(tok)
    assert_allow(r, sub=None, iss=ISS)


# --- no token --------------------------------------------------------------

@pytest.mark.parametrize("value", [None, "Basic YWxpY2U6c2VjcmV0", "Bearer",
                                   "Bearer ", "Bearer    ", "Digest abc",
                                   "Bearerxyz"])
def test_no_token(srv, value):
    h = {} if value is None else {"Authorization": value}
    assert_no_token(srv.auth(headers=h))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive(srv, mint, scheme):
    tok = mint.token("RS256", sub="carol")
    r = srv.auth(headers={"Authorization": f"{scheme} {tok}"})
    assert_allow(r, sub="carol")


def test_scheme_case_insensitive_also_denies(srv):
    r = srv.auth(headers={"Authorization": "bearer abc.def"})
    assert_deny(r, "malformed token")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_any_method(srv, mint, method):
    tok = mint.token("RS256", sub="dave")
    assert_allow(srv.auth(tok, method=method), sub="dave")
    assert_deny(srv.auth("x.y", method=method), "malformed token")
    assert_no_token(srv.auth(method=method))


def test_head_has_no_body(srv, mint):
    tok = mint.token("RS256", sub="erin")
    assert_allow(srv.auth(tok, method="HEAD"), head=True, sub="erin")
    assert_deny(srv.auth("x.y", method="HEAD"), "malformed token", head=True)
    assert_no_token(srv.auth(method="HEAD"), head=True)


@pytest.mark.parametrize("path", ["/auth/", "/auth/anything", "/auth/anything/deeper",
                                  "/auth?x=1", "/auth/orders/42?q=a"])
def test_any_path_under_auth(srv, mint, path):
    tok = mint.token("RS256", sub="frank")
    assert_allow(srv.auth(tok, path=path), sub="frank")
    assert_no_token(srv.auth(path=path))


@pytest.mark.parametrize("path", ["/authx", "/auth-x", "/authorize", "/v1/auth"])
def test_not_auth_paths_are_404(srv, mint, path):
    r = srv.auth(mint.token("RS256"), path=path)
    assert r.status_code == 404


# --- step 1: format --------------------------------------------------------

def test_token_too_large(srv, mint):
    tok = mint.token("RS256", pad="x" * 9000)
    assert len(tok) > 8192
    assert_deny(srv.auth(tok), "token too large")


def test_token_size_limit_is_inclusive(make_server, mint):
    """max_token_bytes: a token of exactly the limit passes, one byte more
    does not (limit chosen to be reachable with a valid token; HS256 because
    PyJWT re-reads an RSA PEM key on every call, which is slow)."""
    base = mint.token("HS256", pad="")
    n = len(base) + 40
    # Find a padding whose token is exactly n bytes (base64 skips some lengths).
    exact = None
    for extra in range(0, 80):
        t = mint.token("HS256", pad="y" * extra)
        if len(t) == n:
            exact = extra
            break
    assert exact is not None
    srv = make_server(max_token_bytes=n)
    c = mint.claims()
    # Claims have fixed-size values (uuid jti, 10-digit times): same length.
    ok = mint.token("HS256", pad="y" * exact, jti=c["jti"])
    assert len(ok) == n
    assert_allow(srv.auth(ok))
    big = None
    for extra in range(exact + 1, exact + 5):
        t = mint.token("HS256", pad="y" * extra)
        if len(t) > n:
            big = t
            break
    assert_deny(srv.auth(big), "token too large")


def _valid_parts(mint):
    tok = mint.token("RS256")
    return tok.split(".")


def test_malformed_two_segments(srv, mint):
    h, p, s = _valid_parts(mint)
    assert_deny(srv.auth(f"{h}.{p}"), "malformed token")


def test_malformed_four_segments(srv, mint):
    h, p, s = _valid_parts(mint)
    assert_deny(srv.auth(f"{h}.{p}.{s}.{s}"), "malformed token")


def test_malformed_one_segment(srv):
    assert_deny(srv.auth("abcdef"), "malformed token")


@pytest.mark.parametrize("where", [0, 1, 2])
@pytest.mark.parametrize("bad", ["+", "/", "!", "%", "~"])
def test_malformed_bad_character(srv, mint, where, bad):
    parts = _valid_parts(mint)
    parts[where] = parts[where][:5] + bad + parts[where][6:]
    assert_deny(srv.auth(".".join(parts)), "malformed token")


def test_malformed_padding(srv, keys):
    # Payload whose base64url needs padding; add the '=' a padded encoder
    # would write: not unpadded base64url, so malformed.
    now = int(time.time())
    claims = {"iss": ISS, "sub": "a", "aud": "orders-api", "iat": now,
              "exp": now + 600, "jti": "j1"}
    for n in range(4):
        claims["jti"] = "j" * (n + 1)
        body = json.dumps(claims, separators=(",", ":")).encode()
        if len(body) % 3:
            break
    tok = raw_token(rs_header(), body, "RS256", keys.rsa)
    h, p, s = tok.split(".")
    padded = p + "=" * (-len(p) % 4)
    assert padded != p
    assert_deny(srv.auth(f"{h}.{padded}.{s}"), "malformed token")
    # The signature segment (256 bytes) needs padding too.
    s_padded = s + "=" * (-len(s) % 4)
    assert s_padded != s
    assert_deny(srv.auth(f"{h}.{p}.{s_padded}"), "malformed token")
    assert_allow(srv.auth(tok))  # the unpadded original is fine


def test_malformed_impossible_base64_length(srv, mint):
    # A length of 4k+1 characters cannot be base64 of any byte string.
    h, p, s = _valid_parts(mint)
    while len(s) % 4 != 1:
        s += "A"
    assert_deny(srv.auth(f"{h}.{p}.{s}"), "malformed token")


def test_malformed_header_not_json(srv, mint, keys):
    c = mint.claims()
    assert_deny(srv.auth(raw_token(b"not json", c, "RS256", keys.rsa)), "malformed token")
    assert_deny(srv.auth(raw_token(b'{"alg":"RS256"', c, "RS256", keys.rsa)),
                "malformed token")


def test_malformed_header_not_object(srv, mint, keys):
    c = mint.claims()
    assert_deny(srv.auth(raw_token(b'["RS256"]', c, "RS256", keys.rsa)), "malformed token")
    assert_deny(srv.auth(raw_token(b'"RS256"', c, "RS256", keys.rsa)), "malformed token")


def test_malformed_payload_not_json(srv, keys):
    assert_deny(srv.auth(raw_token(rs_header(), b"{iss:", "RS256", keys.rsa)),
                "malformed token")


@pytest.mark.parametrize("payload", [b"[]", b'[{"iss":"https://idp.test/realms/main"}]',
                                     b"42", b"null", b'"str"'])
def test_malformed_payload_not_object(srv, keys, payload):
    assert_deny(srv.auth(raw_token(rs_header(), payload, "RS256", keys.rsa)),
                "malformed token")


def test_malformed_duplicate_member_in_header(srv, mint, keys):
    c = mint.claims()
    h = b'{"alg":"RS256","kid":"rsa1","alg":"RS256"}'
    assert_deny(srv.auth(raw_token(h, c, "RS256", keys.rsa)), "malformed token")
    h = b'{"alg":"none","kid":"rsa1","alg":"RS256"}'
    assert_deny(srv.auth(raw_token(h, c, "RS256", keys.rsa)), "malformed token")


def test_malformed_duplicate_member_in_payload(srv, mint, keys):
    c = mint.claims(sub="alice")
    body = json.dumps(c, separators=(",", ":"))[:-1] + ',"sub":"admin"}'
    assert_deny(srv.auth(raw_token(rs_header(), body.encode(), "RS256", keys.rsa)),
                "malformed token")
    body = json.dumps(c, separators=(",", ":"))[:-1] + ',"iss":"%s"}' % ISS
    assert_deny(srv.auth(raw_token(rs_header(), body.encode(), "RS256", keys.rsa)),
                "malformed token")


def test_malformed_non_utf8(srv, mint, keys):
    c = mint.claims(sub="SUBX")
    body = json.dumps(c, separators=(",", ":")).encode().replace(b"SUBX", b"\xff\xfe")
    assert_deny(srv.auth(raw_token(rs_header(), body, "RS256", keys.rsa)), "malformed token")
    # An overlong encoding of '/' is not UTF-8 either.
    body = json.dumps(c, separators=(",", ":")).encode().replace(b"SUBX", b"\xc0\xaf")
    assert_deny(srv.auth(raw_token(rs_header(), body, "RS256", keys.rsa)), "malformed token")
    hdr = b'{"alg":"RS256","kid":"rsa1","x":"\xff"}'
    assert_deny(srv.auth(raw_token(hdr, c, "RS256", keys.rsa)), "malformed token")


def test_malformed_wins_over_later_steps(srv, mint):
    # Unknown issuer and a bad signature, but only two segments: step 1 first.
    tok = mint.token("RS256", iss="https://nobody.test")
    assert_deny(srv.auth(".".join(tok.split(".")[:2])), "malformed token")


# --- step 2: issuer --------------------------------------------------------

def test_unknown_issuer(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", iss="https://evil.test")), "unknown issuer")


def test_unknown_issuer_is_exact(srv, mint):
    # A trailing slash or other case is another issuer.
    assert_deny(srv.auth(mint.token("RS256", iss=ISS + "/")), "unknown issuer")
    assert_deny(srv.auth(mint.token("RS256", iss=ISS.upper())), "unknown issuer")


def test_missing_issuer(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", iss=None)), "unknown issuer")


def test_issuer_not_a_string(srv, mint):
    # Step 2 judges iss: one that is not a string names no configured
    # issuer (REFERENCE §3, revision 2; auth/jws.h).
    for iss in (["https://idp.test/realms/main"], 1, None, {"a": 1}):
        c = mint.claims()
        c["iss"] = iss
        tok = raw_token({"alg": "none"}, c)
        assert_deny(srv.auth(tok), "unknown issuer")
    assert_deny(srv.auth(mint.token("RS256", iss=["https://idp.test/realms/main"])),
                "unknown issuer")


def test_unknown_issuer_before_algorithm(srv, mint):
    tok = raw_token({"alg": "none"}, mint.claims(iss="https://evil.test"))
    assert_deny(srv.auth(tok), "unknown issuer")


# --- step 3: key and algorithm ---------------------------------------------

def test_unsupported_algorithm(srv, mint, keys):
    # RS384 with the configured RSA key: the issuer allows only RS256.
    tok = mint.token("RS384", kid="rsa1", key=keys.rsa)
    assert_deny(srv.auth(tok), "unsupported algorithm")


def test_unsupported_algorithm_second_issuer(srv, mint):
    tok = mint.token("RS256", kid=None, iss=ISS2)
    assert_deny(srv.auth(tok), "unsupported algorithm")


def test_unsupported_algorithm_is_case_sensitive(srv, mint, keys):
    c = mint.claims()
    for alg in ["rs256", "Rs256", "RS256 ", "ES-256"]:
        tok = raw_token({"alg": alg, "kid": "rsa1"}, c, "RS256", keys.rsa)
        assert_deny(srv.auth(tok), "unsupported algorithm")


def test_algorithm_missing_or_not_a_string(srv, mint, keys):
    c = mint.claims()
    # REFERENCE §3 step 3 (revision 2): a header without a string alg is
    # "unsupported algorithm", after the issuer (step 2).
    for hdr in [{"kid": "rsa1"}, {"alg": 256, "kid": "rsa1"}, {"alg": None, "kid": "rsa1"},
                {"alg": ["RS256"], "kid": "rsa1"}]:
        tok = raw_token(hdr, c, "RS256", keys.rsa)
        assert_deny(srv.auth(tok), "unsupported algorithm")
        tok = raw_token(hdr, mint.claims(iss="https://evil.test"), "RS256", keys.rsa)
        assert_deny(srv.auth(tok), "unknown issuer")


def test_unknown_key(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", kid="nope")), "unknown key")


def test_unknown_key_kid_on_keyless_kid_issuer(srv, mint):
    # ISS2's key has no kid: it serves only tokens without one.
    tok = mint.token("ES256", kid="whatever", iss=ISS2, aud=None)
    assert_deny(srv.auth(tok), "unknown key")


def test_kid_of_other_issuer_is_unknown(srv, mint):
    # kid "ec1" belongs to ISS, not to ISS2.
    tok = mint.token("ES256", kid="ec1", iss=ISS2, aud=None)
    assert_deny(srv.auth(tok), "unknown key")


def test_unknown_key_without_kid_when_several(make_server, mint, keys, tmp_path):
    import os
    from conftest import pem_public
    with open(os.path.join(tmp_path, "other.pem"), "wb") as f:
        f.write(pem_public(keys.ec_other))
    issuers = [{
        "issuer": ISS, "algorithms": ["ES256", "RS256"],
        "keys": [{"kid": "a", "alg": "ES256", "pem_file": "keys/ec256.pem"},
                 {"kid": "b", "alg": "ES256", "pem_file": "other.pem"}],
    }]
    srv = make_server(issuers=issuers)
    assert_deny(srv.auth(mint.token("ES256", kid=None)), "unknown key")
    # With a kid each key serves its own tokens.
    assert_allow(srv.auth(mint.token("ES256", kid="a")))
    assert_allow(srv.auth(mint.token("ES256", kid="b", key=keys.ec_other)))
    # No key at all for an allowed algorithm.
    assert_deny(srv.auth(mint.token("RS256", kid=None)), "unknown key")


def test_unsupported_critical_header(srv, mint):
    tok = mint.token("RS256", headers={"crit": ["exp"], "exp": 1})
    assert_deny(srv.auth(tok), "unsupported critical header")
    tok = mint.token("RS256", headers={"crit": ["b64"], "b64": True})
    assert_deny(srv.auth(tok), "unsupported critical header")


def test_crit_empty_array_is_rejected(srv, mint, keys):
    tok = raw_token({"alg": "RS256", "kid": "rsa1", "crit": []}, mint.claims(),
                    "RS256", keys.rsa)
    assert_deny(srv.auth(tok), "unsupported critical header")


# --- step 4: signature -----------------------------------------------------

def test_invalid_signature_other_key(srv, mint, keys):
    tok = mint.token("RS256", key=keys.rsa_other)
    assert_deny(srv.auth(tok), "invalid signature")


def test_invalid_signature_tampered_payload(srv, mint):
    h, p, s = mint.token("RS256", sub="alice").split(".")
    c = mint.claims(sub="admin")
    assert_deny(srv.auth(f"{h}.{b64u(json.dumps(c))}.{s}"), "invalid signature")


def test_invalid_signature_empty_or_truncated(srv, mint):
    h, p, s = mint.token("RS256").split(".")
    assert_deny(srv.auth(f"{h}.{p}."), "invalid signature")
    import base64
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    assert_deny(srv.auth(f"{h}.{p}.{b64u(raw[:-3])}"), "invalid signature")
    assert_deny(srv.auth(f"{h}.{p}.{b64u(raw + b'x')}"), "invalid signature")
    for alg in ["ES256", "ES384", "HS256"]:
        h, p, s = mint.token(alg).split(".")
        assert_deny(srv.auth(f"{h}.{p}."), "invalid signature")
        flipped = s[:10] + ("A" if s[10] != "A" else "B") + s[11:]
        assert_deny(srv.auth(f"{h}.{p}.{flipped}"), "invalid signature")


def test_es256_der_signature_is_invalid(srv, mint, keys):
    # JWS ES256 signatures are raw r||s; a DER signature must not verify.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    h, p, _ = mint.token("ES256").split(".")
    der = keys.ec256.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    assert_deny(srv.auth(f"{h}.{p}.{b64u(der)}"), "invalid signature")


def test_signature_before_claims(srv, mint, keys):
    # Expired AND badly signed: step 4 comes first.
    now = int(time.time())
    tok = mint.token("RS256", key=keys.rsa_other, iat=now - 1000, exp=now - 500)
    assert_deny(srv.auth(tok), "invalid signature")


# --- step 5: claims --------------------------------------------------------

def test_missing_exp(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", exp=None)), "missing exp")


def test_missing_iat(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", iat=None)), "missing iat")


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_time_claim_not_a_number(srv, mint, claim):
    # Documented choice (auth/jws.c): a NumericDate of another type is
    # malformed, not missing.
    assert_deny(srv.auth(mint.token("RS256", **{claim: "soon"})), "malformed token")


def test_token_expired(srv, mint):
    now = int(time.time())
    assert_deny(srv.auth(mint.token("RS256", iat=now - 600, exp=now - 45)), "token expired")


def test_expired_within_leeway_is_allowed(srv, mint):
    now = int(time.time())
    assert_allow(srv.auth(mint.token("RS256", iat=now - 600, exp=now - 15)))


def test_token_not_yet_valid(srv, mint):
    now = int(time.time())
    assert_deny(srv.auth(mint.token("RS256", nbf=now + 45)), "token not yet valid")
    assert_allow(srv.auth(mint.token("RS256", nbf=now + 15)))
    assert_allow(srv.auth(mint.token("RS256", nbf=now - 100)))


def test_issued_in_the_future(srv, mint):
    now = int(time.time())
    assert_deny(srv.auth(mint.token("RS256", iat=now + 45, exp=now + 600)),
                "issued in the future")
    assert_allow(srv.auth(mint.token("RS256", iat=now + 15, exp=now + 600)))


def test_token_lifetime_too_long_default(srv, mint):
    now = int(time.time())
    assert_deny(srv.auth(mint.token("RS256", iat=now, exp=now + 86401)),
                "token lifetime too long")
    assert_allow(srv.auth(mint.token("RS256", iat=now, exp=now + 86400)))


def test_token_lifetime_override(make_server, mint):
    srv = make_server(max_token_lifetime=600)
    now = int(time.time())
    assert_deny(srv.auth(mint.token("RS256", iat=now, exp=now + 601)),
                "token lifetime too long")
    assert_allow(srv.auth(mint.token("RS256", iat=now, exp=now + 600)))


def test_leeway_override(make_server, mint):
    srv = make_server(leeway=0)
    now = int(time.time())
    assert_deny(srv.auth(mint.token("RS256", iat=now - 600, exp=now - 10)), "token expired")
    assert_deny(srv.auth(mint.token("RS256", iat=now + 10, exp=now + 600)),
                "issued in the future")
    assert_deny(srv.auth(mint.token("RS256", nbf=now + 10)), "token not yet valid")
    assert_allow(srv.auth(mint.token("RS256", nbf=now - 5)))


def test_leeway_large(make_server, mint):
    srv = make_server(leeway=300)
    now = int(time.time())
    assert_allow(srv.auth(mint.token("RS256", iat=now - 600, exp=now - 200)))
    assert_deny(srv.auth(mint.token("RS256", iat=now - 900, exp=now - 400)), "token expired")


def test_invalid_audience_string(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", aud="billing-api")), "invalid audience")
    assert_deny(srv.auth(mint.token("RS256", aud="orders-api ")), "invalid audience")
    assert_deny(srv.auth(mint.token("RS256", aud="ORDERS-API")), "invalid audience")


def test_invalid_audience_array(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", aud=["billing-api", "x"])), "invalid audience")
    assert_deny(srv.auth(mint.token("RS256", aud=[])), "invalid audience")
    assert_allow(srv.auth(mint.token("RS256", aud=["billing-api", "orders-api"])))


def test_missing_audience(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", aud=None)), "invalid audience")


def test_audience_not_required_without_audiences(srv, mint):
    # ISS2 configures no audiences: any or no aud passes.
    assert_allow(srv.auth(mint.token("ES256", kid=None, iss=ISS2, aud="whatever")))
    assert_allow(srv.auth(mint.token("ES256", kid=None, iss=ISS2, aud=None)))


@pytest.mark.parametrize("typ", ["logout+jwt", "secevent+jwt", "application/logout+jwt",
                                 "LOGOUT+JWT", "JOSE", "dpop+jwt"])
def test_wrong_token_type(srv, mint, typ):
    tok = mint.token("RS256", headers={"typ": typ})
    assert_deny(srv.auth(tok), "wrong token type")


def test_missing_jti(srv, mint):
    assert_deny(srv.auth(mint.token("RS256", jti=None)), "missing jti")


def test_require_jti_false(make_server, mint):
    srv = make_server(require_jti=False)
    r = srv.auth(mint.token("RS256", jti=None, sub="nojti"))
    assert_allow(r, sub="nojti", jti=None)


def test_claims_checked_in_order(srv, mint):
    now = int(time.time())
    # Expired, wrong audience, no jti: the first failing check (exp) wins.
    tok = mint.token("RS256", iat=now - 600, exp=now - 100, aud="x", jti=None)
    assert_deny(srv.auth(tok), "token expired")
    # Wrong audience and wrong type and no jti: audience comes first.
    tok = mint.token("RS256", aud="x", jti=None, headers={"typ": "logout+jwt"})
    assert_deny(srv.auth(tok), "invalid audience")
    # Wrong type and no jti: type comes first.
    tok = mint.token("RS256", jti=None, headers={"typ": "logout+jwt"})
    assert_deny(srv.auth(tok), "wrong token type")
    # Missing exp and missing iat: exp first.
    assert_deny(srv.auth(mint.token("RS256", exp=None, iat=None)), "missing exp")
