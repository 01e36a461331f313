"""Admin revocations and what they deny (REFERENCE §3 step 6, §4), across restarts,
and under store faults (DECISIONS D15: nothing half-applied, the next request
succeeds)."""
import signal
import time
import urllib.parse
import uuid

import pytest

from conftest import ISS, ISS2, assert_allow, assert_deny, needs_faults

RV = "/admin/v1/revocations"


def post(srv, body):
    return srv.admin("POST", RV, json=body)


def one_path(type_, id_, iss=ISS):
    return f"{RV}/{type_}/{urllib.parse.quote(id_, safe='')}?iss={urllib.parse.quote(iss, safe='')}"


@pytest.fixture
def srv(spawn):
    return spawn.new()


@pytest.mark.parametrize("etype,field,reason", [
    ("session.revoked", "sid", "session revoked"),
    ("subject.revoked", "sub", "subject revoked"),
    ("issuer.revoked", None, "issuer revoked"),
])
def test_time_based_revocations_deny_tokens_issued_at_or_before(srv, mint, etype, field, reason):
    now = int(time.time())
    at = now - 100
    val = str(uuid.uuid4())
    claims = {field: val} if field else {}
    older = mint.token("RS256", iat=now - 200, **claims)
    same = mint.token("RS256", iat=at, **claims)
    newer = mint.token("RS256", iat=at + 1, **claims)
    if field is None:
        unrelated = mint.token("ES256", kid=None, iss=ISS2, aud=None, iat=now - 200)
    else:
        unrelated = mint.token("RS256", iat=now - 200, **{field: "someone-else"})
    for t in (older, same, newer, unrelated):
        assert srv.auth(t).status_code == 200
    ev = {"type": etype, "iss": ISS, "at": at}
    if field:
        ev[field] = val
    assert post(srv, ev).status_code == 201
    # denied at once, even though the verified cache holds these tokens
    assert_deny(srv.auth(older), reason)
    assert_deny(srv.auth(same), reason)
    assert_allow(srv.auth(newer))
    assert_allow(srv.auth(unrelated))


def test_key_revocation_denies_whatever_the_iat(srv, mint):
    now = int(time.time())
    old = mint.token("ES256", iat=now - 300)
    fresh = mint.token("ES256", iat=now)
    other_key = mint.token("RS256", iat=now - 300)
    for t in (old, fresh, other_key):
        assert srv.auth(t).status_code == 200
    r = post(srv, {"type": "key.revoked", "iss": ISS, "kid": "ec1", "at": now - 1000})
    assert r.status_code == 201 and r.json()["revocations"][0]["expires_at"] is None
    assert_deny(srv.auth(old), "key revoked")
    assert_deny(srv.auth(fresh), "key revoked")
    assert_deny(srv.auth(mint.token("ES256")), "key revoked")
    assert_allow(srv.auth(other_key))
    # the same kid under the other issuer is another key
    assert srv.auth(mint.token("ES256", kid=None, iss=ISS2, aud=None)).status_code == 200
    assert srv.admin("DELETE", one_path("key", "ec1")).status_code == 204
    assert_allow(srv.auth(fresh))


def test_token_revocation_denies_that_jti_only(srv, mint):
    jti = str(uuid.uuid4())
    tok = mint.token("HS256", jti=jti)
    other = mint.token("HS256")
    assert srv.auth(tok).status_code == 200
    assert post(srv, {"type": "token.revoked", "iss": ISS, "jti": jti}).status_code == 201
    assert_deny(srv.auth(tok), "token revoked")
    assert_allow(srv.auth(other))
    # the same jti under the other issuer is not revoked
    assert srv.auth(mint.token("ES256", kid=None, iss=ISS2, aud=None, jti=jti)).status_code == 200


def all_items(s):
    r = s.admin("GET", RV, params={"limit": 1000})
    assert r.status_code == 200 and r.json()["next_cursor"] is None
    return r.json()["items"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_restart_keeps_every_revocation(spawn, mint, sig):
    s = spawn.new()
    now = int(time.time())
    jti, sid, sub = (str(uuid.uuid4()) for _ in range(3))
    evs = [{"type": "token.revoked", "iss": ISS, "jti": jti, "reason": "r1"},
           {"type": "session.revoked", "iss": ISS, "sid": sid, "at": now - 50},
           {"type": "subject.revoked", "iss": ISS, "sub": sub, "at": now - 50},
           {"type": "issuer.revoked", "iss": ISS2, "at": now - 50},
           {"type": "key.revoked", "iss": ISS, "kid": "hs1"}]
    evs += [{"type": "token.revoked", "iss": ISS2, "jti": f"bulk-{i}"} for i in range(200)]
    assert post(s, {"events": evs}).status_code == 201
    # and one by one, to have several commits
    for i in range(5):
        assert post(s, {"type": "token.revoked", "iss": ISS, "jti": f"single-{i}"}).status_code == 201
    before = all_items(s)
    assert len(before) == len(evs) + 5
    toks = {"token revoked": mint.token("RS256", jti=jti),
            "session revoked": mint.token("RS256", sid=sid, iat=now - 60),
            "subject revoked": mint.token("RS256", sub=sub, iat=now - 60),
            "issuer revoked": mint.token("ES256", kid=None, iss=ISS2, aud=None, iat=now - 60),
            "key revoked": mint.token("HS256")}
    s2 = spawn.restart(s, sig)
    assert all_items(s2) == before
    for reason, t in toks.items():
        assert_deny(s2.auth(t), reason)
    assert_allow(s2.auth(mint.token("RS256", sid=sid, iat=now)))
    st = s2.admin("GET", "/admin/v1/stats").json()
    assert st["revocations"]["total"] == len(before)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_delete_then_restart_stays_deleted(spawn, mint, sig):
    s = spawn.new()
    jti = str(uuid.uuid4())
    tok = mint.token("RS256", jti=jti)
    evs = [{"type": "token.revoked", "iss": ISS, "jti": jti},
           {"type": "token.revoked", "iss": ISS, "jti": "stays"},
           {"type": "key.revoked", "iss": ISS, "kid": "rsa1"}]
    assert post(s, {"events": evs}).status_code == 201
    assert s.admin("DELETE", one_path("token", jti)).status_code == 204
    assert s.admin("DELETE", one_path("key", "rsa1")).status_code == 204
    assert_allow(s.auth(tok))
    s2 = spawn.restart(s, sig)
    assert s2.admin("GET", one_path("token", jti)).status_code == 404
    assert s2.admin("GET", one_path("key", "rsa1")).status_code == 404
    assert s2.admin("GET", one_path("token", "stays")).status_code == 200
    assert_allow(s2.auth(tok))


# --- fault points ----------------------------------------------------------

@needs_faults
@pytest.mark.parametrize("n", [1, 2, 3])
def test_failed_commit_is_503_and_nothing_applied(spawn, mint, n):
    s = spawn.new(env={"REVOKD_FAULTS": f"store.commit:{n}:1"})
    jtis = [str(uuid.uuid4()) for _ in range(n + 1)]
    toks = [mint.token("RS256", jti=j) for j in jtis]
    for t in toks:
        assert s.auth(t).status_code == 200
    for i, j in enumerate(jtis):
        r = post(s, {"events": [{"type": "token.revoked", "iss": ISS, "jti": j},
                                {"type": "session.revoked", "iss": ISS, "sid": "s-" + j}]})
        if i == n - 1:
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "server_error"
        else:
            assert r.status_code == 201, (i, r.text)
    for i, (j, t) in enumerate(zip(jtis, toks)):
        if i == n - 1:
            assert s.admin("GET", one_path("token", j)).status_code == 404
            assert s.admin("GET", one_path("session", "s-" + j)).status_code == 404
            assert_allow(s.auth(t))
        else:
            assert s.admin("GET", one_path("token", j)).status_code == 200
            assert_deny(s.auth(t), "token revoked")
    st = s.admin("GET", "/admin/v1/stats").json()
    assert st["store"]["failed_commits"] == 1 and st["store"]["state"] == "ok"
    text = s.session.get(s.url + "/metrics").text
    assert f'revokd_revocations_taken_total{{source="admin"}} {2 * n}' in text


@needs_faults
def test_failed_step_mid_batch_leaves_nothing(spawn, mint):
    s = spawn.new(env={"REVOKD_FAULTS": "store.step:3:1"})
    jtis = [str(uuid.uuid4()) for _ in range(4)]
    toks = [mint.token("RS256", jti=j) for j in jtis]
    r = post(s, {"events": [{"type": "token.revoked", "iss": ISS, "jti": j} for j in jtis]})
    assert r.status_code == 503
    for j, t in zip(jtis, toks):
        assert s.admin("GET", one_path("token", j)).status_code == 404
        assert_allow(s.auth(t))
    r = post(s, {"events": [{"type": "token.revoked", "iss": ISS, "jti": j} for j in jtis]})
    assert r.status_code == 201
    for t in toks:
        assert_deny(s.auth(t), "token revoked")


@needs_faults
def test_failed_delete_is_503_and_keeps_the_revocation(spawn, mint):
    # commit 1: the POST; commit 2 (the DELETE) fails; commit 3 succeeds
    s = spawn.new(env={"REVOKD_FAULTS": "store.commit:2:1"})
    jti = str(uuid.uuid4())
    tok = mint.token("RS256", jti=jti)
    assert post(s, {"type": "token.revoked", "iss": ISS, "jti": jti}).status_code == 201
    assert s.admin("DELETE", one_path("token", jti)).status_code == 503
    assert_deny(s.auth(tok), "token revoked")
    assert s.admin("GET", one_path("token", jti)).status_code == 200
    assert s.admin("DELETE", one_path("token", jti)).status_code == 204
    assert_allow(s.auth(tok))
