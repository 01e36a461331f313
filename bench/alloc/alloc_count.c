/*
 * alloc_count.so - an LD_PRELOAD shim counting malloc/calloc/realloc/
 * posix_memalign/aligned_alloc calls per thread, for bench/alloc/run.sh.
 *
 * Every STATS_MS a helper thread rewrites $ALLOC_COUNT_OUT with one line
 * per thread that ever allocated: "tid comm count". While the file
 * $ALLOC_COUNT_OUT.arm exists, the next ALLOC_BT (default 0) allocations
 * print a backtrace to stderr, to name the caller of an allocation that
 * the counts show.
 *
 * Threads: any; the counters are per thread (a slot claimed once with an
 * atomic index), so counting adds no shared write to the measured path.
 */
#define _GNU_SOURCE
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define SLOTS 512
#define STATS_MS 100

struct slot {
	_Atomic long tid;
	_Atomic unsigned long n;
};

static struct slot slots[SLOTS];
static atomic_int nslots;
static __thread struct slot *mine;
static __thread int inside;
static __thread int skip;        /* the reporter's own allocations */
static atomic_int armed;
static atomic_int bt_budget;
static char out_path[512];

static void
count(void)
{
	if (skip)
		return;
	if (!mine) {
		int i = atomic_fetch_add(&nslots, 1);
		if (i >= SLOTS)
			return;
		mine = &slots[i];
		atomic_store(&mine->tid, (long)syscall(SYS_gettid));
	}
	atomic_store_explicit(&mine->n, atomic_load_explicit(&mine->n, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	if (atomic_load_explicit(&armed, memory_order_relaxed) && !inside &&
	    atomic_fetch_sub(&bt_budget, 1) > 0) {
		inside = 1;
		void *pcs[24];
		int n = backtrace(pcs, 24);
		fprintf(stderr, "alloc_count: allocation on thread %ld:\n", (long)atomic_load(&mine->tid));
		backtrace_symbols_fd(pcs, n, 2);
		inside = 0;
	}
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }

int
posix_memalign(void **p, size_t a, size_t n)
{
	count();
	*p = __libc_memalign(a, n);
	return *p ? 0 : 12;
}

static void *
reporter(void *arg)
{
	(void)arg;
	skip = 1;
	char tmp[600], arm[600], comm_path[64], comm[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
	snprintf(arm, sizeof(arm), "%s.arm", out_path);
	const char *bt = getenv("ALLOC_BT");
	int budget = bt ? atoi(bt) : 0;
	struct timespec ts = { 0, STATS_MS * 1000000L };
	for (;;) {
		nanosleep(&ts, NULL);
		int on = access(arm, F_OK) == 0;
		if (on && !atomic_load(&armed))
			atomic_store(&bt_budget, budget);
		atomic_store(&armed, on);
		FILE *f = fopen(tmp, "w");
		if (!f)
			continue;
		int n = atomic_load(&nslots);
		for (int i = 0; i < n && i < SLOTS; i++) {
			long tid = atomic_load(&slots[i].tid);
			snprintf(comm_path, sizeof(comm_path), "/proc/self/task/%ld/comm", tid);
			strcpy(comm, "-");
			FILE *c = fopen(comm_path, "r");
			if (c) {
				if (fgets(comm, sizeof(comm), c))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(c);
			}
			fprintf(f, "%ld %s %lu\n", tid, comm, atomic_load(&slots[i].n));
		}
		fclose(f);
		rename(tmp, out_path);
	}
	return NULL;
}

__attribute__((constructor)) static void
start(void)
{
	const char *p = getenv("ALLOC_COUNT_OUT");
	if (!p || strlen(p) >= sizeof(out_path))
		return;
	strcpy(out_path, p);
	void *pcs[2];
	backtrace(pcs, 2);       /* loads libgcc now, not inside a count */
	pthread_t t;
	pthread_create(&t, NULL, reporter, NULL);
	pthread_detach(t);
}
