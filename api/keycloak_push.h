/*
 * keycloak_push.h - the check of Keycloak's "Push" of a not-before policy
 * (REFERENCE §5.5), the pure part of POST /k_push_not_before: body -> (issuer,
 * notBefore) or the reason for a 400. The store side (record or clear the
 * issuer revocation) stays in keycloak_handler.c.
 *
 * Factored out so that it can be fuzzed (tests/fuzz/fuzz_keycloak_push.c).
 *
 * Threads: thread-safe; takes its own RCU read section for the keyring.
 * No I/O, no clock (now is a parameter).
 * Security: the body is untrusted and of any length (the server caps it);
 * it is refused past policy->max_token_bytes before any decoding.
 */
#ifndef RVK_API_KEYCLOAK_PUSH_H
#define RVK_API_KEYCLOAK_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/access.h"
#include "auth/issuer.h"

typedef struct rvk_keycloak_push {
	const rvk_issuer_t *issuer;  /* borrowed from the issuer set */
	int64_t not_before;          /* 0 <= not_before <= now + leeway */
	/* Single use (REFERENCE §5.5): the push's identity for api/replay.h, hex
	 * SHA-256 of its `id` member, else of the whole JWS; remembered
	 * until expiration + leeway (saturated). */
	char replay_id[2 * 32 + 1];
	int64_t remember_until;
	size_t n_adapter_sessions;   /* LogoutAction: adapterSessionIds (logged) */
} rvk_keycloak_push_t;

/* Which admin action a body must be: Keycloak's PushNotBeforeAction
 * (POST /k_push_not_before) or LogoutAction (POST /k_logout, "Sign out all
 * active sessions"). Both are AdminActions: id, expiration, resource,
 * action, notBefore; a LogoutAction adds adapterSessionIds. */
typedef enum rvk_keycloak_action {
	RVK_KEYCLOAK_PUSH = 0,
	RVK_KEYCLOAK_LOGOUT,
} rvk_keycloak_action_t;

/*
 * Parses and checks a push body (len bytes, trailing CR/LF/space ignored):
 * a compact JWS whose payload has action "PUSH_NOT_BEFORE", a resource
 * naming an issuer's backchannel_client_id, verified with that issuer's
 * keys (REFERENCE §3 steps 1, 3, 4), an integer expiration not past (with
 * leeway), an integer notBefore >= 0 and not in the future.
 * Requires: issuers and policy non-NULL.
 * Returns: NULL and *out when the push is good; otherwise a static message
 * for the 400 (*out untouched).
 */
const char *rvk_keycloak_push_check(const char *body, size_t len,
                                    const rvk_issuers_t *issuers,
                                    const rvk_policy_t *policy, int64_t now,
                                    rvk_keycloak_push_t *out);

/*
 * As rvk_keycloak_push_check for either action: the payload's action must
 * be kind's ("PUSH_NOT_BEFORE" or "LOGOUT"); a LogoutAction's
 * adapterSessionIds, if present and not null, must be an array of strings.
 */
const char *rvk_keycloak_action_check(const char *body, size_t len,
                                      rvk_keycloak_action_t kind,
                                      const rvk_issuers_t *issuers,
                                      const rvk_policy_t *policy, int64_t now,
                                      rvk_keycloak_push_t *out);

#endif
