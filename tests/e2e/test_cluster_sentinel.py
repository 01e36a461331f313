"""Cluster mode behind Redis Sentinel (REFERENCE §7, docs/OPERATIONS.md §8),
with Debian's redis-sentinel: one master, one replica and three sentinels,
all on 127.0.0.1.

- A failover (SENTINEL FAILOVER) in the middle of a steady stream of
  revocations taken by three revokd replicas: every acknowledged revocation
  is denied on every replica afterwards, with no restart - each replica asked
  the sentinels again after its connection was cut and now publishes to the
  new master. wait_replicas 1 means an entry leaves the outbox only once
  the Redis replica has it, so the failover cannot drop it.
- wait_replicas larger than the Redis replicas there are: the revocation is
  acknowledged (committed locally) but never leaves the outbox, and the log
  says why.

Bounded loops; generous polling deadlines, never a measured time."""
import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import ic
from redis_support import Redis

ISS = ic.ISS
RV = "/admin/v1/revocations"
STREAM = "revokd:sentinel"
MASTER = "revokd-master"
PATIENCE = 60  # a deadline for polling, never a measured bound


wait_for = ic.wait_for  # the suites' one polling helper


def cli(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                       text=True, timeout=10)
    return r.stdout


class SentinelSet:
    """A master, a replica of it, three sentinels watching MASTER."""

    def __init__(self, base):
        self.dirs = {n: os.path.join(base, n) for n in ("m", "r", "s0", "s1", "s2")}
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        self.master = Redis(self.dirs["m"])
        self.replica = Redis(self.dirs["r"],
                             args=("--replicaof", "127.0.0.1", str(self.master.port)))
        wait_for(lambda: "master_link_status:up" in self.replica.cli("INFO", "replication"),
                 PATIENCE, "the replica is in sync")
        self.ports = [ic.free_port() for _ in range(3)]
        self.procs = []
        for i, port in enumerate(self.ports):
            d = self.dirs[f"s{i}"]
            conf = os.path.join(d, "sentinel.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {d}\n"
                        f"sentinel monitor {MASTER} 127.0.0.1 {self.master.port} 2\n"
                        f"sentinel down-after-milliseconds {MASTER} 2000\n"
                        f"sentinel failover-timeout {MASTER} 20000\n")
            log = open(os.path.join(d, "sentinel.log"), "ab")
            self.procs.append(subprocess.Popen(["redis-sentinel", conf], stdout=log,
                                               stderr=subprocess.STDOUT, cwd=d))
        for port in self.ports:
            wait_for(lambda: cli(port, "PING").strip() == "PONG", PATIENCE, "a sentinel runs")
            # Each knows the replica and the two other sentinels.
            wait_for(lambda: str(self.replica.port) in cli(port, "SENTINEL", "replicas", MASTER),
                     PATIENCE, "a sentinel knows the replica")
            wait_for(lambda: cli(port, "SENTINEL", "sentinels", MASTER).count("runid") == 2,
                     PATIENCE, "a sentinel knows the others")

    def addrs(self):
        return [f"127.0.0.1:{p}" for p in self.ports]

    def master_port(self):
        out = cli(self.ports[0], "SENTINEL", "get-master-addr-by-name", MASTER).split()
        return int(out[1]) if len(out) == 2 else None

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
        self.replica.stop()
        self.master.stop()


@pytest.fixture
def sentinels(tmp_path):
    s = SentinelSet(str(tmp_path / "redis"))
    yield s
    s.stop()


def replica(tmp_path, name, keys, sentinels, **over):
    wd = os.path.join(str(tmp_path), name)
    os.makedirs(wd, exist_ok=True)
    redis = {"url": "redis://127.0.0.1:6379/0",   # the host is the sentinels' answer
             "sentinel": {"master_name": MASTER, "addrs": sentinels.addrs()},
             "wait_replicas": 1, "stream": STREAM}
    redis.update(over)
    cfg = ic.base_config(wd, keys, redis=redis)
    return ic.start_server(wd, cfg)


def test_failover_during_a_stream_of_revocations(tmp_path, keys, mint, sentinels):
    servers = [replica(tmp_path, n, keys, sentinels) for n in ("a", "b", "c")]
    pids = [s.proc.pid for s in servers]
    old_master, new_master = sentinels.master.port, sentinels.replica.port
    acked, errors = [], []
    halfway = threading.Event()

    def revoke_steadily():
        try:
            for i in range(120):
                srv = servers[i % 3]
                jti = str(uuid.uuid4())
                r = srv.admin("POST", RV, json={"type": "token.revoked", "iss": ISS,
                                                "jti": jti, "exp": int(time.time()) + 3600})
                assert r.status_code == 201, r.text
                acked.append(jti)
                if i == 40:
                    halfway.set()
                time.sleep(0.02)   # a steady stream, not a burst
        except Exception as e:  # reported by the main thread
            errors.append(e)
            halfway.set()

    t = threading.Thread(target=revoke_steadily)
    t.start()
    halfway.wait(timeout=PATIENCE)
    assert cli(sentinels.ports[0], "SENTINEL", "FAILOVER", MASTER).strip() == "OK"
    wait_for(lambda: sentinels.master_port() == new_master, PATIENCE,
             "the sentinels name the new master")
    t.join(timeout=300)
    assert not t.is_alive() and not errors, errors
    assert len(acked) == 120
    toks = [mint.token("RS256", jti=j) for j in acked]
    for srv in servers:
        for tok in toks:
            wait_for(lambda: srv.auth(tok).status_code == 401, PATIENCE,
                     "an acknowledged revocation is denied on every replica")
    # No restart; each publisher now talks to the new master.
    assert [s.proc.pid for s in servers] == pids and all(s.proc.poll() is None for s in servers)
    for srv in servers:
        text = srv.stderr_text()
        assert f'"publisher connected to redis","host":"127.0.0.1:{new_master}"' in text, \
            text[-3000:]
        assert f'"publisher connected to redis","host":"127.0.0.1:{old_master}"' in text
    # Everything reached the new master (and its replica, the old master).
    assert int(cli(new_master, "XLEN", STREAM).strip()) >= 120


def test_wait_replicas_holds_rows_until_confirmed(tmp_path, keys, mint, sentinels):
    """Two Redis replicas wanted, one exists: the revocation is taken (201,
    denied here) but stays in the outbox, and the stream holds it once."""
    a = replica(tmp_path, "a", keys, sentinels, wait_replicas=2)
    jti = str(uuid.uuid4())
    r = a.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": jti})
    assert r.status_code == 201, r.text
    assert a.auth(mint.token("RS256", jti=jti)).status_code == 401
    wait_for(lambda: a.stderr_text().count("redis replicas did not confirm a publish") >= 2,
             PATIENCE, "the shortfall logged, twice")
    assert ic.metric_value(ic.metrics_text(a), "revokd_replication_outbox") == 1
    # Published once; only WAIT is asked again (no copies pile up).
    assert cli(sentinels.master.port, "XLEN", STREAM).strip() == "1"
    ic.finish_server(a)
