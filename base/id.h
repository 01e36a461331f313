/*
 * id.h - the one rule for the identifiers a revocation is made of.
 *
 * Every ID that becomes a revocation (jti, sid, sub, kid) and every issuer,
 * from every source (admin, webhook, SET, logout token, RFC 7009, Keycloak,
 * a replica's stream), is a non-empty string of at most RVK_ID_MAX bytes
 * without NUL. Intake paths check it to answer 4xx; the store refuses to
 * record anything else and skips (and logs) older rows that break it, so no
 * row can stop a restart (docs/SECURITY.md, "Security round 2"). The
 * revocation-level form, with the issuer revocation's empty ID, is
 * rvk_rev_key_valid (cache/revtable.h).
 *
 * Threads: pure.
 */
#ifndef RVK_BASE_ID_H
#define RVK_BASE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define RVK_ID_MAX 255

/* Requires: s readable for len bytes (may be NULL when len is 0).
 * Returns: whether s[0..len) may be an ID or an issuer of a revocation. */
static inline bool
rvk_id_valid(const char *s, size_t len)
{
	return s != NULL && len >= 1 && len <= RVK_ID_MAX
	       && memchr(s, '\0', len) == NULL;
}

/* As rvk_id_valid, for a NUL-terminated string (NULL: false). */
static inline bool
rvk_id_valid_str(const char *s)
{
	return s != NULL && rvk_id_valid(s, strnlen(s, RVK_ID_MAX + 1));
}

#endif
