"""Rotating the admin token, the webhook secret and the introspection
clients' secrets without a restart (REFERENCE §2, §6): `admin.token_file`
and `webhook.secret_file` take a path or a list of paths, every secret
listed is accepted, and SIGHUP reads them again, with each
`introspection.clients` secret_file — the process, its connections and
its state stay. A reload that
finds a bad file keeps the old secrets and says so in the log. No secret
reaches the log."""
import base64
import hashlib
import hmac
import json
import os
import signal
import time
import uuid

import pytest
import requests

from conftest import ISS, assert_clean_exit, base_config, start_server

A, B = "admin-token-A-0123456789abcdef", "admin-token-B-fedcba9876543210"
K1, K2, K3 = (bytes([i]) * 32 for i in (1, 2, 3))


def whsec(key):
    return "whsec_" + base64.b64encode(key).decode()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def admin_status(srv, token):
    r = requests.get(srv.admin_url + "/admin/v1/revocations?limit=1", timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    return r.status_code


def deliver(srv, key):
    body = json.dumps({"type": "token.revoked", "iss": ISS,
                       "jti": "rot-" + uuid.uuid4().hex}).encode()
    wid, ts = "msg_" + uuid.uuid4().hex, str(int(time.time()))
    mac = hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    r = requests.post(srv.url + "/v1/events", data=body, timeout=30, headers={
        "Content-Type": "application/json", "webhook-id": wid, "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode()})
    return r.status_code


def sighup(srv, marker):
    """SIGHUP, then waits for the log line `marker` to appear once more."""
    before = srv.stderr_text().count(marker)
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 20
    while srv.stderr_text().count(marker) <= before:
        assert srv.proc.poll() is None, srv.stderr_text()[-3000:]
        assert time.time() < deadline, srv.stderr_text()[-3000:]
        time.sleep(0.02)


@pytest.fixture
def rotating(tmp_path, keys):
    d = str(tmp_path)
    os.makedirs(os.path.join(d, "secrets"))
    s = lambda name: os.path.join(d, "secrets", name)  # noqa: E731
    write(s("admin.token"), A + "\n")
    write(s("admin.token.next"), A + "\n")            # between rotations: the same token
    write(s("webhook.secret"), whsec(K1) + "\n")
    write(s("webhook.secret.next"), whsec(K2) + "\n")
    cfg = base_config(d, keys,
                      admin={"token_file": ["secrets/admin.token", "secrets/admin.token.next"]},
                      webhook={"secret_file": ["secrets/webhook.secret",
                                               "secrets/webhook.secret.next"]})
    srv = start_server(d, cfg, admin=True)
    yield srv, s
    assert_clean_exit(srv)
    log = srv.stderr_text()
    for secret in (A, B, whsec(K1), whsec(K2), whsec(K3)):
        assert secret not in log and secret[6:] not in log


def test_admin_token_rotation_with_sighup(rotating):
    srv, s = rotating
    pid = srv.proc.pid
    session = requests.Session()       # a keep-alive client across the reloads
    assert session.get(srv.url + "/healthz", timeout=5).status_code == 200
    assert admin_status(srv, A) == 200
    assert admin_status(srv, B) == 401
    # 1. The new token goes into the second file: both are accepted.
    write(s("admin.token.next"), B + "\n")
    sighup(srv, "secrets reloaded")
    assert admin_status(srv, A) == 200 and admin_status(srv, B) == 200
    # 2. Clients moved to B; the first file gets B too: A is refused.
    write(s("admin.token"), B + "\n")
    sighup(srv, "secrets reloaded")
    assert admin_status(srv, A) == 401 and admin_status(srv, B) == 200
    # Introspection's bearer is the admin token too.
    r = requests.post(srv.url + "/v1/introspect", data={"token": "x.y.z"}, timeout=10,
                      headers={"Authorization": f"Bearer {A}"})
    assert r.status_code == 401, r.text
    r = requests.post(srv.url + "/v1/introspect", data={"token": "x.y.z"}, timeout=10,
                      headers={"Authorization": f"Bearer {B}"})
    assert r.status_code == 200, r.text
    # No restart: same process, the client's connection still serves.
    assert srv.proc.pid == pid and srv.proc.poll() is None
    assert session.get(srv.url + "/healthz", timeout=5).status_code == 200
    assert '"admin_tokens":"2"' in srv.stderr_text()


def test_webhook_secret_rotation_with_sighup(rotating):
    srv, s = rotating
    assert deliver(srv, K1) == 202
    assert deliver(srv, K2) == 202
    assert deliver(srv, K3) == 401
    write(s("webhook.secret"), whsec(K3) + "\n")       # K1 retired, K3 added
    sighup(srv, "secrets reloaded")
    assert deliver(srv, K1) == 401
    assert deliver(srv, K2) == 202
    assert deliver(srv, K3) == 202


def test_a_bad_file_on_reload_keeps_the_old_secrets(rotating):
    srv, s = rotating
    write(s("webhook.secret.next"), "not-a-whsec\n")
    write(s("admin.token.next"), B + "\n")
    sighup(srv, "secret reload failed; the old secrets stay")
    line = [l for l in srv.stderr_text().splitlines() if "secret reload failed" in l][-1]
    assert "webhook.secret_file[1]" in line and json.loads(line)["level"] == "error"
    # Nothing of the failed read was taken, not even the good admin file.
    assert deliver(srv, K1) == 202 and deliver(srv, K2) == 202
    assert admin_status(srv, A) == 200 and admin_status(srv, B) == 401
    os.remove(s("admin.token.next"))
    sighup(srv, "secret reload failed; the old secrets stay")
    assert admin_status(srv, A) == 200


def test_introspection_client_secret_rotation_with_sighup(tmp_path, keys):
    d = str(tmp_path)
    os.makedirs(os.path.join(d, "secrets"))
    path = os.path.join(d, "secrets", "rs.secret")
    write(path, "rs-secret-one-0123456789\n")
    cfg = base_config(d, keys, introspection={
        "clients": [{"id": "rs", "secret_file": "secrets/rs.secret"}]})
    srv = start_server(d, cfg)

    def status(secret, post=False):
        if post:
            return requests.post(srv.url + "/v1/introspect", timeout=10, data={
                "token": "x.y.z", "client_id": "rs", "client_secret": secret}).status_code
        return requests.post(srv.url + "/v1/introspect", data={"token": "x.y.z"},
                             auth=("rs", secret), timeout=10).status_code
    one, two = "rs-secret-one-0123456789", "rs-secret-two-9876543210"
    assert status(one) == 200 and status(two) == 401
    write(path, two + "\n")
    sighup(srv, "secrets reloaded")
    assert status(one) == 401 and status(one, post=True) == 401
    assert status(two) == 200 and status(two, post=True) == 200
    assert '"introspection_clients":"1"' in srv.stderr_text()
    # A file gone on the next reload: the old secrets stay, the log says why.
    os.remove(path)
    sighup(srv, "secret reload failed; the old secrets stay")
    line = [l for l in srv.stderr_text().splitlines() if "secret reload failed" in l][-1]
    assert "introspection.clients[0].secret_file" in line, line
    assert status(two) == 200
    assert_clean_exit(srv)
    log = srv.stderr_text()
    assert one not in log and two not in log


def test_several_webhook_secrets_from_the_environment(tmp_path, keys):
    d = str(tmp_path)
    srv = start_server(d, base_config(d, keys),
                       env={"REVOKD_WEBHOOK_SECRET": f" {whsec(K1)}  {whsec(K2)}\n"})
    assert deliver(srv, K1) == 202 and deliver(srv, K2) == 202 and deliver(srv, K3) == 401
    assert_clean_exit(srv)


@pytest.mark.parametrize("value,message", [
    ([], "webhook.secret_file: must be a path, a non-empty array of paths or null"),
    ([7], "webhook.secret_file[0]"),
    (["secrets/missing"], "webhook.secret_file: cannot read"),
])
def test_bad_secret_lists_are_configuration_errors(tmp_path, keys, value, message):
    d = str(tmp_path)
    cfg = base_config(d, keys, webhook={"secret_file": value})
    with pytest.raises(RuntimeError) as e:
        start_server(d, cfg)
    assert "exited 2" in str(e.value) and message in str(e.value), str(e.value)


def test_an_unreadable_client_secret_stops_the_start(tmp_path, keys):
    d = str(tmp_path)
    cfg = base_config(d, keys, introspection={
        "clients": [{"id": "rs", "secret_file": "secrets/missing"}]})
    with pytest.raises(RuntimeError) as e:
        start_server(d, cfg)
    assert "exited 2" in str(e.value), str(e.value)
    assert "introspection.clients[0].secret_file: cannot read" in str(e.value), str(e.value)


def test_reloads_under_load_never_refuse_a_listed_token(rotating):
    """Admin requests on four threads while SIGHUPs swap the secret set
    over and over (A stays listed throughout): every request is answered
    200 — a request never sees a half-built or freed set. tests/run.sh also
    runs this against the TSan build."""
    from conftest import run_threads
    srv, s = rotating
    stop = time.time() + 3
    codes = []

    def client():
        sess = requests.Session()
        while time.time() < stop:
            r = sess.get(srv.admin_url + "/admin/v1/revocations?limit=1", timeout=30,
                         headers={"Authorization": f"Bearer {A}"})
            codes.append(r.status_code)

    threads, errors = run_threads(client, [()] * 4)
    n = 0
    while time.time() < stop:
        write(s("admin.token.next"), (B if n % 2 else A) + "\n")
        sighup(srv, "secrets reloaded")
        n += 1
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    assert n >= 3, n
    assert codes and set(codes) == {200}, sorted(set(codes))
