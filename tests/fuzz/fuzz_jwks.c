/*
 * fuzz_jwks.c - every byte string through the JWKS and discovery parsers
 * (auth/jwks.h): rvk_jwks_parse with every algorithm allowed, then each key
 * it took is compared with itself and its copy; rvk_jwks_discovery_parse;
 * rvk_jwks_uri_allowed and rvk_jwks_thumbprint on the same bytes. Crashes,
 * leaks and sanitizer reports are the findings; the checks are invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwks.h"
#include "base/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data;
	char err[256];
	rvk_jwks_set_t set;
	rvk_algset_t all = 0;
	for (int a = 0; a < RVK_ALG_COUNT; a++)
		all |= RVK_ALGSET(a);
	if (rvk_jwks_parse(doc, size, all, &set, err, sizeof(err)) == RVK_OK) {
		RVK_REQUIRE(set.n <= 6 * RVK_JWKS_MAX_KEYS); /* RSA: RS* and PS* */
		for (size_t i = 0; i < set.n; i++) {
			/* Never an HMAC key from a JWKS. */
			RVK_REQUIRE(!rvk_alg_is_hmac(rvk_key_alg(set.keys[i])));
			rvk_key_t *d = rvk_key_dup(set.keys[i]);
			RVK_REQUIRE(rvk_key_same(d, set.keys[i]));
			rvk_key_free(d);
		}
		RVK_REQUIRE(rvk_jwks_same_keys(set.keys, set.n, set.keys, set.n));
		rvk_jwks_set_fini(&set);
	}
	char *uri = NULL;
	if (rvk_jwks_discovery_parse(doc, size, "https://idp.example.com", &uri, err,
	                             sizeof(err)) == RVK_OK) {
		RVK_REQUIRE(uri != NULL && rvk_jwks_uri_allowed(uri));
		free(uri);
	}
	char tp[44];
	(void)rvk_jwks_thumbprint(doc, size, tp);
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	(void)rvk_jwks_uri_allowed(s);
	free(s);
	return 0;
}
