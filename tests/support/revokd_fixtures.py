"""Fixtures shared by the integration and end-to-end tests: one pytest
plugin module, imported by tests/integration/conftest.py,
tests/e2e/conftest.py and tests/support/selftest/conftest.py (each puts
tests/support on sys.path and re-exports every name, so test modules keep
saying `from conftest import ISS, ...`). Python imports it once per session
whichever conftest loads first, so there is one registry of servers and
every server any suite starts is examined (below: examine_servers).

Every test talks to the real `revokd` binary (REVOKD_BIN, set by
tests/run.sh; default build/service/revokd) started on a free loopback port
with a configuration written into a temporary folder. Tokens are minted by
independent libraries (PyJWT, jwcrypto), never by revokd itself.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid

import jwt  # PyJWT
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from keyhash import key_hash, register as register_db_functions  # noqa: F401 - re-exported for tests
from keyhash import bucket as digest_bucket, change_hash, version_hash  # noqa: F401

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REVOKD = os.path.abspath(os.environ.get("REVOKD_BIN", os.path.join(ROOT, "build", "service", "revokd")))
ISS = "https://idp.test/realms/main"
ISS2 = "https://other.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pem_public(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Keys:
    """One key of every family, made once per test session (RSA is slow)."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec256 = ec.generate_private_key(ec.SECP256R1())
        self.ec384 = ec.generate_private_key(ec.SECP384R1())
        self.ec_other = ec.generate_private_key(ec.SECP256R1())
        # A secret file loses trailing white space when read (a newline an
        # editor added is not part of the secret), so a random secret must
        # not end in such a byte: it would load as 31 bytes, below HS256's
        # 32 (about one session in 40 would fail to start every server).
        self.hs = secrets.token_bytes(32)
        while self.hs[-1:].isspace():
            self.hs = secrets.token_bytes(32)


@pytest.fixture(scope="session")
def keys():
    return Keys()


class Server:
    def __init__(self, proc, port, admin_port, workdir, config, admin_token):
        self.proc = proc
        self.port = port
        self.admin_port = admin_port
        self.url = f"http://127.0.0.1:{port}"
        self.admin_url = f"http://127.0.0.1:{admin_port or port}"
        self.workdir = workdir
        self.config = config
        self.admin_token = admin_token
        self.session = requests.Session()
        self.expected_exits = set()
        self.examined = False
        _SERVERS.append(self)

    def auth(self, token=None, headers=None, method="GET", path="/auth"):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.url + path, headers=h, timeout=10)

    def admin(self, method, path, **kw):
        h = kw.pop("headers", {})
        h.setdefault("Authorization", f"Bearer {self.admin_token}")
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.admin_url + path, headers=h, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def expect_exit(self, *codes):
        """The test asks for these exit statuses (e.g. 1 for a runtime
        failure it provoked); examine() accepts them."""
        self.expected_exits.update(codes)

    def stderr_text(self):
        with open(os.path.join(self.workdir, "stderr.log"), errors="replace") as f:
            return f.read()


def base_config(workdir, keys, **over):
    """A config with two issuers and every kind of static key."""
    kd = os.path.join(workdir, "keys")
    os.makedirs(kd, exist_ok=True)
    files = {
        "rsa.pem": pem_public(keys.rsa),
        "ec256.pem": pem_public(keys.ec256),
        "ec384.pem": pem_public(keys.ec384),
        "hs.secret": keys.hs + b"\n",
        "admin.token": b"test-admin-token-0123456789\n",
    }
    for name, data in files.items():
        with open(os.path.join(kd, name), "wb") as f:
            f.write(data)
    cfg = {
        "data_dir": "data",
        "log_format": "json",
        "threads": 2,
        "forward_claims": {"sub": "X-Auth-Subject", "scope": "X-Auth-Scope",
                           "email": "X-Auth-Email", "roles": "X-Auth-Roles"},
        "issuers": [
            {
                "issuer": ISS,
                "audiences": ["orders-api"],
                "algorithms": ["RS256", "ES256", "ES384", "HS256"],
                "keys": [
                    {"kid": "rsa1", "alg": "RS256", "pem_file": "keys/rsa.pem"},
                    {"kid": "ec1", "alg": "ES256", "pem_file": "keys/ec256.pem"},
                    {"kid": "ec384", "alg": "ES384", "pem_file": "keys/ec384.pem"},
                    {"kid": "hs1", "alg": "HS256", "secret_file": "keys/hs.secret"},
                ],
                "backchannel_client_id": "gateway",
            },
            {
                "issuer": ISS2,
                "algorithms": ["ES256"],
                "keys": [{"alg": "ES256", "pem_file": "keys/ec256.pem"}],
            },
        ],
        "admin": {"token_file": "keys/admin.token"},
    }
    cfg.update(over)
    return cfg


def start_server(workdir, config, extra_args=(), env=None, admin=False, wait=True):
    port = free_port()
    admin_port = None
    while admin and admin_port in (None, port):   # the kernel may hand out one port twice
        admin_port = free_port()
    if admin:
        config = dict(config, admin_listen=f"127.0.0.1:{admin_port}")
    path = os.path.join(workdir, "revokd.json")
    with open(path, "w") as f:
        json.dump(config, f)
    args = [REVOKD, "serve", "--config", path, "--listen", f"127.0.0.1:{port}", *extra_args]
    e = dict(os.environ)
    e.update(env or {})
    err = open(os.path.join(workdir, "stderr.log"), "ab")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=e)
    token = "test-admin-token-0123456789"
    srv = Server(proc, port, admin_port, workdir, config, token)
    if wait:
        deadline = time.time() + 30
        while time.time() < deadline:
            if proc.poll() is not None:
                # A refusal to start is an answer a test may expect (as a
                # RuntimeError); a sanitizer report or a crash never is.
                srv.examined = True
                assert_no_sanitizer(srv.stderr_text(), proc.returncode)
                assert proc.returncode > 0, \
                    f"revokd died at start: {proc.returncode}: {srv.stderr_text()[-4000:]}"
                raise RuntimeError(f"revokd exited {proc.returncode}: {srv.stderr_text()}")
            try:
                if requests.get(srv.url + "/readyz", timeout=1).status_code == 200:
                    return srv
            except requests.RequestException:
                pass
            time.sleep(0.05)
        srv.stop(signal.SIGKILL)
        raise RuntimeError("revokd did not become ready: " + srv.stderr_text())
    return srv


# ---------------------------------------------------------------------------
# Every process a test starts is examined when it is done, running or not.
#
# tests/support/harness.sh makes every sanitizer exit with SANITIZER_EXIT,
# a code revokd never uses (its own are 0, 1 and 2; ASan's and UBSan's
# default, 1, would pass for "a clear refusal"). A sanitizer report in a log
# or that exit status fails the test that started the process, whatever the
# test itself asserted; so does a crash signal or an exit status that the
# test did not ask for (Server.expect_exit).

SANITIZER_EXIT = int(os.environ.get("RVK_SANITIZER_EXIT", "86"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL,
                 signal.SIGFPE, signal.SIGSYS, signal.SIGTRAP}
# Signals only a test sends (revokd never raises them on itself).
TEST_SIGNALS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                signal.SIGQUIT}
_SERVERS = []


def sanitizer_report(text):
    """The first line of a sanitizer report in text, or None."""
    for line in text.splitlines():
        if any(m in line for m in SANITIZER_MARKS):
            return line
    return None


def assert_no_sanitizer(text, code=None, what="revokd"):
    """Fails on a sanitizer report in text or on the sanitizers' exit code."""
    line = sanitizer_report(text)
    assert line is None, f"{what}: sanitizer report: {line}\n{text[-4000:]}"
    assert code != SANITIZER_EXIT, \
        f"{what}: exit {code}, the sanitizers' exit code\n{text[-4000:]}"


def checked_run(args, **kw):
    """subprocess.run for a revokd command (capture_output and text set):
    the caller asserts the exit status and output it expects; this fails
    first on a sanitizer report or a crash, which no expectation covers."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run(args, **kw)
    err = p.stderr if isinstance(p.stderr, str) else (p.stderr or b"").decode(errors="replace")
    assert_no_sanitizer(err, p.returncode, what=" ".join(map(str, args[:2])))
    assert p.returncode >= 0 or -p.returncode not in CRASH_SIGNALS, \
        f"{args[:2]}: killed by signal {-p.returncode}\n{err[-4000:]}"
    return p


def examine(srv):
    """Checks a server that has exited (by the test's hand or its own):
    no sanitizer report in its log, no crash, no exit status the test did not
    ask for. Examines each server once."""
    if srv.examined:
        return
    srv.examined = True
    code = srv.proc.returncode
    text = srv.stderr_text()
    assert_no_sanitizer(text, code)
    if code is None or code == 0 or code in srv.expected_exits:
        return
    if code < 0:
        sig = signal.Signals(-code)
        assert sig in TEST_SIGNALS, f"revokd died of {sig.name}: {text[-4000:]}"
        return
    raise AssertionError(f"revokd exited {code} on its own: {text[-4000:]}")


def assert_clean_exit(srv):
    """SIGTERM, then: exit 0 and a clean log."""
    code = srv.stop()
    text = srv.stderr_text()
    srv.examined = True
    assert_no_sanitizer(text, code)
    assert code == 0, f"exit {code}: {text[-2000:]}"


def finish_server(srv):
    """Fixture teardown for every server: a running one must stop cleanly,
    one that already exited is examined."""
    if srv.proc.poll() is None:
        assert_clean_exit(srv)
    else:
        examine(srv)


def finish_all(servers):
    """finish_server for each, stopping every one before judging any, so a
    failed check leaves no process behind; re-raises the first failure."""
    failures = []
    for srv in servers:
        try:
            finish_server(srv)
        except AssertionError as e:
            failures.append(e)
    if failures:
        raise failures[0]


@pytest.fixture(autouse=True)
def examine_servers():
    """After each test: every server that exited is examined, and every
    server the test itself started (not a module's) and left running is
    stopped and must exit cleanly. Runs after the test's own fixtures have
    stopped theirs (autouse fixtures are set up first, torn down last)."""
    first = len(_SERVERS)
    yield
    problems = []
    for i, srv in enumerate(list(_SERVERS)):
        if srv.examined:
            continue
        try:
            if srv.proc.poll() is not None:
                examine(srv)
            elif i >= first:
                assert_clean_exit(srv)
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "\n\n".join(problems)


def pytest_configure(config):
    # An assertion that fails in a worker thread must fail the test, not
    # become a warning (threads should still hand errors to the main thread:
    # run_threads below).
    config.addinivalue_line(
        "filterwarnings", "error::pytest.PytestUnhandledThreadExceptionWarning")


def run_threads(target, args_list):
    """Starts one thread per args tuple, joins them all, then re-raises the
    first exception any of them raised, in the calling (test) thread."""
    import threading
    errors = []

    def wrap(*a):
        try:
            target(*a)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=a) for a in args_list]
    for t in threads:
        t.start()
    return threads, errors


@pytest.fixture
def make_server(tmp_path, keys):
    """Factory: make_server(**config_overrides) -> running Server."""
    started = []

    def make(extra_args=(), env=None, admin=False, **over):
        cfg = base_config(str(tmp_path), keys, **over)
        srv = start_server(str(tmp_path), cfg, extra_args, env, admin)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        finish_server(srv)


@pytest.fixture
def server(make_server):
    return make_server()


class Minter:
    """Mints tokens for the test issuers with PyJWT."""

    def __init__(self, keys):
        self.keys = keys

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": ISS, "sub": "alice", "aud": "orders-api", "iat": now,
             "exp": now + 600, "jti": str(uuid.uuid4())}
        for k, v in over.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        return c

    def token(self, alg="RS256", kid="default", headers=None, key=None, **claims):
        key_for = {"RS256": self.keys.rsa, "ES256": self.keys.ec256,
                   "ES384": self.keys.ec384, "HS256": self.keys.hs}
        kid_for = {"RS256": "rsa1", "ES256": "ec1", "ES384": "ec384", "HS256": "hs1"}
        h = dict(headers or {})
        if kid == "default":
            h["kid"] = kid_for.get(alg)
        elif kid is not None:
            h["kid"] = kid
        k = self.signing_key(key if key is not None else key_for[alg])
        return jwt.encode(self.claims(**claims), k, algorithm=alg, headers=h)

    def signing_key(self, k):
        """What PyJWT is handed: PEM bytes for an asymmetric key object."""
        if not isinstance(k, bytes) and hasattr(k, "private_bytes"):
            return pem_private(k)
        return k


@pytest.fixture
def mint(keys):
    return Minter(keys)


# ---------------------------------------------------------------------------
# Helpers for the /auth, configuration and `revokd check` suites
# (test_auth_*.py, test_config.py, test_check_cmd.py).
# ---------------------------------------------------------------------------
import base64  # noqa: E402
import hashlib  # noqa: E402
import hmac as _hmac  # noqa: E402
import re as _re  # noqa: E402

from cryptography.hazmat.primitives import hashes as _hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding as _padding  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import utils as _asym_utils  # noqa: E402

_HASHES = {"256": (_hashes.SHA256, hashlib.sha256, 32),
           "384": (_hashes.SHA384, hashlib.sha384, 48),
           "512": (_hashes.SHA512, hashlib.sha512, 66)}


def b64u(data):
    """Unpadded base64url of bytes (str is encoded as UTF-8)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_raw(alg, key, signing_input):
    """JWS signature of signing_input (bytes) for alg with key: an HMAC
    secret (bytes), or a cryptography RSA / EC private key. Works for any
    secret, including the PEM text of a public key (HS/RS confusion)."""
    cls, hfun, size = _HASHES[alg[2:]]
    if alg.startswith("HS"):
        return _hmac.new(key, signing_input, hfun).digest()
    if alg.startswith("RS"):
        return key.sign(signing_input, _padding.PKCS1v15(), cls())
    if alg.startswith("ES"):
        from cryptography.hazmat.primitives.asymmetric import ec as _ec
        der = key.sign(signing_input, _ec.ECDSA(cls()))
        r, s = _asym_utils.decode_dss_signature(der)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(alg)


def raw_token(header, payload, alg=None, key=None, sig=None):
    """A compact JWS built by hand. header/payload: dict (compact JSON) or
    bytes (used as they are). sig: bytes (encoded), str (used as it is), or
    None: signed with alg/key when key is given, else an empty signature."""
    def enc(part):
        if isinstance(part, (dict, list)):
            part = json.dumps(part, separators=(",", ":")).encode()
        return b64u(part)
    si = enc(header) + "." + enc(payload)
    if sig is None:
        sig = b64u(sign_raw(alg, key, si.encode())) if key is not None else ""
    elif isinstance(sig, bytes):
        sig = b64u(sig)
    return si + "." + sig


def www_invalid(reason):
    return f'Bearer realm="revokd", error="invalid_token", error_description="{reason}"'


def assert_deny(r, reason, head=False):
    """The §3 answer for an invalid or revoked token, exactly."""
    assert r.status_code == 401, (r.status_code, r.headers, r.content)
    assert r.headers.get("WWW-Authenticate") == www_invalid(reason), r.headers
    assert r.headers.get("Content-Type") == "application/json"
    assert "X-Auth-Subject" not in r.headers
    if not head:
        body = ('{"error":"invalid_token","error_description":"%s"}' % reason).encode()
        assert r.content == body, r.content
    else:
        assert r.content == b""


def assert_no_token(r, head=False):
    """The §3 answer when the request carries no token, exactly."""
    assert r.status_code == 401, (r.status_code, r.headers, r.content)
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="revokd"'
    assert r.headers.get("Content-Type") == "application/json"
    if not head:
        assert r.content == b'{"error":"invalid_request","error_description":"no token"}'
    else:
        assert r.content == b""


def assert_allow(r, head=False, **claims):
    """The §3 allow answer; claims (sub, iss, jti, exp) give the X-Auth-*
    values expected (None: the header must be absent)."""
    assert r.status_code == 200, (r.status_code, r.headers, r.content)
    assert r.content == b""
    if not head:
        assert r.headers.get("Content-Length") == "0"
    assert r.headers.get("Cache-Control") == "no-store"
    assert "WWW-Authenticate" not in r.headers
    names = {"sub": "X-Auth-Subject", "iss": "X-Auth-Issuer",
             "jti": "X-Auth-Token-Id", "exp": "X-Auth-Expires"}
    for claim, value in claims.items():
        h = names.get(claim, claim)
        if value is None:
            assert h not in r.headers, (h, r.headers)
        else:
            assert r.headers.get(h) == str(value), (h, r.headers)


def metric_value(text, name, labels=None):
    """Value of one sample in Prometheus text (0 when absent)."""
    want = name
    if labels:
        want += "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _re.match(r"^(\S+)\s+(\S+)", line)
        if m and m.group(1) == want:
            return float(m.group(2))
    return 0.0


def metrics_text(srv):
    r = srv.session.get(srv.url + "/metrics", timeout=10)
    assert r.status_code == 200
    return r.text


@pytest.fixture(scope="module")
def module_make_server(tmp_path_factory, keys):
    """Like make_server, but the servers live for the whole test module (one
    start per module instead of per test). make(**config_overrides)."""
    started = []

    def make(extra_args=(), env=None, admin=False, **over):
        d = str(tmp_path_factory.mktemp("revokd"))
        cfg = base_config(d, keys, **over)
        srv = start_server(d, cfg, extra_args, env, admin)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        finish_server(srv)


# ---------------------------------------------------------------------------
# Servers that a test restarts, kills or configures beyond base_config
# (admin API, durability, CLI tests).

class Spawner:
    def __init__(self, tmp_path_factory, keys):
        self.tmp = tmp_path_factory
        self.keys = keys
        self.started = []

    def new(self, admin=False, env=None, edit=None, extra_args=(), **over):
        """A server in a fresh folder; edit(cfg) may change the config."""
        d = str(self.tmp.mktemp("revokd"))
        cfg = base_config(d, self.keys, **over)
        if edit:
            edit(cfg)
        srv = start_server(d, cfg, extra_args, env, admin)
        self.started.append(srv)
        return srv

    def restart(self, srv, sig=signal.SIGTERM, env=None, extra_args=()):
        """Stops srv (SIGKILL: no clean shutdown) and starts the same
        configuration on the same data folder again."""
        if sig == signal.SIGKILL:
            srv.proc.kill()
            srv.proc.wait()
        else:
            assert_clean_exit(srv)
        cfg = dict(srv.config)
        cfg.pop("admin_listen", None)
        new = start_server(srv.workdir, cfg, extra_args, env, srv.admin_port is not None)
        self.started.append(new)
        return new


@pytest.fixture
def spawn(tmp_path_factory, keys):
    s = Spawner(tmp_path_factory, keys)
    yield s
    for srv in s.started:
        finish_server(srv)


# ---------------------------------------------------------------------------
# Taking revocations from identity providers (REFERENCE §5.1-5.5, §5.7): a server
# with a Standard Webhooks secret, a SET audience and introspection clients.

SET_AUDIENCE = "https://revokd.test/"
WEBHOOK_KEY = b"0123456789abcdef0123456789abcdef"
INTROSPECT_ID = "oathkeeper"
INTROSPECT_SECRET = "intro-secret-0123456789"


@pytest.fixture(scope="module")
def intake_server(tmp_path_factory, keys):
    """One server per test module configured for every intake endpoint; the
    first issuer has backchannel_client_id "gateway"."""
    d = str(tmp_path_factory.mktemp("revokd"))
    os.makedirs(os.path.join(d, "secrets"), exist_ok=True)
    with open(os.path.join(d, "secrets", "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(WEBHOOK_KEY).decode() + "\n")
    with open(os.path.join(d, "secrets", "intro.secret"), "w") as f:
        f.write(INTROSPECT_SECRET + "\n")
    cfg = base_config(
        d, keys, set_audience=SET_AUDIENCE,
        webhook={"secret_file": "secrets/webhook.secret", "tolerance": 300},
        introspection={"clients": [{"id": INTROSPECT_ID,
                                    "secret_file": "secrets/intro.secret"}]})
    srv = start_server(d, cfg)
    yield srv
    finish_server(srv)


# ---------------------------------------------------------------------------
# Remote keys (REFERENCE §6 JWKS): a JWKS / OpenID discovery server on loopback.

import base64 as _b64  # noqa: E402


def _b64u_int(i, size=None):
    size = size or (i.bit_length() + 7) // 8
    return _b64.urlsafe_b64encode(i.to_bytes(size, "big")).rstrip(b"=").decode()


def jwk_of(key, kid, alg=None, **extra):
    """The public JWK of a cryptography private key (RSA or EC)."""
    pub = key.public_key().public_numbers()
    if isinstance(key, rsa.RSAPrivateKey):
        j = {"kty": "RSA", "n": _b64u_int(pub.n), "e": _b64u_int(pub.e)}
    else:
        crv, size = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48),
                     "secp521r1": ("P-521", 66)}[key.curve.name]
        j = {"kty": "EC", "crv": crv, "x": _b64u_int(pub.x, size),
             "y": _b64u_int(pub.y, size)}
    j["kid"] = kid
    if alg:
        j["alg"] = alg
    j.update(extra)
    return j


class JwksServer:
    """Serves /jwks and /.well-known/openid-configuration from `keys` and
    `discovery`, misbehaving on demand: mode is one of ok, slow (7 s, past
    revokd's 5 s timeout), garbage, huge (10 MiB with Content-Length),
    chunked (10 MiB chunked), redirect (302 to a good document), error (500).
    hits counts requests by path; mode_hits by (path, mode)."""

    def __init__(self):
        import http.server
        import threading
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.keys = []
        self.discovery = None
        self.mode = "ok"
        self.hits = {}
        self.mode_hits = {}
        self.lock = threading.Lock()
        self._threading = threading
        self._http = http.server
        self.httpd = None
        self.start()

    def count(self, path="/jwks"):
        with self.lock:
            return self.hits.get(path, 0)

    def count_mode(self, mode, path="/jwks"):
        with self.lock:
            return self.mode_hits.get((path, mode), 0)

    def start(self):
        owner = self

        class Handler(self._http.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send_body(self, code, body, ctype="application/json"):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?")[0]
                with owner.lock:
                    mode = owner.mode
                    owner.hits[path] = owner.hits.get(path, 0) + 1
                    owner.mode_hits[(path, mode)] = owner.mode_hits.get((path, mode), 0) + 1
                    doc = ({"keys": list(owner.keys)} if path in ("/jwks", "/good")
                           else owner.discovery if path == "/.well-known/openid-configuration"
                           else None)
                try:
                    if doc is None:
                        return self.send_body(404, b"{}")
                    if path == "/good" or mode == "ok":
                        return self.send_body(200, json.dumps(doc).encode())
                    if mode == "slow":
                        time.sleep(7)
                        return self.send_body(200, json.dumps(doc).encode())
                    if mode == "garbage":
                        return self.send_body(200, b"\x00garbage{{{", "text/plain")
                    if mode == "error":
                        return self.send_body(500, b"oops", "text/plain")
                    if mode == "redirect":
                        self.send_response(302)
                        self.send_header("Location", owner.base + "/good")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    big = b'{"keys":[],"pad":"' + b"A" * (10 * 1024 * 1024) + b'"}'
                    if mode == "huge":
                        return self.send_body(200, big)
                    if mode == "chunked":
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for i in range(0, len(big), 65536):
                            part = big[i:i + 65536]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(self._http.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", self.port), Handler)
        self.thread = self._threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        """Down: connections are refused until start() again."""
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def jwks_server():
    s = JwksServer()
    yield s
    s.stop()


def mint_with(key, kid, alg, iss, **over):
    """A valid access token for iss, signed by a cryptography private key."""
    now = int(time.time())
    c = {"iss": iss, "sub": "alice", "iat": now, "exp": now + 600,
         "jti": str(uuid.uuid4())}
    c.update(over)
    h = {"kid": kid} if kid is not None else {}
    return jwt.encode(c, pem_private(key), algorithm=alg, headers=h)


class FastMinter(Minter):
    """Minter that hands PyJWT the key objects themselves: the same tokens,
    but without re-reading (and re-validating) the RSA PEM on every call,
    which costs ~170 ms per RS256 token. Test modules opt in by overriding
    their `mint` fixture with `fast_mint`."""

    def signing_key(self, k):
        return k


@pytest.fixture(scope="session")
def fast_mint(keys):
    return FastMinter(keys)


# ---------------------------------------------------------------------------
# Fault points (base/fault.h) exist only in builds configured with them
# (tests/run.sh does; a release build has none and refuses REVOKD_FAULTS).

def faults_compiled():
    try:
        out = subprocess.run([REVOKD, "version"], capture_output=True, text=True,
                             timeout=30).stdout
    except OSError:
        return False
    return "fault injection: on" in out


needs_faults = pytest.mark.skipif(
    not faults_compiled(),
    reason="this revokd build has no fault points (-Dfault_injection=enabled)")


def wait_ready(port, proc, watchdog=30):
    """Waits until 127.0.0.1:port answers /readyz 200 while proc runs (a
    server started by a command line, not by start_server); the watchdog
    only ends a hung start."""
    deadline = time.time() + watchdog
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"revokd exited {proc.returncode} before it was ready")
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError("revokd did not become ready")


def wait_for(pred, timeout=30.0, what="condition", step=0.05):
    """Polls pred() until it returns a true value (returned) or `timeout`
    seconds pass (AssertionError naming `what`). The timeout is a bound on
    how long a broken server may hang the suite, never an assertion about
    how fast a working one is."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the {timeout} s deadline: {what}")
        time.sleep(step)
