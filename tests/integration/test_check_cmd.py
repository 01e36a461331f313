"""REFERENCE §1: `revokd check [--config FILE] [--data-dir DIR] TOKEN`, offline.

Prints {"decision":"allow"|"deny","reason":...,"claims":{...}}; exit 0 on
allow, 1 on deny, 2 on a usage or configuration error.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import ISS, ISS2, REVOKD, base_config, checked_run, raw_token, start_server


@pytest.fixture
def mint(fast_mint):
    # Same tokens as conftest's Minter, minted without re-reading PEM keys.
    return fast_mint


@pytest.fixture
def config_path(tmp_path, keys):
    cfg = base_config(str(tmp_path), keys)
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def check(*args, timeout=15):
    return checked_run([REVOKD, "check", *args], timeout=timeout)


def test_allow_prints_claims(config_path, mint):
    c = mint.claims(sub="alice", scope="read", roles=["a", "b"])
    p = check("--config", config_path, mint.token("RS256", **c))
    assert p.returncode == 0, p.stderr
    out = p.stdout.strip()
    assert out.startswith('{"decision":"allow","reason":null,"claims":{'), out
    doc = json.loads(out)
    assert list(doc) == ["decision", "reason", "claims"]
    assert doc["claims"] == c
    assert len(p.stdout.splitlines()) == 1


@pytest.mark.parametrize("alg", ["ES256", "ES384", "HS256"])
def test_allow_every_key_kind(config_path, mint, alg):
    p = check("--config", config_path, mint.token(alg))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert json.loads(p.stdout)["decision"] == "allow"


def test_allow_second_issuer(config_path, mint):
    c = mint.claims(iss=ISS2, aud=None)
    p = check("--config", config_path, mint.token("ES256", kid=None, **c))
    assert p.returncode == 0, p.stdout
    assert json.loads(p.stdout)["claims"]["iss"] == ISS2


def deny_doc(p, reason):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    out = p.stdout.strip()
    assert out.startswith('{"decision":"deny","reason":"%s",' % reason), out
    doc = json.loads(out)
    assert list(doc) == ["decision", "reason", "claims"]
    return doc


@pytest.mark.parametrize("case,reason", [
    ("malformed", "malformed token"),
    ("issuer", "unknown issuer"),
    ("none", "unsupported algorithm"),
    ("kid", "unknown key"),
    ("crit", "unsupported critical header"),
    ("sig", "invalid signature"),
    ("expired", "token expired"),
    ("aud", "invalid audience"),
    ("typ", "wrong token type"),
    ("jti", "missing jti"),
    ("big", "token too large"),
])
def test_deny_reasons(config_path, mint, keys, case, reason):
    now = int(time.time())
    tok = {
        "malformed": lambda: "abc.def",
        "issuer": lambda: mint.token("RS256", iss="https://evil.test"),
        "none": lambda: raw_token({"alg": "none"}, mint.claims(), sig=""),
        "kid": lambda: mint.token("RS256", kid="nope"),
        "crit": lambda: mint.token("RS256", headers={"crit": ["exp"], "exp": 1}),
        "sig": lambda: mint.token("RS256", key=keys.rsa_other),
        "expired": lambda: mint.token("RS256", iat=now - 900, exp=now - 600),
        "aud": lambda: mint.token("RS256", aud="other"),
        "typ": lambda: mint.token("RS256", headers={"typ": "logout+jwt"}),
        "jti": lambda: mint.token("RS256", jti=None),
        "big": lambda: mint.token("RS256", pad="x" * 9000),
    }[case]()
    doc = deny_doc(check("--config", config_path, tok), reason)
    if case in ("expired", "aud", "typ", "jti"):
        # Step 5, after the signature verified: the claims are trusted and
        # shown, so the operator sees why (docs/SECURITY.md).
        assert doc["claims"] is not None and doc["claims"]["iss"] == ISS, doc
    else:
        # Steps 1-4 failed: the claims are not trusted, so not printed.
        assert doc["claims"] is None


def test_config_leeway_and_options_apply(tmp_path, keys, mint):
    cfg = base_config(str(tmp_path), keys, require_jti=False, max_token_lifetime=600,
                      leeway=0)
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    now = int(time.time())
    assert check("--config", path, mint.token("RS256", jti=None)).returncode == 0
    deny_doc(check("--config", path, mint.token("RS256", iat=now, exp=now + 601)),
             "token lifetime too long")
    deny_doc(check("--config", path, mint.token("RS256", iat=now - 100, exp=now - 5)),
             "token expired")


def test_revocations_from_data_dir(tmp_path, keys, mint):
    """A revocation taken by the server is seen by check (the config's
    data_dir, and --data-dir): then the claims are printed, since the token
    itself verified."""
    cfg = base_config(str(tmp_path), keys)
    srv = start_server(str(tmp_path), cfg)
    c = mint.claims(sub="revoked-by-check")
    tok = mint.token("RS256", **c)
    try:
        r = srv.admin("POST", "/admin/v1/revocations",
                      json={"type": "token.revoked", "iss": ISS, "jti": c["jti"]})
        assert r.status_code == 201, r.text
    finally:
        assert srv.stop() == 0
    path = os.path.join(str(tmp_path), "revokd.json")
    doc = deny_doc(check("--config", path, tok), "token revoked")
    assert doc["claims"] == c
    # Another token of the same issuer is fine.
    assert check("--config", path, mint.token("RS256")).returncode == 0
    # --data-dir pointing at an empty folder: no revocations.
    empty = os.path.join(str(tmp_path), "empty")
    os.makedirs(empty)
    assert check("--config", path, "--data-dir", empty, tok).returncode == 0
    # --data-dir pointing at the real one.
    data = os.path.join(str(tmp_path), "data")
    deny_doc(check("--config", path, "--data-dir", data, tok), "token revoked")


def test_check_does_not_create_data_dir(tmp_path, config_path, mint):
    assert check("--config", config_path, mint.token("RS256")).returncode == 0
    assert not os.path.exists(os.path.join(str(tmp_path), "data", "revokd.db"))


def test_usage_errors(config_path, mint):
    tok = mint.token("RS256")
    assert check("--config", config_path).returncode == 2           # no token
    assert check("--config", config_path, tok, tok).returncode == 2  # two tokens
    assert check("--bogus", "--config", config_path, tok).returncode == 2


def test_config_error_is_2(tmp_path, mint):
    path = os.path.join(str(tmp_path), "bad.json")
    with open(path, "w") as f:
        f.write('{"foo": 1}')
    p = check("--config", path, mint.token("RS256"))
    assert p.returncode == 2
    assert p.stderr.startswith(f"revokd: config {path}: foo: unknown key"), p.stderr
    assert p.stdout == ""


def test_help():
    p = check("--help")
    assert p.returncode == 0
    assert "--config" in p.stdout and "--data-dir" in p.stdout
