"""REVOKD_ADMIN_TOKEN and REVOKD_WEBHOOK_SECRET when serving
(docs/OPERATIONS.md §1 systemd: "or use REVOKD_ADMIN_TOKEN /
REVOKD_WEBHOOK_SECRET"; `revokd serve --help`). service/secrets.c
rvk_secrets_load_app reads them: set and non-empty, each wins over its
*_file; the webhook secret must be a Standard Webhooks secret either way.
Neither value may appear in the log."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import uuid


from conftest import ISS, REVOKD, assert_deny, base_config, start_server

RV = "/admin/v1/revocations"
ENV_TOKEN = "env-admin-token-" + "7f" * 12
ENV_WH_KEY = b"env-webhook-key-0123456789abcdef"
ENV_WH = "whsec_" + base64.b64encode(ENV_WH_KEY).decode()
FILE_WH_KEY = b"file-webhook-key-0123456789abcde"


def no_secret_env():
    return {k: v for k, v in os.environ.items()
            if k not in ("REVOKD_ADMIN_TOKEN", "REVOKD_WEBHOOK_SECRET")}


def admin(srv, method, path, token, **kw):
    return srv.session.request(method, srv.admin_url + path, timeout=30,
                               headers={"Authorization": "Bearer " + token}, **kw)


def deliver(srv, payload, key):
    body = json.dumps(payload).encode()
    wid, ts = "msg_" + uuid.uuid4().hex, str(int(time.time()))
    mac = hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    return srv.session.post(srv.url + "/v1/events", data=body, timeout=30, headers={
        "Content-Type": "application/json", "webhook-id": wid, "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode()})


def assert_error(r, status, error, desc):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"error": error, "error_description": desc}, r.text


def test_env_admin_token_without_a_token_file(spawn, fast_mint):
    srv = spawn.new(env={"REVOKD_ADMIN_TOKEN": ENV_TOKEN}, edit=lambda c: c.pop("admin"))
    jti = str(uuid.uuid4())
    r = admin(srv, "POST", RV, ENV_TOKEN,
              json={"type": "token.revoked", "iss": ISS, "jti": jti})
    assert r.status_code == 201, r.text
    assert_deny(srv.auth(fast_mint.token("ES256", jti=jti)), "token revoked")
    assert admin(srv, "GET", "/admin/v1/stats", ENV_TOKEN).status_code == 200
    assert_error(admin(srv, "GET", "/admin/v1/stats", ENV_TOKEN + "x"),
                 401, "unauthorized", "wrong admin token")
    assert ENV_TOKEN not in srv.stderr_text()


def test_env_admin_token_wins_over_the_file(spawn):
    # base_config has admin.token_file = test-admin-token-0123456789.
    srv = spawn.new(env={"REVOKD_ADMIN_TOKEN": ENV_TOKEN})
    assert admin(srv, "GET", "/admin/v1/stats", ENV_TOKEN).status_code == 200
    assert_error(admin(srv, "GET", "/admin/v1/stats", srv.admin_token),
                 401, "unauthorized", "wrong admin token")
    assert ENV_TOKEN not in srv.stderr_text()


def test_empty_env_admin_token_falls_back_to_the_file(spawn):
    srv = spawn.new(env={"REVOKD_ADMIN_TOKEN": ""})
    assert admin(srv, "GET", "/admin/v1/stats", srv.admin_token).status_code == 200


def test_env_webhook_secret_without_a_secret_file(spawn, fast_mint):
    srv = spawn.new(env={"REVOKD_WEBHOOK_SECRET": ENV_WH})
    jti = str(uuid.uuid4())
    tok = fast_mint.token("ES256", jti=jti)
    assert srv.auth(tok).status_code == 200
    r = deliver(srv, {"type": "token.revoked", "iss": ISS, "jti": jti}, ENV_WH_KEY)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1}
    assert_deny(srv.auth(tok), "token revoked")
    r = deliver(srv, {"type": "token.revoked", "iss": ISS, "jti": "x"}, b"k" * 32)
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature", r.text
    text = srv.stderr_text()
    assert ENV_WH not in text and ENV_WH.split("_", 1)[1] not in text


def test_env_webhook_secret_wins_over_the_file(spawn):
    # The file must exist before the start: write it into a fresh folder.
    d = str(spawn.tmp.mktemp("revokd"))
    cfg = base_config(d, spawn.keys, webhook={"secret_file": "keys/webhook.secret"})
    with open(os.path.join(d, "keys", "webhook.secret"), "w") as f:
        f.write("whsec_" + base64.b64encode(FILE_WH_KEY).decode() + "\n")
    srv = start_server(d, cfg, env={"REVOKD_WEBHOOK_SECRET": ENV_WH})
    spawn.started.append(srv)
    ev = {"type": "session.revoked", "iss": ISS, "sid": "env-wins"}
    assert deliver(srv, ev, ENV_WH_KEY).status_code == 202
    r = deliver(srv, ev, FILE_WH_KEY)
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature", r.text


def test_bad_env_webhook_secret_is_a_usage_error(tmp_path, keys):
    cfg = base_config(str(tmp_path), keys)
    path = os.path.join(str(tmp_path), "revokd.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    e = no_secret_env()
    e["REVOKD_WEBHOOK_SECRET"] = "not-a-whsec-secret"
    p = subprocess.run([REVOKD, "serve", "--config", path, "--listen", "127.0.0.1:0"],
                       env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, (p.returncode, p.stderr)
    # The message names where the bad secret came from: the variable.
    assert "REVOKD_WEBHOOK_SECRET: not a Standard Webhooks secret" in p.stderr, p.stderr
    assert "not-a-whsec-secret" not in p.stderr
