"""REFERENCE §5.1: Standard Webhooks deliveries on POST /v1/events.

Signatures are computed here from the Standard Webhooks specification
(base64 HMAC-SHA256 of "id.timestamp.body" under the whsec_ key), never by
revokd.
"""
import base64
import hashlib
import hmac
import json
import time
import uuid

from conftest import ISS, WEBHOOK_KEY, assert_deny, metric_value, metrics_text


def sign(key, wid, ts, body):
    mac = hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def deliver(srv, payload, key=WEBHOOK_KEY, wid=None, ts=None, sig=None,
            ctype="application/json", headers=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    wid = wid or "msg_" + uuid.uuid4().hex
    ts = str(int(time.time())) if ts is None else str(ts)
    h = {"webhook-id": wid, "webhook-timestamp": ts,
         "webhook-signature": sig if sig is not None else sign(key, wid, ts, body)}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    return srv.session.post(srv.url + "/v1/events", data=body, headers=h, timeout=30)


def taken(srv, source="webhook"):
    return metric_value(metrics_text(srv), "revokd_revocations_taken_total",
                        {"source": source})


def test_token_revoked_event(intake_server, mint):
    srv = intake_server
    tok = mint.token(jti="wh-jti-1")
    assert srv.auth(tok).status_code == 200
    r = deliver(srv, {"type": "token.revoked", "iss": ISS, "jti": "wh-jti-1"})
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1}
    assert r.headers["Content-Type"] == "application/json"
    assert_deny(srv.auth(tok), "token revoked")
    got = srv.admin("GET", "/admin/v1/revocations/token/wh-jti-1", params={"iss": ISS})
    assert got.status_code == 200
    assert got.json()["source"] == "webhook"
    assert "revocation taken" in srv.stderr_text()


def test_all_five_types_in_one_batch(intake_server, mint):
    srv = intake_server
    now = int(time.time())
    toks = {
        "session": mint.token(sid="wh-sid", iat=now - 10),
        "subject": mint.token(sub="wh-sub", iat=now - 10),
    }
    body = {"events": [
        {"type": "token.revoked", "iss": ISS, "jti": "wh-b-1", "exp": now + 600,
         "reason": "test"},
        {"type": "session.revoked", "iss": ISS, "sid": "wh-sid", "at": now},
        {"type": "subject.revoked", "iss": ISS, "sub": "wh-sub", "at": now},
        {"type": "key.revoked", "iss": ISS, "kid": "no-such-kid-wh"},
        {"type": "issuer.revoked", "iss": "https://other.test", "at": now - 3600},
    ]}
    r = deliver(srv, body)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 5}
    assert_deny(srv.auth(toks["session"]), "session revoked")
    assert_deny(srv.auth(toks["subject"]), "subject revoked")
    got = srv.admin("GET", "/admin/v1/revocations/token/wh-b-1", params={"iss": ISS}).json()
    assert got["expires_at"] == now + 600 and got["reason"] == "test"


def test_at_defaults_to_first_receipt(intake_server, mint):
    # REFERENCE §5.1: the first receipt of the webhook-id, not the attempt's
    # webhook-timestamp (senders sign each retry with a fresh one).
    srv = intake_server
    ts = int(time.time()) - 100
    t0 = int(time.time())
    during = mint.token(sid="wh-at", iat=ts + 5)
    r = deliver(srv, {"type": "session.revoked", "iss": ISS, "sid": "wh-at"}, ts=ts)
    assert r.status_code == 202
    got = srv.admin("GET", "/admin/v1/revocations/session/wh-at", params={"iss": ISS}).json()
    assert t0 <= got["revoked_at"] <= int(time.time())
    assert_deny(srv.auth(during), "session revoked")


def test_redelivery_is_not_reapplied(intake_server):
    srv = intake_server
    wid = "msg_redeliver_" + uuid.uuid4().hex
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "wh-redeliver"}
    ts = int(time.time())
    r = deliver(srv, ev, wid=wid, ts=ts)
    assert r.status_code == 202 and r.json() == {"accepted": 1}
    n = taken(srv)
    # The operator removes it; a redelivery of the same message must not
    # bring it back.
    assert srv.admin("DELETE", "/admin/v1/revocations/subject/wh-redeliver",
                     params={"iss": ISS}).status_code == 204
    r = deliver(srv, ev, wid=wid, ts=ts)
    assert r.status_code == 200 and r.json() == {"accepted": 1}
    assert taken(srv) == n
    assert srv.admin("GET", "/admin/v1/revocations/subject/wh-redeliver",
                     params={"iss": ISS}).status_code == 404


def test_several_signatures_one_valid(intake_server):
    srv = intake_server
    body = json.dumps({"type": "subject.revoked", "iss": ISS, "sub": "wh-multi"}).encode()
    wid, ts = "msg_multi", str(int(time.time()))
    good = sign(WEBHOOK_KEY, wid, ts, body)
    bad = sign(b"another key of 32 bytes........", wid, ts, body)
    r = deliver(srv, body, wid=wid, ts=ts, sig=f"v1a,xyz {bad} {good}")
    assert r.status_code == 202, r.text


def test_bad_signatures(intake_server):
    srv = intake_server
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "wh-never"}
    body = json.dumps(ev).encode()
    wid, ts = "msg_bad", str(int(time.time()))
    good = sign(WEBHOOK_KEY, wid, ts, body)
    cases = [
        sign(b"wrong key wrong key wrong key!!!", wid, ts, body),
        sign(WEBHOOK_KEY, wid, ts, body + b" "),      # body changed
        sign(WEBHOOK_KEY, wid + "x", ts, body),        # id changed
        "v2," + good[3:],                              # unknown version only
        good[:-4] + "AAA=",                            # truncated/altered
        "",
    ]
    n = taken(srv)
    for sig in cases:
        r = deliver(srv, body, wid=wid, ts=ts, sig=sig)
        assert r.status_code == 401, (sig, r.status_code, r.text)
        assert r.json()["error"]
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        h = {"webhook-id": wid, "webhook-timestamp": ts, "webhook-signature": good,
             "Content-Type": "application/json"}
        del h[missing]
        r = srv.session.post(srv.url + "/v1/events", data=body, headers=h)
        assert r.status_code == 401, missing
    assert taken(srv) == n


def test_timestamp_tolerance(intake_server):
    srv = intake_server
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "wh-old"}
    now = int(time.time())
    for ts in (now - 400, now + 400, "12ab", "-5"):
        r = deliver(srv, ev, ts=ts)
        assert r.status_code == 401, ts
    assert deliver(srv, ev, ts=now - 250).status_code == 202


def test_content_types(intake_server):
    srv = intake_server
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "wh-ct"}
    assert deliver(srv, ev, ctype=None).status_code == 415
    assert deliver(srv, ev, ctype="text/plain").status_code == 415
    assert deliver(srv, ev, ctype="application/json; charset=utf-8").status_code == 202
    assert deliver(srv, ev, ctype="Application/JSON").status_code == 202


def test_bad_batch_changes_nothing(intake_server, mint):
    srv = intake_server
    n = taken(srv)
    body = {"events": [
        {"type": "subject.revoked", "iss": ISS, "sub": "wh-batch-0"},
        {"type": "subject.revoked", "iss": ISS, "sub": "wh-batch-1"},
        {"type": "token.revoked", "iss": ISS},
    ]}
    r = deliver(srv, body)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert r.json()["error_description"].startswith("events[2].jti")
    assert taken(srv) == n
    for i in range(2):
        assert srv.admin("GET", f"/admin/v1/revocations/subject/wh-batch-{i}",
                         params={"iss": ISS}).status_code == 404


def test_400_rows(intake_server):
    srv = intake_server
    now = int(time.time())
    for body in (b"{not json", b"[]", json.dumps({"events": []}).encode(),
                 json.dumps({"type": "bogus.revoked", "iss": ISS}).encode(),
                 json.dumps({"type": "subject.revoked", "iss": "https://nope"}).encode(),
                 json.dumps({"type": "subject.revoked", "iss": ISS, "sub": 5}).encode(),
                 json.dumps({"type": "session.revoked", "iss": ISS, "sid": "x",
                             "at": now + 3600}).encode()):
        r = deliver(srv, body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert r.json()["error"] == "invalid_request"


def test_400_after_failure_is_retried(intake_server):
    """A delivery that was refused is not remembered: its id may come again."""
    srv = intake_server
    wid = "msg_retry_" + uuid.uuid4().hex
    assert deliver(srv, b"{bad", wid=wid).status_code == 400
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "wh-retry"}
    assert deliver(srv, ev, wid=wid).status_code == 202


def test_413_too_many_events(intake_server):
    srv = intake_server
    ev = {"type": "subject.revoked", "iss": ISS, "sub": "x"}
    r = deliver(srv, {"events": [ev] * 10001})
    assert r.status_code == 413


def test_413_body_over_4mib(intake_server):
    srv = intake_server
    body = b'{"type":"subject.revoked","iss":"' + ISS.encode() + b'","sub":"' + \
        b"a" * (4 << 20) + b'"}'
    r = deliver(srv, body)
    assert r.status_code == 413


def test_no_secret_is_403(module_make_server):
    srv = module_make_server()
    r = deliver(srv, {"type": "subject.revoked", "iss": ISS, "sub": "x"})
    assert r.status_code == 403
    r = srv.session.post(srv.url + "/v1/events", data=b"{}")
    assert r.status_code == 403
