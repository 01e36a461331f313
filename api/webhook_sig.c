/*
 * The Standard Webhooks signature check: see webhook_sig.h.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/webhook_sig.h"
#include "base/b64.h"
#include "base/check.h"

/* Writes base64(HMAC-SHA256(key, id "." ts "." body)) into out (45 bytes). */
static void
sign(const unsigned char *secret, size_t secret_len, const char *id,
     const char *ts, const char *body, size_t len, char out[45])
{
	unsigned char mac[32];
	size_t maclen = 0;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	RVK_REQUIRE(m != NULL);
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(m);
	RVK_REQUIRE(c != NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	RVK_REQUIRE(EVP_MAC_init(c, secret, secret_len, params) == 1);
	EVP_MAC_update(c, (const unsigned char *)id, strlen(id));
	EVP_MAC_update(c, (const unsigned char *)".", 1);
	EVP_MAC_update(c, (const unsigned char *)ts, strlen(ts));
	EVP_MAC_update(c, (const unsigned char *)".", 1);
	EVP_MAC_update(c, (const unsigned char *)body, len);
	RVK_REQUIRE(EVP_MAC_final(c, mac, &maclen, sizeof(mac)) == 1 && maclen == 32);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	rvk_b64_encode(mac, sizeof(mac), out);
}

/* Returns: whether one of the space-separated "v1,<base64>" entries equals
 * the expected signature. Other versions are skipped (Standard Webhooks). */
static bool
signature_matches(const char *header, const char expected[45])
{
	size_t elen = strlen(expected);
	const char *p = header;
	bool ok = false;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		size_t n = (size_t)(end - p);
		if (n == 3 + elen && strncmp(p, "v1,", 3) == 0 &&
		    CRYPTO_memcmp(p + 3, expected, elen) == 0)
			ok = true;  /* keep walking: the time does not depend on which */
		p = end;
	}
	return ok;
}

/* Returns: true and *out for a timestamp of 1 to 18 decimal digits. */
static bool
parse_ts(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

rvk_webhook_sig_t
rvk_webhook_sig_check(const unsigned char *secret, size_t secret_len,
                      const char *id, const char *ts, const char *sig,
                      const char *body, size_t len, int64_t now,
                      int64_t tolerance, int64_t *at)
{
	RVK_REQUIRE(secret_len > 0);
	if (!id || !*id || !ts || !sig)
		return RVK_WEBHOOK_SIG_MISSING;
	int64_t t;
	/* 18 digits stay below INT64_MAX - tolerance: no overflow below. */
	if (!parse_ts(ts, &t) || t < now - tolerance || t > now + tolerance)
		return RVK_WEBHOOK_SIG_STALE;
	char expected[45];
	sign(secret, secret_len, id, ts, body, len, expected);
	if (!signature_matches(sig, expected))
		return RVK_WEBHOOK_SIG_MISMATCH;
	*at = t;
	return RVK_WEBHOOK_SIG_OK;
}

const char *
rvk_webhook_sig_str(rvk_webhook_sig_t s)
{
	switch (s) {
	case RVK_WEBHOOK_SIG_OK:
		return "ok";
	case RVK_WEBHOOK_SIG_MISSING:
		return "missing webhook-id, webhook-timestamp or webhook-signature";
	case RVK_WEBHOOK_SIG_STALE:
		return "webhook-timestamp outside the tolerance";
	case RVK_WEBHOOK_SIG_MISMATCH:
		return "no matching webhook-signature";
	}
	return "bad webhook signature";
}
