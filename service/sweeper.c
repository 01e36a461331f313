/*
 * sweeper.c - the sweeper thread (service/sweeper.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "service/sweeper.h"

#define SWEEP_INTERVAL_MS 1000
/* A sweep walks its whole table (250-500 ms for 1M entries, DECISIONS
 * D7): the next one waits at least this many times as long as the last walk
 * took, so sweeping costs at most ~2% of one core however large the table,
 * and a 1M-entry table is swept every ~10-25 s instead of stealing a third
 * of a core from /auth every second. */
#define SWEEP_PACE 50
#define PURGE_EVERY_SWEEPS 60
#define TRIM_AFTER_SWEPT 1024

struct rvk_sweeper {
	rvk_app_t *app;
	rvk_sweeper_opts_t opts;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;          /* under mu: the wait's condition */
	/* Set by rvk_sweeper_stop before it takes mu: read without the lock
	 * by a walk between chunks and by the purge between batches. */
	atomic_bool stop;
};

/* When a table's next sweep is due, on the monotonic clock. */
struct pace {
	uint64_t due_ns;
};

/* Runs sweep() when due and schedules the next one. Returns: entries swept. */
static size_t
paced(struct pace *p, size_t (*sweep)(rvk_sweeper_t *, void *, int64_t),
      rvk_sweeper_t *sw, void *table, int64_t now)
{
	uint64_t t0 = rvk_clock_mono_ns();
	if (t0 < p->due_ns || atomic_load_explicit(&sw->stop, memory_order_relaxed))
		return 0;
	size_t n = sweep(sw, table, now);
	uint64_t took = rvk_clock_mono_ns() - t0;
	uint64_t wait = took * SWEEP_PACE;
	if (wait < (uint64_t)SWEEP_INTERVAL_MS * 1000000u)
		wait = (uint64_t)SWEEP_INTERVAL_MS * 1000000u;
	/* Due slightly early, so a 1 s wait is not missed by a timer's jitter. */
	p->due_ns = t0 + wait - wait / 16;
	return n;
}

/* Between two chunks of a walk: false once a stop was asked for. */
static bool
go_on(void *arg)
{
	rvk_sweeper_t *sw = arg;
	return !atomic_load_explicit(&sw->stop, memory_order_relaxed);
}

/* go_on for the revocation table, the walk that grows with the stored
 * revocations: the options' on_chunk first. */
static bool
go_on_revtable(void *arg)
{
	rvk_sweeper_t *sw = arg;
	if (sw->opts.on_chunk)
		sw->opts.on_chunk(sw->opts.on_chunk_arg);
	return go_on(sw);
}

static size_t
sweep_revtable(rvk_sweeper_t *sw, void *t, int64_t now)
{
	return rvk_revtable_sweep_until(t, now, go_on_revtable, sw);
}

/* The verified cache is bounded by verified_cache.max_entries: its walk
 * does not grow with the stored revocations. */
static size_t
sweep_vcache(rvk_sweeper_t *sw, void *t, int64_t now)
{
	(void)sw;
	return rvk_vcache_sweep(t, now);
}

static size_t
sweep_syncmap(rvk_sweeper_t *sw, void *t, int64_t now)
{
	return rvk_syncmap_sweep_until(t, now, go_on, sw);
}

/* Expired rows out of the database, RVK_STORE_PURGE_BATCH per transaction,
 * until none is left or a stop is asked for. */
static void
purge(rvk_sweeper_t *sw, int64_t now)
{
	size_t total = 0, n;
	do {
		n = 0;
		if (rvk_store_purge(sw->app->store, now, &n) != RVK_OK)
			break;
		total += n;
	} while (n == RVK_STORE_PURGE_BATCH && go_on(sw));
	if (total) {
		char num[32];
		snprintf(num, sizeof(num), "%zu", total);
		rvk_log(RVK_LOG_INFO, "expired revocations purged", "rows", num, NULL);
	}
}

/*
 * The sweeper: expired entries leave the tables every second (less often
 * for a table so large that walking it costs more than SWEEP_PACE allows),
 * and rows that can deny nothing leave the database every minute, so with
 * no traffic memory returns to its baseline.
 */
static void *
sweeper_main(void *arg)
{
	rvk_sweeper_t *rt = arg;
	/* Named, so its CPU can be told apart in /proc/PID/task/TID/comm
	 * (docs/OPERATIONS.md §2, "Threads"). */
	pthread_setname_np(pthread_self(), "rvk-sweeper");
	rvk_rcu_thread_online();
	unsigned n = 0;
	struct pace p_rev = { 0 }, p_vc = { 0 }, p_seen = { 0 };
	pthread_mutex_lock(&rt->mu);
	while (!rt->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += SWEEP_INTERVAL_MS / 1000;
		pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
		if (rt->stopping)
			break;
		pthread_mutex_unlock(&rt->mu);
		int64_t now = rvk_clock_now();
		size_t swept = paced(&p_rev, sweep_revtable, rt, rt->app->revtable, now);
		swept += paced(&p_vc, sweep_vcache, rt, rt->app->vcache, now);
		if (rt->app->seen)
			swept += paced(&p_seen, sweep_syncmap, rt, rt->app->seen, now);
		if (swept >= TRIM_AFTER_SWEPT && go_on(rt)) {
			/* Swept nodes are freed by call_rcu; once they are, give the
			 * pages back, so an idle process returns to its baseline RSS
			 * instead of keeping the peak of its last burst. */
			rvk_rcu_barrier();
			rvk_heap_release();
		}
		if (++n % PURGE_EVERY_SWEEPS == 0 && rt->app->store && go_on(rt))
			purge(rt, now);
		pthread_mutex_lock(&rt->mu);
	}
	pthread_mutex_unlock(&rt->mu);
	return NULL;
}

rvk_sweeper_t *
rvk_sweeper_start(rvk_app_t *app)
{
	return rvk_sweeper_start_with(app, NULL);
}

rvk_sweeper_t *
rvk_sweeper_start_with(rvk_app_t *app, const rvk_sweeper_opts_t *opts)
{
	RVK_REQUIRE(app != NULL && app->revtable != NULL && app->vcache != NULL);
	rvk_sweeper_t *sw = rvk_calloc(1, sizeof(*sw));
	sw->app = app;
	if (opts)
		sw->opts = *opts;
	atomic_init(&sw->stop, false);
	pthread_mutex_init(&sw->mu, NULL);
	pthread_cond_init(&sw->cv, NULL);
	if (pthread_create(&sw->thread, NULL, sweeper_main, sw) != 0) {
		pthread_mutex_destroy(&sw->mu);
		pthread_cond_destroy(&sw->cv);
		free(sw);
		return NULL;
	}
	return sw;
}

void
rvk_sweeper_request_stop(rvk_sweeper_t *sw)
{
	if (!sw)
		return;
	/* First, without the lock: the sweeper holds no lock while it walks,
	 * and looks at this between chunks. */
	atomic_store_explicit(&sw->stop, true, memory_order_relaxed);
	pthread_mutex_lock(&sw->mu);
	sw->stopping = true;
	pthread_cond_signal(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

void
rvk_sweeper_stop(rvk_sweeper_t *sw)
{
	if (!sw)
		return;
	rvk_sweeper_request_stop(sw);
	pthread_join(sw->thread, NULL);
	pthread_mutex_destroy(&sw->mu);
	pthread_cond_destroy(&sw->cv);
	free(sw);
}
