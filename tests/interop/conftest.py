"""tests/interop: revokd against real libraries of the identity ecosystem.

The other side of every test is a real, pinned library (package.json,
package-lock.json; installed by tests/install-deps.sh with `npm ci`): jose
signs, oidc-provider is the identity provider, openid-client and
oauth4webapi are the RFC 7662/7009 clients, standardwebhooks sends webhooks.
Small Node scripts in js/ drive them; pytest drives revokd and the scripts.

The integration fixtures (revokd on a free port, the examination of every
server a test starts) are re-exported from tests/integration/conftest.py,
as tests/e2e does."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

_path = os.path.join(os.path.dirname(__file__), "..", "integration", "conftest.py")
_name = "rvk_integration_conftest"
if _name in sys.modules:
    ic = sys.modules[_name]
else:
    _spec = importlib.util.spec_from_file_location(_name, _path)
    ic = importlib.util.module_from_spec(_spec)
    sys.modules[_name] = ic
    _spec.loader.exec_module(ic)

from rvk_integration_conftest import *  # noqa: E402,F401,F403

keys = ic.keys

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(HERE, "js")
NODE = os.environ.get("REVOKD_NODE", "node")


def _check_installed():
    missing = [p for p in ("jose", "oidc-provider", "openid-client", "oauth4webapi",
                           "standardwebhooks")
               if not os.path.isdir(os.path.join(HERE, "node_modules", p))]
    assert not missing, (f"tests/interop: {missing} not installed; run tests/install-deps.sh "
                         "(npm ci in tests/interop)")


def node(script, request=None, args=(), timeout=120):
    """Runs js/SCRIPT with REQUEST (JSON) on standard input; returns its JSON
    answer."""
    _check_installed()
    p = subprocess.run([NODE, os.path.join(JS, script), *args],
                       input=json.dumps(request if request is not None else {}),
                       capture_output=True, text=True, timeout=timeout, cwd=HERE)
    assert p.returncode == 0, f"node {script} exited {p.returncode}: {p.stderr[-3000:]}"
    return json.loads(p.stdout)


class _JoseWorker:
    """One Node process running js/jose.mjs --serve for the whole session."""

    def __init__(self):
        self.proc = None

    def call(self, req):
        _check_installed()
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([NODE, os.path.join(JS, "jose.mjs"), "--serve"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True, cwd=HERE)
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "jose worker died"
        answer = json.loads(line)
        assert "ok" in answer, answer.get("error")
        return answer["ok"]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


_JOSE = _JoseWorker()


def jose_keygen(algs):
    return _JOSE.call({"op": "keygen", "algs": list(algs)})


def jose_sign(jobs):
    """jobs: [{"alg", "key", "header", "payload"}] -> compact JWS strings."""
    return _JOSE.call({"op": "sign", "jobs": list(jobs)}) if jobs else []


def lib_versions():
    out = {}
    for p in ("jose", "oidc-provider", "openid-client", "oauth4webapi", "standardwebhooks"):
        with open(os.path.join(HERE, "node_modules", p, "package.json")) as f:
            out[p] = json.load(f)["version"]
    return out


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def b64u_decode(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jws_parts(tok):
    h, p, _ = tok.split(".")
    return json.loads(b64u_decode(h)), json.loads(b64u_decode(p))


@pytest.fixture(scope="session", autouse=True)
def interop_libraries():
    """Every interop test needs the pinned libraries; their versions are
    printed once (pytest -s) and asserted to be the pinned ones."""
    _check_installed()
    with open(os.path.join(HERE, "package.json")) as f:
        pinned = json.load(f)["dependencies"]
    got = lib_versions()
    for name, version in pinned.items():
        assert got[name] == version, (name, got[name], version)
    yield got
    _JOSE.close()
