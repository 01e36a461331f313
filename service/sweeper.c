/*
 * sweeper.c - the sweeper thread (service/sweeper.h).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/check.h"
#include "base/clock.h"
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
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

/* When a table's next sweep is due, on the monotonic clock. */
struct pace {
	uint64_t due_ns;
};

/* Runs sweep() when due and schedules the next one. Returns: entries swept. */
static size_t
paced(struct pace *p, size_t (*sweep)(void *, int64_t), void *table, int64_t now)
{
	uint64_t t0 = rvk_clock_mono_ns();
	if (t0 < p->due_ns)
		return 0;
	size_t n = sweep(table, now);
	uint64_t took = rvk_clock_mono_ns() - t0;
	uint64_t wait = took * SWEEP_PACE;
	if (wait < (uint64_t)SWEEP_INTERVAL_MS * 1000000u)
		wait = (uint64_t)SWEEP_INTERVAL_MS * 1000000u;
	/* Due slightly early, so a 1 s wait is not missed by a timer's jitter. */
	p->due_ns = t0 + wait - wait / 16;
	return n;
}

static size_t
sweep_revtable(void *t, int64_t now)
{
	return rvk_revtable_sweep(t, now);
}

static size_t
sweep_vcache(void *t, int64_t now)
{
	return rvk_vcache_sweep(t, now);
}

static size_t
sweep_syncmap(void *t, int64_t now)
{
	return rvk_syncmap_sweep(t, now);
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
		size_t swept = paced(&p_rev, sweep_revtable, rt->app->revtable, now);
		swept += paced(&p_vc, sweep_vcache, rt->app->vcache, now);
		if (rt->app->seen)
			swept += paced(&p_seen, sweep_syncmap, rt->app->seen, now);
		if (swept >= TRIM_AFTER_SWEPT) {
			/* Swept nodes are freed by call_rcu; once they are, give the
			 * pages back, so an idle process returns to its baseline RSS
			 * instead of keeping the peak of its last burst. */
			rvk_rcu_barrier();
			malloc_trim(0);
		}
		if (++n % PURGE_EVERY_SWEEPS == 0 && rt->app->store) {
			size_t purged = 0;
			if (rvk_store_purge(rt->app->store, now, &purged) == RVK_OK && purged) {
				char num[32];
				snprintf(num, sizeof(num), "%zu", purged);
				rvk_log(RVK_LOG_INFO, "expired revocations purged", "rows", num, NULL);
			}
		}
		pthread_mutex_lock(&rt->mu);
	}
	pthread_mutex_unlock(&rt->mu);
	return NULL;
}

rvk_sweeper_t *
rvk_sweeper_start(rvk_app_t *app)
{
	RVK_REQUIRE(app != NULL && app->revtable != NULL && app->vcache != NULL);
	rvk_sweeper_t *sw = rvk_calloc(1, sizeof(*sw));
	sw->app = app;
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
rvk_sweeper_stop(rvk_sweeper_t *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->mu);
	sw->stopping = true;
	pthread_cond_signal(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
	pthread_join(sw->thread, NULL);
	pthread_mutex_destroy(&sw->mu);
	pthread_cond_destroy(&sw->cv);
	free(sw);
}
