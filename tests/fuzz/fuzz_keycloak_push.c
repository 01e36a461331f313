/*
 * fuzz_keycloak_push.c - Keycloak's not-before push (api/keycloak_push.c, REFERENCE
 * §5.5) from any bytes. A first byte 0x00 means "the rest is the payload
 * JSON": it is signed here with the issuer's HS256 key (libjwt), so the
 * fuzzer explores the claims past the signature; otherwise the bytes are the
 * body as received. The invariants: an accepted push names the issuer whose
 * backchannel_client_id matched, with 0 <= notBefore <= now + leeway; an
 * unsigned (raw) body is never accepted unless it verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/keycloak_push.h"
#include "auth/mint.h"
#include "base/check.h"

#define NOW 1764190000
#define SECRET "fuzz-keycloak-secret-0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rvk_issuers_t issuers;
static const rvk_policy_t policy = {
	.leeway = 30, .max_token_bytes = 8192, .max_token_lifetime = 86400,
};

static void
init(void)
{
	rvk_key_t *key;
	char err[128];
	RVK_REQUIRE(rvk_key_from_secret("h1", RVK_ALG_HS256,
	                                (const unsigned char *)SECRET,
	                                strlen(SECRET), &key, err,
	                                sizeof(err)) == RVK_OK);
	issuers.n = 2;
	issuers.v = malloc(2 * sizeof(*issuers.v));
	issuers.v[0] = rvk_issuer_new("https://kc.example/realms/r");
	issuers.v[0]->algorithms = RVK_ALGSET(RVK_ALG_HS256);
	issuers.v[0]->backchannel_client_id = strdup("revokd");
	rvk_keyring_free(issuers.v[0]->keyring);
	issuers.v[0]->keyring = rvk_keyring_new(&key, 1);
	/* An issuer without backchannel_client_id: never chosen. */
	issuers.v[1] = rvk_issuer_new("https://other.example");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	char *minted = NULL;
	const char *body = (const char *)data;
	size_t len = size;
	if (size > 0 && data[0] == 0) {
		char *claims = malloc(size);
		memcpy(claims, data + 1, size - 1);
		claims[size - 1] = '\0';
		char err[128];
		minted = rvk_mint_token(RVK_ALG_HS256, "h1", (const unsigned char *)SECRET,
		                        strlen(SECRET), claims, err, sizeof(err));
		free(claims);
		if (!minted)
			return 0;
		body = minted;
		len = strlen(minted);
	}
	/* Both of Keycloak's admin actions: the push (/k_push_not_before) and
	 * LogoutAction (/k_logout). A body is at most one of them. */
	int good = 0;
	for (int kind = RVK_KEYCLOAK_PUSH; kind <= RVK_KEYCLOAK_LOGOUT; kind++) {
		rvk_keycloak_push_t push = { 0 };
		const char *why = rvk_keycloak_action_check(body, len, (rvk_keycloak_action_t)kind,
		                                            &issuers, &policy, NOW, &push);
		if (why) {
			RVK_REQUIRE(why[0] != '\0' && push.issuer == NULL);
		} else {
			good++;
			RVK_REQUIRE(push.issuer == issuers.v[0]);
			RVK_REQUIRE(push.not_before >= 0 && push.not_before <= NOW + policy.leeway);
			RVK_REQUIRE(kind == RVK_KEYCLOAK_LOGOUT || push.n_adapter_sessions == 0);
		}
	}
	RVK_REQUIRE(good <= 1);
	free(minted);
	return 0;
}
