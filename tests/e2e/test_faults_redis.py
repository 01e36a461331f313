"""The "redis" fault point (store/replica.c, DECISIONS D20): the Nth Redis command
of replica A fails as a lost connection, for N = 1, 2, ... until a workload
runs before the fault fires. After each failure: every revocation
acknowledged by either replica reaches both (nothing acknowledged is lost —
the outbox republishes it), and A still serves. The loop runs over plain TCP
and over TLS (rediss://, store/redis_conn.c): a connection lost mid-TLS is
the same dead connection to every caller."""
import os
import time
import uuid

import pytest
import requests

from conftest import ic
from redis_support import CertAuthority, Redis, tls_config

ISS = ic.ISS
RV = "/admin/v1/revocations"
MAX_N = 40


wait_for = ic.wait_for  # the suites' one polling helper


def replica(base, name, keys, redis, stream, env=None):
    wd = os.path.join(base, name)
    os.makedirs(wd, exist_ok=True)
    cfg = ic.base_config(wd, keys, redis=tls_config(redis, stream=stream))
    return ic.start_server(wd, cfg, env=env, wait=True)


@pytest.fixture(params=["plain", "tls"])
def fault_redis(request, tmp_path):
    tls = CertAuthority(str(tmp_path / "pki")) if request.param == "tls" else None
    r = Redis(str(tmp_path), tls=tls)
    yield r
    r.stop()


@ic.needs_faults
def test_redis_fault_loop(tmp_path, keys, mint, fault_redis):
    redis = fault_redis
    failures = 0
    for n in range(1, MAX_N + 1):
        base = str(tmp_path / f"n{n}")
        stream = f"revokd:fault{n}"
        a = replica(base, "a", keys, redis, stream, env={"REVOKD_FAULTS": f"redis:{n}:1"})
        b = replica(base, "b", keys, redis, stream)
        try:
            toks = {}
            for srv, tag in ((a, "a"), (b, "b")):
                jti = f"{tag}-{uuid.uuid4().hex[:8]}"
                toks[jti] = mint.token("RS256", jti=jti)
                r = srv.admin("POST", RV, json={"type": "token.revoked", "iss": ISS,
                                                "jti": jti})
                assert r.status_code == 201, r.text    # committed locally first
            for srv in (a, b):
                for tok in toks.values():
                    wait_for(lambda: srv.auth(tok).status_code == 401, 20,
                             "an acknowledged revocation reached every replica")
            assert requests.get(a.url + "/healthz", timeout=10).status_code == 200
            ic.assert_allow(a.auth(mint.token("RS256", jti=str(uuid.uuid4()))))
            fired = "injected fault" in a.stderr_text()
        finally:
            for srv in (a, b):
                ic.finish_server(srv)
        if not fired:
            break
        failures += 1
    else:
        pytest.fail(f"the fault still fired at N={MAX_N}")
    print(f"redis: {failures} failing runs, clean at N={n}")
    assert failures >= 1, "the redis fault point never fired"
