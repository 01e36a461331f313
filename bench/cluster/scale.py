"""Redis's cost per revocation, and a new replica's catch-up (see scale.sh).

  scale.py N [KEYS]   one loopback redis-server (plain TCP, no
      persistence) and replica A (reconcile_interval 3600: no round in the
      window). A takes N revocations through POST /admin/v1/revocations
      (10,000 per request, 2 clients; 90% token.revoked, 10% session.revoked)
      and KEYS (default 10,000) key.revoked, all written to the stream and
      the keys hash by A's own publisher. Once A's outbox is empty:
        - the stream's and the keys hash's MEMORY USAGE (SAMPLES 0: every
          entry counted) and INFO memory used_memory, each / entries;
        - Redis's total_net_input_bytes over the load / entries: what one
          XADD (+ HSET for a key) costs on the wire into Redis;
      then replica B starts on an empty data dir: the time from its spawn
      until /readyz answers 200 and until it holds all N + KEYS, and
      Redis's total_net_output_bytes over that catch-up / entries: what
      one consumer reads per entry. Last, 2,000 revocations one per
      request on A while B tails the stream: Redis's net in and out per
      revocation (out: A's XADD replies and B's XREAD replies, one entry
      each, as at a low rate).
Every wait is bounded; /proc/loadavg is printed beside each figure.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from reconcile import BATCH, STREAM, Cluster, load, metric, net, wait_for  # noqa: E402
from reconcile import ic, tls_config  # noqa: E402


def info_memory(redis):
    st = dict(l.split(":", 1) for l in redis.cli("INFO", "memory").split() if ":" in l)
    return int(st["used_memory"])


def total(srv):
    return sum(int(metric(srv, f'revokd_revocations{{type="{t}"}}') or 0)
               for t in ("token", "session", "key"))


def events(first, n):
    now = int(time.time())
    for k in range(first, first + n):
        if k % 10 == 9:
            yield {"type": "session.revoked", "iss": ic.ISS, "sid": f"s-{k}"}
        else:
            yield {"type": "token.revoked", "iss": ic.ISS, "jti": f"t-{k:09d}",
                   "exp": now + 86400}


def post(srv, evs):
    import json
    s = ic.requests.Session()
    r = s.post(srv.admin_url + "/admin/v1/revocations", data=json.dumps({"events": evs}),
               headers={"Authorization": f"Bearer {srv.admin_token}",
                        "Content-Type": "application/json"}, timeout=300)
    assert r.status_code == 201, r.text


def main(n, keys):
    import concurrent.futures
    cl = Cluster()
    r = cl.redis
    try:
        a = cl.start("a", 3600)
        m0, (i0, _) = info_memory(r), net(r)
        t0 = time.perf_counter()
        chunks = [list(events(f, min(BATCH, n - f))) for f in range(0, n, BATCH)]
        chunks += [[{"type": "key.revoked", "iss": ic.ISS, "kid": f"kid-{k:07d}"}
                    for k in range(f, min(f + BATCH, keys))] for f in range(0, keys, BATCH)]
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            list(ex.map(lambda c: post(a, c), chunks))
        took = time.perf_counter() - t0
        print(f"A took {n} + {keys} keys in {took:.1f} s ({(n + keys) / took:.0f}/s, load {load()})",
              flush=True)
        t = wait_for(lambda: metric(a, "revokd_replication_outbox") == 0, 1800, "A's outbox empty")
        pub = time.perf_counter() - t0
        m1, (i1, _) = info_memory(r), net(r)
        xlen = int(r.cli("XLEN", STREAM))
        hlen = int(r.cli("HLEN", STREAM + ":keys"))
        ms = int(r.cli("MEMORY", "USAGE", STREAM, "SAMPLES", "0"))
        mh = int(r.cli("MEMORY", "USAGE", STREAM + ":keys", "SAMPLES", "0"))
        ent = n + keys
        print(f"in the stream {pub:.1f} s after the first request ({t:.1f} s after the last 201;"
              f" {ent / pub:.0f}/s); XLEN {xlen}, HLEN {hlen} (load {load()})")
        print(f"  MEMORY USAGE {STREAM}: {ms} B = {ms / xlen:.1f} B per entry")
        print(f"  MEMORY USAGE {STREAM}:keys: {mh} B = {mh / max(hlen, 1):.1f} B per key")
        print(f"  INFO memory used_memory: {m0} -> {m1} B, {(m1 - m0) / ent:.1f} B per revocation")
        print(f"  net into Redis over the load: {i1 - i0} B = {(i1 - i0) / ent:.1f} B per revocation"
              " (XADD, HSET for keys, the publisher's acks and polls)", flush=True)
        # A new replica: catch-up from the stream and the hash.
        _, o0 = net(r)
        t0 = time.perf_counter()
        wd = os.path.join(cl.work, "b")
        os.makedirs(wd, exist_ok=True)
        cfg = ic.base_config(wd, cl.keys, log_level="info", redis=tls_config(
            r, stream=STREAM, reconcile_interval=3600))
        b = cl.reps["b"] = ic.start_server(wd, cfg, wait=False)

        def ready_now():
            try:
                return b.session.get(b.url + "/readyz", timeout=5).status_code == 200
            except ic.requests.RequestException:
                return False
        wait_for(ready_now, 1800, "B ready")
        ready = time.perf_counter() - t0
        have = total(b)
        t = wait_for(lambda: total(b) >= ent, 1800, "B holding all")
        allin = time.perf_counter() - t0
        _, o1 = net(r)
        print(f"new replica B: /readyz 200 after {ready:.1f} s holding {have} of {ent};"
              f" all {ent} after {allin:.1f} s ({ent / allin:.0f}/s; load {load()})")
        print(f"  net out of Redis during the catch-up: {o1 - o0} B = {(o1 - o0) / ent:.1f} B"
              " per revocation read by one consumer", flush=True)
        # Live: one revocation per request, both replicas tailing.
        live = 2000
        time.sleep(2)
        i0, o0 = net(r)
        t0 = time.perf_counter()
        for k in range(live):
            post(a, list(events(n + k, 1)))
        wait_for(lambda: total(b) >= ent + live, 600, "B holding the live ones")
        el = time.perf_counter() - t0
        i1, o1 = net(r)
        print(f"live: {live} single revocations on A in {el:.1f} s, B tailing: net into Redis"
              f" {(i1 - i0) / live:.1f} B, out of Redis {(o1 - o0) / live:.1f} B per revocation"
              f" (out = A's XADD replies + B's XREAD replies, and both replicas' polls; load {load()})",
              flush=True)
    finally:
        cl.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
