#!/usr/bin/env python3
"""bench/store/kh_sql.py DB - runs the SQL script on stdin against DB with
rvk_kh(type, iss, id), the key hash revokd's revocations table stores in
`kh` (tests/support/keyhash.py), as revokd's own connections have it: the
sqlite3 CLI does not, so rows written by hand go through this."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "support"))
from keyhash import key_hash  # noqa: E402

db = sqlite3.connect(sys.argv[1], isolation_level=None)
def rvk_kh(type_, iss, id_):
    """NULL for a NULL or non-integer argument, as revokd's rvk_kh."""
    if not isinstance(type_, int) or iss is None or id_ is None \
            or not 0 <= type_ < 5:
        return None
    return key_hash(type_, str(iss), str(id_))


db.create_function("rvk_kh", 3, rvk_kh, deterministic=True)
db.executescript(sys.stdin.read())
db.close()
