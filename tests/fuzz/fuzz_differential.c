/*
 * fuzz_differential.c - revokd's verifier against libjwt 1.10 on fixed keys.
 *
 * Input: byte 0 picks the mode. Even: the rest is "header JSON \0 payload
 * JSON", encoded and HMAC-SHA256'd with the fixed secret, so the fuzzer
 * explores documents under valid signatures. Odd: the rest is the token
 * itself, checked with the HS256 secret (bit 1 clear) or the ES256 public
 * key (bit 1 set), so mutations of the seed tokens explore signatures.
 *
 * Inside libjwt's safe subset - revokd parsed the token (strict base64url,
 * strict JSON), alg is exactly the key's algorithm, typ absent or "JWT" (any
 * case, as libjwt compares), no crit, no kid (the key has none) - the two
 * verdicts must be equal; any difference aborts. The known differences
 * outside the subset are asserted in tests/unit/auth/differential_test.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jws.h"
#include "base/b64.h"
#include "base/check.h"
#include "base/mem.h"
#include "tests/fuzz/fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rvk_issuer_t *hs_issuer, *es_issuer;

static rvk_issuer_t *
issuer_with(rvk_key_t *key)
{
	rvk_issuer_t *is = rvk_issuer_new(FUZZ_ISS);
	is->algorithms = RVK_ALGSET(rvk_key_alg(key));
	rvk_keyring_free(is->keyring);
	is->keyring = rvk_keyring_new(&key, 1);
	return is;
}

static void
init(void)
{
	rvk_key_t *hs, *es;
	char err[128];
	RVK_REQUIRE(rvk_key_from_secret(NULL, RVK_ALG_HS256,
	                                (const unsigned char *)FUZZ_HS_SECRET,
	                                strlen(FUZZ_HS_SECRET), &hs, err,
	                                sizeof(err)) == RVK_OK);
	RVK_REQUIRE(rvk_key_from_pem(NULL, RVK_ALG_ES256, FUZZ_ES_PUB,
	                             strlen(FUZZ_ES_PUB), &es, err,
	                             sizeof(err)) == RVK_OK);
	hs_issuer = issuer_with(hs);
	es_issuer = issuer_with(es);
}

/* b64(header) "." b64(payload) "." b64(HMAC-SHA256), NUL-terminated. */
static char *
construct(const uint8_t *p, size_t n)
{
	const uint8_t *nul = memchr(p, 0, n);
	size_t hlen = nul ? (size_t)(nul - p) : n;
	const uint8_t *pay = nul ? nul + 1 : (const uint8_t *)"{}";
	size_t plen = nul ? n - hlen - 1 : 2;
	size_t cap = rvk_b64url_encoded_len(hlen) + rvk_b64url_encoded_len(plen)
	             + rvk_b64url_encoded_len(32) + 3;
	char *t = rvk_malloc(cap);
	size_t o = rvk_b64url_encode(p, hlen, t);
	t[o++] = '.';
	o += rvk_b64url_encode(pay, plen, t + o);
	unsigned char mac[32];
	unsigned mac_len = 0;
	RVK_REQUIRE(HMAC(EVP_sha256(), FUZZ_HS_SECRET, (int)strlen(FUZZ_HS_SECRET),
	                 (unsigned char *)t, o, mac, &mac_len) != NULL);
	t[o++] = '.';
	rvk_b64url_encode(mac, mac_len, t + o);
	return t;
}

static bool
libjwt_accepts(const char *token, bool es)
{
	const char *key = es ? FUZZ_ES_PUB : FUZZ_HS_SECRET;
	jwt_t *jwt = NULL;
	int rc = jwt_decode(&jwt, token, (const unsigned char *)key, (int)strlen(key));
	bool ok = rc == 0
	          && jwt_get_alg(jwt) == (es ? JWT_ALG_ES256 : JWT_ALG_HS256);
	jwt_free(jwt);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size < 1 || size > 16384)
		return 0;
	uint8_t mode = data[0];
	bool es = (mode & 1) && (mode & 2);
	char *token;
	if (mode & 1) {
		if (memchr(data + 1, 0, size - 1) != NULL)
			return 0; /* libjwt takes a C string: it would see a prefix */
		token = rvk_memdup0(data + 1, size - 1);
	} else {
		token = construct(data + 1, size - 1);
	}
	rvk_jws_t j;
	if (rvk_jws_parse(token, strlen(token), 1 << 20, &j) != RVK_REASON_OK) {
		free(token);
		return 0;
	}
	/* A header without a string alg parses (REFERENCE §3: refused at step 3)
	 * and is outside the subset. */
	bool subset = j.alg != NULL && strcmp(j.alg, es ? "ES256" : "HS256") == 0
	              && (j.typ == NULL || strcasecmp(j.typ, "JWT") == 0)
	              && !j.has_crit && j.kid == NULL;
	if (subset) {
		const rvk_key_t *used = NULL;
		rvk_rcu_read_lock();
		rvk_reason_t r = rvk_jws_verify(&j, es ? es_issuer : hs_issuer, &used);
		rvk_rcu_read_unlock();
		bool ours = r == RVK_REASON_OK;
		bool lib = libjwt_accepts(token, es);
		if (ours != lib) {
			fprintf(stderr, "verdicts differ: revokd %s, libjwt %s: %s\n",
			        rvk_reason_str(r), lib ? "accepts" : "rejects", token);
			abort();
		}
	}
	rvk_jws_fini(&j);
	free(token);
	return 0;
}
