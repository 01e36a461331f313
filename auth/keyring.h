/*
 * keyring.h - the immutable set of keys of one issuer.
 *
 * A keyring is built whole, then published (issuer.h) with one RCU pointer
 * swap; readers use the one they loaded until their read section ends, and
 * the old ring is freed after a grace period. So requests in flight finish
 * with the key set they started with.
 *
 * Key choice (REFERENCE §3 step 3): a token with a kid gets the key with that kid
 * (none: unknown key), whose pinned alg must equal the header's alg
 * (unsupported algorithm otherwise). A token without a kid gets the ring's
 * only key whose alg equals the header's alg (none or several: unknown key).
 * A key without a kid serves only tokens without one.
 *
 * Threads: immutable after rvk_keyring_new; any thread may read it inside an
 * RCU read section (or while it holds the only reference).
 */
#ifndef RVK_AUTH_KEYRING_H
#define RVK_AUTH_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/key.h"
#include "base/rcu.h"
#include "base/reason.h"

typedef struct rvk_keyring {
	rvk_rcu_head_t rcu;
	size_t n;
	rvk_key_t **keys; /* owned */
} rvk_keyring_t;

/* Takes ownership of the n keys in keys[] (the array itself is copied). */
rvk_keyring_t *rvk_keyring_new(rvk_key_t *const *keys, size_t n);
/* Frees the ring and its keys now. */
void rvk_keyring_free(rvk_keyring_t *ring);
/* Frees the ring and its keys after an RCU grace period. NULL is fine. */
void rvk_keyring_free_deferred(rvk_keyring_t *ring);

/*
 * Chooses the key for a token header.
 * Requires: alg is a parsed header alg; kid NULL when the header has none.
 * Returns: RVK_REASON_OK and *out (borrowed from the ring), or
 * RVK_REASON_UNKNOWN_KEY / RVK_REASON_UNSUPPORTED_ALG.
 */
rvk_reason_t rvk_keyring_select(const rvk_keyring_t *ring, rvk_alg_t alg,
                                const char *kid, size_t kid_len,
                                const rvk_key_t **out);

/* Returns: whether a key with this load_id is still in the ring. */
bool rvk_keyring_has_load(const rvk_keyring_t *ring, uint64_t load_id);

#endif
