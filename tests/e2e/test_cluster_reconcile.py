"""Reconciliation (REFERENCE §7, store/replica.h): convergence that does not
rest on Redis keeping every entry. Replica c is down while a and b revoke,
revoke a key, and delete what c still holds; then Redis loses the stream
(FLUSHALL, or the stream key deleted) and c comes back. The stream can no
longer tell c anything; the digests in <stream>:digests can. Every replica
must end with the union of what any of them acknowledged - c included, and
what c took after its return - and the delete must win over c's stale copy
everywhere (c republishes its copy with its old version, which loses to the
tombstone; b republishes the tombstone, which c applies).

Also: a digest in another format in the hash is refused, logged and
counted, and changes nothing. Polled with a generous deadline (a bound on a
hung test, several reconcile intervals), never timed."""
import os
import threading
import time
import uuid

import pytest
import requests

from conftest import ic
from redis_support import tls_config

ISS = ic.ISS
RV = "/admin/v1/revocations"
STREAM = "revokd:reconcile"
PATIENCE = 60


wait_for = ic.wait_for  # the suites' one polling helper


@pytest.fixture
def replicas(tmp_path, keys, redis):
    started = []

    def make(name):
        wd = os.path.join(str(tmp_path), name)
        os.makedirs(wd, exist_ok=True)
        cfg = ic.base_config(wd, keys, redis=tls_config(redis, stream=STREAM,
                                                        reconcile_interval=1))
        srv = ic.start_server(wd, cfg)
        started.append(srv)
        return srv
    yield make
    ic.finish_all(started)


def revoke(srv, jti):
    r = srv.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": jti,
                                    "exp": int(time.time()) + 3600})
    assert r.status_code == 201, r.text


def metric(srv, name):
    return ic.metric_value(ic.metrics_text(srv), name)


def table(srv):
    items, params = [], {"limit": 1000}
    while True:
        r = srv.admin("GET", RV, params=params)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if not r.json()["next_cursor"]:
            return sorted((it["type"], it["iss"], it["id"], it["expires_at"])
                          for it in items)
        params["cursor"] = r.json()["next_cursor"]


@pytest.mark.parametrize("loss", ["FLUSHALL", "DEL stream"])
def test_every_replica_ends_with_the_union(replicas, redis, mint, loss):
    a, b, c = replicas("a"), replicas("b"), replicas("c")
    k0, d = str(uuid.uuid4()), str(uuid.uuid4())
    revoke(a, k0)
    revoke(a, d)
    tk0, td = mint.token(jti=k0), mint.token(jti=d)
    for srv in (a, b, c):
        for tok in (tk0, td):
            wait_for(lambda: srv.auth(tok).status_code == 401, PATIENCE, "shared at first")
    ic.finish_server(c)                         # c is down from here
    x1, x2, x3 = (str(uuid.uuid4()) for _ in range(3))
    revoke(a, x1)
    revoke(a, x2)
    r = a.admin("POST", RV, json={"type": "key.revoked", "iss": ISS, "kid": "gone-kid"})
    assert r.status_code == 201, r.text
    r = b.admin("DELETE", f"{RV}/token/{d}", params={"iss": ISS})
    assert r.status_code == 204, r.text
    revoke(b, x3)
    for srv in (a, b):
        wait_for(lambda: metric(srv, "revokd_replication_outbox") == 0, PATIENCE, "published")
    wait_for(lambda: len(table(a)) == len(table(b)) == 5, PATIENCE, "a and b agree")
    if loss == "FLUSHALL":
        assert redis.cli("FLUSHALL").strip() == "OK"
    else:
        assert redis.cli("DEL", STREAM).strip() == "1"
    c = replicas("c")                           # back, same data dir
    y = str(uuid.uuid4())
    revoke(c, y)
    want = sorted([("token", ISS, j, None) for j in (k0, x1, x2, x3, y)]
                  + [("key", ISS, "gone-kid", None)])

    def converged():
        tables = [table(s) for s in (a, b, c)]
        if not tables[0] == tables[1] == tables[2]:
            return None
        return tables[0]
    got = wait_for(converged, PATIENCE, "the three replicas hold the union")
    assert [(t, i, j) for t, i, j, _ in got] == [(t, i, j) for t, i, j, _ in want], got
    for srv in (a, b, c):
        assert srv.auth(td).status_code == 200      # the delete won everywhere
        for j in (k0, x1, x2, x3, y):
            assert srv.auth(mint.token(jti=j)).status_code == 401
    assert "reconciliation republished what differs" in c.stderr_text() + \
        a.stderr_text() + b.stderr_text()


def test_a_foreign_digest_is_refused_and_counted(replicas, redis, mint):
    a = replicas("a")
    now_ms = str(int(time.time() * 1000))
    for bad in ("d0 1 5 64 00", "d3 " + now_ms + " 5 64 zz",
                "d3 1 9 9 " + "0" * 16 * 81, "garbage",
                "d1 " + now_ms + " 5 64 " + "0" * 16 * 320,    # the format before D33
                "d2 " + now_ms + " 5 64 " + "0" * 16 * 320):   # before D36
        redis.cli("HSET", STREAM + ":digests", "other-" + str(len(bad)), bad)
    wait_for(lambda: (metric(a, "revokd_replication_rejected_total") or 0) >= 6, PATIENCE,
             "the foreign digests refused")
    assert "digest refused" in a.stderr_text()
    assert "reconciliation republished" not in a.stderr_text()
    ic.assert_allow(a.auth(mint.token(jti=str(uuid.uuid4()))))


def test_a_gone_replica_s_digests_are_deleted(replicas, redis, mint):
    """A replica gone for good leaves its fields in <stream>:digests; they
    would be read by every round of every replica for ever (a data dir not
    kept means a new node ID at each start). Ten rounds old, they are
    deleted; a replica's own two fields stay (DECISIONS D36)."""
    a = replicas("a")
    old_ms = int(time.time()) * 1000 - 3600 * 1000
    digest = "d3 %d 5 64 %s" % (old_ms, "0" * 16 * 5 * 64)
    redis.cli("HSET", STREAM + ":digests", "gone-node:0", digest)
    wait_for(lambda: (metric(a, "revokd_replication_reconcile_rounds_total") or 0) >= 2,
             PATIENCE, "two rounds")
    fields = redis.cli("HKEYS", STREAM + ":digests").split()
    assert "gone-node:0" not in fields, fields
    own = [f for f in fields if f.endswith(":0") or f.endswith(":1")]
    assert len(own) == 2 and own[0][:-2] == own[1][:-2], fields
    assert (metric(a, "revokd_replication_rejected_total") or 0) == 0
    assert "reconciliation republished" not in a.stderr_text()


def test_a_missed_re_revocation_is_repaired(replicas, redis, mint):
    """A re-revocation (the same subject and source with a later `at`: a
    merge, no new contribution) that replica b missed while it was down,
    with the stream lost since: reconciliation still finds the difference
    (the digest hashes each contribution's last version, DECISIONS D33),
    and b ends denying the tokens a denies."""
    a, b = replicas("a"), replicas("b")
    now = int(time.time())

    def subject(srv, at):
        r = srv.admin("POST", RV, json={"type": "subject.revoked", "iss": ISS,
                                        "sub": "alice", "at": at})
        assert r.status_code == 201, r.text
    subject(a, now - 100)
    early, mid = mint.token(sub="alice", iat=now - 200), mint.token(sub="alice", iat=now - 50)
    for srv in (a, b):
        wait_for(lambda: srv.auth(early).status_code == 401, PATIENCE, "shared at first")
        assert srv.auth(mid).status_code == 200
    ic.finish_server(b)                         # b is down from here
    subject(a, now)                             # tokens issued before now, too
    assert a.auth(mid).status_code == 401
    wait_for(lambda: metric(a, "revokd_replication_outbox") == 0, PATIENCE, "published")
    assert redis.cli("FLUSHALL").strip() == "OK"
    b = replicas("b")                           # back, same data dir
    assert b.auth(mid).status_code == 200       # what it had
    wait_for(lambda: b.auth(mid).status_code == 401, PATIENCE, "b holds the re-revocation")
    assert a.auth(early).status_code == b.auth(early).status_code == 401
    assert "reconciliation republished what differs" in a.stderr_text() + b.stderr_text()


class Traffic:
    """Revocations into the given replicas in turn, ten a second, on a
    thread of its own (its own HTTP connections), until stopped; at most
    3 x PATIENCE seconds. Every jti it got a 201 for is in `taken`."""

    def __init__(self, servers):
        self.servers, self.taken, self.errors = servers, [], []
        self.lock = threading.Lock()    # held for each request
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        deadline, i = time.monotonic() + 3 * PATIENCE, 0
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            jti = str(uuid.uuid4())
            with self.lock:
                self.send(self.servers[i % len(self.servers)], jti)
            i += 1
            self.stop_ev.wait(0.1)

    def send(self, srv, jti):
        try:
            r = requests.post(srv.admin_url + RV, timeout=30, json={
                "type": "token.revoked", "iss": ISS, "jti": jti,
                "exp": int(time.time()) + 3600},
                headers={"Authorization": f"Bearer {srv.admin_token}"})
            if r.status_code == 201:
                self.taken.append(jti)
            else:
                self.errors.append(r.text)
        except requests.RequestException as e:
            self.errors.append(str(e))

    def stop(self):
        self.stop_ev.set()
        self.thread.join()
        assert not self.errors, self.errors[:3]


def test_a_loss_is_repaired_while_revocations_keep_coming(replicas, redis, mint):
    """Reconciliation under steady traffic (DECISIONS D36). Rounds used to
    be deferred whenever a row waited in the outbox, which at ten
    revocations a second was every round: a replica that lost what the
    stream held was never repaired while traffic went on. And a digest
    compared with one another replica wrote up to an interval earlier
    differed wherever a change came between the two, so with the deferral
    gone every round republished buckets nothing was missing from. Now:
    first, traffic alone republishes nothing; then b misses a revocation
    while down, the stream is lost, and b ends denying it while the
    traffic goes on; at the end both hold the same table, and further
    rounds republish nothing more (a repair is not repeated)."""
    a, b = replicas("a"), replicas("b")

    def rounds(srv):
        return metric(srv, "revokd_replication_reconcile_rounds_total") or 0

    def republished(srv):
        return metric(srv, "revokd_replication_republished_total")
    traffic = Traffic([a, b])
    try:
        # Five rounds of traffic alone (reconcile_interval 1) on each.
        for srv in (a, b):
            wait_for(lambda: rounds(srv) >= 5, PATIENCE, "five rounds")
        assert republished(a) == republished(b) == 0
        assert "reconciliation republished" not in a.stderr_text() + b.stderr_text()
        with traffic.lock:
            traffic.servers = [a]
            ic.finish_server(b)                 # b is down from here
        x = str(uuid.uuid4())
        revoke(a, x)
        wait_for(lambda: metric(a, "revokd_replication_outbox") == 0, PATIENCE, "published")
        assert redis.cli("FLUSHALL").strip() == "OK"
        b = replicas("b")                       # back, same data dir
        with traffic.lock:
            traffic.servers = [a, b]
        tx = mint.token(jti=x)
        assert b.auth(tx).status_code == 200    # what it had
        wait_for(lambda: b.auth(tx).status_code == 401, PATIENCE,
                 "b holds what it missed, with traffic still coming")
        assert traffic.thread.is_alive()
    finally:
        traffic.stop()
    assert "reconciliation republished what differs" in a.stderr_text() + b.stderr_text()
    want = len(traffic.taken) + 1

    def agree():
        ta, tb = table(a), table(b)
        return ta == tb and len(ta) == want
    wait_for(agree, PATIENCE, "a and b hold the same table")
    done = {s: (rounds(s), republished(s)) for s in (a, b)}
    assert sum(r for _, r in done.values()) > 0
    for srv in (a, b):
        wait_for(lambda: rounds(srv) >= done[srv][0] + 3, PATIENCE, "three more rounds")
        assert republished(srv) == done[srv][1], "a repair was repeated"
