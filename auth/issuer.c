#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/issuer.h"
#include "base/check.h"
#include "base/mem.h"

rvk_issuer_t *
rvk_issuer_new(const char *iss)
{
	RVK_REQUIRE(iss != NULL);
	rvk_issuer_t *issuer = rvk_calloc(1, sizeof(*issuer));
	issuer->iss = rvk_strdup(iss);
	issuer->keyring = rvk_keyring_new(NULL, 0);
	issuer->require_jti = -1;
	return issuer;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
rvk_issuer_free(rvk_issuer_t *issuer)
{
	if (issuer == NULL)
		return;
	free(issuer->iss);
	free_strv(issuer->audiences, issuer->n_audiences);
	free_strv(issuer->token_types, issuer->n_token_types);
	free(issuer->backchannel_client_id);
	free(issuer->jti_claim);
	rvk_keyring_free(issuer->keyring);
	free(issuer);
}

void
rvk_issuers_free(rvk_issuers_t *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		rvk_issuer_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

void
rvk_issuer_swap_keyring(rvk_issuer_t *issuer, rvk_keyring_t *ring)
{
	RVK_REQUIRE(issuer != NULL && ring != NULL);
	rvk_keyring_t *old = rvk_rcu_xchg_pointer(&issuer->keyring, ring);
	rvk_keyring_free_deferred(old);
}

const rvk_issuer_t *
rvk_issuers_find(const rvk_issuers_t *set, const char *iss, size_t n)
{
	if (set == NULL || iss == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const char *s = set->v[i]->iss;
		if (strlen(s) == n && memcmp(s, iss, n) == 0)
			return set->v[i];
	}
	return NULL;
}

static bool
typ_equals(const char *configured, const char *typ, size_t n)
{
	return strlen(configured) == n && strncasecmp(configured, typ, n) == 0;
}

bool
rvk_issuer_accepts_typ(const rvk_issuer_t *issuer, const char *typ, size_t n)
{
	static const char *const defaults[] = { "JWT", "at+jwt" };
	static const char prefix[] = "application/";
	const size_t plen = sizeof(prefix) - 1;
	if (typ == NULL)
		return true; /* a token without typ is accepted (REFERENCE §2) */
	if (memchr(typ, '\0', n) != NULL)
		return false;
	if (n >= plen && strncasecmp(typ, prefix, plen) == 0) {
		typ += plen;
		n -= plen;
	}
	if (issuer->n_token_types == 0) {
		for (size_t i = 0; i < RVK_ARRAY_LEN(defaults); i++)
			if (typ_equals(defaults[i], typ, n))
				return true;
		return false;
	}
	for (size_t i = 0; i < issuer->n_token_types; i++)
		if (typ_equals(issuer->token_types[i], typ, n))
			return true;
	return false;
}
