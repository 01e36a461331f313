"""docs/CONFIGURATION.md §2: `revokd serve --dev` from an empty folder prints a token and
curl lines that work when pasted; later starts reuse keys, secrets and the
database. The test listens on a free port (`--listen` overrides dev mode's
127.0.0.1:8080, which may be busy on a CI machine) and runs the printed
curl lines literally with bash."""
import json
import os
import re
import signal
import subprocess
import threading

import pytest

from conftest import REVOKD, free_port, wait_ready


class Dev:
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.port = free_port()
        self.err = open(os.path.join(os.path.dirname(data_dir), "dev-stderr.log"), "ab")
        self.proc = subprocess.Popen(
            [REVOKD, "serve", "--dev", "--data-dir", data_dir,
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        watchdog = threading.Timer(30, self.proc.kill)
        watchdog.start()
        self.lines = []
        try:
            while sum(1 for x in self.lines if x.startswith("curl ")) < 3:
                line = self.proc.stdout.readline()
                assert line, "revokd --dev ended before printing its curl lines"
                self.lines.append(line.rstrip("\n"))
        finally:
            watchdog.cancel()
        tok = [x for x in self.lines if x.startswith("TOKEN=")]
        assert len(tok) == 1, self.lines
        self.token_line = tok[0]
        self.token = tok[0][len("TOKEN="):]
        self.curls = [x for x in self.lines if x.startswith("curl ")]

    def read_rest(self):
        """Reads the lines after the curl lines, up to the `serve --config`
        line, the last one; returns the revokd lines (check, list, revoke,
        unrevoke, serve)."""
        watchdog = threading.Timer(30, self.proc.kill)
        watchdog.start()
        try:
            while not (self.lines and " serve --config " in self.lines[-1]):
                line = self.proc.stdout.readline()
                assert line, "revokd --dev ended before printing its serve --config line"
                self.lines.append(line.rstrip("\n"))
        finally:
            watchdog.cancel()
        exe = os.path.realpath(REVOKD)
        return [x for x in self.lines if x.startswith(exe + " ")]

    def shell(self, line):
        """Runs one printed line with bash after the TOKEN= line; returns the
        completed process."""
        return subprocess.run(["bash", "-c", self.token_line + "\n" + line + "\n"],
                              capture_output=True, text=True, timeout=30)

    def run(self, line, token_line=None):
        """Runs one printed line with bash, after the TOKEN= line; returns
        (status, response text)."""
        script = (token_line or self.token_line) + "\n" + line + "\n"
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        m = re.match(r"HTTP/1\.[01] (\d{3})", p.stdout)
        assert m, p.stdout
        return int(m.group(1)), p.stdout

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=15)
        self.err.close()
        assert code == 0


@pytest.fixture
def devdir(tmp_path):
    d = str(tmp_path / "var")
    yield d


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_dev_mode_printed_commands_work_and_restart_reuses_everything(devdir):
    dev = Dev(devdir)
    try:
        assert f"127.0.0.1:{dev.port}" in dev.curls[0]
        check, revoke, recheck = dev.curls
        status, out = dev.run(check)
        assert status == 200 and "X-Auth-Subject: dev-user" in out
        first_token_line = dev.token_line
    finally:
        dev.stop()
    made = {n: read(os.path.join(devdir, n)) for n in
            ("dev-es256.key", "dev-es256.pub.pem", "dev-hs256.secret", "admin.token",
             "webhook.secret")}
    assert os.path.exists(os.path.join(devdir, "revokd.db"))
    assert oct(os.stat(os.path.join(devdir, "admin.token")).st_mode & 0o777) == "0o600"

    dev = Dev(devdir)
    try:
        # the same keys: the first start's token is still valid
        status, _ = dev.run(dev.curls[0], first_token_line)
        assert status == 200
        check, revoke, recheck = dev.curls
        status, _ = dev.run(check)
        assert status == 200
        status, out = dev.run(revoke)
        assert status == 201, out
        assert '"source":"admin"' in out
        status, out = dev.run(recheck)
        assert status == 401 and "token revoked" in out
        revoked_line = dev.token_line
    finally:
        dev.stop()
    for n, data in made.items():
        assert read(os.path.join(devdir, n)) == data, n

    dev = Dev(devdir)
    try:
        # the database too: the revoked token stays revoked, the first stays valid
        status, out = dev.run(dev.curls[0], revoked_line)
        assert status == 401 and "token revoked" in out
        status, _ = dev.run(dev.curls[0], first_token_line)
        assert status == 200
    finally:
        dev.stop()


def test_dev_mode_writes_its_config_and_prints_cli_lines_that_work(devdir):
    """docs/CONFIGURATION.md §2 and the README's tour: dev mode writes the
    configuration it runs with to DIR/revokd.json, secrets by file reference,
    and prints `revokd check`, admin client and `revokd serve --config`
    lines for it; `serve --config` on that file is the same service."""
    dev = Dev(devdir)
    try:
        lines = dev.read_rest()
        conf = os.path.join(os.path.realpath(devdir), "revokd.json")
        assert [x.split()[1] for x in lines] == ["check", "list", "revoke", "unrevoke", "serve"]
        check, ls, revoke, unrevoke, serve = lines
        exe = os.path.realpath(REVOKD)
        assert check == f'{exe} check --config {conf} "$TOKEN"'
        assert serve == f"{exe} serve --config {conf}"
        p = dev.shell(check)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["decision"] == "allow"
        p = dev.shell(revoke)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["revocations"][0]["type"] == "subject"
        p = dev.shell(ls)
        assert p.returncode == 0 and '"id":"dev-user"' in p.stdout, (p.stdout, p.stderr)
        p = dev.shell(check)
        assert p.returncode == 1 and json.loads(p.stdout)["reason"] == "subject revoked"
        p = dev.shell(unrevoke)
        assert p.returncode == 0, p.stderr
        assert p.stdout == "removed subject revocation dev-user\n"
        status, _ = dev.run(dev.curls[0])
        assert status == 200
    finally:
        dev.stop()
    with open(conf) as f:
        text = f.read()
    doc = json.loads(text)
    assert doc["listen"] == f"127.0.0.1:{dev.port}" and doc["data_dir"] == "."
    assert doc["admin"] == {"token_file": "admin.token"}
    assert doc["webhook"] == {"secret_file": "webhook.secret"}
    assert [k.get("pem_file") or k.get("secret_file") for k in doc["issuers"][0]["keys"]] == \
        ["dev-es256.pub.pem", "dev-hs256.secret"]
    for n in ("dev-es256.key", "dev-hs256.secret", "admin.token", "webhook.secret"):
        assert read(os.path.join(devdir, n)).decode().strip() not in text, n

    # the printed serve line: the same service (port, keys, database)
    err = open(os.path.join(os.path.dirname(devdir), "serve-stderr.log"), "ab")
    proc = subprocess.Popen(["bash", "-c", "exec " + serve], stdout=subprocess.DEVNULL,
                            stderr=err)
    try:
        wait_ready(dev.port, proc)
        status, out = dev.run(dev.curls[0])
        assert status == 200 and "X-Auth-Subject: dev-user" in out
        status, out = dev.run(dev.curls[1])
        assert status == 201, out
        status, out = dev.run(dev.curls[2])
        assert status == 401 and "token revoked" in out
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        err.close()
