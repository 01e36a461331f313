"""Remote keys (REFERENCE §2 issuers, §6 JWKS): JWKS and OpenID discovery fetched
from a server on loopback, rotation without restart, the unknown-kid kick and
its rate limit, failures that keep the last good keys, SIGHUP."""
import http.client
import json
import os
import re
import signal
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import (ISS, assert_clean_exit, checked_run, base_config, jwk_of, mint_with,
                      pem_public, start_server)

JISS = "https://jwks-idp.test"


def wait_for(pred, timeout=15.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def static_issuer():
    return {"issuer": ISS, "algorithms": ["RS256"],
            "keys": [{"kid": "rsa1", "alg": "RS256", "pem_file": "keys/rsa.pem"}]}


def remote_issuer(js, iss=JISS, refresh=300, **over):
    d = {"issuer": iss, "algorithms": ["RS256", "ES256", "ES384"],
         "jwks_uri": js.base + "/jwks", "jwks_refresh": refresh}
    d.update(over)
    return d


def reason(r):
    return r.json().get("error_description") if r.content else None


def wait_listening(srv):
    """For servers started with wait=False: the first JWKS fetch runs before
    the listener is up, and a slow build (TSan) shows the gap. True once
    the listener answers at all."""
    def up():
        try:
            return requests.get(srv.url + "/healthz", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False
    return wait_for(up, timeout=60)


def fetches(srv, result, iss=JISS):
    text = requests.get(srv.url + "/metrics", timeout=5).text
    m = re.search(r'^revokd_jwks_fetches_total\{issuer="%s",result="%s"\} (\d+)$'
                  % (re.escape(iss), result), text, re.M)
    return int(m.group(1)) if m else None


def cache_hits(srv):
    text = requests.get(srv.url + "/metrics", timeout=5).text
    return int(re.search(r"^revokd_verified_cache_hits_total (\d+)$", text, re.M).group(1))


def test_rsa_and_ec_keys_from_jwks_are_allowed(make_server, jwks_server, keys):
    jwks_server.keys = [jwk_of(keys.rsa_other, "r1"),          # no alg: RS*
                        jwk_of(keys.ec_other, "e1", "ES256", use="sig"),
                        jwk_of(keys.ec384, "e384"),              # no alg: ES384
                        {"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]
    srv = make_server(issuers=[static_issuer(), remote_issuer(jwks_server)])
    for key, kid, alg in ((keys.rsa_other, "r1", "RS256"), (keys.ec_other, "e1", "ES256"),
                          (keys.ec384, "e384", "ES384")):
        r = srv.auth(mint_with(key, kid, alg, JISS))
        assert r.status_code == 200, (kid, r.text)
        assert r.headers["X-Auth-Issuer"] == JISS
    # A JWKS key never serves another issuer, nor an algorithm it is not for.
    assert reason(srv.auth(mint_with(keys.rsa_other, "r1", "RS256", ISS))) == "unknown key"
    assert reason(srv.auth(mint_with(keys.rsa_other, "r1", "RS384", JISS))) == \
        "unsupported algorithm"
    # Signed by another key under a published kid.
    assert reason(srv.auth(mint_with(keys.rsa, "r1", "RS256", JISS))) == "invalid signature"
    assert fetches(srv, "ok") == 1
    text = requests.get(srv.url + "/metrics", timeout=5).text
    assert "# TYPE revokd_jwks_fetches_total counter" in text
    assert "oct keys are never taken" in srv.stderr_text()


def test_readiness_waits_for_the_first_good_fetch(tmp_path, keys, jwks_server):
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256")]
    jwks_server.mode = "error"
    cfg = base_config(str(tmp_path), keys,
                      issuers=[static_issuer(), remote_issuer(jwks_server)])
    srv = start_server(str(tmp_path), cfg, wait=False)
    try:
        assert wait_for(lambda: jwks_server.count_mode("error") >= 1)
        assert wait_listening(srv)
        assert wait_for(lambda: (fetches(srv, "error") or 0) >= 1, timeout=10)
        r = requests.get(srv.url + "/readyz", timeout=5)
        assert r.status_code == 503
        assert JISS in r.json()["checks"]["keys"]
        # The static issuer works meanwhile.
        assert srv.auth(mint_with(keys.rsa, "rsa1", "RS256", ISS)).status_code == 200
        jwks_server.mode = "ok"
        assert wait_for(lambda: requests.get(srv.url + "/readyz", timeout=5).status_code == 200,
                        timeout=30)
        assert srv.auth(mint_with(keys.ec_other, "e1", "ES256", JISS)).status_code == 200
    finally:
        assert_clean_exit(srv)


def test_rotation_without_restart(make_server, jwks_server, keys):
    old = keys.rsa_other
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server.keys = [jwk_of(old, "k-old", "RS256")]
    srv = make_server(issuers=[static_issuer(), remote_issuer(jwks_server, refresh=1)])
    tok_old = mint_with(old, "k-old", "RS256", JISS)
    assert srv.auth(tok_old).status_code == 200
    # A refresh that changes nothing swaps nothing: the cached verification
    # of tok_old stays a cache hit.
    u0 = fetches(srv, "unchanged")
    assert wait_for(lambda: fetches(srv, "unchanged") > u0)
    h0 = cache_hits(srv)
    assert srv.auth(tok_old).status_code == 200
    assert cache_hits(srv) == h0 + 1
    # Publish the new kid, withdraw the old one.
    jwks_server.keys = [jwk_of(new, "k-new", "RS256")]
    assert wait_for(lambda: reason(srv.auth(tok_old)) == "unknown key", timeout=20)
    assert srv.auth(mint_with(new, "k-new", "RS256", JISS)).status_code == 200
    log = srv.stderr_text()
    changes = [json.loads(line) for line in log.splitlines()
               if "JWKS key set changed" in line]
    assert any(c.get("added") == "k-new" and c.get("removed") == "k-old" for c in changes), log


def test_unknown_kid_kicks_one_refresh_and_no_more_under_a_flood(make_server, jwks_server,
                                                                  keys):
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256")]
    srv = make_server(issuers=[static_issuer(), remote_issuer(jwks_server, refresh=300)])
    assert jwks_server.count() == 1
    fresh = ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256"), jwk_of(fresh, "e2", "ES256")]
    t0 = time.time()
    tok = mint_with(fresh, "e2", "ES256", JISS)
    # The first request may lose the race with the fetch it triggered.
    assert wait_for(lambda: srv.auth(tok).status_code == 200, timeout=10)
    assert jwks_server.count() == 2
    # A flood of unknown kids: at most one more fetch per 10 s.
    s = requests.Session()
    for i in range(300):
        r = s.get(srv.url + "/auth", headers={
            "Authorization": "Bearer " + mint_with(fresh, f"nope-{i % 7}", "ES256", JISS)},
            timeout=10)
        assert reason(r) == "unknown key"
    time.sleep(0.5)  # let a kicked fetch, if any, arrive before counting
    elapsed = time.time() - t0
    kicked = jwks_server.count() - 1
    assert 1 <= kicked <= 1 + int(elapsed // 10), (kicked, elapsed)
    # An issuer without remote keys: an unknown kid kicks nothing.
    before = jwks_server.count()
    for i in range(20):
        assert reason(srv.auth(mint_with(keys.rsa, f"x{i}", "RS256", ISS))) == "unknown key"
    assert jwks_server.count() == before


def test_failures_keep_the_last_good_keys(make_server, jwks_server, keys):
    good = [jwk_of(keys.rsa_other, "r1", "RS256")]
    jwks_server.keys = good
    srv = make_server(issuers=[static_issuer(), remote_issuer(jwks_server, refresh=1)])
    tok = mint_with(keys.rsa_other, "r1", "RS256", JISS)
    assert srv.auth(tok).status_code == 200
    for mode in ("error", "garbage", "huge", "chunked", "redirect", "empty", "slow", "down"):
        e0 = fetches(srv, "error")
        if mode == "empty":
            jwks_server.keys = [{"kty": "oct", "kid": "o", "k": "c2VjcmV0"}]
        elif mode == "down":
            jwks_server.stop()
        else:
            jwks_server.mode = mode
        assert wait_for(lambda: fetches(srv, "error") > e0, timeout=20), mode
        r = srv.auth(tok)
        assert r.status_code == 200, (mode, r.text)
        if mode == "down":
            jwks_server.start()
        jwks_server.mode = "ok"
        jwks_server.keys = good
    assert jwks_server.count("/good") == 0  # the redirect was never followed
    log = srv.stderr_text()
    for what in ("HTTP 500", "not JSON", "document larger than 1048576 bytes",
                 "HTTP 302: redirects are not followed", "no usable key",
                 "Timeout was reached"):
        assert what in log, what
    assert "AAAAAAAA" not in log  # the document is never logged
    # Back to normal: fetches succeed again (unchanged) and the key still works.
    u0 = fetches(srv, "unchanged")
    assert wait_for(lambda: fetches(srv, "unchanged") > u0, timeout=20)
    assert srv.auth(tok).status_code == 200
    assert srv.proc.poll() is None


def test_discovery(make_server, jwks_server, keys):
    iss = jwks_server.base
    jwks_server.discovery = {"issuer": iss, "jwks_uri": iss + "/jwks"}
    jwks_server.keys = [jwk_of(keys.ec_other, "e1")]
    srv = make_server(issuers=[static_issuer(),
                               {"issuer": iss, "algorithms": ["ES256"], "discovery": True}])
    assert srv.auth(mint_with(keys.ec_other, "e1", "ES256", iss)).status_code == 200
    assert jwks_server.count("/.well-known/openid-configuration") == 1
    assert fetches(srv, "ok", iss) == 1


def test_discovery_with_a_mismatched_issuer_is_refused(tmp_path, jwks_server, keys):
    iss = jwks_server.base
    jwks_server.discovery = {"issuer": iss + "/other", "jwks_uri": iss + "/jwks"}
    jwks_server.keys = [jwk_of(keys.ec_other, "e1")]
    cfg = base_config(str(tmp_path), keys, issuers=[
        static_issuer(), {"issuer": iss, "algorithms": ["ES256"], "discovery": True}])
    srv = start_server(str(tmp_path), cfg, wait=False)
    try:
        assert wait_for(lambda: "is not the configured issuer" in srv.stderr_text())
        assert wait_listening(srv)
        assert requests.get(srv.url + "/readyz", timeout=5).status_code == 503
        assert reason(srv.auth(mint_with(keys.ec_other, "e1", "ES256", iss))) == "unknown key"
        assert jwks_server.count("/jwks") == 0
    finally:
        assert_clean_exit(srv)


def test_sighup_reloads_files_and_refetches_without_dropping_connections(
        make_server, jwks_server, keys, tmp_path):
    a = keys.rsa
    b = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = os.path.join(str(tmp_path), "keys", "hup.pem")
    os.makedirs(os.path.dirname(pem), exist_ok=True)
    with open(pem, "wb") as f:
        f.write(pem_public(a))
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256")]
    srv = make_server(issuers=[remote_issuer(
        jwks_server, keys=[{"kid": "file1", "alg": "RS256", "pem_file": "keys/hup.pem"}])])
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)

    def status(tok):
        conn.request("GET", "/auth", headers={"Authorization": "Bearer " + tok})
        r = conn.getresponse()
        r.read()
        return r.status

    tok_a = mint_with(a, "file1", "RS256", JISS)
    tok_b = mint_with(b, "file1", "RS256", JISS)
    tok_e = mint_with(keys.ec_other, "e1", "ES256", JISS)
    assert status(tok_a) == 200 and status(tok_e) == 200 and status(tok_b) == 401
    n0 = jwks_server.count()
    with open(pem + ".tmp", "wb") as f:
        f.write(pem_public(b))
    os.replace(pem + ".tmp", pem)
    # The IdP also publishes a new key: the refetch that SIGHUP asks for
    # brings it, and that swap must keep the file keys.
    e2 = ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256"), jwk_of(e2, "e2", "ES256")]
    srv.proc.send_signal(signal.SIGHUP)
    # Same connection throughout: http.client raises if it was dropped.
    assert wait_for(lambda: status(tok_b) == 200)
    assert status(tok_a) == 401
    assert status(tok_e) == 200  # the reload kept the JWKS keys
    assert wait_for(lambda: jwks_server.count() > n0)  # and refetched the JWKS
    assert wait_for(lambda: fetches(srv, "ok") == 2)
    assert status(mint_with(e2, "e2", "ES256", JISS)) == 200
    assert status(tok_b) == 200 and status(tok_e) == 200  # the refetch kept the file key
    conn.close()


@pytest.mark.parametrize("uri", ["http://127.0.0.1.evil.example/jwks",
                                 "http://localhost.evil.example/jwks",
                                 "http://127.0.0.1@evil.example/jwks",
                                 "ftp://127.0.0.1/jwks"])
def test_jwks_uri_must_be_https_or_loopback(tmp_path, keys, uri):
    import subprocess
    from conftest import REVOKD
    cfg = base_config(str(tmp_path), keys, issuers=[
        {"issuer": JISS, "algorithms": ["RS256"], "jwks_uri": uri}])
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = checked_run([REVOKD, "serve", "--config", path], timeout=20)
    assert p.returncode == 2, p.stderr
    assert "issuers[0].jwks_uri" in p.stderr
