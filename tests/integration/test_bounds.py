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


# Under ASan freed memory waits in a quarantine (256 MB by default) and
# counts in the RSS: a server whose peak is measured gets a small one (the
# variable is ignored by a build without ASan).
MEASURED_ENV = {"ASAN_OPTIONS": ":".join(
    o for o in (os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=1",
                "thread_local_quarantine_size_kb=64") if o)}


def intake(spawn, **over):
    """A server with a SET audience, one per test: each test measures its
    own peak."""
    return spawn.new(set_audience=SET_AUDIENCE, env=MEASURED_ENV, **over)


def with_webhook(spawn, **over):
    """A server with a Standard Webhooks secret and an admin listener."""
    d = str(spawn.tmp.mktemp("revokd"))
    with open(os.path.join(d, "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WEBHOOK_KEY).decode() + "\n")
    cfg = base_config(d, spawn.keys, set_audience=SET_AUDIENCE,
                      webhook={"secret_file": "webhook.secret", "tolerance": 300},
                      **over)
    srv = start_server(d, cfg, admin=True, env=MEASURED_ENV)
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
    # 8 requests in flight, each refused before jansson runs.
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
        assert r.json()["error_description"] == "invalid JSON: document too large for its size"
    rs = post_all(srv.admin_url + "/admin/v1/revocations", [body] * 8,
                  lambda i: {"Authorization": f"Bearer {srv.admin_token}",
                             "Content-Type": "application/json"})
    for r in rs:
        assert r.status_code == 400, (r.status_code, r.text[:200])
    after = vm_hwm(srv)
    # Refused by the scan before jansson runs (base/json.h): the peak is the
    # bodies themselves. Before, the same requests took 8 x ~350 MB.
    assert after - before < PEAK_GROWTH_LIMIT, (before, after)
    r = srv.admin("GET", "/admin/v1/revocations")
    assert r.status_code == 200 and r.json()["items"] == []


# ---------------------------------------------------------------------------
# Every ID that becomes a revocation is 1 to 255 bytes, on every path
# (base/id.h). Before: a SET whose subject id was 70,000 bytes was committed,
# then aborted the process in the revocation table, and every restart
# aborted again while loading that row.

CAEP = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
BCL = "http://schemas.openid.net/event/backchannel-logout"


def signed_set(keys, subject_id):
    import jwt
    from conftest import ISS, pem_private
    claims = {"iss": ISS, "aud": SET_AUDIENCE, "iat": int(time.time()),
              "jti": str(uuid.uuid4()),
              "events": {CAEP: {"subject": {"format": "opaque", "id": subject_id}}}}
    return jwt.encode(claims, pem_private(keys.rsa), algorithm="RS256",
                      headers={"kid": "rsa1", "typ": "secevent+jwt"})


def signed_logout(keys, sid):
    import jwt
    from conftest import ISS, pem_private
    now = int(time.time())
    claims = {"iss": ISS, "aud": "gateway", "iat": now, "exp": now + 120,
              "jti": str(uuid.uuid4()), "sid": sid, "events": {BCL: {}}}
    return jwt.encode(claims, pem_private(keys.rsa), algorithm="RS256",
                      headers={"kid": "rsa1", "typ": "logout+jwt"})


def listed(srv):
    r = srv.admin("GET", "/admin/v1/revocations", params={"limit": 1000})
    assert r.status_code == 200
    return r.json()["items"]


def test_ids_over_255_bytes_are_refused_on_every_path(spawn, keys, mint):
    from conftest import assert_deny
    srv = with_webhook(spawn, max_token_bytes=65536)
    ok, long_ = "s" * 255, "s" * 256
    sets = srv.url + "/v1/events"
    ct = {"Content-Type": "application/secevent+jwt"}

    # SET (the crash of the finding, at the largest size a config allows).
    r = srv.session.post(sets, data=signed_set(keys, "x" * 40000), headers=ct)
    assert_set_error(r, "invalid_request",
                     "bad subject: identifier longer than 255 bytes")
    r = srv.session.post(sets, data=signed_set(keys, long_), headers=ct)
    assert_set_error(r, "invalid_request",
                     "bad subject: identifier longer than 255 bytes")
    assert srv.session.post(sets, data=signed_set(keys, ok), headers=ct).status_code == 202

    # Webhook and admin: the same event parser.
    for field, typ in (("sid", "session.revoked"), ("sub", "subject.revoked"),
                       ("jti", "token.revoked"), ("kid", "key.revoked")):
        body = json.dumps({"type": typ, "iss": srv.config["issuers"][0]["issuer"],
                           field: long_}).encode()
        r = srv.session.post(srv.url + "/v1/events", data=body,
                             headers=webhook_headers(body))
        assert r.status_code == 400, r.text
        assert r.json()["error_description"] == f"events[0].{field}: longer than 255 bytes"
        r = srv.admin("POST", "/admin/v1/revocations", data=body,
                      headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["error_description"] == f"events[0].{field}: longer than 255 bytes"

    # Back-channel logout.
    r = srv.session.post(srv.url + "/v1/backchannel-logout",
                         data={"logout_token": signed_logout(keys, long_)})
    assert r.status_code == 400, r.text
    assert r.json()["error_description"] == "sid longer than 255 bytes"

    # RFC 7009 and /auth: a jti of "" or over 255 bytes is a malformed token
    # (REFERENCE §3 step 5), so revoking it changes nothing.
    for jti in ("", long_):
        tok = mint.token(jti=jti)
        assert_deny(srv.auth(tok), "malformed token")
        r = srv.session.post(srv.url + "/v1/revoke", data={"token": tok})
        assert r.status_code == 200 and r.content == b""
    tok = mint.token(jti="j" * 255)
    assert srv.auth(tok).status_code == 200

    # Only the two 255-byte revocations were stored, and a restart loads.
    items = listed(srv)
    assert sorted((i["type"], len(i["id"])) for i in items) == [("session", 255)]
    assert srv.proc.poll() is None
    new = spawn.restart(srv)
    assert [(i["type"], i["id"]) for i in listed(new)] == [("session", ok)]


def test_a_stored_row_with_an_oversized_id_is_skipped_on_load(spawn, mint):
    """A database written by an older version holds a 70,000-byte ID: the
    server starts, says so, and loads every other row."""
    import sqlite3
    from conftest import ISS, assert_deny, key_hash, register_db_functions
    srv = spawn.new(admin=True)
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "subject.revoked", "iss": ISS, "sub": "mallory"})
    assert r.status_code == 201, r.text
    from conftest import assert_clean_exit
    assert_clean_exit(srv)
    db = sqlite3.connect(os.path.join(srv.workdir, "data", "revokd.db"))
    register_db_functions(db)   # the digest's triggers call them
    now = int(time.time())
    with db:
        db.execute("INSERT INTO revocations (type, iss, id, revoked_at, expires_at,"
                   " reason, source, kh) VALUES (1, ?, ?, ?, ?, NULL, 'set', ?)",
                   (ISS, "x" * 70000, now, now + 3600, key_hash(1, ISS, "x" * 70000)))
        db.execute("INSERT INTO revocations (type, iss, id, revoked_at, expires_at,"
                   " reason, source, kh) VALUES (2, ?, '', ?, ?, NULL, 'admin', ?)",
                   (ISS, now, now + 3600, key_hash(2, ISS, "")))
    db.close()
    new = spawn.restart(srv)
    assert new.proc.poll() is None
    log = new.stderr_text()
    assert "not loaded (IDs are 1 to 255 bytes)" in log, log[-2000:]
    assert '"rows":"2"' in log, log[-2000:]
    assert_deny(new.auth(mint.token(sub="mallory", iat=now - 10)), "subject revoked")


# ---------------------------------------------------------------------------
# Keycloak pushes are single use (REFERENCE-level contract in docs/SECURITY.md):
# before, a captured push replayed after a clear put the not-before back.

def test_a_keycloak_push_is_single_use(spawn, keys, mint):
    from test_keycloak import issuer_rev, push, push_token
    from conftest import assert_deny
    srv = spawn.new(admin=True)
    now = int(time.time())
    old = mint.token(iat=now - 10)
    for over in ({}, {"id": None}):        # known by its id, else by its bytes
        first = push_token(keys, notBefore=now - 5, **over)
        assert push(srv, first).status_code == 204
        assert_deny(srv.auth(old), "issuer revoked")
        assert push(srv, push_token(keys, notBefore=0)).status_code == 204
        assert issuer_rev(srv).status_code == 404
        # The captured first push, again: acknowledged, not reapplied.
        r = push(srv, first)
        assert r.status_code == 204, r.text
        assert issuer_rev(srv).status_code == 404
        assert srv.auth(old).status_code == 200
    assert "keycloak push delivered again; not reapplied" in srv.stderr_text()


# ---------------------------------------------------------------------------
# REFERENCE §8: a repeated revocation that changes nothing is acknowledged
# without a new write (or stream entry). Before: every /v1/revoke of a held
# token was a commit, so its holder could make the store write at will.

def rows_written(srv):
    r = srv.admin("GET", "/admin/v1/stats")
    assert r.status_code == 200
    return r.json()["store"]["rows_written"]


def test_a_repeat_that_changes_nothing_writes_nothing(spawn, mint):
    from conftest import ISS, assert_deny
    srv = with_webhook(spawn)
    tok = mint.token(jti="bounds-repeat-1")
    r = srv.session.post(srv.url + "/v1/revoke", data={"token": tok})
    assert r.status_code == 200
    first = srv.admin("GET", "/admin/v1/revocations/token/bounds-repeat-1",
                      params={"iss": ISS}).json()
    assert first["source"] == "rfc7009"
    written = rows_written(srv)
    for _ in range(5):
        r = srv.session.post(srv.url + "/v1/revoke", data={"token": tok})
        assert r.status_code == 200 and r.content == b""
    assert rows_written(srv) == written
    again = srv.admin("GET", "/admin/v1/revocations/token/bounds-repeat-1",
                      params={"iss": ISS}).json()
    assert again == first
    assert_deny(srv.auth(tok), "token revoked")

    # The same webhook event with the same `at`: acknowledged, not written.
    at = int(time.time()) - 30
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "bounds-u", "at": at}
    for i in range(3):
        body = json.dumps(ev).encode()
        r = srv.session.post(srv.url + "/v1/events", data=body,
                             headers=webhook_headers(body))
        assert r.status_code == 202, r.text
        if i == 0:
            written = rows_written(srv)
    assert rows_written(srv) == written
    # A later `at` is a change: one write.
    ev["at"] = at + 10
    body = json.dumps(ev).encode()
    r = srv.session.post(srv.url + "/v1/events", data=body, headers=webhook_headers(body))
    assert r.status_code == 202
    assert rows_written(srv) == written + 1


# ---------------------------------------------------------------------------
# Contract points of REFERENCE revision 2 (the /auth ones are in
# test_auth_outcomes.py, `revokd check` in test_check_cmd.py).

def test_set_iss_not_a_string_is_invalid_issuer(spawn, keys):
    import jwt
    from conftest import ISS, pem_private
    srv = intake(spawn)
    ct = {"Content-Type": "application/secevent+jwt"}
    for iss in (1, ["x"], None, {"a": "b"}):
        claims = {"iss": iss, "aud": SET_AUDIENCE, "iat": int(time.time()),
                  "jti": str(uuid.uuid4()),
                  "events": {CAEP: {"subject": {"format": "opaque", "id": "s"}}}}
        tok = jwt.encode(claims, pem_private(keys.rsa), algorithm="RS256",
                         headers={"kid": "rsa1", "typ": "secevent+jwt"})
        r = srv.session.post(srv.url + "/v1/events", data=tok, headers=ct)
        assert_set_error(r, "invalid_issuer", "missing iss, or not a string")
    # A header without alg, from a configured issuer: the key step refuses.
    claims = {"iss": ISS, "aud": SET_AUDIENCE, "iat": int(time.time()),
              "jti": str(uuid.uuid4()),
              "events": {CAEP: {"subject": {"format": "opaque", "id": "s"}}}}
    from conftest import raw_token as rt
    tok = rt({"kid": "rsa1", "typ": "secevent+jwt"}, claims, "RS256", keys.rsa)
    r = srv.session.post(srv.url + "/v1/events", data=tok, headers=ct)
    assert_set_error(r, "invalid_key", "unsupported algorithm")


def test_key_revoked_ignores_any_at(spawn):
    from conftest import ISS
    srv = with_webhook(spawn)
    for at in ("yesterday", None, [1], {"t": 1}, 1.5, int(time.time()) + 10**6):
        kid = "k-" + uuid.uuid4().hex
        body = json.dumps({"type": "key.revoked", "iss": ISS, "kid": kid,
                           "at": at}).encode()
        r = srv.session.post(srv.url + "/v1/events", data=body,
                             headers=webhook_headers(body))
        assert r.status_code == 202, (at, r.text)
        got = srv.admin("GET", f"/admin/v1/revocations/key/{kid}", params={"iss": ISS})
        assert got.status_code == 200 and got.json()["expires_at"] is None
    # Other types still hold `at` to its type.
    body = json.dumps({"type": "subject.revoked", "iss": ISS, "sub": "u",
                       "at": "yesterday"}).encode()
    r = srv.session.post(srv.url + "/v1/events", data=body, headers=webhook_headers(body))
    assert r.status_code == 400
    assert r.json()["error_description"] == "events[0].at: not an integer (Unix seconds)"


# ---------------------------------------------------------------------------
# Fault injection is a test feature: `revokd version` says whether this
# build has it, and a build without it refuses REVOKD_FAULTS rather than
# ignoring it.

def test_version_tells_whether_fault_points_are_compiled_in():
    import subprocess
    from conftest import REVOKD, faults_compiled
    out = subprocess.run([REVOKD, "version"], capture_output=True, text=True)
    assert out.returncode == 0
    first = out.stdout.splitlines()[0]
    env = dict(os.environ, REVOKD_FAULTS="alloc:1000000:1")
    r = subprocess.run([REVOKD, "version"], capture_output=True, text=True, env=env)
    if faults_compiled():
        assert first.endswith("(fault injection: on, a test build)"), first
        assert r.returncode == 0
    else:
        assert first.endswith("(fault injection: off)"), first
        assert r.returncode == 2
        assert "this build has no fault points" in r.stderr
