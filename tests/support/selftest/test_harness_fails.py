"""Failures that the harness must count although the test's own assertions
pass or never run in the test's thread. Run only by tests/support/selftest.sh,
which expects every test here to fail; tests/run.sh never collects them."""
import os
import threading

import requests

from conftest import free_port  # noqa: F401 - the integration conftest is loaded


def test_assertion_in_a_thread():
    def worker():
        assert 1 + 1 == 3, "a worker thread's assertion"
    t = threading.Thread(target=worker)
    t.start()
    t.join()


def test_server_dies_with_an_asan_report(make_server):
    srv = make_server()
    try:
        srv.auth("x")
    except requests.RequestException:
        pass  # the server died: only the fixture's examination can notice
    srv.proc.wait(timeout=30)
    assert os.path.exists(os.path.join(srv.workdir, "stderr.log"))
