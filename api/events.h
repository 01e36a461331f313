/*
 * events.h - revocation events (REFERENCE §5.1 JSON) into revocations (REFERENCE §4).
 *
 * The body of the admin API's POST and of the Standard Webhooks endpoint:
 * one event object, or {"events":[...]} with 1 to RVK_EVENTS_MAX events.
 * Event types: token.revoked (jti, exp), session.revoked (sid),
 * subject.revoked (sub), issuer.revoked, key.revoked (kid); each with
 * optional iss, at, reason. Unknown members are ignored.
 *
 * Defaults and rules applied here, so every caller records the same thing:
 *   - iss may be omitted when exactly one issuer is configured; when given
 *     it must name a configured issuer.
 *   - at defaults to opts->default_at (admin: now; webhook: the
 *     webhook-timestamp) and may not lie more than leeway in the future.
 *   - token: expires_at = exp when given, else at + max_token_lifetime.
 *     An exp later than any acceptable token could carry
 *     (now + leeway + max_token_lifetime) is cut to that bound, so a typo
 *     cannot pin a row for centuries.
 *   - session, subject, issuer: expires_at = at + max_token_lifetime.
 *   - key: expires_at = RVK_NEVER (lasts until deleted).
 *   - reason: a string or null (absent = null), at most RVK_EVENTS_MAX_REASON
 *     bytes; IDs are non-empty strings of at most RVK_ID_MAX (255) bytes
 *     (base/id.h).
 * Validation is all or nothing: the first bad event stops the parse and the
 * message names it ("events[3].jti: missing").
 *
 * Threads: pure; thread-safe. No I/O, no clock (now is a parameter).
 * Security: the body is untrusted; JSON with duplicate members, invalid
 * UTF-8 or \u0000 is refused (jansson).
 */
#ifndef RVK_API_EVENTS_H
#define RVK_API_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/issuer.h"
#include "base/result.h"
#include "store/store.h"

#define RVK_EVENTS_MAX RVK_STORE_MAX_BATCH      /* 10,000 */
#define RVK_EVENTS_MAX_REASON 1024

typedef struct rvk_events_opts {
	const rvk_issuers_t *issuers;    /* borrowed */
	int64_t leeway;
	int64_t max_token_lifetime;
	int64_t now;
	int64_t default_at;              /* `at` of events that have none */
	rvk_source_t source;             /* written into every revocation */
} rvk_events_opts_t;

/*
 * The Standard Webhooks envelope is accepted too: {"type": "...",
 * "timestamp": "<RFC 3339>", "data": {...}} is the one event made of data's
 * members and the envelope's type, its timestamp the default `at`.
 */

/* Parses an RFC 3339 date-time ("2026-12-06T11:00:00.5Z", offsets allowed)
 * into Unix seconds (fraction dropped). Returns: false when s is not one. */
bool rvk_events_rfc3339(const char *s, int64_t *out);

/*
 * Parses body (len bytes, need not be NUL-terminated) and validates it.
 * Requires: opts->issuers non-NULL.
 * Returns: RVK_OK with *revs (owned: rvk_events_free) and *n >= 1;
 * RVK_EINVAL (bad JSON or a bad event: 400) or RVK_EBUSY (more than
 * RVK_EVENTS_MAX events: 413) with a message in err. Outputs are written
 * only on RVK_OK.
 */
rvk_result_t rvk_events_parse(const char *body, size_t len,
                              const rvk_events_opts_t *opts,
                              rvk_revocation_t **revs, size_t *n, char *err,
                              size_t errlen);

/* As rvk_events_parse, on an already parsed document (borrowed). */
rvk_result_t rvk_events_from_json(const json_t *root,
                                  const rvk_events_opts_t *opts,
                                  rvk_revocation_t **revs, size_t *n, char *err,
                                  size_t errlen);

/* Frees n revocations and the array. NULL is fine. */
void rvk_events_free(rvk_revocation_t *revs, size_t n);

#endif
