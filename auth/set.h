/*
 * set.h - the claim set of a Security Event Token (RFC 8417), REFERENCE §5.2.
 *
 * The receiver of RFC 8935 push delivery parses the SET (jws.h step 1),
 * finds its issuer and verifies it (jws.h steps 3-4); this module then
 * judges the claims and turns the events it understands into actions:
 *
 *   typ            "secevent+jwt" (case-insensitive, "application/" prefix
 *                  allowed), required
 *   aud            a string or array containing the configured set_audience
 *   iat, jti       required; iat not more than leeway in the future
 *   exp            if present, not passed (RFC 8417 discourages it; honoured)
 *   events         a non-empty object; each member's value an object
 *
 * Events understood (others are counted in n_ignored and skipped):
 *   CAEP session-revoked, RISC sessions-revoked, RISC account-disabled.
 * The subject is the event's `subject` member, else the top-level `sub_id`
 * (RFC 9493): jwt_id (iss + jti) -> token; iss_sub -> subject; opaque ->
 * session on CAEP, subject on RISC; complex (no format, or format
 * "complex") with `session` (an opaque id) -> session on CAEP, with only
 * `user` (iss_sub or opaque) -> subject. A subject's own `iss` must equal
 * the SET's iss. revoked_at is the event's event_timestamp (integer
 * seconds, at most leeway in the future), else the SET's iat.
 *
 * Threads: pure, no I/O, no clock (now is a parameter).
 * Security: every claim is untrusted; an action's id borrows from the JWS
 * payload, so the actions must not outlive it.
 */
#ifndef RVK_AUTH_SET_H
#define RVK_AUTH_SET_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jws.h"

/* RFC 8935 §2.4 error codes this module can give. */
typedef enum rvk_set_err {
	RVK_SET_OK = 0,
	RVK_SET_INVALID_REQUEST,
	RVK_SET_INVALID_KEY,
	RVK_SET_INVALID_ISSUER,
	RVK_SET_INVALID_AUDIENCE,
} rvk_set_err_t;

/* Returns: the RFC 8935 "err" value ("invalid_request", ...). */
const char *rvk_set_err_code(rvk_set_err_t e);

typedef enum rvk_set_kind {
	RVK_SET_REVOKE_TOKEN = 0,   /* id is a jti */
	RVK_SET_REVOKE_SESSION,     /* id is a sid */
	RVK_SET_REVOKE_SUBJECT,     /* id is a sub */
} rvk_set_kind_t;

typedef struct rvk_set_action {
	rvk_set_kind_t kind;
	const char *id;             /* borrowed from the JWS payload */
	int64_t at;                 /* revoked_at */
} rvk_set_action_t;

/* Limits: a SET with more understood events than this is refused. */
#define RVK_SET_MAX_ACTIONS 64

typedef struct rvk_set {
	rvk_set_action_t actions[RVK_SET_MAX_ACTIONS];
	size_t n;                   /* actions to record, may be 0 */
	size_t n_ignored;           /* events of types not understood */
	const char *jti;            /* borrowed: the SET's jti */
	int64_t iat;
} rvk_set_t;

/*
 * Judges a parsed (and, by the caller, verified) SET.
 * Requires: jws parsed by rvk_jws_parse; jws->iss names the issuer whose key
 * verified it; audience may be NULL (no set_audience configured: every SET
 * is invalid_audience).
 * Returns: RVK_SET_OK with *out; or an error with a human-readable reason
 * in desc (never containing claim values longer than a few bytes).
 */
rvk_set_err_t rvk_set_check(const rvk_jws_t *jws, const char *audience,
                            int64_t leeway, int64_t now, rvk_set_t *out,
                            char *desc, size_t desclen);

#endif
