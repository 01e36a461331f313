/*
 * issuer.h - a configured token issuer and the set of all of them.
 *
 * An issuer's settings (iss, audiences, allowed algorithms, token types,
 * back-channel client id) are fixed for the life of the issuer object; its
 * keyring changes (JWKS refresh, SIGHUP) by RCU pointer swap. A SIGHUP that
 * changes the settings builds a new set and publishes it whole (api/app.h,
 * rvk_app_live_t).
 *
 * Threads: rvk_issuer_keyring() only inside an RCU read section, and the ring
 * it returns only until that section ends. rvk_issuer_swap_keyring() from one
 * thread at a time (the key refresher); it frees the old ring after a grace
 * period. Everything else is immutable once the issuer set is built.
 */
#ifndef RVK_AUTH_ISSUER_H
#define RVK_AUTH_ISSUER_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/alg.h"
#include "auth/keyring.h"

typedef struct rvk_issuer {
	char *iss;                    /* owned */
	char **audiences;             /* owned; n_audiences == 0: aud not checked */
	size_t n_audiences;
	rvk_algset_t algorithms;      /* the allow-list */
	char **token_types;           /* owned, as configured ("JWT", "at+jwt");
	                               * n_token_types == 0: the REFERENCE default
	                               * {"JWT", "at+jwt"} */
	size_t n_token_types;
	char *backchannel_client_id;  /* owned, may be NULL */
	bool allow_nonce;             /* access tokens may carry `nonce` (config
	                               * requires audiences then) */
	int require_jti;              /* -1: the policy's; 0, 1: this issuer's */
	char *jti_claim;              /* owned; NULL: "jti" (Entra ID: "uti") */
	rvk_keyring_t *keyring;       /* RCU-protected; never NULL once built */
} rvk_issuer_t;

typedef struct rvk_issuers {
	size_t n;
	rvk_issuer_t **v;             /* owned */
} rvk_issuers_t;

/* Returns: a new issuer with an empty keyring; strings are copied. */
rvk_issuer_t *rvk_issuer_new(const char *iss);
void rvk_issuer_free(rvk_issuer_t *issuer);
/* Frees the issuers of the set and its array, not the set struct itself
 * (which may live on the stack or in a static). */
void rvk_issuers_free(rvk_issuers_t *set);

/* Returns: the current keyring. Requires: inside an RCU read section. */
static inline const rvk_keyring_t *
rvk_issuer_keyring(const rvk_issuer_t *issuer)
{
	return rvk_rcu_dereference(((rvk_issuer_t *)issuer)->keyring);
}

/* Publishes ring (ownership transferred); the old ring is freed after a
 * grace period. */
void rvk_issuer_swap_keyring(rvk_issuer_t *issuer, rvk_keyring_t *ring);

/* Returns: the issuer whose iss equals the n bytes at iss exactly, or NULL. */
const rvk_issuer_t *rvk_issuers_find(const rvk_issuers_t *set, const char *iss,
                                     size_t n);

/* Returns: whether typ (n bytes) is one of the issuer's token_types, compared
 * case-insensitively after removing an "application/" prefix (any case).
 * typ NULL (the token has none) is accepted. */
bool rvk_issuer_accepts_typ(const rvk_issuer_t *issuer, const char *typ,
                            size_t n);

#endif
