/*
 * The store's VFS (store/vfs.h): a WAL's appends reach the file in a few
 * large writes, never after the commit's sync, before any other connection
 * can see them, before this connection reads them back; and a write that
 * fails fails the commit.
 *
 * Underneath it, as its parent, sits a counting VFS: the unix VFS with the
 * WAL's xWrite and xSync recorded (and xWrite able to fail), registered as
 * the default before the store's VFS is first asked for.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "tests/support/tap.h"
#include "tests/unit/store/fixture.h"
#include "store/vfs.h"

/* ---- the counting VFS ---------------------------------------------------- */

static sqlite3_vfs counting;
static sqlite3_vfs *unix_vfs;
static const sqlite3_io_methods *unix_methods;
static sqlite3_io_methods counted;

static struct {
	int writes;             /* xWrite calls on a WAL */
	int writes_after_sync;  /* of which since its last xSync */
	int syncs;
	bool fail_writes;
} wal;

static int
c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	wal.writes++;
	wal.writes_after_sync++;
	if (wal.fail_writes)
		return SQLITE_IOERR_WRITE;
	return unix_methods->xWrite(f, buf, n, off);
}

static int
c_sync(sqlite3_file *f, int flags)
{
	wal.syncs++;
	wal.writes_after_sync = 0;
	return unix_methods->xSync(f, flags);
}

static int
c_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
       int *out_flags)
{
	(void)v;
	int rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out_flags);
	if (rc == SQLITE_OK && f->pMethods && (flags & SQLITE_OPEN_WAL)) {
		if (!unix_methods) {
			unix_methods = f->pMethods;
			counted = *unix_methods;
			counted.xWrite = c_write;
			counted.xSync = c_sync;
		}
		if (f->pMethods == unix_methods)
			f->pMethods = &counted;
	}
	return rc;
}

static void
counting_register(void)
{
	unix_vfs = sqlite3_vfs_find(NULL);
	counting = *unix_vfs;
	counting.zName = "counting";
	counting.pNext = NULL;
	counting.xOpen = c_open;
	sqlite3_vfs_register(&counting, 1);
}

/* ---- helpers ------------------------------------------------------------- */

static char dir[512];
static char path[600];

static sqlite3 *
open_db(const char *vfs, const char *sync)
{
	sqlite3 *db = NULL;
	TAP_CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	                              SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	char sql[400];
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = WAL;"
	         " PRAGMA synchronous = %s; PRAGMA wal_autocheckpoint = 0;"
	         " PRAGMA cache_size = -65536;"
	         " CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, b BLOB);"
	         " CREATE INDEX IF NOT EXISTS t_b ON t (b);", sync);
	TAP_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static long long
one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Inserts n rows of size-byte random blobs (one page or more each, in the
 * table and again in the index) in one transaction. Returns: the COMMIT's
 * result. */
static int
insert(sqlite3 *db, int n, int size)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1"
	         " UNION ALL SELECT x + 1 FROM c WHERE x < %d) INSERT INTO t (b)"
	         " SELECT randomblob(%d) FROM c;", n, size);
	TAP_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void
fresh(const char *tag)
{
	TAP_CHECK(store_fx_mkdtemp(dir, sizeof(dir), tag));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	memset(&wal, 0, sizeof(wal));
}

/* ---- tests --------------------------------------------------------------- */

TAP_TEST(a_commit_of_thousands_of_frames_is_a_few_large_writes)
{
	/* The same commit through the counting VFS alone: two writes a
	 * frame (header, page), the cost this VFS removes. */
	fresh("vfs_plain");
	sqlite3 *db = open_db("counting", "FULL");
	memset(&wal, 0, sizeof(wal));
	TAP_CHECK_INT(insert(db, 1000, 3000), SQLITE_OK);
	int frames = (int)one_int(db, "PRAGMA page_count");
	TAP_CHECK(frames > 2000);
	TAP_CHECK(wal.writes >= 2 * frames);
	sqlite3_close(db);
	store_fx_rmtree(dir);

	fresh("vfs_buf");
	db = open_db(rvk_store_vfs_name(), "FULL");
	memset(&wal, 0, sizeof(wal));
	TAP_CHECK_INT(insert(db, 1000, 3000), SQLITE_OK);
	/* Frames of 24 + 4,096 bytes, written when the next header or page
	 * does not fit (so at least RVK_VFS_WALBUF - 4,096 a write), and the
	 * WAL's header. */
	int most = frames * 4120 / (RVK_VFS_WALBUF - 4096) + 3;
	TAP_CHECK(wal.writes >= 1);
	TAP_CHECK(wal.writes <= most);
	printf("# %d frames, %d writes (at most %d)\n", frames, wal.writes, most);
	TAP_CHECK_INT(one_int(db, "SELECT count(*) FROM t"), 1000);
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

TAP_TEST(nothing_reaches_the_wal_after_the_commits_sync)
{
	fresh("vfs_sync");
	sqlite3 *db = open_db(rvk_store_vfs_name(), "FULL");
	for (int i = 0; i < 5; i++) {
		int syncs = wal.syncs;
		/* Small (buffered whole) and large (several buffers). */
		TAP_CHECK_INT(insert(db, i % 2 ? 3 : 400, 3000), SQLITE_OK);
		TAP_CHECK(wal.syncs > syncs);
		TAP_CHECK_INT(wal.writes_after_sync, 0);
	}
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

TAP_TEST(a_commit_without_sync_is_in_the_file_before_others_see_it)
{
	fresh("vfs_nosync");
	sqlite3 *w = open_db(rvk_store_vfs_name(), "OFF");
	sqlite3 *r = open_db("counting", "FULL");
	for (int i = 1; i <= 4; i++) {
		/* 3 rows: a dozen frames, well inside the buffer. */
		TAP_CHECK_INT(insert(w, 3, 3000), SQLITE_OK);
		TAP_CHECK_INT(wal.syncs, 0);
		TAP_CHECK_INT(one_int(r, "SELECT count(*) FROM t"), 3 * i);
		TAP_CHECK_INT(one_int(r, "SELECT sum(length(b)) FROM t"),
		              3 * i * 3000);
		TAP_CHECK_INT(one_int(r, "SELECT count(*) FROM t INDEXED BY t_b"
		                      " WHERE b IS NOT NULL"), 3 * i);
	}
	sqlite3_close(r);
	sqlite3_close(w);
	store_fx_rmtree(dir);
}

TAP_TEST(pages_spilled_in_mid_transaction_are_read_back_whole)
{
	/* A page cache of 8 pages: the transaction writes frames to the WAL
	 * long before its commit, evicts them, and reads them back. */
	fresh("vfs_spill");
	sqlite3 *db = open_db(rvk_store_vfs_name(), "FULL");
	TAP_CHECK_INT(sqlite3_exec(db, "PRAGMA cache_size = 8", NULL, NULL,
	                           NULL), SQLITE_OK);
	TAP_CHECK_INT(sqlite3_exec(db, "BEGIN; WITH RECURSIVE c(x) AS"
	                           " (SELECT 1 UNION ALL SELECT x + 1 FROM c"
	                           " WHERE x < 300) INSERT INTO t (k, b)"
	                           " SELECT x, randomblob(2000)"
	                           " FROM c;", NULL, NULL, NULL), SQLITE_OK);
	TAP_CHECK(wal.writes > 0);      /* spilled before the commit */
	TAP_CHECK_INT(one_int(db, "SELECT count(*) FROM t INDEXED BY t_b"
	                      " WHERE b IS NOT NULL"), 300);
	TAP_CHECK_INT(one_int(db, "SELECT sum(length(b)) FROM t"), 300 * 2000);
	TAP_CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3 *r = open_db("counting", "FULL");
	TAP_CHECK_INT(one_int(r, "SELECT count(*) FROM t"), 300);
	char *ok = NULL;
	sqlite3_stmt *st = NULL;
	TAP_CHECK_INT(sqlite3_prepare_v2(r, "PRAGMA integrity_check", -1, &st,
	                                 NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		ok = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	TAP_CHECK_STR(ok ? ok : "", "ok");
	sqlite3_free(ok);
	sqlite3_close(r);
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

TAP_TEST(a_write_that_fails_fails_the_commit_and_changes_nothing)
{
	fresh("vfs_fail");
	sqlite3 *db = open_db(rvk_store_vfs_name(), "FULL");
	TAP_CHECK_INT(insert(db, 2, 100), SQLITE_OK);
	/* Small enough to sit in the buffer until the commit's sync. */
	wal.fail_writes = true;
	int rc = insert(db, 3, 100);
	wal.fail_writes = false;
	TAP_CHECK((rc & 0xff) == SQLITE_IOERR);
	sqlite3_close(db);
	sqlite3 *r = open_db("counting", "FULL");
	TAP_CHECK_INT(one_int(r, "SELECT count(*) FROM t"), 2);
	sqlite3_close(r);
	store_fx_rmtree(dir);
}

int
main(void)
{
	counting_register();
	return tap_main(TAP_LIST(
		a_commit_of_thousands_of_frames_is_a_few_large_writes,
		nothing_reaches_the_wal_after_the_commits_sync,
		a_commit_without_sync_is_in_the_file_before_others_see_it,
		pages_spilled_in_mid_transaction_are_read_back_whole,
		a_write_that_fails_fails_the_commit_and_changes_nothing));
}
