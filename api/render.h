/*
 * render.h - a revocation as the admin API shows it (REFERENCE §5.6,
 * docs/OPERATIONS.md), written straight into a buffer as compact JSON.
 *
 * DESIGN: the admin API built each answer as a jansson tree (an object per
 * revocation and per source, a string per field) and dumped it: on a
 * single-event create that was a dozen allocations and frees and jansson's
 * dump callbacks per request (docs/BENCHMARKS.md, "Single admin events:
 * where the CPU went"). The bytes are the ones json_dumps(JSON_COMPACT)
 * made of that tree, which tests/unit/api/render_test.c checks against
 * jansson itself: members in the same order, strings escaped as jansson
 * escapes them (\" \\ \b \f \n \r \t, other control characters as \u
 * and four hex digits, the rest as is), and a string member that is not
 * valid UTF-8 left out, as jansson left it out (json_string refused it).
 *
 * Threads: pure; the buffer is the caller's.
 */
#ifndef RVK_API_RENDER_H
#define RVK_API_RENDER_H

#include "base/buf.h"
#include "store/store.h"

/* Appends r: type, iss, id, revoked_at, expires_at (null: never), reason
 * (null: none), source, origin (only when set), and sources, every
 * source's contribution (a revocation read from the store has them; one
 * that was only recorded shows itself as its one source). */
void rvk_render_revocation(rvk_buf_t *b, const rvk_revocation_t *r);

/* Appends s as a JSON string, or null when s is NULL or not valid UTF-8. */
void rvk_render_string(rvk_buf_t *b, const char *s);

#endif
