/*
 * access.c - REFERENCE §3 steps 1-5 for an access token, in the REFERENCE's order.
 *
 * Time arithmetic saturates: exp, iat and nbf come from the token and may be
 * anywhere in int64, so exp + leeway or exp - iat must not overflow (signed
 * overflow is undefined, and a wrapped sum could turn "expired" into
 * "valid").
 */
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/mem.h"

rvk_reason_t
rvk_access_check_times(const rvk_policy_t *policy, int64_t exp, bool has_nbf,
                       int64_t nbf, int64_t now)
{
	RVK_REQUIRE(policy != NULL);
	if (now >= rvk_time_add(exp, policy->leeway))
		return RVK_REASON_EXPIRED;
	if (has_nbf && nbf > rvk_time_add(now, policy->leeway))
		return RVK_REASON_NOT_YET_VALID;
	return RVK_REASON_OK;
}

static bool
aud_matches(const rvk_issuer_t *issuer, const rvk_jws_t *j)
{
	if (issuer->n_audiences == 0)
		return true;
	for (size_t i = 0; i < issuer->n_audiences; i++)
		if (rvk_jws_aud_contains(j, issuer->audiences[i]))
			return true;
	return false;
}

static rvk_reason_t
check_claims(const rvk_issuer_t *issuer, const rvk_policy_t *policy,
             const rvk_jws_t *j, int64_t now)
{
	if (!j->has_exp)
		return RVK_REASON_MISSING_EXP;
	if (!j->has_iat)
		return RVK_REASON_MISSING_IAT;
	rvk_reason_t r = rvk_access_check_times(policy, j->exp, j->has_nbf,
	                                        j->nbf, now);
	if (r != RVK_REASON_OK)
		return r;
	if (j->iat > rvk_time_add(now, policy->leeway))
		return RVK_REASON_ISSUED_IN_FUTURE;
	int64_t life;
	if (__builtin_sub_overflow(j->exp, j->iat, &life)
	    || life > policy->max_token_lifetime)
		return RVK_REASON_LIFETIME_TOO_LONG;
	if (!aud_matches(issuer, j))
		return RVK_REASON_BAD_AUDIENCE;
	/* A logout token or SET carries `events`, an ID token a `nonce`: none
	 * of them is an access token, whatever their typ says. An issuer with
	 * allow_nonce (Keycloak up to 24 copies the client's nonce into access
	 * tokens) has audiences, which still keep its ID tokens (aud: the
	 * client) out. */
	if ((j->typ != NULL && !rvk_issuer_accepts_typ(issuer, j->typ, strlen(j->typ)))
	    || j->has_events
	    || (!issuer->allow_nonce && j->has_nonce))
		return RVK_REASON_WRONG_TYPE;
	bool require_jti = issuer->require_jti < 0 ? policy->require_jti
	                                           : issuer->require_jti != 0;
	if (require_jti && j->jti == NULL)
		return RVK_REASON_MISSING_JTI;
	/* The token ID is what RFC 7009 revokes: 1 to 255 bytes (base/id.h),
	 * "" included in what is malformed. */
	if (j->jti != NULL && !rvk_id_valid_str(j->jti))
		return RVK_REASON_MALFORMED;
	return RVK_REASON_OK;
}

/* Steps 1-5, the payload read by the fast scanner when fast (jws.h).
 * With signed_ok: on a step-5 failure *out is filled as well, and
 * *signed_ok is set whenever *out is. */
static rvk_reason_t
verify(const rvk_issuers_t *issuers, const rvk_policy_t *policy,
       const char *token, size_t len, int64_t now, bool fast,
       rvk_access_t *out, const rvk_issuer_t **found, bool *signed_ok)
{
	RVK_REQUIRE(issuers != NULL && policy != NULL && out != NULL && found != NULL);
	memset(out, 0, sizeof(*out));
	*found = NULL;
	rvk_jws_t j;
	rvk_reason_t r = fast
		? rvk_jws_parse_fast(token, len, policy->max_token_bytes, &j)
		: rvk_jws_parse(token, len, policy->max_token_bytes, &j);
	if (r != RVK_REASON_OK)
		return r;
	const rvk_issuer_t *issuer = j.iss
		? rvk_issuers_find(issuers, j.iss, strlen(j.iss)) : NULL;
	const rvk_key_t *key = NULL;
	*found = issuer;
	if (issuer == NULL)
		r = RVK_REASON_UNKNOWN_ISSUER;
	else
		r = rvk_jws_verify(&j, issuer, &key);
	bool sig = r == RVK_REASON_OK;
	if (r == RVK_REASON_OK && issuer->jti_claim != NULL) {
		/* The issuer's token ID claim stands for jti everywhere after
		 * this (step 6, X-Auth-Token-Id, RFC 7009, introspection). */
		json_t *id = json_object_get(rvk_jws_payload(&j), issuer->jti_claim);
		if (id != NULL && !json_is_string(id))
			r = RVK_REASON_MALFORMED;
		else
			j.jti = id ? json_string_value(id) : NULL;
	}
	if (r == RVK_REASON_OK)
		r = check_claims(issuer, policy, &j, now);
	if (r != RVK_REASON_OK && !(sig && signed_ok)) {
		rvk_jws_fini(&j);
		return r;
	}
	out->jws = j;
	out->issuer = issuer;
	out->key_load_id = rvk_key_load_id(key);
	out->key_kid = rvk_key_kid(key) ? rvk_strdup(rvk_key_kid(key)) : NULL;
	if (signed_ok)
		*signed_ok = true;
	return r;
}

rvk_reason_t
rvk_access_verify(const rvk_issuers_t *issuers, const rvk_policy_t *policy,
                  const char *token, size_t len, int64_t now, rvk_access_t *out)
{
	const rvk_issuer_t *issuer;
	return rvk_access_verify_issuer(issuers, policy, token, len, now, out, &issuer);
}

rvk_reason_t
rvk_access_verify_explain(const rvk_issuers_t *issuers,
                          const rvk_policy_t *policy, const char *token,
                          size_t len, int64_t now, rvk_access_t *out,
                          bool *signed_ok)
{
	RVK_REQUIRE(signed_ok != NULL);
	*signed_ok = false;
	const rvk_issuer_t *found;
	return verify(issuers, policy, token, len, now, true, out, &found, signed_ok);
}

rvk_reason_t
rvk_access_verify_issuer(const rvk_issuers_t *issuers, const rvk_policy_t *policy,
                         const char *token, size_t len, int64_t now,
                         rvk_access_t *out, const rvk_issuer_t **found)
{
	return verify(issuers, policy, token, len, now, true, out, found, NULL);
}

rvk_reason_t
rvk_access_verify_reference(const rvk_issuers_t *issuers,
                            const rvk_policy_t *policy, const char *token,
                            size_t len, int64_t now, rvk_access_t *out)
{
	const rvk_issuer_t *issuer;
	return verify(issuers, policy, token, len, now, false, out, &issuer, NULL);
}

void
rvk_access_fini(rvk_access_t *acc)
{
	if (acc == NULL)
		return;
	rvk_jws_fini(&acc->jws);
	free(acc->key_kid);
	memset(acc, 0, sizeof(*acc));
}
