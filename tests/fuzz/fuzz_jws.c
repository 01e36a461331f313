/*
 * fuzz_jws.c - every byte string through REFERENCE §3 steps 1-5: rvk_jws_parse
 * and rvk_access_verify against a fixed issuer with one HS256 and one ES256
 * key. Crashes, leaks and sanitizer reports are the findings; the checks
 * below are invariants that must hold for any input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "auth/jws.h"
#include "base/check.h"
#include "tests/fuzz/fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rvk_issuers_t issuers;
static const rvk_policy_t policy = {
	.leeway = 30, .max_token_bytes = 8192, .max_token_lifetime = 86400,
	.require_jti = true,
};

static void
init(void)
{
	rvk_key_t *keys[2];
	char err[128];
	RVK_REQUIRE(rvk_key_from_secret("h1", RVK_ALG_HS256,
	                                (const unsigned char *)FUZZ_HS_SECRET,
	                                strlen(FUZZ_HS_SECRET), &keys[0], err,
	                                sizeof(err)) == RVK_OK);
	RVK_REQUIRE(rvk_key_from_pem("e1", RVK_ALG_ES256, FUZZ_ES_PUB,
	                             strlen(FUZZ_ES_PUB), &keys[1], err,
	                             sizeof(err)) == RVK_OK);
	rvk_issuer_t *is = rvk_issuer_new(FUZZ_ISS);
	is->algorithms = RVK_ALGSET(RVK_ALG_HS256) | RVK_ALGSET(RVK_ALG_ES256);
	rvk_keyring_free(is->keyring);
	is->keyring = rvk_keyring_new(keys, 2);
	issuers.n = 1;
	issuers.v = malloc(sizeof(*issuers.v));
	issuers.v[0] = is;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	const char *tok = (const char *)data;
	rvk_jws_t j;
	rvk_reason_t parsed = rvk_jws_parse(tok, size, policy.max_token_bytes, &j);
	RVK_REQUIRE(parsed == RVK_REASON_OK || parsed == RVK_REASON_MALFORMED
	            || parsed == RVK_REASON_TOO_LARGE);
	rvk_rcu_read_lock();
	if (parsed == RVK_REASON_OK) {
		RVK_REQUIRE(j.signing_input_len < size);
		const rvk_key_t *used = NULL;
		rvk_reason_t r = rvk_jws_verify(&j, issuers.v[0], &used);
		RVK_REQUIRE(r == RVK_REASON_OK || (r >= RVK_REASON_UNSUPPORTED_ALG
		                                   && r <= RVK_REASON_BAD_SIGNATURE));
		/* No string alg parses (REFERENCE §3: judged at step 3). */
		RVK_REQUIRE(j.alg != NULL || r == RVK_REASON_UNSUPPORTED_ALG);
		if (r == RVK_REASON_OK)
			RVK_REQUIRE(used != NULL && !j.has_crit
			            && (strcmp(j.alg, "HS256") == 0
			                || strcmp(j.alg, "ES256") == 0));
		rvk_jws_fini(&j);
	}
	rvk_access_t acc;
	rvk_reason_t r = rvk_access_verify(&issuers, &policy, tok, size, FUZZ_NOW, &acc);
	RVK_REQUIRE(r < RVK_REASON_TOKEN_REVOKED);
	/* Step 1 decides alone: whatever it refused, access refuses the same. */
	if (parsed != RVK_REASON_OK)
		RVK_REQUIRE(r == parsed);
	if (r == RVK_REASON_OK) {
		RVK_REQUIRE(acc.issuer == issuers.v[0] && acc.key_kid != NULL);
		RVK_REQUIRE(acc.jws.has_exp && acc.jws.has_iat && acc.jws.jti != NULL);
		rvk_access_fini(&acc);
	}
	rvk_rcu_read_unlock();
	return 0;
}
