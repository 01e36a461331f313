"""REFERENCE §4 durability: a 2xx means committed. Clients send revocations
concurrently while revokd is killed with SIGKILL at a random moment; after
the restart every revocation that was answered 201 is there and denies.
Twenty crashes per run, on one data folder, so recovery after recovery is
exercised too. The random seed is printed (REVOKD_CRASH_SEED replays a run).
"""
import os
import random
import signal
import threading
import time

import requests

from conftest import ISS, run_threads

ROUNDS = 20
CLIENTS = 8
RV = "/admin/v1/revocations"


def client(url, token, prefix, acked, stop, rnd_seed):
    rnd = random.Random(rnd_seed)
    s = requests.Session()
    h = {"Authorization": f"Bearer {token}"}
    i = 0
    while not stop.is_set():
        n = 1 if rnd.random() < 0.7 else rnd.randint(2, 20)
        evs = []
        for _ in range(n):
            i += 1
            kind = rnd.random()
            if kind < 0.8:
                evs.append(("token", {"type": "token.revoked", "iss": ISS, "jti": f"{prefix}-{i}"}))
            elif kind < 0.9:
                evs.append(("session", {"type": "session.revoked", "iss": ISS, "sid": f"{prefix}-{i}"}))
            else:
                evs.append(("subject", {"type": "subject.revoked", "iss": ISS, "sub": f"{prefix}-{i}"}))
        body = {"events": [e for _, e in evs]} if n > 1 else evs[0][1]
        try:
            r = s.post(url + RV, json=body, headers=h, timeout=10)
        except requests.RequestException:
            return  # the server is gone; this request was never acknowledged
        if r.status_code == 201:
            got = r.json()["revocations"]
            assert len(got) == n
            for (t, e), g in zip(evs, got):
                key = (t, e.get("jti") or e.get("sid") or e.get("sub"))
                assert (g["type"], g["id"]) == key
                acked.append(key)
        else:
            # only the end of the process may refuse (never a 4xx)
            assert r.status_code == 503, (r.status_code, r.text)


def stored(srv):
    out, cursor = set(), None
    while True:
        params = {"limit": 1000, "iss": ISS}
        if cursor:
            params["cursor"] = cursor
        r = srv.admin("GET", RV, params=params)
        assert r.status_code == 200, r.text
        out.update((x["type"], x["id"]) for x in r.json()["items"])
        cursor = r.json()["next_cursor"]
        if not cursor:
            return out


def test_kill_9_loses_no_acknowledged_revocation(spawn, mint):
    seed = int(os.environ.get("REVOKD_CRASH_SEED", time.time_ns() % 1_000_000))
    print(f"crash test seed {seed}")
    rnd = random.Random(seed)
    srv = spawn.new(threads=4)
    acked_all = []
    for rnd_no in range(ROUNDS):
        acked, stop = [], threading.Event()
        # A client's assertion (a 4xx, a wrong answer) is handed back here.
        threads, errors = run_threads(
            client, [(srv.admin_url, srv.admin_token, f"r{rnd_no}c{c}",
                      acked, stop, rnd.random()) for c in range(CLIENTS)])
        time.sleep(rnd.uniform(0.02, 0.6))
        srv.proc.kill()                   # SIGKILL, mid-traffic
        srv.proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=30)
            assert not t.is_alive()
        assert not errors, f"seed {seed} round {rnd_no}: a client failed: {errors[0]!r}"
        acked_all += acked
        srv = spawn.restart(srv, signal.SIGKILL)
        have = stored(srv)
        missing = [k for k in acked_all if k not in have]
        assert not missing, (f"seed {seed} round {rnd_no}: {len(missing)} acknowledged "
                             f"revocations lost, e.g. {missing[:5]}")
        # and they deny: a sample through /auth, tokens issued before the revocation
        for t, ident in rnd.sample(acked_all, min(10, len(acked_all))):
            claim = {"token": "jti", "session": "sid", "subject": "sub"}[t]
            kw = {claim: ident}
            if t != "token":
                kw["iat"] = int(time.time()) - 700  # before any revocation of this run
                kw["exp"] = int(time.time()) + 60
            r = srv.auth(mint.token("HS256", **kw))
            assert r.status_code == 401, (t, ident, r.status_code)
            assert r.json()["error_description"] == f"{t} revoked"
    print(f"{len(acked_all)} acknowledged revocations over {ROUNDS} crashes")
    assert len(acked_all) > 0

