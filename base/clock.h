/*
 * clock.h - time, read in one place.
 *
 * The core (auth/, cache/) never reads a clock: its functions take `now`
 * (Unix seconds) as an argument, so tests inject any time they like. Only
 * api/, store/ and service/ call these.
 *
 * Threads: thread-safe.
 */
#ifndef RVK_BASE_CLOCK_H
#define RVK_BASE_CLOCK_H

#include <stdint.h>

/* A time that never comes: expires_at of a `key` revocation. */
#define RVK_NEVER INT64_MAX

/* Returns: wall-clock Unix time in seconds. */
int64_t rvk_clock_now(void);
/* Returns: a monotonic time in nanoseconds, for durations. */
uint64_t rvk_clock_mono_ns(void);

/* Returns: a + b saturated to [INT64_MIN, INT64_MAX]. Times from a token
 * (exp, iat, nbf) may be anywhere in int64: exp + leeway must neither be
 * undefined behaviour nor wrap "expired" into "valid". Pure. */
static inline int64_t
rvk_time_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

#endif
