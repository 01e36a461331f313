"""`threads: 1` (docs/OPERATIONS.md §2): with a single HTTP thread
libmicrohttpd runs in poll mode (api/server.c start_listener), a branch of
its own that the rest of the suite (threads: 2, epoll with a pool) never
takes. The advice for a 2-core host shared with the gateway is exactly this
setting, so it must pass the same behaviour: allow, deny, revoke then deny,
many concurrent clients, a separate admin listener (a second poll-mode
daemon), and a clean SIGTERM. No timing is asserted."""
import concurrent.futures
import time
import uuid

import requests

from conftest import ISS, assert_allow, assert_clean_exit, assert_deny
from support_extra import logged, wait_for

RV = "/admin/v1/revocations"


def test_threads_one_serves_allow_deny_revoke(make_server, fast_mint):
    mint = fast_mint
    srv = make_server(threads=1)
    # The server really runs with one thread (the listening line says so; it
    # is written just after the listener starts answering, hence the poll).
    wait_for(lambda: logged(srv, "revokd listening", threads="1"), 30,
             "listening line with threads 1")

    jti = str(uuid.uuid4())
    tok = mint.token("RS256", jti=jti, sub="alice")
    assert_allow(srv.auth(tok), sub="alice", jti=jti)
    assert_allow(srv.auth(tok), sub="alice", jti=jti)          # cached now
    assert_deny(srv.auth(mint.token("RS256", aud="other-api")), "invalid audience")
    assert_deny(srv.auth(tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")),
                "invalid signature")

    r = srv.admin("POST", RV, json={"type": "token.revoked", "iss": ISS, "jti": jti})
    assert r.status_code == 201, r.text
    assert_deny(srv.auth(tok), "token revoked")
    r = srv.admin("POST", RV, json={"type": "subject.revoked", "iss": ISS, "sub": "bob"})
    assert r.status_code == 201, r.text
    assert_deny(srv.auth(mint.token("ES256", sub="bob", iat=int(time.time()) - 60)),
                "subject revoked")
    assert_allow(srv.auth(mint.token("ES256", sub="carol")), sub="carol")

    assert assert_clean_exit(srv) is None
    assert logged(srv, "stopping", signal="SIGTERM")
    assert logged(srv, "stopped")


def test_threads_one_concurrent_clients_and_admin_listener(make_server, fast_mint):
    """32 clients at once, each on its own keep-alive connection, against one
    thread, while revocations arrive on the admin listener (its own
    poll-mode daemon): every answer is the right one."""
    mint = fast_mint
    srv = make_server(threads=1, admin=True)
    wait_for(lambda: logged(srv, "revokd listening", threads="1"), 30,
             "listening line with threads 1")
    good = [mint.token("ES256", sub=f"user{i}") for i in range(8)]
    gone_jtis = [str(uuid.uuid4()) for _ in range(8)]
    gone = [mint.token("ES256", jti=j) for j in gone_jtis]
    for t in good + gone:
        assert_allow(srv.auth(t))
    r = srv.admin("POST", RV, json={"events": [
        {"type": "token.revoked", "iss": ISS, "jti": j} for j in gone_jtis]})
    assert r.status_code == 201, r.text
    # The admin API answers on the admin listener only.
    assert requests.post(srv.url + RV, timeout=10,
                         headers={"Authorization": "Bearer " + srv.admin_token},
                         json={"type": "token.revoked", "iss": ISS,
                               "jti": "x"}).status_code == 404

    def client(n):
        s = requests.Session()
        answered = 0
        for i in range(60):
            k = (n + i) % 8
            if i % 3 == 0:
                r = s.get(srv.url + "/auth", timeout=30,
                          headers={"Authorization": "Bearer " + gone[k]})
                assert_deny(r, "token revoked")
            else:
                r = s.get(srv.url + "/auth", timeout=30,
                          headers={"Authorization": "Bearer " + good[k]})
                assert_allow(r, sub=f"user{k}")
            answered += 1
        s.close()
        return answered

    def revoker():
        s = requests.Session()
        for i in range(20):
            r = s.post(srv.admin_url + RV, timeout=30,
                       headers={"Authorization": "Bearer " + srv.admin_token},
                       json={"type": "session.revoked", "iss": ISS,
                             "sid": f"threads-one-{i}"})
            assert r.status_code == 201, r.text
        s.close()
        return 20

    with concurrent.futures.ThreadPoolExecutor(max_workers=33) as ex:
        futs = [ex.submit(client, n) for n in range(32)] + [ex.submit(revoker)]
        results = [f.result() for f in futs]
    assert results == [60] * 32 + [20]
    r = srv.admin("GET", "/admin/v1/stats")
    assert r.status_code == 200
    # A session revocation denies the tokens issued at or before it.
    old = int(time.time()) - 60
    assert_deny(srv.auth(mint.token("ES256", sid="threads-one-7", iat=old)),
                "session revoked")
    assert_clean_exit(srv)
    assert logged(srv, "stopped")
