#!/usr/bin/env python3
"""bench/store/kh_sql.py DB - runs the SQL script on stdin against DB with
the SQL functions revokd's own connections have (tests/support/keyhash.py):
rvk_kh(type, iss, id), the key hash the tables store in `kh`, and the
digest's, which the triggers on the revocations table call. The sqlite3
CLI has none of them, so rows written by hand go through this."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "support"))
from keyhash import register  # noqa: E402

db = sqlite3.connect(sys.argv[1], isolation_level=None)
register(db)
db.executescript(sys.stdin.read())
db.close()
