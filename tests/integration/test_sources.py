"""Per-source revocations (docs/ARCHITECTURE.md, "Per-source revocations";
docs/SECURITY.md, "A Keycloak clear lifted an operator's revocation"): each
source keeps its own contribution, one source leaving lifts only its own,
and a database of the previous schema keeps every row with its source."""
import os
import sqlite3
import time

from conftest import ISS, ISS2, assert_allow, assert_deny, base_config, start_server, \
    assert_clean_exit, key_hash, digest_bucket, change_hash, version_hash
from test_keycloak import issuer_rev, push, push_token

DAY = 86400     # max_token_lifetime of base_config (the default)


def revoke_issuer(srv, at, reason=None):
    ev = {"type": "issuer.revoked", "iss": ISS, "at": at}
    if reason:
        ev["reason"] = reason
    r = srv.admin("POST", "/admin/v1/revocations", json=ev)
    assert r.status_code == 201, r.text
    return r.json()["revocations"][0]


def contribution(source, at, reason=None, expires=None):
    return {"source": source, "revoked_at": at,
            "expires_at": at + DAY if expires is None else expires, "reason": reason}


def test_keycloak_clear_does_not_lift_an_operators_revocation(make_server, keys, mint):
    """DECISIONS D21, end to end: operator revokes the issuer, Keycloak
    pushes an older notBefore (which used to take the row over), then a
    notBefore of 0 (which used to delete it). The tokens stay denied until
    the operator's DELETE."""
    srv = make_server()
    now = int(time.time())
    old = mint.token(iat=now - 100)
    newer = mint.token(iat=now - 20)
    assert srv.auth(old).status_code == 200

    rev = revoke_issuer(srv, now - 30, "incident 42")
    assert rev["source"] == "admin"
    assert rev["sources"] == [contribution("admin", now - 30, "incident 42")]
    assert_deny(srv.auth(old), "issuer revoked")

    # Keycloak's older notBefore: its own contribution, not in force.
    assert push(srv, push_token(keys, notBefore=now - 60)).status_code == 204
    got = issuer_rev(srv).json()
    assert (got["revoked_at"], got["expires_at"]) == (now - 30, now - 30 + DAY)
    assert (got["source"], got["reason"]) == ("admin", "incident 42")
    assert got["sources"] == [contribution("admin", now - 30, "incident 42"),
                              contribution("keycloak", now - 61)]
    assert "origin" not in got
    assert_deny(srv.auth(old), "issuer revoked")

    # Keycloak's clear: only Keycloak's contribution leaves.
    assert push(srv, push_token(keys, notBefore=0)).status_code == 204
    got = issuer_rev(srv).json()
    assert (got["revoked_at"], got["source"]) == (now - 30, "admin")
    assert got["sources"] == [contribution("admin", now - 30, "incident 42")]
    assert_deny(srv.auth(old), "issuer revoked")
    assert srv.auth(newer).status_code == 200

    # The operator's DELETE lifts it.
    assert srv.admin("DELETE", "/admin/v1/revocations/issuer/",
                     params={"iss": ISS}).status_code == 204
    assert issuer_rev(srv).status_code == 404
    assert srv.auth(old).status_code == 200


def test_a_later_keycloak_notbefore_in_force_then_cleared(make_server, keys, mint):
    """Keycloak's contribution in force (later than the operator's), then
    cleared: the table goes back to the operator's time, not to nothing."""
    srv = make_server()
    now = int(time.time())
    before_admin = mint.token(iat=now - 100)
    between = mint.token(iat=now - 40)
    revoke_issuer(srv, now - 50)
    assert srv.auth(between).status_code == 200
    assert push(srv, push_token(keys, notBefore=now - 10)).status_code == 204
    got = issuer_rev(srv).json()
    assert (got["revoked_at"], got["source"], got["reason"]) == (now - 11, "keycloak", None)
    assert got["sources"] == [contribution("admin", now - 50),
                              contribution("keycloak", now - 11)]
    assert_deny(srv.auth(between), "issuer revoked")

    assert push(srv, push_token(keys, notBefore=0)).status_code == 204
    got = issuer_rev(srv).json()
    assert (got["revoked_at"], got["expires_at"], got["source"]) == \
        (now - 50, now - 50 + DAY, "admin")
    assert srv.auth(between).status_code == 200
    assert_deny(srv.auth(before_admin), "issuer revoked")


def test_list_renders_every_source(make_server, keys):
    srv = make_server()
    now = int(time.time())
    revoke_issuer(srv, now - 30, "ops")
    assert push(srv, push_token(keys, notBefore=now - 5)).status_code == 204
    r = srv.admin("GET", "/admin/v1/revocations", params={"type": "issuer"})
    assert r.status_code == 200, r.text
    assert r.json() == {"next_cursor": None, "items": [{
        "type": "issuer", "iss": ISS, "id": "", "revoked_at": now - 6,
        "expires_at": now - 6 + DAY, "reason": None, "source": "keycloak",
        "sources": [contribution("admin", now - 30, "ops"),
                    contribution("keycloak", now - 6)]}]}


# The schema revokd wrote before per-source revocations (user_version 2):
# one row per (type, iss, id), the last writer's source.
V2_SCHEMA = """
CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,
  id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER NULL,
  reason TEXT NULL, source TEXT NOT NULL,
  PRIMARY KEY (type, iss, id)) WITHOUT ROWID;
CREATE INDEX revocations_expires ON revocations(expires_at);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL,
  type INTEGER NOT NULL, iss TEXT NOT NULL, id TEXT NOT NULL,
  revoked_at INTEGER NULL, expires_at INTEGER NULL, reason TEXT NULL,
  source TEXT NULL);
PRAGMA user_version = 2;
"""


def test_a_v2_database_keeps_every_row_and_its_source(tmp_path, keys, mint):
    now = int(time.time())
    workdir = str(tmp_path)
    os.makedirs(os.path.join(workdir, "data"))
    db = sqlite3.connect(os.path.join(workdir, "data", "revokd.db"))
    db.executescript(V2_SCHEMA)
    # (type, iss, id, revoked_at, expires_at, reason, source)
    rows = [
        (0, ISS, "jti-1", now - 10, now + 3600, "stolen", "webhook"),
        (1, ISS, "sid-1", now - 20, now - 20 + DAY, None, "backchannel"),
        (2, ISS, "sub-1", now - 30, now - 30 + DAY, None, "set"),
        (3, ISS, "", now - 40, now - 40 + DAY, None, "keycloak"),
        (3, ISS2, "", now - 45, now - 45 + DAY, "drill", "replica"),
        (4, ISS, "kid-9", now - 50, None, "leaked", "admin"),
        (0, ISS2, "jti-2", now - 60, now + 60, None, "rfc7009"),
    ]
    db.executemany("INSERT INTO revocations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("INSERT INTO meta VALUES ('replication.node_id', 'abc')")
    db.commit()
    db.close()

    srv = start_server(workdir, base_config(workdir, keys))
    try:
        names = ["token", "session", "subject", "issuer", "key"]
        for t, iss, ident, at, exp, reason, source in rows:
            r = srv.admin("GET", f"/admin/v1/revocations/{names[t]}/{ident}",
                          params={"iss": iss})
            assert r.status_code == 200, (ident, r.text)
            assert r.json() == {
                "type": names[t], "iss": iss, "id": ident, "revoked_at": at,
                "expires_at": exp, "reason": reason, "source": source,
                "sources": [{"source": source, "revoked_at": at, "expires_at": exp,
                             "reason": reason}]}
        listed = srv.admin("GET", "/admin/v1/revocations", params={"limit": 100}).json()
        assert len(listed["items"]) == len(rows)
        # The migrated rows deny as before.
        assert_deny(srv.auth(mint.token(iat=now - 41)), "issuer revoked")
        # A Keycloak clear lifts the migrated Keycloak row (its source).
        assert push(srv, push_token(keys, notBefore=0)).status_code == 204
        assert issuer_rev(srv).status_code == 404
        assert_allow(srv.auth(mint.token(iat=now - 41)))
    finally:
        assert_clean_exit(srv)

    db = sqlite3.connect(os.path.join(workdir, "data", "revokd.db"))
    assert db.execute("PRAGMA user_version").fetchone() == (8,)   # v2 -> v3 -> ... -> v8
    # Each row with its key's hash, as revokd's C computes it (the pinned
    # values: tests/unit/store/store_test.c).
    for t, iss, id_, kh in db.execute("SELECT type, iss, id, kh FROM revocations"):
        assert kh == key_hash(t, iss, id_), (t, iss, id_)
    # The digest the file keeps (schema 8): per type and bucket, the XOR of
    # each contribution's hash and each versions row's, as Python computes
    # them apart.
    want = {}
    for t, iss, id_, src in db.execute("SELECT type, iss, id, source FROM revocations"):
        k = (t, digest_bucket(iss, id_))
        want[k] = want.get(k, 0) ^ change_hash(t, iss, id_, src)
    for t, iss, id_, src, v, n, d in db.execute(
            "SELECT type, iss, id, source, version, node, deleted FROM versions"):
        k = (t, digest_bucket(iss, id_))
        want[k] = want.get(k, 0) ^ version_hash(t, iss, id_, src, v, n, d)
    kept = {(t, b): x for t, b, x in db.execute("SELECT type, bucket, x FROM digest")}
    assert len(kept) == 8 * 64
    assert {k: x for k, x in kept.items() if x} == {k: x for k, x in want.items() if x}
    got = sorted(db.execute("SELECT type, iss, id, revoked_at, expires_at, reason,"
                            " source, origin FROM revocations").fetchall())
    assert got == sorted(r + (None,) for r in rows if r[6] != "keycloak")
    assert db.execute("SELECT value FROM meta WHERE key = 'replication.node_id'"
                      ).fetchone() == ("abc",)
    db.close()


def test_a_repeat_that_changes_nothing_is_acknowledged_without_a_write(make_server):
    """Same source, same or older revoked_at: 201 as usual, and the store
    writes no contribution (rows_written in /admin/v1/stats stays)."""
    srv = make_server()
    now = int(time.time())

    def written():
        return srv.admin("GET", "/admin/v1/stats").json()["store"]["rows_written"]

    revoke_issuer(srv, now - 30, "first")
    before = written()
    assert revoke_issuer(srv, now - 30, "again")["reason"] == "first"
    assert revoke_issuer(srv, now - 90, "older")["revoked_at"] == now - 30
    assert written() == before
    # A later one is written, and its reason shows.
    assert revoke_issuer(srv, now - 20, "later")["reason"] == "later"
    assert written() == before + 1
