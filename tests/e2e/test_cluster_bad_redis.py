"""What a Redis may answer that revokd must not take (REFERENCE §7,
§8): a server older than 6.2 (no XADD MINID), a server that answers INFO
without a version, one that answers garbage (not RESP), one that announces
a two-billion-element array; and, through a real redis-server, stream
entries that are malformed or name an issuer this replica does not have.

Each is refused and logged, counted in /metrics
(revokd_replication_connect_failures_total, revokd_replication_rejected_total),
never applied, never a crash (the harness examines every server), and the
replica keeps deciding. A server it cannot use keeps it not ready, with the
reason in /readyz. Polled with generous deadlines, never timed."""
import os
import socket
import threading
import time
import uuid

import pytest

from conftest import ic

ISS = ic.ISS
RV = "/admin/v1/revocations"
STREAM = "revokd:bad"
PATIENCE = 30


wait_for = ic.wait_for  # the suites' one polling helper


def bulk(text):
    b = text.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


ANSWERS = {
    "redis 6.0": lambda cmd: bulk("# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n")
    if b"INFO" in cmd else b"+OK\r\n",
    "no version": lambda cmd: bulk("# Server\r\nredis_mode:standalone\r\n")
    if b"INFO" in cmd else b"+OK\r\n",
    "garbage": lambda cmd: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "huge array": lambda cmd: b"*2000000000\r\n",
}
EXPECT = {   # in /readyz and in the log
    "redis 6.0": "redis 6.0 is too old: revokd needs 6.2 or later",
    "no version": "redis answered INFO without a redis_version",
    "garbage": "bad reply: Protocol error",
    "huge array": "bad reply: an array over 2^20 elements",
}


class FakeRedis:
    """A TCP server on 127.0.0.1 that answers every chunk it reads with
    answer(chunk) (revokd sends its connect commands one at a time)."""

    def __init__(self, answer):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.talk, args=(c,), daemon=True).start()

    def talk(self, c):
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                c.sendall(self.answer(data))
        except OSError:
            return

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def metric(srv, name):
    return ic.metric_value(ic.metrics_text(srv), name)


@pytest.mark.parametrize("case", list(ANSWERS))
def test_a_redis_it_cannot_use_is_refused(tmp_path, keys, mint, case):
    fake = FakeRedis(ANSWERS[case])
    wd = str(tmp_path / "a")
    os.makedirs(wd)
    cfg = ic.base_config(wd, keys, redis={"url": f"redis://127.0.0.1:{fake.port}/0",
                                          "stream": STREAM})
    a = ic.start_server(wd, cfg, wait=False)
    try:
        def says():
            try:
                r = a.session.get(a.url + "/readyz", timeout=10)
            except ic.requests.RequestException:
                return None
            err = r.json()["checks"].get("replication_error", "")
            return (r.status_code, r.json()["checks"]) if EXPECT[case] in err else None
        code, checks = wait_for(says, PATIENCE, f"/readyz says {EXPECT[case]!r}")
        assert code == 503 and checks["replication"] == "connecting", checks
        assert EXPECT[case] in a.stderr_text()
        assert metric(a, "revokd_replication_connect_failures_total") >= 1
        # Still deciding, and still taking revocations (kept in the outbox).
        ic.assert_allow(a.auth(mint.token("RS256", jti=str(uuid.uuid4()))))
        jti = str(uuid.uuid4())
        r = a.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": jti})
        assert r.status_code == 201, r.text
        assert a.auth(mint.token("RS256", jti=jti)).status_code == 401
        assert metric(a, "revokd_replication_outbox") == 1
    finally:
        ic.finish_server(a)
        fake.stop()


def xadd(redis, **fields):
    args = []
    for k, v in fields.items():
        args += [k, v]
    out = redis.cli("XADD", STREAM, "*", *args).strip()
    assert "-" in out, out
    return out


def test_bad_stream_entries_are_refused_and_counted(tmp_path, keys, mint, redis):
    wd = str(tmp_path / "a")
    os.makedirs(wd)
    cfg = ic.base_config(wd, keys, redis={"url": redis.url, "stream": STREAM})
    a = ic.start_server(wd, cfg)
    try:
        good = str(uuid.uuid4())
        stranger = str(uuid.uuid4())
        never = int(time.time()) + 3600
        common = dict(type="token", revoked_at=str(int(time.time())), expires_at=str(never),
                      source="admin", origin="f" * 32)
        xadd(redis, op="revoke", iss=ISS, id="x" * 256, **common)          # ID over 255
        xadd(redis, op="bogus", iss=ISS, id=str(uuid.uuid4()), **common)
        xadd(redis, op="revoke", iss="https://not-configured.example", id=stranger, **common)
        xadd(redis, op="delete", iss="https://not-configured.example", id=stranger,
             type="token", origin="f" * 32)
        xadd(redis, op="revoke", iss=ISS, id=str(uuid.uuid4()))            # fields missing
        xadd(redis, op="revoke", iss=ISS, id=good, **common)
        tok = mint.token("RS256", jti=good)
        wait_for(lambda: a.auth(tok).status_code == 401, PATIENCE,
                 "the good entry after the bad ones applied")
        assert metric(a, "revokd_replication_rejected_total") >= 5
        assert "stream entry for an unconfigured issuer skipped" in a.stderr_text()
        ids = {it["id"] for it in a.admin("GET", RV + "?limit=100").json()["items"]}
        assert good in ids and stranger not in ids and "x" * 256 not in ids
        ic.assert_allow(a.auth(mint.token("RS256", jti=str(uuid.uuid4()))))
    finally:
        ic.finish_server(a)
