/* Unit tests of cache/siphash and cache/syncmap: every operation, single
 * threaded (tests/unit/cache/stress_test.c does the concurrent part). */
#include <stdatomic.h>
#include <stdio.h>

#include "base/clock.h"
#include "base/rcu.h"
#include "cache/siphash.h"
#include "cache/syncmap.h"
#include "tests/support/tap.h"

static rvk_syncmap_value_t
iv(int64_t i)
{
	return (rvk_syncmap_value_t){ .i64 = i };
}

TAP_TEST(siphash_matches_reference_vectors)
{
	unsigned char key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	/* From the SipHash paper (appendix A) and its reference vectors.h. */
	TAP_CHECK(rvk_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	TAP_CHECK(rvk_siphash(key, NULL, 0) == 0x726fdb47dd0e0e31ULL);
	TAP_CHECK(rvk_siphash(key, msg, 8) == 0x93f5f5799a932462ULL);
	TAP_CHECK(rvk_siphash(key, msg, 63) == 0x958a324ceb064572ULL);
}

TAP_TEST(siphash_random_keys_differ)
{
	unsigned char a[16], b[16];
	rvk_siphash_random_key(a);
	rvk_siphash_random_key(b);
	TAP_CHECK(memcmp(a, b, 16) != 0);
	TAP_CHECK(rvk_siphash(a, "x", 1) != rvk_siphash(b, "x", 1));
}

TAP_TEST(store_load_replace_len)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	rvk_syncmap_entry_t e = { .value.i64 = -1 };
	TAP_CHECK(!rvk_syncmap_load(m, "a", 1, &e));
	TAP_CHECK_INT(e.value.i64, -1);           /* untouched on a miss */
	TAP_CHECK(rvk_syncmap_store(m, "a", 1, iv(1), 100));
	TAP_CHECK(rvk_syncmap_store(m, "b", 1, iv(2), 200));
	TAP_CHECK_INT(rvk_syncmap_len(m), 2);
	TAP_CHECK(rvk_syncmap_load(m, "a", 1, &e));
	TAP_CHECK_INT(e.value.i64, 1);
	TAP_CHECK_INT(e.expires_at, 100);
	TAP_CHECK(e.key == NULL);
	TAP_CHECK(!rvk_syncmap_store(m, "a", 1, iv(3), 300));   /* replaced */
	TAP_CHECK_INT(rvk_syncmap_len(m), 2);
	TAP_CHECK(rvk_syncmap_load(m, "a", 1, &e));
	TAP_CHECK_INT(e.value.i64, 3);
	TAP_CHECK_INT(e.expires_at, 300);
	TAP_CHECK(rvk_syncmap_load(m, "b", 1, NULL));
	rvk_syncmap_free(m);
}

TAP_TEST(keys_are_bytes_not_strings)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	rvk_syncmap_entry_t e;
	TAP_CHECK(rvk_syncmap_store(m, "", 0, iv(10), 1));
	TAP_CHECK(rvk_syncmap_store(m, "a\0b", 3, iv(11), 1));
	TAP_CHECK(rvk_syncmap_store(m, "a\0c", 3, iv(12), 1));
	TAP_CHECK(rvk_syncmap_store(m, "a", 1, iv(13), 1));
	TAP_CHECK(rvk_syncmap_store(m, "a\0", 2, iv(14), 1));
	TAP_CHECK_INT(rvk_syncmap_len(m), 5);
	TAP_CHECK(rvk_syncmap_load(m, "", 0, &e) && e.value.i64 == 10);
	TAP_CHECK(rvk_syncmap_load(m, "a\0b", 3, &e) && e.value.i64 == 11);
	TAP_CHECK(rvk_syncmap_load(m, "a\0c", 3, &e) && e.value.i64 == 12);
	TAP_CHECK(rvk_syncmap_load(m, "a", 1, &e) && e.value.i64 == 13);
	TAP_CHECK(rvk_syncmap_load(m, "a\0", 2, &e) && e.value.i64 == 14);
	TAP_CHECK(!rvk_syncmap_load(m, "a\0bx", 4, &e));
	rvk_syncmap_free(m);
}

TAP_TEST(load_or_store)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	rvk_syncmap_entry_t e = { 0 };
	TAP_CHECK(!rvk_syncmap_load_or_store(m, "k", 1, iv(1), 10, &e));
	TAP_CHECK_INT(rvk_syncmap_len(m), 1);
	TAP_CHECK(rvk_syncmap_load_or_store(m, "k", 1, iv(2), 20, &e));
	TAP_CHECK_INT(e.value.i64, 1);
	TAP_CHECK_INT(e.expires_at, 10);
	TAP_CHECK(rvk_syncmap_load(m, "k", 1, &e) && e.value.i64 == 1);
	TAP_CHECK(rvk_syncmap_load_or_store(m, "k", 1, iv(3), 30, NULL));
	TAP_CHECK_INT(rvk_syncmap_len(m), 1);
	rvk_syncmap_free(m);
}

TAP_TEST(load_and_delete_and_delete)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	rvk_syncmap_entry_t e = { 0 };
	rvk_syncmap_store(m, "x", 1, iv(7), 70);
	rvk_syncmap_store(m, "y", 1, iv(8), 80);
	TAP_CHECK(rvk_syncmap_load_and_delete(m, "x", 1, &e));
	TAP_CHECK_INT(e.value.i64, 7);
	TAP_CHECK_INT(e.expires_at, 70);
	TAP_CHECK(!rvk_syncmap_load(m, "x", 1, NULL));
	TAP_CHECK(!rvk_syncmap_load_and_delete(m, "x", 1, &e));
	TAP_CHECK_INT(rvk_syncmap_len(m), 1);
	TAP_CHECK(rvk_syncmap_delete(m, "y", 1));
	TAP_CHECK(!rvk_syncmap_delete(m, "y", 1));
	TAP_CHECK(!rvk_syncmap_delete(m, "never", 5));
	TAP_CHECK_INT(rvk_syncmap_len(m), 0);
	rvk_syncmap_free(m);
}

static bool
value_is(const rvk_syncmap_entry_t *e, void *arg)
{
	return e->value.i64 == *(int64_t *)arg;
}

TAP_TEST(delete_if_checks_the_entry)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	int64_t want = 2;
	rvk_syncmap_store(m, "k", 1, iv(1), 0);
	TAP_CHECK(!rvk_syncmap_delete_if(m, "k", 1, value_is, &want));
	TAP_CHECK(rvk_syncmap_load(m, "k", 1, NULL));
	rvk_syncmap_store(m, "k", 1, iv(2), 0);
	TAP_CHECK(rvk_syncmap_delete_if(m, "k", 1, value_is, &want));
	TAP_CHECK(!rvk_syncmap_load(m, "k", 1, NULL));
	TAP_CHECK(!rvk_syncmap_delete_if(m, "k", 1, value_is, &want));
	TAP_CHECK_INT(rvk_syncmap_len(m), 0);
	rvk_syncmap_free(m);
}

struct visit {
	int seen[100];
	int calls;
	int stop_after;
};

static bool
visit_fn(const rvk_syncmap_entry_t *e, void *arg)
{
	struct visit *v = arg;
	int i = (int)e->value.i64;
	char want[16];
	int n = snprintf(want, sizeof(want), "key%d", i);
	if (i >= 0 && i < 100 && (size_t)n == e->key_len && memcmp(want, e->key, (size_t)n) == 0)
		v->seen[i]++;
	v->calls++;
	return v->stop_after == 0 || v->calls < v->stop_after;
}

TAP_TEST(range_visits_each_entry_once_and_stops)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	for (int i = 0; i < 100; i++) {
		char k[16];
		int n = snprintf(k, sizeof(k), "key%d", i);
		rvk_syncmap_store(m, k, (size_t)n, iv(i), i);
	}
	struct visit v = { .stop_after = 0 };
	rvk_syncmap_range(m, visit_fn, &v);
	TAP_CHECK_INT(v.calls, 100);
	int once = 0;
	for (int i = 0; i < 100; i++)
		once += v.seen[i] == 1;
	TAP_CHECK_INT(once, 100);
	struct visit w = { .stop_after = 10 };
	rvk_syncmap_range(m, visit_fn, &w);
	TAP_CHECK_INT(w.calls, 10);
	rvk_syncmap_free(m);
}

static bool
odd_value(const rvk_syncmap_entry_t *e, void *arg)
{
	(void)arg;
	return e->value.i64 % 2 == 1;
}

static bool
count_deleted(const rvk_syncmap_entry_t *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return true;
}

TAP_TEST(delete_where_and_sweep)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	for (int i = 0; i < 50; i++) {
		char k[16];
		int n = snprintf(k, sizeof(k), "key%d", i);
		rvk_syncmap_store(m, k, (size_t)n, iv(i), i < 20 ? i : RVK_NEVER);
	}
	int deleted = 0;
	/* delete_where passes the same arg to both callbacks. */
	TAP_CHECK_INT(rvk_syncmap_delete_where(m, odd_value, count_deleted, &deleted), 25);
	TAP_CHECK_INT(deleted, 25);
	TAP_CHECK_INT(rvk_syncmap_len(m), 25);
	TAP_CHECK(!rvk_syncmap_load(m, "key3", 4, NULL));
	TAP_CHECK(rvk_syncmap_load(m, "key4", 4, NULL));
	/* Even keys 0..18 have expires_at = i; sweep(10) takes those <= 10. */
	TAP_CHECK_INT(rvk_syncmap_sweep(m, 10), 6);
	TAP_CHECK(!rvk_syncmap_load(m, "key10", 5, NULL));
	TAP_CHECK(rvk_syncmap_load(m, "key12", 5, NULL));
	TAP_CHECK_INT(rvk_syncmap_sweep(m, INT64_MAX - 1), 4);
	TAP_CHECK_INT(rvk_syncmap_len(m), 15);     /* the RVK_NEVER ones */
	TAP_CHECK_INT(rvk_syncmap_sweep(m, INT64_MAX - 1), 0);
	rvk_syncmap_free(m);
}

TAP_TEST(evict_prefers_expired_then_soonest)
{
	rvk_syncmap_t *m = rvk_syncmap_new(8, NULL);
	rvk_syncmap_store(m, "a", 1, iv(0), 500);
	rvk_syncmap_store(m, "b", 1, iv(0), 300);
	rvk_syncmap_store(m, "c", 1, iv(0), 50);
	rvk_syncmap_store(m, "d", 1, iv(0), 400);
	TAP_CHECK(rvk_syncmap_evict(m, 100, 16));  /* c has expired */
	TAP_CHECK(!rvk_syncmap_load(m, "c", 1, NULL));
	TAP_CHECK(rvk_syncmap_evict(m, 100, 16));  /* b expires soonest */
	TAP_CHECK(!rvk_syncmap_load(m, "b", 1, NULL));
	TAP_CHECK(rvk_syncmap_load(m, "a", 1, NULL) && rvk_syncmap_load(m, "d", 1, NULL));
	TAP_CHECK_INT(rvk_syncmap_len(m), 2);
	TAP_CHECK(rvk_syncmap_evict(m, 100, 16));
	TAP_CHECK(rvk_syncmap_evict(m, 100, 16));
	TAP_CHECK(!rvk_syncmap_evict(m, 100, 16)); /* empty */
	TAP_CHECK_INT(rvk_syncmap_len(m), 0);
	rvk_syncmap_free(m);
}

static atomic_int freed[8];

static void
free_slot(void *p)
{
	int *v = p;
	atomic_fetch_add(&freed[*v], 1);
	free(v);
}

static rvk_syncmap_value_t
pv(int slot)
{
	int *p = malloc(sizeof(*p));
	*p = slot;
	return (rvk_syncmap_value_t){ .ptr = p };
}

TAP_TEST(owned_values_are_freed_once_after_grace_period)
{
	for (int i = 0; i < 8; i++)
		atomic_store(&freed[i], 0);
	rvk_syncmap_t *m = rvk_syncmap_new(8, free_slot);
	rvk_syncmap_entry_t e;
	rvk_syncmap_store(m, "a", 1, pv(0), 1);
	rvk_syncmap_store(m, "a", 1, pv(1), 1);      /* frees slot 0 */
	rvk_syncmap_value_t mine = pv(2);
	TAP_CHECK(rvk_syncmap_load_or_store(m, "a", 1, mine, 1, NULL));
	free(mine.ptr);                                /* not taken */
	rvk_rcu_read_lock();
	TAP_CHECK(rvk_syncmap_load(m, "a", 1, &e) && *(int *)e.value.ptr == 1);
	TAP_CHECK(rvk_syncmap_load_and_delete(m, "a", 1, &e));
	/* Still inside the read section: the value may be used. */
	TAP_CHECK_INT(*(int *)e.value.ptr, 1);
	rvk_rcu_read_unlock();
	rvk_syncmap_store(m, "b", 1, pv(3), 5);
	rvk_syncmap_store(m, "c", 1, pv(4), 50);
	TAP_CHECK_INT(rvk_syncmap_sweep(m, 10), 1);   /* frees slot 3 */
	rvk_rcu_barrier();
	TAP_CHECK_INT(atomic_load(&freed[0]), 1);
	TAP_CHECK_INT(atomic_load(&freed[1]), 1);
	TAP_CHECK_INT(atomic_load(&freed[3]), 1);
	TAP_CHECK_INT(atomic_load(&freed[4]), 0);
	rvk_syncmap_free(m);                           /* frees slot 4 */
	TAP_CHECK_INT(atomic_load(&freed[4]), 1);
	TAP_CHECK_INT(atomic_load(&freed[2]), 0);
}

TAP_TEST(grows_far_beyond_presize)
{
	/* Presized for 16; maintain must take it to the population. Lookups
	 * stay correct whatever the bucket count: this checks correctness, the
	 * speed is bench/map's job. */
	rvk_syncmap_t *m = rvk_syncmap_new(16, NULL);
	int n = 200000, found = 0;
	char k[32];
	for (int i = 0; i < n; i++) {
		int l = snprintf(k, sizeof(k), "grow-%d", i);
		rvk_syncmap_store(m, k, (size_t)l, iv(i), RVK_NEVER);
		if (i % 50000 == 0)
			rvk_syncmap_maintain(m);
	}
	TAP_CHECK_INT(rvk_syncmap_sweep(m, 0), 0);
	for (int i = 0; i < n; i++) {
		rvk_syncmap_entry_t e;
		int l = snprintf(k, sizeof(k), "grow-%d", i);
		found += rvk_syncmap_load(m, k, (size_t)l, &e) && e.value.i64 == i;
	}
	TAP_CHECK_INT(found, n);
	TAP_CHECK_INT(rvk_syncmap_len(m), n);
	/* Shrink path: delete nearly everything, maintain, still correct. */
	for (int i = 10; i < n; i++) {
		int l = snprintf(k, sizeof(k), "grow-%d", i);
		rvk_syncmap_delete(m, k, (size_t)l);
	}
	rvk_syncmap_maintain(m);
	TAP_CHECK_INT(rvk_syncmap_len(m), 10);
	TAP_CHECK(rvk_syncmap_load(m, "grow-9", 6, NULL));
	rvk_syncmap_free(m);
}

/* Counts the values a map frees (free_at_exit_leaves_entries_to_the_kernel). */
static atomic_size_t exit_freed;

static void
count_free(void *p)
{
	atomic_fetch_add(&exit_freed, 1);
	free(p);
}

/*
 * rvk_syncmap_free_at_exit: the cost of a stop in entries freed one by one,
 * counted twice (its return and the map's own free_value calls), not timed.
 * A build without a sanitizer frees none of 100,000 (the kernel takes
 * them at exit: what made a stop with 10M revocations take 92 s); a
 * sanitizer build frees every one, and LSan then reports any it missed.
 */
TAP_TEST(free_at_exit_leaves_entries_to_the_kernel)
{
	enum { N = 100000 };
	atomic_store(&exit_freed, 0);
	rvk_syncmap_t *m = rvk_syncmap_new(1024, count_free);
	rvk_syncmap_t *in = rvk_syncmap_new(1024, NULL);
	char key[32];
	for (int i = 0; i < N; i++) {
		int len = snprintf(key, sizeof(key), "jti-%d", i);
		int *v = malloc(sizeof(*v));
		*v = i;
		rvk_syncmap_store(m, key, (size_t)len, (rvk_syncmap_value_t){ .ptr = v },
		                  RVK_NEVER);
		rvk_syncmap_store(in, key, (size_t)len, iv(i), RVK_NEVER);
		if (i % 10000 == 0) {
			rvk_syncmap_maintain(m);
			rvk_syncmap_maintain(in);
		}
	}
	rvk_syncmap_maintain(m);
	rvk_syncmap_maintain(in);
	TAP_CHECK_INT(rvk_syncmap_len(m), N);
	size_t want = RVK_SYNCMAP_EXIT_FREES ? N : 0;
	TAP_CHECK_INT(rvk_syncmap_free_at_exit(m), want);
	TAP_CHECK_INT(atomic_load(&exit_freed), want);
	TAP_CHECK_INT(rvk_syncmap_free_at_exit(in), want);
	TAP_CHECK_INT(rvk_syncmap_free_at_exit(NULL), 0);
}

int
main(void)
{
	int rc = tap_main(TAP_LIST(siphash_matches_reference_vectors,
	                           siphash_random_keys_differ, store_load_replace_len,
	                           keys_are_bytes_not_strings, load_or_store,
	                           load_and_delete_and_delete, delete_if_checks_the_entry,
	                           range_visits_each_entry_once_and_stops,
	                           delete_where_and_sweep, evict_prefers_expired_then_soonest,
	                           owned_values_are_freed_once_after_grace_period,
	                           grows_far_beyond_presize,
	                           free_at_exit_leaves_entries_to_the_kernel));
	rvk_rcu_barrier();
	return rc;
}
