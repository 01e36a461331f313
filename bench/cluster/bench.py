"""Cluster benchmark driver (see run.sh). For each transport (plain TCP,
then TLS: rediss:// to the same redis-server build with --tls-port and a CA
made for the run), starts one redis-server and two replicas A and B on
loopback, like tests/e2e, then:
  1. propagation: N times, revoke one jti on A (admin API), and from the
     2xx on, poll B's /auth with that token until it answers 401;
  2. burst: 20 batches of 1,000 session revocations sent to A by 4 clients
     at once; time from the first request to A's outbox drained (stream
     append rate) and to B holding all of them (end-to-end rate).
"""
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))
from conftest import ic  # noqa: E402
from redis_support import CertAuthority, Redis, tls_config  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
TRANSPORTS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["plain", "tls"]


def metric(srv, name):
    for line in srv.session.get(srv.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def run(transport):
    work = tempfile.mkdtemp(prefix="rvk_cluster_bench_")
    tls = CertAuthority(os.path.join(work, "pki")) if transport == "tls" else None
    redis = Redis(work, tls=tls)
    keys = ic.Keys()
    mint = ic.Minter(keys)
    reps = []
    try:
        for name in ("a", "b"):
            wd = os.path.join(work, name)
            os.makedirs(wd)
            cfg = ic.base_config(wd, keys, redis=tls_config(redis, stream="revokd:bench"),
                                 log_level="warn")
            reps.append(ic.start_server(wd, cfg))
        a, b = reps
        toks = []
        for _ in range(N):
            jti = str(uuid.uuid4())
            toks.append((jti, mint.token(alg="HS256", jti=jti)))
        delays = []
        for jti, tok in toks:
            r = a.admin("POST", "/admin/v1/revocations",
                        json={"type": "token.revoked", "iss": ic.ISS, "jti": jti,
                              "exp": int(time.time()) + 3600})
            t0 = time.perf_counter()
            assert r.status_code == 201, r.text
            while b.auth(tok).status_code != 401:
                if time.perf_counter() - t0 > 5:
                    raise SystemExit("no propagation within 5 s")
            delays.append((time.perf_counter() - t0) * 1000)
        delays.sort()
        p50 = statistics.median(delays)
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]

        batches, per = 20, 1000

        def send(i):
            body = {"events": [{"type": "session.revoked", "iss": ic.ISS,
                                "sid": f"burst-{i}-{k}"} for k in range(per)]}
            s = ic.requests.Session()
            r = s.post(a.admin_url + "/admin/v1/revocations", data=json.dumps(body),
                       headers={"Authorization": f"Bearer {a.admin_token}",
                                "Content-Type": "application/json"}, timeout=60)
            assert r.status_code == 201, r.text

        total = batches * per
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            list(ex.map(send, range(batches)))
        t_ack = time.perf_counter() - t0
        t_pub = t_b = None
        while t_b is None or t_pub is None:
            now = time.perf_counter() - t0
            if t_pub is None and metric(a, "revokd_replication_outbox") == 0:
                t_pub = now
            if t_b is None and (metric(b, 'revokd_revocations{type="session"}') or 0) >= total:
                t_b = now
            if now > 120:
                raise SystemExit("burst did not drain within 120 s")
            time.sleep(0.005)
        xlen = int(redis.cli("XLEN", "revokd:bench"))
        print(f"[{transport}] propagation A 2xx -> B deny, {N} revocations: "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {delays[-1]:.2f} ms")
        print(f"[{transport}] burst {total} revocations in {batches} batches of {per}, 4 clients:")
        print(f"  acknowledged by A in {t_ack:.2f} s ({total / t_ack:.0f}/s)")
        print(f"  in the stream (A's outbox empty) after {t_pub:.2f} s "
              f"({total / t_pub:.0f}/s)")
        print(f"  applied on B after {t_b:.2f} s ({total / t_b:.0f}/s)")
        print(f"  stream length {xlen}")
    finally:
        for s in reps:
            s.stop()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    for transport in TRANSPORTS:
        run(transport)


if __name__ == "__main__":
    main()
