/* Unit tests of cache/vcache: digest, hits, TTL, hard cap and eviction,
 * drop_if, sweep, and that every value is freed exactly once. */
#include <stdatomic.h>

#include "base/rcu.h"
#include "cache/vcache.h"
#include "tests/support/tap.h"

struct val {
	int id;
	int tag;
};

static atomic_int frees;

static void
free_val(void *p)
{
	atomic_fetch_add(&frees, 1);
	free(p);
}

static struct val *
mk(int id, int tag)
{
	struct val *v = malloc(sizeof(*v));
	v->id = id;
	v->tag = tag;
	return v;
}

static void
dig(int id, unsigned char out[RVK_VCACHE_DIGEST_LEN])
{
	char tok[32];
	int n = snprintf(tok, sizeof(tok), "token-%d", id);
	rvk_vcache_digest(tok, (size_t)n, out);
}

/* Returns: the id of the value cached for token id at now, or -1. */
static int
get_id(rvk_vcache_t *c, int id, int64_t now)
{
	unsigned char d[RVK_VCACHE_DIGEST_LEN];
	dig(id, d);
	rvk_rcu_read_lock();
	struct val *v = rvk_vcache_get(c, d, now);
	int r = v ? v->id : -1;
	rvk_rcu_read_unlock();
	return r;
}

static void
put(rvk_vcache_t *c, int id, int tag, int64_t exp, int64_t now)
{
	unsigned char d[RVK_VCACHE_DIGEST_LEN];
	dig(id, d);
	rvk_vcache_put(c, d, mk(id, tag), exp, now);
}

TAP_TEST(digest_is_sha256_of_the_whole_token)
{
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	unsigned char d[32];
	rvk_vcache_digest("abc", 3, d);
	TAP_CHECK(memcmp(d, abc, 32) == 0);
}

TAP_TEST(disabled_cache_keeps_nothing)
{
	atomic_store(&frees, 0);
	rvk_vcache_t *c = rvk_vcache_new(0, free_val);
	put(c, 1, 0, 100, 10);
	TAP_CHECK_INT(atomic_load(&frees), 1);
	TAP_CHECK_INT(get_id(c, 1, 10), -1);
	TAP_CHECK_INT(rvk_vcache_len(c), 0);
	TAP_CHECK_INT(rvk_vcache_sweep(c, 1000), 0);
	rvk_vcache_free(c);
}

TAP_TEST(hit_until_expires_at)
{
	atomic_store(&frees, 0);
	rvk_vcache_t *c = rvk_vcache_new(10, free_val);
	put(c, 1, 0, 100, 10);
	TAP_CHECK_INT(get_id(c, 1, 10), 1);
	TAP_CHECK_INT(get_id(c, 1, 99), 1);
	TAP_CHECK_INT(get_id(c, 1, 100), -1);
	TAP_CHECK_INT(get_id(c, 2, 10), -1);
	/* Already expired at put: not kept, freed. */
	put(c, 3, 0, 50, 50);
	TAP_CHECK_INT(get_id(c, 3, 10), -1);
	TAP_CHECK_INT(rvk_vcache_len(c), 1);
	rvk_rcu_barrier();
	TAP_CHECK_INT(atomic_load(&frees), 1);
	rvk_vcache_free(c);
	TAP_CHECK_INT(atomic_load(&frees), 2);
}

TAP_TEST(first_put_wins_unless_expired)
{
	atomic_store(&frees, 0);
	rvk_vcache_t *c = rvk_vcache_new(10, free_val);
	unsigned char d[RVK_VCACHE_DIGEST_LEN];
	dig(1, d);
	rvk_vcache_put(c, d, mk(100, 0), 100, 10);
	rvk_vcache_put(c, d, mk(200, 0), 100, 10);     /* loses, freed now */
	TAP_CHECK_INT(atomic_load(&frees), 1);
	TAP_CHECK_INT(get_id(c, 1, 10) == -1 ? -1 : 0, 0);
	rvk_rcu_read_lock();
	struct val *v = rvk_vcache_get(c, d, 10);
	TAP_CHECK(v && v->id == 100);
	rvk_rcu_read_unlock();
	/* At 150 the first entry has expired: a new put replaces it. */
	rvk_vcache_put(c, d, mk(300, 0), 200, 150);
	rvk_rcu_read_lock();
	v = rvk_vcache_get(c, d, 150);
	TAP_CHECK(v && v->id == 300);
	rvk_rcu_read_unlock();
	TAP_CHECK_INT(rvk_vcache_len(c), 1);
	rvk_vcache_free(c);
	TAP_CHECK_INT(atomic_load(&frees), 3);
}

TAP_TEST(hard_cap_is_never_exceeded)
{
	atomic_store(&frees, 0);
	rvk_vcache_t *c = rvk_vcache_new(100, free_val);
	size_t max_len = 0;
	for (int i = 0; i < 1000; i++) {
		put(c, i, 0, 1000 + i, 10);
		if (rvk_vcache_len(c) > max_len)
			max_len = rvk_vcache_len(c);
	}
	TAP_CHECK_INT(max_len, 100);
	TAP_CHECK_INT(rvk_vcache_len(c), 100);
	int hits = 0;
	for (int i = 0; i < 1000; i++)
		hits += get_id(c, i, 10) == i;
	TAP_CHECK_INT(hits, 100);
	/* The newest put is never its own victim. */
	TAP_CHECK_INT(get_id(c, 999, 10), 999);
	rvk_rcu_barrier();
	TAP_CHECK_INT(atomic_load(&frees), 900);
	rvk_vcache_free(c);
	TAP_CHECK_INT(atomic_load(&frees), 1000);
}

TAP_TEST(eviction_takes_an_expired_entry_first)
{
	rvk_vcache_t *c = rvk_vcache_new(4, free_val);
	put(c, 1, 0, 1000, 100);
	put(c, 2, 0, 150, 100);
	put(c, 3, 0, 1000, 100);
	put(c, 4, 0, 900, 100);
	TAP_CHECK_INT(rvk_vcache_len(c), 4);
	put(c, 5, 0, 1000, 200);          /* 2 expired at 150 */
	TAP_CHECK_INT(rvk_vcache_len(c), 4);
	TAP_CHECK_INT(get_id(c, 1, 200), 1);
	TAP_CHECK_INT(get_id(c, 3, 200), 3);
	TAP_CHECK_INT(get_id(c, 4, 200), 4);
	TAP_CHECK_INT(get_id(c, 5, 200), 5);
	put(c, 6, 0, 1000, 200);          /* none expired: 4 expires soonest */
	TAP_CHECK_INT(get_id(c, 4, 200), -1);
	TAP_CHECK_INT(get_id(c, 6, 200), 6);
	TAP_CHECK_INT(rvk_vcache_len(c), 4);
	rvk_vcache_free(c);
}

static int
tag_is(const void *value, void *arg)
{
	return ((const struct val *)value)->tag == *(int *)arg;
}

TAP_TEST(drop_if_and_sweep_free_their_slots)
{
	atomic_store(&frees, 0);
	rvk_vcache_t *c = rvk_vcache_new(20, free_val);
	for (int i = 0; i < 20; i++)
		put(c, i, i % 2, i < 10 ? 50 : 500, 10);
	int odd = 1;
	TAP_CHECK_INT(rvk_vcache_drop_if(c, tag_is, &odd), 10);
	TAP_CHECK_INT(rvk_vcache_len(c), 10);
	TAP_CHECK_INT(get_id(c, 3, 10), -1);
	TAP_CHECK_INT(get_id(c, 4, 10), 4);
	/* Even 0..8 expire at 50. */
	TAP_CHECK_INT(rvk_vcache_sweep(c, 49), 0);
	TAP_CHECK_INT(rvk_vcache_sweep(c, 50), 5);
	TAP_CHECK_INT(rvk_vcache_len(c), 5);
	rvk_rcu_barrier();
	TAP_CHECK_INT(atomic_load(&frees), 15);
	/* The freed slots are reusable without evicting the 5 live entries. */
	for (int i = 100; i < 115; i++)
		put(c, i, 0, 500, 60);
	TAP_CHECK_INT(rvk_vcache_len(c), 20);
	int live = 0;
	for (int i = 10; i < 20; i += 2)
		live += get_id(c, i, 60) == i;
	TAP_CHECK_INT(live, 5);
	rvk_vcache_free(c);
	TAP_CHECK_INT(atomic_load(&frees), 35);
}

/* The eviction ring remembers each put's expiry: records of entries that
 * left another way (swept: expired; dropped: the soonest to expire) come
 * first by the policy, fail their removal and are skipped, and the live
 * entry that expires soonest is evicted. */
TAP_TEST(eviction_skips_entries_gone_another_way)
{
	rvk_vcache_t *c = rvk_vcache_new(4, free_val);
	put(c, 1, 0, 50, 10);
	put(c, 2, 1, 500, 10);
	put(c, 3, 0, 600, 10);
	put(c, 4, 0, 700, 10);
	TAP_CHECK_INT(rvk_vcache_sweep(c, 60), 1);
	int one = 1;
	TAP_CHECK_INT(rvk_vcache_drop_if(c, tag_is, &one), 1);
	put(c, 5, 0, 800, 60);
	put(c, 6, 0, 900, 60);
	TAP_CHECK_INT(rvk_vcache_len(c), 4);
	put(c, 7, 0, 1000, 60);
	TAP_CHECK_INT(rvk_vcache_len(c), 4);
	TAP_CHECK_INT(get_id(c, 3, 60), -1);
	for (int i = 4; i <= 7; i++)
		TAP_CHECK_INT(get_id(c, i, 60), i);
	rvk_vcache_free(c);
}

int
main(void)
{
	int rc = tap_main(TAP_LIST(digest_is_sha256_of_the_whole_token,
	                           disabled_cache_keeps_nothing, hit_until_expires_at,
	                           first_put_wins_unless_expired, hard_cap_is_never_exceeded,
	                           eviction_takes_an_expired_entry_first,
	                           drop_if_and_sweep_free_their_slots,
	                           eviction_skips_entries_gone_another_way));
	rvk_rcu_barrier();
	return rc;
}
