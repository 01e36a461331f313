/*
 * store/ against real SQLite files: one fresh temporary data dir per test.
 * Time is injected (NOW), so nothing here depends on the wall clock.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/log.h"
#include "store/db.h"
#include "store/digest.h"
#include "store/outbox.h"
#include "store/internal.h"
#include "store/store.h"
#include "tests/support/tap.h"
#include "tests/unit/store/fixture.h"

#define NOW STORE_FX_NOW
#define LEEWAY 30

static void
rm_rf(const char *dir)
{
	store_fx_rmtree(dir);
}

/* A fresh data dir under $TMPDIR, a table and an open store
 * (tests/unit/store/fixture.h). */
typedef store_fx_t fixture_t;

static rvk_result_t
fx_open(fixture_t *fx)
{
	return store_fx_open(fx);
}

static void
fx_close(fixture_t *fx)
{
	store_fx_close(fx);
}

static bool
fx_init(fixture_t *fx)
{
	rvk_store_opts_t o = { .leeway = LEEWAY };
	return store_fx_init(fx, "store", &o);
}

static void
fx_fini(fixture_t *fx)
{
	store_fx_fini(fx);
}

static rvk_revocation_t
rev(rvk_rev_type_t type, const char *iss, const char *id, int64_t at,
    int64_t exp, const char *reason, rvk_source_t src)
{
	return (rvk_revocation_t){ .type = type, .iss = (char *)iss,
	                           .id = (char *)id, .revoked_at = at,
	                           .expires_at = exp, .reason = (char *)reason,
	                           .source = src };
}

static bool
table_get(fixture_t *fx, rvk_rev_type_t type, const char *iss,
          const char *id, int64_t *at, int64_t *exp)
{
	return rvk_revtable_get(fx->table, type, iss, strlen(iss), id,
	                        strlen(id), at, exp);
}

static size_t
table_total(fixture_t *fx)
{
	size_t n = 0;
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		n += rvk_revtable_count(fx->table, (rvk_rev_type_t)t);
	return n;
}

/* Expects (type, iss, id) in the database with these times; 0 = absent. */
static void
check_db(fixture_t *fx, rvk_rev_type_t type, const char *iss, const char *id,
         int64_t at, int64_t exp, int line)
{
	rvk_revocation_t got;
	rvk_result_t r = rvk_store_get(fx->store, type, iss, id, &got);
	if (at == 0) {
		if (r != RVK_ENOTFOUND)
			TAP_FAIL_AT("line %d: %s/%s present (result %d)", line,
			            iss, id, (int)r);
		if (r == RVK_OK)
			rvk_revocation_fini(&got);
		return;
	}
	if (r != RVK_OK) {
		TAP_FAIL_AT("line %d: %s/%s: result %d", line, iss, id, (int)r);
		return;
	}
	if (got.revoked_at != at || got.expires_at != exp)
		TAP_FAIL_AT("line %d: %s/%s: (%lld, %lld), expected (%lld, %lld)",
		            line, iss, id, (long long)got.revoked_at,
		            (long long)got.expires_at, (long long)at,
		            (long long)exp);
	rvk_revocation_fini(&got);
}

static void
check_table(fixture_t *fx, rvk_rev_type_t type, const char *iss,
            const char *id, int64_t at, int64_t exp, int line)
{
	int64_t a = 0, e = 0;
	bool found = table_get(fx, type, iss, id, &a, &e);
	if (at == 0) {
		if (found)
			TAP_FAIL_AT("line %d: %s/%s in the table", line, iss, id);
		return;
	}
	if (!found || a != at || e != exp)
		TAP_FAIL_AT("line %d: table %s/%s: found %d (%lld, %lld), "
		            "expected (%lld, %lld)", line, iss, id, found,
		            (long long)a, (long long)e, (long long)at,
		            (long long)exp);
}

#define CHECK_BOTH(fx, t, iss, id, at, exp)                                   \
	do {                                                                  \
		check_db(fx, t, iss, id, at, exp, __LINE__);                  \
		check_table(fx, t, iss, id, at, exp, __LINE__);               \
	} while (0)

TAP_TEST(sources_have_names)
{
	for (int i = 0; i < RVK_SRC_COUNT; i++) {
		rvk_source_t s;
		TAP_CHECK(rvk_source_parse(rvk_source_name((rvk_source_t)i), &s));
		TAP_CHECK_INT(s, i);
	}
	rvk_source_t s;
	TAP_CHECK(!rvk_source_parse("Webhook", &s));
	TAP_CHECK_STR(rvk_source_name(RVK_SRC_KEYCLOAK), "keycloak");
}

TAP_TEST(record_and_get)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t revs[] = {
		rev(RVK_REV_TOKEN, "https://a", "jti-1", NOW, NOW + 3600,
		    "logout", RVK_SRC_WEBHOOK),
		rev(RVK_REV_KEY, "https://a", "k1", NOW, RVK_NEVER, NULL,
		    RVK_SRC_ADMIN),
		rev(RVK_REV_ISSUER, "https://b", "", NOW - 5, NOW + 100, NULL,
		    RVK_SRC_KEYCLOAK),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 3), RVK_OK);

	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "https://a",
	                            "jti-1", &got), RVK_OK);
	TAP_CHECK_INT(got.type, RVK_REV_TOKEN);
	TAP_CHECK_STR(got.iss, "https://a");
	TAP_CHECK_STR(got.id, "jti-1");
	TAP_CHECK_INT(got.revoked_at, NOW);
	TAP_CHECK_INT(got.expires_at, NOW + 3600);
	TAP_CHECK_STR(got.reason, "logout");
	TAP_CHECK_INT(got.source, RVK_SRC_WEBHOOK);
	rvk_revocation_fini(&got);

	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_KEY, "https://a", "k1",
	                            &got), RVK_OK);
	TAP_CHECK_INT(got.expires_at, RVK_NEVER);
	TAP_CHECK(got.reason == NULL);
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	rvk_revocation_fini(&got);

	CHECK_BOTH(&fx, RVK_REV_ISSUER, "https://b", "", NOW - 5, NOW + 100);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "https://a", "jti-1", NOW, NOW + 3600);
	check_table(&fx, RVK_REV_KEY, "https://a", "k1", NOW, RVK_NEVER,
	            __LINE__);
	/* Same id, other type or issuer: different revocations. */
	CHECK_BOTH(&fx, RVK_REV_SESSION, "https://a", "jti-1", 0, 0);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "https://b", "jti-1", 0, 0);
	TAP_CHECK_INT(table_total(&fx), 3);

	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.commits, 1);
	TAP_CHECK_INT(st.rows_written, 3);
	TAP_CHECK_INT(st.failed_commits, 0);
	TAP_CHECK_INT(st.rows, 3);
	TAP_CHECK(st.healthy);
	fx_fini(&fx);
}

/* Expects the contribution of src among got's sources. */
static void
check_source(const rvk_revocation_t *got, rvk_source_t src, int64_t at,
             int64_t exp, const char *reason, int line)
{
	for (size_t i = 0; i < got->nsources; i++) {
		const rvk_contribution_t *c = &got->sources[i];
		if (c->source != src)
			continue;
		const char *want = reason ? reason : "(null)";
		const char *have = c->reason ? c->reason : "(null)";
		if (c->revoked_at != at || c->expires_at != exp
		    || strcmp(want, have) != 0)
			TAP_FAIL_AT("line %d: source %s: (%lld, %lld, %s), "
			            "expected (%lld, %lld, %s)", line,
			            rvk_source_name(src), (long long)c->revoked_at,
			            (long long)c->expires_at, have, (long long)at,
			            (long long)exp, want);
		return;
	}
	TAP_FAIL_AT("line %d: no contribution of %s", line,
	            rvk_source_name(src));
}

#define CHECK_SOURCE(got, src, at, exp, reason) \
	check_source(got, src, at, exp, reason, __LINE__)

TAP_TEST(merge_rule)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t a = rev(RVK_REV_SESSION, "i", "s", 100, 200, "first",
	                         RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &a, 1), RVK_OK);

	/* Another source, earlier revoked_at, later expires_at: its own
	 * contribution. In force: the latest revoked_at (webhook's), the
	 * latest expires_at over both. */
	rvk_revocation_t b = rev(RVK_REV_SESSION, "i", "s", 50, 300, NULL,
	                         RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &b, 1), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_SESSION, "i", "s", 100, 300);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_SESSION, "i", "s", &got),
	              RVK_OK);
	TAP_CHECK_STR(got.reason, "first");
	TAP_CHECK_INT(got.source, RVK_SRC_WEBHOOK);
	TAP_CHECK(got.origin == NULL);
	TAP_CHECK_INT(got.nsources, 2);
	/* In source-name order. */
	if (got.nsources == 2) {
		TAP_CHECK_INT(got.sources[0].source, RVK_SRC_ADMIN);
		TAP_CHECK_INT(got.sources[1].source, RVK_SRC_WEBHOOK);
	}
	CHECK_SOURCE(&got, RVK_SRC_ADMIN, 50, 300, NULL);
	CHECK_SOURCE(&got, RVK_SRC_WEBHOOK, 100, 200, "first");
	rvk_revocation_fini(&got);

	/* The same source again, later revoked_at, earlier expires_at: its
	 * contribution keeps the later of each, and the reason given with
	 * the later revoked_at. */
	rvk_revocation_t c = rev(RVK_REV_SESSION, "i", "s", 150, 250, "third",
	                         RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &c, 1), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_SESSION, "i", "s", 150, 300);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_SESSION, "i", "s", &got),
	              RVK_OK);
	TAP_CHECK_STR(got.reason, "third");
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	CHECK_SOURCE(&got, RVK_SRC_ADMIN, 150, 300, "third");
	CHECK_SOURCE(&got, RVK_SRC_WEBHOOK, 100, 200, "first");
	rvk_revocation_fini(&got);

	/* An earlier revoked_at of the same source keeps the reason. */
	rvk_revocation_t c2 = rev(RVK_REV_SESSION, "i", "s", 140, 400, "late",
	                          RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &c2, 1), RVK_OK);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_SESSION, "i", "s", &got),
	              RVK_OK);
	CHECK_SOURCE(&got, RVK_SRC_ADMIN, 150, 400, "third");
	rvk_revocation_fini(&got);

	/* Never wins over any time, and stays. */
	rvk_revocation_t d[] = {
		rev(RVK_REV_SESSION, "i", "s", 120, RVK_NEVER, NULL, RVK_SRC_SET),
		rev(RVK_REV_SESSION, "i", "s", 130, 99999, NULL, RVK_SRC_SET),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, d, 2), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_SESSION, "i", "s", 150, RVK_NEVER);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_SESSION, "i", "s", &got),
	              RVK_OK);
	CHECK_SOURCE(&got, RVK_SRC_SET, 130, RVK_NEVER, NULL);
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	TAP_CHECK_INT(got.nsources, 3);
	rvk_revocation_fini(&got);

	/* Two of the same key in one batch, two sources; a tie on
	 * revoked_at goes to the later expires_at. */
	rvk_revocation_t e[] = {
		rev(RVK_REV_TOKEN, "i", "t", 10, 20, "x", RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "t", 10, 40, "y", RVK_SRC_RFC7009),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, e, 2), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "t", 10, 40);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "i", "t", &got),
	              RVK_OK);
	TAP_CHECK_STR(got.reason, "y");
	TAP_CHECK_INT(got.source, RVK_SRC_RFC7009);
	rvk_revocation_fini(&got);
	/* A full tie goes to the first source name: "admin" < "set". */
	rvk_revocation_t f[] = {
		rev(RVK_REV_TOKEN, "i", "u", 10, 20, "by set", RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "u", 10, 20, "by admin", RVK_SRC_ADMIN),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, f, 2), RVK_OK);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "i", "u", &got),
	              RVK_OK);
	TAP_CHECK_STR(got.reason, "by admin");
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	rvk_revocation_fini(&got);
	TAP_CHECK_INT(table_total(&fx), 3);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 7);      /* contributions: 3 + 2 + 2 */
	fx_fini(&fx);
}

/* The attack of DECISIONS D21, at the store: an operator's issuer
 * revocation, then Keycloak's older notBefore, then Keycloak's clear. */
TAP_TEST(one_source_leaving_keeps_the_others_in_force)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t adm = rev(RVK_REV_ISSUER, "i", "", NOW, NOW + 3600,
	                           "incident", RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &adm, 1), RVK_OK);
	rvk_revocation_t kc = rev(RVK_REV_ISSUER, "i", "", NOW - 100,
	                          NOW + 3500, NULL, RVK_SRC_KEYCLOAK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &kc, 1), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 3600);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_ISSUER, "i", "", &got),
	              RVK_OK);
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	TAP_CHECK_STR(got.reason, "incident");
	TAP_CHECK_INT(got.nsources, 2);
	rvk_revocation_fini(&got);

	/* Keycloak's clear: only its contribution goes. */
	rvk_source_t only = RVK_SRC_KEYCLOAK;
	bool deleted = false;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", &only,
	                               &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 3600);
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_ISSUER, "i", "", &got),
	              RVK_OK);
	TAP_CHECK_INT(got.nsources, 1);
	TAP_CHECK_INT(got.source, RVK_SRC_ADMIN);
	rvk_revocation_fini(&got);
	/* Again: nothing of Keycloak's is left. */
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", &only,
	                               &deleted), RVK_OK);
	TAP_CHECK(!deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 3600);

	/* The table goes down to what remains, too: a later Keycloak
	 * contribution in force, then cleared, leaves the admin times. */
	rvk_revocation_t kc2 = rev(RVK_REV_ISSUER, "i", "", NOW + 50,
	                           NOW + 3650, NULL, RVK_SRC_KEYCLOAK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &kc2, 1), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW + 50, NOW + 3650);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", &only,
	                               &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 3600);
	rvk_revtable_t *t = fx.table;
	rvk_rev_query_t q = { .iss = "i", .iss_len = 1, .iat = NOW };
	TAP_CHECK_INT(rvk_revtable_check(t, &q, NOW), RVK_REASON_ISSUER_REVOKED);
	q.iat = NOW + 1;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, NOW), RVK_REASON_OK);

	/* Survives a restart the same way. */
	TAP_CHECK_INT(rvk_store_record(fx.store, &kc, 1), RVK_OK);
	fx_close(&fx);
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 3600);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", &only,
	                               &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 3600);

	/* An unfiltered delete (admin DELETE) removes every source. */
	TAP_CHECK_INT(rvk_store_record(fx.store, &kc, 1), RVK_OK);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", NULL,
	                               &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", 0, 0);
	TAP_CHECK_INT(table_total(&fx), 0);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 0);
	fx_fini(&fx);
}

/* What a shown record's completion saw. */
struct shown_rec {
	sem_t sem;
	rvk_result_t result;
};

static void
shown_done(void *arg, rvk_result_t r)
{
	struct shown_rec *a = arg;
	a->result = r;
	sem_post(&a->sem);
}

/* Records revs (n of them) with rvk_store_record_async_with into shown
 * and waits. Returns: the result. */
static rvk_result_t
record_shown(fixture_t *fx, const rvk_revocation_t *revs, size_t n,
             rvk_revocation_t *shown)
{
	struct shown_rec a;
	sem_init(&a.sem, 0, 0);
	memset(shown, 0, n * sizeof(*shown));
	rvk_store_async_t how = { .done = shown_done, .arg = &a, .shown = shown };
	rvk_result_t r = rvk_store_record_async_with(fx->store, revs, n, &how);
	if (r == RVK_OK) {
		while (sem_wait(&a.sem) != 0)
			;
		r = a.result;
	}
	sem_destroy(&a.sem);
	return r;
}

/* A shown record hands back what is stored once the batch is written: the
 * merged times, every source, the contribution in force; a key the batch
 * holds twice shows its last state; a failed commit shows nothing. */
TAP_TEST(record_shown_reads_the_batch_back)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t set = rev(RVK_REV_TOKEN, "i", "a", 10, 20, "ra",
	                           RVK_SRC_SET);
	TAP_CHECK_INT(rvk_store_record(fx.store, &set, 1), RVK_OK);
	rvk_revocation_t revs[] = {
		rev(RVK_REV_TOKEN, "i", "a", 15, 25, NULL, RVK_SRC_ADMIN),
		rev(RVK_REV_KEY, "i", "k", 5, RVK_NEVER, NULL, RVK_SRC_ADMIN),
		rev(RVK_REV_TOKEN, "i", "a", 12, 30, "later", RVK_SRC_ADMIN),
	};
	rvk_revocation_t shown[3];
	TAP_CHECK_INT(record_shown(&fx, revs, 3, shown), RVK_OK);
	for (int i = 0; i < 3; i += 2) {
		TAP_CHECK_INT(shown[i].type, RVK_REV_TOKEN);
		TAP_CHECK_STR(shown[i].iss, "i");
		TAP_CHECK_STR(shown[i].id, "a");
		TAP_CHECK_INT(shown[i].source, RVK_SRC_ADMIN);
		TAP_CHECK_INT(shown[i].revoked_at, 15);
		TAP_CHECK_INT(shown[i].expires_at, 30);
		TAP_CHECK(shown[i].reason == NULL);
		TAP_CHECK_INT(shown[i].nsources, 2);
		TAP_CHECK_INT(shown[i].sources[0].source, RVK_SRC_ADMIN);
		TAP_CHECK_INT(shown[i].sources[0].expires_at, 30);
		TAP_CHECK_INT(shown[i].sources[1].source, RVK_SRC_SET);
		TAP_CHECK_STR(shown[i].sources[1].reason, "ra");
	}
	TAP_CHECK_INT(shown[1].type, RVK_REV_KEY);
	TAP_CHECK_INT(shown[1].revoked_at, 5);
	TAP_CHECK_INT(shown[1].expires_at, RVK_NEVER);
	TAP_CHECK_INT(shown[1].nsources, 1);
	for (int i = 0; i < 3; i++)
		rvk_revocation_fini(&shown[i]);
	/* The same as a read connection gets after the commit. */
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_TOKEN, "i", "a", &got),
	              RVK_OK);
	TAP_CHECK_INT(got.revoked_at, 15);
	TAP_CHECK_INT(got.expires_at, 30);
	TAP_CHECK_INT(got.nsources, 2);
	rvk_revocation_fini(&got);
#ifdef RVK_FAULT_INJECTION
	rvk_revocation_t bad = rev(RVK_REV_TOKEN, "i", "bad", 10, 20, NULL,
	                           RVK_SRC_ADMIN);
	rvk_fault_reset();
	rvk_fault_arm("store.commit", 1, 1);
	TAP_CHECK_INT(record_shown(&fx, &bad, 1, shown), RVK_EIO);
	rvk_fault_reset();
	TAP_CHECK(shown[0].iss == NULL && shown[0].nsources == 0);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "bad", 0, 0);
#endif
	fx_fini(&fx);
}

/* The order of completions: 'd' (done) or 'w' (wake) and the job. */
#define ORDER_N 64
static struct { char kind; int job; } order[2 * ORDER_N];
static int norder;
static sem_t order_sem;

static void
order_done(void *arg, rvk_result_t r)
{
	(void)r;
	order[norder].kind = 'd';
	order[norder++].job = (int)(intptr_t)arg;
}

static void
order_wake(void *arg)
{
	order[norder].kind = 'w';
	order[norder++].job = (int)(intptr_t)arg;
	sem_post(&order_sem);
}

/* Every group's completions run before any of its wakes, both in queue
 * order: the sequence is runs of dones, each followed by the wakes of the
 * same jobs, one such pair of runs per commit. */
TAP_TEST(a_groups_dones_run_before_its_wakes)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	sem_init(&order_sem, 0, 0);
	rvk_store_stats_t st0, st1;
	rvk_store_stats(fx.store, &st0);
	static char ids[ORDER_N][16];
	static rvk_revocation_t revs[ORDER_N];
	for (int i = 0; i < ORDER_N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "o%d", i);
		revs[i] = rev(RVK_REV_TOKEN, "iss", ids[i], NOW, NOW + 600, NULL,
		              RVK_SRC_ADMIN);
		rvk_store_async_t how = { .done = order_done, .wake = order_wake,
		                          .arg = (void *)(intptr_t)i };
		TAP_CHECK_INT(rvk_store_record_async_with(fx.store, &revs[i], 1,
		                                          &how), RVK_OK);
	}
	for (int i = 0; i < ORDER_N; i++)
		while (sem_wait(&order_sem) != 0)
			;
	rvk_store_stats(fx.store, &st1);
	TAP_CHECK_INT(norder, 2 * ORDER_N);
	int pos = 0, runs = 0, next_job = 0;
	bool shape = true;
	while (pos < norder && shape) {
		int start = pos;
		while (pos < norder && order[pos].kind == 'd')
			shape &= order[pos].job == next_job++, pos++;
		int n = pos - start;
		for (int k = 0; k < n && shape; k++, pos++)
			shape &= pos < norder && order[pos].kind == 'w'
			         && order[pos].job == order[start + k].job;
		shape &= n > 0;
		runs++;
	}
	TAP_CHECK(shape);
	TAP_CHECK_INT(runs, (int)(st1.commits - st0.commits));
	printf("# %d jobs in %d commits\n", ORDER_N, runs);
	sem_destroy(&order_sem);
	fx_fini(&fx);
}

/* A repeated revocation that changes nothing (same or older revoked_at
 * and expires_at, same source) is acknowledged without a write. */
TAP_TEST(a_repeat_that_changes_nothing_writes_nothing)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t a = rev(RVK_REV_SUBJECT, "i", "u", 100, 200, "r1",
	                         RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &a, 1), RVK_OK);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, 1);
	rvk_revocation_t same[] = {
		a,
		rev(RVK_REV_SUBJECT, "i", "u", 90, 200, "older", RVK_SRC_WEBHOOK),
		rev(RVK_REV_SUBJECT, "i", "u", 100, 150, "r2", RVK_SRC_WEBHOOK),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, same, 3), RVK_OK);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.commits, 2);
	TAP_CHECK_INT(st.rows_written, 1);
	TAP_CHECK_INT(st.rows, 1);
	rvk_revocation_t got;
	TAP_CHECK_INT(rvk_store_get(fx.store, RVK_REV_SUBJECT, "i", "u", &got),
	              RVK_OK);
	TAP_CHECK_STR(got.reason, "r1");
	rvk_revocation_fini(&got);
	CHECK_BOTH(&fx, RVK_REV_SUBJECT, "i", "u", 100, 200);

	/* Another source, or a later time, is a write. */
	rvk_revocation_t other[] = {
		rev(RVK_REV_SUBJECT, "i", "u", 100, 200, NULL, RVK_SRC_ADMIN),
		rev(RVK_REV_SUBJECT, "i", "u", 100, 201, NULL, RVK_SRC_WEBHOOK),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, other, 2), RVK_OK);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, 3);
	TAP_CHECK_INT(st.rows, 2);
	CHECK_BOTH(&fx, RVK_REV_SUBJECT, "i", "u", 100, 201);
	fx_fini(&fx);
}

/* 3 types x 3 issuers x 4 ids, recorded in scrambled order. */
/* The grid fill_grid records: 3 types x 3 issuers x 4 IDs, in revs[36]. */
static size_t
grid_keys(rvk_revocation_t *revs)
{
	static const rvk_rev_type_t types[] = { RVK_REV_SUBJECT, RVK_REV_TOKEN,
	                                        RVK_REV_KEY };
	static const char *const isss[] = { "iss-c", "iss-a", "iss-b" };
	static const char *const ids[] = { "d", "b", "a", "c" };
	size_t n = 0;
	for (int i = 0; i < 4; i++)
		for (int s = 0; s < 3; s++)
			for (int t = 0; t < 3; t++)
				revs[n++] = rev(types[t], isss[s], ids[i], NOW,
				                NOW + 60, NULL, RVK_SRC_ADMIN);
	return n;
}

static void
fill_grid(fixture_t *fx)
{
	rvk_revocation_t revs[36];
	size_t n = grid_keys(revs);
	TAP_CHECK_INT(rvk_store_record(fx->store, revs, n), RVK_OK);
}

/* The listing's order: the key index's (store/db.h), the key hash, then
 * iss and id among the keys of one hash. */
static int
cmp_pos(const rvk_revocation_t *a, const rvk_revocation_t *b)
{
	int64_t ka = rvk_db_key_hash((int)a->type, a->iss, strlen(a->iss),
	                             a->id, strlen(a->id));
	int64_t kb = rvk_db_key_hash((int)b->type, b->iss, strlen(b->iss),
	                             b->id, strlen(b->id));
	if (ka != kb)
		return ka < kb ? -1 : 1;
	int c = strcmp(a->iss, b->iss);
	return c ? c : strcmp(a->id, b->id);
}

static int
cmp_pos_qsort(const void *a, const void *b)
{
	return cmp_pos(a, b);
}

/* Pages through a listing; returns the number of items, checks order. */
static size_t
walk(fixture_t *fx, int type, const char *iss, size_t limit, size_t *pages)
{
	rvk_revocation_t prev = { 0 };
	bool have_prev = false;
	size_t total = 0;
	*pages = 0;
	for (;;) {
		rvk_store_pos_t pos = { .type = -1 };
		if (have_prev)
			pos = (rvk_store_pos_t){ .type = (int)prev.type,
			                         .iss = prev.iss, .id = prev.id };
		rvk_revocation_t *items = NULL;
		size_t n = 0;
		bool more = false;
		rvk_result_t r = rvk_store_list(fx->store, type, iss, &pos, limit,
		                                &items, &n, &more);
		TAP_CHECK_INT(r, RVK_OK);
		if (r != RVK_OK)
			break;
		(*pages)++;
		TAP_CHECK(n <= limit);
		TAP_CHECK(!more || n == limit);
		for (size_t i = 0; i < n; i++) {
			if (have_prev)
				TAP_CHECK(cmp_pos(&prev, &items[i]) < 0);
			if (type >= 0)
				TAP_CHECK_INT(items[i].type, type);
			if (iss)
				TAP_CHECK_STR(items[i].iss, iss);
			rvk_revocation_fini(&prev);
			prev = items[i];
			have_prev = true;
		}
		free(items);
		total += n;
		if (!more)
			break;
	}
	rvk_revocation_fini(&prev);
	return total;
}

TAP_TEST(list_pages_and_filters)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	size_t pages;
	TAP_CHECK_INT(walk(&fx, -1, NULL, 10, &pages), 0);
	fill_grid(&fx);
	TAP_CHECK_INT(walk(&fx, -1, NULL, 10, &pages), 36);
	TAP_CHECK_INT(pages, 4);
	TAP_CHECK_INT(walk(&fx, -1, NULL, 36, &pages), 36);
	TAP_CHECK_INT(pages, 1);        /* exactly full: more is false */
	TAP_CHECK_INT(walk(&fx, -1, NULL, 1, &pages), 36);
	TAP_CHECK_INT(walk(&fx, RVK_REV_TOKEN, NULL, 5, &pages), 12);
	TAP_CHECK_INT(walk(&fx, -1, "iss-b", 5, &pages), 12);
	TAP_CHECK_INT(walk(&fx, RVK_REV_KEY, "iss-a", 3, &pages), 4);
	TAP_CHECK_INT(pages, 2);
	TAP_CHECK_INT(walk(&fx, RVK_REV_SESSION, NULL, 5, &pages), 0);
	TAP_CHECK_INT(walk(&fx, -1, "nobody", 5, &pages), 0);

	/* The first items of the whole order, and resuming in the middle,
	 * against the grid's keys sorted by cmp_pos. */
	rvk_revocation_t keys[36];
	size_t nkeys = grid_keys(keys);
	qsort(keys, nkeys, sizeof(keys[0]), cmp_pos_qsort);
	rvk_revocation_t *items;
	size_t n;
	bool more;
	TAP_CHECK_INT(rvk_store_list(fx.store, -1, NULL, NULL, 2, &items, &n,
	                             &more), RVK_OK);
	TAP_CHECK_INT(n, 2);
	TAP_CHECK(more);
	for (size_t i = 0; i < n && i < 2; i++) {
		TAP_CHECK_INT(items[i].type, keys[i].type);
		TAP_CHECK_STR(items[i].iss, keys[i].iss);
		TAP_CHECK_STR(items[i].id, keys[i].id);
	}
	for (size_t i = 0; i < n; i++)
		rvk_revocation_fini(&items[i]);
	free(items);
	/* A position that is not itself a row (deleted meanwhile): the
	 * listing goes on with the first key after it. */
	rvk_revocation_t gone = rev(RVK_REV_TOKEN, "iss-a", "bb", 0, 0, NULL,
	                            RVK_SRC_ADMIN);
	size_t next = 0;
	while (next < nkeys && cmp_pos(&keys[next], &gone) < 0)
		next++;
	TAP_CHECK(next < nkeys);
	rvk_store_pos_t pos = { .type = RVK_REV_TOKEN, .iss = "iss-a",
	                        .id = "bb" };
	TAP_CHECK_INT(rvk_store_list(fx.store, -1, NULL, &pos, 1, &items, &n,
	                             &more), RVK_OK);
	TAP_CHECK_INT(n, 1);
	if (n == 1 && next < nkeys) {
		TAP_CHECK_INT(items[0].type, keys[next].type);
		TAP_CHECK_STR(items[0].iss, keys[next].iss);
		TAP_CHECK_STR(items[0].id, keys[next].id);
		rvk_revocation_fini(&items[0]);
	}
	free(items);
	fx_fini(&fx);
}

/* Keyset pagination: what changes between two pages neither repeats nor
 * hides a revocation that was there throughout. Between pages of 5, a
 * revocation not listed yet is deleted and ten are added: the walk gives
 * every other one of the grid exactly once (the added ones at most once). */
TAP_TEST(a_listing_survives_changes_between_pages)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	fill_grid(&fx);
	rvk_revocation_t keys[36];
	size_t nkeys = grid_keys(keys);
	qsort(keys, nkeys, sizeof(keys[0]), cmp_pos_qsort);
	int seen[36] = { 0 }, added_seen = 0;
	rvk_store_pos_t pos = { .type = -1 };
	char last_iss[64] = "", last_id[64] = "";
	size_t pages = 0;
	for (;;) {
		rvk_revocation_t *items = NULL;
		size_t n = 0;
		bool more = false;
		TAP_CHECK_INT(rvk_store_list(fx.store, -1, NULL, &pos, 5, &items,
		                             &n, &more), RVK_OK);
		for (size_t i = 0; i < n; i++) {
			size_t k = 0;
			while (k < nkeys && (keys[k].type != items[i].type ||
			                     strcmp(keys[k].iss, items[i].iss) ||
			                     strcmp(keys[k].id, items[i].id)))
				k++;
			if (k < nkeys)
				seen[k]++;
			else
				added_seen++;
		}
		if (n > 0) {
			pos.type = (int)items[n - 1].type;
			snprintf(last_iss, sizeof(last_iss), "%s", items[n - 1].iss);
			snprintf(last_id, sizeof(last_id), "%s", items[n - 1].id);
			pos.iss = last_iss;
			pos.id = last_id;
		}
		for (size_t i = 0; i < n; i++)
			rvk_revocation_fini(&items[i]);
		free(items);
		if (++pages == 1) {
			/* keys[30] comes after the first page: gone before it
			 * is listed. */
			bool deleted = false;
			TAP_CHECK_INT(rvk_store_delete(fx.store, keys[30].type,
			                               keys[30].iss, keys[30].id,
			                               NULL, &deleted), RVK_OK);
			TAP_CHECK(deleted);
			for (int a = 0; a < 10; a++) {
				char id[16];
				snprintf(id, sizeof(id), "new-%d", a);
				rvk_revocation_t r = rev(RVK_REV_TOKEN, "iss-a", id,
				                         NOW, NOW + 60, NULL,
				                         RVK_SRC_ADMIN);
				TAP_CHECK_INT(rvk_store_record(fx.store, &r, 1),
				              RVK_OK);
			}
		}
		if (!more || pages > 40)
			break;
	}
	for (size_t k = 0; k < nkeys; k++)
		TAP_CHECK_INT(seen[k], k == 30 ? 0 : 1);
	TAP_CHECK(added_seen <= 10);
	fx_fini(&fx);
}

/* Runs the listing's SQL for one page of type 0 from position (k, iss, id)
 * ("" iss: from the range's start); returns the statement's VM steps and
 * sets *rows. */
static int
list_page_steps(sqlite3 *db, int64_t k, const char *iss, const char *id,
                int *rows)
{
	int64_t lo, hi;
	rvk_db_key_range(RVK_REV_TOKEN, NULL, 0, &lo, &hi);
	sqlite3_stmt *st;
	*rows = -1;
	if (sqlite3_prepare_v2(db, rvk_store_sql_list, -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, -1);
	sqlite3_bind_int64(st, 3, *iss ? k : lo - 1);
	sqlite3_bind_text(st, 4, iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, 60);
	sqlite3_bind_int64(st, 7, lo);
	sqlite3_bind_int64(st, 8, hi);
	*rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		(*rows)++;
	int steps = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0);
	sqlite3_finalize(st);
	return steps;
}

/* Keyset pagination seeks to its position: a page near the end of 3,000
 * revocations takes about the steps of the first page. Stepping through
 * every row before the position took 6.5 times more here, and grows with
 * the rows. */
TAP_TEST(a_late_page_costs_what_the_first_costs)
{
	enum { N = 3000 };
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	static rvk_revocation_t revs[N];
	static char ids[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id-%04d", i);
		revs[i] = rev(RVK_REV_TOKEN, "i", ids[i], NOW, NOW + 60, NULL,
		              RVK_SRC_ADMIN);
	}
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, N), RVK_OK);
	char path[600];
	snprintf(path, sizeof(path), "%s/revokd.db", fx.dir);
	sqlite3 *db;
	TAP_CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	              SQLITE_OK);
	TAP_CHECK_INT(rvk_db_add_functions(db), SQLITE_OK);
	sqlite3_stmt *st;
	TAP_CHECK_INT(sqlite3_prepare_v2(db, "SELECT kh, iss, id FROM"
	                                 " revocations ORDER BY kh, iss, id"
	                                 " LIMIT 1 OFFSET 2900", -1, &st,
	                                 NULL), SQLITE_OK);
	TAP_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	int64_t k = sqlite3_column_int64(st, 0);
	char iss[16], id[16];
	snprintf(iss, sizeof(iss), "%s", sqlite3_column_text(st, 1));
	snprintf(id, sizeof(id), "%s", sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	int rows1, rows2;
	int first = list_page_steps(db, 0, "", "", &rows1);
	int late = list_page_steps(db, k, iss, id, &rows2);
	printf("# VM steps: first page %d, page after row 2900 %d\n", first,
	       late);
	TAP_CHECK_INT(rows1, 60);
	TAP_CHECK_INT(rows2, 60);
	TAP_CHECK(first > 0 && late < 2 * first);
	sqlite3_close(db);
	fx_fini(&fx);
}

TAP_TEST(delete_and_only_source)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t revs[] = {
		rev(RVK_REV_SUBJECT, "i", "alice", NOW, NOW + 60, NULL,
		    RVK_SRC_ADMIN),
		rev(RVK_REV_ISSUER, "i", "", NOW, NOW + 60, NULL,
		    RVK_SRC_KEYCLOAK),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 2), RVK_OK);
	bool deleted = true;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_SUBJECT, "i", "bob",
	                               NULL, &deleted), RVK_OK);
	TAP_CHECK(!deleted);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_SUBJECT, "i", "alice",
	                               NULL, &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_SUBJECT, "i", "alice", 0, 0);

	/* A Keycloak notBefore of 0 removes only what Keycloak set. */
	rvk_source_t kc = RVK_SRC_KEYCLOAK, adm = RVK_SRC_ADMIN;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", &adm,
	                               &deleted), RVK_OK);
	TAP_CHECK(!deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", NOW, NOW + 60);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_ISSUER, "i", "", &kc,
	                               &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_ISSUER, "i", "", 0, 0);
	TAP_CHECK_INT(table_total(&fx), 0);

	/* Deleted, then revoked again: present again (order kept). */
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 1), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_SUBJECT, "i", "alice", NOW, NOW + 60);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 1);
	fx_fini(&fx);
}

/* The key hash is persisted in every row (store/db.h): its values must
 * never change. These are SHA-256 as db.c describes it, computed apart
 * (Python's hashlib). */
TAP_TEST(the_key_hash_is_pinned)
{
	TAP_CHECK(rvk_db_key_hash(RVK_REV_TOKEN, "https://i", 9, "t", 1) ==
	          INT64_C(452017256536160777));
	TAP_CHECK(rvk_db_key_hash(RVK_REV_KEY, "https://issuer.example", 22,
	                          "k-1", 3) == INT64_C(5763288781264385060));
	TAP_CHECK(rvk_db_key_hash(RVK_REV_ISSUER, "https://i", 9, "", 0) ==
	          INT64_C(3910784261772275722));
	/* Each type its own range, and each issuer of a type. */
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++) {
		int64_t k = rvk_db_key_hash(t, "iss-a", 5, "x", 1), lo, hi;
		TAP_CHECK(k >> RVK_DB_KH_TYPE_SHIFT == t);
		rvk_db_key_range(t, NULL, 0, &lo, &hi);
		TAP_CHECK(lo <= k && k < hi);
		TAP_CHECK(lo == (int64_t)t << RVK_DB_KH_TYPE_SHIFT);
		rvk_db_key_range(t, "iss-a", 5, &lo, &hi);
		TAP_CHECK(lo <= k && k < hi);
		TAP_CHECK(hi - lo == INT64_C(1) << RVK_DB_KH_ISS_SHIFT);
		TAP_CHECK(lo <= rvk_db_key_hash(t, "iss-a", 5, "other", 5) &&
		          rvk_db_key_hash(t, "iss-a", 5, "other", 5) < hi);
		int64_t kb = rvk_db_key_hash(t, "iss-b", 5, "x", 1);
		TAP_CHECK(kb < lo || kb >= hi);
	}
}

/* The digest's hashes (store/digest.h) are compared between replicas and
 * kept in the file: they never change. Values computed apart, by
 * tests/support/keyhash.py. */
TAP_TEST(the_digest_hashes_are_pinned)
{
	TAP_CHECK((int64_t)rvk_digest_hash(0, "https://i", 9, "t", 1, "admin", 5)
	          == INT64_C(-2565113209330432497));
	TAP_CHECK((int64_t)rvk_digest_hash(4, "https://issuer.example", 22, "k-1",
	                                   3, "webhook", 7)
	          == INT64_C(-2367209489794052585));
	TAP_CHECK((int64_t)rvk_digest_hash(1, "", 0, "", 0, "", 0)
	          == INT64_C(6696311859418964865));
	TAP_CHECK_INT(rvk_digest_bucket("https://i", 9, "t", 1), 33);
	TAP_CHECK_INT(rvk_store_bucket("https://i", "t"), 33);
	TAP_CHECK_INT(rvk_digest_bucket("https://issuer.example", 22, "k-1", 3),
	              54);
	TAP_CHECK_INT(rvk_digest_bucket("", 0, "", 0), 31);
	TAP_CHECK((int64_t)rvk_digest_version_hash(0, "https://i", 9, "t", 1,
	                                           "admin", 5, 115672002134016,
	                                           "aaaa", 4, false)
	          == INT64_C(4900219702652524385));
	TAP_CHECK((int64_t)rvk_digest_version_hash(0, "https://i", 9, "t", 1, "*",
	                                           1, 1, "", 0, true)
	          == INT64_C(2865408687189705843));
	/* Each field is length-prefixed: moving a byte between two fields
	 * changes the hash. */
	TAP_CHECK(rvk_digest_hash(0, "ab", 2, "c", 1, "admin", 5) !=
	          rvk_digest_hash(0, "a", 1, "bc", 2, "admin", 5));
}

static long long
raw_query_int(const char *dir, const char *sql)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/revokd.db", dir);
	sqlite3 *db;
	long long v = -1;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    rvk_db_add_functions(db) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE)
			v = sqlite3_changes(db);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/* The key index holds hashes, which two keys can share: every lookup also
 * compares the columns. Here the row of "a" carries the hash of "b", as a
 * collision would: recording "b" inserts its own row instead of merging
 * into "a", get and list keep them apart, a delete of "b" leaves "a". */
TAP_TEST(keys_with_one_hash_stay_apart)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t a = rev(RVK_REV_TOKEN, "i", "a", NOW, NOW + 60, "ra",
	                         RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &a, 1), RVK_OK);
	fx_close(&fx);
	TAP_CHECK_INT(raw_query_int(fx.dir, "UPDATE revocations"
	                            " SET kh = rvk_kh(0, 'i', 'b')"), 1);
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);

	rvk_revocation_t b = rev(RVK_REV_TOKEN, "i", "b", NOW + 5, NOW + 90,
	                         "rb", RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &b, 1), RVK_OK);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 2);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "b", NOW + 5, NOW + 90);
	/* A repeat of "b" merges into b's row, not a's. */
	b.revoked_at = NOW + 7;
	TAP_CHECK_INT(rvk_store_record(fx.store, &b, 1), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "b", NOW + 7, NOW + 90);

	rvk_revocation_t *items = NULL;
	size_t n = 0;
	bool more = true;
	TAP_CHECK_INT(rvk_store_list(fx.store, RVK_REV_TOKEN, NULL, NULL, 10,
	                             &items, &n, &more), RVK_OK);
	TAP_CHECK_INT(n, 2);
	TAP_CHECK(!more);
	if (n == 2) {                        /* one hash: iss, then id */
		TAP_CHECK_STR(items[0].id, "a");
		TAP_CHECK_INT(items[0].revoked_at, NOW);
		TAP_CHECK_INT(items[0].nsources, 1);
		TAP_CHECK_STR(items[1].id, "b");
		TAP_CHECK_INT(items[1].revoked_at, NOW + 7);
		TAP_CHECK_INT(items[1].nsources, 1);
	}
	for (size_t i = 0; i < n; i++)
		rvk_revocation_fini(&items[i]);
	free(items);

	bool deleted = false;
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "i", "b", NULL,
	                               &deleted), RVK_OK);
	TAP_CHECK(deleted);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "b", 0, 0);
	check_table(&fx, RVK_REV_TOKEN, "i", "a", NOW, NOW + 60, __LINE__);
	fx_close(&fx);
	TAP_CHECK_INT(raw_query_int(fx.dir, "SELECT revoked_at FROM revocations"
	                            " WHERE id = 'a' AND reason = 'ra'"), NOW);
	TAP_CHECK_INT(raw_query_int(fx.dir, "SELECT count(*) FROM revocations"),
	              1);
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);
	fx_fini(&fx);
}

TAP_TEST(restart_reloads_live_rows)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t revs[] = {
		rev(RVK_REV_TOKEN, "i", "live", NOW, NOW + 10, NULL, RVK_SRC_SET),
		/* expires + leeway == now: can still deny, is loaded */
		rev(RVK_REV_TOKEN, "i", "edge", NOW - 100, NOW - LEEWAY, NULL,
		    RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "gone", NOW - 100, NOW - LEEWAY - 1, NULL,
		    RVK_SRC_SET),
		rev(RVK_REV_KEY, "i", "k", 1, RVK_NEVER, "leak", RVK_SRC_ADMIN),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 4), RVK_OK);
	TAP_CHECK_INT(table_total(&fx), 4);
	fx_close(&fx);

	TAP_CHECK_INT(fx_open(&fx), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "live", NOW, NOW + 10);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "edge", NOW - 100, NOW - LEEWAY);
	CHECK_BOTH(&fx, RVK_REV_KEY, "i", "k", 1, RVK_NEVER);
	/* On disk still (until purged), not in memory. */
	check_db(&fx, RVK_REV_TOKEN, "i", "gone", NOW - 100, NOW - LEEWAY - 1,
	         __LINE__);
	check_table(&fx, RVK_REV_TOKEN, "i", "gone", 0, 0, __LINE__);
	TAP_CHECK_INT(table_total(&fx), 3);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 4);
	TAP_CHECK_INT(st.commits, 0);
	fx_fini(&fx);
}

TAP_TEST(purge_deletes_dead_rows_only)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t revs[] = {
		rev(RVK_REV_TOKEN, "i", "a", NOW, NOW + 10, NULL, RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "b", NOW, NOW - LEEWAY, NULL, RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "c", NOW, NOW - LEEWAY - 1, NULL,
		    RVK_SRC_SET),
		rev(RVK_REV_SUBJECT, "i", "d", NOW, NOW - 5000, NULL, RVK_SRC_SET),
		rev(RVK_REV_KEY, "i", "k", NOW, RVK_NEVER, NULL, RVK_SRC_ADMIN),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 5), RVK_OK);
	size_t purged = 99;
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 2);
	check_db(&fx, RVK_REV_TOKEN, "i", "a", NOW, NOW + 10, __LINE__);
	check_db(&fx, RVK_REV_TOKEN, "i", "b", NOW, NOW - LEEWAY, __LINE__);
	check_db(&fx, RVK_REV_TOKEN, "i", "c", 0, 0, __LINE__);
	check_db(&fx, RVK_REV_SUBJECT, "i", "d", 0, 0, __LINE__);
	check_db(&fx, RVK_REV_KEY, "i", "k", NOW, RVK_NEVER, __LINE__);
	/* The table is the sweeper's job: purge leaves it alone. */
	TAP_CHECK_INT(table_total(&fx), 5);
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 3);
	/* Far in the future: everything but the key goes. */
	TAP_CHECK_INT(rvk_store_purge(fx.store, INT64_MAX, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 2);
	check_db(&fx, RVK_REV_KEY, "i", "k", NOW, RVK_NEVER, __LINE__);
	TAP_CHECK_INT(rvk_store_purge(fx.store, INT64_MAX, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 0);
	fx_fini(&fx);
}

/* With purge_align (cluster mode, DECISIONS D36) a purge at any moment
 * between two multiples of it deletes what a purge at the earlier one
 * would: replicas whose sweepers run at different moments hold the same
 * rows between two reconciliation rounds. */
TAP_TEST(purge_align_rounds_the_cutoff_down)
{
	fixture_t fx;
	rvk_store_opts_t o = { .leeway = LEEWAY, .purge_align = 60 };
	TAP_CHECK(store_fx_init(&fx, "store", &o));
	int64_t at = NOW - NOW % 60;            /* a multiple of 60 */
	rvk_revocation_t revs[] = {
		rev(RVK_REV_TOKEN, "i", "before", NOW - 9000, at - LEEWAY - 1,
		    NULL, RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "after", NOW - 9000, at - LEEWAY + 10,
		    NULL, RVK_SRC_SET),
	};
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 2), RVK_OK);
	size_t purged = 99;
	/* 59 s later, "after" has expired beyond the leeway too: kept. */
	TAP_CHECK_INT(rvk_store_purge(fx.store, at + 59, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 1);
	check_db(&fx, RVK_REV_TOKEN, "i", "before", 0, 0, __LINE__);
	check_db(&fx, RVK_REV_TOKEN, "i", "after", NOW - 9000, at - LEEWAY + 10,
	         __LINE__);
	TAP_CHECK_INT(rvk_store_purge(fx.store, at + 60, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 1);
	check_db(&fx, RVK_REV_TOKEN, "i", "after", 0, 0, __LINE__);
	fx_fini(&fx);
}

/* A purge deletes at most RVK_STORE_PURGE_BATCH rows, each batch its own
 * transaction, so the sweeper can stop between batches (service/sweeper.h)
 * and a huge expiry is never one huge transaction. */
TAP_TEST(purge_goes_in_batches)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	enum { ROWS = RVK_STORE_PURGE_BATCH + 500 };
	static rvk_revocation_t revs[ROWS];
	static char ids[ROWS][24];
	for (int i = 0; i < ROWS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "dead-%06d", i);
		revs[i] = rev(RVK_REV_TOKEN, "i", ids[i], NOW - 9000, NOW - 5000,
		              NULL, RVK_SRC_SET);
	}
	for (int at = 0; at < ROWS; at += RVK_STORE_MAX_BATCH) {
		size_t n = ROWS - at < RVK_STORE_MAX_BATCH ? (size_t)(ROWS - at)
		                                           : RVK_STORE_MAX_BATCH;
		TAP_CHECK_INT(rvk_store_record(fx.store, revs + at, n), RVK_OK);
	}
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	uint64_t commits = st.commits;
	size_t purged = 0;
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW, &purged), RVK_OK);
	TAP_CHECK_INT(purged, RVK_STORE_PURGE_BATCH);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 500);
	TAP_CHECK_INT(st.commits, commits + 1);
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 500);
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 0);
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows, 0);
	fx_fini(&fx);
}

/* Concurrent recorders: each holds the writer on its first commit until
 * every thread has started, so the queue fills and group commit shows. */
#define THREADS 8
#define PER_THREAD 200

struct conc {
	fixture_t *fx;
	int idx;
	int failures;
};

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_started;
static size_t commit_calls, commit_rows;

static void
on_commit_gate(void *arg, double seconds, size_t rows, bool ok)
{
	(void)arg;
	(void)seconds;
	pthread_mutex_lock(&gate_mu);
	commit_calls++;
	if (ok)
		commit_rows += rows;
	while (gate_started < THREADS)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void *
recorder(void *arg)
{
	struct conc *c = arg;
	pthread_mutex_lock(&gate_mu);
	gate_started++;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	for (int i = 0; i < PER_THREAD; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d-%d", c->idx, i);
		rvk_revocation_t r = rev(RVK_REV_TOKEN, "iss", id, NOW + i,
		                         NOW + 600, NULL, RVK_SRC_WEBHOOK);
		if (rvk_store_record(c->fx->store, &r, 1) != RVK_OK)
			c->failures++;
	}
	return NULL;
}

TAP_TEST(concurrent_recorders_share_commits)
{
	fixture_t fx;
	memset(&fx, 0, sizeof(fx));
	TAP_CHECK(store_fx_mkdtemp(fx.dir, sizeof(fx.dir), "store"));
	fx.opts.leeway = LEEWAY;
	fx.opts.on_commit = on_commit_gate;
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);

	pthread_t th[THREADS];
	struct conc cs[THREADS];
	for (int i = 0; i < THREADS; i++) {
		cs[i] = (struct conc){ .fx = &fx, .idx = i };
		pthread_create(&th[i], NULL, recorder, &cs[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		TAP_CHECK_INT(cs[i].failures, 0);
	}
	const size_t records = THREADS * PER_THREAD;
	TAP_CHECK_INT(table_total(&fx), records);
	size_t pages;
	TAP_CHECK_INT(walk(&fx, RVK_REV_TOKEN, "iss", 500, &pages), records);
	for (int t = 0; t < THREADS; t++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d-%d", t, PER_THREAD - 1);
		CHECK_BOTH(&fx, RVK_REV_TOKEN, "iss", id, NOW + PER_THREAD - 1,
		           NOW + 600);
	}
	rvk_store_stats_t st;
	rvk_store_stats(fx.store, &st);
	TAP_CHECK_INT(st.rows_written, records);
	TAP_CHECK_INT(st.rows, records);
	TAP_CHECK(st.commits < records);
	TAP_CHECK_INT(st.commits, commit_calls);
	TAP_CHECK_INT(commit_rows, records);
	printf("# %zu records in %llu commits\n", records,
	       (unsigned long long)st.commits);
	fx_fini(&fx);
}

/* One asynchronous record: what its completion saw. */
struct async_rec {
	fixture_t *fx;
	char id[16];
	rvk_revocation_t rev;
	int calls;
	rvk_result_t result;
	bool visible;                   /* in the table when completed */
};

static sem_t async_sem;                 /* posted by every completion */

static void
async_done(void *arg, rvk_result_t r)
{
	struct async_rec *a = arg;
	int64_t at, exp;
	a->calls++;
	a->result = r;
	a->visible = table_get(a->fx, a->rev.type, a->rev.iss, a->rev.id, &at,
	                       &exp);
	sem_post(&async_sem);
}

#define ASYNC_N 200

/* Completions come once each, after commit and apply; a close flushes
 * what is queued and completes it; a failed commit completes with EIO and
 * leaves nothing. */
TAP_TEST(async_record_completes_once)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	sem_init(&async_sem, 0, 0);
	static struct async_rec recs[ASYNC_N];
	for (int i = 0; i < ASYNC_N; i++) {
		recs[i] = (struct async_rec){ .fx = &fx };
		snprintf(recs[i].id, sizeof(recs[i].id), "a%d", i);
		recs[i].rev = rev(RVK_REV_TOKEN, "iss", recs[i].id, NOW + i,
		                  NOW + 600, NULL, RVK_SRC_ADMIN);
		TAP_CHECK_INT(rvk_store_record_async(fx.store, &recs[i].rev, 1,
		                                     async_done, &recs[i]),
		              RVK_OK);
	}
	/* A synchronous record queued behind them completes after them. */
	rvk_revocation_t last = rev(RVK_REV_TOKEN, "iss", "sync", NOW, NOW + 600,
	                            NULL, RVK_SRC_ADMIN);
	TAP_CHECK_INT(rvk_store_record(fx.store, &last, 1), RVK_OK);
	for (int i = 0; i < ASYNC_N; i++) {
		TAP_CHECK_INT(recs[i].calls, 1);
		TAP_CHECK_INT(recs[i].result, RVK_OK);
		TAP_CHECK(recs[i].visible);
	}
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "iss", "a7", NOW + 7, NOW + 600);

	/* Queued, then closed at once: the close completes every one. */
	for (int i = 0; i < ASYNC_N; i++) {
		recs[i].calls = 0;
		recs[i].visible = false;
		recs[i].rev.revoked_at = NOW + 1000 + i;
		TAP_CHECK_INT(rvk_store_record_async(fx.store, &recs[i].rev, 1,
		                                     async_done, &recs[i]),
		              RVK_OK);
	}
	fx_close(&fx);
	for (int i = 0; i < ASYNC_N; i++) {
		TAP_CHECK_INT(recs[i].calls, 1);
		TAP_CHECK_INT(recs[i].result, RVK_OK);
	}
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "iss", "a199", NOW + 1199, NOW + 600);

#ifdef RVK_FAULT_INJECTION
	struct async_rec bad = { .fx = &fx };
	bad.rev = rev(RVK_REV_TOKEN, "iss", "bad", NOW, NOW + 600, NULL,
	              RVK_SRC_ADMIN);
	rvk_fault_reset();
	rvk_fault_arm("store.commit", 1, 1);
	sem_destroy(&async_sem);
	sem_init(&async_sem, 0, 0);
	TAP_CHECK_INT(rvk_store_record_async(fx.store, &bad.rev, 1, async_done,
	                                     &bad), RVK_OK);
	while (sem_wait(&async_sem) != 0)
		;
	rvk_fault_reset();
	TAP_CHECK_INT(bad.calls, 1);
	TAP_CHECK_INT(bad.result, RVK_EIO);
	TAP_CHECK(!bad.visible);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "iss", "bad", 0, 0);
#endif
	sem_destroy(&async_sem);
	fx_fini(&fx);
}

/* The writer held in on_commit until the queue is filled: rows per
 * commit, in order. */
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool hold_open;
static size_t held_rows[8];
static size_t held_commits;

static void
on_commit_hold(void *arg, double seconds, size_t rows, bool ok)
{
	(void)arg;
	(void)seconds;
	pthread_mutex_lock(&hold_mu);
	if (ok && held_commits < RVK_ARRAY_LEN(held_rows))
		held_rows[held_commits] = rows;
	held_commits++;
	pthread_cond_broadcast(&hold_cv);
	while (!hold_open)
		pthread_cond_wait(&hold_cv, &hold_mu);
	pthread_mutex_unlock(&hold_mu);
}

static void
count_done(void *arg, rvk_result_t r)
{
	if (r == RVK_OK)
		__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
	sem_post(&async_sem);
}

#define BIG_JOB 5000

/* A group takes queued jobs up to 8,192 rows (store.c, GROUP_ROWS): three
 * batches of 5,000 queued together commit one by one, in order, each
 * whole; a group of all three would hold 15,000 rows. */
TAP_TEST(a_group_is_bounded_in_rows)
{
	fixture_t fx;
	memset(&fx, 0, sizeof(fx));
	TAP_CHECK(store_fx_mkdtemp(fx.dir, sizeof(fx.dir), "store"));
	fx.opts.leeway = LEEWAY;
	fx.opts.on_commit = on_commit_hold;
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);
	sem_init(&async_sem, 0, 0);
	int ok = 0;
	/* The first job's commit holds the writer... */
	rvk_revocation_t first = rev(RVK_REV_TOKEN, "iss", "first", NOW,
	                             NOW + 600, NULL, RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record_async(fx.store, &first, 1, count_done,
	                                     &ok), RVK_OK);
	pthread_mutex_lock(&hold_mu);
	while (held_commits < 1)
		pthread_cond_wait(&hold_cv, &hold_mu);
	pthread_mutex_unlock(&hold_mu);
	/* ...while three batches of 5,000 are queued behind it. */
	char (*ids)[16] = calloc(3 * BIG_JOB, 16);
	rvk_revocation_t *revs = calloc(3 * BIG_JOB, sizeof(*revs));
	for (int i = 0; i < 3 * BIG_JOB; i++) {
		snprintf(ids[i], 16, "b%d", i);
		revs[i] = rev(RVK_REV_TOKEN, "iss", ids[i], NOW, NOW + 600, NULL,
		              RVK_SRC_WEBHOOK);
	}
	for (int b = 0; b < 3; b++)
		TAP_CHECK_INT(rvk_store_record_async(fx.store, &revs[b * BIG_JOB],
		                                     BIG_JOB, count_done, &ok),
		              RVK_OK);
	pthread_mutex_lock(&hold_mu);
	hold_open = true;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mu);
	for (int i = 0; i < 4; i++)
		while (sem_wait(&async_sem) != 0)
			;
	TAP_CHECK_INT(ok, 4);
	TAP_CHECK_INT(held_commits, 4);
	TAP_CHECK_INT(held_rows[0], 1);
	for (int b = 1; b <= 3; b++)
		TAP_CHECK_INT(held_rows[b], BIG_JOB);
	TAP_CHECK_INT(table_total(&fx), 1 + 3 * BIG_JOB);
	CHECK_BOTH(&fx, RVK_REV_TOKEN, "iss", "b14999", NOW, NOW + 600);
	sem_destroy(&async_sem);
	fx_fini(&fx);
	free(revs);
	free(ids);
}

#ifdef RVK_FAULT_INJECTION
/* Fails the Nth step (then the Nth commit) of a batch, N = 1, 2, ... until
 * the batch goes through; after each failure nothing of it may show. */
TAP_TEST(fault_loop_leaves_nothing_behind)
{
	fixture_t fx;
	TAP_CHECK(fx_init(&fx));
	rvk_revocation_t old = rev(RVK_REV_SESSION, "i", "s", 100, 200, "old",
	                           RVK_SRC_WEBHOOK);
	TAP_CHECK_INT(rvk_store_record(fx.store, &old, 1), RVK_OK);
	rvk_revocation_t batch[] = {
		rev(RVK_REV_TOKEN, "i", "n1", 10, 20, NULL, RVK_SRC_SET),
		rev(RVK_REV_SESSION, "i", "s", 150, 300, "new", RVK_SRC_SET),
		rev(RVK_REV_TOKEN, "i", "n2", 10, 20, NULL, RVK_SRC_SET),
		rev(RVK_REV_KEY, "i", "k", 10, RVK_NEVER, NULL, RVK_SRC_ADMIN),
	};
	const char *points[] = { "store.step", "store.commit", "store.fsync" };
	for (size_t p = 0; p < RVK_ARRAY_LEN(points); p++) {
		unsigned long nth;
		rvk_result_t r = RVK_EIO;
		for (nth = 1; nth < 100; nth++) {
			rvk_fault_reset();
			rvk_fault_arm(points[p], nth, 1);
			rvk_store_stats_t before, after;
			rvk_store_stats(fx.store, &before);
			r = rvk_store_record(fx.store, batch, 4);
			if (r == RVK_OK)
				break;
			TAP_CHECK_INT(r, RVK_EIO);
			TAP_CHECK_INT(rvk_fault_fired(points[p]), 1);
			CHECK_BOTH(&fx, RVK_REV_SESSION, "i", "s", 100, 200);
			CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "n1", 0, 0);
			CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "n2", 0, 0);
			CHECK_BOTH(&fx, RVK_REV_KEY, "i", "k", 0, 0);
			TAP_CHECK_INT(table_total(&fx), 1);
			rvk_store_stats(fx.store, &after);
			TAP_CHECK_INT(after.failed_commits,
			              before.failed_commits + 1);
			TAP_CHECK_INT(after.commits, before.commits);
			TAP_CHECK(!after.healthy);
			TAP_CHECK_INT(after.rows, 1);
		}
		rvk_fault_reset();
		TAP_CHECK_INT(r, RVK_OK);
		/* BEGIN + 4 x insert-if-new (each contribution is new: "s"
		 * held webhook's, not set's) can fail, the 6th step does not
		 * exist; one COMMIT; at least one fsync (the WAL,
		 * synchronous=FULL). */
		if (p < 2)
			TAP_CHECK_INT(nth, p == 0 ? 6 : 2);
		else
			TAP_CHECK(nth >= 2 && nth < 100);
		printf("# %s: failed %lu times, then committed\n", points[p],
		       nth - 1);
		CHECK_BOTH(&fx, RVK_REV_SESSION, "i", "s", 150, 300);
		CHECK_BOTH(&fx, RVK_REV_TOKEN, "i", "n1", 10, 20);
		CHECK_BOTH(&fx, RVK_REV_KEY, "i", "k", 10, RVK_NEVER);
		rvk_store_stats_t st;
		rvk_store_stats(fx.store, &st);
		TAP_CHECK(st.healthy);
		/* Contributions: "s" has webhook's and set's. */
		TAP_CHECK_INT(st.rows, 5);
		/* Undo, so the second point starts from the same state. */
		bool del;
		TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "i", "n1",
		                               NULL, &del), RVK_OK);
		TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_TOKEN, "i", "n2",
		                               NULL, &del), RVK_OK);
		TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_KEY, "i", "k",
		                               NULL, &del), RVK_OK);
		TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_SESSION, "i", "s",
		                               NULL, &del), RVK_OK);
		TAP_CHECK_INT(rvk_store_record(fx.store, &old, 1), RVK_OK);
	}

	/* A failed delete keeps the row, in the file and in memory. */
	bool del = true;
	rvk_fault_arm("store.step", 2, 1);
	TAP_CHECK_INT(rvk_store_delete(fx.store, RVK_REV_SESSION, "i", "s",
	                               NULL, &del), RVK_EIO);
	TAP_CHECK(del);                 /* not written on failure */
	CHECK_BOTH(&fx, RVK_REV_SESSION, "i", "s", 100, 200);
	/* A failed purge deletes nothing. */
	rvk_revocation_t dead = rev(RVK_REV_TOKEN, "i", "dead", 1, 2, NULL,
	                            RVK_SRC_SET);
	rvk_fault_reset();
	TAP_CHECK_INT(rvk_store_record(fx.store, &dead, 1), RVK_OK);
	size_t purged = 77;
	rvk_fault_arm("store.commit", 1, 1);
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW, &purged), RVK_EIO);
	TAP_CHECK_INT(purged, 77);
	check_db(&fx, RVK_REV_TOKEN, "i", "dead", 1, 2, __LINE__);
	rvk_fault_reset();
	TAP_CHECK_INT(rvk_store_purge(fx.store, NOW, &purged), RVK_OK);
	TAP_CHECK_INT(purged, 2);       /* "dead", and "s" (expired at 200) */
	check_db(&fx, RVK_REV_TOKEN, "i", "dead", 0, 0, __LINE__);
	check_db(&fx, RVK_REV_SESSION, "i", "s", 0, 0, __LINE__);
	fx_fini(&fx);
}
#else
TAP_TEST(fault_loop_leaves_nothing_behind)
{
	printf("# fault points compiled out (-Dfault_injection=disabled)\n");
}
#endif

static void
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	TAP_CHECK(fd >= 0);
	if (fd < 0)
		return;
	TAP_CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* Opens dir expecting want, with a message that names `names`. */
static void
expect_open_fails(const char *dir, rvk_result_t want, const char *names,
                  const char *says, int line)
{
	char err[512] = "";
	rvk_revtable_t *t = rvk_revtable_new(16, LEEWAY);
	rvk_store_t *s = NULL;
	rvk_store_opts_t opts = { .leeway = LEEWAY };
	rvk_result_t r = rvk_store_open(dir, t, &opts, NOW, &s, err,
	                                sizeof(err));
	if (r != want)
		TAP_FAIL_AT("line %d: %s: result %d, expected %d (%s)", line,
		            dir, (int)r, (int)want, err);
	if (!strstr(err, names) || (says && !strstr(err, says)))
		TAP_FAIL_AT("line %d: message \"%s\" lacks \"%s\" / \"%s\"",
		            line, err, names, says ? says : "");
	else if (strchr(err, '\n'))
		TAP_FAIL_AT("line %d: message has a line break", line);
	else
		printf("# %s\n", err);
	if (r == RVK_OK)
		rvk_store_close(s);
	rvk_revtable_free(t);
}

TAP_TEST(unusable_data_dirs)
{
	/* Tests run as root, who writes anywhere: provoke EPERM with paths
	 * that cannot be a directory or a database file instead. */
	char base[512];
	TAP_CHECK(store_fx_mkdtemp(base, sizeof(base), "store"));
	char file[600], under[640], dbdir[600], dbpath[640];
	snprintf(file, sizeof(file), "%s/plain", base);
	write_file(file, "x", 1);
	expect_open_fails(file, RVK_EPERM, file, "not a directory", __LINE__);
	snprintf(under, sizeof(under), "%s/sub", file);
	expect_open_fails(under, RVK_EPERM, under, "cannot create", __LINE__);
	snprintf(dbdir, sizeof(dbdir), "%s/d", base);
	TAP_CHECK(mkdir(dbdir, 0700) == 0);
	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", dbdir);
	TAP_CHECK(mkdir(dbpath, 0700) == 0);    /* the database is a folder */
	expect_open_fails(dbdir, RVK_EPERM, dbpath, NULL, __LINE__);

	/* A data dir that does not exist yet is created. */
	char fresh[640];
	snprintf(fresh, sizeof(fresh), "%s/new", base);
	char err[256];
	rvk_revtable_t *t = rvk_revtable_new(16, LEEWAY);
	rvk_store_t *s = NULL;
	TAP_CHECK_INT(rvk_store_open(fresh, t, NULL, NOW, &s, err, sizeof(err)),
	              RVK_OK);
	rvk_store_close(s);
	rvk_revtable_free(t);
	rm_rf(base);
}

/* A large start-up load grows the revocation table as it fills: the
 * sweeper, which keeps it sized later, is not running yet, and a table left
 * at its presize makes every put walk a longer chain. */
TAP_TEST(load_grows_the_table)
{
	enum { ROWS = 200000 };
	char base[512];
	TAP_CHECK(store_fx_mkdtemp(base, sizeof(base), "store"));
	char err[256], dbpath[600], sql[1024];
	rvk_revtable_t *t = rvk_revtable_new(16, LEEWAY);
	rvk_store_t *s = NULL;
	TAP_CHECK_INT(rvk_store_open(base, t, NULL, NOW, &s, err, sizeof(err)),
	              RVK_OK);
	rvk_store_close(s);
	rvk_revtable_free(t);

	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", base);
	sqlite3 *db;
	TAP_CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
	TAP_CHECK_INT(rvk_db_add_functions(db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1"
	         " FROM c WHERE x < %d) INSERT INTO revocations (type, iss, id,"
	         " revoked_at, expires_at, source, kh) SELECT 0, 'https://a',"
	         " printf('jti-%%07d', x), %lld, %lld, 'admin',"
	         " rvk_kh(0, 'https://a', printf('jti-%%07d', x)) FROM c",
	         ROWS, (long long)NOW, (long long)NOW + 3600);
	TAP_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	t = rvk_revtable_new(16, LEEWAY);
	TAP_CHECK_INT(rvk_store_open(base, t, NULL, NOW, &s, err, sizeof(err)),
	              RVK_OK);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), ROWS);
	/* Sized to the population: the next power of two above 200,000. */
	TAP_CHECK_INT(rvk_revtable_buckets(t), 262144);
	rvk_store_close(s);
	rvk_revtable_free(t);
	rm_rf(base);
}

TAP_TEST(corrupt_or_newer_database)
{
	char base[512];
	TAP_CHECK(store_fx_mkdtemp(base, sizeof(base), "store"));
	char dbpath[600];
	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", base);

	/* Garbage where the database should be. */
	char junk[3 * 4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_file(dbpath, junk, 8192);
	expect_open_fails(base, RVK_EIO, dbpath, "not a database", __LINE__);

	/* A schema from a newer revokd. */
	remove(dbpath);
	sqlite3 *db;
	TAP_CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
	char newer[64];
	snprintf(newer, sizeof(newer), "CREATE TABLE x(y); PRAGMA user_version=%d",
	         RVK_DB_VERSION + 1);
	TAP_CHECK(sqlite3_exec(db, newer, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	expect_open_fails(base, RVK_EIO, dbpath, "newer", __LINE__);

	/* A real store whose pages get overwritten in the middle. */
	remove(dbpath);
	fixture_t fx;
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, base);
	fx.opts.leeway = LEEWAY;
	TAP_CHECK_INT(fx_open(&fx), RVK_OK);
	static rvk_revocation_t revs[2000];
	static char ids[2000][40];
	for (int i = 0; i < 2000; i++) {
		snprintf(ids[i], sizeof(ids[i]), "jti-%06d-padding-padding", i);
		revs[i] = rev(RVK_REV_TOKEN, "i", ids[i], NOW, NOW + 60 + i,
		              "some reason text", RVK_SRC_SET);
	}
	TAP_CHECK_INT(rvk_store_record(fx.store, revs, 2000), RVK_OK);
	fx_close(&fx);                  /* checkpoints: all in the main file */
	struct stat sb;
	TAP_CHECK(stat(dbpath, &sb) == 0);
	TAP_CHECK(sb.st_size > 16 * 4096);
	int fd = open(dbpath, O_WRONLY);
	TAP_CHECK(fd >= 0);
	TAP_CHECK(pwrite(fd, junk, 3 * 4096, 8 * 4096) == 3 * 4096);
	close(fd);
	expect_open_fails(base, RVK_EIO, dbpath, NULL, __LINE__);
	rm_rf(base);
}

int
main(void)
{
	rvk_log_set_level(RVK_LOG_ERROR);
	return tap_main(TAP_LIST(sources_have_names, record_and_get, merge_rule,
	                         one_source_leaving_keeps_the_others_in_force,
	                         a_repeat_that_changes_nothing_writes_nothing,
	                         record_shown_reads_the_batch_back,
	                         a_groups_dones_run_before_its_wakes,
	                         list_pages_and_filters,
	                         a_listing_survives_changes_between_pages,
	                         a_late_page_costs_what_the_first_costs,
	                         delete_and_only_source,
	                         the_key_hash_is_pinned, the_digest_hashes_are_pinned,
	                         keys_with_one_hash_stay_apart,
	                         restart_reloads_live_rows,
	                         purge_deletes_dead_rows_only,
	                         purge_align_rounds_the_cutoff_down,
	                         purge_goes_in_batches,
	                         concurrent_recorders_share_commits,
	                         async_record_completes_once,
	                         a_group_is_bounded_in_rows,
	                         fault_loop_leaves_nothing_behind,
	                         unusable_data_dirs, corrupt_or_newer_database,
	                         load_grows_the_table));
}
