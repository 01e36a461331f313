"""REFERENCE §8 limits that docs/SECURITY.md ("Limits under abuse") promises and
no other test reaches, on the real binary:

- request bodies held in memory: 128 MiB per listener (api/server.c
  BODY_BUDGET); past it a request gets 503 `too many request bytes in
  flight`; the budget comes back when the bodies go; a separate admin
  listener has a budget of its own;
- a stalled body and an idle connection are closed by the 30 s idle timeout
  (MHD_OPTION_CONNECTION_TIMEOUT, a compile-time constant: the one test that
  waits for it takes ~30 s), and the stalled body's budget comes back;
- 4096 connections per listener (CONN_LIMIT): all are served; more wait in
  the listen backlog until a slot frees.

How a body is stalled: a POST announcing 4 MiB (the largest route body)
sends 2 MiB + 1 bytes and stops; revokd's buffer has then grown to 4 MiB
(doubling from 1 KiB), so 32 of them hold exactly the 128 MiB budget and
any further body is over it. No timing is asserted: states are polled up to
generous deadlines (bounds on a hung test, not speed claims).
"""
import resource
import socket
import time

import pytest
import requests

from conftest import ISS, assert_clean_exit
from support_extra import wait_for

RV = "/admin/v1/revocations"
BUDGET = 128 << 20
ROUTE_MAX = 4 << 20
STALL_SENT = (2 << 20) + 1          # makes the buffer grow to 4 MiB
STALLERS = BUDGET // ROUTE_MAX      # 32
OVER = {"error": "server_error", "error_description": "too many request bytes in flight"}
NO_SECRET = {"error": "access_denied", "error_description": "no webhook secret is configured"}
CONN_LIMIT = 4096
PER_IP = 1024


def stall(port, path, token=None):
    """A connection holding a stalled body on path (see the module doc)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    s.sendall((f"POST {path} HTTP/1.1\r\nHost: revokd\r\n{auth}"
               f"Content-Type: application/json\r\nContent-Length: {ROUTE_MAX}\r\n\r\n"
               ).encode())
    s.sendall(b" " * STALL_SENT)
    return s


def trickle(socks):
    """One more byte on each stalled body: under a slow build (ASan on a
    loaded machine) making 32 of them can outlast the 30 s idle timeout, which
    would close the first ones and give their budget back mid-test."""
    for s in socks:
        try:
            s.send(b" ")
        except OSError:
            pass


def events_probe(srv):
    """A small body on the public listener: /v1/events without a webhook
    secret answers 403 while the budget has room, else 503."""
    r = requests.post(srv.url + "/v1/events", json={}, timeout=30)
    assert r.headers["Content-Type"] == "application/json"
    return r.status_code, r.json()


def admin_post(srv, sid):
    r = requests.post(srv.admin_url + RV, timeout=30,
                      headers={"Authorization": "Bearer " + srv.admin_token},
                      json={"type": "session.revoked", "iss": ISS, "sid": sid})
    return r.status_code, r.json()


def closed_by_server(s):
    """True once the server closed s (EOF or reset); False while open."""
    s.setblocking(False)
    try:
        data = s.recv(65536)
        return data == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def test_body_budget_503_then_given_back(make_server):
    srv = make_server()                 # one listener: public and admin
    assert events_probe(srv) == (403, NO_SECRET)
    held = [stall(srv.port, "/v1/events") for _ in range(STALLERS)]
    try:
        # Once revokd has read what was sent, the budget is full.
        wait_for(lambda: trickle(held) or events_probe(srv) == (503, OVER), 60,
                 "503 past the budget")
        # Every body route of that listener shares it, the admin API too.
        assert admin_post(srv, "over-budget") == (503, OVER)
        # Bodyless routes are not affected.
        assert requests.get(srv.url + "/healthz", timeout=30).status_code == 200
    finally:
        for s in held:
            s.close()
    # The bodies' connections closed: their budget comes back.
    wait_for(lambda: events_probe(srv)[0] == 403, 60, "budget given back")
    assert events_probe(srv) == (403, NO_SECRET)
    code, body = admin_post(srv, "after-budget")
    assert code == 201, body
    # Nothing of the refused request was taken.
    r = srv.admin("GET", f"{RV}/session/over-budget", params={"iss": ISS})
    assert r.status_code == 404, r.text


def test_admin_listener_has_a_budget_of_its_own(make_server):
    """REFERENCE §8: the public side can never stop an operator from revoking."""
    srv = make_server(admin=True)
    held = [stall(srv.port, "/v1/events") for _ in range(STALLERS)]
    try:
        wait_for(lambda: trickle(held) or events_probe(srv) == (503, OVER), 60,
                 "public budget full")
        code, body = admin_post(srv, "operator-still-revokes")
        assert code == 201, body
        # The admin listener's own budget is bounded the same way.
        more = [stall(srv.admin_port, RV, srv.admin_token) for _ in range(STALLERS)]
        try:
            last = []

            def admin_full():
                trickle(held + more)
                last[:] = [admin_post(srv, "admin-full")]
                return last[0] == (503, OVER)
            try:
                wait_for(admin_full, 60, "admin budget full")
            except AssertionError as e:
                # Seen once in a full ASan run, never alone: say what the
                # listener answered and how many stalls it still held.
                still = sum(1 for s in more if not closed_by_server(s))
                raise AssertionError(f"{e}; last answer {last}; {still} of "
                                     f"{len(more)} admin stalls open") from None
        finally:
            for s in more:
                s.close()
        wait_for(lambda: admin_post(srv, "admin-back")[0] == 201, 60, "admin budget back")
    finally:
        for s in held:
            s.close()
    wait_for(lambda: events_probe(srv)[0] == 403, 60, "public budget back")


def test_idle_timeout_closes_stalled_bodies_and_idle_connections(make_server):
    """The only test that waits for the 30 s idle timeout (a compile-time
    constant, api/server.c CONN_TIMEOUT): nothing is closed by the client;
    the deadline below is a bound on a hung test, not the timeout's value."""
    srv = make_server()
    held = [stall(srv.port, "/v1/events") for _ in range(STALLERS)]
    idle = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    keepalive = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    keepalive.sendall(b"GET /healthz HTTP/1.1\r\nHost: revokd\r\n\r\n")
    assert keepalive.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
    try:
        wait_for(lambda: events_probe(srv) == (503, OVER), 60, "budget full")
        socks = held + [idle, keepalive]
        wait_for(lambda: all(closed_by_server(s) for s in socks), 120,
                 "stalled and idle connections closed by the idle timeout")
        # The stalled bodies' budget came back with them.
        wait_for(lambda: events_probe(srv)[0] == 403, 60, "budget given back")
        code, body = admin_post(srv, "after-idle-timeout")
        assert code == 201, body
    finally:
        for s in held + [idle, keepalive]:
            s.close()


@pytest.fixture
def nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < CONN_LIMIT + 2000:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_connection_limit_4096_per_listener(nofile, make_server):
    """4096 connections from four addresses (1024 each, the per-address
    limit) are all accepted and served; the 4097th waits in the listen
    backlog (it is not served, nor closed) until one of them goes, then it
    is served. (The per-address limit itself, closed at accept, is
    tests/e2e/test_abuse.py's.)"""
    srv = make_server()
    held = []
    req = b"GET /healthz HTTP/1.1\r\nHost: revokd\r\n\r\n"

    def serve_all(socks):
        """Each answers a request, which also resets its idle timer."""
        for s in socks:
            s.sendall(req)
        for s in socks:
            got = b""
            while b"\r\n\r\nok" not in got:
                chunk = s.recv(4096)
                assert chunk, "a held connection was closed"
                got += chunk
            assert got.startswith(b"HTTP/1.1 200 OK\r\n"), got

    try:
        refreshed = time.time()
        for a in range(2, 2 + CONN_LIMIT // PER_IP):
            for _ in range(PER_IP):
                s = socket.socket()
                s.bind((f"127.0.0.{a}", 0))
                s.settimeout(60)
                s.connect(("127.0.0.1", srv.port))
                held.append(s)
            # A slow machine can take longer than the 30 s idle timeout to
            # open 4096 connections: keep the first ones busy meanwhile.
            if time.time() - refreshed > 10:
                serve_all(held)
                refreshed = time.time()
        # All 4096 were accepted and are served.
        serve_all(held)
        extra = socket.socket()
        extra.bind(("127.0.0.6", 0))
        extra.settimeout(60)
        extra.connect(("127.0.0.1", srv.port))      # the kernel's backlog takes it
        extra.sendall(req)
        extra.settimeout(2)
        with pytest.raises(socket.timeout):
            extra.recv(4096)                          # not served while full
        held.pop().close()                            # one slot frees
        extra.settimeout(60)
        got = extra.recv(4096)
        assert got.startswith(b"HTTP/1.1 200 OK\r\n"), got
        extra.close()
    finally:
        for s in held:
            s.close()
    wait_for(lambda: requests.get(srv.url + "/healthz", timeout=30).status_code == 200,
             60, "served after the flood")
    assert_clean_exit(srv)
