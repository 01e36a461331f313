/*
 * pool.c - a small bounded set of idle objects (pool.h). A mutex, not a
 * lock-free stack: two uncontended lock/unlock pairs cost ~40 ns against
 * the tens of µs of the verify they serve, and there is no ABA to argue.
 */
#include "base/pool.h"

void
rvk_pool_init(rvk_pool_t *p)
{
	pthread_mutex_init(&p->mu, NULL);
	p->n = 0;
}

void
rvk_pool_fini(rvk_pool_t *p, void (*free_fn)(void *))
{
	for (size_t i = 0; i < p->n; i++)
		free_fn(p->idle[i]);
	p->n = 0;
	pthread_mutex_destroy(&p->mu);
}

void *
rvk_pool_take(rvk_pool_t *p)
{
	void *obj = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->n)
		obj = p->idle[--p->n];
	pthread_mutex_unlock(&p->mu);
	return obj;
}

void *
rvk_pool_give(rvk_pool_t *p, void *obj)
{
	pthread_mutex_lock(&p->mu);
	if (p->n < RVK_POOL_MAX) {
		p->idle[p->n++] = obj;
		obj = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	return obj;
}
