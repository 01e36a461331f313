"""A token in the verified cache is denied once it passes its `exp`
(REFERENCE §3 step 5, docs/OPERATIONS.md §2 "Verified-token cache"): the cache
skips the signature check, never the time checks.

The token is minted with `exp` a few seconds ahead and `leeway: 0`, made a
cache hit (the hits counter moves), then polled until it is denied. The
poll has a generous deadline (a bound on a hung test, not a speed claim);
no wall-clock threshold is asserted: before the deny every answer must be
the allow, after it every answer must be exactly the deny."""
import time
import uuid

from conftest import assert_allow, assert_deny, metric_value, metrics_text
from support_extra import wait_for

HITS = "revokd_verified_cache_hits_total"


def test_cached_token_is_denied_after_exp(make_server, fast_mint):
    srv = make_server(leeway=0)
    now = int(time.time())
    jti = str(uuid.uuid4())
    exp = now + 4
    tok = fast_mint.token("ES256", jti=jti, iat=now, exp=exp)

    r = srv.auth(tok)
    if r.status_code != 200:   # a very slow start can eat the 4 s: say so
        assert time.time() >= exp, (r.status_code, r.content)
        raise AssertionError("token expired before the first request; rerun")
    assert_allow(r, jti=jti, exp=exp)
    hits0 = metric_value(metrics_text(srv), HITS)
    r = srv.auth(tok)
    if r.status_code == 200:
        assert_allow(r, jti=jti, exp=exp)
        # The second answer came from the verified cache.
        assert metric_value(metrics_text(srv), HITS) > hits0
    expired0 = metric_value(metrics_text(srv), "revokd_decisions_total",
                            {"result": "token_expired"})

    def denied():
        sent = time.time()
        r = srv.auth(tok)
        if r.status_code == 200:
            assert_allow(r, jti=jti, exp=exp)
            # Not a speed claim but causality: a request sent at or after
            # exp is decided at or after exp (same clock), so with leeway 0
            # an allow here is the bug under test.
            assert sent < exp, f"allowed a request sent {sent - exp:.3f} s after exp"
            return False
        assert_deny(r, "token expired")
        return True

    wait_for(denied, timeout=60, what="cached token denied after exp", step=0.2)
    # Denied for good: the cache does not bring it back.
    for _ in range(5):
        assert_deny(srv.auth(tok), "token expired")
    assert metric_value(metrics_text(srv), "revokd_decisions_total",
                        {"result": "token_expired"}) >= expired0 + 6
