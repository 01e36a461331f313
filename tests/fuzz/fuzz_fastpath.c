/*
 * fuzz_fastpath.c - the fast claim scanner (rvk_jws_parse_fast, the /auth
 * miss path) against the jansson path it short-cuts (rvk_jws_parse).
 *
 * Input: byte 0 picks the mode. Even: the rest is "header JSON \0 payload
 * JSON", encoded and HMAC-SHA256'd with the fixed secret, so the fuzzer
 * explores claim sets under valid signatures (and reaches step 5). Odd: the
 * rest is the token itself. Bits 1-2 of byte 0 pick the issuer's audience
 * list (none, one, two) so that both aud branches of step 5 run.
 *
 * Differential: on every input, both parsers give the same reason, and
 * rvk_access_verify (fast) the same reason as rvk_access_verify_reference
 * (jansson); when they accept, every member read (alg, kid, typ, iss, sub,
 * jti, sid, exp, iat, nbf, crit, events, nonce, the signature) is equal,
 * aud contains the same strings, every claim reads as the same header
 * text (rvk_jws_claim_text), and the payload the fast path gives on demand
 * (rvk_jws_payload) equals jansson's. Any difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/access.h"
#include "auth/jws.h"
#include "base/b64.h"
#include "base/check.h"
#include "base/mem.h"
#include "tests/fuzz/fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rvk_issuers_t issuers[3];
static const rvk_policy_t policy = {
	.leeway = 30, .max_token_bytes = 16384, .max_token_lifetime = 86400,
	.require_jti = true,
};

static void
init(void)
{
	static const char *const auds[] = { "api", "https://app.example" };
	for (size_t i = 0; i < 3; i++) {
		rvk_key_t *key;
		char err[128];
		RVK_REQUIRE(rvk_key_from_secret(NULL, RVK_ALG_HS256,
		                                (const unsigned char *)FUZZ_HS_SECRET,
		                                strlen(FUZZ_HS_SECRET), &key, err,
		                                sizeof(err)) == RVK_OK);
		rvk_issuer_t *is = rvk_issuer_new(FUZZ_ISS);
		is->algorithms = RVK_ALGSET(RVK_ALG_HS256);
		rvk_keyring_free(is->keyring);
		is->keyring = rvk_keyring_new(&key, 1);
		if (i > 0) {
			is->n_audiences = i;
			is->audiences = rvk_calloc(i, sizeof(char *));
			for (size_t k = 0; k < i; k++)
				is->audiences[k] = rvk_strdup(auds[k]);
		}
		issuers[i].n = 1;
		issuers[i].v = rvk_malloc(sizeof(*issuers[i].v));
		issuers[i].v[0] = is;
	}
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
	o += rvk_b64url_encode(mac, mac_len, t + o);
	t[o] = 0;
	return t;
}

static void
differ(const char *what, const char *token)
{
	fprintf(stderr, "fast path and jansson differ on %s: %s\n", what, token);
	abort();
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
same_text(const rvk_jws_t *ref, const rvk_jws_t *fast, const char *name,
          const char *token)
{
	char *a = rvk_jws_claim_text(ref, name), *b = rvk_jws_claim_text(fast, name);
	if (!same_str(a, b))
		differ("a claim's text", token);
	free(a);
	free(b);
}

/* Every member the decision and the callers read, ref (jansson) vs fast. */
static void
compare(const rvk_jws_t *ref, const rvk_jws_t *fast, const char *token)
{
	if (!same_str(ref->alg, fast->alg) || !same_str(ref->kid, fast->kid)
	    || ref->kid_len != fast->kid_len || !same_str(ref->typ, fast->typ))
		differ("the header members", token);
	if (!same_str(ref->iss, fast->iss) || !same_str(ref->sub, fast->sub)
	    || !same_str(ref->jti, fast->jti) || !same_str(ref->sid, fast->sid))
		differ("iss, sub, jti or sid", token);
	if (ref->has_exp != fast->has_exp || ref->exp != fast->exp
	    || ref->has_iat != fast->has_iat || ref->iat != fast->iat
	    || ref->has_nbf != fast->has_nbf || ref->nbf != fast->nbf)
		differ("exp, iat or nbf", token);
	if (ref->has_crit != fast->has_crit || ref->has_events != fast->has_events
	    || ref->has_nonce != fast->has_nonce)
		differ("crit, events or nonce", token);
	if (ref->sig_len != fast->sig_len
	    || memcmp(ref->sig, fast->sig, ref->sig_len) != 0
	    || ref->signing_input_len != fast->signing_input_len)
		differ("the signature", token);
	/* The fast path's signature shares the scanner's allocation exactly
	 * when the scanner took the payload (a claim copy overwritten by the
	 * signature would differ above; a write past the allocation, ASan). */
	if (fast->sig_in_claims != (fast->claims != NULL) || ref->sig_in_claims)
		differ("where the signature lives", token);
	/* aud: each string of jansson's, and some that are not there. */
	const json_t *aud = json_object_get(ref->payload, "aud");
	size_t i;
	const json_t *e;
	if (json_is_string(aud) && !rvk_jws_aud_contains(fast, json_string_value(aud)))
		differ("aud", token);
	json_array_foreach(aud, i, e)
		if (json_is_string(e) && !rvk_jws_aud_contains(fast, json_string_value(e)))
			differ("aud", token);
	static const char *const probe[] = { "", "api", "https://app.example", "API" };
	for (i = 0; i < sizeof(probe) / sizeof(*probe); i++)
		if (rvk_jws_aud_contains(ref, probe[i]) != rvk_jws_aud_contains(fast, probe[i]))
			differ("aud", token);
	/* The claims /auth forwards as headers: every member jansson sees,
	 * and names that are not there. */
	const char *key;
	const json_t *val;
	json_object_foreach((json_t *)ref->payload, key, val) {
		(void)val;
		same_text(ref, fast, key, token);
	}
	same_text(ref, fast, "scope", token);
	same_text(ref, fast, "roles", token);
	same_text(ref, fast, "", token);
	json_t *p = rvk_jws_payload(fast);
	if (p == NULL || !json_equal(p, ref->payload))
		differ("the payload object", token);
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
	char *token;
	size_t len;
	if (mode & 1) {
		token = rvk_memdup0(data + 1, size - 1);
		len = size - 1;
	} else {
		token = construct(data + 1, size - 1);
		len = strlen(token);
	}
	rvk_jws_t ref, fast;
	rvk_reason_t r1 = rvk_jws_parse(token, len, policy.max_token_bytes, &ref);
	rvk_reason_t r2 = rvk_jws_parse_fast(token, len, policy.max_token_bytes, &fast);
	if (r1 != r2)
		differ("step 1", token);
	if (r1 == RVK_REASON_OK) {
		compare(&ref, &fast, token);
		rvk_jws_fini(&ref);
		rvk_jws_fini(&fast);
	}

	const rvk_issuers_t *is = &issuers[((mode >> 1) & 3) % 3];
	rvk_access_t a1, a2;
	const rvk_issuer_t *found;
	rvk_rcu_read_lock();
	r1 = rvk_access_verify_reference(is, &policy, token, len, FUZZ_NOW, &a1);
	r2 = rvk_access_verify_issuer(is, &policy, token, len, FUZZ_NOW, &a2, &found);
	rvk_rcu_read_unlock();
	if (r1 != r2) {
		fprintf(stderr, "reasons: jansson %s, fast %s\n", rvk_reason_str(r1),
		        rvk_reason_str(r2));
		differ("the decision", token);
	}
	if (r1 == RVK_REASON_OK) {
		compare(&a1.jws, &a2.jws, token);
		rvk_access_fini(&a1);
		rvk_access_fini(&a2);
	}
	free(token);
	return 0;
}
