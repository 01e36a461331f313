#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/check.h"
#include "base/mem.h"
#include "base/rcu.h"

/* ThreadSanitizer cannot see call_rcu's hand-off (liburcu is not
 * instrumented): the batch handed over is released before call_rcu and
 * acquired by the callback, so TSan checks the rest. No-ops elsewhere. */
#define HANDED(p) RVK_TSAN_RELEASE(p)
#define TAKEN(p) RVK_TSAN_ACQUIRE(p)

__thread int rvk_rcu_registered;
#ifdef RVK_RCU_TSAN
char rvk_rcu_tsan_gp; /* base/rcu.h: the grace period, as TSan sees it */
#endif

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/*
 * A thread's pending deferred heads: a stack pushed (CAS) by its owner only
 * and taken whole (exchange) by the owner or by rvk_rcu_defer_flush on any
 * thread, so a push never waits and a take never misses a head. A pending
 * head is chained through its own rcu_head (next.next), which no one else
 * uses until call_rcu. The registry lists every registered thread's stack
 * for the flush; a thread leaves it at exit, under reg_mu, before its TLS
 * goes away.
 */
struct defer_q {
	_Atomic(rvk_rcu_head_t *) pending;
	unsigned n;                  /* owner only: pushes since its last hand-over */
	bool linked;                 /* owner only, changed under reg_mu */
	struct defer_q *prev, *next; /* under reg_mu */
};

/* One call_rcu callback for a whole list of heads. */
struct batch {
	rvk_rcu_head_t rcu;
	rvk_rcu_head_t *list;
};

static __thread struct defer_q dq;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct defer_q *reg_head;

static void
run_batch(rvk_rcu_head_t *h)
{
	struct batch *b = caa_container_of(h, struct batch, rcu);
	TAKEN(b);
#ifdef RVK_RCU_TSAN
	TAKEN(&rvk_rcu_tsan_gp); /* after a grace period: every unlock before it */
#endif
	for (rvk_rcu_head_t *p = b->list, *next; p; p = next) {
		next = p->next.next ? caa_container_of(p->next.next, rvk_rcu_head_t, next)
		                    : NULL;
		p->func(p);
	}
	free(b);
}

#ifdef RVK_RCU_TSAN
/* rvk_rcu_call under TSan: a batch of one, so that its callback acquires the
 * grace period (run_batch) before fn frees anything. */
void
rvk_rcu_call_tsan(rvk_rcu_head_t *head, void (*fn)(rvk_rcu_head_t *))
{
	head->func = fn;
	head->next.next = NULL;
	struct batch *b = rvk_malloc(sizeof(*b));
	b->list = head;
	HANDED(b);
	urcu_memb_call_rcu(&b->rcu, run_batch);
}
#endif

/* Requires: the calling thread is registered. */
static void
hand_over(struct defer_q *q)
{
	rvk_rcu_head_t *list = atomic_exchange_explicit(&q->pending, NULL,
	                                                memory_order_acquire);
	if (!list)
		return;
	struct batch *b = rvk_malloc(sizeof(*b));
	b->list = list;
	HANDED(b);
	urcu_memb_call_rcu(&b->rcu, run_batch);
}

void
rvk_rcu_defer(rvk_rcu_head_t *head, void (*fn)(rvk_rcu_head_t *))
{
	rvk_rcu_thread_online();
	head->func = fn;
	rvk_rcu_head_t *top = atomic_load_explicit(&dq.pending, memory_order_relaxed);
	do {
		head->next.next = top ? &top->next : NULL;
	} while (!atomic_compare_exchange_weak_explicit(&dq.pending, &top, head,
	                                                memory_order_release,
	                                                memory_order_relaxed));
	if (++dq.n >= RVK_RCU_DEFER_BATCH) {
		dq.n = 0;
		hand_over(&dq);
	}
}

void
rvk_rcu_defer_flush(void)
{
	rvk_rcu_thread_online();
	pthread_mutex_lock(&reg_mu);
	for (struct defer_q *q = reg_head; q; q = q->next)
		hand_over(q);
	pthread_mutex_unlock(&reg_mu);
}

static void
on_thread_exit(void *arg)
{
	(void)arg;
	if (rvk_rcu_registered) {
		/* Still registered: call_rcu is allowed. */
		hand_over(&dq);
		pthread_mutex_lock(&reg_mu);
		if (dq.linked) {
			if (dq.prev)
				dq.prev->next = dq.next;
			else
				reg_head = dq.next;
			if (dq.next)
				dq.next->prev = dq.prev;
			dq.linked = false;
		}
		pthread_mutex_unlock(&reg_mu);
		urcu_memb_unregister_thread();
		rvk_rcu_registered = 0;
	}
}

static void
make_key(void)
{
	RVK_REQUIRE(pthread_key_create(&key, on_thread_exit) == 0);
}

void
rvk_rcu_register_slow(void)
{
	pthread_once(&once, make_key);
	urcu_memb_register_thread();
	rvk_rcu_registered = 1;
	pthread_mutex_lock(&reg_mu);
	if (!dq.linked) {
		dq.prev = NULL;
		dq.next = reg_head;
		if (reg_head)
			reg_head->prev = &dq;
		reg_head = &dq;
		dq.linked = true;
	}
	pthread_mutex_unlock(&reg_mu);
	/* A non-NULL value is what makes the destructor run at thread exit. */
	pthread_setspecific(key, (void *)1);
}
