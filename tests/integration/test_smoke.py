"""The service starts, answers /auth for a valid token, and stops cleanly."""


def test_valid_token_is_allowed(server, mint):
    tok = mint.token("RS256", sub="alice", scope="read write")
    r = server.auth(tok)
    assert r.status_code == 200
    assert r.headers["X-Auth-Subject"] == "alice"
    assert r.headers["X-Auth-Scope"] == "read write"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.content == b""


def test_healthz(server):
    r = server.session.get(server.url + "/healthz")
    assert r.status_code == 200
    assert r.text == "ok"
