"""Whole-system abuse of the pre-authentication paths that test_bounds.py
does not flood (docs/SECURITY.md, "Security round 2"; REFERENCE §8):
back-channel logout, RFC 7009, RFC 7662 introspection and the Keycloak
push. For each, rounds of 8 concurrent worst-case bodies — the largest the
route takes, carrying a JOSE object whose header is dense JSON — then:

  - every answer is the path's exact refusal (nothing is taken);
  - an operator's revocation through the admin listener still succeeds;
  - the server's peak resident set (VmHWM) grew by less than a stated
    bound: the bodies themselves, never an amplification of them.

Memory, never time, is what is asserted.
"""
import base64
import os

import pytest

from conftest import ISS, base_config, start_server
from test_bounds import MEASURED_ENV, MIB, b64u, post_all, vm_hwm

INTRO_ID = "abuse-client"
INTRO_SECRET = "abuse-secret-0123456789"
ROUTE_MAX = 64 * 1024            # the form routes' and Keycloak's body limit
ROUNDS = 5
# 8 bodies of 64 KiB in flight: well under 8 MiB. A dense 64 KiB header
# decoded by jansson used to cost ~350 bytes per byte (see test_bounds.py).
PEAK_GROWTH_LIMIT = 48 * MIB


def dense_jws(size, typ):
    """A compact JWS of about `size` bytes whose header is dense JSON."""
    n = max(1, (size * 3 // 4 - 80) // 3)
    header = ('{"alg":"RS256","typ":"%s","x":[' % typ).encode() + b",".join([b"{}"] * n) + b"]}"
    return b64u(header) + "." + b64u(b'{"iss":"%s"}' % ISS.encode()) + "." + b64u(b"sig")


@pytest.fixture(scope="module")
def srv(tmp_path_factory, keys):
    d = str(tmp_path_factory.mktemp("abuse"))
    with open(os.path.join(d, "intro.secret"), "w") as f:
        f.write(INTRO_SECRET + "\n")
    cfg = base_config(d, keys, max_token_bytes=65536,
                      introspection={"clients": [{"id": INTRO_ID,
                                                  "secret_file": "intro.secret"}]})
    s = start_server(d, cfg, admin=True, env=MEASURED_ENV)
    yield s
    from conftest import finish_server
    finish_server(s)


def form(field, token):
    body = f"{field}=".encode() + token.encode()
    assert len(body) <= ROUTE_MAX
    return body


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BASIC = dict(FORM, Authorization="Basic " + base64.b64encode(
    f"{INTRO_ID}:{INTRO_SECRET}".encode()).decode())

# path, body, headers
CASES = {
    "backchannel-logout": ("/v1/backchannel-logout",
                           form("logout_token", dense_jws(ROUTE_MAX - 64, "logout+jwt")),
                           FORM),
    "rfc7009": ("/v1/revoke", form("token", dense_jws(ROUTE_MAX - 64, "JWT")), FORM),
    "introspection": ("/v1/introspect", form("token", dense_jws(ROUTE_MAX - 64, "JWT")), BASIC),
    "keycloak": ("/k_push_not_before", dense_jws(ROUTE_MAX - 64, "JWT").encode(),
                 {"Content-Type": "application/jose"}),
}
# The exact answer each path gives such a body (REFERENCE §5.3-§5.7): RFC
# 7009 answers 200 with no body for a token it cannot use (RFC 7009 §2.2),
# introspection says the token is not active.
EXPECTED = {
    "backchannel-logout": (400, {"error": "invalid_request",
                                 "error_description": "malformed logout token"}),
    "rfc7009": (200, None),
    "introspection": (200, {"active": False}),
    "keycloak": (400, {"error": "invalid_request", "error_description": "malformed token"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_worst_case_bodies_leave_memory_and_the_operator_alone(srv, name):
    path, body, headers = CASES[name]
    want_status, want_body = EXPECTED[name]
    before = vm_hwm(srv)
    for _ in range(ROUNDS):
        for r in post_all(srv.url + path, [body] * 8, lambda i: headers):
            assert r.status_code == want_status, (name, r.status_code, r.text[:200])
            if want_body is None:
                assert r.content == b"", (name, r.content[:200])
            else:
                assert r.json() == want_body, (name, r.text[:200])
    after = vm_hwm(srv)
    assert after - before < PEAK_GROWTH_LIMIT, (name, before, after)
    # The operator can still revoke, on the admin listener, at once.
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "subject.revoked", "iss": ISS, "sub": f"after-{name}"})
    assert r.status_code == 201, r.text
    # Nothing of the flood was taken.
    r = srv.admin("GET", "/admin/v1/revocations", params={"type": "token", "iss": ISS})
    assert r.status_code == 200 and r.json()["items"] == [], r.text[:300]

