"""standardwebhooks (pinned in package.json; the Standard Webhooks reference
library) as the sender of revokd's webhook (REFERENCE §5.1): its
signatures are taken, a retry signed with a fresh webhook-timestamp is
answered without reapplying, `at` defaults to the first receipt of the
webhook-id (not to the attempt's timestamp), and the Standard Webhooks
envelope {"type", "timestamp", "data"} is read. Its invalid outputs (wrong
secret, stale timestamp, tampered body) are refused."""
import base64
import json
import os
import subprocess
import time
import uuid
from datetime import datetime, timezone

import pytest
import requests

from interop_support import (HERE, JS, NODE, assert_allow, assert_deny, finish_server,
                      jose_keygen, jose_sign, start_server, write_file)

ISS = "https://hooks.test/"
KEY = b"standard-webhooks-test-key-0123456789"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@pytest.fixture(scope="module")
def key():
    return jose_keygen(["ES256"])["ES256"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory, key):
    d = str(tmp_path_factory.mktemp("hooks"))
    write_file(os.path.join(d, "keys", "k.pem"), key["spki_pem"])
    write_file(os.path.join(d, "secrets", "webhook"), SECRET + "\n")
    cfg = {"data_dir": "data", "threads": 2,
           "webhook": {"secret_file": "secrets/webhook", "tolerance": 300},
           "issuers": [{"issuer": ISS, "algorithms": ["ES256"],
                        "keys": [{"kid": "k1", "alg": "ES256", "pem_file": "keys/k.pem"}]}]}
    s = start_server(d, cfg)
    yield s
    finish_server(s)


def token(key, iat, **c):
    p = {"iss": ISS, "sub": "alice", "iat": iat, "exp": int(time.time()) + 600,
         "jti": str(uuid.uuid4())}
    p.update(c)
    return jose_sign([{"alg": "ES256", "key": key["private_jwk"], "header": {"kid": "k1"},
                       "payload": p}])[0]


def sign(messages, secret=SECRET):
    p = subprocess.run([NODE, os.path.join(JS, "webhook.mjs")], cwd=HERE, timeout=60,
                       input=json.dumps({"secret": secret, "messages": messages}),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def deliver(srv, body, headers):
    h = dict(headers)
    h["Content-Type"] = "application/json"
    return requests.post(srv.url + "/v1/events", data=body.encode(), headers=h, timeout=10)


def test_signed_by_the_reference_library(srv, key):
    now = int(time.time())
    sid = "s-" + uuid.uuid4().hex
    t = token(key, now - 5, sid=sid)
    body = json.dumps({"events": [{"type": "session.revoked", "iss": ISS, "sid": sid,
                                   "at": now - 1}]})
    [h] = sign([{"id": "msg_" + uuid.uuid4().hex, "timestamp": now, "payload": body}])
    r = deliver(srv, body, h)
    assert r.status_code in (200, 202), r.text
    assert_deny(srv.auth(t), "session revoked")


def test_retry_with_fresh_timestamp_and_at_default(srv, key):
    """A sender's retries: the same webhook-id, a new webhook-timestamp
    each attempt. The first attempt that reaches revokd fixes `at`."""
    now = int(time.time())
    sid = "s-" + uuid.uuid4().hex
    msg = "msg_" + uuid.uuid4().hex
    body = json.dumps({"type": "session.revoked", "iss": ISS, "sid": sid})
    # an attempt signed 60 s ago (a queued sender) reaches revokd now; the
    # sender's next retry is signed now
    first, retry = sign([{"id": msg, "timestamp": now - 60, "payload": body},
                         {"id": msg, "timestamp": now, "payload": body}])
    during = token(key, now - 30, sid=sid)   # issued between the attempt's timestamp and receipt
    r = deliver(srv, body, first)
    assert r.status_code in (200, 202), r.text
    # at = first receipt (now), not the attempt's webhook-timestamp (now - 60)
    assert_deny(srv.auth(during), "session revoked")
    # the retry with its fresh timestamp: answered, not reapplied
    r = deliver(srv, body, retry)
    assert r.status_code in (200, 202), r.text
    later = token(key, int(time.time()) + 2, sid=sid)
    assert_allow(srv.auth(later))


def test_standard_webhooks_envelope(srv, key):
    now = int(time.time())
    sid, sub = "s-" + uuid.uuid4().hex, "u-" + uuid.uuid4().hex
    cut = now - 20
    ts = datetime.fromtimestamp(cut, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    before_s, after_s = token(key, cut - 5, sid=sid), token(key, cut + 5, sid=sid)
    before_u = token(key, cut - 5, sub=sub)
    bodies = [
        json.dumps({"type": "session.revoked", "timestamp": ts, "data": {"iss": ISS, "sid": sid}}),
        json.dumps({"type": "subject.revoked", "timestamp": ts,
                    "data": {"iss": ISS, "sub": sub, "reason": "offboarded"}}),
    ]
    hs = sign([{"id": "msg_" + uuid.uuid4().hex, "timestamp": now, "payload": b} for b in bodies])
    for b, h in zip(bodies, hs):
        r = deliver(srv, b, h)
        assert r.status_code in (200, 202), r.text
    assert_deny(srv.auth(before_s), "session revoked")
    assert_allow(srv.auth(after_s))               # at = the envelope's timestamp
    assert_deny(srv.auth(before_u), "subject revoked")


def test_invalid_outputs_refused(srv, key):
    now = int(time.time())
    body = json.dumps({"type": "subject.revoked", "iss": ISS, "sub": "x"})
    other = "whsec_" + base64.b64encode(b"another-key-0123456789abcdef").decode()
    [wrong] = sign([{"id": "msg_a", "timestamp": now, "payload": body}], secret=other)
    [stale] = sign([{"id": "msg_b", "timestamp": now - 3600, "payload": body}])
    [ok] = sign([{"id": "msg_c", "timestamp": now, "payload": body}])
    assert deliver(srv, body, wrong).status_code == 401
    assert deliver(srv, body, stale).status_code == 401
    assert deliver(srv, body.replace('"x"', '"y"'), ok).status_code == 401
