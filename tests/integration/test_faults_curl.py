"""Fault point "curl" (DECISIONS D20): the Nth JWKS transfer fails, for N = 1,
2, ... until a run sees no failure. After each failure the process still
serves, a failed first fetch is retried until the issuer has keys, and a
failed refresh keeps the last good key set: tokens signed by the JWKS key
are allowed throughout.
"""
import re
import time

import requests

from conftest import ISS, base_config, jwk_of, mint_with, start_server, assert_clean_exit, \
    needs_faults

JISS = "https://jwks-idp.test"
WINDOW = 3.5     # seconds of refreshes watched per run (jwks_refresh 1 s)
MAX_N = 12


def errors(srv):
    text = requests.get(srv.url + "/metrics", timeout=5).text
    m = re.search(r'^revokd_jwks_fetches_total\{issuer="%s",result="error"\} (\d+)$'
                  % re.escape(JISS), text, re.M)
    return int(m.group(1)) if m else 0


@needs_faults
def test_curl_fault_loop(tmp_path_factory, keys, jwks_server):
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256")]
    failing_runs = 0
    for n in range(1, MAX_N + 1):
        d = str(tmp_path_factory.mktemp("curlfault"))
        cfg = base_config(d, keys, issuers=[
            {"issuer": ISS, "algorithms": ["RS256"],
             "keys": [{"kid": "rsa1", "alg": "RS256", "pem_file": "keys/rsa.pem"}]},
            {"issuer": JISS, "algorithms": ["ES256"], "jwks_uri": jwks_server.base + "/jwks",
             "jwks_refresh": 1}])
        # start_server waits for /readyz: a failed first fetch must be retried
        # until the JWKS issuer has its key.
        srv = start_server(d, cfg, env={"REVOKD_FAULTS": f"curl:{n}:1"})
        try:
            deadline = time.time() + WINDOW
            while time.time() < deadline:
                r = srv.auth(mint_with(keys.ec_other, "e1", "ES256", JISS))
                assert r.status_code == 200, (n, r.text)
                assert srv.session.get(srv.url + "/healthz", timeout=5).status_code == 200
                time.sleep(0.25)
            failed = errors(srv)
            fired = "fault injected: curl" in srv.stderr_text()
            # One failed transfer exactly when the one fault fired.
            assert failed == (1 if fired else 0), (n, failed, fired)
        finally:
            assert_clean_exit(srv)
        if not fired:
            break
        failing_runs += 1
    else:
        raise AssertionError(f"a JWKS transfer still failed at N={MAX_N}")
    assert failing_runs >= 1, "the curl fault point never fired"
