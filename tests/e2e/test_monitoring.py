"""Monitoring you can install: deploy/prometheus/revokd-rules.yml
and deploy/grafana/revokd-dashboard.json.

- the rules pass `promtool check rules`, and `promtool test rules` runs
  tests/prometheus/revokd-rules.test.yml, where every alert has a case
  that fires it and one that must not;
- every PromQL expression of the dashboard passes promtool (they are
  written into a rules file as recording rules, Grafana's $variables
  replaced by values: `$__rate_interval` → 5m, `$instance` → .*);
- every metric name the rules and the dashboard use is one a real revokd
  exports: a cluster-mode server (redis-server) with a JWKS issuer is
  scraped, so the cluster-only and JWKS families are there. The one name
  from elsewhere is `up`, which Prometheus itself writes for every target.

promtool missing is a failure, not a skip: tests/install-deps.sh installs
Debian's prometheus package.
"""
import json
import os
import re
import shutil
import subprocess
import time

import requests
import yaml

from revokd_fixtures import (ROOT, base_config, finish_server, jwk_of,
                                      start_server)

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
RULES = os.path.join(ROOT, "deploy", "prometheus", "revokd-rules.yml")
RULES_TEST = os.path.join(ROOT, "tests", "prometheus", "revokd-rules.test.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "revokd-dashboard.json")
FROM_PROMETHEUS = {"up"}        # written by Prometheus per scrape target

# PromQL words that are not metric names (functions are recognised by the
# "(" that follows them).
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "Inf", "NaN"}


def promtool(*args, cwd=None):
    assert os.path.exists(PROMTOOL), "promtool missing: apt-get install prometheus"
    p = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def rules_doc():
    with open(RULES) as f:
        return yaml.safe_load(f)


def rules():
    return [r for g in rules_doc()["groups"] for r in g["rules"]]


def dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def dashboard_exprs():
    """Every target expression of every panel (rows included)."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append((p["title"], t["expr"]))
            walk(p.get("panels", []))
    walk(dashboard()["panels"])
    return out


def grafana_to_promql(expr):
    return expr.replace("$__rate_interval", "5m").replace("$__interval", "1m") \
        .replace("$instance", ".*")


def metric_names(expr):
    """The metric names a PromQL expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)           # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                         # label matchers
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)                        # ranges
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", e):
        if e[m.end():].lstrip().startswith("(") or m.group(0) in KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def test_metric_names_extractor():
    assert metric_names('sum by (le) (rate(a_bucket{x="y",le!~"1"}[5m])) / '
                        'clamp_min(b_total offset 5m, 1e-9) > 3 * rec:ord:x and up == 0') == \
        {"a_bucket", "b_total", "rec:ord:x", "up"}


def test_rules_pass_promtool_and_their_unit_tests():
    out = promtool("check", "rules", RULES)
    assert "SUCCESS" in out, out
    out = promtool("test", "rules", os.path.basename(RULES_TEST),
                   cwd=os.path.dirname(RULES_TEST))
    assert "SUCCESS" in out, out


def test_every_alert_is_unit_tested_firing_and_silent():
    with open(RULES_TEST) as f:
        cases = [c for t in yaml.safe_load(f)["tests"] for c in t.get("alert_rule_test", [])]
    alerts = {r["alert"] for r in rules() if "alert" in r}
    assert alerts >= {"RevokdDown", "RevokdNotReady", "RevokdReplicationDegraded",
                      "RevokdReplicationLagging", "RevokdOutboxGrowing",
                      "RevokdJwksRefreshFailing", "RevokdStoreCommitErrors",
                      "RevokdDenyRateSpike", "RevokdBodyBudgetExhausted"}
    for name in alerts:
        mine = [c for c in cases if c["alertname"] == name]
        assert any(c["exp_alerts"] for c in mine), f"{name}: no case fires it"
        assert any(not c["exp_alerts"] for c in mine), f"{name}: no case where it stays silent"
    for r in rules():
        if "alert" in r:
            assert r["labels"]["severity"] in ("critical", "warning"), r
            assert r["annotations"]["summary"] and r["annotations"]["description"], r


def test_every_dashboard_expression_passes_promtool(tmp_path):
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    doc = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": grafana_to_promql(e)}
        for i, (_, e) in enumerate(exprs)]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(doc))
    out = promtool("check", "rules", str(path))
    assert f"SUCCESS: {len(exprs)} rules found" in out, out
    # Grafana variables used are only those the dashboard defines.
    defined = {v["name"] for v in dashboard()["templating"]["list"]}
    for _, e in exprs:
        for var in re.findall(r"\$(\w+)", e):
            assert var in defined or var.startswith("__"), (var, e)


def test_rules_and_dashboard_use_only_metrics_revokd_exports(tmp_path, keys, redis,
                                                            jwks_server, mint):
    d = str(tmp_path / "revokd")
    os.makedirs(d)
    jwks_server.keys = [jwk_of(keys.ec256, "j1", "ES256")]
    cfg = base_config(d, keys, redis={"url": redis.url, "stream": "revokd:monitoring"})
    cfg["issuers"][1]["jwks_uri"] = jwks_server.base + "/jwks"
    srv = start_server(d, cfg)
    try:
        assert srv.auth(mint.token()).status_code == 200
        deadline = time.time() + 20
        while "revokd_jwks_fetches_total{" not in srv.session.get(srv.url + "/metrics").text:
            assert time.time() < deadline, "no JWKS fetch counted"
            time.sleep(0.05)
        text = requests.get(srv.url + "/metrics", timeout=10).text
    finally:
        finish_server(srv)
    exported = {l.split("{")[0].split(" ")[0] for l in text.splitlines()
                if l and not l.startswith("#")}
    assert "revokd_replication_state" in exported and "process_open_fds" in exported
    recorded = {r["record"] for r in rules() if "record" in r}
    known = exported | recorded | FROM_PROMETHEUS
    used = {}
    for r in rules():
        for n in metric_names(r["expr"]):
            used.setdefault(n, []).append(r.get("alert") or r.get("record"))
    for title, e in dashboard_exprs():
        for n in metric_names(grafana_to_promql(e)):
            used.setdefault(n, []).append("dashboard: " + title)
    for v in dashboard()["templating"]["list"]:
        q = v.get("definition") or ""
        m = re.match(r"label_values\((\w+),", q)
        if m:
            used.setdefault(m.group(1), []).append("dashboard variable " + v["name"])
    assert len(used) >= 15, used
    unknown = {n: where for n, where in used.items() if n not in known}
    assert not unknown, f"not exported by revokd: {unknown}"
