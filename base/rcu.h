/*
 * rcu.h - the only file of revokd that includes liburcu.
 *
 * Flavour: memb (sys_membarrier), the cheapest read side that does not need
 * quiescent-state announcements (qsbr would stall grace periods behind an MHD
 * worker blocked in epoll). memb readers MUST be registered, or grace periods
 * do not wait for them (DECISIONS D6: a silent use-after-free). Threads
 * of libmicrohttpd's pool are not ours, so rvk_rcu_read_lock() registers the
 * calling thread lazily, on its first read section; a pthread key destructor
 * unregisters it when the thread exits. The check is one thread-local load.
 *
 * Readers: rvk_rcu_read_lock() / rvk_rcu_read_unlock() around every lookup;
 * nothing found inside may be used after the unlock. Read sections nest.
 * Writers: publish with rvk_rcu_assign_pointer(), free old objects with
 * rvk_rcu_call() (deferred, after a grace period) or after
 * rvk_rcu_synchronize(). Call rvk_rcu_barrier() before exit so deferred
 * frees have run (LeakSanitizer, clean shutdown).
 *
 * Threads: every function may be called from any thread. rvk_rcu_synchronize
 * and rvk_rcu_barrier must not be called inside a read section.
 */
#ifndef RVK_BASE_RCU_H
#define RVK_BASE_RCU_H

#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>
#include <urcu/compiler.h>
#include <urcu/uatomic.h>

extern __thread int rvk_rcu_registered;
void rvk_rcu_register_slow(void);

/* Under ThreadSanitizer, the grace period is said aloud: every read-side
 * unlock releases rvk_rcu_tsan_gp and every deferred free (rvk_rcu_call,
 * rvk_rcu_defer) and every return of rvk_rcu_synchronize acquires it, so
 * what a reader did inside its section happens-before the free that waited
 * for it. liburcu's own wait (sys_membarrier, futex) is invisible to TSan:
 * without this, every read-vs-free pair is a false report, and silencing
 * those by suppression (the call_rcu thread's module) also silenced a reader
 * that forgot its read lock. A reader without a section still races with the
 * free as long as its thread has not unlocked another section in between:
 * a thread that never takes a read lock is always reported. */
#if defined(__SANITIZE_THREAD__)
#define RVK_RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RVK_RCU_TSAN 1
#endif
#endif
#ifdef RVK_RCU_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char rvk_rcu_tsan_gp;
#define RVK_TSAN_RELEASE(p) __tsan_release(p)
#define RVK_TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define RVK_TSAN_RELEASE(p) ((void)(p))
#define RVK_TSAN_ACQUIRE(p) ((void)(p))
#endif

static inline void
rvk_rcu_read_lock(void)
{
	if (__builtin_expect(!rvk_rcu_registered, 0))
		rvk_rcu_register_slow();
	urcu_memb_read_lock();
}

static inline void
rvk_rcu_read_unlock(void)
{
#ifdef RVK_RCU_TSAN
	__tsan_release(&rvk_rcu_tsan_gp);
#endif
	urcu_memb_read_unlock();
}

/* Registers the calling thread now (for threads we own, at start). */
static inline void
rvk_rcu_thread_online(void)
{
	if (!rvk_rcu_registered)
		rvk_rcu_register_slow();
}

/* Under ThreadSanitizer, publication and lookup are spelled as C11
 * release/acquire atomics: liburcu's macros are a volatile access plus a
 * barrier TSan cannot see, so every object published by RCU (a keyring
 * swapped in by a JWKS refresh) would be reported as a race with its
 * initialisation. Same ordering, visible to TSan; other builds keep
 * liburcu's macros. */
#ifdef RVK_RCU_TSAN
#define rvk_rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rvk_rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define rvk_rcu_xchg_pointer(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#else
#define rvk_rcu_dereference(p) rcu_dereference(p)
#define rvk_rcu_assign_pointer(p, v) rcu_assign_pointer(p, v)
#define rvk_rcu_xchg_pointer(p, v) rcu_xchg_pointer(p, v)
#endif

/* An ordering liburcu provides but TSan cannot see (a call_rcu hand-off, a
 * cds_lfht publication), said aloud to TSan: RVK_TSAN_RELEASE(p) where the
 * object is handed over, RVK_TSAN_ACQUIRE(p) where it is taken. No-ops in
 * other builds (defined above, with RVK_RCU_TSAN). */

typedef struct rcu_head rvk_rcu_head_t;

#ifdef RVK_RCU_TSAN
/* rcu.c: call_rcu through a callback that acquires rvk_rcu_tsan_gp first. */
void rvk_rcu_call_tsan(rvk_rcu_head_t *head, void (*fn)(rvk_rcu_head_t *));
#endif

static inline void
rvk_rcu_call(rvk_rcu_head_t *head, void (*fn)(rvk_rcu_head_t *))
{
	rvk_rcu_thread_online();
#ifdef RVK_RCU_TSAN
	rvk_rcu_call_tsan(head, fn);
#else
	urcu_memb_call_rcu(head, fn);
#endif
}

static inline void
rvk_rcu_synchronize(void)
{
	rvk_rcu_thread_online();
	urcu_memb_synchronize_rcu();
#ifdef RVK_RCU_TSAN
	__tsan_acquire(&rvk_rcu_tsan_gp);
#endif
}

/*
 * Batched deferral, for hot paths that retire an object per operation (the
 * syncmap retires a node per write). rvk_rcu_defer(head, fn) has the
 * contract of rvk_rcu_call (fn(head) runs after a grace period that starts
 * after the call) but only pushes head onto the calling thread's pending
 * list; every RVK_RCU_DEFER_BATCH heads, the thread hands its whole list to
 * call_rcu as ONE callback. rvk_rcu_call per object costs each writer a full
 * barrier and three cache lines shared with every other writer and with
 * liburcu's call_rcu thread (queue tail, queue length, its futex), plus a
 * futex wake of that thread whenever it sleeps: on 2 cores, writes stopped
 * scaling with threads (docs/BENCHMARKS.md, map benchmark).
 * Pending heads are handed over by rvk_rcu_defer_flush() (every thread's
 * list; rvk_rcu_barrier calls it first, so "barrier, then everything
 * deferred before it has run" still holds) and when their thread exits, so
 * nothing is lost; between flushes a thread holds at most
 * RVK_RCU_DEFER_BATCH - 1 objects.
 * Threads: any thread, inside or outside a read section.
 */
#define RVK_RCU_DEFER_BATCH 64
void rvk_rcu_defer(rvk_rcu_head_t *head, void (*fn)(rvk_rcu_head_t *));
/* Hands every thread's pending deferred heads to call_rcu now (one mutex,
 * one exchange per thread that ever registered). Threads: any thread. */
void rvk_rcu_defer_flush(void);

static inline void
rvk_rcu_barrier(void)
{
	rvk_rcu_thread_online();
	rvk_rcu_defer_flush();
	urcu_memb_barrier();
}

/* The flavour table handed to cds_lfht_new_flavor(). */
#define RVK_RCU_FLAVOR (&urcu_memb_flavor)

#endif
