/*
 * map_bench.c - cache/syncmap against a pthread_rwlock + chained hash table.
 *
 * Same keys (36-char UUIDs, 2n of them: [0,n) start present), same hash
 * (rvk_siphash under one key), same presizing (next power of two >= n
 * buckets), same workload as Go's peer benchmark
 * ($REVOKD_PEERS/go-syncmap-bench, w=churn) so the figures line up:
 *   read  = load a random key of the present window [cursor, cursor+n)
 *   write = "churn": delete keys[c mod 2n], insert keys[(c+n) mod 2n] for
 *           c = cursor++ (the table stays at n entries); one op.
 * ops/s is wall-clock throughput of all threads together over a fixed
 * interval after a short warm-up; cpu% is the process CPU over that interval
 * (200% = both cores were ours). The baseline frees deleted nodes at once;
 * the syncmap defers frees to call_rcu, whose worker thread shares the cores.
 *
 *   map_bench [seconds per cell, default 1.0] [reps, default 2] [only: 10k|1M]
 * For profiling one cell: MAP_BENCH_IMPL=syncmap|rwlock, MAP_BENCH_MIX=0|1|10|50
 * and MAP_BENCH_THREADS=1|2 restrict the table to matching cells, and any
 * of them skips the read-side, memory and latency measurements.
 * Each cell runs reps times per implementation, alternating (A B A B), and
 * reports the best run of each: noise from other processes only ever lowers
 * a figure.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/rcu.h"
#include "cache/siphash.h"
#include "cache/syncmap.h"

#define KEY_LEN 36
#define EXPIRES 1800000000LL

static unsigned char hkey[RVK_SIPHASH_KEY_LEN];
static char (*keys)[KEY_LEN + 1];
static size_t nkeys;   /* 2n */
static double cell_seconds = 1.0;
static int reps = 2;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static long
rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void
make_keys(size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x = 0x9E3779B97F4A7C15ULL ^ n;
	free(keys);
	nkeys = 2 * n;
	keys = malloc(nkeys * sizeof(*keys));
	for (size_t i = 0; i < nkeys; i++) {
		for (int j = 0; j < KEY_LEN; j++) {
			x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
			keys[i][j] = hex[(x * 2685821657736338717ULL) >> 60];
		}
		keys[i][8] = keys[i][13] = keys[i][18] = keys[i][23] = '-';
		keys[i][14] = '4';
		keys[i][KEY_LEN] = '\0';
	}
}

/* ---- the baseline: chained hash table under one pthread_rwlock_t ---- */

struct bnode {
	struct bnode *next;
	int64_t value;
	int64_t expires_at;
	uint32_t key_len;
	char key[];
};

struct btable {
	pthread_rwlock_t lock;
	struct bnode **buckets;
	size_t mask, count;
};

static struct btable *
bt_new(size_t expected)
{
	struct btable *t = calloc(1, sizeof(*t));
	size_t size = 16;
	while (size < expected)
		size <<= 1;
	pthread_rwlock_init(&t->lock, NULL);
	t->buckets = calloc(size, sizeof(*t->buckets));
	t->mask = size - 1;
	return t;
}

/* Requires: write lock. Doubles at load factor 2 (never in the churn runs,
 * which keep n entries in next_pow2(n) buckets). */
static void
bt_grow(struct btable *t)
{
	size_t size = (t->mask + 1) * 2;
	struct bnode **nb = calloc(size, sizeof(*nb));
	for (size_t i = 0; i <= t->mask; i++) {
		for (struct bnode *n = t->buckets[i], *next; n; n = next) {
			next = n->next;
			size_t b = rvk_siphash(hkey, n->key, n->key_len) & (size - 1);
			n->next = nb[b];
			nb[b] = n;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->mask = size - 1;
}

static bool
bt_load(struct btable *t, const char *key, size_t len, int64_t *value)
{
	uint64_t h = rvk_siphash(hkey, key, len);
	bool found = false;
	pthread_rwlock_rdlock(&t->lock);
	for (struct bnode *n = t->buckets[h & t->mask]; n; n = n->next) {
		if (n->key_len == len && memcmp(n->key, key, len) == 0) {
			*value = n->value;
			found = true;
			break;
		}
	}
	pthread_rwlock_unlock(&t->lock);
	return found;
}

/* Requires: write lock. Returns: the unlinked node or NULL. */
static struct bnode *
bt_unlink(struct btable *t, const char *key, size_t len)
{
	uint64_t h = rvk_siphash(hkey, key, len);
	for (struct bnode **pp = &t->buckets[h & t->mask]; *pp; pp = &(*pp)->next) {
		struct bnode *n = *pp;
		if (n->key_len == len && memcmp(n->key, key, len) == 0) {
			*pp = n->next;
			t->count--;
			return n;
		}
	}
	return NULL;
}

/* Requires: write lock. Takes nn; returns the node it replaced, or NULL. */
static struct bnode *
bt_link(struct btable *t, struct bnode *nn)
{
	struct bnode *old = bt_unlink(t, nn->key, nn->key_len);
	uint64_t h = rvk_siphash(hkey, nn->key, nn->key_len);
	nn->next = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = nn;
	if (++t->count > 2 * (t->mask + 1))
		bt_grow(t);
	return old;
}

static struct bnode *
bnode_new(const char *key, size_t len, int64_t value)
{
	struct bnode *n = malloc(sizeof(*n) + len);
	n->value = value;
	n->expires_at = EXPIRES;
	n->key_len = (uint32_t)len;
	memcpy(n->key, key, len);
	return n;
}

static void
bt_store(struct btable *t, const char *key, size_t len, int64_t value)
{
	struct bnode *nn = bnode_new(key, len, value), *old;
	pthread_rwlock_wrlock(&t->lock);
	old = bt_link(t, nn);
	pthread_rwlock_unlock(&t->lock);
	free(old);
}

static void
bt_churn(struct btable *t, const char *del, const char *add, int64_t value)
{
	struct bnode *nn = bnode_new(add, KEY_LEN, value), *gone, *old;
	pthread_rwlock_wrlock(&t->lock);
	gone = bt_unlink(t, del, KEY_LEN);
	old = bt_link(t, nn);
	pthread_rwlock_unlock(&t->lock);
	free(gone);
	free(old);
}

static void
bt_free(struct btable *t)
{
	for (size_t i = 0; i <= t->mask; i++) {
		for (struct bnode *n = t->buckets[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->buckets);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

/* ---- the two implementations behind one interface ---- */

enum impl { SYNCMAP, BASELINE };
static const char *const impl_name[] = { "syncmap", "rwlock+chained" };

struct table {
	enum impl impl;
	rvk_syncmap_t *sm;
	struct btable *bt;
};

static bool
t_load(struct table *t, const char *key)
{
	if (t->impl == SYNCMAP) {
		rvk_syncmap_entry_t e;
		return rvk_syncmap_load(t->sm, key, KEY_LEN, &e);
	}
	int64_t v;
	return bt_load(t->bt, key, KEY_LEN, &v);
}

static void
t_churn(struct table *t, const char *del, const char *add, int64_t value)
{
	if (t->impl == SYNCMAP) {
		rvk_syncmap_delete(t->sm, del, KEY_LEN);
		rvk_syncmap_store(t->sm, add, KEY_LEN, (rvk_syncmap_value_t){ .i64 = value },
		                  EXPIRES);
	} else {
		bt_churn(t->bt, del, add, value);
	}
}

static void
t_build(struct table *t, enum impl impl, size_t n)
{
	t->impl = impl;
	if (impl == SYNCMAP) {
		t->sm = rvk_syncmap_new(n, NULL);
		for (size_t i = 0; i < n; i++)
			rvk_syncmap_store(t->sm, keys[i], KEY_LEN,
			                  (rvk_syncmap_value_t){ .i64 = (int64_t)i }, EXPIRES);
		rvk_syncmap_maintain(t->sm);
	} else {
		t->bt = bt_new(n);
		for (size_t i = 0; i < n; i++)
			bt_store(t->bt, keys[i], KEY_LEN, (int64_t)i);
	}
}

static void
t_free(struct table *t)
{
	if (t->impl == SYNCMAP) {
		rvk_syncmap_free(t->sm);
	} else {
		bt_free(t->bt);
	}
}

/* ---- one cell: n, mix, threads ---- */

struct run {
	struct table *t;
	size_t n;
	unsigned write_pct;
	atomic_uint_least64_t *cursor;
	atomic_int *stop;
	uint32_t *lat;          /* write latencies (ns) when not NULL */
	size_t lat_cap;
	/* out */
	atomic_uint_least64_t ops;
	size_t lat_n;
	uint64_t misses;
	long vcsw;              /* this worker's voluntary context switches */
	unsigned seed;
};

static void *
worker(void *arg)
{
	struct run *r = arg;
	uint64_t x = 0x9E3779B97F4A7C15ULL * (r->seed + 1);
	uint64_t n = r->n, n2 = 2 * r->n, local = 0, misses = 0;
	struct rusage ru0, ru1;
	getrusage(RUSAGE_THREAD, &ru0);
	for (;;) {
		for (int i = 0; i < 256; i++) {
			x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
			uint64_t v = x * 2685821657736338717ULL;
			if (v % 100 < r->write_pct) {
				uint64_t c = atomic_fetch_add_explicit(r->cursor, 1, memory_order_relaxed);
				uint64_t t0 = r->lat ? now_ns() : 0;
				t_churn(r->t, keys[c % n2], keys[(c + n) % n2], (int64_t)c);
				if (r->lat && r->lat_n < r->lat_cap)
					r->lat[r->lat_n++] = (uint32_t)(now_ns() - t0 > UINT32_MAX ?
					                     UINT32_MAX : now_ns() - t0);
			} else {
				uint64_t base = atomic_load_explicit(r->cursor, memory_order_relaxed);
				misses += !t_load(r->t, keys[(base + (v >> 8) % n) % n2]);
			}
		}
		local += 256;
		atomic_store_explicit(&r->ops, local, memory_order_relaxed);
		if (atomic_load_explicit(r->stop, memory_order_relaxed))
			break;
	}
	r->misses = misses;
	getrusage(RUSAGE_THREAD, &ru1);
	r->vcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
	return NULL;
}

struct result {
	double mops, cpu_pct, miss_pct, vcsw_per_kop;
};



static void
sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

static uint64_t
sum_ops(struct run *r, int threads)
{
	uint64_t s = 0;
	for (int i = 0; i < threads; i++)
		s += atomic_load_explicit(&r[i].ops, memory_order_relaxed);
	return s;
}

static struct result
run_cell(struct table *t, size_t n, unsigned write_pct, int threads,
         atomic_uint_least64_t *cursor, uint32_t **lat, size_t lat_cap, size_t *lat_n)
{
	struct run r[2];
	pthread_t th[2];
	atomic_int stop = 0;
	for (int i = 0; i < threads; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].t = t;
		r[i].n = n;
		r[i].write_pct = write_pct;
		r[i].cursor = cursor;
		r[i].stop = &stop;
		r[i].seed = (unsigned)i + (unsigned)(atomic_load(cursor) % 1024);
		r[i].lat = lat ? lat[i] : NULL;
		r[i].lat_cap = lat_cap;
		pthread_create(&th[i], NULL, worker, &r[i]);
	}
	sleep_s(0.2);           /* warm-up, not counted */
	uint64_t o0 = sum_ops(r, threads), w0 = now_ns(), c0 = cpu_ns();
	sleep_s(cell_seconds);
	uint64_t o1 = sum_ops(r, threads), w1 = now_ns(), c1 = cpu_ns();
	atomic_store(&stop, 1);
	uint64_t misses = 0, total = 0;
	long blocked = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		misses += r[i].misses;
		total += atomic_load(&r[i].ops);
		blocked += r[i].vcsw;
		if (lat_n)
			lat_n[i] = r[i].lat_n;
	}
	struct result res;
	res.mops = (double)(o1 - o0) / ((double)(w1 - w0) / 1e9) / 1e6;
	res.cpu_pct = 100.0 * (double)(c1 - c0) / (double)(w1 - w0);
	res.miss_pct = total ? 100.0 * (double)misses / (double)total : 0;
	/* How often a worker thread blocked (voluntary context switches of the
	 * workers only, warm-up included), per 1000 ops. */
	res.vcsw_per_kop = total ? 1000.0 * (double)blocked / (double)total : 0;
	return res;
}

/* ---- memory: RSS delta of building n entries, in a fresh child ---- */

static double
bytes_per_entry(enum impl impl, size_t n)
{
	int fds[2];
	double per = -1;
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct table t;
		rvk_rcu_thread_online();
		long before = rss_bytes();
		t_build(&t, impl, n);
		long after = rss_bytes();
		double v = (double)(after - before) / (double)n;
		if (write(fds[1], &v, sizeof(v)) != (ssize_t)sizeof(v))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &per, sizeof(per)) != (ssize_t)sizeof(per))
		per = -1;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return per;
}

/* ---- read-side cost of rvk_rcu_read_lock (lazy registration) ---- */

static void *
first_lock(void *arg)
{
	uint64_t t0 = now_ns();
	rvk_rcu_read_lock();    /* registers this thread: the one-off cost */
	rvk_rcu_read_unlock();
	*(uint64_t *)arg = now_ns() - t0;
	return NULL;
}

static void
read_side_cost(void)
{
	const long iters = 100000000;
	rvk_rcu_read_lock();
	rvk_rcu_read_unlock();
	uint64_t t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		rvk_rcu_read_lock();
		__asm__ __volatile__("" ::: "memory");
		rvk_rcu_read_unlock();
	}
	double rcu = (double)(now_ns() - t0) / (double)iters;
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	const long riters = iters / 5;
	t0 = now_ns();
	for (long i = 0; i < riters; i++) {
		pthread_rwlock_rdlock(&rw);
		__asm__ __volatile__("" ::: "memory");
		pthread_rwlock_unlock(&rw);
	}
	double rwl = (double)(now_ns() - t0) / (double)riters;
	uint64_t reg[5];
	for (int i = 0; i < 5; i++) {
		pthread_t th;
		pthread_create(&th, NULL, first_lock, &reg[i]);
		pthread_join(th, NULL);
	}
	uint64_t regmin = reg[0];
	for (int i = 1; i < 5; i++)
		regmin = reg[i] < regmin ? reg[i] : regmin;
	printf("READSIDE rvk_rcu_read_lock+unlock (memb, lazy registration check): %.2f ns/pair\n", rcu);
	printf("READSIDE pthread_rwlock_rdlock+unlock, uncontended:                %.2f ns/pair\n", rwl);
	printf("READSIDE first read section on a new thread (registers it):        %.1f us (best of 5)\n",
	       (double)regmin / 1000.0);
}

/* ---- write latency ---- */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void
latency(struct table *t, size_t n, atomic_uint_least64_t *cursor)
{
	const size_t cap = 4u << 20;
	uint32_t *lat[2] = { malloc(cap * 4), malloc(cap * 4) };
	size_t ln[2] = { 0, 0 };
	run_cell(t, n, 10, 2, cursor, lat, cap, ln);
	size_t total = ln[0] + ln[1];
	uint32_t *all = malloc((total ? total : 1) * 4);
	memcpy(all, lat[0], ln[0] * 4);
	memcpy(all + ln[0], lat[1], ln[1] * 4);
	qsort(all, total, 4, cmp_u32);
	if (total) {
		printf("LATENCY %-15s n=1M mix=90/10 threads=2 writes=%zu  p50 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.1f us\n",
		       impl_name[t->impl], total, all[total / 2] / 1e3,
		       all[(size_t)((double)total * 0.99)] / 1e3,
		       all[(size_t)((double)total * 0.999)] / 1e3, all[total - 1] / 1e3);
	}
	free(all);
	free(lat[0]);
	free(lat[1]);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		cell_seconds = atof(argv[1]);
	if (cell_seconds <= 0)
		cell_seconds = 1.0;
	if (argc > 2)
		reps = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
	const char *only = argc > 3 ? argv[3] : NULL;
	const char *only_impl = getenv("MAP_BENCH_IMPL");
	const char *only_mix = getenv("MAP_BENCH_MIX");
	const char *only_thr = getenv("MAP_BENCH_THREADS");
	bool filtered = only_impl || only_mix || only_thr;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rvk_siphash_random_key(hkey);
	rvk_rcu_thread_online();

	printf("HYPOTHESIS (DEPENDENCIES.md §6, 2 cores, 2 threads, 1M keys): the RCU syncmap\n"
	       "  matches the rwlock table read-only (>= 0.9x at 100/0 and 99/1: both are one\n"
	       "  hash + one chain walk, the rwlock adds a shared cache line), and pulls away\n"
	       "  once writers appear (>= 2.5x at 90/10, >= 4x at 50/50) because its writers\n"
	       "  never stop readers; it costs more memory (<= 128 B/entry: an rcu_head and a\n"
	       "  16-byte bucket per entry) and keeps write p99.9 low (no reader drains).\n"
	       "  Go sync.Map (same workload, run beside this) should lose at every mix.\n");
	printf("CONFIG cell=%.2fs (+0.2s warm-up), best of %d alternating runs, keys=36-char UUID, hash=SipHash-2-4 (both),\n"
	       "  presize=next_pow2(n) buckets (both), write=churn (delete oldest + insert new)\n", cell_seconds, reps);

	if (!filtered) {
		read_side_cost();
		double mem[2];
		make_keys(1000000);
		mem[SYNCMAP] = bytes_per_entry(SYNCMAP, 1000000);
		mem[BASELINE] = bytes_per_entry(BASELINE, 1000000);
		printf("MEM syncmap        n=1M RSS delta %.1f B/entry (36-byte key inside the node)\n", mem[SYNCMAP]);
		printf("MEM rwlock+chained n=1M RSS delta %.1f B/entry\n", mem[BASELINE]);
	}

	static const size_t sizes[] = { 10000, 1000000 };
	static const unsigned mixes[] = { 0, 1, 10, 50 };
	printf("\ncolumns per implementation: Mops/s, process cpu%% (200%% = both cores),\n"
	       "  worker threads' voluntary context switches per 1000 ops (how often one blocked)\n");
	printf("%-6s %-6s %-3s | %-25s | %-25s | %s\n", "n", "mix", "thr",
	       "syncmap  Mops  cpu  vcsw/k", "rwlock   Mops  cpu  vcsw/k", "syncmap/rwlock");
	for (size_t si = 0; si < 2; si++) {
		size_t n = sizes[si];
		if (only && strcmp(only, n == 10000 ? "10k" : "1M") != 0)
			continue;
		make_keys(n);
		struct table tab[2];
		atomic_uint_least64_t cursor[2];
		for (int i = 0; i < 2; i++) {
			t_build(&tab[i], (enum impl)i, n);
			atomic_init(&cursor[i], 0);
		}
		for (size_t mi = 0; mi < 4; mi++) {
			if (only_mix && (unsigned)atoi(only_mix) != mixes[mi])
				continue;
			for (int thr = 1; thr <= 2; thr++) {
				if (only_thr && atoi(only_thr) != thr)
					continue;
				struct result r[2] = { { 0, 0, 0, 0 }, { 0, 0, 0, 0 } };
				for (int rep = 0; rep < reps; rep++) {
					for (int i = 0; i < 2; i++) {
						if (only_impl && strncmp(only_impl, i == SYNCMAP ?
						    "syncmap" : "rwlock", strlen(only_impl)) != 0)
							continue;
						struct result x = run_cell(&tab[i], n, mixes[mi], thr,
						                           &cursor[i], NULL, 0, NULL);
						if (x.mops > r[i].mops)
							r[i] = x;
					}
				}
				char mix[16];
				snprintf(mix, sizeof(mix), "%u/%u", 100 - mixes[mi], mixes[mi]);
				printf("%-6s %-6s %-3d | %8.2f %4.0f%% %7.3f | %8.2f %4.0f%% %7.3f | %5.2fx\n",
				       n == 10000 ? "10k" : "1M", mix, thr,
				       r[0].mops, r[0].cpu_pct, r[0].vcsw_per_kop,
				       r[1].mops, r[1].cpu_pct, r[1].vcsw_per_kop,
				       r[1].mops > 0 ? r[0].mops / r[1].mops : 0);
			}
		}
		if (n == 1000000 && !filtered) {
			printf("\n");
			for (int i = 0; i < 2; i++)
				latency(&tab[i], n, &cursor[i]);
		}
		for (int i = 0; i < 2; i++)
			t_free(&tab[i]);
	}
	rvk_rcu_barrier();
	free(keys);
	return 0;
}
