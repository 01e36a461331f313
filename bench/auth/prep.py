#!/usr/bin/python3
"""Inputs of the /auth benchmark (bench/run.sh), from Debian's python3 only.

  prep.py tokens OUT N ISS GEN    the peers' gen_tokens.py (in the folder
                                  GEN: $REVOKD_PEERS/tokens), every token with
                                  an `iss` claim (revokd checks it, SPEC §3
                                  step 2; the Go peer ignores it)
  prep.py webhook OUT SECRET ISS N  N Standard Webhooks signed POST /v1/events
                                  requests (one token.revoked event each, a
                                  fresh jti) as "id<TAB>ts<TAB>sig<TAB>body"
                                  lines, and OUT.peer with the Go peer's
                                  equivalent POST /revoke bodies
  prep.py db DBFILE ISS N         add N token revocations to a revokd
                                  database whose schema revokd created
"""
import base64
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "support"))
from keyhash import key_hash, register  # noqa: E402 - the revocations table's kh


def tokens(out, n, iss, gen):
    sys.path.insert(0, gen)
    import jwt
    import gen_tokens
    enc = jwt.encode
    # Pool workers fork from here, so they see the patched encoder too.
    jwt.encode = lambda claims, *a, **k: enc({**claims, "iss": iss}, *a, **k)
    gen_tokens.jwt.encode = jwt.encode
    sys.argv = ["gen_tokens.py", "--n", str(n), "--out", out]
    return gen_tokens.main()


def webhook(out, secret_file, iss, n):
    with open(secret_file) as f:
        secret = f.read().strip()
    key = base64.b64decode(secret[len("whsec_"):])
    ts = str(int(time.time()))
    exp = int(time.time()) + 6 * 3600
    with open(out, "w") as f, open(out + ".peer", "w") as p:
        for i in range(n):
            jti = str(uuid.uuid4())
            body = json.dumps({"type": "token.revoked", "iss": iss, "jti": jti,
                               "exp": exp}, separators=(",", ":"))
            mid = "msg_bench_%d_%s" % (i, jti[:8])
            mac = hmac.new(key, f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()
            f.write(f"{mid}\t{ts}\tv1,{base64.b64encode(mac).decode()}\t{body}\n")
            p.write(json.dumps({"jti": jti, "exp": exp}, separators=(",", ":")) + "\n")


def db(path, iss, n):
    now = int(time.time())
    c = sqlite3.connect(path)
    register(c)     # the digest's triggers call them
    c.execute("PRAGMA journal_mode=WAL")
    ids = (str(uuid.uuid4()) for _ in range(n))
    rows = ((0, iss, i, now, now + 6 * 3600, None, "admin", key_hash(0, iss, i))
            for i in ids)
    with c:
        c.executemany("INSERT INTO revocations (type, iss, id, revoked_at, expires_at,"
                      " reason, source, kh) VALUES (?,?,?,?,?,?,?,?)", rows)
    got = c.execute("SELECT count(*) FROM revocations").fetchone()[0]
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    print(f"db: {path}: {got} revocations")


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "tokens":
        sys.exit(tokens(a[0], int(a[1]), a[2], a[3]))
    elif cmd == "webhook":
        webhook(a[0], a[1], a[2], int(a[3]))
    elif cmd == "db":
        db(a[0], a[1], int(a[2]))
    else:
        sys.exit(__doc__)
