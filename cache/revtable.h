/*
 * revtable.h - every live revocation, in memory (REFERENCE §3 step 6, §4).
 *
 * Built on cache/syncmap.h: lock-free reads, entries keyed by
 * (type, issuer, id), each holding revoked_at and expires_at. A `key`
 * revocation's expires_at is RVK_NEVER. After expires_at + leeway an entry
 * denies nothing and the sweeper may remove it.
 *
 * Semantics (REFERENCE §4): rvk_revtable_put of an existing key keeps the later
 * revoked_at and the later expires_at. rvk_revtable_check denies, in order:
 * (iss, jti) present -> token revoked; (iss, sid) with revoked_at >= iat ->
 * session revoked; (iss, sub) likewise -> subject revoked; (iss) likewise ->
 * issuer revoked; (iss, kid of the verifying key) present -> key revoked.
 *
 * Threads: rvk_revtable_check and rvk_revtable_get from any thread, without
 * locks (they take an RCU read section themselves). rvk_revtable_put and
 * rvk_revtable_delete only from the store's writer thread (so the table sees
 * changes in commit order) — or, before the store exists, from a single
 * thread. rvk_revtable_sweep from the sweeper thread; it removes an entry only
 * if it is still the node it judged expired.
 * Resources: see syncmap.h for bytes per entry.
 */
#ifndef RVK_CACHE_REVTABLE_H
#define RVK_CACHE_REVTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/reason.h"
#include "base/vocab.h"

/* rvk_rev_type_t, its names and parser: base/vocab.h. */

typedef struct rvk_revtable rvk_revtable_t;

/* The claims step 6 looks at; strings are (pointer, length), NULL if absent. */
typedef struct rvk_rev_query {
	const char *iss; size_t iss_len;
	const char *jti; size_t jti_len;
	const char *sid; size_t sid_len;
	const char *sub; size_t sub_len;
	const char *kid; size_t kid_len;   /* of the key that verified the token */
	int64_t iat;
} rvk_rev_query_t;

/*
 * The one rule for what may be a revocation (base/id.h): iss and id
 * rvk_id_valid, except that an issuer revocation's id is empty. Every
 * intake path, the store's record and its load use this.
 * Returns: whether (type, iss, id) may be a revocation.
 */
bool rvk_rev_key_valid(rvk_rev_type_t type, const char *iss, size_t iss_len,
                       const char *id, size_t id_len);

/* Returns: a table presized for about `expected` entries. leeway in seconds. */
rvk_revtable_t *rvk_revtable_new(size_t expected, int64_t leeway);
/* Requires: no other thread uses the table. Frees every entry. */
void rvk_revtable_free(rvk_revtable_t *t);
/* At process exit: rvk_syncmap_free_at_exit's contract (cache/syncmap.h):
 * the entries are left to the kernel unless a sanitizer checks for leaks.
 * Returns: the entries freed one by one (0 where it skips). */
size_t rvk_revtable_free_at_exit(rvk_revtable_t *t);

/*
 * Adds or merges a revocation. For RVK_REV_ISSUER, id is "" (id_len 0).
 * Returns: true when the entry is new, false when it merged into one.
 */
bool rvk_revtable_put(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                      size_t iss_len, const char *id, size_t id_len,
                      int64_t revoked_at, int64_t expires_at);
/*
 * Sets an entry to exactly these times, later or earlier than before (the
 * store, after one source's contribution was removed, gives the latest
 * times of the contributions that remain). Readers see the old pair or the
 * new pair. For RVK_REV_ISSUER, id is "".
 * Returns: true when the entry is new.
 */
bool rvk_revtable_set(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                      size_t iss_len, const char *id, size_t id_len,
                      int64_t revoked_at, int64_t expires_at);
/* Returns: true when an entry was removed. */
bool rvk_revtable_delete(rvk_revtable_t *t, rvk_rev_type_t type,
                         const char *iss, size_t iss_len, const char *id,
                         size_t id_len);
/* Returns: true and the times when the entry exists (expired or not). */
bool rvk_revtable_get(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                      size_t iss_len, const char *id, size_t id_len,
                      int64_t *revoked_at, int64_t *expires_at);

/* Step 6. Returns: RVK_REASON_OK or the first revocation reason that applies. */
rvk_reason_t rvk_revtable_check(rvk_revtable_t *t, const rvk_rev_query_t *q,
                                int64_t now);

/* Removes entries with expires_at + leeway < now. Returns: how many. */
size_t rvk_revtable_sweep(rvk_revtable_t *t, int64_t now);
/* rvk_revtable_sweep that ends early when go_on answers false, asked every
 * RVK_SYNCMAP_WALK_CHUNK entries (cache/syncmap.h): the sweeper's stop. An
 * early end removes whole entries only, and leaves the rest (and the
 * resize) to the next sweep. Returns: how many were removed. */
size_t rvk_revtable_sweep_until(rvk_revtable_t *t, int64_t now,
                                bool (*go_on)(void *go_arg), void *go_arg);

/* Returns: live entries of one type (an atomic counter, no walk). */
size_t rvk_revtable_count(rvk_revtable_t *t, rvk_rev_type_t type);

/*
 * Grows (or shrinks) the hash table to its population now, synchronously
 * (cache/syncmap.h, Sizing). The sweeper does this every second; a bulk
 * load before the sweeper runs (the store's start-up) calls it every so
 * many puts, or the table keeps its presize while millions go in and every
 * put walks a longer chain (DECISIONS D7). Threads: the sweeper's, or the
 * only thread. Requires: outside any read section.
 */
void rvk_revtable_maintain(rvk_revtable_t *t);
/* Returns: the bucket count last set (rvk_syncmap_buckets). */
size_t rvk_revtable_buckets(rvk_revtable_t *t);

#endif
