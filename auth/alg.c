#include <string.h>

#include "auth/alg.h"
#include "base/check.h"

static const char *const names[RVK_ALG_COUNT] = {
	[RVK_ALG_HS256] = "HS256", [RVK_ALG_HS384] = "HS384",
	[RVK_ALG_HS512] = "HS512", [RVK_ALG_RS256] = "RS256",
	[RVK_ALG_RS384] = "RS384", [RVK_ALG_RS512] = "RS512",
	[RVK_ALG_ES256] = "ES256", [RVK_ALG_ES384] = "ES384",
	[RVK_ALG_ES512] = "ES512", [RVK_ALG_PS256] = "PS256",
	[RVK_ALG_PS384] = "PS384", [RVK_ALG_PS512] = "PS512",
	[RVK_ALG_EDDSA] = "EdDSA",
};

bool
rvk_alg_parse(const char *s, size_t n, rvk_alg_t *out)
{
	/* Exact bytes: the case-insensitive match of libjwt is what lets
	 * "NoNe" and "hs256" through there. Every name is 5 bytes. */
	if (s == NULL || n != 5)
		return false;
	for (int a = 0; a < RVK_ALG_COUNT; a++) {
		if (memcmp(s, names[a], 5) == 0) {
			*out = (rvk_alg_t)a;
			return true;
		}
	}
	return false;
}

const char *
rvk_alg_name(rvk_alg_t alg)
{
	RVK_REQUIRE((unsigned)alg < RVK_ALG_COUNT);
	return names[alg];
}

bool
rvk_alg_is_hmac(rvk_alg_t alg)
{
	return alg == RVK_ALG_HS256 || alg == RVK_ALG_HS384 || alg == RVK_ALG_HS512;
}

bool
rvk_alg_is_rsa(rvk_alg_t alg)
{
	return alg == RVK_ALG_RS256 || alg == RVK_ALG_RS384 || alg == RVK_ALG_RS512
	       || rvk_alg_is_pss(alg);
}

bool
rvk_alg_is_pss(rvk_alg_t alg)
{
	return alg == RVK_ALG_PS256 || alg == RVK_ALG_PS384 || alg == RVK_ALG_PS512;
}

bool
rvk_alg_is_eddsa(rvk_alg_t alg)
{
	return alg == RVK_ALG_EDDSA;
}

bool
rvk_alg_is_ec(rvk_alg_t alg)
{
	return alg == RVK_ALG_ES256 || alg == RVK_ALG_ES384 || alg == RVK_ALG_ES512;
}
