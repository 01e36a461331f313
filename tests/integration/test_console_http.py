"""The incident console's HTTP side (docs/CONSOLE.md): the embedded files
under /admin/ on the admin listener, their headers exactly, only GET and
HEAD, nothing outside the embedded table (no directory traversal), and
nothing of it on the public listener when admin_listen is set.

The page in a real browser: test_console_browser.py.
"""
import http.client
import re

import pytest
import requests

from conftest import ISS, ISS2

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
FILES = {
    "/admin/": "text/html; charset=utf-8",
    "/admin/index.html": "text/html; charset=utf-8",
    "/admin/console.css": "text/css; charset=utf-8",
    "/admin/console.js": "text/javascript; charset=utf-8",
    "/admin/favicon.svg": "image/svg+xml",
}
SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@pytest.fixture(scope="module")
def split(module_make_server):
    """Public and admin listeners apart (admin_listen set)."""
    return module_make_server(admin=True)


@pytest.fixture(scope="module")
def single(module_make_server):
    """One listener serving both."""
    return module_make_server()


def raw(url, method, path, headers=None):
    """One request as written (requests and urllib normalise '..')."""
    host, port = url.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


@pytest.mark.parametrize("path,ctype", FILES.items())
def test_files_and_exact_headers(split, path, ctype):
    r = requests.get(split.admin_url + path, timeout=10)
    assert r.status_code == 200, (path, r.status_code)
    assert r.headers["Content-Type"] == ctype
    for k, v in SECURITY.items():
        assert r.headers[k] == v, (path, k, r.headers.get(k))
    assert r.headers["Cache-Control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{16}"', r.headers["ETag"]), r.headers["ETag"]
    assert "Set-Cookie" not in r.headers
    assert int(r.headers["Content-Length"]) == len(r.content) > 0
    # revalidation: the same bytes answer 304 with the same headers, no body
    r2 = requests.get(split.admin_url + path, headers={"If-None-Match": r.headers["ETag"]},
                      timeout=10)
    assert r2.status_code == 304 and r2.content == b""
    assert r2.headers["ETag"] == r.headers["ETag"]
    assert r2.headers["Cache-Control"] == "no-cache"
    assert r2.headers["Content-Security-Policy"] == CSP
    other = requests.get(split.admin_url + path, headers={"If-None-Match": '"0000000000000000"'},
                         timeout=10)
    assert other.status_code == 200 and other.content == r.content


def test_index_is_the_console_and_loads_only_its_own_files(split):
    html = requests.get(split.admin_url + "/admin/", timeout=10).text
    assert "<title>revokd · incident console</title>" in html
    # no inline script or style, no other origin
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/admin/console.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r" on[a-z]+=", html)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(x.startswith("/admin/") or x.startswith("#") for x in refs), refs
    js = requests.get(split.admin_url + "/admin/console.js", timeout=10).text
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "eval(" not in js and "localStorage" not in js and "document.cookie" not in js


def test_head_matches_get_without_body(split):
    g = requests.get(split.admin_url + "/admin/console.js", timeout=10)
    h = requests.head(split.admin_url + "/admin/console.js", timeout=10)
    assert h.status_code == 200 and h.content == b""
    for k in ("Content-Type", "ETag", "Cache-Control", "Content-Security-Policy",
              "X-Frame-Options", "Referrer-Policy"):
        assert h.headers[k] == g.headers[k]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(split, method):
    r = requests.request(method, split.admin_url + "/admin/", timeout=10, data=b"x")
    assert r.status_code == 405, (method, r.status_code)
    assert r.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/admin/nope", "/admin/v1/nope", "/admin/v1/stats/x"])
def test_unknown_admin_paths_are_404_whatever_the_method(split, method, path):
    r = requests.request(method, split.admin_url + path, timeout=10,
                         headers={"Authorization": f"Bearer {split.admin_token}"})
    assert r.status_code == 404, (method, path, r.status_code)
    assert r.json() == {"error": "not_found", "error_description": "no such path"}


def test_admin_without_slash_redirects(split):
    r = requests.get(split.admin_url + "/admin", allow_redirects=False, timeout=10)
    assert r.status_code == 308
    assert r.headers["Location"] == "/admin/"
    assert r.headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize("path", [
    "/admin/../healthz", "/admin/../../etc/passwd", "/admin/%2e%2e/%2e%2e/etc/passwd",
    "/admin/..%2f..%2fetc%2fpasswd", "/admin/console/../console.js", "/admin//console.js",
    "/admin/./console.js", "/admin/console.js/", "/admin/CONSOLE.JS",
    "/admin/embed.py", "/admin/meson.build", "/admin/console_assets.c", "/admin/nope",
    "/admin/v1/", "/admin/v1/nope", "/admin/..", "/admin/.", "/admin/%2e%2e",
    "/admin/index.html?x=../../etc/passwd#",
])
def test_nothing_outside_the_embedded_files(split, path):
    status, headers, body = raw(split.admin_url, "GET", path)
    if path.startswith("/admin/index.html?"):
        # the query is not part of the name
        assert status == 200 and b"incident console" in body
        return
    assert status == 404, (path, status, body[:200])
    assert headers["Content-Type"] == "application/json"
    assert b"root:" not in body


def test_nul_ends_the_name(split):
    """MHD percent-decodes the path before routing and a %00 ends it (as for
    the admin API's IDs): console.js%00.html names console.js, served as
    itself with its own Content-Type, never as HTML."""
    status, headers, body = raw(split.admin_url, "GET", "/admin/console.js%00.html")
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_not_on_the_public_listener_when_admin_listen_is_set(split):
    for path in list(FILES) + ["/admin"]:
        for method in ("GET", "HEAD"):
            r = requests.request(method, split.url + path, allow_redirects=False, timeout=10)
            assert r.status_code == 404, (method, path, r.status_code)
            assert "Content-Security-Policy" not in r.headers


def test_single_listener_serves_the_console(single):
    r = requests.get(single.url + "/admin/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Security-Policy"] == CSP


def test_metrics_on_the_admin_origin(split):
    """The live panel reads /metrics from its own origin."""
    r = requests.get(split.admin_url + "/metrics", timeout=10)
    assert r.status_code == 200
    assert "revokd_decisions_total" in r.text


def test_stats_lists_the_issuers(split):
    r = split.admin("GET", "/admin/v1/stats")
    assert r.status_code == 200
    assert r.json()["issuers"] == [ISS, ISS2]


def test_files_need_no_token_but_the_api_does(split):
    assert requests.get(split.admin_url + "/admin/", timeout=10).status_code == 200
    assert requests.get(split.admin_url + "/admin/v1/stats", timeout=10).status_code == 401
