/*
 * access.h - the access-token decision, REFERENCE §3 steps 1-5.
 *
 * rvk_access_verify runs every check in the REFERENCE's order and returns the
 * first reason that fails. Step 6 (revocations) is the caller's: it runs on
 * every request, cached or not (cache/revtable.h).
 *
 * Step 5, in order: exp present (missing exp), iat present (missing iat),
 * now < exp + leeway (token expired), nbf <= now + leeway (token not yet
 * valid), iat <= now + leeway (issued in the future), exp - iat <=
 * max_token_lifetime (token lifetime too long), aud contains one of the
 * issuer's audiences when it has any (invalid audience), typ among the
 * issuer's token_types and no `events` or `nonce` claim (wrong token type),
 * jti present unless require_jti is false (missing jti). `nonce` is allowed
 * on an issuer with allow_nonce; the issuer's require_jti, when set, wins
 * over the policy's; with a jti_claim ("uti") that claim is the token's jti
 * (a non-string one: malformed token).
 *
 * Threads: rvk_access_verify inside an RCU read section; the result belongs
 * to the calling thread.
 */
#ifndef RVK_AUTH_ACCESS_H
#define RVK_AUTH_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/issuer.h"
#include "auth/jws.h"
#include "base/reason.h"

typedef struct rvk_policy {
	int64_t leeway;              /* seconds */
	size_t max_token_bytes;
	int64_t max_token_lifetime;  /* seconds */
	bool require_jti;
} rvk_policy_t;

typedef struct rvk_access {
	rvk_jws_t jws;                /* owned: claims borrow from it */
	const rvk_issuer_t *issuer;   /* borrowed: lives as long as the issuer set
	                               * it came from (api/app.h: the live
	                               * configuration, held or read under RCU) */
	uint64_t key_load_id;         /* of the key that verified the signature */
	char *key_kid;                /* owned copy of that key's kid, or NULL */
} rvk_access_t;

/*
 * Requires: inside an RCU read section; token need not be NUL-terminated and
 * must outlive *out.
 * Returns: RVK_REASON_OK with *out filled (release with rvk_access_fini), or
 * the first failing reason with *out left empty.
 */
rvk_reason_t rvk_access_verify(const rvk_issuers_t *issuers,
                               const rvk_policy_t *policy, const char *token,
                               size_t len, int64_t now, rvk_access_t *out);
void rvk_access_fini(rvk_access_t *acc);

/*
 * As rvk_access_verify, and also tells which issuer the token named (step 2)
 * whatever the outcome, so that a caller can react to a failure for that
 * issuer (an unknown kid kicks a JWKS refresh).
 * Requires: as rvk_access_verify; issuer non-NULL.
 * Returns: as rvk_access_verify; *issuer is the issuer found at step 2
 * (borrowed: lives as long as the issuer set), or NULL when the token did not
 * get that far or named none.
 */
rvk_reason_t rvk_access_verify_issuer(const rvk_issuers_t *issuers,
                                      const rvk_policy_t *policy,
                                      const char *token, size_t len,
                                      int64_t now, rvk_access_t *out,
                                      const rvk_issuer_t **issuer);

/*
 * As rvk_access_verify with the payload always read by jansson
 * (rvk_jws_parse instead of rvk_jws_parse_fast): the reference the fast
 * claim scanner is fuzzed against (tests/fuzz/fuzz_fastpath.c). Same
 * requirements and results.
 */
rvk_reason_t rvk_access_verify_reference(const rvk_issuers_t *issuers,
                                         const rvk_policy_t *policy,
                                         const char *token, size_t len,
                                         int64_t now, rvk_access_t *out);

/*
 * As rvk_access_verify, for a caller that explains a deny (`revokd check`):
 * when the signature verified (steps 1-4 passed) but a claim failed at step
 * 5, *out is filled too, so the verified claims can be shown.
 * Requires: as rvk_access_verify; signed_ok non-NULL.
 * Returns: as rvk_access_verify; *signed_ok tells whether *out is filled
 * (then release it with rvk_access_fini, whatever the reason).
 */
rvk_reason_t rvk_access_verify_explain(const rvk_issuers_t *issuers,
                                       const rvk_policy_t *policy,
                                       const char *token, size_t len,
                                       int64_t now, rvk_access_t *out,
                                       bool *signed_ok);

/*
 * The time checks that a cached verification repeats on every hit.
 * Returns: RVK_REASON_OK, RVK_REASON_EXPIRED or RVK_REASON_NOT_YET_VALID.
 */
rvk_reason_t rvk_access_check_times(const rvk_policy_t *policy, int64_t exp,
                                    bool has_nbf, int64_t nbf, int64_t now);

#endif
