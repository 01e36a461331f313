/*
 * revtable.c - see revtable.h for the contract.
 *
 * One inline syncmap. Key: one type byte, the issuer's length as a LEB128
 * varint, the issuer bytes, then the id bytes. The length prefix makes the
 * encoding unambiguous: ("ab", "c") and ("a", "bc") differ, and no type's key
 * can equal another's. Value: revoked_at in the inline value word and
 * expires_at as the entry's expiry, so a lookup copies two integers out of
 * the node inside the read section and nothing is allocated per entry but
 * the node.
 *
 * Merges replace the node (never write into a published one), so a reader
 * sees either the old pair or the new pair, never a mix, and the sweeper's
 * node-specific delete loses against a merge that made the entry live again.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/id.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "cache/revtable.h"
#include "cache/syncmap.h"

#define STACK_KEY 256
#define VARINT_MAX 10

struct rvk_revtable {
	rvk_syncmap_t *map;
	int64_t leeway;
	atomic_size_t count[RVK_REV_TYPE_COUNT];
};

/* An encoded key: in buf when it fits, else on the heap. */
struct key {
	unsigned char buf[STACK_KEY];
	unsigned char *p;
	size_t len;
};

/* Returns: false when the key is too long to be in any table. */
static bool
key_make(struct key *k, rvk_rev_type_t type, const char *iss, size_t iss_len,
         const char *id, size_t id_len)
{
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	k->p = k->buf;
	k->len = 0;
	if (iss_len > RVK_SYNCMAP_MAX_KEY || id_len > RVK_SYNCMAP_MAX_KEY)
		return false;
	size_t len = 1 + VARINT_MAX + iss_len + id_len;
	/* Bounded by RVK_SYNCMAP_MAX_KEY, so an abort-on-OOM allocation. */
	k->p = len <= STACK_KEY ? k->buf : rvk_malloc(len);
	unsigned char *w = k->p;
	*w++ = (unsigned char)type;
	size_t v = iss_len;
	do {
		*w++ = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	if (iss_len)
		memcpy(w, iss, iss_len);
	w += iss_len;
	if (id_len)
		memcpy(w, id, id_len);
	w += id_len;
	k->len = (size_t)(w - k->p);
	return k->len <= RVK_SYNCMAP_MAX_KEY;
}

static void
key_done(struct key *k)
{
	if (k->p != k->buf)
		free(k->p);
}

/* Returns: true when an entry with this expiry may still deny at now. */
static bool
live_at(int64_t expires_at, int64_t leeway, int64_t now)
{
	if (expires_at > INT64_MAX - leeway)
		return true;
	return expires_at + leeway >= now;
}

rvk_revtable_t *
rvk_revtable_new(size_t expected, int64_t leeway)
{
	RVK_REQUIRE(leeway >= 0);
	rvk_revtable_t *t = rvk_calloc(1, sizeof(*t));
	t->map = rvk_syncmap_new(expected, NULL);
	t->leeway = leeway;
	for (unsigned i = 0; i < RVK_REV_TYPE_COUNT; i++)
		atomic_init(&t->count[i], 0);
	return t;
}

void
rvk_revtable_free(rvk_revtable_t *t)
{
	if (!t)
		return;
	rvk_syncmap_free(t->map);
	free(t);
}

size_t
rvk_revtable_free_at_exit(rvk_revtable_t *t)
{
	if (!t || !RVK_SYNCMAP_EXIT_FREES)
		return 0;
	size_t n = rvk_syncmap_free_at_exit(t->map);
	free(t);
	return n;
}

bool
rvk_revtable_put(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                 size_t iss_len, const char *id, size_t id_len,
                 int64_t revoked_at, int64_t expires_at)
{
	struct key k;
	RVK_REQUIRE(key_make(&k, type, iss, iss_len, id, id_len));
	rvk_syncmap_entry_t cur;
	rvk_syncmap_value_t v = { .i64 = revoked_at };
	bool is_new;
	if (rvk_syncmap_load(t->map, k.p, k.len, &cur)) {
		if (cur.value.i64 >= revoked_at && cur.expires_at >= expires_at) {
			key_done(&k);
			return false;
		}
		if (cur.value.i64 > revoked_at)
			v.i64 = cur.value.i64;
		if (cur.expires_at > expires_at)
			expires_at = cur.expires_at;
	}
	/* Single writer: only the sweeper can remove the entry meanwhile, and
	 * then the merged pair is simply a new entry. */
	is_new = rvk_syncmap_store(t->map, k.p, k.len, v, expires_at);
	if (is_new)     /* release: denies() (its acquire) then sees the store */
		atomic_fetch_add_explicit(&t->count[type], 1, memory_order_release);
	key_done(&k);
	return is_new;
}

bool
rvk_revtable_set(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                 size_t iss_len, const char *id, size_t id_len,
                 int64_t revoked_at, int64_t expires_at)
{
	struct key k;
	RVK_REQUIRE(key_make(&k, type, iss, iss_len, id, id_len));
	rvk_syncmap_value_t v = { .i64 = revoked_at };
	/* A new node replaces the published one (syncmap_store), as a
	 * merge does. */
	bool is_new = rvk_syncmap_store(t->map, k.p, k.len, v, expires_at);
	if (is_new)     /* release: denies() (its acquire) then sees the store */
		atomic_fetch_add_explicit(&t->count[type], 1, memory_order_release);
	key_done(&k);
	return is_new;
}

bool
rvk_revtable_delete(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                    size_t iss_len, const char *id, size_t id_len)
{
	struct key k;
	if (!key_make(&k, type, iss, iss_len, id, id_len)) {
		key_done(&k);
		return false;
	}
	bool done = rvk_syncmap_delete(t->map, k.p, k.len);
	if (done)
		atomic_fetch_sub_explicit(&t->count[type], 1, memory_order_relaxed);
	key_done(&k);
	return done;
}

bool
rvk_revtable_get(rvk_revtable_t *t, rvk_rev_type_t type, const char *iss,
                 size_t iss_len, const char *id, size_t id_len,
                 int64_t *revoked_at, int64_t *expires_at)
{
	struct key k;
	rvk_syncmap_entry_t e;
	bool found = key_make(&k, type, iss, iss_len, id, id_len) &&
	             rvk_syncmap_load(t->map, k.p, k.len, &e);
	key_done(&k);
	if (found) {
		if (revoked_at)
			*revoked_at = e.value.i64;
		if (expires_at)
			*expires_at = e.expires_at;
	}
	return found;
}

/* Returns: true when (type, iss, id) has an entry that denies a token
 * issued at iat (any_iat: whatever its iat) at now. */
static bool
denies(rvk_revtable_t *t, rvk_rev_type_t type, const rvk_rev_query_t *q,
       const char *id, size_t id_len, bool any_iat, int64_t now)
{
	/* No entry of this type: nothing to look up. Most tables hold no
	 * issuer or key revocation, many no subject or session one, and each
	 * lookup is a key build, a SipHash and a walk of a table larger than
	 * the cache (docs/BENCHMARKS.md, "Round 3"). The counter is raised
	 * (release) after the entry's store and before put/set return, and
	 * lowered only after a removal, so it is 0 only while the table holds
	 * no entry of this type that any put has returned for: a check that
	 * starts after a revocation was acknowledged reads it non-zero
	 * (acquire) and then finds the entry, and one concurrent with the put
	 * may answer either way, as it could before. */
	if (atomic_load_explicit(&t->count[type], memory_order_acquire) == 0)
		return false;
	struct key k;
	rvk_syncmap_entry_t e;
	const char *iss = q->iss ? q->iss : "";
	size_t iss_len = q->iss ? q->iss_len : 0;
	bool found = key_make(&k, type, iss, iss_len, id, id_len) &&
	             rvk_syncmap_load(t->map, k.p, k.len, &e);
	key_done(&k);
	if (!found || !live_at(e.expires_at, t->leeway, now))
		return false;
	return any_iat || q->iat <= e.value.i64;
}

rvk_reason_t
rvk_revtable_check(rvk_revtable_t *t, const rvk_rev_query_t *q, int64_t now)
{
	rvk_reason_t r = RVK_REASON_OK;
	/* One read section for the up-to-five lookups (they nest inside). */
	rvk_rcu_read_lock();
	if (q->jti && denies(t, RVK_REV_TOKEN, q, q->jti, q->jti_len, true, now))
		r = RVK_REASON_TOKEN_REVOKED;
	else if (q->sid && denies(t, RVK_REV_SESSION, q, q->sid, q->sid_len, false, now))
		r = RVK_REASON_SESSION_REVOKED;
	else if (q->sub && denies(t, RVK_REV_SUBJECT, q, q->sub, q->sub_len, false, now))
		r = RVK_REASON_SUBJECT_REVOKED;
	else if (denies(t, RVK_REV_ISSUER, q, "", 0, false, now))
		r = RVK_REASON_ISSUER_REVOKED;
	else if (q->kid && denies(t, RVK_REV_KEY, q, q->kid, q->kid_len, true, now))
		r = RVK_REASON_KEY_REVOKED;
	rvk_rcu_read_unlock();
	return r;
}

struct sweep_arg {
	rvk_revtable_t *t;
	int64_t now;
};

static bool
sweep_pred(const rvk_syncmap_entry_t *e, void *arg)
{
	const struct sweep_arg *a = arg;
	return !live_at(e->expires_at, a->t->leeway, a->now);
}

static bool
sweep_deleted(const rvk_syncmap_entry_t *e, void *arg)
{
	const struct sweep_arg *a = arg;
	unsigned type = ((const unsigned char *)e->key)[0];
	atomic_fetch_sub_explicit(&a->t->count[type], 1, memory_order_relaxed);
	return true;
}

size_t
rvk_revtable_sweep(rvk_revtable_t *t, int64_t now)
{
	return rvk_revtable_sweep_until(t, now, NULL, NULL);
}

size_t
rvk_revtable_sweep_until(rvk_revtable_t *t, int64_t now,
                         bool (*go_on)(void *go_arg), void *go_arg)
{
	struct sweep_arg a = { t, now };
	bool whole;
	size_t n = rvk_syncmap_delete_where_until(t->map, sweep_pred,
	                                          sweep_deleted, &a, go_on,
	                                          go_arg, &whole);
	if (whole)
		rvk_syncmap_maintain(t->map);
	return n;
}

size_t
rvk_revtable_count(rvk_revtable_t *t, rvk_rev_type_t type)
{
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	return atomic_load_explicit(&t->count[type], memory_order_relaxed);
}

void
rvk_revtable_maintain(rvk_revtable_t *t)
{
	rvk_syncmap_maintain(t->map);
}

size_t
rvk_revtable_buckets(rvk_revtable_t *t)
{
	return rvk_syncmap_buckets(t->map);
}

bool
rvk_rev_key_valid(rvk_rev_type_t type, const char *iss, size_t iss_len,
                  const char *id, size_t id_len)
{
	if ((unsigned)type >= RVK_REV_TYPE_COUNT || !rvk_id_valid(iss, iss_len))
		return false;
	if (type == RVK_REV_ISSUER)
		return id != NULL && id_len == 0;
	return rvk_id_valid(id, id_len);
}
