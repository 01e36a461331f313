"""REFERENCE §3: forwarded claims, the token cookie, the verified cache, and the
decision counters of /metrics (§6)."""
import json
import time

import pytest

from conftest import (ISS, assert_allow, assert_deny, assert_no_token, b64u,
                      metric_value, metrics_text)


@pytest.fixture
def mint(fast_mint):
    # Same tokens as conftest's Minter, minted without re-reading PEM keys.
    return fast_mint

FORWARD = {"sub": "X-Auth-Subject", "scope": "X-Auth-Scope", "email": "X-Auth-Email",
           "roles": "X-Auth-Roles", "level": "X-Auth-Level", "ratio": "X-Auth-Ratio",
           "obj": "X-Auth-Obj", "flag": "X-Auth-Flag", "tenant": "X-Tenant",
           "nothing": "X-Auth-Nothing"}


@pytest.fixture(scope="module")
def srv(module_make_server):
    return module_make_server(forward_claims=FORWARD)


@pytest.fixture(scope="module")
def cookie_srv(module_make_server):
    return module_make_server(token_cookie="access_token")


# --- forward_claims --------------------------------------------------------

def test_forward_string_number_array(srv, mint):
    c = mint.claims(sub="alice", scope="read write", email="a@example.com",
                    roles=["admin", "ops", "x-y"], level=42, tenant="t-1")
    r = srv.auth(mint.token("RS256", **c))
    assert_allow(r, sub="alice", iss=ISS, jti=c["jti"], exp=c["exp"])
    assert r.headers["X-Auth-Scope"] == "read write"
    assert r.headers["X-Auth-Email"] == "a@example.com"
    assert r.headers["X-Auth-Roles"] == "admin ops x-y"
    assert r.headers["X-Auth-Level"] == "42"
    assert r.headers["X-Tenant"] == "t-1"
    assert "X-Auth-Nothing" not in r.headers


def test_forward_negative_and_real_numbers(srv, mint):
    r = srv.auth(mint.token("RS256", level=-7, ratio=0.5))
    assert_allow(r)
    assert r.headers["X-Auth-Level"] == "-7"
    assert float(r.headers["X-Auth-Ratio"]) == 0.5


@pytest.mark.parametrize("value", [{"a": "b"}, True, False, [1, 2], ["a", {"b": 1}],
                                   ["a", None]])
def test_forward_not_string_or_number_is_not_written(srv, mint, value):
    r = srv.auth(mint.token("RS256", obj=value, roles=value, flag=value))
    assert_allow(r)
    for h in ("X-Auth-Obj", "X-Auth-Roles", "X-Auth-Flag"):
        assert h not in r.headers, (h, r.headers)


def test_forward_null_is_not_written(srv, mint, keys):
    from conftest import raw_token
    c = mint.claims()
    c["scope"] = None
    r = srv.auth(raw_token({"alg": "RS256", "kid": "rsa1"}, c, "RS256", keys.rsa))
    assert_allow(r)
    assert "X-Auth-Scope" not in r.headers


@pytest.mark.parametrize("bad", ["evil\r\nX-Admin: 1", "a\nb", "a\rb", "a\tb",
                                 "a\x1bb", "a\x7fb", "a\x01"])
def test_forward_control_characters_not_written(srv, mint, bad):
    c = mint.claims(sub=bad, scope=bad, roles=["ok", bad])
    r = srv.auth(mint.token("RS256", **c))
    # Still allowed (the token is valid); the unsafe values are dropped.
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Auth-Token-Id"] == c["jti"]
    for h in ("X-Auth-Subject", "X-Auth-Scope", "X-Auth-Roles", "X-Admin"):
        assert h not in r.headers, (h, r.headers)


def test_nul_in_claim_is_malformed(srv, mint):
    # Documented choice (auth/jws.c): a NUL anywhere in header or payload
    # (here "\u0000" in sub) is a malformed token, never a forwarded value.
    assert_deny(srv.auth(mint.token("RS256", sub="a\x00b")), "malformed token")


def test_forward_control_char_in_jti_and_iss_not_written(srv, mint):
    c = mint.claims(jti="id\r\nX-Admin: 1", sub="ok-sub")
    r = srv.auth(mint.token("RS256", **c))
    assert r.status_code == 200
    assert "X-Auth-Token-Id" not in r.headers
    assert "X-Admin" not in r.headers
    assert r.headers["X-Auth-Subject"] == "ok-sub"


def test_forward_default_config(module_make_server, mint):
    # Defaults of base_config: sub, scope, email, roles.
    s = module_make_server()
    r = s.auth(mint.token("RS256", scope="a b", roles=["r1", "r2"], email="e@x"))
    assert_allow(r)
    assert r.headers["X-Auth-Scope"] == "a b"
    assert r.headers["X-Auth-Roles"] == "r1 r2"
    assert r.headers["X-Auth-Email"] == "e@x"
    assert "X-Auth-Level" not in r.headers


def test_forward_to_a_fixed_header_is_not_written_twice(module_make_server, mint):
    """REFERENCE §3: a forwarded header named like one of the response's own
    headers (compared without regard to case) is left out, on the miss that
    builds the response and on the hit that reuses it."""
    s = module_make_server(forward_claims={"email": "x-auth-issuer", "scope": "CACHE-CONTROL",
                                           "sub": "X-Auth-Subject", "tenant": "X-Tenant"})
    c = mint.claims(sub="zoe", email="z@x", scope="s1", tenant="t9")
    tok = mint.token("RS256", **c)
    for _ in range(2):
        r = s.auth(tok)
        assert_allow(r, sub="zoe", iss=ISS, jti=c["jti"], exp=c["exp"])
        for h in ("X-Auth-Issuer", "Cache-Control", "X-Auth-Subject", "X-Tenant",
                  "X-Auth-Expires"):
            assert len(r.raw.headers.getlist(h)) == 1, (h, r.raw.headers)
        assert r.headers["X-Tenant"] == "t9"


# --- token_cookie ----------------------------------------------------------

def test_cookie_token(cookie_srv, mint):
    c = mint.claims(sub="cookie-user")
    tok = mint.token("RS256", **c)
    r = cookie_srv.auth(headers={"Cookie": f"access_token={tok}"})
    assert_allow(r, sub="cookie-user", jti=c["jti"])
    r = cookie_srv.auth(headers={"Cookie": f"theme=dark; access_token={tok}; lang=en"})
    assert_allow(r, sub="cookie-user")


def test_cookie_used_when_no_bearer(cookie_srv, mint):
    tok = mint.token("RS256", sub="cookie-basic")
    r = cookie_srv.auth(headers={"Cookie": f"access_token={tok}",
                                 "Authorization": "Basic YTpi"})
    assert_allow(r, sub="cookie-basic")


def test_bearer_wins_over_cookie(cookie_srv, mint):
    good = mint.token("RS256", sub="bearer-user")
    r = cookie_srv.auth(good, headers={"Cookie": "access_token=garbage"})
    assert_allow(r, sub="bearer-user")
    # The bearer token is the one decided, even when the cookie is valid.
    r = cookie_srv.auth("x.y", headers={"Cookie": f"access_token={good}"})
    assert_deny(r, "malformed token")


def test_cookie_invalid_token(cookie_srv, mint):
    r = cookie_srv.auth(headers={"Cookie": "access_token=a.b"})
    assert_deny(r, "malformed token")


def test_cookie_other_name_is_no_token(cookie_srv, mint):
    tok = mint.token("RS256")
    assert_no_token(cookie_srv.auth(headers={"Cookie": f"token={tok}"}))
    assert_no_token(cookie_srv.auth(headers={"Cookie": "access_token="}))
    assert_no_token(cookie_srv.auth())


def test_cookie_ignored_without_token_cookie(srv, mint):
    tok = mint.token("RS256")
    assert_no_token(srv.auth(headers={"Cookie": f"access_token={tok}"}))


# --- the verified cache ----------------------------------------------------

def test_same_token_twice_hits_cache(srv, mint):
    c = mint.claims(sub="cached")
    tok = mint.token("RS256", **c)
    before = metrics_text(srv)
    hits0 = metric_value(before, "revokd_verified_cache_hits_total")
    miss0 = metric_value(before, "revokd_verified_cache_misses_total")
    assert_allow(srv.auth(tok), sub="cached", jti=c["jti"], exp=c["exp"])
    mid = metrics_text(srv)
    assert metric_value(mid, "revokd_verified_cache_misses_total") >= miss0 + 1
    hits1 = metric_value(mid, "revokd_verified_cache_hits_total")
    r = srv.auth(tok)
    assert_allow(r, sub="cached", jti=c["jti"], exp=c["exp"], iss=ISS)
    hits2 = metric_value(metrics_text(srv), "revokd_verified_cache_hits_total")
    assert hits1 >= hits0
    assert hits2 >= hits1 + 1


def test_cache_hit_keeps_forwarded_claims(srv, mint):
    tok = mint.token("RS256", sub="fc", scope="s1 s2", roles=["a", "b"])
    for _ in range(3):
        r = srv.auth(tok)
        assert_allow(r, sub="fc")
        assert r.headers["X-Auth-Scope"] == "s1 s2"
        assert r.headers["X-Auth-Roles"] == "a b"


def test_cache_not_bound_to_jti_or_signature(srv, mint):
    c = mint.claims(sub="alice", scope="read")
    tok = mint.token("RS256", **c)
    assert_allow(srv.auth(tok), sub="alice")
    assert_allow(srv.auth(tok), sub="alice")  # now certainly cached
    h, p, s = tok.split(".")
    # Same jti, same header, same signature segment; other payload.
    forged = dict(c, sub="admin", scope="admin")
    p2 = b64u(json.dumps(forged, separators=(",", ":")))
    assert p2 != p
    assert_deny(srv.auth(f"{h}.{p2}.{s}"), "invalid signature")
    # Same payload and signature, header changed (no kid: same key chosen).
    h2 = b64u(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")))
    assert_deny(srv.auth(f"{h2}.{p}.{s}"), "invalid signature")
    # The cached original is still fine.
    assert_allow(srv.auth(tok), sub="alice")


def test_cache_hit_still_checks_revocations(srv, mint):
    c = mint.claims(sub="to-revoke")
    tok = mint.token("RS256", **c)
    assert_allow(srv.auth(tok))
    assert_allow(srv.auth(tok))
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "token.revoked", "iss": ISS, "jti": c["jti"]})
    assert r.status_code == 201, r.text
    assert_deny(srv.auth(tok), "token revoked")


def test_cache_hit_still_checks_subject_revocation(srv, mint):
    now = int(time.time())
    c = mint.claims(sub="sub-revoke", iat=now - 10)
    tok = mint.token("RS256", **c)
    assert_allow(srv.auth(tok))
    assert_allow(srv.auth(tok))
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "subject.revoked", "iss": ISS, "sub": "sub-revoke"})
    assert r.status_code == 201, r.text
    assert_deny(srv.auth(tok), "subject revoked")


# --- /metrics decision counters --------------------------------------------

def test_decision_counters(srv, mint):
    def snap():
        t = metrics_text(srv)
        return {k: metric_value(t, "revokd_decisions_total", {"result": k})
                for k in ("allow", "no_token", "token_expired", "malformed_token",
                          "unknown_issuer", "invalid_signature")}
    before = snap()
    now = int(time.time())
    assert_allow(srv.auth(mint.token("RS256")))
    assert_no_token(srv.auth())
    assert_no_token(srv.auth(headers={"Authorization": "Basic YTpi"}))
    assert_deny(srv.auth(mint.token("RS256", iat=now - 900, exp=now - 600)), "token expired")
    assert_deny(srv.auth("a.b"), "malformed token")
    assert_deny(srv.auth(mint.token("RS256", iss="https://nobody.test")), "unknown issuer")
    after = snap()
    assert after["allow"] >= before["allow"] + 1
    assert after["no_token"] >= before["no_token"] + 2
    assert after["token_expired"] >= before["token_expired"] + 1
    assert after["malformed_token"] >= before["malformed_token"] + 1
    assert after["unknown_issuer"] >= before["unknown_issuer"] + 1
    # Nothing on this server makes invalid signatures concurrently.
    assert after["invalid_signature"] == before["invalid_signature"]


def test_metrics_content_type(srv):
    r = srv.session.get(srv.url + "/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "version=0.0.4" in r.headers["Content-Type"]
    assert "# TYPE revokd_decisions_total counter" in r.text
