/*
 * sweeper.h - the sweeper thread: expired entries out of the revocation
 * table, the verified cache and the seen-set every second (a table whose
 * walk takes longer is swept less often: the next sweep waits 50x the last
 * walk, DECISIONS D7), expired rows out of SQLite every minute, and the
 * freed pages back to the system after a large sweep.
 *
 * Threads: start and stop from the main thread; the sweeper thread is an RCU
 * reader (rvk_rcu_thread_online) and calls the tables' sweep functions,
 * which are safe against concurrent readers and writers.
 */
#ifndef RVK_SERVICE_SWEEPER_H
#define RVK_SERVICE_SWEEPER_H

#include "api/app.h"

typedef struct rvk_sweeper rvk_sweeper_t;

/*
 * Starts the thread over app's tables and store.
 * Requires: app->revtable and app->vcache exist; app (borrowed) outlives the
 * sweeper.
 * Returns: the sweeper (owned: rvk_sweeper_stop), or NULL when no thread
 * could be created (the service then runs without sweeping).
 */
rvk_sweeper_t *rvk_sweeper_start(rvk_app_t *app);
/* Wakes, joins and frees the sweeper. NULL is a no-op. */
void rvk_sweeper_stop(rvk_sweeper_t *sw);

#endif
