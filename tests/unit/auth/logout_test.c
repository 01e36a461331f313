/* Logout-token claims (auth/logout.c, REFERENCE §5.3): every rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jws.h"
#include "auth/logout.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

#define NOW 1800000000
#define EV "\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":{}}"
#define LIFETIME 86400

static char desc[200];

static bool
check(const char *hdr, const char *pay, rvk_logout_t *out)
{
	char *t = tk_token(hdr, pay, "AA");
	rvk_jws_t j;
	rvk_reason_t pr = rvk_jws_parse(t, strlen(t), 65536, &j);
	free(t);
	TAP_CHECK_INT(pr, RVK_REASON_OK);
	if (pr != RVK_REASON_OK)
		return false;
	rvk_logout_t lo;
	bool ok = rvk_logout_check(&j, "gateway", 30, LIFETIME, NOW, &lo, desc,
	                           sizeof(desc));
	if (ok && out) {
		*out = lo;
		out->id = NULL; /* borrowed from j, which goes now */
		out->jti = NULL;
	}
	rvk_jws_fini(&j);
	return ok;
}

/* A payload: the given members plus the defaults not overridden by them. */
static const char *
pay(const char *members)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf), "{\"iss\":\"i\",%s}", members);
	return buf;
}

#define H "{\"alg\":\"RS256\",\"typ\":\"logout+jwt\"}"
#define OKM "\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"j\",\"sid\":\"s\"," EV

TAP_TEST(session_and_subject)
{
	rvk_logout_t lo;
	TAP_CHECK(check(H, pay(OKM ",\"sub\":\"u\",\"exp\":1800000100"), &lo));
	TAP_CHECK(lo.session);
	TAP_CHECK_INT(lo.at, 1799999990);
	TAP_CHECK_INT(lo.remember_until, 1800000130);
	TAP_CHECK(check("{\"alg\":\"RS256\"}", pay("\"aud\":[\"a\",\"gateway\"],"
	                "\"iat\":1799999990,\"jti\":\"j\",\"sub\":\"u\"," EV), &lo));
	TAP_CHECK(!lo.session);
	TAP_CHECK_INT(lo.remember_until, 1799999990 + LIFETIME + 60);
	/* typ JWT: Keycloak up to 24, Authentik (REFERENCE §5.3) */
	TAP_CHECK(check("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pay(OKM), NULL));
	/* other members tolerated (Keycloak's revoke_offline_access) */
	TAP_CHECK(check("{\"alg\":\"RS256\",\"typ\":\"application/Logout+JWT\"}",
	                pay("\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"j\","
	                    "\"sid\":\"s\",\"events\":{\"urn:x\":1,\"http://schemas."
	                    "openid.net/event/backchannel-logout\":{\"revoke_offline_"
	                    "access\":true}}"), NULL));
}

TAP_TEST(every_rule)
{
	static const char *const bad[][2] = {
		{ "{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", OKM },
		{ "{\"alg\":\"RS256\",\"typ\":\"secevent+jwt\"}", OKM },
		{ H, "\"aud\":\"other\",\"iat\":1799999990,\"jti\":\"j\",\"sid\":\"s\"," EV },
		{ H, "\"iat\":1799999990,\"jti\":\"j\",\"sid\":\"s\"," EV },
		{ H, "\"aud\":\"gateway\",\"jti\":\"j\",\"sid\":\"s\"," EV },
		{ H, "\"aud\":\"gateway\",\"iat\":1800001000,\"jti\":\"j\",\"sid\":\"s\"," EV },
		{ H, "\"aud\":\"gateway\",\"iat\":1799999990,\"sid\":\"s\"," EV },
		{ H, "\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"\",\"sid\":\"s\"," EV },
		{ H, OKM ",\"exp\":1799999900" },
		{ H, "\"aud\":\"gateway\",\"iat\":1799900000,\"jti\":\"j\",\"sid\":\"s\"," EV },
		{ H, "\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"j\",\"sid\":\"s\"" },
		{ H, "\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"j\",\"sid\":\"s\","
		     "\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":true}" },
		{ H, "\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"j\",\"sid\":\"s\","
		     "\"events\":[]" },
		{ H, "\"aud\":\"gateway\",\"iat\":1799999990,\"jti\":\"j\"," EV },
		{ H, OKM ",\"nonce\":\"n\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (check(bad[i][0], pay(bad[i][1]), NULL))
			TAP_FAIL_AT("case %zu accepted", i);
	/* the iat older than max_token_lifetime only matters without exp */
	TAP_CHECK(check(H, pay("\"aud\":\"gateway\",\"iat\":1799900000,\"exp\":1800000100,"
	                       "\"jti\":\"j\",\"sid\":\"s\"," EV), NULL));
}

TAP_TEST(no_client_id_refuses)
{
	char *t = tk_token(H, pay(OKM), "AA");
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 65536, &j), RVK_REASON_OK);
	rvk_logout_t lo;
	TAP_CHECK(!rvk_logout_check(&j, NULL, 30, LIFETIME, NOW, &lo, desc, sizeof(desc)));
	TAP_CHECK(strstr(desc, "backchannel_client_id") != NULL);
	rvk_jws_fini(&j);
	free(t);
}

/* exp + leeway saturates (was signed overflow, undefined behaviour). */
TAP_TEST(exp_near_int64_max_saturates)
{
	rvk_logout_t lo;
	TAP_CHECK(check(H, pay(OKM ",\"exp\":9223372036854775807"), &lo));
	TAP_CHECK(lo.remember_until == INT64_MAX);
	TAP_CHECK(check(H, pay(OKM ",\"exp\":9223372036854775790"), &lo));
	TAP_CHECK(lo.remember_until == INT64_MAX);
	TAP_CHECK(!check(H, pay(OKM ",\"exp\":-9223372036854775807"), NULL));
	TAP_CHECK_STR(desc, "logout token expired");
}

int
main(void)
{
	return tap_main(TAP_LIST(session_and_subject, every_rule, no_client_id_refuses,
	                         exp_near_int64_max_saturates));
}
