"""Cluster mode through a Redis that asks for credentials (docs/OPERATIONS.md
§8 "Running three replicas"): the URL comes from REVOKD_REDIS_URL or
--redis-url (both win over the file; the flag over the variable), AUTH is
sent with the URL's password (default user, `:password@`) or user and
password (an ACL user made with exactly the ACL line the docs give), and
SELECT with its db number. Two replicas converge through one real
redis-server configured that way. Propagation is polled with a generous
deadline (a bound on a hung test, not a speed claim)."""
import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import ic

ISS = ic.ISS
RV = "/admin/v1/revocations"
STREAM = "revokd:auth"
ADMIN_PW = "adm-Secret-0123"
# '@', ':' and '/' must be %-escaped in the URL (docs/OPERATIONS.md §8).
ACL_PW = "S3cret@with:odd/chars"
ACL_PW_URL = "S3cret%40with%3Aodd%2Fchars"
# The ACL rules of the redis.conf `user revokd ...` line in docs/OPERATIONS.md
# §8, verbatim but for the password.
DOC_ACL = ("on >{pw} ~revokd:* +xadd +xread +xrange +xrevrange +hset +hdel +hgetall "
           "+info +role +wait +ping +select +auth")
# Where the file's URL points: nothing listens there. Replicas that come up
# "connected" prove the variable or the flag won over the file.
UNUSED = "redis://127.0.0.1:1/0"


class SecureRedis:
    """A private redis-server with requirepass and the documented ACL user
    `revokd`, no persistence."""

    def __init__(self, workdir):
        self.port = ic.free_port()
        self.workdir = workdir
        log = open(os.path.join(workdir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--save", "", "--appendonly", "no", "--port", str(self.port),
             "--bind", "127.0.0.1", "--requirepass", ADMIN_PW],
            stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.time() + 30
        while self.cli("PING").strip() != "PONG":
            if time.time() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                                "OPERATIONS.md")).read()
        assert "user revokd " + DOC_ACL.format(pw="S3cret") in doc
        assert self.cli("ACL", "SETUSER", "revokd", *DOC_ACL.format(pw=ACL_PW).split()
                        ).strip() == "OK"

    def cli(self, *args, db=0):
        r = subprocess.run(["redis-cli", "--no-auth-warning", "-a", ADMIN_PW,
                            "-p", str(self.port), "-n", str(db), *args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout

    def xlen(self, db):
        return int(self.cli("XLEN", STREAM, db=db).strip() or 0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def sredis(tmp_path):
    r = SecureRedis(str(tmp_path))
    yield r
    r.stop()


@pytest.fixture
def replicas(tmp_path, keys):
    """replica(name, env=None, args=(), wait=True) -> Server whose config file
    points at UNUSED; the real URL comes from env / args."""
    started = []

    def make(name, env=None, args=(), wait=True):
        wd = os.path.join(str(tmp_path), name)
        os.makedirs(wd, exist_ok=True)
        cfg = ic.base_config(wd, keys, redis={"url": UNUSED, "stream": STREAM})
        e = {k: v for k, v in os.environ.items() if k != "REVOKD_REDIS_URL"}
        e.update(env or {})
        # start_server merges env into os.environ: clear the variable there
        # too when the test does not set it.
        saved = os.environ.pop("REVOKD_REDIS_URL", None)
        try:
            srv = ic.start_server(wd, cfg, extra_args=args, env=e, wait=wait)
        finally:
            if saved is not None:
                os.environ["REVOKD_REDIS_URL"] = saved
        started.append(srv)
        return srv

    yield make
    running = [s for s in started if s.proc.poll() is None]
    failures = []
    for srv in running:
        try:
            ic.assert_clean_exit(srv)
        except AssertionError as e:
            failures.append(e)
    if failures:
        raise failures[0]


wait_for = ic.wait_for  # the suites' one polling helper


def logged(srv, msg, **fields):
    """srv's JSON log records with this msg and these fields."""
    out = []
    for line in srv.stderr_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg and all(rec.get(k) == v for k, v in fields.items()):
            out.append(rec)
    return out


def replication(srv):
    r = srv.session.get(srv.url + "/readyz", timeout=10)
    return r.status_code, r.json()["checks"]["replication"]


def converge(a, b, mint):
    """Revocations taken on either replica deny on the other."""
    for origin, other in ((a, b), (b, a)):
        jti = str(uuid.uuid4())
        tok = mint.token("ES256", jti=jti)
        ic.assert_allow(other.auth(tok))
        r = origin.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": jti})
        assert r.status_code == 201, r.text
        wait_for(lambda: other.auth(tok).status_code == 401, 15, "deny on the other")
        ic.assert_deny(other.auth(tok), "token revoked")
    for srv in (a, b):
        wait_for(lambda: "revokd_replication_outbox 0\n" in
                 srv.session.get(srv.url + "/metrics", timeout=10).text, 15, "outbox empty")


def assert_no_password(srv, *pws):
    text = srv.stderr_text()
    for pw in pws:
        assert pw not in text


def test_requirepass_and_select_via_env_and_flag(sredis, replicas, fast_mint):
    url = f"redis://:{ADMIN_PW}@127.0.0.1:{sredis.port}/3"
    a = replicas("a", env={"REVOKD_REDIS_URL": url})
    b = replicas("b", args=("--redis-url", url))
    for srv in (a, b):
        assert replication(srv) == (200, "connected")
        assert srv.admin("GET", "/admin/v1/stats").json()["cluster"] == "connected"
    converge(a, b, fast_mint)
    # SELECT 3: the stream lives in db 3, nothing in db 0.
    assert sredis.xlen(3) == 2
    assert sredis.xlen(0) == 0
    assert_no_password(a, ADMIN_PW)
    assert_no_password(b, ADMIN_PW)


def test_acl_user_with_the_documented_acl(sredis, replicas, fast_mint):
    url = f"redis://revokd:{ACL_PW_URL}@127.0.0.1:{sredis.port}/5"
    a = replicas("a", env={"REVOKD_REDIS_URL": url})
    # The flag wins over the variable (here a wrong password).
    bad = f"redis://revokd:wrong@127.0.0.1:{sredis.port}/5"
    b = replicas("b", env={"REVOKD_REDIS_URL": bad}, args=("--redis-url", url))
    for srv in (a, b):
        assert replication(srv) == (200, "connected")
    converge(a, b, fast_mint)
    # key revocations go to the hash, which the ACL covers too.
    r = a.admin("POST", RV, json={"type": "key.revoked", "iss": ISS, "kid": "leaked"})
    assert r.status_code == 201, r.text
    wait_for(lambda: b.admin("GET", f"{RV}/key/leaked", params={"iss": ISS}).status_code
             == 200, 15, "key revocation on b")
    assert sredis.cli("HLEN", STREAM + ":keys", db=5).strip() == "1"
    assert sredis.xlen(5) == 3 and sredis.xlen(0) == 0
    text = a.stderr_text() + b.stderr_text()
    assert "redis refused a command" not in text, text[-3000:]
    assert ACL_PW not in text and ACL_PW_URL not in text


def test_wrong_password_is_refused_and_logged(sredis, replicas):
    url = f"redis://revokd:wrong-password@127.0.0.1:{sredis.port}/5"
    a = replicas("a", env={"REVOKD_REDIS_URL": url}, wait=False)
    wait_for(lambda: "redis refused a command" in a.stderr_text(), 60,
             "AUTH refusal logged")
    rec = logged(a, "redis refused a command", command="AUTH")
    assert rec and rec[0]["error"].startswith("WRONGPASS"), rec

    def not_ready():
        try:
            return replication(a)
        except ic.requests.RequestException:
            return None
    # Never reached Redis: not ready (REFERENCE §7), and it says why.
    assert wait_for(not_ready, 60, "readyz answers") == (503, "connecting")
    r = ic.requests.get(a.url + "/readyz", timeout=10).json()
    assert r["checks"]["replication_error"].startswith("redis AUTH: refused: WRONGPASS"), r
    assert "wrong-password" not in a.stderr_text()
