"""/metrics beyond REFERENCE §6's list: revokd_build_info, the
standard process_* metrics (read from /proc at scrape time), revokd_ready,
revokd_store_commit_errors_total, revokd_body_budget_exhausted_total —
checked against what the kernel says about the same process, and linted by
promtool."""
import os
import re
import time

import requests

from conftest import ISS, ISS2, assert_clean_exit, base_config, free_port, metric_value, \
    metrics_text, start_server
from test_ops_metrics import promtool_check


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def test_build_info_and_process_metrics_match_the_process(server, mint):
    assert server.auth(mint.token()).status_code == 200
    text = metrics_text(server)
    promtool_check(text)
    m = re.search(r"^revokd_build_info\{(.*)\} 1$", text, re.M)
    assert m, text
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
    assert set(labels) == {"version", "openssl", "libmicrohttpd", "sqlite", "jansson", "libcurl"}
    assert all(labels.values()), labels
    from conftest import REVOKD, checked_run
    out = checked_run([REVOKD, "version"]).stdout
    assert f"revokd {labels['version']}" in out
    assert f"openssl {labels['openssl']}" in out
    assert f"sqlite {labels['sqlite']}" in out

    pid = server.proc.pid
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    for name, kind in (("process_cpu_seconds_total", "counter"),
                       ("process_resident_memory_bytes", "gauge"),
                       ("process_virtual_memory_bytes", "gauge"),
                       ("process_open_fds", "gauge"), ("process_max_fds", "gauge"),
                       ("process_start_time_seconds", "gauge"),
                       ("revokd_build_info", "gauge"), ("revokd_ready", "gauge"),
                       ("revokd_store_commit_errors_total", "counter"),
                       ("revokd_body_budget_exhausted_total", "counter")):
        assert types.get(name) == kind, (name, types.get(name))

    # The kernel's view of the same process, read right after the scrape.
    page = os.sysconf("SC_PAGE_SIZE")
    with open(f"/proc/{pid}/statm") as f:
        vsz, rss = (int(x) * page for x in f.read().split()[:2])
    assert 0.5 * rss < metric_value(text, "process_resident_memory_bytes") < 2 * rss
    assert 0.5 * vsz < metric_value(text, "process_virtual_memory_bytes") < 2 * vsz
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    assert 3 <= metric_value(text, "process_open_fds") <= fds + 16
    with open(f"/proc/{pid}/limits") as f:
        soft = next(l.split()[3] for l in f if l.startswith("Max open files"))
    assert metric_value(text, "process_max_fds") == float(soft)
    st = proc_stat(pid)
    hz = os.sysconf("SC_CLK_TCK")
    cpu = (int(st[11]) + int(st[12])) / hz       # utime + stime
    assert 0 < metric_value(text, "process_cpu_seconds_total") <= cpu + 1
    with open("/proc/stat") as f:
        btime = int(next(l.split()[1] for l in f if l.startswith("btime ")))
    start = btime + int(st[19]) / hz
    assert abs(metric_value(text, "process_start_time_seconds") - start) < 2
    assert abs(start - time.time()) < 3600
    # CPU time is a counter: it never goes back.
    assert metric_value(metrics_text(server), "process_cpu_seconds_total") >= \
        metric_value(text, "process_cpu_seconds_total")
    assert metric_value(text, "revokd_ready") == 1
    assert metric_value(text, "revokd_store_commit_errors_total") == 0
    assert metric_value(text, "revokd_body_budget_exhausted_total") == 0


def test_revokd_ready_is_0_while_readyz_is_503(tmp_path, keys):
    """An issuer whose only key source is a JWKS that refuses connections:
    /readyz 503, revokd_ready 0, and the scrape still lints clean."""
    d = str(tmp_path)
    cfg = base_config(d, keys)
    cfg["issuers"][1].pop("keys")
    cfg["issuers"][1]["jwks_uri"] = f"http://127.0.0.1:{free_port()}/certs"
    srv = start_server(d, cfg, wait=False)
    deadline = time.time() + 20
    while True:
        try:
            r = requests.get(srv.url + "/readyz", timeout=2)
            break
        except requests.RequestException:
            assert srv.proc.poll() is None and time.time() < deadline, srv.stderr_text()
            time.sleep(0.05)
    assert r.status_code == 503, r.text
    assert ISS2 in r.json()["checks"]["keys"]
    text = metrics_text(srv)
    promtool_check(text)
    assert metric_value(text, "revokd_ready") == 0
    assert 'revokd_replication_state' not in text      # single-node mode
    assert_clean_exit(srv)


def test_a_failed_commit_is_counted(tmp_path, keys):
    """The first COMMIT fails (fault point store.commit): the revocation is
    refused, revokd_store_commit_errors_total counts it, the next one is
    committed."""
    d = str(tmp_path)
    srv = start_server(d, base_config(d, keys), env={"REVOKD_FAULTS": "store.commit:1:1"})
    body = {"type": "token.revoked", "iss": ISS, "jti": "commit-error", "reason": "t"}
    r = srv.admin("POST", "/admin/v1/revocations", json=body)
    assert "fault injected: store.commit" in srv.stderr_text(), "the fault did not fire"
    assert r.status_code == 503, r.text
    text = metrics_text(srv)
    assert metric_value(text, "revokd_store_commit_errors_total") == 1
    r = srv.admin("POST", "/admin/v1/revocations", json=body)
    assert r.status_code == 201, r.text
    assert metric_value(metrics_text(srv), "revokd_store_commit_errors_total") == 1
    assert_clean_exit(srv)


def test_body_budget_refusals_are_counted(tmp_path, keys):
    """40 uploads of almost 4 MiB each to /v1/events held open at once:
    more than the 128 MiB the server lets request bodies take. The uploads
    that found the budget exhausted are answered 503 when they finish, and
    revokd_body_budget_exhausted_total counts exactly those."""
    import socket
    d = str(tmp_path)
    srv = start_server(d, base_config(d, keys))
    n, size, held = 40, 4_000_000, 3_999_000
    head = (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    chunk = b"a" * held
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            s.sendall(head + chunk)
            socks.append(s)
        # Wait until revokd has read every byte sent so far (its sockets'
        # receive queues are empty): all 40 bodies are in memory at once
        # before any of them can finish.
        hexport = f"{srv.port:04X}"
        deadline = time.time() + 60
        while True:
            with open(f"/proc/{srv.proc.pid}/net/tcp") as f:
                rows = [r.split() for r in f.read().splitlines()[1:]]
            queued = sum(int(r[4].split(":")[1], 16) for r in rows
                         if r[1].endswith(":" + hexport) and r[3] == "01")
            if queued == 0:
                break
            assert time.time() < deadline, f"{queued} bytes never read"
            time.sleep(0.05)
        statuses = []
        for s in socks:
            s.sendall(b"a" * (size - held))
            resp = b""
            while b"\r\n\r\n" not in resp:
                part = s.recv(65536)
                assert part, resp
                resp += part
            statuses.append(int(resp.split(b" ", 2)[1]))
    finally:
        for s in socks:
            s.close()
    refused = statuses.count(503)
    assert refused >= 1, statuses
    assert set(statuses) <= {503, 400, 401, 403}, statuses
    text = metrics_text(srv)
    assert metric_value(text, "revokd_body_budget_exhausted_total") == refused
    assert_clean_exit(srv)
