"""Cluster mode over TLS (REFERENCE §7, docs/OPERATIONS.md §8): revokd
speaks TLS to Debian's redis-server (--tls-port) with OpenSSL itself, since
hiredis 0.14 has none. Certificates come from a CA made at test time
(conftest.CertAuthority). What is proved:

- replicas on rediss:// converge, and every connection they hold is on the
  TLS port (CLIENT LIST);
- the server is always verified: a certificate from another CA, an expired
  one, one for another name (and a server_name that does not match) are each
  refused with the OpenSSL reason in the log and in /readyz (503), and
  nothing reaches Redis (the stream stays empty though the replica took a
  revocation); server_name set to the certificate's name connects;
- mutual TLS: a Redis that asks for client certificates refuses a replica
  without one, and takes one with cert_file/key_file;
- an ACL user whose password is in password_file (rediss://user@host),
  REVOKD_REDIS_PASSWORD winning over the file, and a user with no password
  anywhere refused at start;
- configuration mistakes (a missing ca_file, tls with redis://) stop the
  start with exit 2 and the key named.

Propagation is polled with a generous deadline, never timed."""
import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import ic
from redis_support import CertAuthority, Redis, tls_config

ISS = ic.ISS
RV = "/admin/v1/revocations"
STREAM = "revokd:tls"
PATIENCE = 30  # a deadline for polling, never a measured bound


wait_for = ic.wait_for  # the suites' one polling helper


def replica(tmp_path, name, keys, redis_cfg, env=None, wait=True):
    wd = os.path.join(str(tmp_path), name)
    os.makedirs(wd, exist_ok=True)
    cfg = ic.base_config(wd, keys, redis=dict(redis_cfg, stream=STREAM))
    return ic.start_server(wd, cfg, env=env, wait=wait)


@pytest.fixture
def servers():
    started = []
    yield started
    ic.finish_all(started)


def readyz(srv):
    try:
        r = srv.session.get(srv.url + "/readyz", timeout=10)
    except ic.requests.RequestException:
        return None
    return r.status_code, r.json()["checks"]


def logged(srv, msg):
    out = []
    for line in srv.stderr_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg:
            out.append(rec)
    return out


def take(srv, mint):
    jti = str(uuid.uuid4())
    r = srv.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": jti,
                                    "exp": int(time.time()) + 3600})
    assert r.status_code == 201, r.text
    return mint.token("RS256", jti=jti)


def converge(a, b, mint):
    for origin, other in ((a, b), (b, a)):
        tok = take(origin, mint)
        wait_for(lambda: other.auth(tok).status_code == 401, PATIENCE,
                 "a revocation reached the other replica")


def refused_with(srv, reason):
    """srv is not ready and says why (reason in the error), in /readyz and
    in the log."""
    def says():
        z = readyz(srv)
        return z if z and reason in z[1].get("replication_error", "") else None
    code, checks = wait_for(says, PATIENCE, f"/readyz reports {reason!r}")
    assert code == 503 and checks["replication"] == "connecting", checks
    assert any(reason in r.get("error", "") for r in logged(srv, "cannot connect to redis")), \
        srv.stderr_text()[-3000:]
    return checks["replication_error"]


def test_replicas_converge_over_tls(tmp_path, keys, mint, tls_redis, servers):
    a = replica(tmp_path, "a", keys, tls_config(tls_redis))
    b = replica(tmp_path, "b", keys, tls_config(tls_redis))
    servers += [a, b]
    converge(a, b, mint)
    assert readyz(a) == (200, {"store": "ok", "keys": "ok", "replication": "connected"})
    assert logged(a, "cluster mode")[0]["tls"] == "yes"
    # Both replicas' connections (publisher, consumer) are on the TLS port.
    clients = [ln for ln in tls_redis.cli("CLIENT", "LIST").splitlines()
               if "cmd=client" not in ln]
    assert len(clients) == 4, clients
    assert all(f"laddr=127.0.0.1:{tls_redis.tls_port}" in ln for ln in clients), clients
    assert int(tls_redis.cli("XLEN", STREAM).strip()) == 2


@pytest.mark.parametrize("case", ["wrong CA", "expired", "wrong name", "wrong server_name"])
def test_unverifiable_server_is_refused(tmp_path, keys, mint, test_ca, servers, case):
    cfg_over = {}
    if case == "wrong CA":
        redis = Redis(str(tmp_path), tls=test_ca)
        ca = CertAuthority(str(tmp_path / "other-ca"), name="another CA").ca_file
        reason = "self-signed certificate in certificate chain"
    elif case == "expired":
        redis = Redis(str(tmp_path), tls=test_ca, cert=test_ca.issue("old", expired=True))
        ca, reason = test_ca.ca_file, "certificate has expired"
    elif case == "wrong name":
        redis = Redis(str(tmp_path), tls=test_ca,
                      cert=test_ca.issue("elsewhere", dns=("other.example",), ips=()))
        ca, reason = test_ca.ca_file, "IP address mismatch"
    else:
        redis = Redis(str(tmp_path), tls=test_ca)
        ca, reason = test_ca.ca_file, "hostname mismatch"
        cfg_over = {"server_name": "not-this.example"}
    try:
        a = replica(tmp_path, "a", keys,
                    {"url": redis.url, "tls": dict({"ca_file": ca}, **cfg_over)}, wait=False)
        servers.append(a)
        why = refused_with(a, reason)
        assert "certificate verify failed" in why, why
        # It still decides and takes revocations locally; nothing is sent.
        take(a, mint)
        time.sleep(0.5)
        assert redis.cli("XLEN", STREAM).strip() == "0"
        assert not logged(a, "publisher connected to redis")
        assert readyz(a)[0] == 503
    finally:
        redis.stop()


def test_server_name_names_the_certificate(tmp_path, keys, mint, test_ca, servers):
    """A certificate only for redis.test, reached at 127.0.0.1: server_name
    makes the name checked (and SNI) redis.test."""
    redis = Redis(str(tmp_path), tls=test_ca,
                  cert=test_ca.issue("named", dns=("redis.test",), ips=()))
    try:
        cfg = tls_config(redis)
        cfg["tls"]["server_name"] = "redis.test"
        a = replica(tmp_path, "a", keys, cfg)
        b = replica(tmp_path, "b", keys, cfg)
        servers += [a, b]
        converge(a, b, mint)
    finally:
        redis.stop()


def test_mutual_tls(tmp_path, keys, mint, test_ca, servers):
    redis = Redis(str(tmp_path), tls=test_ca, auth_clients=True)
    try:
        # Without a client certificate: refused by the server (TLS 1.3
        # reports it at the first read, so either message may carry it).
        anon = replica(tmp_path, "anon", keys, tls_config(redis), wait=False)
        servers.append(anon)

        def says():
            z = readyz(anon)
            return z if z and z[1].get("replication_error") else None
        code, checks = wait_for(says, PATIENCE, "/readyz reports the refusal")
        why = checks["replication_error"]
        assert code == 503 and ("alert certificate required" in why
                                or "did it want a client certificate?" in why), checks
        cert, key = test_ca.issue("revokd-client", dns=(), ips=(), client=True)
        cfg = tls_config(redis)
        cfg["tls"].update(cert_file=cert, key_file=key)
        a = replica(tmp_path, "a", keys, cfg)
        b = replica(tmp_path, "b", keys, cfg)
        servers += [a, b]
        converge(a, b, mint)
    finally:
        redis.stop()


# The rules of docs/OPERATIONS.md §8's redis.conf user line.
ACL = ("on >{pw} ~revokd:* +xadd +xread +xrange +xrevrange +hset +hdel +hgetall "
       "+info +role +wait +ping +select +auth")


def test_acl_user_with_password_file(tmp_path, keys, mint, tls_redis, servers):
    pw = "tls-Secret-42"
    assert tls_redis.cli("ACL", "SETUSER", "revokd", *ACL.format(pw=pw).split()).strip() == "OK"
    assert tls_redis.cli("ACL", "SETUSER", "default", "off").strip() == "OK"
    pwfile = tmp_path / "redis.password"
    pwfile.write_text(pw + "\n")
    url = f"rediss://revokd@127.0.0.1:{tls_redis.tls_port}/0"
    cfg = tls_config(tls_redis, url=url, password_file=str(pwfile))
    a = replica(tmp_path, "a", keys, cfg)
    # The variable wins over the file (the file's password is wrong here).
    bad = tmp_path / "wrong.password"
    bad.write_text("nope\n")
    b = replica(tmp_path, "b", keys, dict(cfg, password_file=str(bad)),
                env={"REVOKD_REDIS_PASSWORD": pw})
    servers += [a, b]
    converge(a, b, mint)
    text = a.stderr_text() + b.stderr_text()
    assert pw not in text
    # A user with no password anywhere: refused at start, named.
    c = replica(tmp_path, "c", keys, tls_config(tls_redis, url=url), wait=False)
    assert c.proc.wait(timeout=30) == 2
    c.expect_exit(2)
    assert "names a user but no password" in c.stderr_text()


@pytest.mark.parametrize("case", ["missing ca_file", "tls on redis://", "cert without key"])
def test_tls_config_mistakes_stop_the_start(tmp_path, keys, tls_redis, case):
    cfg = tls_config(tls_redis)
    want = "redis.tls"
    if case == "missing ca_file":
        cfg["tls"]["ca_file"] = str(tmp_path / "no-such-ca.pem")
        want = "tls.ca_file"
    elif case == "tls on redis://":
        cfg["url"] = f"redis://127.0.0.1:{tls_redis.port}/0"
    else:
        cfg["tls"]["cert_file"] = cfg["tls"]["ca_file"]
    a = replica(tmp_path, "a", keys, cfg, wait=False)
    try:
        assert a.proc.wait(timeout=30) == 2
        a.expect_exit(2)
        assert want in a.stderr_text(), a.stderr_text()
    finally:
        ic.finish_server(a)


def doc_block(start):
    """The fenced block of docs/OPERATIONS.md that follows the line
    starting with start."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "OPERATIONS.md")
    text = open(path).read()
    at = text.index(start)
    body = text[text.index("```", at):]
    body = body[body.index("\n") + 1:]
    return body[:body.index("```")]


def test_the_documented_redis_conf(tmp_path, keys, mint, test_ca, servers):
    """docs/OPERATIONS.md §8 "The Redis side": its redis.conf, with only the
    paths and the port changed, and its revokd "redis" object (rediss://
    with a user, password_file, tls.ca_file) give two converging replicas;
    the default user is off, so they are the ACL user."""
    cert, key = test_ca.issue("redis-internal", dns=("redis.internal",), ips=("127.0.0.1",))
    port = ic.free_port()
    conf = doc_block("`/etc/redis/redis.conf`")
    conf = (conf.replace("/etc/redis/tls/redis.pem", cert)
            .replace("/etc/redis/tls/redis.key", key)
            .replace("/etc/redis/tls/ca.pem", test_ca.ca_file)
            .replace("tls-port 6380", f"tls-port {port}\nbind 127.0.0.1\ndir {tmp_path}")
            .replace("appendonly yes", "appendonly no"))
    assert "user revokd on >S3cret" in conf
    path = tmp_path / "redis.conf"
    path.write_text(conf)
    log = open(tmp_path / "redis-doc.log", "ab")
    proc = subprocess.Popen(["redis-server", str(path)], stdout=log, stderr=subprocess.STDOUT)
    try:
        (tmp_path / "redis.password").write_text("S3cret\n")
        cfg = {"url": f"rediss://revokd@127.0.0.1:{port}/0",
               "password_file": str(tmp_path / "redis.password"),
               "tls": {"ca_file": test_ca.ca_file}}
        a = replica(tmp_path, "a", keys, cfg)
        b = replica(tmp_path, "b", keys, cfg)
        servers += [a, b]
        converge(a, b, mint)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
