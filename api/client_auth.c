/*
 * client_auth.c - RFC 6749 §2.3.1 client authentication (client_auth.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api/client_auth.h"
#include "base/b64.h"
#include "base/mem.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
rvk_client_form_decode(const char *s, size_t n, char *out, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return false;
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (c == '\0')
			return false;
		out[o++] = c;
	}
	*out_len = o;
	return true;
}

static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)a, alen, ha);
	SHA256((const unsigned char *)b, blen, hb);
	return CRYPTO_memcmp(ha, hb, sizeof(ha)) == 0;
}

bool
rvk_client_pair_ok(const rvk_client_cred_t *clients, size_t n, const char *id,
                   size_t id_len, const char *secret, size_t secret_len)
{
	bool ok = false;
	for (size_t i = 0; i < n; i++) {
		const rvk_client_cred_t *c = &clients[i];
		/* The id is not secret; every secret is compared all the same. */
		bool id_ok = c->id_len == id_len && memcmp(c->id, id, id_len) == 0;
		bool s_ok = same(c->secret, c->secret_len, secret, secret_len);
		ok |= id_ok && s_ok;
	}
	return ok;
}

bool
rvk_client_basic_ok(const rvk_client_cred_t *clients, size_t n, const char *cred,
                    size_t len)
{
	size_t cap = rvk_b64_decoded_max(len) + 1;
	char *dec = rvk_trymalloc(2 * cap);
	if (dec == NULL)
		return false;
	char *form = dec + cap;
	size_t dlen = 0;
	bool ok = false;
	if (!rvk_b64_decode(cred, len, (unsigned char *)dec, &dlen))
		goto cleanup;
	const char *colon = memchr(dec, ':', dlen);
	if (colon == NULL)
		goto cleanup;
	size_t idn = (size_t)(colon - dec), sn = dlen - idn - 1;
	size_t fid = 0, fs = 0;
	/* RFC 6749 §2.3.1 first: each side form-urlencoded. */
	if (rvk_client_form_decode(dec, idn, form, &fid)
	    && rvk_client_form_decode(colon + 1, sn, form + fid, &fs))
		ok = rvk_client_pair_ok(clients, n, form, fid, form + fid, fs);
	/* Then as sent (clients that skip the encoding). */
	if (!ok)
		ok = rvk_client_pair_ok(clients, n, dec, idn, colon + 1, sn);
cleanup:
	rvk_memzero(dec, 2 * cap);
	free(dec);
	return ok;
}
