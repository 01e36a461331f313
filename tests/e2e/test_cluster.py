"""Cluster mode (REFERENCE §7): replicas sharing revocations through a real
redis-server. Propagation is polled with generous deadlines (PATIENCE
seconds): how fast it is belongs to bench/cluster, not to a test that runs
on a loaded 2-core machine and under sanitizers."""
import os
import re
import signal
import sqlite3
import time
import uuid

import jwt
import pytest

from conftest import ic

ISS = ic.ISS
RV = "/admin/v1/revocations"
PATIENCE = 30  # a deadline for polling, never a measured bound


def revoke(srv, events):
    body = {"events": events} if isinstance(events, list) else events
    r = srv.admin("POST", RV, json=body)
    assert r.status_code == 201, (r.status_code, r.text)
    return r


def token_event(jti):
    return {"type": "token.revoked", "iss": ISS, "jti": jti,
            "exp": int(time.time()) + 3600}


wait_for = ic.wait_for  # the suites' one polling helper


def denied(srv, token):
    return srv.auth(token).status_code == 401


def metric(srv, name, labels=""):
    text = srv.session.get(srv.url + "/metrics", timeout=10).text
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def readyz(srv):
    r = srv.session.get(srv.url + "/readyz", timeout=10)
    return r.status_code, r.json()["checks"]["replication"]


def listing(srv):
    """Every revocation as (type, iss, id, expires_at), all pages."""
    out, cursor = set(), None
    while True:
        params = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        r = srv.admin("GET", RV, params=params)
        assert r.status_code == 200, r.text
        doc = r.json()
        for it in doc["items"]:
            out.add((it["type"], it["iss"], it["id"], it["expires_at"]))
        cursor = doc["next_cursor"]
        if not cursor:
            return out


def settled(srv):
    return metric(srv, "revokd_replication_outbox") == 0


def test_three_replicas_deny_within_a_second(make_replica, mint):
    reps = [make_replica(n) for n in ("a", "b", "c")]
    for srv in reps:
        assert readyz(srv) == (200, "connected")
        assert srv.admin("GET", "/admin/v1/stats").json()["cluster"] == "connected"
    for i, origin in enumerate(reps):
        jti = str(uuid.uuid4())
        tok = mint.token(jti=jti)
        for srv in reps:
            assert srv.auth(tok).status_code == 200
        revoke(origin, token_event(jti))
        for other in reps:
            if other is not origin:
                wait_for(lambda: denied(other, tok), PATIENCE, f"deny on replica {i}")
    for srv in reps:
        wait_for(lambda: settled(srv), PATIENCE, "outbox empty")
        # Nothing echoed: each replica applied exactly the 2 of the others.
        assert metric(srv, "revokd_revocations_taken_total",
                      '{source="replica"}') == 2
        assert metric(srv, "revokd_replication_lag_seconds") is not None


def test_late_replica_catches_up_before_ready(make_replica, redis):
    a = make_replica("a")
    for b in range(5):
        revoke(a, [{"type": "session.revoked", "iss": ISS, "sid": f"s{b}-{i}"}
                   for i in range(1000)])
    wait_for(lambda: settled(a), 30, "outbox of a empty")
    assert int(redis.cli("XLEN", "revokd:test")) == 5000
    late = make_replica("late", wait=False)
    # Ready only after the catch-up: the set is complete the moment it is.
    def ready():
        try:
            return readyz(late)[0] == 200
        except ic.requests.RequestException:
            return False
    wait_for(ready, 30, "late replica ready")
    assert listing(late) == listing(a)
    assert len(listing(late)) == 5000


def test_redis_outage_loses_nothing(make_replica, redis, mint):
    a, b = make_replica("a"), make_replica("b")
    revoke(a, token_event("before"))
    wait_for(lambda: len(listing(b)) == 1, PATIENCE, "first entry on b")
    redis.stop()
    expected = {"before"}
    for i in range(20):
        jti_a, jti_b = f"a-{i}", f"b-{i}"
        revoke(a, token_event(jti_a))       # acknowledged: committed locally
        revoke(b, token_event(jti_b))
        expected |= {jti_a, jti_b}
    assert metric(a, "revokd_replication_outbox") == 20
    wait_for(lambda: readyz(a) == (200, "degraded"), PATIENCE, "a degraded, still ready")
    # What the alert rules read (deploy/prometheus/revokd-rules.yml).
    wait_for(lambda: metric(a, "revokd_replication_state", '{state="degraded"}') == 1,
             PATIENCE, "revokd_replication_state degraded")
    assert metric(a, "revokd_replication_state", '{state="connected"}') == 0
    assert metric(a, "revokd_ready") == 1
    redis.start()
    for srv in (a, b):
        wait_for(lambda: {x[2] for x in listing(srv)} == expected, 15,
                 "converged after the outage")
        wait_for(lambda: settled(srv), PATIENCE, "outbox drained")
        wait_for(lambda: readyz(srv) == (200, "connected"), PATIENCE, "reconnected")
        assert metric(srv, "revokd_replication_state", '{state="connected"}') == 1
        assert metric(srv, "revokd_replication_state", '{state="degraded"}') == 0
    assert listing(a) == listing(b)


def test_sigkill_resumes_from_its_position(make_replica, mint):
    a, b = make_replica("a"), make_replica("b")
    revoke(a, [token_event(f"x{i}") for i in range(10)])
    wait_for(lambda: len(listing(b)) == 10, PATIENCE, "b has the first ten")
    b.stop(signal.SIGKILL)
    revoke(a, [token_event(f"y{i}") for i in range(3)])
    b2 = make_replica("b")
    wait_for(lambda: len(listing(b2)) == 13, PATIENCE, "b caught up after SIGKILL")
    # Exactly the three it missed, none of the ten it had already applied.
    time.sleep(0.2)
    assert metric(b2, "revokd_revocations_taken_total", '{source="replica"}') == 3
    assert listing(a) == listing(b2)


def test_deletions_converge(make_replica, mint):
    a, b, c = make_replica("a"), make_replica("b"), make_replica("c")
    jti = str(uuid.uuid4())
    tok = mint.token(jti=jti)
    revoke(a, token_event(jti))
    for srv in (b, c):
        wait_for(lambda: denied(srv, tok), PATIENCE, "revoked everywhere")
    r = b.admin("DELETE", f"{RV}/token/{jti}", params={"iss": ISS})
    assert r.status_code == 204, r.text
    for srv in (a, c):
        wait_for(lambda: srv.auth(tok).status_code == 200, PATIENCE, "deleted everywhere")
    for srv in (a, b, c):
        assert listing(srv) == set()


def test_keys_reach_a_new_replica_through_the_hash(make_replica, redis):
    a = make_replica("a")
    revoke(a, [{"type": "key.revoked", "iss": ISS, "kid": "old-kid", "reason": "leaked"},
               {"type": "key.revoked", "iss": ISS, "kid": "gone-kid"},
               {"type": "session.revoked", "iss": ISS, "sid": "s1"}])
    assert a.admin("DELETE", f"{RV}/key/gone-kid", params={"iss": ISS}).status_code == 204
    wait_for(lambda: settled(a), PATIENCE, "published")
    # The stream trimmed to nothing, as MINID does to old entries.
    redis.cli("XTRIM", "revokd:test", "MAXLEN", "0")
    assert int(redis.cli("XLEN", "revokd:test")) == 0
    n = make_replica("new")
    got = listing(n)
    assert got == {("key", ISS, "old-kid", None)}
    r = n.admin("GET", f"{RV}/key/old-kid", params={"iss": ISS})
    assert r.status_code == 200 and r.json()["reason"] == "leaked", r.text


def node_id(srv):
    """The replica ID a replica puts in its entries' origin (kept in meta)."""
    db = sqlite3.connect(f"file:{os.path.join(srv.workdir, 'data', 'revokd.db')}?mode=ro",
                         uri=True)
    try:
        return db.execute("SELECT value FROM meta WHERE key = 'replication.node_id'"
                          ).fetchone()[0]
    finally:
        db.close()


def keycloak_push(srv, keys, not_before):
    now = int(time.time())
    body = jwt.encode({"id": str(uuid.uuid4()), "action": "PUSH_NOT_BEFORE",
                       "resource": "gateway", "notBefore": not_before,
                       "expiration": now + 10}, ic.pem_private(keys.rsa),
                      algorithm="RS256", headers={"kid": "rsa1"})
    r = srv.session.post(srv.url + "/k_push_not_before", data=body,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 204, r.text


def issuer(srv):
    r = srv.admin("GET", f"{RV}/issuer/", params={"iss": ISS})
    return r.json() if r.status_code == 200 else None


def sources_of(srv):
    got = issuer(srv)
    return [c["source"] for c in got["sources"]] if got else []


def test_a_keycloak_clear_on_one_replica_lifts_only_keycloak_everywhere(
        make_replica, keys, mint):
    """DECISIONS D21 in cluster mode: the clear used to travel as a
    tombstone of the whole revocation. Entries now carry their source and
    origin; a clear removes Keycloak's contribution only, on every replica."""
    a, b = make_replica("a"), make_replica("b")
    now = int(time.time())
    old = mint.token(iat=now - 100)
    revoke(a, {"type": "issuer.revoked", "iss": ISS, "at": now - 30, "reason": "ops"})
    wait_for(lambda: denied(b, old), PATIENCE, "operator's revocation on b")
    got = issuer(b)
    assert (got["source"], got["reason"], got["origin"]) == ("admin", "ops", node_id(a))
    assert got["sources"] == [{"source": "admin", "revoked_at": now - 30,
                               "expires_at": now - 30 + 86400, "reason": "ops"}]

    keycloak_push(b, keys, now - 60)
    wait_for(lambda: sources_of(a) == ["admin", "keycloak"], PATIENCE, "keycloak's on a")
    got = issuer(a)
    assert (got["revoked_at"], got["source"]) == (now - 30, "admin")
    assert "origin" not in got          # in force: a's own, taken here

    keycloak_push(b, keys, 0)
    wait_for(lambda: sources_of(a) == ["admin"], PATIENCE, "keycloak's gone on a")
    assert sources_of(b) == ["admin"]
    for srv in (a, b):
        assert denied(srv, old)

    assert b.admin("DELETE", f"{RV}/issuer/", params={"iss": ISS}).status_code == 204
    wait_for(lambda: a.auth(old).status_code == 200, PATIENCE, "deleted on a")
    assert issuer(a) is None and b.auth(old).status_code == 200


def test_a_repeat_that_changes_nothing_makes_no_stream_entry(make_replica, redis):
    """Same source, same or older revoked_at: acknowledged, no new entry."""
    a = make_replica("a")
    now = int(time.time())
    ev = {"type": "session.revoked", "iss": ISS, "sid": "s-repeat", "at": now - 10}
    revoke(a, ev)
    wait_for(lambda: settled(a), 5, "published")
    n = int(redis.cli("XLEN", "revokd:test"))
    assert n == 1
    revoke(a, ev)
    revoke(a, dict(ev, at=now - 100))
    assert metric(a, "revokd_replication_outbox") == 0
    assert int(redis.cli("XLEN", "revokd:test")) == n
    # A later one is a change, and travels.
    revoke(a, dict(ev, at=now - 5))
    wait_for(lambda: int(redis.cli("XLEN", "revokd:test")) == n + 1, 5, "published")


def full_table(srv):
    """Every revocation with its in-force times and every source's times
    (origin aside: it names "taken here" differently on each replica)."""
    out, cursor = [], None
    while True:
        params = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        r = srv.admin("GET", RV, params=params)
        assert r.status_code == 200, r.text
        doc = r.json()
        for it in doc["items"]:
            srcs = tuple(sorted((s["source"], s["revoked_at"], s["expires_at"])
                                for s in it.get("sources", [])))
            out.append((it["type"], it["iss"], it["id"], it["revoked_at"],
                        it["expires_at"], srcs))
        cursor = doc["next_cursor"]
        if not cursor:
            return sorted(out)


def test_concurrent_revoke_and_delete_converge(make_replica):
    """Versioned changes (REFERENCE §7, docs/ARCHITECTURE.md): two replicas
    revoke and delete the same IDs at the same time, a bounded number of
    operations each; afterwards the three replicas' full tables (admin list)
    are identical - the later version won everywhere, whatever order the
    stream delivered the changes in. Four IDs and two churners per replica
    keep the race window open: the binary before versions failed it in one
    run of three (a delete taken while the other's re-revoke was still in
    flight stayed deleted on one replica only)."""
    import random
    import threading
    a, b, c = make_replica("a"), make_replica("b"), make_replica("c")
    ids = [f"race-{i}" for i in range(4)]
    exp = int(time.time()) + 3600
    errors = []

    def churn(srv, seed):
        rnd = random.Random(seed)
        try:
            for _ in range(200):
                jti = rnd.choice(ids)
                if rnd.random() < 0.55:
                    r = srv.admin("POST", RV, json={"type": "token.revoked", "iss": ISS,
                                                    "jti": jti, "exp": exp})
                    assert r.status_code == 201, r.text
                else:
                    r = srv.admin("DELETE", f"{RV}/token/{jti}", params={"iss": ISS})
                    assert r.status_code in (204, 404), r.text
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=churn, args=(srv, seed))
               for srv, seed in ((a, 1), (b, 2), (a, 3), (b, 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    def same():
        if not all(settled(s) for s in (a, b, c)):
            return None
        tables = [full_table(s) for s in (a, b, c)]
        return tables if tables[0] == tables[1] == tables[2] else None
    tables = wait_for(same, PATIENCE, "the three replicas hold the same table")
    print(f"{len(tables[0])} of {len(ids)} IDs revoked at the end")


def test_replication_threads_are_named(make_replica):
    """docs/OPERATIONS.md §2 "Threads": in cluster mode the stream's
    publisher and consumer carry their own names beside the store writer
    and the sweeper."""
    srv = make_replica("a")
    task = f"/proc/{srv.proc.pid}/task"
    names = sorted(open(f"{task}/{t}/comm").read().strip() for t in os.listdir(task))
    for name in ("rvk-store", "rvk-sweeper", "rvk-publish", "rvk-consume"):
        assert names.count(name) == 1, (name, names)
