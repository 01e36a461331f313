/*
 * fuzz_set.c - SET claim sets (auth/set.c, REFERENCE §5.2) from any bytes. The
 * invariants: an accepted SET has a jti, at most RVK_SET_MAX_ACTIONS
 * actions, each with a non-empty id and a revoked_at not in the future.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auth/set.h"
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
	if (fuzz_claims_jws(data, size, "{\"alg\":\"ES256\",\"typ\":\"secevent+jwt\"}",
	                    &j, &tok)) {
		rvk_set_t s;
		char desc[160];
		rvk_set_err_t e = rvk_set_check(&j, "https://revokd.test/", LEEWAY, NOW,
		                                &s, desc, sizeof(desc));
		if (e == RVK_SET_OK) {
			RVK_REQUIRE(s.jti && *s.jti && s.n <= RVK_SET_MAX_ACTIONS);
			for (size_t i = 0; i < s.n; i++)
				RVK_REQUIRE(s.actions[i].id && *s.actions[i].id &&
				            s.actions[i].at <= NOW + LEEWAY &&
				            s.actions[i].kind <= RVK_SET_REVOKE_SUBJECT);
		} else {
			RVK_REQUIRE(e >= RVK_SET_INVALID_REQUEST &&
			            e <= RVK_SET_INVALID_AUDIENCE && desc[0] &&
			            strlen(desc) < sizeof(desc));
		}
		rvk_jws_fini(&j);
	}
	free(tok);
	return 0;
}
