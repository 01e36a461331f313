/*
 * fuzz_webhook_sig.c - the Standard Webhooks headers (api/webhook_sig.c,
 * REFERENCE §5.1) from any bytes: "webhook-id\nwebhook-timestamp\n
 * webhook-signature\nbody". The signature is recomputed here with a
 * different OpenSSL entry point (EVP_Q_mac, EVP_EncodeBlock). The
 * invariants: an accepted delivery's header holds "v1,<that signature>" and
 * its timestamp is within the tolerance; a delivery refused only for its
 * signature is accepted once the right entry is appended to the header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/webhook_sig.h"
#include "base/check.h"

#define NOW 1764190000
#define TOL 300
static const unsigned char secret[] = "fuzz-webhook-secret-0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes "v1,<base64 HMAC-SHA256>" into out (48 bytes). */
static void
expected(const char *id, const char *ts, const char *body, size_t len,
         char out[48])
{
	size_t il = strlen(id), tl = strlen(ts);
	unsigned char *msg = malloc(il + tl + len + 2);
	memcpy(msg, id, il);
	msg[il] = '.';
	memcpy(msg + il + 1, ts, tl);
	msg[il + 1 + tl] = '.';
	memcpy(msg + il + tl + 2, body, len);
	unsigned char mac[32];
	size_t maclen = 0;
	RVK_REQUIRE(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
	                      sizeof(secret) - 1, msg, il + tl + len + 2, mac,
	                      sizeof(mac), &maclen) != NULL && maclen == 32);
	free(msg);
	memcpy(out, "v1,", 3);
	RVK_REQUIRE(EVP_EncodeBlock((unsigned char *)out + 3, mac, 32) == 44);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *f[3] = { 0 };
	char *p = copy;
	for (int i = 0; i < 3 && p; i++) {
		f[i] = p;
		p = memchr(p, '\n', size - (size_t)(p - copy));
		if (p)
			*p++ = '\0';
	}
	const char *body = p ? p : "";
	size_t blen = p ? size - (size_t)(p - copy) : 0;
	int64_t at = -1;
	rvk_webhook_sig_t r = rvk_webhook_sig_check(secret, sizeof(secret) - 1, f[0],
	                                            f[1], f[2], body, blen, NOW,
	                                            TOL, &at);
	RVK_REQUIRE(r <= RVK_WEBHOOK_SIG_MISMATCH && rvk_webhook_sig_str(r)[0]);
	if (r == RVK_WEBHOOK_SIG_OK || r == RVK_WEBHOOK_SIG_MISMATCH) {
		char want[48];
		expected(f[0], f[1], body, blen, want);
		if (r == RVK_WEBHOOK_SIG_OK) {
			RVK_REQUIRE(at >= NOW - TOL && at <= NOW + TOL);
			RVK_REQUIRE(strstr(f[2], want) != NULL);
		} else {
			RVK_REQUIRE(at == -1);
			size_t sl = strlen(f[2]);
			char *sig = malloc(sl + 50);
			memcpy(sig, f[2], sl);
			sig[sl] = ' ';
			memcpy(sig + sl + 1, want, 48);
			RVK_REQUIRE(rvk_webhook_sig_check(secret, sizeof(secret) - 1, f[0],
			                                  f[1], sig, body, blen, NOW, TOL,
			                                  &at) == RVK_WEBHOOK_SIG_OK);
			free(sig);
		}
	}
	free(copy);
	return 0;
}
