/*
 * syncmap.c - see syncmap.h for the contract.
 *
 * A node is allocated once per store and never changed after it is
 * published: a store of an existing key publishes a new node with
 * cds_lfht_add_replace and retires the old one with call_rcu. So a reader
 * never sees a torn entry, and "remove this node only if it is still the
 * one I judged" (sweep, delete_if, evict) is simply cds_lfht_del on that
 * node: it fails once a replace or a delete has retired it.
 *
 * Owned-pointer maps put the free_value function in an 8-byte prefix before
 * the node, so the call_rcu callback finds it without a pointer back to the
 * map (which may be gone by then) and inline maps do not pay for it.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "cache/siphash.h"
#include "cache/syncmap.h"

struct node {
	struct cds_lfht_node lfht;
	rvk_rcu_head_t rcu;
	int64_t expires_at;
	rvk_syncmap_value_t value;
	uint32_t key_len;
	unsigned char key[];
};

typedef void (*free_value_fn)(void *);

/*
 * ThreadSanitizer cannot see liburcu 0.13's ordering (inline-asm cmpxchg in
 * cds_lfht, rcu_dereference as a volatile load). Publishing a node is a
 * release of everything written before it (the node and the value it
 * points to) and finding one is the matching acquire: say so, so TSan
 * checks everything else. The grace period before a free is left to
 * tests/unit/cache/tsan.supp. No-ops in other builds.
 */
#if defined(__SANITIZE_THREAD__)
#define TSAN_ANNOTATE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_ANNOTATE 1
#endif
#endif
#ifdef TSAN_ANNOTATE
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define PUBLISHED(n) __tsan_release(n)
#define OBSERVED(n) __tsan_acquire(n)
#else
#define PUBLISHED(n) ((void)(n))
#define OBSERVED(n) ((void)(n))
#endif

/* Owned-pointer maps: the node lives at offset PREFIX of its allocation. */
#define PREFIX sizeof(free_value_fn)

struct rvk_syncmap {
	struct cds_lfht *ht;
	void (*free_value)(void *);
	unsigned char seed[RVK_SIPHASH_KEY_LEN];
	atomic_size_t count;
	unsigned long min_size;       /* the presize; never resized below */
	atomic_ulong last_size;       /* the last size we set */
	atomic_flag resizing;         /* one maintainer at a time */
};

struct lookup_key {
	const void *p;
	size_t len;
};

static int
match(struct cds_lfht_node *ln, const void *arg)
{
	struct node *n = caa_container_of(ln, struct node, lfht);
	const struct lookup_key *k = arg;
	OBSERVED(n);
	return n->key_len == k->len && memcmp(n->key, k->p, k->len) == 0;
}

static unsigned long
hash_of(const rvk_syncmap_t *m, const void *key, size_t len)
{
	return (unsigned long)rvk_siphash(m->seed, key, len);
}

static unsigned long
next_pow2(size_t n)
{
	unsigned long p = 1;
	while (p < n && p < (1UL << 62))
		p <<= 1;
	return p;
}

static struct node *
node_new(const rvk_syncmap_t *m, const void *key, size_t len,
         rvk_syncmap_value_t value, int64_t expires_at)
{
	RVK_REQUIRE(len <= RVK_SYNCMAP_MAX_KEY);
	size_t size = offsetof(struct node, key) + len;
	struct node *n;
	if (m->free_value) {
		char *base = rvk_malloc(PREFIX + size);
		memcpy(base, &m->free_value, PREFIX);
		n = (struct node *)(void *)(base + PREFIX);
	} else {
		n = rvk_malloc(size);
	}
	cds_lfht_node_init(&n->lfht);
	n->expires_at = expires_at;
	n->value = value;
	n->key_len = (uint32_t)len;
	if (len)
		memcpy(n->key, key, len);
	PUBLISHED(n);
	return n;
}

/* Frees a node that was never published; the value stays the caller's. */
static void
node_discard(const rvk_syncmap_t *m, struct node *n)
{
	free(m->free_value ? (void *)((char *)n - PREFIX) : (void *)n);
}

static void
free_inline_cb(rvk_rcu_head_t *h)
{
	struct node *n = caa_container_of(h, struct node, rcu);
	OBSERVED(n);
	free(n);
}

static void
free_owned_cb(rvk_rcu_head_t *h)
{
	struct node *n = caa_container_of(h, struct node, rcu);
	char *base = (char *)n - PREFIX;
	OBSERVED(n);
	free_value_fn fn;
	memcpy(&fn, base, PREFIX);
	fn(n->value.ptr);
	free(base);
}

/* Retires a node that cds_lfht no longer holds (del or replace succeeded). */
static void
node_retire(rvk_syncmap_t *m, struct node *n)
{
	rvk_rcu_call(&n->rcu, m->free_value ? free_owned_cb : free_inline_cb);
}

static void
fill(rvk_syncmap_entry_t *out, const struct node *n, bool with_key)
{
	if (!out)
		return;
	out->key = with_key ? n->key : NULL;
	out->key_len = with_key ? n->key_len : 0;
	out->value = n->value;
	out->expires_at = n->expires_at;
}

rvk_syncmap_t *
rvk_syncmap_new(size_t expected, void (*free_value)(void *))
{
	rvk_rcu_thread_online();
	rvk_syncmap_t *m = rvk_calloc(1, sizeof(*m));
	m->free_value = free_value;
	rvk_siphash_random_key(m->seed);
	m->min_size = next_pow2(expected < 16 ? 16 : expected);
	atomic_init(&m->count, 0);
	atomic_init(&m->last_size, m->min_size);
	atomic_flag_clear(&m->resizing);
	m->ht = cds_lfht_new_flavor(m->min_size, m->min_size, 0,
	                            CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
	                            RVK_RCU_FLAVOR, NULL);
	RVK_REQUIRE(m->ht != NULL);
	return m;
}

void
rvk_syncmap_free(rvk_syncmap_t *m)
{
	if (!m)
		return;
	/* Deferred frees of this map's nodes run now, while values are valid. */
	rvk_rcu_barrier();
	size_t cap = 64, n = 0;
	struct node **all = rvk_malloc(cap * sizeof(*all));
	struct cds_lfht_iter it;
	struct node *pos;
	rvk_rcu_read_lock();
	cds_lfht_for_each_entry(m->ht, &it, pos, lfht) {
		if (cds_lfht_del(m->ht, &pos->lfht) != 0)
			continue;
		if (n == cap) {
			cap *= 2;
			all = rvk_realloc(all, cap * sizeof(*all));
		}
		all[n++] = pos;
	}
	rvk_rcu_read_unlock();
	RVK_REQUIRE(cds_lfht_destroy(m->ht, NULL) == 0);
	/* No reader is left (Requires), so no grace period is needed. */
	for (size_t i = 0; i < n; i++) {
		if (m->free_value)
			m->free_value(all[i]->value.ptr);
		node_discard(m, all[i]);
	}
	free(all);
	free(m);
}

/* Requires: read section held. Returns: the node for key, or NULL. */
static struct node *
find(rvk_syncmap_t *m, const void *key, size_t len, unsigned long hash)
{
	struct lookup_key k = { key, len };
	struct cds_lfht_iter it;
	cds_lfht_lookup(m->ht, hash, match, &k, &it);
	struct cds_lfht_node *ln = cds_lfht_iter_get_node(&it);
	return ln ? caa_container_of(ln, struct node, lfht) : NULL;
}

bool
rvk_syncmap_load(rvk_syncmap_t *m, const void *key, size_t key_len,
                 rvk_syncmap_entry_t *out)
{
	unsigned long h = hash_of(m, key, key_len);
	rvk_rcu_read_lock();
	struct node *n = find(m, key, key_len, h);
	if (n)
		fill(out, n, false);
	rvk_rcu_read_unlock();
	return n != NULL;
}

bool
rvk_syncmap_store(rvk_syncmap_t *m, const void *key, size_t key_len,
                  rvk_syncmap_value_t value, int64_t expires_at)
{
	unsigned long h = hash_of(m, key, key_len);
	struct node *n = node_new(m, key, key_len, value, expires_at);
	struct lookup_key k = { key, key_len };
	rvk_rcu_read_lock();
	struct cds_lfht_node *old = cds_lfht_add_replace(m->ht, h, match, &k, &n->lfht);
	if (old)
		node_retire(m, caa_container_of(old, struct node, lfht));
	rvk_rcu_read_unlock();
	if (!old)
		atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	return old == NULL;
}

bool
rvk_syncmap_load_or_store(rvk_syncmap_t *m, const void *key, size_t key_len,
                          rvk_syncmap_value_t value, int64_t expires_at,
                          rvk_syncmap_entry_t *actual)
{
	unsigned long h = hash_of(m, key, key_len);
	bool loaded;
	rvk_rcu_read_lock();
	/* Fast path: a hit costs no allocation. */
	struct node *cur = find(m, key, key_len, h);
	if (cur) {
		fill(actual, cur, false);
		rvk_rcu_read_unlock();
		return true;
	}
	struct node *n = node_new(m, key, key_len, value, expires_at);
	struct lookup_key k = { key, key_len };
	struct cds_lfht_node *got = cds_lfht_add_unique(m->ht, h, match, &k, &n->lfht);
	loaded = got != &n->lfht;
	if (loaded)
		fill(actual, caa_container_of(got, struct node, lfht), false);
	rvk_rcu_read_unlock();
	if (loaded)
		node_discard(m, n);     /* never published: no grace period */
	else
		atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	return loaded;
}

/* Requires: read section held. Removes node n if it is still in the table. */
static bool
del_node(rvk_syncmap_t *m, struct node *n)
{
	if (cds_lfht_del(m->ht, &n->lfht) != 0)
		return false;
	atomic_fetch_sub_explicit(&m->count, 1, memory_order_relaxed);
	node_retire(m, n);
	return true;
}

bool
rvk_syncmap_load_and_delete(rvk_syncmap_t *m, const void *key, size_t key_len,
                            rvk_syncmap_entry_t *out)
{
	unsigned long h = hash_of(m, key, key_len);
	bool done = false;
	rvk_rcu_read_lock();
	/* A failed del means a concurrent store replaced the node (retry on
	 * the new one) or a concurrent delete won (then find sees nothing). */
	for (struct node *n; !done && (n = find(m, key, key_len, h)) != NULL;) {
		if (del_node(m, n)) {
			fill(out, n, false);
			done = true;
		}
	}
	rvk_rcu_read_unlock();
	return done;
}

bool
rvk_syncmap_delete(rvk_syncmap_t *m, const void *key, size_t key_len)
{
	return rvk_syncmap_load_and_delete(m, key, key_len, NULL);
}

bool
rvk_syncmap_delete_if(rvk_syncmap_t *m, const void *key, size_t key_len,
                      rvk_syncmap_fn pred, void *arg)
{
	unsigned long h = hash_of(m, key, key_len);
	bool done = false;
	rvk_rcu_read_lock();
	struct node *n = find(m, key, key_len, h);
	if (n) {
		rvk_syncmap_entry_t e;
		fill(&e, n, true);
		done = pred(&e, arg) && del_node(m, n);
	}
	rvk_rcu_read_unlock();
	return done;
}

void
rvk_syncmap_range(rvk_syncmap_t *m, rvk_syncmap_fn fn, void *arg)
{
	struct cds_lfht_iter it;
	struct node *pos;
	rvk_syncmap_entry_t e;
	rvk_rcu_read_lock();
	cds_lfht_for_each_entry(m->ht, &it, pos, lfht) {
		OBSERVED(pos);
		fill(&e, pos, true);
		if (!fn(&e, arg))
			break;
	}
	rvk_rcu_read_unlock();
}

size_t
rvk_syncmap_delete_where(rvk_syncmap_t *m, rvk_syncmap_fn pred,
                         rvk_syncmap_fn deleted, void *arg)
{
	struct cds_lfht_iter it;
	struct node *pos;
	rvk_syncmap_entry_t e;
	size_t removed = 0;
	rvk_rcu_read_lock();
	/* Deleting the current node during the walk is allowed by cds_lfht. */
	cds_lfht_for_each_entry(m->ht, &it, pos, lfht) {
		OBSERVED(pos);
		fill(&e, pos, true);
		if (pred(&e, arg) && del_node(m, pos)) {
			removed++;
			if (deleted)
				deleted(&e, arg);
		}
	}
	rvk_rcu_read_unlock();
	return removed;
}

bool
rvk_syncmap_evict(rvk_syncmap_t *m, int64_t now, unsigned sample)
{
	struct cds_lfht_iter it;
	struct node *pos, *victim = NULL;
	unsigned seen = 0;
	bool done = false;
	rvk_rcu_read_lock();
	cds_lfht_for_each_entry(m->ht, &it, pos, lfht) {
		OBSERVED(pos);
		if (pos->expires_at <= now) {
			victim = pos;
			break;
		}
		if (!victim || pos->expires_at < victim->expires_at)
			victim = pos;
		if (++seen >= sample)
			break;
	}
	if (victim)
		done = del_node(m, victim);
	rvk_rcu_read_unlock();
	return done;
}

size_t
rvk_syncmap_len(rvk_syncmap_t *m)
{
	return atomic_load_explicit(&m->count, memory_order_relaxed);
}

static bool
is_expired(const rvk_syncmap_entry_t *e, void *arg)
{
	return e->expires_at <= *(const int64_t *)arg;
}

size_t
rvk_syncmap_sweep(rvk_syncmap_t *m, int64_t now)
{
	size_t n = rvk_syncmap_delete_where(m, is_expired, NULL, &now);
	rvk_syncmap_maintain(m);
	return n;
}

void
rvk_syncmap_maintain(rvk_syncmap_t *m)
{
	size_t count = rvk_syncmap_len(m);
	unsigned long last = atomic_load(&m->last_size);
	unsigned long target = next_pow2(count);
	if (target < m->min_size)
		target = m->min_size;
	bool grow = count > 2 * (size_t)last;
	bool shrink = last > m->min_size && (size_t)count < last / 8;
	if (!grow && !shrink)
		return;
	if (atomic_flag_test_and_set(&m->resizing))
		return;         /* another thread is on it */
	rvk_rcu_thread_online();
	/* Synchronous: also clears a stuck lazy resize (DEPENDENCIES.md §6). */
	cds_lfht_resize(m->ht, target);
	atomic_store(&m->last_size, target);
	atomic_flag_clear(&m->resizing);
}
