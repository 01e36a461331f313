/* Standard Webhooks signatures (api/webhook_sig.c, REFERENCE §5.1): the
 * signature over "id.timestamp.body", the tolerance, several entries. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/webhook_sig.h"
#include "tests/support/tap.h"

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef";
#define KEY_LEN 32
#define NOW 1764190000

/* "v1,<base64 of HMAC-SHA256(key, id.ts.body)>" into out. */
static void
sign(const char *id, const char *ts, const char *body, char *out, size_t n)
{
	char msg[512];
	unsigned char mac[32];
	unsigned int len = 0;
	snprintf(msg, sizeof(msg), "%s.%s.%s", id, ts, body);
	HMAC(EVP_sha256(), KEY, KEY_LEN, (const unsigned char *)msg, strlen(msg), mac, &len);
	unsigned char b64[64];
	int k = EVP_EncodeBlock(b64, mac, (int)len);
	snprintf(out, n, "v1,%.*s", k, (const char *)b64);
}

static rvk_webhook_sig_t
check(const char *id, const char *ts, const char *sig, const char *body, int64_t *at)
{
	return rvk_webhook_sig_check(KEY, KEY_LEN, id, ts, sig, body, strlen(body),
	                             NOW, 300, at);
}

TAP_TEST(a_good_signature)
{
	char sig[128];
	int64_t at = 0;
	sign("msg_1", "1764190000", "{}", sig, sizeof(sig));
	TAP_CHECK_INT(check("msg_1", "1764190000", sig, "{}", &at), RVK_WEBHOOK_SIG_OK);
	TAP_CHECK_INT(at, 1764190000);
	/* one good entry among others (key rotation) */
	char many[400];
	snprintf(many, sizeof(many), "v1,AAAA %s v2,zzzz", sig);
	TAP_CHECK_INT(check("msg_1", "1764190000", many, "{}", &at), RVK_WEBHOOK_SIG_OK);
}

TAP_TEST(missing_headers)
{
	char sig[128];
	int64_t at = 7;
	sign("msg_1", "1764190000", "{}", sig, sizeof(sig));
	TAP_CHECK_INT(check(NULL, "1764190000", sig, "{}", &at), RVK_WEBHOOK_SIG_MISSING);
	TAP_CHECK_INT(check("", "1764190000", sig, "{}", &at), RVK_WEBHOOK_SIG_MISSING);
	TAP_CHECK_INT(check("msg_1", NULL, sig, "{}", &at), RVK_WEBHOOK_SIG_MISSING);
	TAP_CHECK_INT(check("msg_1", "1764190000", NULL, "{}", &at), RVK_WEBHOOK_SIG_MISSING);
	TAP_CHECK_INT(at, 7);   /* written only on success */
}

TAP_TEST(stale_or_malformed_timestamps)
{
	static const char *const ts[] = { "1764189699", "1764190301", "abc", "",
	                                  "-1764190000", "1764190000.5",
	                                  "1234567890123456789" };
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		char sig[128];
		int64_t at = 7;
		sign("msg_1", ts[i], "{}", sig, sizeof(sig));
		rvk_webhook_sig_t r = check("msg_1", ts[i], sig, "{}", &at);
		if (r != RVK_WEBHOOK_SIG_STALE && !(ts[i][0] == '\0' && r == RVK_WEBHOOK_SIG_MISSING))
			TAP_FAIL_AT("timestamp \"%s\": %d", ts[i], (int)r);
		TAP_CHECK_INT(at, 7);
	}
	/* the edges of the tolerance are inside it */
	char sig[128];
	int64_t at;
	sign("m", "1764189700", "{}", sig, sizeof(sig));
	TAP_CHECK_INT(check("m", "1764189700", sig, "{}", &at), RVK_WEBHOOK_SIG_OK);
	sign("m", "1764190300", "{}", sig, sizeof(sig));
	TAP_CHECK_INT(check("m", "1764190300", sig, "{}", &at), RVK_WEBHOOK_SIG_OK);
}

TAP_TEST(mismatches)
{
	char sig[128];
	int64_t at = 7;
	sign("msg_1", "1764190000", "{}", sig, sizeof(sig));
	/* another body, id or timestamp than the one signed */
	TAP_CHECK_INT(check("msg_1", "1764190000", sig, "{ }", &at), RVK_WEBHOOK_SIG_MISMATCH);
	TAP_CHECK_INT(check("msg_2", "1764190000", sig, "{}", &at), RVK_WEBHOOK_SIG_MISMATCH);
	TAP_CHECK_INT(check("msg_1", "1764190001", sig, "{}", &at), RVK_WEBHOOK_SIG_MISMATCH);
	/* the right MAC under another version tag, or cut short */
	char v2[128];
	snprintf(v2, sizeof(v2), "v2,%s", sig + 3);
	TAP_CHECK_INT(check("msg_1", "1764190000", v2, "{}", &at), RVK_WEBHOOK_SIG_MISMATCH);
	sig[strlen(sig) - 2] = '\0';
	TAP_CHECK_INT(check("msg_1", "1764190000", sig, "{}", &at), RVK_WEBHOOK_SIG_MISMATCH);
	TAP_CHECK_INT(check("msg_1", "1764190000", "garbage", "{}", &at), RVK_WEBHOOK_SIG_MISMATCH);
	TAP_CHECK_INT(at, 7);
	TAP_CHECK(rvk_webhook_sig_str(RVK_WEBHOOK_SIG_MISMATCH) != NULL);
}

int
main(void)
{
	return tap_main(TAP_LIST(a_good_signature, missing_headers,
	                         stale_or_malformed_timestamps, mismatches));
}
