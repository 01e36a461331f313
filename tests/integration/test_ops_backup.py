"""docs/OPERATIONS.md §6, as written there: an online `sqlite3 .backup` of
the data dir while revokd runs and takes revocations, then a restore (stop,
replace the file, start) brings back every revocation in the backup."""
import os
import shutil
import subprocess

from conftest import ISS

SQLITE3 = shutil.which("sqlite3") or "/usr/bin/sqlite3"


def revoke(srv, *jtis):
    r = srv.admin("POST", "/admin/v1/revocations", json={"events": [
        {"type": "token.revoked", "iss": ISS, "jti": j} for j in jtis]})
    assert r.status_code == 201, r.text


def test_online_backup_and_restore(spawn, mint):
    assert os.path.exists(SQLITE3), "sqlite3 missing (Debian package sqlite3)"
    srv = spawn.new()
    db = os.path.join(srv.workdir, "data", "revokd.db")
    before = [f"bk-{i}" for i in range(50)]
    revoke(srv, *before)
    copy = os.path.join(srv.workdir, "backup.db")
    p = subprocess.run([SQLITE3, db, f".backup {copy}"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([SQLITE3, copy, "PRAGMA integrity_check"], capture_output=True,
                       text=True, timeout=60)
    assert p.stdout.strip() == "ok", p.stdout + p.stderr
    revoke(srv, "bk-after")             # not in the backup
    # Restore: stop, drop the WAL files, put the backup in place, start.
    assert srv.stop() == 0
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(copy, db)
    again = spawn.restart(srv)
    for j in before:
        assert again.auth(mint.token(alg="ES256", jti=j)).status_code == 401, j
    assert again.auth(mint.token(alg="ES256", jti="bk-after")).status_code == 200


def test_an_idle_second_checkpoints_the_wal_into_the_main_file(spawn):
    """The automatic checkpoint waits for 256 MiB of WAL (store/db.c, docs/
    BENCHMARKS.md "Intake into a growing file"); after a second without
    writes the writer copies the WAL into the main file, so that file alone
    holds every acknowledged revocation and the WAL does not linger."""
    import sqlite3
    import time
    srv = spawn.new()
    db = os.path.join(srv.workdir, "data", "revokd.db")
    jtis = [f"ck-{i}" for i in range(3000)]
    for i in range(0, len(jtis), 1000):
        revoke(srv, *jtis[i:i + 1000])
    copy = os.path.join(srv.workdir, "main-file-only.db")

    def rows_in_main_file():
        shutil.copyfile(db, copy)   # the main file alone: no -wal, no -shm
        con = sqlite3.connect(copy)
        try:
            return con.execute("SELECT count(*) FROM revocations WHERE id LIKE 'ck-%'"
                               ).fetchone()[0]
        except sqlite3.DatabaseError:
            # not even the schema in the main file yet, or a copy taken
            # in the middle of a checkpoint's writes: look again
            return 0
        finally:
            con.close()
    deadline = time.time() + 30
    while rows_in_main_file() < len(jtis) and time.time() < deadline:
        time.sleep(0.5)
    assert rows_in_main_file() == len(jtis)
