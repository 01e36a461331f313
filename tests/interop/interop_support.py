"""Helpers of tests/interop (see conftest.py): the Node scripts in js/, the
jose worker, and the integration helpers re-exported. Test modules import
from here, not from `conftest`: when tests/integration, tests/e2e and
tests/interop run in one pytest session, `conftest` is whichever was loaded
last."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import revokd_fixtures as ic  # noqa: E402
from revokd_fixtures import *  # noqa: E402,F401,F403

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
