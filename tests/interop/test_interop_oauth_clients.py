"""openid-client and oauth4webapi (pinned in package.json; both certified
OAuth 2.0 clients) against revokd's RFC 7662 introspection and RFC 7009
revocation (REFERENCE §5.4, §5.7), with client_secret_basic and
client_secret_post (RFC 6749 §2.3.1), and secrets holding `+ / = : %` and
other characters that the form-urlencoding of Basic credentials changes."""
import json
import os
import subprocess
import time
import uuid

import pytest
import requests

from interop_support import (HERE, JS, NODE, assert_allow, assert_deny, finish_server,
                      jose_keygen, jose_sign, start_server, write_file)

ISS = "https://oauth.test/"
LIBS = ["openid-client", "oauth4webapi"]
AUTHS = ["basic", "post"]
CLIENTS = {
    "plain-client": "plain-secret-0123456789",
    "gw:edge": None,   # never configured: an id may not hold ':' (REFERENCE §2)
    "kong+gw": "s3cr+t/with=all:the%chars and space",
    "apisix": "%41%2B/+=:=:%%25",
    "émile": "sécret-ünïcode-€",
}


@pytest.fixture(scope="module")
def key():
    return jose_keygen(["ES256"])["ES256"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory, key):
    d = str(tmp_path_factory.mktemp("oauth"))
    write_file(os.path.join(d, "keys", "k.pem"), key["spki_pem"])
    clients = []
    for i, (cid, secret) in enumerate(CLIENTS.items()):
        if secret is None:
            continue
        write_file(os.path.join(d, "secrets", f"c{i}"), secret + "\n")
        clients.append({"id": cid, "secret_file": f"secrets/c{i}"})
    cfg = {"data_dir": "data", "threads": 2,
           "introspection": {"clients": clients},
           "issuers": [{"issuer": ISS, "algorithms": ["ES256"],
                        "keys": [{"kid": "k1", "alg": "ES256", "pem_file": "keys/k.pem"}]}]}
    s = start_server(d, cfg)
    yield s
    finish_server(s)


def token(key, **c):
    now = int(time.time())
    p = {"iss": ISS, "sub": "alice", "iat": now, "exp": now + 600, "jti": str(uuid.uuid4()),
         "scope": "read", "client_id": "web"}
    p.update(c)
    return jose_sign([{"alg": "ES256", "key": key["private_jwk"], "header": {"kid": "k1"},
                       "payload": p}])[0]


def run(jobs):
    p = subprocess.run([NODE, os.path.join(JS, "oauth_client.mjs")], cwd=HERE, timeout=60,
                       input=json.dumps({"jobs": jobs}), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def job(srv, lib, auth, cid, secret, op, tok):
    return {"lib": lib, "auth": auth, "base": srv.url, "client_id": cid, "secret": secret,
            "op": op, "token": tok}


def configured():
    return [(c, s) for c, s in CLIENTS.items() if s is not None]


def test_introspection_every_client_every_method(srv, key):
    tok = token(key)
    jobs, what = [], []
    for lib in LIBS:
        for auth in AUTHS:
            for cid, secret in configured():
                jobs.append(job(srv, lib, auth, cid, secret, "introspect", tok))
                what.append((lib, auth, cid))
    for w, r in zip(what, run(jobs)):
        assert "ok" in r, (w, r)
        assert r["ok"]["active"] is True and r["ok"]["sub"] == "alice", (w, r)
        assert r["ok"]["client_id"] == "web"


def test_introspection_wrong_credentials_refused(srv, key):
    tok = token(key)
    jobs, what = [], []
    for lib in LIBS:
        for auth in AUTHS:
            for cid, secret in [("plain-client", "wrong"), ("kong+gw", "s3cr+t/with=all:the%chars"),
                                ("nobody", "x"), ("gw:edge", "x"),
                                ("apisix", "%41%2B/ =:=:%%25")]:
                jobs.append(job(srv, lib, auth, cid, secret, "introspect", tok))
                what.append((lib, auth, cid))
    for w, r in zip(what, run(jobs)):
        assert "error" in r, (w, r)
        assert r["error"]["status"] == 401 or "401" in r["error"]["message"], (w, r)


def test_introspection_inactive_tokens(srv, key):
    now = int(time.time())
    bad = [token(key, exp=now - 300, iat=now - 600), token(key, iss="https://other.test/"),
           "not-a-jwt"]
    jobs = [job(srv, lib, "basic", "kong+gw", CLIENTS["kong+gw"], "introspect", t)
            for lib in LIBS for t in bad]
    for r in run(jobs):
        assert r == {"ok": {"active": False}}, r


def test_revocation_every_method(srv, key):
    jobs, toks = [], []
    for lib in LIBS:
        for auth in AUTHS:
            t = token(key)
            assert_allow(srv.auth(t))
            toks.append(t)
            jobs.append(job(srv, lib, auth, "kong+gw", CLIENTS["kong+gw"], "revoke", t))
    for r in run(jobs):
        assert r == {"ok": "revoked"}, r
    for t in toks:
        assert_deny(srv.auth(t), "token revoked")


def test_www_authenticate_basic_on_401(srv, key):
    r = requests.post(srv.url + "/v1/introspect", data={"token": token(key)}, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.post(srv.url + "/v1/introspect", timeout=10,
                      data={"token": token(key), "client_id": "plain-client",
                            "client_secret": "wrong"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    assert r.json()["error"] == "invalid_client"
