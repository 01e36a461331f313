/*
 * fuzz_logout.c - logout-token claims (auth/logout.c, REFERENCE §5.3) from any
 * bytes. The invariants: an accepted token has a jti and an id, is not from
 * the future, and is remembered against replay until after now.
 */
#include <stdint.h>
#include <string.h>

#include "auth/logout.h"
#include "base/check.h"
#include "tests/fuzz/claims_input.h"

#define NOW 1764190000
#define LEEWAY 30

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rvk_jws_t j;
	char *tok;
	if (fuzz_claims_jws(data, size, "{\"alg\":\"ES256\",\"typ\":\"logout+jwt\"}",
	                    &j, &tok)) {
		rvk_logout_t lo;
		char desc[160];
		if (rvk_logout_check(&j, "gateway", LEEWAY, 86400, NOW, &lo, desc,
		                     sizeof(desc))) {
			RVK_REQUIRE(lo.jti && *lo.jti && lo.id && *lo.id);
			RVK_REQUIRE(lo.at <= NOW + LEEWAY && lo.remember_until > NOW);
			RVK_REQUIRE(!json_object_get(j.payload, "nonce"));
		} else {
			RVK_REQUIRE(desc[0] != '\0');
		}
		rvk_jws_fini(&j);
	}
	free(tok);
	return 0;
}
