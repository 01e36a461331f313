"""REFERENCE §1: `revokd revoke | unrevoke | list` against a running server.
Exit codes: 0 done, 1 the server said no or could not be reached, 2 usage."""
import json
import os
import subprocess
import time

import pytest

from conftest import ISS, ISS2, REVOKD, assert_allow, assert_deny, checked_run, free_port

TOKEN = "test-admin-token-0123456789"


@pytest.fixture(scope="module")
def srv(module_make_server):
    return module_make_server()


def cli(*args, token=TOKEN, env=None):
    e = {k: v for k, v in os.environ.items() if k != "REVOKD_ADMIN_TOKEN"}
    if token is not None:
        e["REVOKD_ADMIN_TOKEN"] = token
    e.update(env or {})
    return checked_run([REVOKD, *args], env=e, timeout=30)


def test_revoke_jti_then_denied(srv, mint):
    tok = mint.token("RS256", jti="cli-jti-1")
    assert srv.auth(tok).status_code == 200
    p = cli("revoke", "--server", srv.admin_url, "--jti", "cli-jti-1", "--iss", ISS,
            "--reason", "from the cli")
    assert p.returncode == 0, p.stderr
    (rev,) = json.loads(p.stdout)["revocations"]
    assert rev["id"] == "cli-jti-1" and rev["reason"] == "from the cli"
    assert rev["source"] == "admin"
    assert_deny(srv.auth(tok), "token revoked")


@pytest.mark.parametrize("flag,etype,reason,claim", [
    ("--sid", "session", "session revoked", "sid"),
    ("--sub", "subject", "subject revoked", "sub"),
])
def test_revoke_session_subject_with_at(srv, mint, flag, etype, reason, claim):
    now = int(time.time())
    val = f"cli-{etype}-{now}"
    old = mint.token("RS256", iat=now - 100, **{claim: val})
    new = mint.token("RS256", iat=now, **{claim: val})
    p = cli("revoke", "--server", srv.admin_url, flag, val, "--iss", ISS, "--at", str(now - 50))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["revocations"][0]["revoked_at"] == now - 50
    assert_deny(srv.auth(old), reason)
    assert_allow(srv.auth(new))


def test_revoke_kid_and_issuer_then_unrevoke(srv, mint):
    tok = mint.token("ES256", kid=None, iss=ISS2, aud=None, iat=int(time.time()) - 10)
    p = cli("revoke", "--server", srv.admin_url, "--issuer", "--iss", ISS2)
    assert p.returncode == 0, p.stderr
    assert_deny(srv.auth(tok), "issuer revoked")
    p = cli("unrevoke", "--server", srv.admin_url, "--type", "issuer", "--iss", ISS2)
    assert p.returncode == 0, p.stderr
    assert "removed" in p.stdout
    assert_allow(srv.auth(tok))

    tok = mint.token("ES384")
    p = cli("revoke", "--server", srv.admin_url, "--kid", "ec384", "--iss", ISS)
    assert p.returncode == 0, p.stderr
    assert_deny(srv.auth(tok), "key revoked")
    p = cli("unrevoke", "--server", srv.admin_url + "/", "--type", "key", "--id", "ec384",
            "--iss", ISS)
    assert p.returncode == 0, p.stderr
    assert_allow(srv.auth(tok))


def test_token_file(srv, tmp_path):
    f = tmp_path / "tok"
    f.write_text(TOKEN + "\n")
    p = cli("revoke", "--server", srv.admin_url, "--jti", "via-file", "--iss", ISS,
            "--token-file", str(f), token=None)
    assert p.returncode == 0, p.stderr


def test_unrevoke_id_with_slash(srv):
    assert cli("revoke", "--server", srv.admin_url, "--sub", "a/b c%2F", "--iss", ISS).returncode == 0
    p = cli("unrevoke", "--server", srv.admin_url, "--type", "subject", "--id", "a/b c%2F",
            "--iss", ISS)
    assert p.returncode == 0, p.stderr
    assert srv.admin("GET", "/admin/v1/revocations/subject/a%2Fb%20c%252F?iss=" + ISS).status_code == 404


def test_unrevoke_absent_is_404_exit_1(srv):
    p = cli("unrevoke", "--server", srv.admin_url, "--type", "token", "--id", "never", "--iss", ISS)
    assert p.returncode == 1
    assert "not found (404)" in p.stderr


def test_list_pages_through_everything(spawn):
    s = spawn.new()
    evs = [{"type": "token.revoked", "iss": ISS, "jti": f"l{i:05}"} for i in range(1234)]
    evs += [{"type": "session.revoked", "iss": ISS, "sid": f"s{i}"} for i in range(3)]
    assert s.admin("POST", "/admin/v1/revocations", json={"events": evs}).status_code == 201
    p = cli("list", "--server", s.admin_url, "--limit", "5000")
    assert p.returncode == 0, p.stderr
    items = [json.loads(x) for x in p.stdout.splitlines()]
    ids = [(x["type"], x["id"]) for x in items]
    assert len(ids) == len(set(ids)) == 1237
    p = cli("list", "--server", s.admin_url, "--type", "session")
    assert p.returncode == 0
    assert sorted(json.loads(x)["id"] for x in p.stdout.splitlines()) == ["s0", "s1", "s2"]
    p = cli("list", "--server", s.admin_url, "--limit", "7", "--iss", ISS)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 7
    # default: 100
    p = cli("list", "--server", s.admin_url)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 100


def test_wrong_token_is_401_exit_1(srv):
    for args in (("revoke", "--jti", "x", "--iss", ISS), ("list",),
                 ("unrevoke", "--type", "token", "--id", "x", "--iss", ISS)):
        p = cli(args[0], "--server", srv.admin_url, *args[1:], token="wrong-token")
        assert p.returncode == 1, p
        assert "401" in p.stderr and "rejected" in p.stderr
    assert srv.admin("GET", "/admin/v1/revocations/token/x?iss=" + ISS).status_code == 404


def test_server_says_400_exit_1_with_description(srv):
    p = cli("revoke", "--server", srv.admin_url, "--jti", "x", "--iss", "https://unknown")
    assert p.returncode == 1
    assert "400" in p.stderr and "events[0].iss" in p.stderr


def test_admin_api_disabled_403_exit_1(spawn):
    s = spawn.new(edit=lambda c: c.pop("admin"))
    p = cli("list", "--server", s.admin_url)
    assert p.returncode == 1 and "403" in p.stderr


def test_connection_refused_exit_1():
    port = free_port()
    p = cli("revoke", "--server", f"http://127.0.0.1:{port}", "--jti", "x")
    assert p.returncode == 1
    assert "connection refused" in p.stderr


@pytest.mark.parametrize("args", [
    ("revoke", "--jti", "x"),                                       # no --server
    ("revoke", "--server", "http://127.0.0.1:1"),                   # nothing to revoke
    ("revoke", "--server", "http://127.0.0.1:1", "--jti", "a", "--sid", "b"),
    ("revoke", "--server", "http://127.0.0.1:1", "--jti", "a", "--exp", "soon"),
    ("revoke", "--server", "http://127.0.0.1:1", "--jti", "a", "--bogus"),
    ("revoke", "--server", "http://127.0.0.1:1", "--jti", "a", "extra"),
    ("unrevoke", "--server", "http://127.0.0.1:1", "--type", "token"),
    ("unrevoke", "--server", "http://127.0.0.1:1", "--type", "tokens", "--id", "x"),
    ("list", "--server", "http://127.0.0.1:1", "--limit", "0"),
    ("list", "--server", "http://127.0.0.1:1", "--type", "nope"),
])
def test_usage_errors_exit_2(args):
    p = cli(*args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stderr


def test_no_admin_token_exit_2(srv):
    p = cli("list", "--server", srv.admin_url, token=None)
    assert p.returncode == 2 and "REVOKD_ADMIN_TOKEN" in p.stderr


def test_help_exit_0():
    for cmd in ("revoke", "unrevoke", "list"):
        p = cli(cmd, "--help")
        assert p.returncode == 0 and "usage" in p.stdout
