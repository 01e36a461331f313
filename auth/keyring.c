#include <stdlib.h>
#include <string.h>

#include "auth/keyring.h"
#include "base/check.h"
#include "base/mem.h"

rvk_keyring_t *
rvk_keyring_new(rvk_key_t *const *keys, size_t n)
{
	RVK_REQUIRE(keys != NULL || n == 0);
	rvk_keyring_t *ring = rvk_calloc(1, sizeof(*ring));
	ring->n = n;
	ring->keys = rvk_calloc(n ? n : 1, sizeof(*ring->keys));
	for (size_t i = 0; i < n; i++) {
		RVK_REQUIRE(keys[i] != NULL);
		ring->keys[i] = keys[i];
	}
	return ring;
}

void
rvk_keyring_free(rvk_keyring_t *ring)
{
	if (ring == NULL)
		return;
	for (size_t i = 0; i < ring->n; i++)
		rvk_key_free(ring->keys[i]);
	free(ring->keys);
	free(ring);
}

static void
free_cb(rvk_rcu_head_t *head)
{
	rvk_keyring_free(caa_container_of(head, rvk_keyring_t, rcu));
}

void
rvk_keyring_free_deferred(rvk_keyring_t *ring)
{
	if (ring != NULL)
		rvk_rcu_call(&ring->rcu, free_cb);
}

static bool
kid_equals(const rvk_key_t *key, const char *kid, size_t kid_len)
{
	const char *k = rvk_key_kid(key);
	return k != NULL && strlen(k) == kid_len && memcmp(k, kid, kid_len) == 0;
}

rvk_reason_t
rvk_keyring_select(const rvk_keyring_t *ring, rvk_alg_t alg, const char *kid,
                   size_t kid_len, const rvk_key_t **out)
{
	RVK_REQUIRE(ring != NULL && out != NULL);
	const rvk_key_t *found = NULL;
	if (kid != NULL) {
		/* One JWK without `alg` may become several keys with one kid, one
		 * per algorithm the issuer allows: pick the one pinned to alg. */
		bool kid_known = false;
		for (size_t i = 0; i < ring->n; i++) {
			if (!kid_equals(ring->keys[i], kid, kid_len))
				continue;
			kid_known = true;
			if (rvk_key_alg(ring->keys[i]) == alg) {
				*out = ring->keys[i];
				return RVK_REASON_OK;
			}
		}
		return kid_known ? RVK_REASON_UNSUPPORTED_ALG : RVK_REASON_UNKNOWN_KEY;
	}
	for (size_t i = 0; i < ring->n; i++) {
		if (rvk_key_alg(ring->keys[i]) != alg)
			continue;
		if (found != NULL) /* several candidates: never guess */
			return RVK_REASON_UNKNOWN_KEY;
		found = ring->keys[i];
	}
	if (found == NULL)
		return RVK_REASON_UNKNOWN_KEY;
	*out = found;
	return RVK_REASON_OK;
}

bool
rvk_keyring_has_load(const rvk_keyring_t *ring, uint64_t load_id)
{
	for (size_t i = 0; i < ring->n; i++)
		if (rvk_key_load_id(ring->keys[i]) == load_id)
			return true;
	return false;
}
