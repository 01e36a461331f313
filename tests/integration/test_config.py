"""REFERENCE §1 and §2: the command line, the configuration file and its errors.

A configuration error exits 2 with one line naming the file, the key path
and what is wrong: `revokd: config <file>: <key path>: <what>`.
"""
import copy
import json
import os
import re
import subprocess

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import REVOKD, assert_allow, base_config, checked_run, free_port, pem_public, \
    start_server


@pytest.fixture
def mint(fast_mint):
    # Same tokens as conftest's Minter, minted without re-reading PEM keys.
    return fast_mint


def run(args, timeout=15, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return checked_run([REVOKD, *args], timeout=timeout, env=e)


@pytest.fixture
def cfg(tmp_path, keys):
    return base_config(str(tmp_path), keys)


def serve_bad(tmp_path, config, raw=None, subcommand=("serve",)):
    """Runs serve with config (a dict, or raw text) on a free port; returns
    (completed process, config path). A config that is accepted would serve
    until the timeout: that fails the test loudly."""
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        f.write(raw if raw is not None else json.dumps(config))
    p = run([*subcommand, "--config", path, "--listen", f"127.0.0.1:{free_port()}"])
    return p, path


def assert_config_error(p, path, key_path, what=None):
    assert p.returncode == 2, (p.returncode, p.stderr)
    prefix = f"revokd: config {path}: {key_path}: "
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("revokd: config ")]
    assert lines, p.stderr
    assert lines[0].startswith(prefix), (lines[0], prefix)
    if what is not None:
        assert lines[0] == prefix + what, lines[0]
    return lines[0][len(prefix):]


# --- unknown keys ------------------------------------------------------------

def test_unknown_top_level_key(tmp_path, cfg):
    cfg["foo"] = 1
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "foo", "unknown key")


def test_unknown_issuer_key(tmp_path, cfg):
    cfg["issuers"][0]["foo"] = True
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].foo", "unknown key")


def test_unknown_key_in_second_issuer_key(tmp_path, cfg):
    cfg["issuers"][1]["keys"][0]["use"] = "sig"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[1].keys[0].use", "unknown key")


@pytest.mark.parametrize("section,member", [("verified_cache", "size"),
                                            ("admin", "token"),
                                            ("webhook", "secret")])
def test_unknown_nested_key(tmp_path, cfg, section, member):
    cfg[section] = {member: 1}
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, f"{section}.{member}", "unknown key")


def test_misspelled_key_is_not_ignored(tmp_path, cfg):
    cfg["require_jtis"] = False
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "require_jtis", "unknown key")


# --- wrong types and ranges ------------------------------------------------

@pytest.mark.parametrize("key,value", [("threads", "2"), ("leeway", 1.5), ("leeway", "30"),
                                       ("require_jti", "yes"), ("require_jti", 1),
                                       ("max_token_bytes", None), ("listen", 8080),
                                       ("issuers", {}), ("forward_claims", ["sub"]),
                                       ("verified_cache", 5), ("token_cookie", 7)])
def test_wrong_type(tmp_path, cfg, key, value):
    cfg[key] = value
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, key)
    assert what.startswith("must be"), what


def test_wrong_type_nested(tmp_path, cfg):
    cfg["issuers"][0]["audiences"] = "orders-api"
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, "issuers[0].audiences")
    assert what.startswith("must be"), what


def test_wrong_type_message_names_the_type(tmp_path, cfg):
    cfg["threads"] = "2"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "threads", "must be an integer, not a string")


@pytest.mark.parametrize("key,value", [("threads", -1), ("leeway", -1), ("max_token_bytes", 0),
                                       ("max_token_lifetime", -5), ("threads", 10**12),
                                       ("leeway", 2**62)])
def test_out_of_range(tmp_path, cfg, key, value):
    cfg[key] = value
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, key)
    assert "out of range" in what, what


def test_out_of_range_nested(tmp_path, cfg):
    cfg["verified_cache"] = {"max_entries": 100, "ttl": -1}
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, "verified_cache.ttl")
    assert "out of range" in what, what


@pytest.mark.parametrize("key,value", [("log_format", "xml"), ("log_level", "verbose"),
                                       ("listen", "localhost"), ("listen", "127.0.0.1:99999")])
def test_bad_enum_or_address(tmp_path, cfg, key, value):
    cfg[key] = value
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, key)


# --- algorithms, keys, token types ------------------------------------------

def test_unknown_algorithm_spec_example(tmp_path, cfg):
    cfg["issuers"][0]["algorithms"] = ["RS256", "HS257"]
    p, path = serve_bad(tmp_path, cfg)
    # The REFERENCE's own example, §1.
    assert_config_error(p, path, "issuers[0].algorithms[1]", 'unknown algorithm "HS257"')


@pytest.mark.parametrize("spelling", ["none", "None", "NONE"])
def test_none_algorithm_is_an_error(tmp_path, cfg, spelling):
    cfg["issuers"][0]["algorithms"] = ["RS256", "ES256", "ES384", "HS256", spelling]
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].algorithms[4]")


def test_lowercase_algorithm_is_unknown(tmp_path, cfg):
    cfg["issuers"][1]["algorithms"] = ["es256"]
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[1].algorithms[0]", 'unknown algorithm "es256"')


def test_key_alg_not_in_issuer_algorithms(tmp_path, cfg):
    cfg["issuers"][1]["keys"] = [{"alg": "RS256", "pem_file": "keys/rsa.pem"}]
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, "issuers[1].keys[0].alg")
    assert "RS256" in what


def test_key_unknown_alg(tmp_path, cfg):
    cfg["issuers"][0]["keys"][2]["alg"] = "ES999"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[2].alg", 'unknown algorithm "ES999"')


def test_unreadable_pem_file(tmp_path, cfg):
    cfg["issuers"][0]["keys"][1]["pem_file"] = "keys/does-not-exist.pem"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[1].pem_file")


def test_pem_file_is_a_directory(tmp_path, cfg):
    cfg["issuers"][0]["keys"][0]["pem_file"] = "keys"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[0].pem_file")


def test_pem_file_not_a_key(tmp_path, cfg):
    with open(os.path.join(str(tmp_path), "keys", "junk.pem"), "w") as f:
        f.write("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n")
    cfg["issuers"][0]["keys"][0]["pem_file"] = "keys/junk.pem"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[0].pem_file")


def test_pem_of_wrong_family(tmp_path, cfg):
    # An EC key file for an RS256 key.
    cfg["issuers"][0]["keys"][0]["pem_file"] = "keys/ec256.pem"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[0].pem_file")


def test_ec_curve_mismatch(tmp_path, cfg):
    # A P-384 key declared ES256.
    cfg["issuers"][0]["keys"][1]["pem_file"] = "keys/ec384.pem"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[1].pem_file")


def test_rsa_1024_refused(tmp_path, cfg):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with open(os.path.join(str(tmp_path), "keys", "rsa1024.pem"), "wb") as f:
        f.write(pem_public(small))
    cfg["issuers"][0]["keys"][0]["pem_file"] = "keys/rsa1024.pem"
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, "issuers[0].keys[0].pem_file")
    assert "2048" in what, what


def test_hmac_key_with_pem_file(tmp_path, cfg):
    cfg["issuers"][0]["keys"][3] = {"kid": "hs1", "alg": "HS256", "pem_file": "keys/rsa.pem"}
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[3]")


def test_missing_secret_file(tmp_path, cfg):
    cfg["issuers"][0]["keys"][3]["secret_file"] = "keys/nope.secret"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[3].secret_file")


def test_bad_webhook_secret_is_not_echoed(tmp_path, cfg):
    # REFERENCE §2: secrets never appear in logs, metrics or errors.
    secret = "not-a-standard-webhooks-secret-Zq9x"
    with open(os.path.join(str(tmp_path), "keys", "wh.secret"), "w") as f:
        f.write(secret + "\n")
    cfg["webhook"] = {"secret_file": "keys/wh.secret"}
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "webhook.secret_file")
    assert secret not in p.stderr and secret not in p.stdout
    assert "Zq9x" not in p.stderr


def test_empty_secret_file(tmp_path, cfg):
    open(os.path.join(str(tmp_path), "keys", "empty.secret"), "w").close()
    cfg["issuers"][0]["keys"][3]["secret_file"] = "keys/empty.secret"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].keys[3].secret_file")


def test_duplicate_kid(tmp_path, cfg):
    cfg["issuers"][0]["keys"].append({"kid": "rsa1", "alg": "RS256",
                                      "pem_file": "keys/rsa.pem"})
    p, path = serve_bad(tmp_path, cfg)
    what = assert_config_error(p, path, "issuers[0].keys[4]")
    assert what == 'duplicate kid "rsa1"', what


@pytest.mark.parametrize("bad", ["logout+jwt", "secevent+jwt", "application/logout+jwt",
                                 "SECEVENT+JWT"])
def test_token_types_never_logout_or_set(tmp_path, cfg, bad):
    cfg["issuers"][0]["token_types"] = ["JWT", bad]
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].token_types[1]")


def test_issuer_without_key_source(tmp_path, cfg):
    del cfg["issuers"][1]["keys"]
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[1]")


def test_issuer_without_issuer(tmp_path, cfg):
    del cfg["issuers"][0]["issuer"]
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[0].issuer", "is required")


def test_issuer_without_algorithms(tmp_path, cfg):
    cfg["issuers"][1]["algorithms"] = []
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[1].algorithms")


def test_plain_http_jwks_only_to_loopback(tmp_path, cfg):
    cfg["issuers"][1]["jwks_uri"] = "http://idp.example.com/jwks"
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[1].jwks_uri")


def test_duplicate_issuer(tmp_path, cfg):
    cfg["issuers"].append(copy.deepcopy(cfg["issuers"][1]))
    p, path = serve_bad(tmp_path, cfg)
    assert_config_error(p, path, "issuers[2]", 'duplicate issuer "https://other.test"')


# --- JSON itself -----------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"listen": "127.0.0.1:8080",', "", "[]", "{'a': 1}",
                                 '{"threads": 2} {"threads": 3}'])
def test_invalid_json(tmp_path, raw):
    p, path = serve_bad(tmp_path, None, raw=raw)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith(f"revokd: config {path}: "), p.stderr


def test_invalid_json_names_line(tmp_path):
    p, path = serve_bad(tmp_path, None, raw='{\n  "threads": 2,\n  "leeway": ,\n}')
    assert p.returncode == 2
    assert re.match(rf"revokd: config {re.escape(path)}: line 3 column \d+: ", p.stderr), \
        p.stderr


def test_duplicate_key_in_json(tmp_path, cfg):
    raw = json.dumps(cfg)[:-1] + ', "leeway": 10, "leeway": 20}'
    p, path = serve_bad(tmp_path, None, raw=raw)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith(f"revokd: config {path}: "), p.stderr
    assert "duplicate" in p.stderr.lower() and "leeway" in p.stderr, p.stderr


def test_duplicate_key_nested(tmp_path, cfg):
    raw = json.dumps(cfg).replace('"issuer": "https://other.test"',
                                  '"issuer": "https://other.test", "issuer": "https://x.test"')
    assert raw != json.dumps(cfg)
    p, path = serve_bad(tmp_path, None, raw=raw)
    assert p.returncode == 2, p.stderr
    assert "duplicate" in p.stderr.lower(), p.stderr


def test_missing_config_file(tmp_path):
    path = os.path.join(str(tmp_path), "absent.json")
    p = run(["serve", "--config", path, "--listen", f"127.0.0.1:{free_port()}"])
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith(f"revokd: config {path}: "), p.stderr


def test_default_subcommand_is_serve(tmp_path, cfg):
    cfg["foo"] = 1
    p, path = serve_bad(tmp_path, cfg, subcommand=())
    assert_config_error(p, path, "foo", "unknown key")


def test_relative_paths_are_relative_to_config_folder(tmp_path, keys, mint):
    # Started from another working directory: keys/... resolve next to the file.
    cfg = base_config(str(tmp_path), keys)
    srv = start_server(str(tmp_path), cfg)
    try:
        assert_allow(srv.auth(mint.token("RS256")))
    finally:
        srv.stop()
    assert os.path.exists(os.path.join(str(tmp_path), "data"))


# --- flags -----------------------------------------------------------------

def test_listen_flag_overrides_file(tmp_path, keys, mint):
    file_port = free_port()
    cfg = base_config(str(tmp_path), keys, listen=f"127.0.0.1:{file_port}")
    srv = start_server(str(tmp_path), cfg)   # passes --listen <another port>
    try:
        assert srv.port != file_port
        assert_allow(srv.auth(mint.token("RS256")))
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{file_port}/healthz", timeout=2)
    finally:
        assert srv.stop() == 0


def test_data_dir_flag_overrides_file(tmp_path, keys):
    cfg = base_config(str(tmp_path), keys, data_dir="from-file")
    other = os.path.join(str(tmp_path), "from-flag")
    srv = start_server(str(tmp_path), cfg, extra_args=("--data-dir", other))
    try:
        assert os.path.isdir(other) and os.listdir(other)
        assert not os.path.exists(os.path.join(str(tmp_path), "from-file"))
    finally:
        assert srv.stop() == 0


def test_bad_flag_value_is_usage_error(tmp_path, cfg):
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    for args in (["--threads", "many"], ["--threads", "-3"], ["--log-level", "loud"],
                 ["--log-format", "xml"], ["--no-such-flag"]):
        p = run(["serve", "--config", path, *args])
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert p.stderr.strip(), args


@pytest.mark.parametrize("flag", ["--listen", "--admin-listen"])
@pytest.mark.parametrize("value", ["nope", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"])
def test_bad_listen_flag_is_usage_error(tmp_path, cfg, flag, value):
    # The flag is checked like the config key it overrides: exit 2 with a
    # message, never a crash.
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    args = ["serve", "--config", path, flag, value]
    if flag == "--admin-listen":
        args += ["--listen", f"127.0.0.1:{free_port()}"]
    p = run(args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert value in p.stderr, p.stderr


def test_help():
    p = run(["--help"])
    assert p.returncode == 0
    for sub in ("serve", "check", "revoke", "unrevoke", "list", "version"):
        assert sub in p.stdout


def test_serve_help_describes_every_flag():
    p = run(["serve", "--help"])
    assert p.returncode == 0
    for flag in ("--config", "--dev", "--data-dir", "--listen", "--admin-listen",
                 "--threads", "--log-format", "--log-level", "--redis-url"):
        assert flag in p.stdout, flag


@pytest.mark.parametrize("sub", ["check", "revoke", "unrevoke", "list"])
def test_subcommand_help(sub):
    p = run([sub, "--help"])
    assert p.returncode == 0, p.stderr
    assert "usage" in p.stdout.lower()


def test_unknown_subcommand():
    p = run(["frobnicate"])
    assert p.returncode == 2
    assert "frobnicate" in p.stderr


def test_version():
    p = run(["version"])
    assert p.returncode == 0
    names = [ln.split()[0].lower() for ln in p.stdout.splitlines() if ln.strip()]
    for lib in ("libjwt", "libmicrohttpd", "jansson", "libcurl", "sqlite", "liburcu",
                "hiredis"):
        assert lib in names, (lib, p.stdout)
    for ln in p.stdout.splitlines():
        if ln.strip():
            assert re.match(r"^\S+ \d+\.\d+(\.\d+)?\S*", ln), ln
    # The allocator is the last line (DECISIONS D28): jemalloc in the
    # builds tests/run.sh makes without a sanitizer, the C library's under
    # the sanitizers, which bring their own.
    sanitized = os.environ.get("ASAN_OPTIONS") or os.environ.get("TSAN_OPTIONS")
    assert names[-1] == ("glibc" if sanitized else "jemalloc"), p.stdout
