"""/metrics (REFERENCE §6): a live scrape after traffic of every kind is accepted
by `promtool check metrics` (Debian's `prometheus` package), and the
counters moved. promtool missing is a failure, not a skip: CI installs it."""
import os
import shutil
import subprocess
import time

from conftest import ISS, metric_value, metrics_text

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool_check(text):
    assert os.path.exists(PROMTOOL), "promtool missing: apt-get install prometheus"
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    out = (p.stdout + p.stderr).decode(errors="replace")
    # promtool exits 1 on lint problems too; both count as failures here.
    assert p.returncode == 0, out + "\n---\n" + text[:3000]
    return out


def traffic(srv, mint):
    """One request of every kind a scrape should show."""
    tok = mint.token()
    assert srv.auth(tok).status_code == 200
    assert srv.auth(tok).status_code == 200             # verified-cache hit
    assert srv.auth(None).status_code == 401             # no token
    assert srv.auth("not.a.token").status_code == 401    # malformed
    forged = tok[:-6] + ("AAAAAA" if not tok.endswith("AAAAAA") else "BBBBBB")
    assert srv.auth(forged).status_code == 401           # invalid signature
    now = int(time.time())
    assert srv.auth(mint.token(exp=now - 3600, iat=now - 7200)).status_code == 401
    assert srv.auth(mint.token(aud="someone-else")).status_code == 401
    victim = mint.token(jti="metrics-victim")
    r = srv.admin("POST", "/admin/v1/revocations",
                  json={"type": "token.revoked", "iss": ISS, "jti": "metrics-victim",
                        "reason": "metrics test"})
    assert r.status_code == 201, r.text
    assert srv.auth(victim).status_code == 401           # token revoked
    r = srv.admin("GET", "/admin/v1/revocations?limit=10")
    assert r.status_code == 200, r.text
    assert srv.session.get(srv.url + "/healthz", timeout=5).status_code == 200
    assert srv.session.get(srv.url + "/readyz", timeout=5).status_code == 200


def test_metrics_pass_promtool_and_counters_move(server, mint):
    before = metrics_text(server)
    promtool_check(before)
    traffic(server, mint)
    after = metrics_text(server)
    promtool_check(after)

    def moved(name, labels=None, by=1):
        b = metric_value(before, name, labels)
        a = metric_value(after, name, labels)
        assert a - b >= by, (name, labels, b, a)

    moved("revokd_decisions_total", {"result": "allow"}, 2)
    moved("revokd_decisions_total", {"result": "no_token"})
    moved("revokd_decisions_total", {"result": "malformed_token"})
    moved("revokd_decisions_total", {"result": "invalid_signature"})
    moved("revokd_decisions_total", {"result": "token_expired"})
    moved("revokd_decisions_total", {"result": "invalid_audience"})
    moved("revokd_decisions_total", {"result": "token_revoked"})
    moved("revokd_verified_cache_hits_total")
    moved("revokd_verified_cache_misses_total")
    moved("revokd_revocations_taken_total", {"source": "admin"})
    moved("revokd_revocations", {"type": "token"})
    moved("revokd_request_duration_seconds_count", {"route": "auth"}, 8)
    moved("revokd_request_duration_seconds_count", {"route": "admin"}, 2)
    moved("revokd_request_duration_seconds_count", {"route": "ops"}, 2)
    moved("revokd_store_commit_duration_seconds_count")
    # A histogram's +Inf bucket equals its count.
    assert metric_value(after, "revokd_request_duration_seconds_bucket",
                        {"route": "auth", "le": "+Inf"}) == \
        metric_value(after, "revokd_request_duration_seconds_count", {"route": "auth"})


def test_metrics_every_spec_family_is_typed(server):
    text = metrics_text(server)
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
    want = {
        "revokd_decisions_total": "counter",
        "revokd_request_duration_seconds": "histogram",
        "revokd_verified_cache_hits_total": "counter",
        "revokd_verified_cache_misses_total": "counter",
        "revokd_revocations": "gauge",
        "revokd_revocations_taken_total": "counter",
        "revokd_store_commit_duration_seconds": "histogram",
    }
    for name, kind in want.items():
        assert types.get(name) == kind, (name, types.get(name))
    for route in ("auth", "events", "backchannel", "keycloak", "revoke",
                  "introspect", "admin", "ops"):
        assert f'revokd_request_duration_seconds_count{{route="{route}"}}' in text, route
    r = server.session.head(server.url + "/metrics", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_jwks_fetch_metrics_pass_promtool(spawn):
    """An issuer with a JWKS URL that refuses connections: the fetch errors
    are counted, labelled by issuer, and the scrape still lints clean."""
    from conftest import ISS2, free_port
    closed = free_port()

    def edit(cfg):
        cfg["issuers"][1]["jwks_uri"] = f"http://127.0.0.1:{closed}/certs"

    srv = spawn.new(edit=edit)
    want = {"issuer": ISS2, "result": "error"}
    deadline = time.time() + 20
    while metric_value(metrics_text(srv), "revokd_jwks_fetches_total", want) < 1:
        assert time.time() < deadline, metrics_text(srv)
        time.sleep(0.05)
    text = metrics_text(srv)
    promtool_check(text)
    assert "# TYPE revokd_jwks_fetches_total counter" in text
