"""Security round 2 (docs/SECURITY.md): bounds that hold on every path,
authenticated or not. Each test replays an attack against the real binary.

Memory is judged by the server's peak resident set (VmHWM in
/proc/PID/status), never by time.
"""
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import time
import uuid

import requests

from conftest import (SET_AUDIENCE, WEBHOOK_KEY, b64u, base_config,
                      start_server)

MIB = 1 << 20


def vm_hwm(srv):
    """Peak resident set of the server process, in bytes."""
    with open(f"/proc/{srv.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def intake(spawn, **over):
    """A server with a SET audience, one per test: each test measures its
    own peak."""
    return spawn.new(set_audience=SET_AUDIENCE, **over)


def with_webhook(spawn, **over):
    """A server with a Standard Webhooks secret and an admin listener."""
    d = str(spawn.tmp.mktemp("revokd"))
    with open(os.path.join(d, "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WEBHOOK_KEY).decode() + "\n")
    cfg = base_config(d, spawn.keys, set_audience=SET_AUDIENCE,
                      webhook={"secret_file": "webhook.secret", "tolerance": 300},
                      **over)
    srv = start_server(d, cfg, admin=True)
    spawn.started.append(srv)
    return srv


def dense_header_set(size):
    """A compact JWS of about `size` bytes whose header is
    {"alg":"HS256","typ":"secevent+jwt","x":[{},{},...]}: the body of the
    memory amplification attack."""
    n = max(1, (size * 3 // 4 - 60) // 3)
    header = b'{"alg":"HS256","typ":"secevent+jwt","x":[' + b",".join([b"{}"] * n) + b"]}"
    return (b64u(header) + "." + b64u(b"{}") + "." + b64u(b"sig")).encode()


def post_all(url, bodies, headers_for, workers=8):
    """POSTs every body concurrently (one connection each); returns the
    responses in order."""
    def one(i):
        with requests.Session() as s:
            return s.post(url, data=bodies[i], headers=headers_for(i), timeout=120)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(one, range(len(bodies))))


def assert_set_error(r, code, desc=None):
    assert r.status_code == 400, (r.status_code, r.text[:200])
    body = r.json()
    assert body["err"] == code, body
    if desc is not None:
        assert body["description"] == desc, body


# A bound far below what the attack took before the fix (8 concurrent 4 MiB
# SETs: 17 MB -> 1.9 GB) and far above what the bodies themselves need
# (8 x 4 MiB held by the server at once, plus the process at rest).
PEAK_GROWTH_LIMIT = 160 * MIB


def test_set_over_max_token_bytes_is_not_decoded(spawn):
    srv = intake(spawn)
    before = vm_hwm(srv)
    body = dense_header_set(4 * MIB - 1024)
    for _ in range(3):
        rs = post_all(srv.url + "/v1/events", [body] * 8,
                      lambda i: {"Content-Type": "application/secevent+jwt"})
        for r in rs:
            assert_set_error(r, "invalid_request", "SET larger than max_token_bytes")
    after = vm_hwm(srv)
    assert after - before < PEAK_GROWTH_LIMIT, (before, after)
    assert srv.proc.poll() is None


def test_set_within_max_token_bytes_is_held_to_its_memory_budget(spawn):
    """The largest JOSE object a config allows (64 KiB), dense: jansson may
    not spend more than a small multiple of its bytes on it."""
    srv = intake(spawn, max_token_bytes=65536)
    before = vm_hwm(srv)
    body = dense_header_set(65536)
    assert len(body) <= 65536
    for _ in range(20):
        rs = post_all(srv.url + "/v1/events", [body] * 8,
                      lambda i: {"Content-Type": "application/secevent+jwt"})
        for r in rs:
            assert_set_error(r, "invalid_request", "not a JWT")
    after = vm_hwm(srv)
    # 8 requests in flight, each held to 24x its ~48 KiB of JSON + 16 KiB.
    assert after - before < 32 * MIB, (before, after)


def test_deep_nesting_in_a_jose_header_is_refused(spawn):
    srv = intake(spawn)
    header = b'{"alg":"HS256","typ":"secevent+jwt","x":' + b"[" * 40 + b"]" * 40 + b"}"
    tok = b64u(header) + "." + b64u(b"{}") + "." + b64u(b"sig")
    r = srv.session.post(srv.url + "/v1/events", data=tok,
                         headers={"Content-Type": "application/secevent+jwt"})
    assert_set_error(r, "invalid_request", "not a JWT")
    # Nesting at the bound is fine as far as JSON goes (then: wrong issuer).
    header = b'{"alg":"HS256","typ":"secevent+jwt","x":' + b"[" * 31 + b"]" * 31 + b"}"
    tok = b64u(header) + "." + b64u(b"{}") + "." + b64u(b"sig")
    r = srv.session.post(srv.url + "/v1/events", data=tok,
                         headers={"Content-Type": "application/secevent+jwt"})
    assert_set_error(r, "invalid_issuer")


def webhook_headers(body):
    wid = "msg_" + uuid.uuid4().hex
    ts = str(int(time.time()))
    mac = hmac.new(WEBHOOK_KEY, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {"Content-Type": "application/json", "webhook-id": wid,
            "webhook-timestamp": ts,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def test_dense_webhook_and_admin_bodies_are_held_to_their_budget(spawn):
    """Signed (or admin) bodies of 4 MiB of empty objects: refused with 400,
    nothing recorded, and the peak stays a small multiple of the bytes."""
    srv = with_webhook(spawn)
    before = vm_hwm(srv)
    n = (4 * MIB - 64) // 3
    body = b'{"type":"issuer.revoked","x":[' + b",".join([b"{}"] * n) + b"]}"
    assert len(body) <= 4 * MIB
    rs = post_all(srv.url + "/v1/events", [body] * 8, lambda i: webhook_headers(body))
    for r in rs:
        assert r.status_code == 400, (r.status_code, r.text[:200])
        assert r.json()["error"] == "invalid_request"
        assert "document too large for its size" in r.json()["error_description"]
    rs = post_all(srv.admin_url + "/admin/v1/revocations", [body] * 8,
                  lambda i: {"Authorization": f"Bearer {srv.admin_token}",
                             "Content-Type": "application/json"})
    for r in rs:
        assert r.status_code == 400, (r.status_code, r.text[:200])
    after = vm_hwm(srv)
    # Each parse is held to 24x its 4 MiB (base/json.h); 8 run at once at
    # most here. Before the budget the same requests took 8 x ~350 MB.
    assert after - before < 8 * 24 * 4 * MIB + PEAK_GROWTH_LIMIT, (before, after)
    r = srv.admin("GET", "/admin/v1/revocations")
    assert r.status_code == 200 and r.json()["items"] == []
