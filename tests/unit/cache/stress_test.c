/*
 * Concurrent stress of cache/syncmap and cache/vcache (suites unit and tsan).
 *
 * syncmap: each main key has one owner thread, which stores, deletes,
 * load_or_stores and load_and_deletes it and publishes, per key, an atomic
 * state word (sequence number, present, pending). Readers bracket a load
 * between two reads of that word; when both reads agree and no operation was
 * pending, nothing changed during the load, so the load must show exactly
 * the published state: an acknowledged store must be there (not lost, not an
 * older value) and a deleted key must be absent (no reappearance). Values
 * are heap objects freed by the map after a grace period; every reader
 * dereferences them and checks a magic word, so a use after free is an ASan
 * error (and a magic mismatch otherwise). A range thread walks everything, a
 * sweeper sweeps ephemeral keys (and resizes the table, presized far too
 * small), and a foreign deleter races the owners on those ephemeral keys.
 *
 * Nothing about timing is asserted: the run lasts a fixed wall time and
 * only correctness is checked.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rcu.h"
#include "cache/revtable.h"
#include "cache/syncmap.h"
#include "cache/vcache.h"
#include "tests/support/tap.h"

#define NKEYS 4096
#define NEPH 512
#define OWNERS 2
#define READERS 2
#define MAGIC 0x5eed5eedu
#define RUN_MS 2500
#define FAR 1000000     /* expiry of main keys: never swept at now = 10 */

struct val {
	uint64_t seq;
	uint32_t key_id;
	uint32_t magic;
};

/* state: seq << 2 | PENDING | PRESENT */
#define PRESENT 1u
#define PENDING 2u

static atomic_uint_least64_t state[NKEYS];
/* The seq of the value a present key holds: vseq_own is the owner's own
 * copy, vseq_pub is published before the state word that acknowledges it. */
static uint64_t vseq_own[NKEYS];
static atomic_uint_least64_t vseq_pub[NKEYS];
static atomic_int stop;
static atomic_long failures, checked, allocs, frees;
static rvk_syncmap_t *map;

static void
fail(const char *what)
{
	if (atomic_fetch_add(&failures, 1) < 10)
		fprintf(stdout, "# stress failure: %s\n", what);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
key_of(uint32_t id, char *buf)
{
	/* 36 bytes, like a UUID jti; ephemeral keys have their own prefix. */
	return (size_t)snprintf(buf, 40, "%s-%08x-0000-4000-8000-00000000",
	                        id >= NKEYS ? "ephe" : "main", id);
}

static void
free_val(void *p)
{
	struct val *v = p;
	if (v->magic != MAGIC)
		fail("double free or corrupt value");
	v->magic = 0xdeadu;
	atomic_fetch_add(&frees, 1);
	free(v);
}

static rvk_syncmap_value_t
mk(uint32_t id, uint64_t seq)
{
	struct val *v = malloc(sizeof(*v));
	v->seq = seq;
	v->key_id = id;
	v->magic = MAGIC;
	atomic_fetch_add(&allocs, 1);
	return (rvk_syncmap_value_t){ .ptr = v };
}

/* Requires: read section. Returns: the value's seq after checking it. */
static uint64_t
check_val(const rvk_syncmap_entry_t *e, uint32_t id)
{
	const struct val *v = e->value.ptr;
	if (v->magic != MAGIC)
		fail("value freed while visible");
	if (v->key_id != id)
		fail("value under the wrong key");
	return v->seq;
}

static void *
owner_main(void *arg)
{
	uint32_t me = (uint32_t)(uintptr_t)arg;
	uint64_t r = 0x9e3779b97f4a7c15ULL * (me + 1);
	char k[40];
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t id = (uint32_t)(rnd(&r) % (NKEYS / OWNERS)) * OWNERS + me;
		size_t kl = key_of(id, k);
		uint64_t cur = atomic_load(&state[id]);
		uint64_t seq = (cur >> 2) + 1;
		bool present = cur & PRESENT, now_present = present;
		rvk_syncmap_entry_t e;
		atomic_store(&state[id], seq << 2 | PENDING);
		switch (rnd(&r) % 5) {
		case 0:
		case 1:
			if (rvk_syncmap_store(map, k, kl, mk(id, seq), FAR + (int64_t)(seq % 7)) == present)
				fail("store: wrong new/replaced answer");
			vseq_own[id] = seq;
			now_present = true;
			break;
		case 2: {
			rvk_syncmap_value_t v = mk(id, seq);
			rvk_rcu_read_lock();
			bool loaded = rvk_syncmap_load_or_store(map, k, kl, v, FAR, &e);
			if (loaded != present)
				fail("load_or_store: wrong loaded answer");
			if (loaded && check_val(&e, id) != vseq_own[id])
				fail("load_or_store: stale actual");
			rvk_rcu_read_unlock();
			if (loaded)
				free_val(v.ptr);        /* not taken by the map */
			else
				vseq_own[id] = seq;
			now_present = true;
			break;
		}
		case 3:
			if (rvk_syncmap_delete(map, k, kl) != present)
				fail("delete: wrong answer");
			now_present = false;
			break;
		default:
			rvk_rcu_read_lock();
			if (rvk_syncmap_load_and_delete(map, k, kl, &e) != present)
				fail("load_and_delete: wrong answer");
			else if (present && check_val(&e, id) != vseq_own[id])
				fail("load_and_delete: stale value");
			rvk_rcu_read_unlock();
			now_present = false;
			break;
		}
		atomic_store(&vseq_pub[id], vseq_own[id]);
		atomic_store(&state[id], seq << 2 | (now_present ? PRESENT : 0));
		/* Ephemeral keys: expired on arrival, for the sweeper and the
		 * foreign deleter to race over. */
		uint32_t eid = NKEYS + (uint32_t)(rnd(&r) % NEPH);
		kl = key_of(eid, k);
		rvk_syncmap_store(map, k, kl, mk(eid, 0), 5);
	}
	return NULL;
}

static void *
reader_main(void *arg)
{
	uint64_t r = 0x2545F4914F6CDD1DULL * ((uintptr_t)arg + 7);
	char k[40];
	long n = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t id = (uint32_t)(rnd(&r) % (NKEYS + NEPH));
		size_t kl = key_of(id, k);
		uint64_t s1 = id < NKEYS ? atomic_load(&state[id]) : 0;
		rvk_syncmap_entry_t e;
		rvk_rcu_read_lock();
		bool found = rvk_syncmap_load(map, k, kl, &e);
		uint64_t seq = found ? check_val(&e, id) : 0;
		rvk_rcu_read_unlock();
		if (id >= NKEYS)
			continue;
		uint64_t vs = atomic_load(&vseq_pub[id]);
		uint64_t s2 = atomic_load(&state[id]);
		if (s1 != s2 || (s1 & PENDING))
			continue;
		n++;
		if ((s1 & PRESENT) && !found)
			fail("acknowledged store lost");
		else if ((s1 & PRESENT) && seq != vs)
			fail("a replaced (older) value came back");
		if (!(s1 & PRESENT) && found)
			fail("deleted entry reappeared");
	}
	atomic_fetch_add(&checked, n);
	return NULL;
}

static bool
range_fn(const rvk_syncmap_entry_t *e, void *arg)
{
	char k[40];
	const struct val *v = e->value.ptr;
	if (v->magic != MAGIC) {
		fail("range: freed value");
		return true;
	}
	size_t kl = key_of(v->key_id, k);
	if (kl != e->key_len || memcmp(k, e->key, kl) != 0)
		fail("range: key and value disagree");
	(*(long *)arg)++;
	return true;
}

static void *
range_main(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		long n = 0;
		rvk_rcu_read_lock();
		rvk_syncmap_range(map, range_fn, &n);
		rvk_rcu_read_unlock();
	}
	return NULL;
}

static void *
sweeper_main(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		rvk_syncmap_sweep(map, 10);
		usleep(1000);
	}
	return NULL;
}

static void *
eph_deleter_main(void *arg)
{
	uint64_t r = 0x1234567ULL;
	char k[40];
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t eid = NKEYS + (uint32_t)(rnd(&r) % NEPH);
		size_t kl = key_of(eid, k);
		rvk_syncmap_entry_t e;
		rvk_rcu_read_lock();
		if (rvk_syncmap_load_and_delete(map, k, kl, &e))
			check_val(&e, eid);
		rvk_rcu_read_unlock();
	}
	return NULL;
}

static void
run_for(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
}

TAP_TEST(syncmap_survives_concurrent_everything)
{
	pthread_t th[OWNERS + READERS + 3];
	int nt = 0;
	/* Presized far too small on purpose: the sweeper's maintain resizes
	 * while everything else runs. */
	map = rvk_syncmap_new(16, free_val);
	atomic_store(&stop, 0);
	for (uintptr_t i = 0; i < OWNERS; i++)
		pthread_create(&th[nt++], NULL, owner_main, (void *)i);
	for (uintptr_t i = 0; i < READERS; i++)
		pthread_create(&th[nt++], NULL, reader_main, (void *)i);
	pthread_create(&th[nt++], NULL, range_main, NULL);
	pthread_create(&th[nt++], NULL, sweeper_main, NULL);
	pthread_create(&th[nt++], NULL, eph_deleter_main, NULL);
	run_for(RUN_MS);
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);

	TAP_CHECK_INT(atomic_load(&failures), 0);
	printf("# %ld consistent reads checked\n", atomic_load(&checked));
	TAP_CHECK(atomic_load(&checked) > 0);
	/* Quiescent: every main key shows exactly its published state. */
	size_t present = 0, agree = 0;
	char k[40];
	for (uint32_t id = 0; id < NKEYS; id++) {
		uint64_t s = atomic_load(&state[id]);
		bool found = rvk_syncmap_load(map, k, key_of(id, k), NULL);
		present += (s & PRESENT) != 0;
		agree += found == ((s & PRESENT) != 0);
	}
	TAP_CHECK_INT(agree, NKEYS);
	rvk_syncmap_sweep(map, 10);
	TAP_CHECK_INT(rvk_syncmap_len(map), present);
	rvk_syncmap_free(map);
	TAP_CHECK_INT(atomic_load(&frees), atomic_load(&allocs));
	TAP_CHECK_INT(atomic_load(&failures), 0);
}

/* vcache: many putters over a small cap, a reader watching len. */
#define VCAP 64
static rvk_vcache_t *vc;
static atomic_long vputs, vfrees, vover;

static void
vfree(void *p)
{
	atomic_fetch_add(&vfrees, 1);
	free(p);
}

static void *
vput_main(void *arg)
{
	uint64_t r = 0xabcdefULL + (uintptr_t)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned char d[RVK_VCACHE_DIGEST_LEN] = { 0 };
		uint32_t id = (uint32_t)(rnd(&r) % 1000);
		memcpy(d, &id, sizeof(id));
		uint32_t *v = malloc(sizeof(*v));
		*v = id;
		atomic_fetch_add(&vputs, 1);
		int64_t now = (int64_t)(rnd(&r) % 100);
		rvk_vcache_put(vc, d, v, now + 1 + (int64_t)(rnd(&r) % 50), now);
		if (rvk_vcache_len(vc) > VCAP)
			atomic_fetch_add(&vover, 1);
		rvk_rcu_read_lock();
		const uint32_t *got = rvk_vcache_get(vc, d, 0);
		if (got && *got != id)
			fail("vcache: value under the wrong digest");
		rvk_rcu_read_unlock();
	}
	return NULL;
}

static void *
vsweep_main(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (rvk_vcache_len(vc) > VCAP)
			atomic_fetch_add(&vover, 1);
		rvk_vcache_sweep(vc, 40);
	}
	return NULL;
}

TAP_TEST(vcache_cap_holds_under_concurrent_puts)
{
	pthread_t th[4];
	vc = rvk_vcache_new(VCAP, vfree);
	atomic_store(&stop, 0);
	for (uintptr_t i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, vput_main, (void *)i);
	pthread_create(&th[3], NULL, vsweep_main, NULL);
	run_for(RUN_MS / 5);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	TAP_CHECK_INT(atomic_load(&vover), 0);
	TAP_CHECK(rvk_vcache_len(vc) <= VCAP);
	rvk_vcache_free(vc);
	TAP_CHECK_INT(atomic_load(&vfrees), atomic_load(&vputs));
	TAP_CHECK_INT(atomic_load(&failures), 0);
}

/*
 * revtable: the store's writer thread puts and deletes while the sweeper
 * sweeps at now = 100 and request threads check. An entry merged to
 * expires_at 150 must survive every sweep (the sweeper deletes only the node
 * it judged, never the merged one), entries that only ever had
 * expires_at 50 must be gone after the last sweep, revoked_at keeps the
 * maximum, and the per-type counters agree with the table.
 */
#define RKEYS 512
static rvk_revtable_t *rt;
static bool live150[RKEYS];
static int64_t minrev[RKEYS];

static void *
rt_writer(void *arg)
{
	uint64_t r = 0x51ed2701ULL;
	char id[16];
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t i = (uint32_t)(rnd(&r) % RKEYS);
		int n = snprintf(id, sizeof(id), "sid-%u", i);
		if (rnd(&r) % 8 == 0) {
			rvk_revtable_delete(rt, RVK_REV_SESSION, "iss", 3, id, (size_t)n);
			live150[i] = false;
			minrev[i] = 0;
			continue;
		}
		int64_t rev = (int64_t)(rnd(&r) % 1000);
		int64_t exp = rnd(&r) % 4 == 0 ? 150 : 50;
		rvk_revtable_put(rt, RVK_REV_SESSION, "iss", 3, id, (size_t)n, rev, exp);
		if (exp == 150)
			live150[i] = true;
		if (live150[i] && rev > minrev[i])
			minrev[i] = rev;
	}
	return NULL;
}

static void *
rt_sweeper(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		rvk_revtable_sweep(rt, 100);
	return NULL;
}

static void *
rt_checker(void *arg)
{
	uint64_t r = 0x77ULL;
	char id[16];
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t i = (uint32_t)(rnd(&r) % RKEYS);
		int n = snprintf(id, sizeof(id), "sid-%u", i);
		rvk_rev_query_t q = { .iss = "iss", .iss_len = 3, .sid = id,
		                      .sid_len = (size_t)n, .iat = 0 };
		rvk_reason_t v = rvk_revtable_check(rt, &q, 100);
		if (v != RVK_REASON_OK && v != RVK_REASON_SESSION_REVOKED)
			fail("revtable: impossible verdict");
	}
	return NULL;
}

TAP_TEST(revtable_merges_survive_the_sweeper)
{
	pthread_t th[4];
	rt = rvk_revtable_new(16, 0);
	atomic_store(&stop, 0);
	pthread_create(&th[0], NULL, rt_writer, NULL);
	pthread_create(&th[1], NULL, rt_sweeper, NULL);
	pthread_create(&th[2], NULL, rt_checker, NULL);
	pthread_create(&th[3], NULL, rt_checker, NULL);
	run_for(RUN_MS / 5);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	rvk_revtable_sweep(rt, 100);
	size_t present = 0, right = 0;
	char id[16];
	for (uint32_t i = 0; i < RKEYS; i++) {
		int n = snprintf(id, sizeof(id), "sid-%u", i);
		int64_t ra = -1, ea = -1;
		bool found = rvk_revtable_get(rt, RVK_REV_SESSION, "iss", 3, id, (size_t)n, &ra, &ea);
		present += found;
		if (live150[i])
			right += found && ea == 150 && ra >= minrev[i];
		else
			right += !found;
	}
	TAP_CHECK_INT(right, RKEYS);
	TAP_CHECK_INT(rvk_revtable_count(rt, RVK_REV_SESSION), present);
	TAP_CHECK(present > 0);
	rvk_revtable_free(rt);
	TAP_CHECK_INT(atomic_load(&failures), 0);
}

/*
 * Inline maps reuse retired nodes (cache/syncmap.c, "Recycling"): a node a
 * reader still holds must not be reused, however much the writers churn.
 * A reader holds one entry's key bytes (inside the node) in a range
 * callback while another thread deletes that key and churns many batches of
 * same-length keys; the bytes must not change. A writer thread that churns
 * and exits leaves its pool to be freed (LeakSanitizer checks the rest).
 */
#define RKEY_LEN 24
static rvk_syncmap_t *rmap;
static atomic_int rphase;       /* 1: reader holds an entry; 2: churn done */
static char held_copy[RKEY_LEN], held_key[RKEY_LEN];
static atomic_int held_intact;

static void
rkey(uint32_t i, char *buf)
{
	snprintf(buf, RKEY_LEN + 1, "recycle-%015u", i);
}

static bool
hold_fn(const rvk_syncmap_entry_t *e, void *arg)
{
	(void)arg;
	if (e->key_len != RKEY_LEN)
		return true;
	memcpy(held_copy, e->key, RKEY_LEN);
	memcpy(held_key, e->key, RKEY_LEN);
	atomic_store(&rphase, 1);
	while (atomic_load(&rphase) != 2)
		sched_yield();
	atomic_store(&held_intact, memcmp(e->key, held_copy, RKEY_LEN) == 0);
	return false;
}

static void *
holder_main(void *arg)
{
	(void)arg;
	rvk_syncmap_range(rmap, hold_fn, NULL);   /* one read section */
	return NULL;
}

/* Churns keys [from, from + n) through the map: store, then delete the one
 * stored `window` before (same key length, so spare nodes fit). */
static void
churn(uint32_t from, uint32_t n, uint32_t window)
{
	char k[RKEY_LEN + 1];
	for (uint32_t i = from; i < from + n; i++) {
		rkey(i, k);
		rvk_syncmap_store(rmap, k, RKEY_LEN, (rvk_syncmap_value_t){ .i64 = i }, FAR);
		if (i >= from + window) {
			rkey(i - window, k);
			if (!rvk_syncmap_delete(rmap, k, RKEY_LEN))
				fail("recycle: churned key missing");
		}
	}
	for (uint32_t i = from + n - window; i < from + n; i++) {
		rkey(i, k);
		rvk_syncmap_delete(rmap, k, RKEY_LEN);
	}
}

static void *
churner_main(void *arg)
{
	churn((uint32_t)(uintptr_t)arg, 20000, 100);
	return NULL;
}

TAP_TEST(inline_nodes_are_not_reused_while_read)
{
	char k[RKEY_LEN + 1];
	rmap = rvk_syncmap_new(64, NULL);
	for (uint32_t i = 0; i < 100; i++) {
		rkey(i, k);
		rvk_syncmap_store(rmap, k, RKEY_LEN, (rvk_syncmap_value_t){ .i64 = i }, FAR);
	}
	/* Warm this thread's pool: batches that are past their grace period. */
	churn(1000, 5000, 50);
	rvk_rcu_barrier();
	churn(10000, 500, 50);
	atomic_store(&rphase, 0);
	atomic_store(&held_intact, 0);
	pthread_t th;
	pthread_create(&th, NULL, holder_main, NULL);
	while (atomic_load(&rphase) != 1)
		sched_yield();
	/* The held entry leaves the map; churn reuses every spare node. */
	TAP_CHECK(rvk_syncmap_delete(rmap, held_key, RKEY_LEN));
	churn(100000, 20000, 10);
	atomic_store(&rphase, 2);
	pthread_join(th, NULL);
	TAP_CHECK_INT(atomic_load(&held_intact), 1);

	/* Writers that exit with nodes in their pools. */
	pthread_t w[2];
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&w[i], NULL, churner_main, (void *)(200000 + i * 100000));
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	TAP_CHECK_INT(rvk_syncmap_len(rmap), 99);
	int right = 0;
	for (uint32_t i = 0; i < 100; i++) {
		rvk_syncmap_entry_t e;
		rkey(i, k);
		right += memcmp(k, held_key, RKEY_LEN) == 0 ||
		         (rvk_syncmap_load(rmap, k, RKEY_LEN, &e) && e.value.i64 == (int64_t)i);
	}
	TAP_CHECK_INT(right, 100);
	rvk_syncmap_maintain(rmap);     /* hands idle pools' nodes over */
	rvk_rcu_barrier();
	rvk_syncmap_free(rmap);
	TAP_CHECK_INT(atomic_load(&failures), 0);
}

/*
 * revtable_check skips a type whose counter is 0: a revocation that put has
 * returned for must be seen by every check that starts after it, also when
 * its type's counter goes 0 -> 1 that instant. Rounds: the writer puts a
 * subject revocation into a table with none (and an ephemeral session one
 * whose deletion brings that counter back to 0), announces it, and waits
 * until each checker has checked that round; then deletes both.
 */
#define ACK_ROUNDS 3000
#define ACK_CHECKERS 2
static atomic_int ack_round, ack_done;

static void *
ack_checker(void *arg)
{
	(void)arg;
	char id[16];
	for (int seen = 0; seen < ACK_ROUNDS;) {
		int round = atomic_load_explicit(&ack_round, memory_order_acquire);
		if (round == seen) {
			sched_yield();
			continue;
		}
		seen = round;
		int n = snprintf(id, sizeof(id), "u-%d", round);
		rvk_rev_query_t q = { .iss = "iss", .iss_len = 3, .sub = id,
		                      .sub_len = (size_t)n, .sid = id, .sid_len = (size_t)n,
		                      .iat = 0 };
		if (rvk_revtable_check(rt, &q, 100) != RVK_REASON_SESSION_REVOKED)
			fail("revtable: an acknowledged revocation was not seen");
		q.sid = NULL;
		if (rvk_revtable_check(rt, &q, 100) != RVK_REASON_SUBJECT_REVOKED)
			fail("revtable: an acknowledged revocation was not seen");
		q.sub = "other";
		q.sub_len = 5;
		if (rvk_revtable_check(rt, &q, 100) != RVK_REASON_OK)
			fail("revtable: a revocation denied another subject");
		atomic_fetch_add_explicit(&ack_done, 1, memory_order_release);
	}
	return NULL;
}

TAP_TEST(revtable_acknowledged_revocations_are_seen)
{
	pthread_t th[ACK_CHECKERS];
	rt = rvk_revtable_new(16, 0);
	atomic_store(&ack_round, 0);
	atomic_store(&ack_done, 0);
	for (int i = 0; i < ACK_CHECKERS; i++)
		pthread_create(&th[i], NULL, ack_checker, NULL);
	char id[16];
	for (int round = 1; round <= ACK_ROUNDS; round++) {
		int n = snprintf(id, sizeof(id), "u-%d", round);
		TAP_CHECK_INT(rvk_revtable_count(rt, RVK_REV_SUBJECT), 0);
		TAP_CHECK_INT(rvk_revtable_count(rt, RVK_REV_SESSION), 0);
		rvk_revtable_put(rt, RVK_REV_SUBJECT, "iss", 3, id, (size_t)n, 10, 1000);
		rvk_revtable_put(rt, RVK_REV_SESSION, "iss", 3, id, (size_t)n, 10, 1000);
		atomic_store_explicit(&ack_round, round, memory_order_release);
		while (atomic_load_explicit(&ack_done, memory_order_acquire)
		       < round * ACK_CHECKERS)
			sched_yield();
		rvk_revtable_delete(rt, RVK_REV_SUBJECT, "iss", 3, id, (size_t)n);
		rvk_revtable_delete(rt, RVK_REV_SESSION, "iss", 3, id, (size_t)n);
	}
	for (int i = 0; i < ACK_CHECKERS; i++)
		pthread_join(th[i], NULL);
	rvk_revtable_free(rt);
	TAP_CHECK_INT(atomic_load(&failures), 0);
}

int
main(void)
{
	int rc = tap_main(TAP_LIST(syncmap_survives_concurrent_everything,
	                           vcache_cap_holds_under_concurrent_puts,
	                           revtable_merges_survive_the_sweeper,
	                           revtable_acknowledged_revocations_are_seen,
	                           inline_nodes_are_not_reused_while_read));
	rvk_rcu_barrier();
	return rc;
}
