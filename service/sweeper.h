/*
 * sweeper.h - the sweeper thread: expired entries out of the revocation
 * table, the verified cache and the seen-set every second (a table whose
 * walk takes longer is swept less often: the next sweep waits 50x the last
 * walk, DECISIONS D7), expired rows out of SQLite every minute, and the
 * freed pages back to the system after a large sweep.
 *
 * Threads: start, request_stop and stop from the main thread; the sweeper thread is an RCU
 * reader (rvk_rcu_thread_online) and calls the tables' sweep functions,
 * which are safe against concurrent readers and writers.
 */
#ifndef RVK_SERVICE_SWEEPER_H
#define RVK_SERVICE_SWEEPER_H

#include "api/app.h"

typedef struct rvk_sweeper rvk_sweeper_t;

/*
 * Stopping: rvk_sweeper_stop sets a flag that every walk looks at between
 * chunks of RVK_SYNCMAP_WALK_CHUNK entries, and that the expired-row purge
 * looks at between its batches (RVK_STORE_PURGE_BATCH rows, each its own
 * transaction): a stop waits for one chunk or one batch, not for a walk of
 * the whole table (docs/BENCHMARKS.md, "Scale"). What a stopped sweep left
 * is expired, denies nothing, and is not loaded again at the next start.
 */
typedef struct rvk_sweeper_opts {
	/* Called on the sweeper thread between two chunks of a walk of the
	 * revocation table, before the stop flag is read; may be NULL. For
	 * tests that must hold a walk at a known point: it runs inside the
	 * walk's RCU read section. */
	void (*on_chunk)(void *arg);
	void *on_chunk_arg;
} rvk_sweeper_opts_t;

/*
 * Starts the thread over app's tables and store.
 * Requires: app->revtable and app->vcache exist; app (borrowed) outlives the
 * sweeper.
 * Returns: the sweeper (owned: rvk_sweeper_stop), or NULL when no thread
 * could be created (the service then runs without sweeping).
 */
rvk_sweeper_t *rvk_sweeper_start(rvk_app_t *app);
/* rvk_sweeper_start with options (opts may be NULL: none). */
rvk_sweeper_t *rvk_sweeper_start_with(rvk_app_t *app,
                                      const rvk_sweeper_opts_t *opts);
/* Asks the sweeper to stop and returns at once: a walk or purge in
 * progress ends at its next chunk. NULL is a no-op. */
void rvk_sweeper_request_stop(rvk_sweeper_t *sw);
/* rvk_sweeper_request_stop, then joins and frees the sweeper. NULL is a
 * no-op. */
void rvk_sweeper_stop(rvk_sweeper_t *sw);

#endif
