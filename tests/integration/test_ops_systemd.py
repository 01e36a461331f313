"""systemd (REFERENCE §6): the unit in deploy/systemd passes `systemd-analyze
verify`, and revokd speaks the sd_notify protocol: READY=1 once /readyz is
200, WATCHDOG=1 repeatedly when WATCHDOG_USEC is set, STOPPING=1 on SIGTERM.
The notify socket is a Python AF_UNIX datagram socket standing in for PID 1."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import requests

from conftest import REVOKD, ROOT, assert_clean_exit, base_config, free_port, start_server

UNIT = os.path.join(ROOT, "deploy", "systemd", "revokd.service")


def unit_settings():
    out = {}
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def test_unit_passes_systemd_analyze_verify(tmp_path):
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze missing (Debian package systemd)"
    with open(UNIT) as f:
        text = f.read()
    assert "/usr/local/bin/revokd serve" in text
    # verify insists that ExecStart's binary exists: point it at this build.
    unit = tmp_path / "revokd.service"
    unit.write_text(text.replace("/usr/local/bin/revokd", REVOKD))
    # It also runs `man` for each Documentation=man:... link: render the
    # scdoc sources of docs/man where MANPATH finds them (the installed
    # pages are checked by test_install.py).
    scdoc = shutil.which("scdoc")
    assert scdoc, "scdoc missing: apt-get install scdoc"
    for src, sect in (("revokd.8.scd", "8"), ("revokd.json.5.scd", "5")):
        os.makedirs(tmp_path / "man" / f"man{sect}", exist_ok=True)
        with open(os.path.join(ROOT, "docs", "man", src), "rb") as f:
            page = subprocess.run([scdoc], stdin=f, capture_output=True, check=True).stdout
        (tmp_path / "man" / f"man{sect}" / src[:-4]).write_bytes(page)
    p = subprocess.run([exe, "verify", str(unit)], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, MANPATH=str(tmp_path / "man")))
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    # verify exits 0 on unknown keys and bad values ("..., ignoring"): any
    # line about our unit is a failure.
    assert "revokd.service" not in out, out


def test_unit_declares_notify_watchdog_and_sandbox():
    s = unit_settings()
    want = {"Type": "notify", "DynamicUser": "yes", "StateDirectory": "revokd",
            "ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
            "ProtectHome": "yes", "MemoryDenyWriteExecute": "yes",
            "LockPersonality": "yes",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"}
    for k, v in want.items():
        assert s.get(k) == [v], (k, s.get(k))
    assert "@system-service" in s["SystemCallFilter"]
    assert re.fullmatch(r"\d+s?", s["WatchdogSec"][0])
    assert "$MAINPID" in s["ExecReload"][0] and "-HUP" in s["ExecReload"][0]


class NotifySocket:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait_for(self, line, timeout=20):
        """Collects datagrams until one holds line; returns whether it came."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(line in m.split("\n") for m in self.messages):
                return True
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return any(line in m.split("\n") for m in self.messages)

    def count(self, line):
        return sum(1 for m in self.messages if line in m.split("\n"))

    def close(self):
        self.sock.close()


def test_ready_watchdog_and_stopping(tmp_path, keys):
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    try:
        d = str(tmp_path / "srv")
        os.makedirs(d)
        # 200 ms watchdog: a ping every 100 ms.
        env = {"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000"}
        srv = start_server(d, base_config(d, keys), env=env)
        assert ns.wait_for("READY=1"), ns.messages
        r = requests.get(srv.url + "/readyz", timeout=5)
        assert r.status_code == 200
        # Several pings: the thread keeps proving the listener answers.
        assert ns.wait_for("WATCHDOG=1"), ns.messages
        n = ns.count("WATCHDOG=1")
        deadline = time.time() + 20
        while ns.count("WATCHDOG=1") < n + 2 and time.time() < deadline:
            ns.wait_for("never", timeout=0.3)
        assert ns.count("WATCHDOG=1") >= n + 2, ns.messages
        assert ns.count("READY=1") == 1, ns.messages
        srv.proc.send_signal(signal.SIGTERM)
        assert ns.wait_for("STOPPING=1"), ns.messages
        assert_clean_exit(srv)
    finally:
        ns.close()


def test_no_watchdog_without_watchdog_usec(tmp_path, keys):
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    try:
        d = str(tmp_path / "srv")
        os.makedirs(d)
        srv = start_server(d, base_config(d, keys), env={"NOTIFY_SOCKET": ns.path})
        assert ns.wait_for("READY=1"), ns.messages
        assert_clean_exit(srv)
        assert ns.wait_for("STOPPING=1"), ns.messages
        assert ns.count("WATCHDOG=1") == 0, ns.messages
    finally:
        ns.close()


def test_example_config_is_accepted(tmp_path):
    """deploy/revokd.json, with its paths pointed into a temp folder, starts:
    /healthz 200, and /readyz 503 naming the issuer without keys (its JWKS
    is unreachable here)."""
    import base64
    import json
    with open(os.path.join(ROOT, "deploy", "revokd.json")) as f:
        cfg = json.load(f)
    d = str(tmp_path)
    (tmp_path / "wh").write_text("whsec_" + base64.b64encode(b"w" * 32).decode() + "\n")
    (tmp_path / "adm").write_text("example-admin-token\n")
    assert cfg["admin"]["token_file"].startswith("/run/credentials/revokd.service/")
    cfg["webhook"]["secret_file"] = str(tmp_path / "wh")
    cfg["admin"]["token_file"] = str(tmp_path / "adm")
    cfg["data_dir"] = "data"
    closed = free_port()
    cfg["issuers"][0]["jwks_uri"] = f"http://127.0.0.1:{closed}/certs"
    srv = start_server(d, cfg, admin=True, wait=False)
    deadline = time.time() + 20
    while True:
        try:
            r = requests.get(srv.url + "/readyz", timeout=2)
            break
        except requests.RequestException:
            assert srv.proc.poll() is None and time.time() < deadline, srv.stderr_text()
            time.sleep(0.05)
    assert r.status_code == 503
    assert "has no key" in r.json()["checks"]["keys"]
    assert requests.get(srv.url + "/healthz", timeout=2).status_code == 200
    assert_clean_exit(srv)
