#include "base/check.h"
#include "base/reason.h"

static const char *const text[RVK_REASON_COUNT][2] = {
	[RVK_REASON_OK] = { "allow", "allow" },
	[RVK_REASON_TOO_LARGE] = { "token too large", "token_too_large" },
	[RVK_REASON_MALFORMED] = { "malformed token", "malformed_token" },
	[RVK_REASON_UNKNOWN_ISSUER] = { "unknown issuer", "unknown_issuer" },
	[RVK_REASON_UNSUPPORTED_ALG] = { "unsupported algorithm", "unsupported_algorithm" },
	[RVK_REASON_UNKNOWN_KEY] = { "unknown key", "unknown_key" },
	[RVK_REASON_UNSUPPORTED_CRIT] = { "unsupported critical header", "unsupported_critical_header" },
	[RVK_REASON_BAD_SIGNATURE] = { "invalid signature", "invalid_signature" },
	[RVK_REASON_MISSING_EXP] = { "missing exp", "missing_exp" },
	[RVK_REASON_MISSING_IAT] = { "missing iat", "missing_iat" },
	[RVK_REASON_EXPIRED] = { "token expired", "token_expired" },
	[RVK_REASON_NOT_YET_VALID] = { "token not yet valid", "token_not_yet_valid" },
	[RVK_REASON_ISSUED_IN_FUTURE] = { "issued in the future", "issued_in_the_future" },
	[RVK_REASON_LIFETIME_TOO_LONG] = { "token lifetime too long", "token_lifetime_too_long" },
	[RVK_REASON_BAD_AUDIENCE] = { "invalid audience", "invalid_audience" },
	[RVK_REASON_WRONG_TYPE] = { "wrong token type", "wrong_token_type" },
	[RVK_REASON_MISSING_JTI] = { "missing jti", "missing_jti" },
	[RVK_REASON_TOKEN_REVOKED] = { "token revoked", "token_revoked" },
	[RVK_REASON_SESSION_REVOKED] = { "session revoked", "session_revoked" },
	[RVK_REASON_SUBJECT_REVOKED] = { "subject revoked", "subject_revoked" },
	[RVK_REASON_ISSUER_REVOKED] = { "issuer revoked", "issuer_revoked" },
	[RVK_REASON_KEY_REVOKED] = { "key revoked", "key_revoked" },
};

const char *
rvk_reason_str(rvk_reason_t r)
{
	RVK_REQUIRE((unsigned)r < RVK_REASON_COUNT);
	return text[r][0];
}

const char *
rvk_reason_metric(rvk_reason_t r)
{
	RVK_REQUIRE((unsigned)r < RVK_REASON_COUNT);
	return text[r][1];
}
