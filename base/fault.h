/*
 * fault.h - fault points: make the Nth call of a named operation fail.
 *
 * Following SQLite's FAULTSIM habit, code that can fail in production for
 * reasons a test cannot otherwise provoke (an allocation a peer sized, an
 * SQLite step, an fsync, a curl transfer, a Redis command) asks
 * RVK_FAULT("name") first and takes its failure path when it answers true.
 *
 * Arming: rvk_fault_arm("name", n, count) from a unit test, or the
 * environment of the server process: REVOKD_FAULTS="name:N[:COUNT],..."
 * read once by rvk_fault_init_from_env(). The Nth call (1-based) of that
 * point and the COUNT-1 calls after it fail (COUNT 0 means "forever").
 * Unarmed points cost one relaxed atomic load.
 *
 * Names in use: "alloc" (rvk_trymalloc), "store.step", "store.commit",
 * "store.fsync" (see store/), "curl" (service/keyfetch.c: a JWKS or discovery
 * transfer), "redis" (store/replica.c).
 *
 * Threads: arming is not thread-safe (do it before starting threads);
 * RVK_FAULT may be called from any thread.
 * Build: meson -Dfault_injection (a feature): auto, the default, compiles the
 * points in except in release and minsize builds; disabled compiles every
 * point to false, and then a set REVOKD_FAULTS stops the process at start
 * (exit 2). `revokd version` and meson's summary say which.
 */
#ifndef RVK_BASE_FAULT_H
#define RVK_BASE_FAULT_H

#include <stdbool.h>

extern int rvk_fault_armed;
/* The slow path of RVK_FAULT (declared in every build; used only by it). */
bool rvk_fault_hit(const char *name);
#ifdef RVK_FAULT_INJECTION
#define RVK_FAULT(name)                                                       \
	(__builtin_expect(__atomic_load_n(&rvk_fault_armed, __ATOMIC_RELAXED), 0) \
	 && rvk_fault_hit(name))
#else
#define RVK_FAULT(name) false
#endif

/* Requires: name non-NULL; nth >= 1. Re-arming a name resets its counter. */
void rvk_fault_arm(const char *name, unsigned long nth, unsigned long count);
/* Disarms every point. */
void rvk_fault_reset(void);
/* Returns: 0, or -1 when REVOKD_FAULTS is malformed (message on stderr). */
int rvk_fault_init_from_env(void);
/* Returns: how many times the point fired since it was armed. */
unsigned long rvk_fault_fired(const char *name);

#endif
