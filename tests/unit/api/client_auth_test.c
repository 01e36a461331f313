/* RFC 6749 §2.3.1 client authentication (api/client_auth.c). */
#include <stdio.h>
#include <string.h>

#include "api/client_auth.h"
#include "base/b64.h"
#include "tests/support/tap.h"

static const rvk_client_cred_t clients[] = {
	{ "plain-client", 12, "plain-secret", 12 },
	{ "kong+gw", 7, "s3cr+t/with=all:the%chars and space", 35 },
	{ "raw", 3, "%41", 3 },
};
#define N (sizeof(clients) / sizeof(*clients))

/* "Basic" credentials of user:pass (as given: the caller encodes). */
static bool
basic(const char *user, const char *pass)
{
	char plain[512], enc[1024];
	snprintf(plain, sizeof(plain), "%s:%s", user, pass);
	size_t n = rvk_b64_encode((const unsigned char *)plain, strlen(plain), enc);
	return rvk_client_basic_ok(clients, N, enc, n);
}

TAP_TEST(form_decode)
{
	char out[64];
	size_t n = 0;
	TAP_CHECK(rvk_client_form_decode("a%2Bb+c%3d%3A", 13, out, &n));
	TAP_CHECK_INT(n, 7);
	TAP_CHECK(memcmp(out, "a+b c=:", 7) == 0);
	TAP_CHECK(!rvk_client_form_decode("a%2", 3, out, &n));
	TAP_CHECK(!rvk_client_form_decode("a%zz", 4, out, &n));
	TAP_CHECK(!rvk_client_form_decode("%00", 3, out, &n));
	TAP_CHECK(rvk_client_form_decode("", 0, out, &n) && n == 0);
}

TAP_TEST(basic_encoded_as_rfc6749_says)
{
	/* what openid-client and oauth4webapi send */
	TAP_CHECK(basic("plain%2Dclient", "plain%2Dsecret"));
	TAP_CHECK(basic("kong%2Bgw", "s3cr%2Bt%2Fwith%3Dall%3Athe%25chars+and+space"));
	TAP_CHECK(basic("raw", "%2541"));
}

TAP_TEST(basic_as_sent)
{
	/* clients that skip the encoding (curl -u) */
	TAP_CHECK(basic("plain-client", "plain-secret"));
	TAP_CHECK(basic("kong+gw", "s3cr+t/with=all:the%chars and space"));
	TAP_CHECK(basic("raw", "%41"));   /* decodes to "A": no match; as sent: match */
}

TAP_TEST(basic_refusals)
{
	TAP_CHECK(!basic("plain-client", "wrong"));
	TAP_CHECK(!basic("plain-client", ""));
	TAP_CHECK(!basic("nobody", "plain-secret"));
	TAP_CHECK(!basic("raw", "A"));
	TAP_CHECK(!basic("kong+gw", "s3cr+t/with=all:the%chars"));
	TAP_CHECK(!rvk_client_basic_ok(clients, N, "!!!", 3));           /* not base64 */
	TAP_CHECK(!rvk_client_basic_ok(clients, N, "bm9jb2xvbg", 10));   /* no colon */
	TAP_CHECK(!rvk_client_basic_ok(clients, 0, "YTpi", 4));
}

TAP_TEST(pair)
{
	TAP_CHECK(rvk_client_pair_ok(clients, N, "raw", 3, "%41", 3));
	TAP_CHECK(!rvk_client_pair_ok(clients, N, "raw", 3, "A", 1));
	TAP_CHECK(!rvk_client_pair_ok(clients, N, "ra", 2, "%41", 3));
}

int
main(void)
{
	return tap_main(TAP_LIST(form_decode, basic_encoded_as_rfc6749_says, basic_as_sent,
	                         basic_refusals, pair));
}
