/*
 * vcache.c - see vcache.h for the contract.
 *
 * An owned-pointer syncmap keyed by the 32-byte digest, plus a slot counter
 * that makes max_entries a hard cap under concurrent puts:
 *
 *   reserved = live entries + puts in flight,  len <= reserved <= max.
 *
 * A put first reserves a slot (compare-and-swap while reserved < max); an
 * entry keeps its slot until it is removed, and whoever removes it (evict,
 * sweep, drop_if, the expired-duplicate path) gives the slot back. A put that
 * finds the cache full evicts before it inserts, so the map never holds more
 * than max entries, not even for an instant.
 *
 * Eviction policy (rvk_syncmap_evict): look at the first 16 entries in the
 * table's order, which is the order of their keyed hashes and so random with
 * respect to age and to the tokens chosen by a client; evict the first
 * expired one, else the one that expires soonest (it has the least cache
 * life left). This is sampled eviction in the spirit of Redis's approximated
 * LRU, with no shared recency state written on the read path: a hit writes
 * nothing. If a few attempts cannot free a slot (every slot is a put in
 * flight), the put gives up and frees its value: a cache may decline.
 */
#include <stdatomic.h>
#include <stdlib.h>

/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 but still shipped,
 * and they are the only SHA-256 there that allocates nothing: SHA256() is
 * EVP_Q_digest, which per call fetches the method (a string dup and the
 * method store's lock) and allocates a context and its algctx, 3 mallocs
 * on every /auth request (bench/alloc/run.sh; EVP_DigestInit_ex2 on a
 * reused context still reallocates its algctx in OpenSSL 3.0). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "base/check.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "cache/syncmap.h"
#include "cache/vcache.h"

#define EVICT_SAMPLE 16
#define RESERVE_TRIES 8

struct rvk_vcache {
	rvk_syncmap_t *map;           /* NULL when disabled */
	void (*free_value)(void *);
	size_t max;
	atomic_size_t reserved;
};

rvk_vcache_t *
rvk_vcache_new(size_t max_entries, void (*free_value)(void *))
{
	RVK_REQUIRE(free_value != NULL);
	rvk_vcache_t *c = rvk_calloc(1, sizeof(*c));
	c->free_value = free_value;
	c->max = max_entries;
	atomic_init(&c->reserved, 0);
	if (max_entries)
		c->map = rvk_syncmap_new(max_entries, free_value);
	return c;
}

void
rvk_vcache_free(rvk_vcache_t *c)
{
	if (!c)
		return;
	rvk_syncmap_free(c->map);
	free(c);
}

void
rvk_vcache_digest(const char *token, size_t len,
                  unsigned char out[RVK_VCACHE_DIGEST_LEN])
{
	SHA256_CTX ctx;
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, token, len);
	SHA256_Final(out, &ctx);
}

void *
rvk_vcache_get(rvk_vcache_t *c, const unsigned char digest[RVK_VCACHE_DIGEST_LEN],
               int64_t now)
{
	rvk_syncmap_entry_t e;
	if (!c->map || !rvk_syncmap_load(c->map, digest, RVK_VCACHE_DIGEST_LEN, &e))
		return NULL;
	return now < e.expires_at ? e.value.ptr : NULL;
}

static void
release(rvk_vcache_t *c, size_t n)
{
	if (n)
		atomic_fetch_sub_explicit(&c->reserved, n, memory_order_relaxed);
}

/* Returns: true when a slot is reserved for one new entry. */
static bool
reserve(rvk_vcache_t *c, int64_t now)
{
	size_t n = atomic_load_explicit(&c->reserved, memory_order_relaxed);
	for (int tries = 0; tries < RESERVE_TRIES;) {
		if (n < c->max) {
			if (atomic_compare_exchange_weak_explicit(&c->reserved, &n, n + 1,
			        memory_order_relaxed, memory_order_relaxed))
				return true;
			continue;       /* n was reloaded */
		}
		tries++;
		if (rvk_syncmap_evict(c->map, now, EVICT_SAMPLE))
			release(c, 1);
		n = atomic_load_explicit(&c->reserved, memory_order_relaxed);
	}
	return false;
}

static bool
expired_pred(const rvk_syncmap_entry_t *e, void *arg)
{
	return e->expires_at <= *(const int64_t *)arg;
}

void
rvk_vcache_put(rvk_vcache_t *c, const unsigned char digest[RVK_VCACHE_DIGEST_LEN],
               void *value, int64_t expires_at, int64_t now)
{
	if (!c->map || expires_at <= now || !reserve(c, now)) {
		c->free_value(value);   /* never published: free now */
		return;
	}
	rvk_syncmap_value_t v = { .ptr = value };
	for (int attempt = 0; attempt < 2; attempt++) {
		rvk_syncmap_entry_t cur;
		if (!rvk_syncmap_load_or_store(c->map, digest, RVK_VCACHE_DIGEST_LEN,
		                               v, expires_at, &cur))
			return;         /* stored; the entry holds the slot */
		if (cur.expires_at > now)
			break;          /* another thread stored it first */
		/* An expired entry is in the way: remove that node, try again. */
		if (rvk_syncmap_delete_if(c->map, digest, RVK_VCACHE_DIGEST_LEN,
		                          expired_pred, &now))
			release(c, 1);
	}
	release(c, 1);
	c->free_value(value);
}

struct drop_arg {
	int (*drop)(const void *value, void *arg);
	void *arg;
};

static bool
drop_pred(const rvk_syncmap_entry_t *e, void *arg)
{
	const struct drop_arg *d = arg;
	return d->drop(e->value.ptr, d->arg) != 0;
}

size_t
rvk_vcache_drop_if(rvk_vcache_t *c, int (*drop)(const void *value, void *arg),
                   void *arg)
{
	if (!c->map)
		return 0;
	struct drop_arg d = { drop, arg };
	size_t n = rvk_syncmap_delete_where(c->map, drop_pred, NULL, &d);
	release(c, n);
	return n;
}

size_t
rvk_vcache_sweep(rvk_vcache_t *c, int64_t now)
{
	if (!c->map)
		return 0;
	size_t n = rvk_syncmap_sweep(c->map, now);
	release(c, n);
	return n;
}

size_t
rvk_vcache_len(rvk_vcache_t *c)
{
	return c->map ? rvk_syncmap_len(c->map) : 0;
}
