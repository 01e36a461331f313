"""The incident console on a cluster (docs/CONSOLE.md): two replicas on
one Redis. A revocation taken by one is found in the console of the other;
the live panel shows replication connected with its lag and outbox, then
degraded when Redis goes away, then connected again.

Debian's headless Chromium over the DevTools protocol
(tests/integration/cdp.py), as in tests/integration/test_console_browser.py.
"""
import json
import os
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from cdp import Browser, chromium_path  # noqa: E402
from conftest import ISS  # noqa: E402

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="chromium is not installed (tests/install-deps.sh)")


def test_replication_in_the_live_panel(tmp_path, make_replica, redis):
    a = make_replica("a")
    b = make_replica("b")
    browser = Browser(str(tmp_path / "chromium"))
    try:
        browser.viewport(1280, 800)
        browser.goto(a.admin_url + "/admin/")
        browser.wait("document.activeElement && document.activeElement.id === 'token'")
        browser.type(a.admin_token)
        browser.key("Enter")
        repl = "document.getElementById('repl').textContent"
        browser.wait(f"{repl}.includes('connected') && {repl}.includes('replication lag')",
                     timeout=90, what="replication connected, with its lag")
        assert "outbox" in browser.text("#repl")

        # taken by b, found on a
        sub = "carol-" + uuid.uuid4().hex[:8]
        r = b.admin("POST", "/admin/v1/revocations",
                    headers={"Content-Type": "application/json"},
                    data=json.dumps({"type": "subject.revoked", "iss": ISS, "sub": sub,
                                     "reason": "taken on replica b"}))
        assert r.status_code == 201
        browser.select("#find-type", "subject")
        browser.select("#find-iss", ISS)
        browser.focus("#find-id")
        browser.type(sub)
        browser.expect_http(404, "/admin/v1/revocations/subject/")  # until it arrives
        found = "document.getElementById('find-status').textContent.startsWith('1 revocation')"
        deadline = time.time() + 90
        while True:
            browser.focus("#find-id")
            browser.key("Enter")
            browser.wait("!document.getElementById('find-status').textContent"
                         ".startsWith('Searching')", what="an answer")
            if browser.js(found):
                break
            assert time.time() < deadline, "the revocation never reached replica a"
            time.sleep(0.5)
        assert "taken on replica b" in browser.text("#results .rev")

        # Redis goes away: degraded (decisions go on); back: connected
        redis.stop()
        browser.wait(f"{repl}.includes('degraded')", timeout=90, what="degraded")
        browser.js("document.getElementById('repl').scrollIntoView()")
        browser.shot("14-cluster-degraded")
        redis.start()
        browser.wait(f"{repl}.includes('connected')", timeout=90, what="connected again")
        assert browser.problems() == []
    finally:
        browser.close()
