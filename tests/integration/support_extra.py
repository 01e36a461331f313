"""Helpers shared by the coverage suites
(test_threads_one.py, test_limits_live.py, test_env_secrets.py,
test_key_reload.py, test_cache_expiry.py, tests/e2e/test_cluster_auth.py).

Nothing here measures time: wait_for polls a condition up to a generous
deadline (a bound on how long a broken server may hang the suite, never an
assertion about how fast a working one is).
"""
import json

from revokd_fixtures import wait_for  # noqa: F401 - one definition for every suite



def log_records(srv):
    """The JSON log lines of srv's stderr, parsed (other lines skipped)."""
    out = []
    for line in srv.stderr_text().splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def logged(srv, msg, **fields):
    """The log records of srv whose msg is exactly `msg` and whose fields
    include `fields`."""
    return [r for r in log_records(srv)
            if r.get("msg") == msg and all(r.get(k) == v for k, v in fields.items())]
