/*
 * pool.h - a small bounded set of idle objects of one kind (OpenSSL verify
 * contexts, scratch state), so a hot path reuses them instead of making
 * one per call.
 *
 * A thread takes an object, uses it alone and gives it back; a pool keeps
 * at most RVK_POOL_MAX idle (more threads than that at once make their own,
 * and the surplus is handed back to be freed). The pool never makes or
 * frees objects: its owner does, with what take and give return.
 * Threads: take and give may run on any threads at once (one mutex);
 * init and fini on one thread, with no take or give running.
 */
#ifndef RVK_BASE_POOL_H
#define RVK_BASE_POOL_H

#include <pthread.h>
#include <stddef.h>

#define RVK_POOL_MAX 16

typedef struct rvk_pool {
	pthread_mutex_t mu;
	size_t n;
	void *idle[RVK_POOL_MAX];
} rvk_pool_t;

void rvk_pool_init(rvk_pool_t *p);

/* Calls free_fn on each idle object, then destroys the pool. */
void rvk_pool_fini(rvk_pool_t *p, void (*free_fn)(void *));

/* Returns: an idle object (now the caller's), or NULL when none is idle. */
void *rvk_pool_take(rvk_pool_t *p);

/* Gives obj back. Returns: NULL when kept, else obj (the pool is full: the
 * caller frees it). */
void *rvk_pool_give(rvk_pool_t *p, void *obj);

#endif
