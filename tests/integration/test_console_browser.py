"""The incident console in a real browser (docs/CONSOLE.md): Debian's
headless Chromium, driven over the DevTools protocol (cdp.py), against the
real binary with the admin API on its own listener.

What the operator does at 3 a.m., with the keyboard: unlock with the
token (a wrong one is refused and never shown), revoke a subject and see
/auth deny that subject's token, find it, lift it and see /auth allow it
again; list with the API's cursors; the confirmations for key and issuer;
the live panel; IDs and reasons that look like markup shown literally and
never run. Every page must end with no console error, no exception, no
CSP violation and no JavaScript dialog.

Screenshots of each screen go to the browser's tmp folder (screens/) and,
when REVOKD_SCREENSHOTS names a folder, there too (docs/console/ holds a
committed set).
"""
import json
import urllib.parse
import uuid

import pytest

from cdp import Browser, chromium_path
from conftest import ISS, ISS2, base_config, jwk_of, start_server

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="chromium is not installed (tests/install-deps.sh)")

RV = "/admin/v1/revocations"
WIDE = (1280, 800)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def srv(module_make_server):
    return module_make_server(admin=True)


@pytest.fixture(scope="module")
def shots():
    """shots(browser, name, full_page=False): Browser.shot (cdp.py)."""
    return lambda browser, name, full_page=False: browser.shot(name, full_page)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(str(tmp_path_factory.mktemp("chromium")), *WIDE)
    yield b
    b.close()


@pytest.fixture
def page(browser, srv):
    """The console freshly loaded at 1280x800; after the test, nothing went
    wrong on the page."""
    browser.viewport(*WIDE)
    browser.goto(srv.admin_url + "/admin/")
    browser.wait("document.activeElement && document.activeElement.id === 'token'",
                 what="the token field has the focus")
    yield browser
    assert browser.problems() == []


def login(b, srv):
    b.focus("#token")
    b.type(srv.admin_token)
    b.key("Enter")
    b.wait("!document.getElementById('app').hidden", what="the console unlocks")
    b.wait("document.getElementById('live-updated').textContent.startsWith('updated')",
           what="the first live update")


def uid(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def revoke_api(srv, **event):
    r = srv.admin("POST", RV, data=json.dumps(event),
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    return r.json()["revocations"][0]


def wait_status(srv, token, status, timeout=30):
    import time
    deadline = time.time() + timeout
    while True:
        r = srv.auth(token)
        if r.status_code == status:
            return r
        assert time.time() < deadline, (status, r.status_code, r.text)
        time.sleep(0.1)


def test_served_with_its_policy(page, srv, shots):
    main = [r for r in page.responses() if r["url"] == srv.admin_url + "/admin/"]
    assert main, page.responses()
    h = {k.lower(): v for k, v in main[0]["headers"].items()}
    assert h["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    # the page loaded only same-origin URLs
    for url in page.requests():
        assert url.startswith(srv.admin_url + "/"), url
    assert page.js("document.cookie") == ""
    shots(page, "01-login")


def test_the_policy_is_enforced_and_violations_are_seen(page):
    """The browser enforces the CSP (an inline script and an inline
    handler injected into the page do not run), and this harness sees the
    violation: the "no problems" check after every test is not blind."""
    page.js("""(() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = 1'; document.body.append(s);
        const i = document.createElement('img'); i.setAttribute('src', '/admin/favicon.svg?x');
        i.setAttribute('onload', 'window.__ran2 = 1'); document.body.append(i); })()""")
    page.wait("[...document.images].every(i => i.complete)", what="the image loads")
    assert page.js("typeof window.__ran") == "undefined"
    assert page.js("typeof window.__ran2") == "undefined"
    seen = page.problems()
    assert any("Content Security Policy" in str(p) for p in seen), seen
    page.events.clear()  # provoked here; the fixture checks the rest


def test_wrong_token_is_refused_and_never_shown(page, srv, shots):
    wrong = "not-the-token-" + uuid.uuid4().hex
    page.expect_http(401, "/admin/v1/stats")
    page.type(wrong)
    page.key("Enter")
    page.wait("!document.getElementById('login-error').hidden", what="the refusal")
    assert "Wrong admin token" in page.text("#login-error")
    assert page.js("document.getElementById('token').value") == ""
    assert page.js("document.getElementById('app').hidden") is True
    assert wrong not in page.js("document.documentElement.outerHTML")
    assert page.js("sessionStorage.length + localStorage.length") == 0
    shots(page, "02-wrong-token")
    # the refused request is the only one that carried it; then the right one
    login(page, srv)
    assert srv.admin_token not in page.js("document.documentElement.outerHTML")
    assert page.js("sessionStorage.length + localStorage.length") == 0


def test_no_admin_token_configured_says_so(browser, tmp_path, keys):
    """A server without an admin token: the API answers 403 to everything,
    and the console says the admin API is disabled."""
    cfg = base_config(str(tmp_path), keys)
    del cfg["admin"]
    srv = start_server(str(tmp_path), cfg, admin=True)
    browser.goto(srv.admin_url + "/admin/")
    browser.expect_http(403, "/admin/v1/stats")
    browser.wait("document.activeElement && document.activeElement.id === 'token'")
    browser.type("anything")
    browser.key("Enter")
    browser.wait("!document.getElementById('login-error').hidden", what="the refusal")
    assert "admin API is disabled" in browser.text("#login-error")
    assert browser.problems() == []


def test_server_gone_says_so(browser, make_server):
    """revokd stops under the page: the live panel says so and keeps
    trying; nothing throws."""
    srv = make_server(admin=True)
    browser.goto(srv.admin_url + "/admin/")
    browser.wait("document.activeElement && document.activeElement.id === 'token'")
    login(browser, srv)
    browser.expect_http("net::ERR_CONNECTION_REFUSED", srv.admin_url)
    assert srv.stop() == 0
    browser.wait("!document.getElementById('live-error').hidden", timeout=90,
                 what="the live panel notices")
    assert "Live data unavailable" in browser.text("#live-error")
    assert browser.text("#conn") == "Unreachable"
    assert browser.problems() == []


def test_revoke_find_and_lift_a_subject(page, srv, mint, shots):
    login(page, srv)
    sub = uid("alice")
    tok = mint.token(sub=sub)
    wait_status(srv, tok, 200)

    # Revoke, from the keyboard: the type select has the focus after login.
    page.select("#rv-type", "subject")
    page.select("#rv-iss", ISS)
    page.focus("#rv-id")
    page.type(sub)
    page.key("Tab")
    assert page.active_id() == "rv-reason"
    page.type("phished at 02:51, ticket INC-4711")
    page.key("Enter")
    page.wait("document.getElementById('revoke-status').textContent.startsWith('Revoked')",
              what="the revocation is acknowledged")
    wait_status(srv, tok, 401)  # /auth denies that subject's token
    assert page.js("document.querySelectorAll('#results .rev').length") == 1
    card = page.text("#results .rev")
    assert sub in card and "phished at 02:51, ticket INC-4711" in card
    assert "admin" in card and "left" in card
    page.js("document.getElementById('revoke-form').scrollIntoView()")
    shots(page, "03-revoked")

    # Find it: type, issuer, ID, Enter.
    page.select("#find-type", "subject")
    page.select("#find-iss", ISS)
    page.focus("#find-id")
    page.type(sub)
    page.key("Enter")
    page.wait("document.getElementById('find-status').textContent.startsWith('1 revocation')",
              what="the search result")
    assert sub in page.text("#results .rev-id")
    page.js("document.getElementById('find-form').scrollIntoView()")
    shots(page, "04-search")

    # Lift it: the confirmation opens on Cancel; Tab to Confirm, Enter.
    page.js("document.querySelector('#results .rev button').focus()")
    page.key("Enter")
    page.wait("document.getElementById('confirm').open", what="the confirmation")
    assert page.active_id() == "confirm-cancel"
    assert sub in page.text("#confirm")
    shots(page, "05-confirm-lift")
    page.key("Tab")
    assert page.active_id() == "confirm-ok"
    page.key("Enter")
    page.wait("document.getElementById('find-status').textContent.startsWith('Lifted')",
              what="the lift is acknowledged")
    assert page.js("document.querySelectorAll('#results .rev').length") == 0
    assert page.active_id() == "find-id"  # the focus is not lost with the card
    wait_status(srv, tok, 200)  # allowed again
    q = f"{RV}/subject/{urllib.parse.quote(sub, safe='')}?iss={urllib.parse.quote(ISS, safe='')}"
    assert srv.admin("GET", q).status_code == 404

    # A search for what is not revoked says so.
    page.expect_http(404, "/admin/v1/revocations/subject/")
    page.focus("#find-id")
    page.key("Enter")
    page.wait("document.getElementById('find-status').textContent.startsWith('Not revoked')",
              what="the not-revoked answer")


def test_ids_with_slashes_and_query_characters(page, srv):
    """An ID is everything after {type}/ (REFERENCE §5.6): the console encodes
    it, so "/", "?", "#", "%" and spaces reach the API intact."""
    login(page, srv)
    jti = uid("a/b?c=d#e%20f g")
    page.select("#rv-type", "token")
    page.select("#rv-iss", ISS)
    page.focus("#rv-id")
    page.type(jti)
    page.key("Enter")
    page.wait("document.getElementById('revoke-status').textContent.startsWith('Revoked')",
              what="the token revocation")
    one = f"{RV}/token/{urllib.parse.quote(jti, safe='')}?iss={urllib.parse.quote(ISS, safe='')}"
    assert srv.admin("GET", one).json()["id"] == jti
    page.select("#find-type", "token")
    page.select("#find-iss", ISS)
    page.focus("#find-id")
    page.type(jti)
    page.key("Enter")
    page.wait("document.getElementById('find-status').textContent.startsWith('1 revocation')",
              what="found by its ID")
    assert page.text("#results .rev-id") == jti
    page.js("document.querySelector('#results .rev button').focus()")
    page.key("Enter")
    page.wait("document.getElementById('confirm').open", what="the confirmation")
    page.key("Tab")
    page.key("Enter")
    page.wait("document.getElementById('find-status').textContent.startsWith('Lifted')",
              what="lifted")
    assert srv.admin("GET", one).status_code == 404


def test_key_and_issuer_ask_first(page, srv, mint):
    login(page, srv)
    kid = uid("leaked-kid")
    page.select("#rv-type", "key")
    page.select("#rv-iss", ISS2)
    page.focus("#rv-id")
    page.type(kid)
    page.key("Enter")
    page.wait("document.getElementById('confirm').open", what="the confirmation")
    page.key("Escape")  # cancelled: nothing revoked
    page.wait("!document.getElementById('confirm').open", what="the dialog closes")
    path = f"{RV}/key/{kid}?iss={urllib.parse.quote(ISS2, safe='')}"
    assert srv.admin("GET", path).status_code == 404
    page.focus("#rv-id")
    page.key("Enter")
    page.wait("document.getElementById('confirm').open", what="the confirmation again")
    page.key("Tab")
    page.key("Enter")
    page.wait("document.getElementById('revoke-status').textContent.startsWith('Revoked')",
              what="the key revocation")
    got = srv.admin("GET", path)
    assert got.status_code == 200 and got.json()["expires_at"] is None
    assert "never expires" in page.text("#results .rev")
    assert srv.admin("DELETE", path).status_code == 204

    # issuer: the ID field goes away; cancel leaves the issuer alone
    page.select("#rv-type", "issuer")
    assert page.js("document.getElementById('rv-id-field').hidden") is True
    page.focus("#rv-reason")
    page.key("Enter")
    page.wait("document.getElementById('confirm').open", what="the issuer confirmation")
    assert ISS2 in page.text("#confirm-detail")
    page.key("Enter")  # Enter on Cancel (the focus) cancels
    page.wait("!document.getElementById('confirm').open", what="the dialog closes")
    ipath = f"{RV}/issuer/?iss={urllib.parse.quote(ISS2, safe='')}"
    assert srv.admin("GET", ipath).status_code == 404


def test_list_pages_with_the_cursor(page, srv, shots):
    ids = [uid("sess") for _ in range(57)]
    r = srv.admin("POST", RV, headers={"Content-Type": "application/json"}, data=json.dumps(
        {"events": [{"type": "session.revoked", "iss": ISS2, "sid": i,
                     "reason": "bulk logout"} for i in ids]}))
    assert r.status_code == 201
    login(page, srv)
    page.select("#find-type", "session")
    page.select("#find-iss", ISS2)
    page.focus("#find-id")
    page.key("Enter")
    page.wait("document.querySelectorAll('#results .rev').length === 50", what="page 1")
    assert page.js("document.getElementById('more').hidden") is False
    page.js("document.getElementById('more').focus()")
    page.key("Enter")
    page.wait("document.querySelectorAll('#results .rev').length === 57", what="page 2")
    page.wait("document.getElementById('more').hidden", what="no page 3")
    shown = page.js("[...document.querySelectorAll('#results .rev-id')].map(e => e.textContent)")
    assert sorted(shown) == sorted(ids)
    page.js("document.getElementById('find-form').scrollIntoView()")
    shots(page, "06-list")


XSS = ['<img src=x onerror=alert(1)>', '"><script>window.__xss=1</script>',
       "<svg onload=alert(2)>", "javascript:alert(3)", "';alert(4)//",
       '<a href="javascript:alert(5)">x</a>']


def test_markup_in_ids_and_reasons_is_text(page, srv, shots):
    subjects = []
    for i, probe in enumerate(XSS):
        sub = f"{probe} #{i}"
        subjects.append(sub)
        revoke_api(srv, type="subject.revoked", iss=ISS2, sub=sub, reason="reason " + probe)
    login(page, srv)
    page.select("#find-type", "subject")
    page.select("#find-iss", ISS2)
    page.focus("#find-id")
    page.key("Enter")
    page.wait(f"document.querySelectorAll('#results .rev').length >= {len(XSS)}",
              what="the probes listed")
    ids = page.js("[...document.querySelectorAll('#results .rev-id')].map(e => e.textContent)")
    for sub in subjects:
        assert sub in ids
    text = page.js("document.getElementById('results').textContent")
    for probe in XSS:
        assert "reason " + probe in text
    # nothing became markup, nothing ran, nothing was fetched for it
    assert page.js("document.querySelectorAll('#results img, #results script, #results svg, "
                   "#results a, #results iframe').length") == 0
    assert page.js("typeof window.__xss") == "undefined"
    # Lifting one opens a confirmation that shows it literally, too.
    page.js("document.getElementById('find-status').scrollIntoView()")
    page.js("document.querySelector('#results .rev button').focus()")
    page.key("Enter")
    page.wait("document.getElementById('confirm').open", what="the confirmation")
    assert page.js("document.querySelectorAll('#confirm img, #confirm script').length") == 0
    shots(page, "07-markup-as-text")
    page.key("Escape")
    page.wait("!document.getElementById('confirm').open", what="the dialog closes")
    assert not [u for u in page.requests() if "/x" in urllib.parse.urlsplit(u).path]
    assert all(p[0] != "dialog" for p in page.problems())


def test_sources_and_origin(page, srv, shots):
    """Each source's contribution and the replica of origin, as the API
    renders them (REFERENCE-style "sources", "origin"): the answer is served to
    the page by the test, so this holds whether or not this build's API
    renders them yet, and its values are markup probes too."""
    sub = uid("bob")
    probe = XSS[0]
    doc = {"type": "subject", "iss": ISS, "id": sub, "revoked_at": 1780000000,
           "expires_at": 1780086400, "reason": "webhook: " + probe, "source": "webhook",
           "origin": "replica-b " + probe,
           "sources": [
               {"source": "admin", "revoked_at": 1779990000, "expires_at": 1780076400,
                "reason": "operator " + probe},
               {"source": "webhook", "revoked_at": 1780000000, "expires_at": 1780086400,
                "reason": "webhook: " + probe},
               {"source": "keycloak", "revoked_at": 1779900000, "expires_at": 1779986400,
                "reason": None}]}
    single = {"type": "subject", "iss": ISS, "id": sub + "-one", "revoked_at": 1780000000,
              "expires_at": 1780086400, "reason": None, "source": "backchannel",
              "sources": [{"source": "backchannel", "revoked_at": 1780000000,
                           "expires_at": 1780086400, "reason": None}]}

    def answer(req):
        body = single if req["url"].split("?")[0].endswith("-one") else doc
        return 200, "application/json", json.dumps(body).encode()
    page.answer_for("*/admin/v1/revocations/subject/*", answer)
    try:
        login(page, srv)
        page.select("#find-type", "subject")
        page.select("#find-iss", ISS)
        page.focus("#find-id")
        page.type(sub)
        page.key("Enter")
        page.wait("document.querySelectorAll('#results .sources li').length === 3",
                  what="three sources")
        # one source: its "revoked ... by" line says it all, no list
        page.focus("#find-id")
        page.type("-one")
        page.key("Enter")
        page.wait("document.querySelector('#results .rev-id').textContent.endsWith('-one')",
                  what="the one-source revocation")
        assert page.js("document.querySelectorAll('#results .sources').length") == 0
        assert "by backchannel" in page.text("#results .rev")
        assert "none given" in page.text("#results .rev")
        page.js("document.getElementById('find-id').value = ''")
        page.focus("#find-id")
        page.type(sub)
        page.key("Enter")
        page.wait("document.querySelectorAll('#results .sources li').length === 3",
                  what="three sources again")
    finally:
        page.answer_for(None, None)
    items = page.js("[...document.querySelectorAll('#results .sources li')]"
                    ".map(e => e.textContent)")
    assert items[0].startswith("admin") and "operator " + probe in items[0]
    assert items[1].startswith("webhook") and items[1].endswith("in force")
    assert items[2].startswith("keycloak") and "no reason given" in items[2]
    assert "in force" not in items[0] + items[2]
    card = page.text("#results .rev")
    assert "replica replica-b " + probe in card
    assert page.js("document.querySelectorAll('#results img').length") == 0
    page.js("document.getElementById('find-status').scrollIntoView()")
    shots(page, "09-sources")


def test_live_panel(page, srv, mint, shots):
    login(page, srv)
    tok = mint.token()
    for _ in range(20):
        assert srv.auth(tok).status_code == 200
        srv.auth("not-a-token")
    # two samples make a rate; then a point on the chart
    page.wait("document.getElementById('m-allow').textContent !== '–'", timeout=90,
              what="a decision rate")
    assert page.js("document.getElementById('m-total').textContent") != "–"
    tables = page.text("#tables")
    assert "subject" in tables and "cached tokens" in tables
    repl = page.text("#repl")
    assert "store" in repl and "ok" in repl and "replication" in repl and "disabled" in repl
    jw = page.text("#jwks")
    assert ISS in jw and ISS2 in jw and "static keys" in jw
    # the chart drew something: some pixel is not transparent
    page.wait("""(() => { const c = document.getElementById('chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()""",
              what="the chart")
    # traffic until the chart has a few points and shows a non-zero rate
    import time
    deadline = time.time() + 120
    while not page.js("Number(document.getElementById('chart').dataset.points) >= 3 && "
                      "document.getElementById('m-allow').textContent !== '0.0'"):
        assert time.time() < deadline, "the chart never got three points"
        for _ in range(6):
            srv.auth(tok)
            srv.auth(tok)
            srv.auth("not-a-token")
        time.sleep(0.2)
    shots(page, "08-live")


def test_keys_per_issuer_follow_the_jwks(browser, make_server, jwks_server, keys, shots):
    """An issuer with a jwks_uri: the panel shows its fetches, then a
    failing one (the last good set stays), then a good one again. In the
    dark scheme, as a console at night may be."""
    jiss = "https://jwks-idp.test"
    jwks_server.keys = [jwk_of(keys.ec_other, "e1", "ES256")]
    srv = make_server(admin=True, issuers=[
        {"issuer": ISS, "algorithms": ["RS256"],
         "keys": [{"kid": "rsa1", "alg": "RS256", "pem_file": "keys/rsa.pem"}]},
        {"issuer": jiss, "algorithms": ["ES256"], "jwks_uri": jwks_server.base + "/jwks",
         "jwks_refresh": 1}])
    browser.viewport(*WIDE)
    browser.call("Emulation.setEmulatedMedia",
                 features=[{"name": "prefers-color-scheme", "value": "dark"}])
    try:
        browser.goto(srv.admin_url + "/admin/")
        browser.wait("document.activeElement && document.activeElement.id === 'token'")
        login(browser, srv)
        jw = "document.getElementById('jwks').textContent"
        browser.wait(f"{jw}.includes('JWKS: fetched')", timeout=90, what="a good fetch")
        assert "static keys" in browser.text("#jwks")
        jwks_server.mode = "error"
        browser.wait(f"{jw}.includes('last fetch failed')", timeout=90, what="a failed fetch")
        browser.js("document.getElementById('jwks').scrollIntoView()")
        shots(browser, "13-dark-jwks-failing")
        jwks_server.mode = "ok"
        browser.wait(f"{jw}.includes('JWKS: fetched')", timeout=90, what="a good fetch again")
        assert browser.problems() == []
    finally:
        browser.call("Emulation.setEmulatedMedia", features=[])


def test_keyboard_order_and_visible_focus(page, srv):
    login(page, srv)
    assert page.active_id() == "rv-type"  # the first form has the focus
    order = []
    for _ in range(8):
        page.key("Tab")
        order.append(page.js("document.activeElement.id || "
                             "document.activeElement.textContent.trim()"))
    assert order == ["rv-iss", "rv-id", "rv-reason", "Revoke", "find-type", "find-iss",
                     "find-id", "Search"], order
    # the focused control shows it: a 3 px outline
    page.focus("#find-type")
    page.key("Tab")
    assert page.active_id() == "find-iss"
    assert page.js("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert page.js("getComputedStyle(document.activeElement).outlineWidth") == "3px"


def test_phone_width(page, srv, shots):
    page.viewport(*PHONE, mobile=True, scale=2)
    page.goto(srv.admin_url + "/admin/")
    page.wait("document.activeElement && document.activeElement.id === 'token'")
    shots(page, "10-phone-login")
    login(page, srv)
    revoke_api(srv, type="subject.revoked", iss=ISS, sub=uid("mallory"),
               reason="phone check")
    page.select("#find-type", "subject")
    page.select("#find-iss", ISS)
    page.focus("#find-id")
    page.key("Enter")
    page.wait("document.querySelectorAll('#results .rev').length > 0", what="results")
    # nothing wider than the screen
    assert page.js("document.documentElement.scrollWidth") <= PHONE[0]
    page.js("document.getElementById('find-h').scrollIntoView()")
    shots(page, "11-phone-console")
    shots(page, "12-phone-console-full", full_page=True)
    page.viewport(*WIDE)
