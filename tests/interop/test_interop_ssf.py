"""Shared Signals Framework transmitters (REFERENCE §5.2): CAEP
session-revoked and RISC sessions-revoked / account-disabled SETs as
transmitters send them, signed by jose: subjects in the top-level sub_id
(RFC 9493, SSF 1.0) or in the event's legacy `subject` member (older
transmitters), event_timestamp in seconds or in milliseconds (early SSF
drafts and some transmitters)."""
import os
import time
import uuid

import pytest
import requests

from interop_support import (assert_allow, assert_deny, finish_server, jose_keygen, jose_sign,
                      start_server, write_file)

ISS = "https://ssf.test/"
AUD = "https://revokd.test/"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
RISC_SR = "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
RISC_AD = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"


@pytest.fixture(scope="module")
def key():
    return jose_keygen(["ES256"])["ES256"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory, key):
    d = str(tmp_path_factory.mktemp("ssf"))
    write_file(os.path.join(d, "keys", "t.pem"), key["spki_pem"])
    cfg = {"data_dir": "data", "threads": 2, "set_audience": AUD,
           "issuers": [{"issuer": ISS, "algorithms": ["ES256"],
                        "keys": [{"kid": "t1", "alg": "ES256", "pem_file": "keys/t.pem"}]}]}
    s = start_server(d, cfg)
    yield s
    finish_server(s)


def sign(key, payload, typ="secevent+jwt", kid="t1"):
    return jose_sign([{"alg": "ES256", "key": key["private_jwk"],
                       "header": {"typ": typ, "kid": kid}, "payload": payload}])[0]


def token(key, iat, **c):
    p = {"iss": ISS, "sub": "alice", "iat": iat, "exp": int(time.time()) + 600,
         "jti": str(uuid.uuid4())}
    p.update(c)
    return jose_sign([{"alg": "ES256", "key": key["private_jwk"], "header": {"kid": "t1"},
                       "payload": p}])[0]


def post(srv, t):
    return requests.post(srv.url + "/v1/events", data=t, timeout=10,
                         headers={"Content-Type": "application/secevent+jwt"})


def set_payload(events, **top):
    p = {"iss": ISS, "aud": AUD, "iat": int(time.time()), "jti": str(uuid.uuid4()),
         "events": events}
    p.update(top)
    return p


@pytest.mark.parametrize("unit", ["s", "ms"])
@pytest.mark.parametrize("placement", ["sub_id", "legacy_subject"])
def test_caep_session_revoked(srv, key, unit, placement):
    now = int(time.time())
    sid = "sess-" + uuid.uuid4().hex
    before = token(key, now - 20, sid=sid)
    after = token(key, now - 5, sid=sid)
    cut = now - 10
    ts = cut * 1000 + 123 if unit == "ms" else cut
    subject = {"format": "opaque", "id": sid}
    if placement == "sub_id":
        p = set_payload({CAEP: {"event_timestamp": ts, "initiating_entity": "policy"}},
                        sub_id=subject)
    else:
        p = set_payload({CAEP: {"subject": subject, "event_timestamp": ts}})
    r = post(srv, sign(key, p))
    assert r.status_code == 202, r.text
    assert_deny(srv.auth(before), "session revoked")
    assert_allow(srv.auth(after))


@pytest.mark.parametrize("event", [RISC_SR, RISC_AD])
@pytest.mark.parametrize("fmt", ["iss_sub", "opaque"])
def test_risc_subject(srv, key, event, fmt):
    now = int(time.time())
    sub = "user-" + uuid.uuid4().hex
    tok = token(key, now - 5, sub=sub)
    subject = ({"format": "iss_sub", "iss": ISS, "sub": sub} if fmt == "iss_sub"
               else {"format": "opaque", "id": sub})
    r = post(srv, sign(key, set_payload({event: {"event_timestamp": (now - 1) * 1000}},
                                        sub_id=subject)))
    assert r.status_code == 202, r.text
    assert_deny(srv.auth(tok), "subject revoked")


def test_complex_subject_and_jwt_id(srv, key):
    now = int(time.time())
    sid, sub = "s-" + uuid.uuid4().hex, "u-" + uuid.uuid4().hex
    t1 = token(key, now - 5, sid=sid)
    t2 = token(key, now - 5, sub=sub)
    t3 = token(key, now - 5)
    from interop_support import jws_parts
    evs = [
        ({CAEP: {"event_timestamp": now}}, {"format": "complex", "session": {"format": "opaque", "id": sid},
                                            "user": {"format": "iss_sub", "iss": ISS, "sub": "x"}}),
        ({CAEP: {"event_timestamp": now}}, {"format": "complex",
                                            "user": {"format": "iss_sub", "iss": ISS, "sub": sub}}),
        ({CAEP: {"event_timestamp": now}}, {"format": "jwt_id", "iss": ISS,
                                            "jti": jws_parts(t3)[1]["jti"]}),
    ]
    for events, subject in evs:
        assert post(srv, sign(key, set_payload(events, sub_id=subject))).status_code == 202
    assert_deny(srv.auth(t1), "session revoked")
    assert_deny(srv.auth(t2), "subject revoked")
    assert_deny(srv.auth(t3), "token revoked")


def test_invalid_sets(srv, key):
    now = int(time.time())
    other = jose_keygen(["ES256"])["ES256"]
    ev = {CAEP: {"event_timestamp": now}}
    sub = {"format": "opaque", "id": "s"}
    cases = [
        (sign(other, set_payload(ev, sub_id=sub)), "invalid_key"),                  # wrong key
        (sign(key, set_payload(ev, sub_id=sub, aud="https://elsewhere/")), "invalid_audience"),
        (sign(key, set_payload(ev, sub_id=sub, iat=now - 900, exp=now - 600)), "invalid_request"),
        (sign(key, set_payload({CAEP: {"event_timestamp": (now + 3600) * 1000}}, sub_id=sub)),
         "invalid_request"),                                                         # ms, future
        (sign(key, set_payload(ev, sub_id=sub), typ="JWT"), "invalid_request"),
        (sign(key, set_payload(ev, sub_id={"format": "iss_sub", "iss": "https://evil/", "sub": "x"})),
         "invalid_request"),                                                         # other issuer
    ]
    for t, err in cases:
        r = post(srv, t)
        assert r.status_code == 400 and r.json()["err"] == err, (err, r.text)
    # replay: the same SET again is 202 and not applied twice
    t = sign(key, set_payload(ev, sub_id={"format": "opaque", "id": "s-replay"}))
    assert post(srv, t).status_code == 202
    assert post(srv, t).status_code == 202
