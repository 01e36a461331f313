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
 * Eviction policy: take the EVICT_SAMPLE oldest puts from a ring of the
 * puts made (FIFO, mutex, touched only by puts, i.e. misses, never by a
 * hit); evict the first expired one, else the one that expires soonest (it
 * has the least cache life left), and put the others back at the ring's
 * tail. Sampled eviction in the spirit of Redis's approximated LRU, with no
 * shared recency state written on the read path: a hit writes nothing.
 * Each ring record carries the expiry and the value pointer of its put, so
 * choosing the victim needs no lookup (an entry's expiry never changes
 * while it is in the map); only the victim is removed, with delete_if on
 * that value. A record whose entry left by another way (sweep, drop_if, a
 * replaced duplicate) fails that removal and is dropped, and the next
 * candidate of the sample is tried. (A lookup of each of the 16 sampled
 * digests, each a cache-missing hash-table walk, was ~7% of the CPU of an
 * RS256 cache miss: docs/BENCHMARKS.md "Miss path".) Only when the ring
 * gives no victim does a put fall back to rvk_syncmap_evict, which samples
 * the first entries in the table's order: that walk starts at bucket 0 and
 * crosses the dummy node of every emptied bucket, and as evictions empty
 * the front of the table it grew to ~100 us per miss on a full
 * 10,000-entry cache (DECISIONS D14). If a few attempts
 * cannot free a slot (every slot is a put in flight), the put gives up and
 * frees its value: a cache may decline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>


#include "base/check.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "base/sha256.h"
#include "cache/syncmap.h"
#include "cache/vcache.h"

#define EVICT_SAMPLE 16
#define RESERVE_TRIES 8

/* One put, as the ring remembers it. value identifies the entry (compared,
 * never dereferenced: it may be freed already). */
struct ring_rec {
	unsigned char digest[RVK_VCACHE_DIGEST_LEN];
	const void *value;
	int64_t expires_at;
};

struct rvk_vcache {
	rvk_syncmap_t *map;           /* NULL when disabled */
	void (*free_value)(void *);
	size_t max;
	atomic_size_t reserved;
	/* The eviction ring: puts in order; cap = 2 * max, so stale records
	 * rarely push a live one out (that one is then left to the fallback,
	 * the sweep or its expiry). */
	pthread_mutex_t ring_mu;
	struct ring_rec *ring;
	size_t ring_cap, ring_head, ring_len;
};

rvk_vcache_t *
rvk_vcache_new(size_t max_entries, void (*free_value)(void *))
{
	RVK_REQUIRE(free_value != NULL);
	rvk_vcache_t *c = rvk_calloc(1, sizeof(*c));
	c->free_value = free_value;
	c->max = max_entries;
	atomic_init(&c->reserved, 0);
	pthread_mutex_init(&c->ring_mu, NULL);
	if (max_entries) {
		c->map = rvk_syncmap_new(max_entries, free_value);
		c->ring_cap = 2 * max_entries;
		c->ring = rvk_calloc(c->ring_cap, sizeof(*c->ring));
	}
	return c;
}

void
rvk_vcache_free(rvk_vcache_t *c)
{
	if (!c)
		return;
	rvk_syncmap_free(c->map);
	pthread_mutex_destroy(&c->ring_mu);
	free(c->ring);
	free(c);
}

void
rvk_vcache_digest(const char *token, size_t len,
                  unsigned char out[RVK_VCACHE_DIGEST_LEN])
{
	rvk_sha256(token, len, out);   /* allocates nothing (base/sha256.c) */
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

/* Requires: ring_mu held. */
static void
ring_push_locked(rvk_vcache_t *c, const struct ring_rec *r)
{
	if (c->ring_len == c->ring_cap) {       /* drop the oldest */
		c->ring_head = (c->ring_head + 1) % c->ring_cap;
		c->ring_len--;
	}
	c->ring[(c->ring_head + c->ring_len) % c->ring_cap] = *r;
	c->ring_len++;
}

static void
ring_push(rvk_vcache_t *c, const unsigned char *d, const void *value,
          int64_t expires_at)
{
	struct ring_rec r = { .value = value, .expires_at = expires_at };
	memcpy(r.digest, d, RVK_VCACHE_DIGEST_LEN);
	pthread_mutex_lock(&c->ring_mu);
	ring_push_locked(c, &r);
	pthread_mutex_unlock(&c->ring_mu);
}

static bool
same_value(const rvk_syncmap_entry_t *e, void *arg)
{
	return e->value.ptr == arg;
}

/* Returns: the index of the record to evict first among the n not yet
 * tried: the first expired one, else the one that expires soonest; n when
 * none is left. */
static size_t
pick(const struct ring_rec *sample, const bool *tried, size_t n, int64_t now)
{
	size_t best = n;
	for (size_t i = 0; i < n; i++) {
		if (tried[i])
			continue;
		if (sample[i].expires_at <= now)
			return i;
		if (best == n || sample[i].expires_at < sample[best].expires_at)
			best = i;
	}
	return best;
}

/* One eviction from the ring's oldest records (the top of this file).
 * Returns: true when it removed an entry. */
static bool
ring_evict(rvk_vcache_t *c, int64_t now)
{
	struct ring_rec sample[EVICT_SAMPLE];
	size_t n = 0;
	pthread_mutex_lock(&c->ring_mu);
	while (n < EVICT_SAMPLE && c->ring_len) {
		sample[n++] = c->ring[c->ring_head];
		c->ring_head = (c->ring_head + 1) % c->ring_cap;
		c->ring_len--;
	}
	pthread_mutex_unlock(&c->ring_mu);

	/* tried: evicted, or its entry had left already: not put back. */
	bool tried[EVICT_SAMPLE] = { false };
	bool done = false;
	rvk_rcu_read_lock();
	for (size_t v; !done && (v = pick(sample, tried, n, now)) < n;) {
		tried[v] = true;
		/* The value pointer is only compared, never dereferenced. */
		done = rvk_syncmap_delete_if(c->map, sample[v].digest, RVK_VCACHE_DIGEST_LEN,
		                             same_value, (void *)sample[v].value);
	}
	rvk_rcu_read_unlock();
	pthread_mutex_lock(&c->ring_mu);
	for (size_t i = 0; i < n; i++)
		if (!tried[i])
			ring_push_locked(c, &sample[i]);
	pthread_mutex_unlock(&c->ring_mu);
	return done;
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
		if (ring_evict(c, now) || rvk_syncmap_evict(c->map, now, EVICT_SAMPLE))
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

bool
rvk_vcache_put(rvk_vcache_t *c, const unsigned char digest[RVK_VCACHE_DIGEST_LEN],
               void *value, int64_t expires_at, int64_t now)
{
	if (!c->map || expires_at <= now || !reserve(c, now)) {
		c->free_value(value);   /* never published: free now */
		return false;
	}
	rvk_syncmap_value_t v = { .ptr = value };
	for (int attempt = 0; attempt < 2; attempt++) {
		rvk_syncmap_entry_t cur;
		if (!rvk_syncmap_load_or_store(c->map, digest, RVK_VCACHE_DIGEST_LEN,
		                               v, expires_at, &cur)) {
			ring_push(c, digest, value, expires_at);
			return true;    /* stored; the entry holds the slot */
		}
		if (cur.expires_at > now)
			break;          /* another thread stored it first */
		/* An expired entry is in the way: remove that node, try again. */
		if (rvk_syncmap_delete_if(c->map, digest, RVK_VCACHE_DIGEST_LEN,
		                          expired_pred, &now))
			release(c, 1);
	}
	release(c, 1);
	c->free_value(value);
	return false;
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
