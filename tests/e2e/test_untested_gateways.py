"""The Envoy and Traefik examples are not run (no Debian package): their
files are checked for what can be checked without the gateway. Both say
they are untested; Envoy uses the top-level ext_authz `allowed_headers`
(http_service.authorization_request.allowed_headers is deprecated); Traefik
copies an explicit list of headers (authResponseHeaders), never a regex."""
import os

import yaml

from revokd_fixtures import ROOT

DEPLOY = os.path.join(ROOT, "deploy")


def load(*parts):
    with open(os.path.join(DEPLOY, *parts)) as f:
        text = f.read()
    return text, yaml.safe_load(text)


def find(node, key):
    """Every value under `key` anywhere in a YAML tree."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                out.append(v)
            out += find(v, key)
    elif isinstance(node, list):
        for v in node:
            out += find(v, key)
    return out


def test_envoy_example_is_marked_untested_and_uses_top_level_allowed_headers():
    text, doc = load("envoy", "envoy.yaml")
    assert "UNTESTED" in text
    with open(os.path.join(DEPLOY, "envoy", "README.md")) as f:
        assert "untested" in f.read()
    filters = find(doc, "http_filters")[0]
    authz = next(f for f in filters if f["name"] == "envoy.filters.http.ext_authz")
    cfg = authz["typed_config"]
    assert cfg["failure_mode_allow"] is False
    patterns = [p["exact"] for p in cfg["allowed_headers"]["patterns"]]
    assert "authorization" in patterns
    assert "authorization_request" not in cfg["http_service"]
    assert not find(cfg["http_service"], "allowed_headers")
    # Client X-Auth-* headers are removed before ext_authz.
    names = [f["name"] for f in filters]
    assert names.index("envoy.filters.http.header_mutation") < names.index(
        "envoy.filters.http.ext_authz")


def test_traefik_example_is_marked_untested_and_lists_the_headers():
    text, doc = load("traefik", "dynamic.yml")
    assert "UNTESTED" in text
    with open(os.path.join(DEPLOY, "traefik", "README.md")) as f:
        assert "untested" in f.read()
    fa = doc["http"]["middlewares"]["revokd"]["forwardAuth"]
    assert "authResponseHeadersRegex" not in fa
    assert {"X-Auth-Subject", "X-Auth-Issuer", "X-Auth-Token-Id",
            "X-Auth-Expires"} <= set(fa["authResponseHeaders"])
    assert fa["trustForwardHeader"] is False
