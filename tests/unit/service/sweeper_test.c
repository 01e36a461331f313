/*
 * The sweeper's stop ends a walk in progress at its next chunk (service/
 * sweeper.h), instead of waiting for a walk of the whole revocation table
 * (docs/BENCHMARKS.md, "Scale": 92 s to stop at 10M revocations). No clock
 * is asserted: the walk is held at its first chunk by the on_chunk option,
 * and the table's own count says how far it went.
 */
#include <semaphore.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "base/rcu.h"
#include "cache/revtable.h"
#include "cache/syncmap.h"
#include "cache/vcache.h"
#include "service/sweeper.h"
#include "tests/support/tap.h"

/* ~49 chunks: a stop at the first one leaves almost all of them. */
#define ENTRIES 200000

struct hold {
	sem_t in_walk;          /* posted at the first chunk */
	sem_t go;               /* the walk goes on once this is posted */
	atomic_int chunks;
};

static void
on_chunk(void *arg)
{
	struct hold *h = arg;
	if (atomic_fetch_add(&h->chunks, 1) == 0) {
		sem_post(&h->in_walk);
		while (sem_wait(&h->go) != 0)
			;
	}
}

/* A table of ENTRIES token revocations that expired an hour ago. */
static rvk_revtable_t *
expired_table(void)
{
	rvk_revtable_t *t = rvk_revtable_new(ENTRIES, 0);
	int64_t now = rvk_clock_now();
	char id[32];
	for (int i = 0; i < ENTRIES; i++) {
		int n = snprintf(id, sizeof(id), "jti-%08d", i);
		rvk_revtable_put(t, RVK_REV_TOKEN, "iss", 3, id, (size_t)n,
		                 now - 7200, now - 3600);
	}
	return t;
}

TAP_TEST(a_stop_ends_the_walk_in_progress_at_its_next_chunk)
{
	rvk_app_t app;
	memset(&app, 0, sizeof(app));
	app.revtable = expired_table();
	app.vcache = rvk_vcache_new(16, free);
	TAP_CHECK_INT(rvk_revtable_count(app.revtable, RVK_REV_TOKEN), ENTRIES);

	struct hold h;
	sem_init(&h.in_walk, 0, 0);
	sem_init(&h.go, 0, 0);
	atomic_init(&h.chunks, 0);
	rvk_sweeper_opts_t opts = { .on_chunk = on_chunk, .on_chunk_arg = &h };
	rvk_sweeper_t *sw = rvk_sweeper_start_with(&app, &opts);
	TAP_CHECK(sw != NULL);
	/* The first sweep is due a second after the start. */
	while (sem_wait(&h.in_walk) != 0)
		;
	/* The walk has done exactly one chunk and waits: ask for the stop,
	 * then let it go on. */
	rvk_sweeper_request_stop(sw);
	sem_post(&h.go);
	rvk_sweeper_stop(sw);

	/* It stopped at the chunk it was at: one chunk of entries removed
	 * (every one had expired), the rest left for the next start. A walk
	 * that ignored the stop would have removed all ENTRIES. */
	TAP_CHECK_INT(atomic_load(&h.chunks), 1);
	TAP_CHECK_INT(rvk_revtable_count(app.revtable, RVK_REV_TOKEN),
	              ENTRIES - RVK_SYNCMAP_WALK_CHUNK);
	/* What it removed, it removed whole: a second sweep finds exactly the
	 * rest. */
	TAP_CHECK_INT(rvk_revtable_sweep(app.revtable, rvk_clock_now()),
	              ENTRIES - RVK_SYNCMAP_WALK_CHUNK);
	TAP_CHECK_INT(rvk_revtable_count(app.revtable, RVK_REV_TOKEN), 0);

	sem_destroy(&h.in_walk);
	sem_destroy(&h.go);
	rvk_vcache_free(app.vcache);
	rvk_revtable_free(app.revtable);
}

static bool
yes(void *arg)
{
	(*(int *)arg)++;
	return true;
}

TAP_TEST(go_on_is_asked_every_chunk_and_yes_walks_to_the_end)
{
	rvk_revtable_t *t = expired_table();
	int asked = 0;
	size_t n = rvk_revtable_sweep_until(t, rvk_clock_now(), yes, &asked);
	TAP_CHECK_INT(n, ENTRIES);
	TAP_CHECK_INT(asked, ENTRIES / RVK_SYNCMAP_WALK_CHUNK);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), 0);
	rvk_revtable_free(t);
}

int
main(void)
{
	rvk_rcu_thread_online();
	return tap_main(TAP_LIST(a_stop_ends_the_walk_in_progress_at_its_next_chunk,
	                         go_on_is_asked_every_chunk_and_yes_walks_to_the_end));
}
