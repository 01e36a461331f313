"""Reconciliation cost and repair time (see reconcile.sh). One loopback
redis-server (plain TCP), replicas started like bench.py's.

  cost N [interval] [rounds]   two replicas A and B holding the same N
      session revocations (taken by A through the admin API, 10,000 per
      request, applied by B from the stream) with reconcile_interval 3600
      (no round in the window): idle CPU of each over `rounds` x interval
      seconds; then both restarted with reconcile_interval `interval`: CPU
      of each over `rounds` rounds (counted by the time stamp of its digest
      in <stream>:digests), minus the idle rate, / rounds; Redis's
      total_net_input/output_bytes over the same windows; the digest's size.
  flush N [interval]           three replicas A, B, C (interval 3600 while
      loading, then `interval`): N/2 revoked on A, all three in sync; C
      stopped; N/2 more on A. (a) A and B in sync: FLUSHALL, watch the
      counts and XLEN for 3 intervals. (b) FLUSHALL again, then C (which
      missed N/2, now gone from the stream) started at once: time from the
      FLUSHALL until A, B and C each hold N, and XLEN then; then XLEN,
      rows republished (from the replicas' info log) and counts once an
      interval for 3 intervals.
Every wait is bounded; /proc/loadavg is printed beside each figure.
"""
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))
from conftest import ic  # noqa: E402
from redis_support import Redis, tls_config  # noqa: E402

STREAM = "revokd:bench"
BATCH = 10000


def load():
    return open("/proc/loadavg").read().split()[0]


def cpu_s(srv):
    f = open(f"/proc/{srv.proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def metric(srv, name):
    for line in srv.session.get(srv.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def count(srv):
    return int(metric(srv, 'revokd_revocations{type="session"}') or 0)


def republished(srv):
    """Rows republished by reconciliation (its info log line; no metric)."""
    rows = 0
    for line in srv.stderr_text().splitlines():
        if "reconciliation republished" in line:
            rows += int(json.loads(line).get("rows", 0))
    return rows


def node(srv):
    """The replica's node ID (its "cluster mode" log line)."""
    return [json.loads(l)["node"] for l in srv.stderr_text().splitlines()
            if '"cluster mode"' in l][-1]


def net(redis):
    st = dict(l.split(":", 1) for l in redis.cli("INFO", "stats").split() if ":" in l)
    return int(st["total_net_input_bytes"]), int(st["total_net_output_bytes"])


def wait_for(cond, limit, what):
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > limit:
            raise SystemExit(f"timeout ({limit} s): {what}")
        time.sleep(0.05)
    return time.perf_counter() - t0


class Cluster:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="rvk_reconcile_bench_")
        self.redis = Redis(self.work)
        self.keys = ic.Keys()
        self.reps = {}

    def start(self, name, interval):
        wd = os.path.join(self.work, name)
        os.makedirs(wd, exist_ok=True)
        cfg = ic.base_config(wd, self.keys, log_level="info", redis=tls_config(
            self.redis, stream=STREAM, reconcile_interval=interval))
        self.reps[name] = ic.start_server(wd, cfg)
        return self.reps[name]

    def stop(self, name):
        self.reps.pop(name).stop()

    def revoke(self, srv, first, n):
        def send(i):
            body = {"events": [{"type": "session.revoked", "iss": ic.ISS, "sid": f"s-{k}"}
                               for k in range(i, min(i + BATCH, first + n))]}
            s = ic.requests.Session()
            r = s.post(srv.admin_url + "/admin/v1/revocations", data=json.dumps(body),
                       headers={"Authorization": f"Bearer {srv.admin_token}",
                                "Content-Type": "application/json"}, timeout=300)
            assert r.status_code == 201, r.text
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            list(ex.map(send, range(first, first + n, BATCH)))
        return time.perf_counter() - t0

    def close(self):
        for s in self.reps.values():
            s.stop()
        self.redis.stop()
        shutil.rmtree(self.work, ignore_errors=True)


# Each digest's node ID and time stamp, not the digest itself (5 kB), so
# that polling adds little to Redis's byte counters.
STAMPS = ("local t = {} local h = redis.call('HGETALL', KEYS[1]) for i = 1, #h, 2"
          " do t[#t + 1] = h[i] .. ' ' .. string.match(h[i + 1], '^d%d+ (%d+)') end return t")


def stamps(redis):
    out = redis.cli("EVAL", STAMPS, "1", STREAM + ":digests").split()
    return dict(zip(out[0::2], out[1::2]))


def observe(redis, rounds, limit):
    """Polls the digests' stamps once a second until every node made
    `rounds` rounds (or for `limit` s when rounds is None); the same
    polling in the idle and in the measured window."""
    last, seen, t0 = stamps(redis), {}, time.time()
    while True:
        time.sleep(1)
        now = stamps(redis)
        for nd, ms in now.items():
            if last.get(nd) != ms:
                seen[nd] = seen.get(nd, 0) + 1
        last = now
        el = time.time() - t0
        if rounds is None and el >= limit:
            return seen, el
        if rounds is not None and len(seen) >= 2 and min(seen.values()) >= rounds:
            return seen, el
        if el > limit:
            raise SystemExit(f"rounds not seen within {limit} s: {seen}")


def cost(n, interval, rounds):
    cl = Cluster()
    try:
        a, b = cl.start("a", 3600), cl.start("b", 3600)
        t = cl.revoke(a, 0, n)
        print(f"loaded {n} on A in {t:.1f} s (load {load()})", flush=True)
        t = wait_for(lambda: count(b) >= n and metric(a, "revokd_replication_outbox") == 0,
                     1800, "B holding all")
        print(f"B holds {n} {t:.1f} s later; XLEN {cl.redis.cli('XLEN', STREAM).strip()}",
              flush=True)
        window = rounds * interval
        time.sleep(2)
        c0, n0, l0 = {k: cpu_s(s) for k, s in cl.reps.items()}, net(cl.redis), load()
        _, window = observe(cl.redis, None, window)
        c1, n1, l1 = {k: cpu_s(s) for k, s in cl.reps.items()}, net(cl.redis), load()
        idle = {k: (c1[k] - c0[k]) / window for k in c0}
        idle_net = [(y - x) / window for x, y in zip(n0, n1)]
        print(f"idle (reconcile_interval 3600) over {window:.1f} s: CPU/s "
              + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in idle.items())
              + f"; redis net in/out {idle_net[0]:.0f}/{idle_net[1]:.0f} B/s"
              f" (load {l0} -> {l1})", flush=True)
        for k in ("a", "b"):
            cl.stop(k)
        t0 = time.perf_counter()
        a, b = cl.start("a", interval), cl.start("b", interval)
        print(f"restarted with reconcile_interval {interval} in "
              f"{time.perf_counter() - t0:.1f} s (load {load()})", flush=True)
        observe(cl.redis, 1, 3 * interval + 120)      # a first round of each
        c0, n0, l0 = {k: cpu_s(s) for k, s in cl.reps.items()}, net(cl.redis), load()
        seen, el = observe(cl.redis, rounds, rounds * interval * 3 + 120)
        nodes = list(seen)
        rn = {k: seen[node(s)] for k, s in cl.reps.items()}   # rounds, by replica
        c1, n1, l1 = {k: cpu_s(s) for k, s in cl.reps.items()}, net(cl.redis), load()
        per = {k: ((c1[k] - c0[k]) - idle[k] * el) / rn[k] for k in c0}
        raw = {k: (c1[k] - c0[k]) / rn[k] for k in c0}
        allr = sum(rn.values())   # bytes: per round of one replica
        wire = [((y - x) - i * el) / allr for x, y, i in zip(n0, n1, idle_net)]
        dsize = [int(cl.redis.cli("HSTRLEN", STREAM + ":digests", nd)) for nd in nodes]
        mem = cl.redis.cli("MEMORY", "USAGE", STREAM + ":digests").strip()
        repub = [republished(s) for s in (a, b)]
        print(f"reconcile rounds {rn} over {el:.1f} s "
              f"(interval {interval} s), {n} revocations each (load {l0} -> {l1})")
        print("  CPU per round per replica (minus idle): "
              + ", ".join(f"{k} {v * 1000:.0f} ms (raw {raw[k] * 1000:.0f} ms)"
                          for k, v in per.items()))
        print(f"  redis net per replica round (minus idle): in {wire[0]:.0f} B,"
              f" out {wire[1]:.0f} B; digest field {dsize} B each;"
              f" MEMORY USAGE {STREAM}:digests {mem} B; republished {repub}")
    finally:
        cl.close()


def flush(n, interval):
    cl = Cluster()
    r = cl.redis
    try:
        a, b, c = (cl.start(k, 3600) for k in "abc")
        h = n // 2
        cl.revoke(a, 0, h)
        wait_for(lambda: all(count(s) >= h for s in (a, b, c)), 600, "half everywhere")
        cl.stop("c")
        cl.revoke(a, h, n - h)
        wait_for(lambda: count(b) >= n and metric(a, "revokd_replication_outbox") == 0,
                 600, "B holding all")
        cl.stop("a"), cl.stop("b")
        a, b = cl.start("a", interval), cl.start("b", interval)
        wait_for(lambda: len(stamps(r)) >= 2, 3 * interval + 60, "first digests")
        print(f"A, B hold {count(a)}, {count(b)}; C (down) {h}; XLEN {r.cli('XLEN', STREAM).strip()};"
              f" reconcile_interval {interval} s (load {load()})", flush=True)
        # (a) in sync
        r.cli("FLUSHALL")
        t0 = time.perf_counter()
        xl = []
        while time.perf_counter() - t0 < 3 * interval + 2:
            time.sleep(interval / 2)
            xl.append(int(r.cli("XLEN", STREAM)))
        print(f"(a) FLUSHALL with A, B in sync: after {3 * interval + 2} s counts "
              f"{count(a)}, {count(b)}; XLEN every {interval / 2} s: {xl} (load {load()})",
              flush=True)
        # (b) C missed half, and the stream that held it is gone
        r.cli("FLUSHALL")
        t0 = time.perf_counter()
        c = cl.start("c", interval)
        tc = time.perf_counter() - t0
        done = {}
        while len(done) < 3:
            for k, s in (("a", a), ("b", b), ("c", c)):
                if k not in done and count(s) >= n:
                    done[k] = time.perf_counter() - t0
            if time.perf_counter() - t0 > 20 * interval + 120:
                raise SystemExit(f"no convergence: {done}, C {count(c)}")
            time.sleep(0.05)
        xlen = int(r.cli("XLEN", STREAM))
        print(f"(b) FLUSHALL, then C (holding {h}, started in {tc:.1f} s): all hold {n} after "
              + ", ".join(f"{k} {v:.1f} s" for k, v in done.items())
              + f"; XLEN then {xlen} (load {load()})", flush=True)
        # Does republishing stop once all agree? XLEN and rows republished
        # (A, B, C) once an interval for 3 intervals.
        for _ in range(3):
            time.sleep(interval)
            print(f"  +{time.perf_counter() - t0:.0f} s: XLEN {r.cli('XLEN', STREAM).strip()},"
                  f" republished {[republished(s) for s in (a, b, c)]},"
                  f" counts {[count(s) for s in (a, b, c)]} (load {load()})", flush=True)
    finally:
        cl.close()


if __name__ == "__main__":
    what, n = sys.argv[1], int(sys.argv[2])
    iv = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    if what == "cost":
        cost(n, iv, int(sys.argv[4]) if len(sys.argv) > 4 else 6)
    else:
        flush(n, iv)
