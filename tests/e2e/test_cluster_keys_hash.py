"""Cluster mode (REFERENCE §7): the keys hash `<stream>:keys`, from which a
new replica catches up on key revocations once the stream has been trimmed
past them. It holds one field per (key, source) - "<source> <len>:<iss><kid>"
(store/replica_entry.h) - so a new replica records each source's
contribution as that source's, a clear of one source leaves the others and
lifts nothing they hold, and a delete of every source leaves nothing. Each
"new replica" here starts empty after the stream was trimmed to nothing
(as MINID does to old entries): what it holds came from the hash alone."""
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

from conftest import ic

ISS = ic.ISS
RV = "/admin/v1/revocations"
STREAM = "revokd:test"
KEYS = STREAM + ":keys"
PATIENCE = 30  # a deadline for polling, never a measured bound
WEBHOOK_KEY = b"0123456789abcdef0123456789abcdef"
wait_for = ic.wait_for


def field(source, kid):
    return f"{source} {len(ISS)}:{ISS}{kid}"


def hash_of(redis):
    """HGETALL of the keys hash as a dict (redis-cli prints one per line)."""
    lines = redis.cli("HGETALL", KEYS).split("\n")
    lines = lines[:-1] if lines and lines[-1] == "" else lines
    return dict(zip(lines[0::2], lines[1::2]))


def make_with_webhook(make_replica, tmp_path, name):
    d = tmp_path / name / "secrets"
    d.mkdir(parents=True, exist_ok=True)
    (d / "webhook.secret").write_text("whsec_" + base64.b64encode(WEBHOOK_KEY).decode() + "\n")
    return make_replica(name, webhook={"secret_file": "secrets/webhook.secret",
                                       "tolerance": 300})


def webhook(srv, event):
    body = json.dumps(event).encode()
    wid, ts = "msg_" + uuid.uuid4().hex, str(int(time.time()))
    mac = hmac.new(WEBHOOK_KEY, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    r = srv.session.post(srv.url + "/v1/events", data=body, timeout=30, headers={
        "Content-Type": "application/json", "webhook-id": wid, "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode()})
    assert r.status_code == 202, r.text


def key_of(srv, kid):
    r = srv.admin("GET", f"{RV}/key/{kid}", params={"iss": ISS})
    assert r.status_code in (200, 404), r.text
    return r.json() if r.status_code == 200 else None


def sources(got):
    return [(c["source"], c["reason"]) for c in got["sources"]] if got else []


def settled(srv):
    text = srv.session.get(srv.url + "/metrics", timeout=10).text
    return "\nrevokd_replication_outbox 0\n" in text


def trim(redis):
    redis.cli("XTRIM", STREAM, "MAXLEN", "0")
    assert int(redis.cli("XLEN", STREAM)) == 0


def two_sources(make_replica, tmp_path, redis, kid):
    """Replica a; kid revoked by the admin API and by a signed webhook."""
    a = make_with_webhook(make_replica, tmp_path, "a")
    r = a.admin("POST", RV, json={"type": "key.revoked", "iss": ISS, "kid": kid,
                                  "reason": "ops"})
    assert r.status_code == 201, r.text
    webhook(a, {"type": "key.revoked", "iss": ISS, "kid": kid, "reason": "idp"})
    assert sources(key_of(a, kid)) == [("admin", "ops"), ("webhook", "idp")]
    wait_for(lambda: settled(a), PATIENCE, "published")
    return a


def test_a_new_replica_takes_each_source_from_the_hash(make_replica, tmp_path, redis):
    a = two_sources(make_replica, tmp_path, redis, "k1")
    h = hash_of(redis)
    assert set(h) == {field("admin", "k1"), field("webhook", "k1")}, h
    assert h[field("admin", "k1")].split(" ", 1)[1] == "admin 3:ops"
    assert h[field("webhook", "k1")].split(" ", 1)[1] == "webhook 3:idp"
    trim(redis)
    n = make_replica("new")
    got = key_of(n, "k1")
    assert sources(got) == [("admin", "ops"), ("webhook", "idp")], got
    # A delete of every source removes every field; a replica made after it
    # holds nothing.
    assert a.admin("DELETE", f"{RV}/key/k1", params={"iss": ISS}).status_code == 204
    wait_for(lambda: settled(a), PATIENCE, "delete published")
    wait_for(lambda: key_of(n, "k1") is None, PATIENCE, "delete applied on new")
    assert hash_of(redis) == {}
    trim(redis)
    assert key_of(make_replica("newer"), "k1") is None


def test_one_source_leaving_leaves_the_others_in_the_hash(make_replica, tmp_path, redis):
    """Two sources revoke a key, the webhook's contribution is cleared: a new
    replica catching up from the hash holds the admin's only; after the last
    source's removal a new replica holds nothing. revokd's own routes clear
    one source only for issuer revocations (Keycloak), so the clear of the
    webhook's key contribution is what a replica making it publishes
    (store/stream_publisher.c): the tombstone entry of that one source and
    the HDEL of its field."""
    a = two_sources(make_replica, tmp_path, redis, "k2")
    version = (int(time.time() * 1000) + 1000) << 16
    redis.cli("XADD", STREAM, "*", "op", "delete", "type", "key", "iss", ISS, "id", "k2",
              "source", "webhook", "origin", "f" * 32, "version", str(version))
    assert redis.cli("HDEL", KEYS, field("webhook", "k2")).strip() == "1"
    # The replica online applies the tombstone of that one source.
    wait_for(lambda: sources(key_of(a, "k2")) == [("admin", "ops")], PATIENCE,
             "webhook's gone on a")
    assert set(hash_of(redis)) == {field("admin", "k2")}
    trim(redis)
    n = make_replica("new")
    got = key_of(n, "k2")
    assert sources(got) == [("admin", "ops")], got
    assert (got["source"], got["expires_at"]) == ("admin", None)
    # The last source leaves (an admin DELETE: every source).
    assert a.admin("DELETE", f"{RV}/key/k2", params={"iss": ISS}).status_code == 204
    wait_for(lambda: settled(a), PATIENCE, "delete published")
    assert hash_of(redis) == {}
    trim(redis)
    assert key_of(make_replica("newer"), "k2") is None


def test_a_field_of_the_older_format_is_one_contribution_of_its_source(make_replica, redis):
    """Rolling upgrade: a revokd from before per-source fields wrote one
    field per key, "<len>:<iss><kid>", holding the last contribution it
    published. It is read as one contribution of the source its value
    names, and a delete of every source removes it too."""
    old = f"{len(ISS)}:{ISS}k3"
    redis.cli("HSET", KEYS, old, "1764190000 webhook 4:prev")
    n = make_replica("new")
    got = key_of(n, "k3")
    assert sources(got) == [("webhook", "prev")], got
    assert (got["source"], got["revoked_at"]) == ("webhook", 1764190000)
    assert n.admin("DELETE", f"{RV}/key/k3", params={"iss": ISS}).status_code == 204
    wait_for(lambda: settled(n), PATIENCE, "delete published")
    assert hash_of(redis) == {}
    trim(redis)
    assert key_of(make_replica("newer"), "k3") is None
