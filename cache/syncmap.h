/*
 * syncmap.h - a concurrent map with Go sync.Map's vocabulary, on RCU.
 *
 * Design: one liburcu lock-free resizable hash table (cds_lfht, through
 * base/rcu.h) of nodes that hold the key bytes, an expiry time and one
 * 8-byte value word. Readers take an RCU read section and never lock, block
 * or write shared memory; writers are lock-free too (add_replace,
 * add_unique, del); a removed node is freed with call_rcu after a grace
 * period, so a reader that found it may finish with it. Range walks the
 * table in a read section: it never blocks writers and is not a snapshot
 * (an entry stored or deleted during the walk may or may not be seen; an
 * entry present for the whole walk is seen exactly once).
 *
 * Deferred frees are batched per thread (cache/syncmap.c): a thread hands
 * its retired nodes to call_rcu 64 at a time, and an inline map's nodes are
 * then reused by the thread that retired them instead of being freed and
 * malloc'ed again. rvk_syncmap_maintain (hence sweep) hands every thread's
 * pending nodes over to be freed, and rvk_rcu_barrier() hands over the
 * owned-pointer ones, so with no traffic memory returns, except up to 128
 * reusable nodes per thread that wrote, freed when that thread exits.
 *
 * Values, chosen per map at creation:
 *  - inline (free_value NULL): value.i64 is an integer copied in and out; a
 *    load copies it with expires_at, so nothing outlives the read section.
 *    The revocation table keeps revoked_at here and expires_at as the
 *    entry's expiry: both times inline, no second allocation.
 *  - owned pointers (free_value set): value.ptr is owned by the map from a
 *    successful store; it is freed with free_value after a grace period once
 *    its entry is replaced or deleted. A pointer obtained from the map is
 *    valid only until the caller's enclosing RCU read section ends, so
 *    callers of load/load_and_delete/range on such maps must hold
 *    rvk_rcu_read_lock() around the call and every use of the pointer.
 *
 * Expiry: every entry has expires_at (Unix seconds, RVK_NEVER = INT64_MAX
 * for none). The map does not hide expired entries (callers decide what
 * "expired" means, e.g. with a leeway); rvk_syncmap_sweep removes them.
 *
 * Sizing: the table starts with the next power of two >= `expected`
 * buckets (never fewer allocated), with AUTO_RESIZE|ACCOUNTING, and keeps
 * its own atomic entry counter. liburcu 0.13's automatic growth can stay
 * stuck at a tiny size (DECISIONS D7), so rvk_syncmap_maintain (run by
 * rvk_syncmap_sweep) resizes explicitly when the count passes twice the last
 * size set, and back down when it falls below an eighth of it.
 *
 * Threads: every function except new/free/maintain/sweep may be called from
 * any thread, concurrently, inside or outside a read section (read
 * sections nest). rvk_syncmap_maintain and rvk_syncmap_sweep must not be
 * called inside a read section or from a call_rcu callback (cds_lfht_resize
 * waits for grace periods). Callbacks (range, delete_where) run inside a
 * read section: they must not block or call maintain/sweep.
 * Resources: with 36-byte keys, about 100-115 bytes per entry (a 88-byte
 * node in a 96-byte malloc chunk, plus one 16-byte bucket per entry when
 * sized to the population); bench/map measures it.
 * Security: keys are untrusted bytes; they are hashed with SipHash-2-4
 * under a per-map random key, so collisions cannot be aimed.
 */
#ifndef RVK_CACHE_SYNCMAP_H
#define RVK_CACHE_SYNCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RVK_SYNCMAP_EXIT_FREES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(leak_sanitizer)
#define RVK_SYNCMAP_EXIT_FREES 1
#endif
#endif
#ifndef RVK_SYNCMAP_EXIT_FREES
#define RVK_SYNCMAP_EXIT_FREES 0
#endif

typedef struct rvk_syncmap rvk_syncmap_t;

typedef union rvk_syncmap_value {
	void *ptr;      /* maps created with a free_value */
	int64_t i64;    /* inline maps */
} rvk_syncmap_value_t;

/* One entry as handed out. key/key_len are set only in callbacks (valid for
 * the call); load-style functions leave them NULL/0. */
typedef struct rvk_syncmap_entry {
	const void *key;
	size_t key_len;
	rvk_syncmap_value_t value;
	int64_t expires_at;
} rvk_syncmap_entry_t;

/* Returns true to go on (range) or to select the entry (delete_where). */
typedef bool (*rvk_syncmap_fn)(const rvk_syncmap_entry_t *e, void *arg);

/* The largest key accepted (RVK_REQUIRE): keys are identifiers, not blobs. */
#define RVK_SYNCMAP_MAX_KEY 65535

/*
 * Returns: a map presized for about `expected` entries. free_value NULL
 * makes an inline map, else values are owned pointers (see above).
 */
rvk_syncmap_t *rvk_syncmap_new(size_t expected, void (*free_value)(void *));
/* Requires: no other thread uses the map. Frees every entry and value now
 * (waits for pending deferred frees first). */
void rvk_syncmap_free(rvk_syncmap_t *m);

/*
 * At process exit, where nothing is freed in a build without a sanitizer
 * (RVK_SYNCMAP_EXIT_FREES 0): the map is left to the kernel, which takes
 * the whole address space back at once. Freeing it entry by entry walks the
 * table three times in hash order (delete, unlink, free), a cache miss per
 * step: ~1.8 us of CPU per entry, 92 s of SIGTERM-to-exit with 10M entries
 * on a loaded host (docs/BENCHMARKS.md, "Scale"), past a service manager's
 * stop timeout. Under ASan, LSan or TSan (RVK_SYNCMAP_EXIT_FREES 1) it is
 * rvk_syncmap_free, so leak checking still proves every entry freeable.
 * Requires: as rvk_syncmap_free, and the process exits after it without
 * using m or anything it points to. Returns: the entries freed one by one
 * (0 where it skips).
 */
size_t rvk_syncmap_free_at_exit(rvk_syncmap_t *m);

/* Returns: true and *out (value, expires_at) when key is present. */
bool rvk_syncmap_load(rvk_syncmap_t *m, const void *key, size_t key_len,
                      rvk_syncmap_entry_t *out);

/* Sets key to (value, expires_at), replacing any entry (its value is freed
 * after a grace period). value ownership: transferred.
 * Returns: true when the key was absent (a new entry). */
bool rvk_syncmap_store(rvk_syncmap_t *m, const void *key, size_t key_len,
                       rvk_syncmap_value_t value, int64_t expires_at);

/*
 * Returns: true ("loaded") and the existing entry in *actual (may be NULL)
 * when key is present; the map stored nothing and `value` stays the
 * caller's. false when (value, expires_at) was stored; ownership of value
 * transferred.
 */
bool rvk_syncmap_load_or_store(rvk_syncmap_t *m, const void *key, size_t key_len,
                               rvk_syncmap_value_t value, int64_t expires_at,
                               rvk_syncmap_entry_t *actual);

/* Removes key. Returns: true and the removed entry in *out (may be NULL)
 * when it was present. An owned value is still freed by the map. */
bool rvk_syncmap_load_and_delete(rvk_syncmap_t *m, const void *key,
                                 size_t key_len, rvk_syncmap_entry_t *out);
/* Returns: true when key was present and is now removed. */
bool rvk_syncmap_delete(rvk_syncmap_t *m, const void *key, size_t key_len);

/*
 * Removes the entry under key only if pred(entry, arg) is true for the node
 * found, and only if that node is still the one in the table (a concurrent
 * store or delete wins). Returns: true when it removed it.
 */
bool rvk_syncmap_delete_if(rvk_syncmap_t *m, const void *key, size_t key_len,
                           rvk_syncmap_fn pred, void *arg);

/* Calls fn for each entry until it returns false. Never blocks writers. */
void rvk_syncmap_range(rvk_syncmap_t *m, rvk_syncmap_fn fn, void *arg);

/*
 * Walks the map and removes each entry for which pred is true, node by node
 * (an entry replaced since pred judged it stays). deleted (may be NULL) is
 * called for each entry actually removed. Returns: how many were removed.
 */
size_t rvk_syncmap_delete_where(rvk_syncmap_t *m, rvk_syncmap_fn pred,
                                rvk_syncmap_fn deleted, void *arg);

/*
 * A walk that can be ended early (the sweeper's stop, service/sweeper.h):
 * go_on(go_arg) is asked after every RVK_SYNCMAP_WALK_CHUNK entries walked,
 * and the walk returns as soon as it answers false, so how long a stop
 * waits does not grow with the table. Each removal is whole (one node
 * unlinked, its deleted callback run) or not made: an early end only leaves
 * entries for the next walk. go_on runs inside the walk's read section: it
 * must not block for long or call maintain/sweep.
 */
#define RVK_SYNCMAP_WALK_CHUNK 4096
typedef bool (*rvk_syncmap_go_on_fn)(void *go_arg);

/*
 * rvk_syncmap_delete_where, asking go_on between chunks (NULL: never ends
 * early). *whole (may be NULL): whether the walk reached the table's end.
 * Returns: how many were removed.
 */
size_t rvk_syncmap_delete_where_until(rvk_syncmap_t *m, rvk_syncmap_fn pred,
                                      rvk_syncmap_fn deleted, void *arg,
                                      rvk_syncmap_go_on_fn go_on, void *go_arg,
                                      bool *whole);

/*
 * Eviction for bounded caches: looks at up to `sample` entries from the
 * start of the table's (hash-ordered, so random) order and removes the first
 * with expires_at <= now, else the one among them that expires first.
 * Returns: true when it removed an entry.
 */
bool rvk_syncmap_evict(rvk_syncmap_t *m, int64_t now, unsigned sample);

/* Returns: the number of entries (an atomic counter, no walk). */
size_t rvk_syncmap_len(rvk_syncmap_t *m);

/*
 * Removes entries with expires_at <= now, then runs rvk_syncmap_maintain.
 * Requires: outside any read section. Returns: how many were removed.
 */
size_t rvk_syncmap_sweep(rvk_syncmap_t *m, int64_t now);
/* rvk_syncmap_sweep, asking go_on between chunks (see above); a walk ended
 * early skips the maintain (the next sweep does it). */
size_t rvk_syncmap_sweep_until(rvk_syncmap_t *m, int64_t now,
                               rvk_syncmap_go_on_fn go_on, void *go_arg);

/* Resizes the table to the population if it drifted (see Sizing). Cheap
 * when nothing to do. Requires: outside any read section. */
void rvk_syncmap_maintain(rvk_syncmap_t *m);

/* Returns: the bucket count last set (at creation or by maintain); the
 * table may have grown past it on its own. */
size_t rvk_syncmap_buckets(rvk_syncmap_t *m);

#endif
