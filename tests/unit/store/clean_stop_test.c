/*
 * The start-up integrity check and the clean-stop marker (store/db.h,
 * DECISIONS D26): PRAGMA quick_check, which reads the whole file, runs at
 * an open after a stop that was not clean, never after a clean one unless
 * asked to; and when it runs, a damaged file is refused.
 *
 * The damage is an overwritten root page of the revocations_expires index:
 * the load (a scan of the revocations table) never reads it, only the check
 * does, so whether an open fails says whether the check ran.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/fault.h"
#include "base/log.h"
#include "tests/support/tap.h"
#include "tests/unit/store/fixture.h"

#define NOW STORE_FX_NOW
#define LEEWAY 30
#define ROWS 2000

static char dbpath[600];

static long long
query_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static long long
marked(void)
{
	return query_int("SELECT count(*) FROM meta WHERE key = 'clean_stop'");
}

static bool
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	bool ok = true;
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		ok = ok && write(out, buf, (size_t)n) == n;
	ok = ok && in >= 0 && out >= 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok;
}

/* Overwrites the root page of index `name` in dbpath with junk (a byte
 * pattern): a page SQLite refuses to read. */
static void
damage_root_page(const char *name)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT rootpage FROM sqlite_schema"
	         " WHERE name = '%s'", name);
	long long root = query_int(sql);
	long long psz = query_int("PRAGMA page_size");
	TAP_CHECK(root > 1 && psz >= 512 && psz <= 65536);
	static char junk[65536];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	int fd = open(dbpath, O_WRONLY);
	TAP_CHECK(fd >= 0);
	TAP_CHECK(pwrite(fd, junk, (size_t)psz, (off_t)((root - 1) * psz)) == psz);
	close(fd);
}

static void
fill(store_fx_t *fx)
{
	static rvk_revocation_t revs[ROWS];
	static char ids[ROWS][40];
	for (int i = 0; i < ROWS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "jti-%06d-padding-padding", i);
		revs[i] = (rvk_revocation_t){ .type = RVK_REV_TOKEN, .iss = "i",
		                              .id = ids[i], .revoked_at = NOW,
		                              .expires_at = NOW + 600 + i,
		                              .source = RVK_SRC_ADMIN };
	}
	TAP_CHECK_INT(rvk_store_record(fx->store, revs, ROWS), RVK_OK);
}

/* A store of ROWS revocations, stopped cleanly (the marker set, all in
 * the main file); dbpath names its file. */
static void
filled_and_stopped(store_fx_t *fx)
{
	rvk_store_opts_t o = { .leeway = LEEWAY, .clean_stop_marker = true };
	TAP_CHECK(store_fx_init(fx, "clean", &o));
	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", fx->dir);
	fill(fx);
	store_fx_close(fx);
}

/* Opens fx->dir with check; returns the result, err in *msg. */
static rvk_result_t
open_with(const char *dir, rvk_store_check_t check, bool marker, char *msg,
          size_t n)
{
	rvk_revtable_t *t = rvk_revtable_new(16, LEEWAY);
	rvk_store_t *s = NULL;
	rvk_store_opts_t o = { .leeway = LEEWAY, .check = check,
	                       .clean_stop_marker = marker };
	msg[0] = '\0';
	rvk_result_t r = rvk_store_open(dir, t, &o, NOW, &s, msg, n);
	if (r == RVK_OK) {
		TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), ROWS);
		rvk_store_close(s);
	}
	rvk_revtable_free(t);
	return r;
}

TAP_TEST(the_marker_is_set_at_a_clean_stop_and_cleared_at_open)
{
	store_fx_t fx;
	rvk_store_opts_t o = { .leeway = LEEWAY, .clean_stop_marker = true };
	TAP_CHECK(store_fx_init(&fx, "clean", &o));
	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", fx.dir);
	/* While a store has the file open, the file does not say "clean",
	 * not even in the main file alone (a copy without the WAL). */
	TAP_CHECK_INT(marked(), 0);
	fill(&fx);
	store_fx_close(&fx);
	TAP_CHECK_INT(marked(), 1);
	/* Its value: the Unix time of the stop. */
	TAP_CHECK(query_int("SELECT value FROM meta WHERE key = 'clean_stop'")
	          > NOW);
	TAP_CHECK_INT(store_fx_open(&fx), RVK_OK);
	TAP_CHECK_INT(marked(), 0);
	store_fx_close(&fx);
	TAP_CHECK_INT(marked(), 1);
	/* revokd check's store (no marker keeping) leaves it as it is. */
	fx.opts.clean_stop_marker = false;
	TAP_CHECK_INT(store_fx_open(&fx), RVK_OK);
	TAP_CHECK_INT(marked(), 1);
	store_fx_close(&fx);
	TAP_CHECK_INT(marked(), 1);
	store_fx_fini(&fx);
}

TAP_TEST(no_marker_after_a_run_with_a_failed_commit)
{
#ifdef RVK_FAULT_INJECTION
	store_fx_t fx;
	rvk_store_opts_t o = { .leeway = LEEWAY, .clean_stop_marker = true };
	TAP_CHECK(store_fx_init(&fx, "clean", &o));
	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", fx.dir);
	rvk_revocation_t r = { .type = RVK_REV_TOKEN, .iss = "i", .id = "x",
	                       .revoked_at = NOW, .expires_at = NOW + 600,
	                       .source = RVK_SRC_ADMIN };
	rvk_fault_reset();
	rvk_fault_arm("store.commit", 1, 1);
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_EIO);
	rvk_fault_reset();
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	store_fx_close(&fx);
	TAP_CHECK_INT(marked(), 0);
	store_fx_fini(&fx);
#else
	printf("# skipped: a build without fault points\n");
#endif
}

/* A read that met a damaged page is as much a sign of damage as a failed
 * commit: the run that saw it leaves no marker, and the next start checks
 * the whole file (and refuses it) instead of serving from it. The damage
 * here is the root page of revocations_kh, which the load never reads and
 * rvk_store_get does. */
TAP_TEST(no_marker_after_a_run_whose_read_met_damage)
{
	store_fx_t fx;
	filled_and_stopped(&fx);
	damage_root_page("revocations_kh");
	/* The marker is there: this open skips the check, and the load does
	 * not see the damage. */
	TAP_CHECK_INT(store_fx_open(&fx), RVK_OK);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "i",
	                            "jti-000007-padding-padding", &got), RVK_EIO);
	store_fx_close(&fx);
	TAP_CHECK_INT(marked(), 0);
	char msg[512];
	TAP_CHECK_INT(open_with(fx.dir, RVK_STORE_CHECK_AFTER_UNCLEAN_STOP, true,
	                        msg, sizeof(msg)), RVK_EIO);
	TAP_CHECK(strstr(msg, "integrity check failed") != NULL);
	store_fx_fini(&fx);
}

TAP_TEST(the_check_runs_after_an_unclean_stop_and_refuses_damage)
{
	store_fx_t fx;
	filled_and_stopped(&fx);            /* clean: the marker, all in the main file */
	damage_root_page("revocations_expires");
	char msg[512];

	/* After the clean stop, the default skips the check: the load alone
	 * does not read the damaged index page, and the open succeeds. */
	TAP_CHECK_INT(open_with(fx.dir, RVK_STORE_CHECK_AFTER_UNCLEAN_STOP, true,
	                        msg, sizeof(msg)), RVK_OK);
	/* Asked for at every start, the check runs and refuses the file. */
	TAP_CHECK_INT(open_with(fx.dir, RVK_STORE_CHECK_EVERY_START, true, msg,
	                        sizeof(msg)), RVK_EIO);
	TAP_CHECK(strstr(msg, "integrity check failed") != NULL);
	TAP_CHECK(strstr(msg, dbpath) != NULL);
	printf("# %s\n", msg);

	/* The refused open changed nothing: the marker is still there. A
	 * killed run would have deleted it at its open and never set it
	 * again: do that, and the default checks, and refuses. */
	TAP_CHECK_INT(marked(), 1);
	sqlite3 *db;
	TAP_CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
	TAP_CHECK(sqlite3_exec(db, "DELETE FROM meta WHERE key = 'clean_stop'",
	                       NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	TAP_CHECK_INT(open_with(fx.dir, RVK_STORE_CHECK_AFTER_UNCLEAN_STOP, true,
	                        msg, sizeof(msg)), RVK_EIO);
	TAP_CHECK(strstr(msg, "integrity check failed") != NULL);
	/* Refused: the file is left as it was, for the operator. */
	TAP_CHECK_INT(marked(), 0);
	store_fx_fini(&fx);
}

TAP_TEST(a_wal_with_frames_means_a_check_even_with_the_marker)
{
	store_fx_t fx;
	filled_and_stopped(&fx);
	/* Damage, then a write by another program that leaves its WAL
	 * behind (a connection that was killed: here, one not closed when
	 * the copy is taken). */
	damage_root_page("revocations_expires");
	sqlite3 *db;
	TAP_CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
	TAP_CHECK(sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
	                       "INSERT OR REPLACE INTO meta VALUES ('x', 'y')",
	                       NULL, NULL, NULL) == SQLITE_OK);
	char walpath[640];
	snprintf(walpath, sizeof(walpath), "%s-wal", dbpath);
	char copy[640], copywal[660];
	snprintf(copy, sizeof(copy), "%s/copy", fx.dir);
	TAP_CHECK(mkdir(copy, 0700) == 0);
	snprintf(copy, sizeof(copy), "%s/copy/revokd.db", fx.dir);
	snprintf(copywal, sizeof(copywal), "%s-wal", copy);
	TAP_CHECK(copy_file(dbpath, copy));
	TAP_CHECK(copy_file(walpath, copywal));
	sqlite3_close(db);
	char msg[512], cdir[620];
	snprintf(cdir, sizeof(cdir), "%s/copy", fx.dir);
	TAP_CHECK_INT(open_with(cdir, RVK_STORE_CHECK_AFTER_UNCLEAN_STOP, true,
	                        msg, sizeof(msg)), RVK_EIO);
	TAP_CHECK(strstr(msg, "integrity check failed") != NULL);
	store_fx_fini(&fx);
}

int
main(void)
{
	rvk_log_set_level(RVK_LOG_ERROR);
	return tap_main(TAP_LIST(the_marker_is_set_at_a_clean_stop_and_cleared_at_open,
	                         no_marker_after_a_run_with_a_failed_commit,
	                         no_marker_after_a_run_whose_read_met_damage,
	                         the_check_runs_after_an_unclean_stop_and_refuses_damage,
	                         a_wal_with_frames_means_a_check_even_with_the_marker));
}
