/*
 * Cluster mode's part of store/: the outbox written in the same
 * transaction, the replica's writes with their stream position, meta,
 * the v1 -> v2 migration; and the Redis URL parser (store/redis_url.c).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/fault.h"
#include "base/mem.h"
#include "store/db.h"
#include "store/outbox.h"
#include "store/replica.h"
#include "store/replica_entry.h"
#include "tests/support/tap.h"
#include "tests/unit/store/fixture.h"

#define NOW STORE_FX_NOW

static int kicks;

static void
on_outbox(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&kicks, 1, __ATOMIC_RELAXED);
}

/* The store fixture (tests/unit/store/fixture.h), in cluster mode or not. */
typedef store_fx_t fx_t;

static bool
fx_open(fx_t *fx, bool cluster)
{
	fx->opts = (rvk_store_opts_t){ .leeway = 30, .cluster = cluster,
	                               .on_outbox = on_outbox };
	return store_fx_open(fx) == RVK_OK;
}

static void
fx_close(fx_t *fx)
{
	store_fx_close(fx);
}

static bool
fx_init(fx_t *fx, bool cluster)
{
	rvk_store_opts_t o = { .leeway = 30, .cluster = cluster, .on_outbox = on_outbox };
	return store_fx_init(fx, "outbox", &o);
}

static void
fx_fini(fx_t *fx)
{
	store_fx_fini(fx);
}

static rvk_revocation_t
rev(rvk_rev_type_t t, const char *id, rvk_source_t src)
{
	return (rvk_revocation_t){ .type = t, .iss = "https://i", .id = (char *)id,
	                           .revoked_at = NOW, .expires_at =
	                           t == RVK_REV_KEY ? RVK_NEVER : NOW + 600,
	                           .source = src };
}

static size_t
depth(rvk_store_t *s)
{
	size_t d = 99;
	TAP_CHECK_INT(rvk_store_outbox_depth(s, &d), RVK_OK);
	return d;
}

TAP_TEST(no_outbox_without_cluster_mode)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, false));
	rvk_revocation_t r = rev(RVK_REV_TOKEN, "t1", RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	bool del;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "https://i", "t1",
	                               NULL, &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK_INT(depth(fx.store), 0);
	fx_fini(&fx);
}

TAP_TEST(outbox_rows_follow_the_ledger)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	kicks = 0;
	rvk_revocation_t rs[3] = {
		rev(RVK_REV_TOKEN, "t1", RVK_SRC_WEBHOOK),
		rev(RVK_REV_KEY, "k1", RVK_SRC_ADMIN),
		/* Changes nothing: no write, nothing to publish. */
		rev(RVK_REV_TOKEN, "t1", RVK_SRC_WEBHOOK),
	};
	rs[1].reason = "leaked";
	TAP_CHECK_INT(rvk_store_record(fx.store, rs, 3), RVK_OK);
	TAP_CHECK_INT(depth(fx.store), 2);
	TAP_CHECK(kicks >= 1);
	bool del;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "https://i", "t1",
	                               NULL, &del), RVK_OK);
	TAP_CHECK(del);
	/* A delete that removed nothing has nothing to publish. */
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "https://i", "zz",
	                               NULL, &del), RVK_OK);
	TAP_CHECK(!del);
	TAP_CHECK_INT(depth(fx.store), 3);

	rvk_outbox_row_t *v;
	size_t n;
	TAP_CHECK_INT(rvk_store_outbox_read(fx.store, 0, 10, &v, &n), RVK_OK);
	TAP_CHECK_INT(n, 3);
	if (n == 3) {
		TAP_CHECK(!v[0].tombstone && v[0].rev.type == RVK_REV_TOKEN);
		TAP_CHECK_STR(v[0].rev.id, "t1");
		TAP_CHECK_INT(v[0].rev.expires_at, NOW + 600);
		TAP_CHECK_INT(v[0].rev.source, RVK_SRC_WEBHOOK);
		TAP_CHECK(v[0].rev.reason == NULL);
		TAP_CHECK_STR(v[1].rev.id, "k1");
		TAP_CHECK_INT(v[1].rev.expires_at, RVK_NEVER);
		TAP_CHECK_STR(v[1].rev.reason, "leaked");
		TAP_CHECK(v[2].tombstone && v[2].rev.type == RVK_REV_TOKEN);
		TAP_CHECK_STR(v[2].rev.id, "t1");
		TAP_CHECK(v[0].seq < v[1].seq && v[1].seq < v[2].seq);
		/* After a row: the ones after it, acked or not (the publisher
		 * sends on before it acks). */
		rvk_outbox_row_t *w;
		size_t m;
		TAP_CHECK_INT(rvk_store_outbox_read(fx.store, v[0].seq, 1, &w, &m),
		              RVK_OK);
		TAP_CHECK(m == 1 && w[0].seq == v[1].seq);
		rvk_outbox_rows_free(w, m);
		TAP_CHECK_INT(rvk_store_outbox_read(fx.store, v[2].seq, 10, &w, &m),
		              RVK_OK);
		TAP_CHECK(m == 0 && w == NULL);
		/* Acked up to the second: only the tombstone stays. */
		TAP_CHECK_INT(rvk_store_outbox_ack(fx.store, v[1].seq), RVK_OK);
	}
	rvk_outbox_rows_free(v, n);
	TAP_CHECK_INT(depth(fx.store), 1);

	/* The outbox survives a restart (what Redis did not take yet). */
	fx_close(&fx);
	TAP_CHECK(fx_open(&fx, true));
	TAP_CHECK_INT(depth(fx.store), 1);
	TAP_CHECK_INT(rvk_store_outbox_read(fx.store, 0, 10, &v, &n), RVK_OK);
	TAP_CHECK_INT(n, 1);
	if (n == 1) {
		TAP_CHECK(v[0].tombstone);
		TAP_CHECK_INT(rvk_store_outbox_ack(fx.store, v[0].seq), RVK_OK);
	}
	rvk_outbox_rows_free(v, n);
	TAP_CHECK_INT(depth(fx.store), 0);
	TAP_CHECK_INT(rvk_store_outbox_read(fx.store, 0, 10, &v, &n), RVK_OK);
	TAP_CHECK_INT(n, 0);
	TAP_CHECK(v == NULL);
	fx_fini(&fx);
}

TAP_TEST(replica_writes_save_the_position_not_the_outbox)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	char *pos = NULL;
	TAP_CHECK_INT(rvk_store_meta_get(fx.store, RVK_STORE_META_POSITION, &pos),
	              RVK_ENOTFOUND);
	rvk_revocation_t r = rev(RVK_REV_TOKEN, "t1", RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "100-0"), RVK_OK);
	TAP_CHECK(rvk_revtable_count(fx.table, RVK_REV_TOKEN) == 1);
	TAP_CHECK_INT(rvk_store_meta_get(fx.store, RVK_STORE_META_POSITION, &pos),
	              RVK_OK);
	TAP_CHECK_STR(pos, "100-0");
	free(pos);
	/* n == 0: the position alone (entries of our own). */
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, NULL, 0, "101-3"), RVK_OK);
	bool del;
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN, "https://i",
	                                       "t1", NULL, 0, NULL, "102-0", &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK(rvk_revtable_count(fx.table, RVK_REV_TOKEN) == 0);
	TAP_CHECK_INT(depth(fx.store), 0);
	TAP_CHECK_INT(rvk_store_meta_get(fx.store, RVK_STORE_META_POSITION, &pos),
	              RVK_OK);
	TAP_CHECK_STR(pos, "102-0");
	free(pos);

#ifdef RVK_FAULT_INJECTION
	/* All or nothing: a failed commit moves neither rows nor position. */
	rvk_fault_reset();
	rvk_fault_arm("store.commit", 1, 1);
	r = rev(RVK_REV_TOKEN, "t2", RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "103-0"), RVK_EIO);
	rvk_fault_reset();
	TAP_CHECK_INT(rvk_store_meta_get(fx.store, RVK_STORE_META_POSITION, &pos),
	              RVK_OK);
	TAP_CHECK_STR(pos, "102-0");
	free(pos);
	TAP_CHECK(rvk_revtable_count(fx.table, RVK_REV_TOKEN) == 0);
#endif
	fx_fini(&fx);
}

/* A version ms milliseconds past now, as the hybrid logical clock makes
 * them (store.c, "Versioned changes"). */
static uint64_t
later_version(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms)
	       << 16;
}

/* Per-source revocations in cluster mode: a delete of one source's
 * contribution travels naming that source; a delete of all names none; a
 * tombstone from the stream that names a source removes only that one. */
TAP_TEST(tombstones_name_the_source_that_left)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	rvk_revocation_t rs[2] = {
		rev(RVK_REV_ISSUER, "", RVK_SRC_ADMIN),
		rev(RVK_REV_ISSUER, "", RVK_SRC_KEYCLOAK),
	};
	rs[1].revoked_at = NOW - 50;
	TAP_CHECK_INT(rvk_store_record(fx.store, rs, 2), RVK_OK);
	rvk_source_t kc = RVK_SRC_KEYCLOAK;
	bool del;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "https://i", "",
	                               &kc, &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "https://i", "",
	                               NULL, &del), RVK_OK);
	TAP_CHECK(del);
	rvk_outbox_row_t *v;
	size_t n;
	TAP_CHECK_INT(rvk_store_outbox_read(fx.store, 0, 10, &v, &n), RVK_OK);
	TAP_CHECK_INT(n, 4);
	if (n == 4) {
		TAP_CHECK(!v[0].tombstone && v[0].rev.source == RVK_SRC_ADMIN);
		TAP_CHECK(!v[1].tombstone && v[1].rev.source == RVK_SRC_KEYCLOAK);
		TAP_CHECK_INT(v[1].rev.revoked_at, NOW - 50);
		TAP_CHECK(v[2].tombstone && !v[2].every_source);
		TAP_CHECK_INT(v[2].rev.source, RVK_SRC_KEYCLOAK);
		TAP_CHECK(v[3].tombstone && v[3].every_source);
	}
	rvk_outbox_rows_free(v, n);

	/* From the stream: the contributions of a and of the operator here. */
	rvk_revocation_t remote = rev(RVK_REV_ISSUER, "", RVK_SRC_KEYCLOAK);
	remote.revoked_at = NOW + 10;
	remote.expires_at = NOW + 700;
	remote.origin = "aaaa";
	/* Later than every change made here (versioned changes: an
	 * unversioned entry would not touch a revocation changed here). */
	remote.version = later_version(1000);
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &remote, 1, "200-0"),
	              RVK_OK);
	TAP_CHECK_INT(rvk_store_record(fx.store, rs, 1), RVK_OK);
	int64_t at = 0, exp = 0;
	TAP_CHECK(rvk_revtable_get(fx.table, RVK_REV_ISSUER, "https://i", 9, "",
	                           0, &at, &exp));
	TAP_CHECK(at == NOW + 10 && exp == NOW + 700);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_ISSUER, "https://i", "",
	                            &got), RVK_OK);
	TAP_CHECK_INT(got.source, RVK_SRC_KEYCLOAK);
	TAP_CHECK_STR(got.origin ? got.origin : "(null)", "aaaa");
	TAP_CHECK_INT(got.nsources, 2);
	if (got.nsources == 2) {
		TAP_CHECK(got.sources[0].origin == NULL);
		TAP_CHECK_STR(got.sources[1].origin, "aaaa");
	}
	rvk_revocation_fini(&got);
	/* a's clear arrives: only Keycloak's goes; the table falls back to
	 * the operator's times. */
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_ISSUER,
	                                       "https://i", "", &kc,
	                                       remote.version + 5, "aaaa", "201-0",
	                                       &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK(rvk_revtable_get(fx.table, RVK_REV_ISSUER, "https://i", 9, "",
	                           0, &at, &exp));
	TAP_CHECK(at == NOW && exp == NOW + 600);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_ISSUER, "https://i", "",
	                            &got), RVK_OK);
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	TAP_CHECK(got.origin == NULL);
	TAP_CHECK_INT(got.nsources, 1);
	rvk_revocation_fini(&got);
	/* Neither of the stream's writes entered the outbox. */
	TAP_CHECK_INT(depth(fx.store), 5);
	fx_fini(&fx);
}

TAP_TEST(failed_commit_writes_no_outbox_row)
{
#ifndef RVK_FAULT_INJECTION
	printf("# fault points compiled out (-Dfault_injection=disabled)\n");
#else
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	rvk_fault_reset();
	rvk_fault_arm("store.commit", 1, 1);
	rvk_revocation_t r = rev(RVK_REV_TOKEN, "t1", RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_EIO);
	rvk_fault_reset();
	TAP_CHECK_INT(depth(fx.store), 0);
	TAP_CHECK_INT(rvk_store_meta_set(fx.store, "k", "v"), RVK_OK);
	char *v = NULL;
	TAP_CHECK_INT(rvk_store_meta_get(fx.store, "k", &v), RVK_OK);
	TAP_CHECK_STR(v, "v");
	free(v);
	fx_fini(&fx);
#endif
}

/* A fresh data dir, dir[512], holding revokd.db, path[600], made by sql:
 * the file as an older revokd left it. Returns: success. */
static bool
old_database(char *dir, char *path, const char *sql)
{
	if (!store_fx_mkdtemp(dir, 512, "outbox"))
		return false;
	snprintf(path, 600, "%s/revokd.db", dir);
	sqlite3 *db;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
	          sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok;
}

TAP_TEST(v1_database_migrates_to_v2)
{
	char dir[512], path[600];
	TAP_CHECK(old_database(dir, path,
		"CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER"
		" NULL, reason TEXT NULL, source TEXT NOT NULL,"
		" PRIMARY KEY (type, iss, id)) WITHOUT ROWID;"
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
		"INSERT INTO revocations VALUES (4, 'https://i', 'k', 1, NULL, NULL,"
		" 'admin');"
		"PRAGMA user_version = 1;"));
	fx_t fx = { 0 };
	strcpy(fx.dir, dir);
	TAP_CHECK(fx_open(&fx, true));
	TAP_CHECK(rvk_revtable_count(fx.table, RVK_REV_KEY) == 1);
	TAP_CHECK_INT(depth(fx.store), 0);
	fx_fini(&fx);
}

/* Schema 2 -> 3: every row survives as the contribution of its source
 * (a "replica" row too), and an outbox row waiting to be published stays. */
TAP_TEST(v2_database_migrates_to_v3_keeping_every_source)
{
	char dir[512], path[600];
	TAP_CHECK(old_database(dir, path,
		"CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER"
		" NULL, reason TEXT NULL, source TEXT NOT NULL,"
		" PRIMARY KEY (type, iss, id)) WITHOUT ROWID;"
		"CREATE INDEX revocations_expires ON revocations(expires_at);"
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
		"CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		" op TEXT NOT NULL, type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NULL, expires_at INTEGER NULL,"
		" reason TEXT NULL, source TEXT NULL);"
		"INSERT INTO revocations VALUES"
		" (0, 'https://i', 't', 1764189000, 1764199000, 'lost', 'webhook'),"
		" (1, 'https://i', 's', 1764189001, 1764199001, NULL, 'backchannel'),"
		" (2, 'https://i', 'u', 1764189002, 1764199002, NULL, 'set'),"
		" (3, 'https://i', '', 1764189003, 1764199003, NULL, 'keycloak'),"
		" (3, 'https://j', '', 1764189004, 1764199004, 'x', 'replica'),"
		" (4, 'https://i', 'k', 1764189005, NULL, 'leaked', 'admin'),"
		" (0, 'https://j', 't', 1764189006, 1764199006, NULL, 'rfc7009');"
		"INSERT INTO outbox (op, type, iss, id, revoked_at, expires_at,"
		" reason, source) VALUES ('revoke', 0, 'https://i', 't', 1764189000,"
		" 1764199000, 'lost', 'webhook');"
		"PRAGMA user_version = 2;"));
	sqlite3 *db;
	fx_t fx = { 0 };
	strcpy(fx.dir, dir);
	TAP_CHECK(fx_open(&fx, true));
	static const struct {
		rvk_rev_type_t type;
		const char *iss, *id, *reason;
		int64_t at, exp;
		rvk_source_t source;
	} want[] = {
		{ RVK_REV_TOKEN, "https://i", "t", "lost", 1764189000, 1764199000,
		  RVK_SRC_WEBHOOK },
		{ RVK_REV_SESSION, "https://i", "s", NULL, 1764189001, 1764199001,
		  RVK_SRC_BACKCHANNEL },
		{ RVK_REV_SUBJECT, "https://i", "u", NULL, 1764189002, 1764199002,
		  RVK_SRC_SET },
		{ RVK_REV_ISSUER, "https://i", "", NULL, 1764189003, 1764199003,
		  RVK_SRC_KEYCLOAK },
		{ RVK_REV_ISSUER, "https://j", "", "x", 1764189004, 1764199004,
		  RVK_SRC_REPLICA },
		{ RVK_REV_KEY, "https://i", "k", "leaked", 1764189005, RVK_NEVER,
		  RVK_SRC_ADMIN },
		{ RVK_REV_TOKEN, "https://j", "t", NULL, 1764189006, 1764199006,
		  RVK_SRC_RFC7009 },
	};
	size_t total = 0;
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		total += rvk_revtable_count(fx.table, (rvk_rev_type_t)t);
	TAP_CHECK_INT(total, 7);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		rvk_revocation_t got;
		TAP_CHECK_INT(rvk_store_get(fx.store, want[i].type, want[i].iss,
		                            want[i].id, &got), RVK_OK);
		TAP_CHECK_INT(got.source, want[i].source);
		TAP_CHECK_INT(got.revoked_at, want[i].at);
		TAP_CHECK_INT(got.expires_at, want[i].exp);
		TAP_CHECK_STR(got.reason ? got.reason : "(null)",
		              want[i].reason ? want[i].reason : "(null)");
		TAP_CHECK(got.origin == NULL);
		TAP_CHECK_INT(got.nsources, 1);
		if (got.nsources == 1)
			TAP_CHECK_INT(got.sources[0].source, want[i].source);
		rvk_revocation_fini(&got);
	}
	TAP_CHECK_INT(depth(fx.store), 1);
	/* Now a second source of the same token is a second contribution. */
	rvk_revocation_t more = rev(RVK_REV_TOKEN, "t", RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &more, 1), RVK_OK);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "https://i", "t",
	                            &got), RVK_OK);
	TAP_CHECK_INT(got.nsources, 2);
	rvk_revocation_fini(&got);
	fx_close(&fx);
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	TAP_CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
	              SQLITE_OK);
	TAP_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	TAP_CHECK_INT(sqlite3_column_int(st, 0), RVK_DB_VERSION);  /* and on */
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

static bool
revoked(fx_t *fx, const char *id)
{
	int64_t at, exp;
	return rvk_revtable_get(fx->table, RVK_REV_TOKEN, "https://i", 9, id,
	                        strlen(id), &at, &exp);
}

/* Versioned changes (store.c): whatever order the stream delivers a
 * revocation and a delete of one ID in, the later version wins; equal
 * versions go to the larger node ID; an entry without a version touches
 * only a revocation no versioned change has touched; a local change is
 * always later than everything seen, and its outbox row carries its
 * version. */
TAP_TEST(later_version_wins_in_any_order)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	rvk_store_set_node(fx.store, "bbbb");
	uint64_t v = later_version(0);
	bool del;
	/* t1: revoke v+10 then delete v+5 (late): stays revoked. */
	rvk_revocation_t r = rev(RVK_REV_TOKEN, "t1", RVK_SRC_ADMIN);
	r.origin = "aaaa";
	r.version = v + 10;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "1-0"), RVK_OK);
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "t1", NULL, v + 5,
	                                       "cccc", "2-0", &del), RVK_OK);
	TAP_CHECK(!del && revoked(&fx, "t1"));
	/* t2: delete v+10 first, then revoke v+5: never revoked. */
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "t2", NULL, v + 10,
	                                       "cccc", "3-0", &del), RVK_OK);
	r.id = "t2";
	r.version = v + 5;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "4-0"), RVK_OK);
	TAP_CHECK(!revoked(&fx, "t2"));
	/* ...and a later revoke after that delete does apply. */
	r.version = v + 11;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "5-0"), RVK_OK);
	TAP_CHECK(revoked(&fx, "t2"));
	/* t3: equal versions: node "cccc" > "aaaa" wins either way. */
	r.id = "t3";
	r.version = v + 20;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "6-0"), RVK_OK);
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "t3", NULL, v + 20,
	                                       "cccc", "7-0", &del), RVK_OK);
	TAP_CHECK(del && !revoked(&fx, "t3"));
	r.id = "t4";
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "t4", NULL, v + 20,
	                                       "0000", "8-0", &del), RVK_OK);
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "9-0"), RVK_OK);
	TAP_CHECK(revoked(&fx, "t4"));
	/* Unversioned: applies where no version is, not over one. */
	rvk_revocation_t old = rev(RVK_REV_TOKEN, "t5", RVK_SRC_ADMIN);
	old.origin = "dddd";
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &old, 1, "10-0"), RVK_OK);
	TAP_CHECK(revoked(&fx, "t5"));
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "t5", NULL, 0,
	                                       "dddd", "11-0", &del), RVK_OK);
	TAP_CHECK(del && !revoked(&fx, "t5"));
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "t1", NULL, 0,
	                                       "dddd", "12-0", &del), RVK_OK);
	TAP_CHECK(!del && revoked(&fx, "t1"));
	/* A local delete of t1 is later than v+10 (seen): its outbox row has a
	 * version above it, and a replayed v+10 revoke no longer applies. */
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "https://i", "t1",
	                               NULL, &del), RVK_OK);
	TAP_CHECK(del && !revoked(&fx, "t1"));
	rvk_outbox_row_t *rows;
	size_t n;
	TAP_CHECK_INT(rvk_store_outbox_read(fx.store, 0, 10, &rows, &n), RVK_OK);
	TAP_CHECK_INT(n, 1);
	if (n == 1)
		TAP_CHECK(rows[0].tombstone && rows[0].rev.version > v + 20);
	rvk_outbox_rows_free(rows, n);
	r.id = "t1";
	r.version = v + 10;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "13-0"), RVK_OK);
	TAP_CHECK(!revoked(&fx, "t1"));
	/* Versions survive a restart (the clock resumes above them). */
	fx_close(&fx);
	TAP_CHECK(fx_open(&fx, true));
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "14-0"), RVK_OK);
	TAP_CHECK(!revoked(&fx, "t1") && revoked(&fx, "t2"));
	fx_fini(&fx);
}

/* A version 3 database (per-source rows, outbox without versions) opens as
 * version 4: every row kept, an old outbox row published without a
 * version, the versions table empty. */
TAP_TEST(v3_database_migrates_to_v4)
{
	char dir[512], path[600];
	TAP_CHECK(old_database(dir, path,
		"CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER"
		" NULL, reason TEXT NULL, source TEXT NOT NULL, origin TEXT NULL,"
		" PRIMARY KEY (type, iss, id, source)) WITHOUT ROWID;"
		"CREATE INDEX revocations_expires ON revocations(expires_at);"
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
		"CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		" op TEXT NOT NULL, type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NULL, expires_at INTEGER NULL,"
		" reason TEXT NULL, source TEXT NULL);"
		"INSERT INTO revocations VALUES"
		" (0, 'https://i', 't', 1764189000, 1764199000, 'lost', 'webhook', NULL),"
		" (0, 'https://i', 't', 1764189001, 1764199001, NULL, 'admin', 'aaaa'),"
		" (4, 'https://i', 'k', 1764189005, NULL, 'leaked', 'admin', NULL);"
		"INSERT INTO outbox (op, type, iss, id, revoked_at, expires_at,"
		" reason, source) VALUES ('revoke', 0, 'https://i', 't', 1764189000,"
		" 1764199000, 'lost', 'webhook');"
		"PRAGMA user_version = 3;"));
	sqlite3 *db;
	fx_t fx = { 0 };
	strcpy(fx.dir, dir);
	TAP_CHECK(fx_open(&fx, true));
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "https://i", "t", &got),
	              RVK_OK);
	TAP_CHECK_INT(got.nsources, 2);
	rvk_revocation_fini(&got);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_KEY, "https://i", "k", &got),
	              RVK_OK);
	rvk_revocation_fini(&got);
	rvk_outbox_row_t *rows;
	size_t n;
	TAP_CHECK_INT(rvk_store_outbox_read(fx.store, 0, 10, &rows, &n), RVK_OK);
	TAP_CHECK_INT(n, 1);
	if (n == 1)
		TAP_CHECK(rows[0].rev.version == 0
		          && rows[0].rev.source == RVK_SRC_WEBHOOK);
	rvk_outbox_rows_free(rows, n);
	fx_close(&fx);
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	TAP_CHECK_INT(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM versions),"
	              " (SELECT count(*) FROM revocations)", -1, &st, NULL), SQLITE_OK);
	TAP_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	TAP_CHECK_INT(sqlite3_column_int(st, 0), 0);
	TAP_CHECK_INT(sqlite3_column_int(st, 1), 3);
	sqlite3_finalize(st);
	TAP_CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
	              SQLITE_OK);
	TAP_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	TAP_CHECK_INT(sqlite3_column_int(st, 0), RVK_DB_VERSION);  /* and on */
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

/* The value of a one-row, one-column query on db (-1: none). */
static long long
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Whether SQLite's plan for sql names index (EXPLAIN QUERY PLAN's detail
 * column). */
static bool
plan_uses(sqlite3 *db, const char *sql, const char *index)
{
	char q[512];
	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *st;
	bool found = false;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		if (d && strstr(d, index))
			found = true;
	}
	sqlite3_finalize(st);
	return found;
}

/* The old file sql makes, at version from, is refused at the migration
 * with words that say so (says) and stays as it was. */
static void
unknown_type_refused(const char *sql, int from, const char *says)
{
	char dir[512], path[600];
	TAP_CHECK(old_database(dir, path, sql));
	sqlite3 *db;
	rvk_revtable_t *t = rvk_revtable_new(16, 30);
	rvk_store_t *s = NULL;
	char err[512] = "";
	TAP_CHECK_INT(rvk_store_open(dir, t, NULL, STORE_FX_NOW, &s, err,
	                             sizeof(err)), RVK_EIO);
	TAP_CHECK(s == NULL);
	TAP_CHECK(strstr(err, says) != NULL);
	printf("# %s\n", err);
	rvk_revtable_free(t);
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	TAP_CHECK_INT(query_int(db, "PRAGMA user_version"), from);
	TAP_CHECK_INT(query_int(db, "SELECT (SELECT count(*) FROM revocations)"
	                        " + (SELECT count(*) FROM versions)"), 2);
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

/* A row of an unknown type (only a hand can write one) has no key hash:
 * a version 5 database holding one in revocations, or a version 6 one
 * holding one in versions, is refused at the migration with words that
 * say so, and stays as it was. */
TAP_TEST(row_of_unknown_type_stops_the_migration_clearly)
{
#define V4_VERSIONS \
	"CREATE TABLE versions (type INTEGER NOT NULL, iss TEXT NOT NULL," \
	" id TEXT NOT NULL, source TEXT NOT NULL, version INTEGER NOT NULL," \
	" node TEXT NOT NULL, deleted INTEGER NOT NULL," \
	" PRIMARY KEY (type, iss, id, source)) WITHOUT ROWID;" \
	"CREATE INDEX versions_version ON versions(version);"
	unknown_type_refused(
		"CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER"
		" NULL, reason TEXT NULL, source TEXT NOT NULL, origin TEXT NULL);"
		"CREATE UNIQUE INDEX revocations_key ON revocations"
		" (type, iss, id, source);"
		"CREATE INDEX revocations_expires ON revocations(expires_at);"
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
		V4_VERSIONS
		"INSERT INTO revocations VALUES"
		" (0, 'https://i', 't', 1764189000, 4102444800, NULL, 'admin', NULL),"
		" (9, 'https://i', 'odd', 1764189000, 4102444800, NULL, 'admin',"
		" NULL);"
		"PRAGMA user_version = 5;", 5,
		"cannot migrate the schema to version 6: 1 rows in revocations"
		" with an unknown revocation type");
	unknown_type_refused(
		"CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER"
		" NULL, reason TEXT NULL, source TEXT NOT NULL, origin TEXT NULL,"
		" kh INTEGER NOT NULL);"
		"CREATE INDEX revocations_kh ON revocations(kh);"
		"CREATE INDEX revocations_expires ON revocations(expires_at);"
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
		V4_VERSIONS
		"INSERT INTO revocations VALUES (0, 'https://i', 't', 1764189000,"
		" 4102444800, NULL, 'admin', NULL, 452017256536160777);"
		"INSERT INTO versions VALUES (9, 'https://i', 'odd', 'admin',"
		" 115672002134016, 'aaaa', 0);"
		"PRAGMA user_version = 6;", 6,
		"cannot migrate the schema to version 7: 1 rows in versions"
		" with an unknown revocation type");
#undef V4_VERSIONS
}

/* Versions rows are found by their key's hash and told apart by their
 * columns (store.c, sql_ver_get and sql_ver_set), as the contributions
 * are: "b", given the hash of "a"'s row as a collision would, gets and
 * keeps a version of its own, and a's is untouched. */
TAP_TEST(versions_with_one_hash_stay_apart)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	uint64_t v = later_version(0);
	rvk_revocation_t r = rev(RVK_REV_TOKEN, "a", RVK_SRC_ADMIN);
	r.origin = "aaaa";
	r.version = v + 10;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "1-0"), RVK_OK);
	fx_close(&fx);
	char path[600];
	snprintf(path, sizeof(path), "%s/revokd.db", fx.dir);
	sqlite3 *db;
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	TAP_CHECK_INT(rvk_db_add_functions(db), SQLITE_OK);
	TAP_CHECK_INT(sqlite3_exec(db, "UPDATE versions SET"
	                           " kh = rvk_kh(0, 'https://i', 'b')", NULL,
	                           NULL, NULL), SQLITE_OK);
	TAP_CHECK_INT(sqlite3_changes(db), 1);
	sqlite3_close(db);
	TAP_CHECK(fx_open(&fx, true));
	/* Older than a's version, yet b's first: it applies... */
	r.id = "b";
	r.version = v + 5;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "2-0"), RVK_OK);
	TAP_CHECK(revoked(&fx, "b"));
	/* ...and a delete of b between b's and a's versions removes it. */
	bool del;
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "b", NULL, v + 7,
	                                       "cccc", "3-0", &del), RVK_OK);
	TAP_CHECK(del && !revoked(&fx, "b") && revoked(&fx, "a"));
	r.version = v + 6;
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "4-0"), RVK_OK);
	TAP_CHECK(!revoked(&fx, "b"));
	fx_close(&fx);
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM versions"), 3);
	TAP_CHECK_INT(query_int(db, "SELECT count(DISTINCT kh) FROM versions"), 1);
	TAP_CHECK(query_int(db, "SELECT version FROM versions WHERE id = 'a'")
	          == (long long)(v + 10));
	TAP_CHECK(query_int(db, "SELECT version FROM versions WHERE id = 'b'"
	                    " AND source = 'admin'") == (long long)(v + 5));
	TAP_CHECK(query_int(db, "SELECT version FROM versions WHERE id = 'b'"
	                    " AND source = '*'") == (long long)(v + 7));
	sqlite3_close(db);
	TAP_CHECK(fx_open(&fx, true));
	fx_fini(&fx);
}

/* Whether the digest rows differ from the XOR over the contributions and
 * versions rows db holds now, computed afresh (or are not 8 x 64). */
static long long
digest_off(sqlite3 *db)
{
	return query_int(db, "SELECT (SELECT count(*) FROM digest) <> 512"
		" OR EXISTS (SELECT 1 FROM digest d WHERE d.x <> coalesce("
		"  (SELECT rvk_xor(h) FROM"
		"   (SELECT r.type AS t, rvk_bucket(r.iss, r.id) AS b,"
		"     rvk_ch(r.type, r.iss, r.id, r.source) AS h FROM revocations r"
		"    UNION ALL SELECT v.type, rvk_bucket(v.iss, v.id),"
		"     rvk_vh(v.type, v.iss, v.id, v.source, v.version, v.node,"
		"      v.deleted) FROM versions v)"
		"   WHERE t = d.type AND b = d.bucket), 0))");
}

/* Whether rvk_store_digest reads what the file's digest rows hold, and
 * those are the XOR over the contributions there: after every kind of
 * write, a rollback and a restart. Returns: the number of mismatches. */
static int
digest_checked(fx_t *fx, const char *when)
{
	uint64_t d[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	int bad = 0;
	TAP_CHECK_INT(rvk_store_digest(fx->store, d), RVK_OK);
	char path[600];
	snprintf(path, sizeof(path), "%s/revokd.db", fx->dir);
	sqlite3 *db;
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	TAP_CHECK_INT(rvk_db_add_functions(db), SQLITE_OK);
	if (digest_off(db) != 0)
		bad++;
	sqlite3_stmt *st;
	TAP_CHECK_INT(sqlite3_prepare_v2(db, "SELECT type, bucket, x FROM digest"
	                                 " WHERE type < 5", -1, &st, NULL),
	              SQLITE_OK);
	int rows = 0, nonzero = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int t = sqlite3_column_int(st, 0), b = sqlite3_column_int(st, 1);
		uint64_t x = (uint64_t)sqlite3_column_int64(st, 2);
		bad += d[t][b] != x;
		nonzero += x != 0;
		rows++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	bad += rows != RVK_REV_TYPE_COUNT * RVK_DIGEST_BUCKETS;
	if (bad)
		printf("# digest off %s\n", when);
	printf("# %s: %d buckets hold something\n", when, nonzero);
	return bad;
}

/* The digest (schema 8) follows every write that adds or removes a
 * contribution or changes a versions row, local or from the stream: a
 * re-revocation changes it (its version) where it adds no contribution,
 * and a rolled-back commit and a restart leave it as it was. In
 * single-node mode, where there are no versions, a merge leaves it too. */
TAP_TEST(the_digest_follows_every_write)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	TAP_CHECK_INT(digest_checked(&fx, "empty"), 0);
	uint64_t empty[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	TAP_CHECK_INT(rvk_store_digest(fx.store, empty), RVK_OK);
	rvk_revocation_t revs[40];
	char ids[40][16];
	for (int i = 0; i < 40; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id-%d", i);
		revs[i] = rev(i % 4 == 3 ? RVK_REV_KEY : RVK_REV_TOKEN, ids[i],
		              i % 2 ? RVK_SRC_WEBHOOK : RVK_SRC_ADMIN);
	}
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 40), RVK_OK);
	TAP_CHECK_INT(digest_checked(&fx, "recorded"), 0);
	uint64_t before[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS], now[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	TAP_CHECK_INT(rvk_store_digest(fx.store, before), RVK_OK);
	TAP_CHECK(memcmp(before, empty, sizeof(before)) != 0);
	/* A re-revocation (same key and source, later times: a merge) adds
	 * no contribution, but a version: a replica that missed it differs. */
	revs[0].revoked_at = NOW + 5;
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 1), RVK_OK);
	TAP_CHECK_INT(rvk_store_digest(fx.store, now), RVK_OK);
	TAP_CHECK(memcmp(before, now, sizeof(now)) != 0);
	TAP_CHECK_INT(digest_checked(&fx, "re-revoked"), 0);
	/* Another source's contribution to id-0, and its delete. */
	rvk_revocation_t other = rev(RVK_REV_TOKEN, "id-0", RVK_SRC_SET);
	TAP_CHECK_INT(rvk_store_record(fx.store, &other, 1), RVK_OK);
	TAP_CHECK_INT(digest_checked(&fx, "another source"), 0);
	bool del = false;
	rvk_source_t set = RVK_SRC_SET;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "https://i", "id-0",
	                               &set, &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "https://i", "id-2",
	                               NULL, &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK_INT(digest_checked(&fx, "deleted"), 0);
	/* From the stream: a revocation, and a versioned delete of every
	 * source that removes the older contributions. */
	rvk_revocation_t r = rev(RVK_REV_SESSION, "s-1", RVK_SRC_BACKCHANNEL);
	r.origin = "aaaa";
	r.version = later_version(0);
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, &r, 1, "1-0"), RVK_OK);
	TAP_CHECK_INT(rvk_store_delete_replica(fx.store, RVK_REV_TOKEN,
	                                       "https://i", "id-4", NULL,
	                                       later_version(1000), "cccc",
	                                       "2-0", &del), RVK_OK);
	TAP_CHECK(del);
	TAP_CHECK_INT(digest_checked(&fx, "from the stream"), 0);
	/* A commit that fails leaves the digest as it was. */
	TAP_CHECK_INT(rvk_store_digest(fx.store, before), RVK_OK);
#ifdef RVK_FAULT_INJECTION
	rvk_fault_reset();
	rvk_fault_arm("store.commit", 1, 1);
	rvk_revocation_t lost = rev(RVK_REV_TOKEN, "lost", RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &lost, 1), RVK_EIO);
	rvk_fault_reset();
	TAP_CHECK_INT(rvk_store_digest(fx.store, now), RVK_OK);
	TAP_CHECK(memcmp(before, now, sizeof(now)) == 0);
#endif
	/* The purge of what expired (every token and session here; keys
	 * never expire), and a restart. */
	size_t purged = 0;
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW + 100000, &purged), RVK_OK);
	TAP_CHECK(purged > 0);
	TAP_CHECK_INT(digest_checked(&fx, "purged"), 0);
	TAP_CHECK_INT(rvk_store_digest(fx.store, before), RVK_OK);
	fx_close(&fx);
	TAP_CHECK(fx_open(&fx, true));
	TAP_CHECK_INT(rvk_store_digest(fx.store, now), RVK_OK);
	TAP_CHECK(memcmp(before, now, sizeof(now)) == 0);
	for (int i = 3; i < 40; i += 4)
		TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_KEY, "https://i",
		                               ids[i], NULL, &del), RVK_OK);
	TAP_CHECK_INT(digest_checked(&fx, "emptied"), 0);
	fx_fini(&fx);

	/* Single-node: contributions only. A merge leaves the digest, and
	 * deleting every contribution brings each bucket back to 0. */
	TAP_CHECK(fx_init(&fx, false));
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 40), RVK_OK);
	TAP_CHECK_INT(rvk_store_digest(fx.store, before), RVK_OK);
	revs[1].revoked_at = NOW + 9;
	TAP_CHECK_INT(rvk_store_record(fx.store, &revs[1], 1), RVK_OK);
	TAP_CHECK_INT(rvk_store_digest(fx.store, now), RVK_OK);
	TAP_CHECK(memcmp(before, now, sizeof(now)) == 0);
	for (int i = 0; i < 40; i++)
		TAP_CHECK_INT(rvk_store_delete(fx.store, revs[i].type, "https://i",
		                               ids[i], NULL, &del), RVK_OK);
	TAP_CHECK_INT(rvk_store_digest(fx.store, now), RVK_OK);
	TAP_CHECK(memcmp(empty, now, sizeof(now)) == 0);
	TAP_CHECK_INT(digest_checked(&fx, "single-node, emptied"), 0);
	fx_fini(&fx);
}

/* A version 4 database (contributions and versions WITHOUT ROWID) opens
 * as version 8, through 5, 6 and 7: the same rows in rowid tables with
 * each key's hash and an index on it, and the expires_at and version
 * indexes; still one row per (type, iss, id, source), merged and purged as
 * before; and the digest of what it holds, kept from then on. */
TAP_TEST(v4_database_migrates_to_v8)
{
	char dir[512], path[600];
	TAP_CHECK(old_database(dir, path,
		"CREATE TABLE revocations (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER"
		" NULL, reason TEXT NULL, source TEXT NOT NULL, origin TEXT NULL,"
		" PRIMARY KEY (type, iss, id, source)) WITHOUT ROWID;"
		"CREATE INDEX revocations_expires ON revocations(expires_at);"
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
		"CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		" op TEXT NOT NULL, type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, revoked_at INTEGER NULL, expires_at INTEGER NULL,"
		" reason TEXT NULL, source TEXT NULL, version INTEGER NULL,"
		" origin TEXT NULL);"
		"CREATE TABLE versions (type INTEGER NOT NULL, iss TEXT NOT NULL,"
		" id TEXT NOT NULL, source TEXT NOT NULL, version INTEGER NOT NULL,"
		" node TEXT NOT NULL, deleted INTEGER NOT NULL,"
		" PRIMARY KEY (type, iss, id, source)) WITHOUT ROWID;"
		"INSERT INTO revocations VALUES"
		" (0, 'https://i', 't', 1764189000, 4102444800, 'lost', 'webhook', NULL),"
		" (0, 'https://i', 't', 1764189001, 4102444801, NULL, 'admin', 'aaaa'),"
		" (0, 'https://i', 'gone', 1764189001, 1764189002, NULL, 'admin', NULL),"
		" (4, 'https://i', 'k', 1764189005, NULL, 'leaked', 'admin', NULL);"
		"INSERT INTO versions VALUES (0, 'https://i', 't', 'admin',"
		" 115672002134016, 'aaaa', 0);"
		"PRAGMA user_version = 4;"));
	sqlite3 *db;
	fx_t fx = { 0 };
	strcpy(fx.dir, dir);
	TAP_CHECK(fx_open(&fx, false));
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "https://i", "t", &got),
	              RVK_OK);
	TAP_CHECK_INT(got.nsources, 2);
	rvk_revocation_fini(&got);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_KEY, "https://i", "k", &got),
	              RVK_OK);
	TAP_CHECK(got.expires_at == RVK_NEVER);
	TAP_CHECK_STR(got.reason ? got.reason : "(null)", "leaked");
	rvk_revocation_fini(&got);
	/* The key is still unique: webhook's contribution to "t" merges
	 * into its row (a later revoked_at), it does not add one. */
	rvk_revocation_t again = {
		.type = RVK_REV_TOKEN, .iss = "https://i", .id = "t",
		.revoked_at = 1764189100, .expires_at = 4102444800,
		.source = RVK_SRC_WEBHOOK,
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, &again, 1), RVK_OK);
	/* The expires_at index still serves the purge: "gone" expired. */
	size_t purged = 0;
	TAP_CHECK_INT(rvk_store_purge(fx.store, 1764190000, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 1);
	fx_close(&fx);
	TAP_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	TAP_CHECK_INT(query_int(db, "PRAGMA user_version"), 8);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM revocations"), 3);
	TAP_CHECK_INT(query_int(db, "SELECT revoked_at FROM revocations WHERE"
	                        " id = 't' AND source = 'webhook'"), 1764189100);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM versions WHERE"
	                        " version = 115672002134016 AND node = 'aaaa'"
	                        " AND source = 'admin' AND deleted = 0"), 1);
	/* Rowid tables now, every row with its key's hash, an index on the
	 * hash the only key index of each, the expiry and version indexes
	 * kept. */
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE"
	                        " name IN ('revocations', 'versions') AND sql"
	                        " NOT LIKE '%WITHOUT ROWID%'"), 2);
	TAP_CHECK_INT(rvk_db_add_functions(db), SQLITE_OK);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM revocations"
	                        " WHERE kh IS rvk_kh(type, iss, id)"), 3);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM versions"
	                        " WHERE kh IS rvk_kh(type, iss, id)"), 1);
	TAP_CHECK_INT(query_int(db, "SELECT group_concat(name) = 'revocations_kh'"
	                        " FROM pragma_index_list('revocations')"
	                        " WHERE name <> 'revocations_expires'"), 1);
	TAP_CHECK_INT(query_int(db, "SELECT group_concat(name) = 'versions_kh'"
	                        " FROM pragma_index_list('versions')"
	                        " WHERE name <> 'versions_version'"), 1);
	TAP_CHECK(plan_uses(db, "SELECT * FROM revocations WHERE kh = 1"
	                    " AND type = 0 AND iss = 'a' AND id = 'b'",
	                    "INDEX revocations_kh"));
	TAP_CHECK(plan_uses(db, "SELECT * FROM versions WHERE kh = 1"
	                    " AND type = 0 AND iss = 'a' AND id = 'b'",
	                    "INDEX versions_kh"));
	TAP_CHECK(plan_uses(db, "DELETE FROM versions WHERE version < 5"
	                    " AND NOT EXISTS (SELECT 1 FROM revocations r WHERE"
	                    " r.kh = versions.kh AND r.type = versions.type)",
	                    "INDEX revocations_kh"));
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE"
	                        " name = 'revocations_expires'"), 1);
	/* The version purge and the start's max(version) seek the version
	 * index instead of walking the table. */
	TAP_CHECK(plan_uses(db, "SELECT max(version) FROM versions",
	                    "INDEX versions_version"));
	TAP_CHECK(plan_uses(db, "DELETE FROM versions WHERE version < 5",
	                    "INDEX versions_version"));
	/* The digest of the rows it holds, kept by the triggers since. */
	TAP_CHECK_INT(digest_off(db), 0);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM digest WHERE x <> 0"),
	              2);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE"
	                        " type = 'trigger' AND tbl_name = 'revocations'"),
	              3);
	TAP_CHECK_INT(query_int(db, "SELECT count(*) FROM pragma_integrity_check"
	                        " WHERE integrity_check = 'ok'"), 1);
	sqlite3_close(db);
	store_fx_rmtree(dir);
}

static void
url_ok(const char *s, const char *host, int port, const char *user,
       const char *pass, int dbn)
{
	rvk_redis_url_t u;
	char err[128] = "";
	TAP_CHECK_INT(rvk_redis_url_parse(s, &u, err, sizeof(err)), RVK_OK);
	TAP_CHECK_STR(u.host ? u.host : "(null)", host);
	TAP_CHECK_INT(u.port, port);
	TAP_CHECK_STR(u.user ? u.user : "(null)", user ? user : "(null)");
	TAP_CHECK_STR(u.password ? u.password : "(null)", pass ? pass : "(null)");
	TAP_CHECK_INT(u.db, dbn);
	rvk_redis_url_fini(&u);
}

TAP_TEST(redis_urls)
{
	url_ok("redis://127.0.0.1:6380/2", "127.0.0.1", 6380, NULL, NULL, 2);
	url_ok("redis://redis.internal", "redis.internal", 6379, NULL, NULL, 0);
	url_ok("redis://:s3cret@h:1/", "h", 1, NULL, "s3cret", 0);
	url_ok("redis://app:p%40ss@h:7000/15", "h", 7000, "app", "p@ss", 15);
	url_ok("redis://u:a:b@c@h", "h", 6379, "u", "a:b@c", 0);
	url_ok("redis://[::1]:6390/1", "::1", 6390, NULL, NULL, 1);
	/* user@: the password comes from password_file or the environment
	 * (rvk_replica_new refuses a user without one). */
	url_ok("rediss://revokd@redis.internal:6380/0", "redis.internal", 6380,
	       "revokd", NULL, 0);
	const char *bad[] = { "http://h", "redis://", "redis://h:0", "redis://h:x",
	                      "redis://h:70000", "redis://h/x", "redis://@h",
	                      "redisss://h", "rediss:/h",
	                      "redis://:p%4@h", "redis://:p%00@h", "redis://h?a=1",
	                      "redis://[::1", "redis://:pw@:6379" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rvk_redis_url_t u;
		char err[128] = "";
		TAP_CHECK_INT(rvk_redis_url_parse(bad[i], &u, err, sizeof(err)),
		              RVK_EINVAL);
		TAP_CHECK(err[0] != '\0');
	}
}

/* REFERENCE §8: a repeat that changes nothing is acknowledged without a write
 * or a stream entry; one that changes something is both. */
TAP_TEST(a_repeat_that_changes_nothing_writes_nothing)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	rvk_revocation_t r = rev(RVK_REV_SUBJECT, "u1", RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	TAP_CHECK_INT(depth(fx.store), 1);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, 1);
	/* The same, then an older one: no write, no outbox row. */
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	r.revoked_at = NOW - 5;
	r.expires_at = NOW + 100;
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, 1);
	TAP_CHECK_INT(depth(fx.store), 1);
	int64_t ra = 0, ea = 0;
	TAP_CHECK(rvk_revtable_get(fx.table, RVK_REV_SUBJECT, "https://i", 9, "u1",
	                           2, &ra, &ea));
	TAP_CHECK_INT(ra, NOW);
	TAP_CHECK_INT(ea, NOW + 600);
	/* Later, or from another source: a write and an outbox row each. */
	r.revoked_at = NOW + 1;
	r.expires_at = NOW + 600;
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	r.source = RVK_SRC_ADMIN;
	TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1), RVK_OK);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, 3);
	TAP_CHECK_INT(depth(fx.store), 3);
	/* RFC 7009 revokes "now": its repeat of the same token is no write,
	 * and the row keeps the first revoked_at. */
	rvk_revocation_t t = rev(RVK_REV_TOKEN, "j1", RVK_SRC_RFC7009);
	TAP_CHECK_INT(rvk_store_record(fx.store, &t, 1), RVK_OK);
	t.revoked_at = NOW + 30;
	TAP_CHECK_INT(rvk_store_record(fx.store, &t, 1), RVK_OK);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, 4);
	TAP_CHECK_INT(depth(fx.store), 4);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "https://i", "j1", &got),
	              RVK_OK);
	TAP_CHECK_INT(got.revoked_at, NOW);
	rvk_revocation_fini(&got);
	fx_fini(&fx);
}

/* The keys hash holds one field per (key, source) (store/replica_entry.h):
 * a replica that catches up from it records each source's contribution as
 * that source's, so one source leaving later leaves the others, and lifts
 * nothing they hold. An older one-per-key field is one contribution of the
 * source its value names. */
TAP_TEST(key_hash_catch_up_keeps_each_source)
{
	fx_t fx;
	TAP_CHECK(fx_init(&fx, true));
	rvk_revocation_t a = rev(RVK_REV_KEY, "k1", RVK_SRC_ADMIN);
	a.reason = "rotate";
	rvk_revocation_t w = rev(RVK_REV_KEY, "k1", RVK_SRC_WEBHOOK);
	w.revoked_at = NOW - 5;
	rvk_source_t admin = RVK_SRC_ADMIN, webhook = RVK_SRC_WEBHOOK;
	char *field[3] = {
		rvk_repl_key_field("https://i", "k1", &admin),
		rvk_repl_key_field("https://i", "k1", &webhook),
		rvk_repl_key_field("https://i", "k2", NULL),
	};
	char *value[3] = { rvk_repl_key_value(&a), rvk_repl_key_value(&w),
	                   rvk_strdup("1764189000 set -") };
	TAP_CHECK_STR(field[0], "admin 9:https://ik1");
	TAP_CHECK_STR(field[1], "webhook 9:https://ik1");
	TAP_CHECK_STR(field[2], "9:https://ik2");
	rvk_revocation_t got[3];
	char *iss[3], *kid[3], *reason[3];
	size_t n = 0;
	for (int i = 0; i < 3; i++)
		if (rvk_repl_parse_key(field[i], value[i], &got[n], &iss[n], &kid[n],
		                       &reason[n]))
			n++;
	TAP_CHECK_INT(n, 3);
	TAP_CHECK_INT(rvk_store_record_replica(fx.store, got, n, NULL), RVK_OK);
	rvk_revocation_t r;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_KEY, "https://i", "k1", &r), RVK_OK);
	TAP_CHECK_INT(r.nsources, 2);
	if (r.nsources == 2) {
		TAP_CHECK_INT(r.sources[0].source, RVK_SRC_ADMIN);
		TAP_CHECK_STR(r.sources[0].reason, "rotate");
		TAP_CHECK_INT(r.sources[1].source, RVK_SRC_WEBHOOK);
		TAP_CHECK_INT(r.sources[1].revoked_at, NOW - 5);
		TAP_CHECK(r.sources[1].reason == NULL);
	}
	rvk_revocation_fini(&r);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_KEY, "https://i", "k2", &r), RVK_OK);
	TAP_CHECK_INT(r.nsources, 1);
	TAP_CHECK_INT(r.source, RVK_SRC_SET);
	TAP_CHECK_INT(r.revoked_at, 1764189000);
	rvk_revocation_fini(&r);
	/* The webhook's contribution leaves: the admin's stays in force. */
	bool del;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_KEY, "https://i", "k1", &webhook,
	                               &del), RVK_OK);
	TAP_CHECK(del);
	int64_t at = 0, exp = 0;
	TAP_CHECK(rvk_revtable_get(fx.table, RVK_REV_KEY, "https://i", 9, "k1", 2, &at,
	                           &exp));
	TAP_CHECK(at == NOW && exp == RVK_NEVER);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_KEY, "https://i", "k1", &r), RVK_OK);
	TAP_CHECK_INT(r.nsources, 1);
	TAP_CHECK_INT(r.source, RVK_SRC_ADMIN);
	rvk_revocation_fini(&r);
	for (size_t i = 0; i < n; i++)
		free(iss[i]), free(kid[i]), free(reason[i]);
	for (int i = 0; i < 3; i++)
		free(field[i]), free(value[i]);
	fx_fini(&fx);
}

int
main(void)
{
	return tap_main(TAP_LIST(no_outbox_without_cluster_mode,
	                         a_repeat_that_changes_nothing_writes_nothing,
	                         outbox_rows_follow_the_ledger,
	                         replica_writes_save_the_position_not_the_outbox,
	                         tombstones_name_the_source_that_left,
	                         key_hash_catch_up_keeps_each_source,
	                         failed_commit_writes_no_outbox_row,
	                         v1_database_migrates_to_v2,
	                         v2_database_migrates_to_v3_keeping_every_source,
	                         later_version_wins_in_any_order,
	                         v3_database_migrates_to_v4,
	                         v4_database_migrates_to_v8,
	                         row_of_unknown_type_stops_the_migration_clearly,
	                         versions_with_one_hash_stay_apart,
	                         the_digest_follows_every_write,
	                         redis_urls));
}
