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
 * Retired nodes never go to call_rcu one by one: a call_rcu per write made
 * the writers of two threads fight over liburcu's queue and wake its thread
 * for every node, and every node was then freed on liburcu's thread into
 * the writer's malloc arena (a cross-thread free; the writer's next malloc
 * missed its tcache and took the arena path). Owned-pointer nodes go
 * through rvk_rcu_defer (batched call_rcu, base/rcu.h). Inline nodes are
 * recycled by the thread that retired them (see "Recycling" below). The
 * entry counter has a cache line of its own: bumped by every write, it sat
 * on the line every reader loads the table and hash key from. (It stays
 * one counter: per-thread stripes would make len a sum that a concurrent
 * reader can see above the true count, and vcache's cap relies on it.)
 *
 * Owned-pointer maps put the free_value function in an 8-byte prefix before
 * the node, so the call_rcu callback finds it without a pointer back to the
 * map (which may be gone by then) and inline maps do not pay for it.
 */
#include <pthread.h>
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
 * checks everything else. The grace period before a free is base/rcu.h's
 * (read unlock releases, the deferred free acquires). No-ops in other
 * builds.
 */
#define PUBLISHED(n) RVK_TSAN_RELEASE(n)
#define OBSERVED(n) RVK_TSAN_ACQUIRE(n)

/* Owned-pointer maps: the node lives at offset PREFIX of its allocation. */
#define PREFIX sizeof(free_value_fn)

struct rvk_syncmap {
	/* Read by every operation; written only at creation. */
	struct cds_lfht *ht;
	void (*free_value)(void *);
	unsigned char seed[RVK_SIPHASH_KEY_LEN];
	unsigned long min_size;       /* the presize; never resized below */
	char pad[64];                 /* keeps count off the lines above */
	atomic_size_t count;
	char pad2[64];
	atomic_ulong last_size;       /* the last size we set */
	atomic_flag resizing;         /* one maintainer at a time */
};

static void
count_add(rvk_syncmap_t *m, long d)
{
	if (d > 0)
		atomic_fetch_add_explicit(&m->count, (size_t)d, memory_order_relaxed);
	else
		atomic_fetch_sub_explicit(&m->count, (size_t)-d, memory_order_relaxed);
}

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

/*
 * Recycling (inline maps). A thread's retired nodes collect on its pool's
 * `filling` stack; every RECYCLE_BATCH of them become one batch handed to
 * call_rcu, whose callback only marks the batch done. The same thread, at a
 * later hand-over, takes the oldest done batch as its `spare` list, and
 * node_new reuses a spare node of the same key length instead of calling
 * malloc: in steady churn no node is malloc'ed or freed, and liburcu's
 * thread does one store per batch. A grace period has passed since every
 * spare node was unlinked (the batch was handed to call_rcu after), so no
 * reader holds it.
 * Memory returns without traffic: rvk_syncmap_maintain (the sweeper, every
 * second) calls pool_flush_all, which takes every thread's filling stack and
 * in-flight batches and has them freed after a grace period instead; only a
 * thread's spare lists (up to 2 * RECYCLE_BATCH nodes, owner only) stay
 * until the thread exits. A pool is freed at its thread's exit.
 * A batch's state is the hand-off between its owner, a flusher and the
 * callback: the callback sets DONE, a flusher or the exiting owner sets
 * ORPHAN; whoever comes second frees the nodes (the callback, if it sees
 * ORPHAN; the orphaner, if it sees DONE). The owner reuses only DONE
 * batches, under the pool's mutex, which flushers also hold.
 * Under ThreadSanitizer recycling is off (retired inline nodes take the
 * rvk_rcu_defer path): reuse after a grace period is ordered by liburcu's
 * membarrier, which TSan cannot see.
 */
#ifdef RVK_RCU_TSAN
#define RECYCLE 0
#else
#define RECYCLE 1
#endif
#define RECYCLE_BATCH 64
/* In-flight batches a pool keeps before it frees done ones instead of
 * keeping them for reuse: a grace period lasts 10 ms or more (liburcu's
 * call_rcu thread naps), i.e. hundreds of batches at full write speed. */
#define RECYCLE_MAX_INFLIGHT 1024

enum { B_PENDING, B_DONE, B_ORPHAN };

struct rbatch {
	rvk_rcu_head_t rcu;
	atomic_int state;
	struct rbatch *next;            /* the pool's in-flight FIFO, under mu */
	struct node *nodes;
};

struct pool {
	_Atomic(struct node *) filling; /* owner pushes (CAS), anyone takes all */
	unsigned nfill;                 /* owner only */
	struct node *spare;             /* owner only; past a grace period */
	struct node *spare_next;        /* owner only; the batch after spare */
	pthread_mutex_t mu;             /* in-flight FIFO */
	struct rbatch *oldest, *newest;
	unsigned ninflight;             /* under mu */
	struct pool *prev, *next;       /* registry, under reg_mu */
};

static __thread struct pool *tpool;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pool *reg_head;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A retired node's chain link is its rcu head's next pointer: readers never
 * look at the rcu head. */
static void
set_link(struct node *n, struct node *next)
{
	n->rcu.next.next = next ? &next->rcu.next : NULL;
}

static struct node *
link_of(const struct node *n)
{
	struct cds_wfcq_node *l = n->rcu.next.next;
	return l ? caa_container_of(caa_container_of(l, rvk_rcu_head_t, next),
	                            struct node, rcu) : NULL;
}

static void
free_nodes(struct node *list)
{
	for (struct node *next; list; list = next) {
		next = link_of(list);
		free(list);
	}
}

/* liburcu's thread, after the grace period: mark done, or free if the batch
 * was orphaned meanwhile. */
static void
rbatch_cb(rvk_rcu_head_t *h)
{
	struct rbatch *b = caa_container_of(h, struct rbatch, rcu);
	if (atomic_exchange_explicit(&b->state, B_DONE, memory_order_acq_rel) == B_ORPHAN) {
		free_nodes(b->nodes);
		free(b);
	}
}

/* Requires: registered thread. Hands list to call_rcu as a batch. */
static struct rbatch *
rbatch_start(struct node *list, int state)
{
	struct rbatch *b = rvk_malloc(sizeof(*b));
	b->nodes = list;
	b->next = NULL;
	atomic_init(&b->state, state);
	urcu_memb_call_rcu(&b->rcu, rbatch_cb);
	return b;
}

/* Requires: p->mu. Unlinks the oldest in-flight batch. */
static struct rbatch *
inflight_pop(struct pool *p)
{
	struct rbatch *b = p->oldest;
	p->oldest = b->next;
	if (!p->oldest)
		p->newest = NULL;
	p->ninflight--;
	return b;
}

/* Requires: p->mu. Orphans every in-flight batch (freed after its grace
 * period, or now if that has passed). */
static void
inflight_orphan_all(struct pool *p)
{
	while (p->oldest) {
		struct rbatch *b = inflight_pop(p);
		if (atomic_exchange_explicit(&b->state, B_ORPHAN, memory_order_acq_rel) == B_DONE) {
			free_nodes(b->nodes);
			free(b);
		}
	}
}

/* Requires: registered thread. Takes p's filling stack; orphaned batches
 * are freed by their callback. */
static void
filling_orphan(struct pool *p)
{
	struct node *list = atomic_exchange_explicit(&p->filling, NULL, memory_order_acquire);
	if (list)
		rbatch_start(list, B_ORPHAN);
}

static void
pool_exit(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&reg_mu);
	if (p->prev)
		p->prev->next = p->next;
	else
		reg_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pthread_mutex_unlock(&reg_mu);
	/* Registers again if base/rcu.c's exit handler ran first; it runs again
	 * after this one then. */
	rvk_rcu_thread_online();
	filling_orphan(p);
	pthread_mutex_lock(&p->mu);
	inflight_orphan_all(p);
	pthread_mutex_unlock(&p->mu);
	free_nodes(p->spare);
	free_nodes(p->spare_next);
	p->spare = p->spare_next = NULL;
	pthread_mutex_destroy(&p->mu);
	free(p);
	tpool = NULL;
}

static void
pool_make_key(void)
{
	RVK_REQUIRE(pthread_key_create(&pool_key, pool_exit) == 0);
}

static struct pool *
pool_get(void)
{
	if (__builtin_expect(tpool != NULL, 1))
		return tpool;
	pthread_once(&pool_once, pool_make_key);
	struct pool *p = rvk_calloc(1, sizeof(*p));
	atomic_init(&p->filling, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_lock(&reg_mu);
	p->next = reg_head;
	if (reg_head)
		reg_head->prev = p;
	reg_head = p;
	pthread_mutex_unlock(&reg_mu);
	pthread_setspecific(pool_key, p);
	tpool = p;
	return p;
}

/* Owner: starts a batch of the filling stack, and harvests done batches:
 * the oldest becomes spare_next while that is empty (two lists, so reuse
 * does not run dry between two hand-overs, and nothing is walked); beyond
 * RECYCLE_MAX_INFLIGHT they are freed. */
static void
pool_hand_over(struct pool *p)
{
	struct node *list = atomic_exchange_explicit(&p->filling, NULL, memory_order_acquire);
	struct rbatch *b = list ? rbatch_start(list, B_PENDING) : NULL;
	pthread_mutex_lock(&p->mu);
	if (b) {
		if (p->newest)
			p->newest->next = b;
		else
			p->oldest = b;
		p->newest = b;
		p->ninflight++;
	}
	while (p->oldest &&
	       atomic_load_explicit(&p->oldest->state, memory_order_acquire) == B_DONE) {
		bool take = !p->spare || !p->spare_next;
		if (!take && p->ninflight <= RECYCLE_MAX_INFLIGHT)
			break;
		struct rbatch *d = inflight_pop(p);
		if (take) {
			if (!p->spare)
				p->spare = d->nodes;
			else
				p->spare_next = d->nodes;
		} else {
			free_nodes(d->nodes);
		}
		free(d);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Any thread: the sweeper's way of returning idle threads' nodes. */
static void
pool_flush_all(void)
{
	rvk_rcu_thread_online();
	pthread_mutex_lock(&reg_mu);
	for (struct pool *p = reg_head; p; p = p->next) {
		filling_orphan(p);
		pthread_mutex_lock(&p->mu);
		inflight_orphan_all(p);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&reg_mu);
}

/* Retires an inline node (unlinked from the table, maybe still read). */
static void
recycle_retire(struct node *n)
{
	rvk_rcu_thread_online();
	struct pool *p = pool_get();
	struct node *top = atomic_load_explicit(&p->filling, memory_order_relaxed);
	do {
		set_link(n, top);
	} while (!atomic_compare_exchange_weak_explicit(&p->filling, &top, n,
	                                                memory_order_release,
	                                                memory_order_relaxed));
	if (++p->nfill >= RECYCLE_BATCH) {
		p->nfill = 0;
		pool_hand_over(p);
	}
}

/* Returns: a spare node for a key of len bytes, or NULL. */
static struct node *
recycle_take(size_t len)
{
	struct pool *p = tpool;
	if (!p || !p->spare)
		return NULL;
	struct node *n = p->spare;
	p->spare = link_of(n);
	if (!p->spare) {
		p->spare = p->spare_next;
		p->spare_next = NULL;
	}
	/* Spare nodes are cold (retired a grace period ago): fetch the next
	 * one now, so the next store does not wait for it. */
	if (p->spare) {
		__builtin_prefetch(p->spare, 1);
		__builtin_prefetch((char *)p->spare + 64, 1);
	}
	if (n->key_len == len)
		return n;
	free(n);                /* another size: this thread's own arena */
	return NULL;
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
		n = RECYCLE ? recycle_take(len) : NULL;
		if (!n)
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
	if (m->free_value)
		rvk_rcu_defer(&n->rcu, free_owned_cb);
	else if (RECYCLE)
		recycle_retire(n);
	else
		rvk_rcu_defer(&n->rcu, free_inline_cb);
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

size_t
rvk_syncmap_free_at_exit(rvk_syncmap_t *m)
{
	if (!m || !RVK_SYNCMAP_EXIT_FREES)
		return 0;
	size_t n = rvk_syncmap_len(m);
	rvk_syncmap_free(m);
	return n;
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
		count_add(m, 1);
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
		count_add(m, 1);
	return loaded;
}

/* Requires: read section held. Removes node n if it is still in the table. */
static bool
del_node(rvk_syncmap_t *m, struct node *n)
{
	if (cds_lfht_del(m->ht, &n->lfht) != 0)
		return false;
	count_add(m, -1);
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
	return rvk_syncmap_delete_where_until(m, pred, deleted, arg, NULL, NULL,
	                                      NULL);
}

size_t
rvk_syncmap_delete_where_until(rvk_syncmap_t *m, rvk_syncmap_fn pred,
                               rvk_syncmap_fn deleted, void *arg,
                               rvk_syncmap_go_on_fn go_on, void *go_arg,
                               bool *whole)
{
	struct cds_lfht_iter it;
	struct node *pos;
	rvk_syncmap_entry_t e;
	size_t removed = 0, walked = 0;
	bool ended = false;
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
		/* Between two whole entries: stopping here leaves nothing
		 * half done. */
		if (go_on && ++walked % RVK_SYNCMAP_WALK_CHUNK == 0
		    && !go_on(go_arg)) {
			ended = true;
			break;
		}
	}
	rvk_rcu_read_unlock();
	if (whole)
		*whole = !ended;
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

size_t
rvk_syncmap_buckets(rvk_syncmap_t *m)
{
	return atomic_load(&m->last_size);
}

static bool
is_expired(const rvk_syncmap_entry_t *e, void *arg)
{
	return e->expires_at <= *(const int64_t *)arg;
}

size_t
rvk_syncmap_sweep(rvk_syncmap_t *m, int64_t now)
{
	return rvk_syncmap_sweep_until(m, now, NULL, NULL);
}

size_t
rvk_syncmap_sweep_until(rvk_syncmap_t *m, int64_t now,
                        rvk_syncmap_go_on_fn go_on, void *go_arg)
{
	bool whole;
	size_t n = rvk_syncmap_delete_where_until(m, is_expired, NULL, &now,
	                                          go_on, go_arg, &whole);
	if (whole)
		rvk_syncmap_maintain(m);
	return n;
}

void
rvk_syncmap_maintain(rvk_syncmap_t *m)
{
	/* Run by the sweeper every second: nodes retired by threads that have
	 * gone quiet since reach call_rcu, so memory returns with no traffic. */
	rvk_rcu_defer_flush();
	if (RECYCLE)
		pool_flush_all();
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
	/* Synchronous: also clears a stuck lazy resize (DECISIONS D7). */
	cds_lfht_resize(m->ht, target);
	atomic_store(&m->last_size, target);
	atomic_flag_clear(&m->resizing);
}
