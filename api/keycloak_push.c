/*
 * The check of a Keycloak not-before push: see keycloak_push.h.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/keycloak_push.h"
#include "auth/jws.h"
#include "base/check.h"
#include "base/rcu.h"
#include "base/reason.h"

static const rvk_issuer_t *
issuer_for(const rvk_issuers_t *set, const char *resource)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *c = set->v[i]->backchannel_client_id;
		if (c && strcmp(c, resource) == 0)
			return set->v[i];
	}
	return NULL;
}

static bool
int_member(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

/* Returns: NULL or the 400 message; *out on NULL. */
static const char *
check(const rvk_jws_t *j, rvk_keycloak_action_t kind, const rvk_issuers_t *issuers,
      const rvk_policy_t *policy, int64_t now, rvk_keycloak_push_t *out)
{
	const json_t *action = json_object_get(j->payload, "action");
	const json_t *resource = json_object_get(j->payload, "resource");
	int64_t nb = 0, expiration = 0;
	const rvk_issuer_t *is = NULL;
	const char *want = kind == RVK_KEYCLOAK_LOGOUT ? "LOGOUT" : "PUSH_NOT_BEFORE";
	if (!json_is_string(action) || strcmp(json_string_value(action), want) != 0)
		return kind == RVK_KEYCLOAK_LOGOUT ? "action is not LOGOUT"
		                                   : "action is not PUSH_NOT_BEFORE";
	/* LogoutAction: adapterSessionIds, Keycloak's own adapter session IDs
	 * (not sids), null or an array of strings; counted, never used. */
	size_t n_adapter = 0;
	if (kind == RVK_KEYCLOAK_LOGOUT) {
		const json_t *ids = json_object_get(j->payload, "adapterSessionIds");
		if (ids != NULL && !json_is_null(ids)) {
			if (!json_is_array(ids))
				return "adapterSessionIds is not an array";
			for (size_t i = 0; i < json_array_size(ids); i++)
				if (!json_is_string(json_array_get(ids, i)))
					return "adapterSessionIds holds a non-string";
			n_adapter = json_array_size(ids);
		}
	}
	if (!json_is_string(resource) ||
	    !(is = issuer_for(issuers, json_string_value(resource))))
		return "resource names no issuer's backchannel_client_id";
	const rvk_key_t *used;
	rvk_rcu_read_lock();
	rvk_reason_t r = rvk_jws_verify(j, is, &used);
	rvk_rcu_read_unlock();
	if (r != RVK_REASON_OK)
		return rvk_reason_str(r);
	if (!int_member(j->payload, "expiration", &expiration))
		return "missing expiration";
	/* Saturating: an expiration near INT64_MAX must not wrap. */
	if (expiration < INT64_MAX - policy->leeway &&
	    now >= expiration + policy->leeway)
		return "expired";
	if (!int_member(j->payload, "notBefore", &nb) || nb < 0)
		return "missing or negative notBefore";
	if (nb > now + policy->leeway)
		return "notBefore is in the future";
	out->issuer = is;
	out->not_before = nb;
	out->n_adapter_sessions = n_adapter;
	out->remember_until = expiration > INT64_MAX - policy->leeway
		? INT64_MAX : expiration + policy->leeway;
	/* Keycloak gives every action a fresh `id`; a push without one is
	 * known by its bytes. The two kinds of text cannot collide: the
	 * digest input starts with "id:" or "jws:". */
	const json_t *idv = json_object_get(j->payload, "id");
	unsigned char md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	RVK_REQUIRE(c != NULL);
	unsigned int n = 0;
	RVK_REQUIRE(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1);
	if (json_is_string(idv)) {
		EVP_DigestUpdate(c, "id:", 3);
		EVP_DigestUpdate(c, json_string_value(idv), json_string_length(idv));
	} else {
		EVP_DigestUpdate(c, "jws:", 4);
		EVP_DigestUpdate(c, j->token, j->len);
	}
	RVK_REQUIRE(EVP_DigestFinal_ex(c, md, &n) == 1 && n == sizeof(md));
	EVP_MD_CTX_free(c);
	static const char hexd[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(md); i++) {
		out->replay_id[2 * i] = hexd[md[i] >> 4];
		out->replay_id[2 * i + 1] = hexd[md[i] & 15];
	}
	out->replay_id[2 * sizeof(md)] = '\0';
	return NULL;
}

const char *
rvk_keycloak_push_check(const char *body, size_t len,
                        const rvk_issuers_t *issuers,
                        const rvk_policy_t *policy, int64_t now,
                        rvk_keycloak_push_t *out)
{
	return rvk_keycloak_action_check(body, len, RVK_KEYCLOAK_PUSH, issuers, policy,
	                                 now, out);
}

const char *
rvk_keycloak_action_check(const char *body, size_t len, rvk_keycloak_action_t kind,
                          const rvk_issuers_t *issuers, const rvk_policy_t *policy,
                          int64_t now, rvk_keycloak_push_t *out)
{
	while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' ||
	               body[len - 1] == ' '))
		len--;
	rvk_jws_t j;
	rvk_reason_t r = rvk_jws_parse(body, len, policy->max_token_bytes, &j);
	if (r != RVK_REASON_OK)
		return r == RVK_REASON_TOO_LARGE ? "token too large" : "malformed token";
	const char *why = check(&j, kind, issuers, policy, now, out);
	rvk_jws_fini(&j);
	return why;
}
