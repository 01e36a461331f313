/* JWK Sets and discovery documents to keys (auth/jwks.h), against the
 * RFC 7517 A.1 and RFC 7515 A.2 / A.3 examples and keys made here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/jwks.h"
#include "auth/keyring.h"
#include "auth/mint.h"
#include "base/b64.h"
#include "base/buf.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

#define ALL_RS (RVK_ALGSET(RVK_ALG_RS256) | RVK_ALGSET(RVK_ALG_RS384) | RVK_ALGSET(RVK_ALG_RS512))
#define ALL_ES (RVK_ALGSET(RVK_ALG_ES256) | RVK_ALGSET(RVK_ALG_ES384) | RVK_ALGSET(RVK_ALG_ES512))

/* RFC 7517 Appendix A.1. */
#define A1_EC "{\"kty\":\"EC\",\"crv\":\"P-256\"," \
	"\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\"," \
	"\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\""
#define A1_RSA_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define A1_RSA "{\"kty\":\"RSA\",\"n\":\"" A1_RSA_N "\",\"e\":\"AQAB\""
static const char a1_set[] =
	"{\"keys\":[" A1_EC ",\"use\":\"enc\",\"kid\":\"1\"},"
	A1_RSA ",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}]}";

/* RFC 7515 A.2 (RS256) and A.3 (ES256): the public halves of their keys and
 * the example JWS. */
#define A2_N "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define EXAMPLE_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
static const char a2_input[] = "eyJhbGciOiJSUzI1NiJ9." EXAMPLE_PAYLOAD;
static const char a2_sig[] = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
static const char a3_input[] = "eyJhbGciOiJFUzI1NiJ9." EXAMPLE_PAYLOAD;
static const char a3_sig[] = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

static rvk_jwks_set_t
parse_ok(const char *doc, rvk_algset_t algs)
{
	rvk_jwks_set_t set;
	char err[256] = "";
	rvk_result_t r = rvk_jwks_parse(doc, strlen(doc), algs, &set, err, sizeof(err));
	TAP_CHECK_INT(r, RVK_OK);
	if (r != RVK_OK)
		fprintf(stderr, "# %s\n", err);
	return set;
}

static bool
verify_b64(const rvk_key_t *k, const char *input, const char *sig_b64)
{
	unsigned char sig[600];
	size_t n = 0;
	if (!rvk_b64url_decode(sig_b64, strlen(sig_b64), sig, &n))
		return false;
	return rvk_key_verify(k, (const unsigned char *)input, strlen(input), sig, n);
}

static bool
skipped_has(const rvk_jwks_set_t *s, const char *needle)
{
	for (size_t i = 0; i < s->n_skipped; i++)
		if (strstr(s->skipped[i], needle))
			return true;
	return false;
}

TAP_TEST(rfc7517_a1)
{
	/* The EC key is "use":"enc": skipped; the RSA key is taken, RS256. */
	rvk_jwks_set_t s = parse_ok(a1_set, ALL_RS | ALL_ES);
	TAP_CHECK_INT(s.n, 1);
	TAP_CHECK_STR(rvk_key_kid(s.keys[0]), "2011-04-29");
	TAP_CHECK_INT(rvk_key_alg(s.keys[0]), RVK_ALG_RS256);
	TAP_CHECK_INT(s.n_skipped, 1);
	TAP_CHECK(skipped_has(&s, "keys[0] (kid \"1\"): use is not \"sig\""));
	rvk_jwks_set_fini(&s);

	/* The same EC key for signatures: one ES256 key. */
	s = parse_ok("{\"keys\":[" A1_EC ",\"use\":\"sig\",\"kid\":\"1\"}]}", ALL_ES);
	TAP_CHECK_INT(s.n, 1);
	TAP_CHECK_INT(rvk_key_alg(s.keys[0]), RVK_ALG_ES256);
	rvk_jwks_set_fini(&s);

	/* Its RFC 7638 thumbprint (RFC 7638 §3.1). */
	char tp[44];
	const char jwk[] = A1_RSA ",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
	TAP_CHECK_INT(rvk_jwks_thumbprint(jwk, strlen(jwk), tp), RVK_OK);
	TAP_CHECK_STR(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	TAP_CHECK_INT(rvk_jwks_thumbprint("{\"kty\":\"oct\"}", 13, tp), RVK_EINVAL);
}

TAP_TEST(rfc7515_examples_verify)
{
	rvk_jwks_set_t s = parse_ok(
		"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a2\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a3\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}",
		RVK_ALGSET(RVK_ALG_RS256) | RVK_ALGSET(RVK_ALG_ES256));
	TAP_CHECK_INT(s.n, 2);
	TAP_CHECK_INT(s.n_skipped, 0);
	if (s.n == 2) {
		TAP_CHECK(verify_b64(s.keys[0], a2_input, a2_sig));
		TAP_CHECK(verify_b64(s.keys[1], a3_input, a3_sig));
		/* Against the other key, or another input: no. */
		TAP_CHECK(!verify_b64(s.keys[1], a2_input, a2_sig));
		TAP_CHECK(!verify_b64(s.keys[0], a3_input, a2_sig));
	}
	rvk_jwks_set_fini(&s);
}

TAP_TEST(alg_rules)
{
	const char rsa_noalg[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"}]}";
	/* No alg: every RS alg the issuer allows, one key each, one kid. */
	rvk_jwks_set_t s = parse_ok(rsa_noalg, RVK_ALGSET(RVK_ALG_RS256) |
	                            RVK_ALGSET(RVK_ALG_RS512) | RVK_ALGSET(RVK_ALG_ES256));
	TAP_CHECK_INT(s.n, 2);
	TAP_CHECK_INT(rvk_key_alg(s.keys[0]), RVK_ALG_RS256);
	TAP_CHECK_INT(rvk_key_alg(s.keys[1]), RVK_ALG_RS512);
	/* The keyring picks the one pinned to the header's alg. */
	rvk_keyring_t *ring = rvk_keyring_new(s.keys, s.n);
	s.n = 0;
	const rvk_key_t *k = NULL;
	TAP_CHECK_INT(rvk_keyring_select(ring, RVK_ALG_RS512, "r", 1, &k), RVK_REASON_OK);
	TAP_CHECK(k != NULL && rvk_key_alg(k) == RVK_ALG_RS512);
	TAP_CHECK_INT(rvk_keyring_select(ring, RVK_ALG_RS256, "r", 1, &k), RVK_REASON_OK);
	TAP_CHECK(k != NULL && rvk_key_alg(k) == RVK_ALG_RS256);
	TAP_CHECK_INT(rvk_keyring_select(ring, RVK_ALG_RS384, "r", 1, &k),
	              RVK_REASON_UNSUPPORTED_ALG);
	TAP_CHECK_INT(rvk_keyring_select(ring, RVK_ALG_RS256, "x", 1, &k),
	              RVK_REASON_UNKNOWN_KEY);
	rvk_keyring_free(ring);
	rvk_jwks_set_fini(&s);

	/* The issuer allows no RS alg: skipped. */
	s = parse_ok(rsa_noalg, ALL_ES);
	TAP_CHECK_INT(s.n, 0);
	TAP_CHECK(skipped_has(&s, "allows no RS or PS algorithm"));
	rvk_jwks_set_fini(&s);

	/* An alg outside the allow-list, or not fitting the key: skipped. */
	s = parse_ok("{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS384\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	             "{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	             "{\"kty\":\"RSA\",\"alg\":\"HS256\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	             "{\"kty\":\"RSA\",\"alg\":\"none\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES384\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}",
	             RVK_ALGSET(RVK_ALG_RS256) | ALL_ES | RVK_ALGSET(RVK_ALG_HS256));
	TAP_CHECK_INT(s.n, 0);
	TAP_CHECK_INT(s.n_skipped, 5);
	TAP_CHECK(skipped_has(&s, "keys[0]: alg RS384 is not in the issuer's algorithms"));
	TAP_CHECK(skipped_has(&s, "keys[1]: alg ES256 does not fit the key type or curve"));
	TAP_CHECK(skipped_has(&s, "keys[2]: alg HS256 does not fit"));
	TAP_CHECK(skipped_has(&s, "keys[3]: alg is not a known algorithm"));
	TAP_CHECK(skipped_has(&s, "keys[4]: alg ES384 does not fit"));
	rvk_jwks_set_fini(&s);

	/* An exponent of 1 (every encoding its own signature) or an even one
	 * is no RSA key: skipped (OpenSSL's public-key check refuses them
	 * before auth/key.c's own does), the key beside it taken. */
	s = parse_ok("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"one\",\"n\":\"" A2_N "\",\"e\":\"AQ\"},"
	             "{\"kty\":\"RSA\",\"kid\":\"even\",\"n\":\"" A2_N "\",\"e\":\"AQA\"},"
	             "{\"kty\":\"RSA\",\"kid\":\"ok\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"}]}",
	             RVK_ALGSET(RVK_ALG_RS256));
	TAP_CHECK_INT(s.n, 1);
	TAP_CHECK_INT(s.n_skipped, 2);
	TAP_CHECK(skipped_has(&s, "keys[0] (kid \"one\"): not a valid RSA public key"));
	TAP_CHECK(skipped_has(&s, "keys[1] (kid \"even\"): not a valid RSA public key"));
	rvk_jwks_set_fini(&s);

	/* A duplicate (kid, alg) is not taken twice. */
	s = parse_ok("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"d\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	             "{\"kty\":\"RSA\",\"kid\":\"d\",\"n\":\"" A1_RSA_N "\",\"e\":\"AQAB\"}]}",
	             RVK_ALGSET(RVK_ALG_RS256));
	TAP_CHECK_INT(s.n, 1);
	TAP_CHECK(skipped_has(&s, "keys[1] (kid \"d\"): duplicate kid for RS256"));
	rvk_jwks_set_fini(&s);
}

/* Builds an RSA JWK (no alg) from a PEM public key. */
static char *
rsa_jwk_from_pem(const char *pem, const char *kid)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e);
	unsigned char nb[1024], eb[16];
	int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
	char *ns = tk_b64(nb, (size_t)nl), *es = tk_b64(eb, (size_t)el);
	size_t len = strlen(ns) + strlen(es) + strlen(kid) + 64;
	char *out = malloc(len);
	snprintf(out, len, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"}", kid, ns, es);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	return out;
}

TAP_TEST(small_rsa_refused_and_minted_tokens_verify)
{
	char *priv = NULL, *pub = NULL;
	TAP_CHECK_INT(rvk_keygen_rsa(1024, &priv, &pub), RVK_OK);
	char *small = rsa_jwk_from_pem(pub, "small");
	const tk_material_t *m = tk_material(RVK_ALG_RS256, 0);
	char *pem = strndup((const char *)m->pub, m->pub_len);
	char *good = rsa_jwk_from_pem(pem, "good");
	char doc[4096];
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", small, good);
	rvk_jwks_set_t s = parse_ok(doc, RVK_ALGSET(RVK_ALG_RS256));
	TAP_CHECK_INT(s.n, 1);
	TAP_CHECK(skipped_has(&s, "keys[0] (kid \"small\"): RSA key shorter than 2048 bits"));
	/* A token minted (libjwt) with the private half verifies with the JWK. */
	char *tok = tk_mint(RVK_ALG_RS256, 0, "good", "{\"sub\":\"x\"}");
	char *dot = strrchr(tok, '.');
	*dot = '\0';
	if (s.n == 1)
		TAP_CHECK(verify_b64(s.keys[0], tok, dot + 1));
	free(tok);
	rvk_jwks_set_fini(&s);
	free(small);
	free(good);
	free(pem);
	free(priv);
	free(pub);
}

TAP_TEST(malformed_keys_are_skipped)
{
	static const char *const bad[] = {
		"\"not an object\"",
		"{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		"{\"n\":\"" A2_N "\",\"e\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"n\":\"" A2_N "\"}",
		"{\"kty\":\"RSA\",\"n\":\"!!!\",\"e\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"n\":\"" A2_N "\",\"e\":\"AQAB\",\"d\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"n\":\"" A2_N "\",\"e\":\"AQAB\",\"key_ops\":[\"encrypt\"]}",
		"{\"kty\":\"RSA\",\"kid\":7,\"n\":\"" A2_N "\",\"e\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"kid\":\"\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"n\":\"" A2_N "\",\"e\":\"AA\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256K\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}",
		/* y altered: off the curve. */
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1\"}",
		/* x one byte short. */
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVA\",\"y\":\"" A3_Y "\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char doc[2048];
		snprintf(doc, sizeof(doc), "{\"keys\":[%s,{\"kty\":\"RSA\",\"kid\":\"ok\","
		         "\"n\":\"" A2_N "\",\"e\":\"AQAB\"}]}", bad[i]);
		rvk_jwks_set_t s = parse_ok(doc, ALL_RS | ALL_ES);
		/* The good key after the bad one is always taken (three RS algs). */
		TAP_CHECK_INT(s.n, 3);
		TAP_CHECK_INT(s.n_skipped, 1);
		if (s.n_skipped != 1 || s.n != 3)
			fprintf(stderr, "# case %zu\n", i);
		TAP_CHECK(s.n_skipped == 0 || strncmp(s.skipped[0], "keys[0]", 7) == 0);
		rvk_jwks_set_fini(&s);
	}
	/* Whole-document failures. */
	static const char *const docs[] = {
		"", "[]", "{}", "{\"keys\":{}}", "not json", "{\"keys\":[],\"keys\":[]}",
		/* jansson refuses a NUL in a string (no JSON_ALLOW_NUL). */
		"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\\u0000b\"}]}",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		rvk_jwks_set_t s;
		char err[256] = "";
		TAP_CHECK_INT(rvk_jwks_parse(docs[i], strlen(docs[i]), ALL_RS, &s, err,
		                             sizeof(err)), RVK_EINVAL);
		TAP_CHECK(err[0] != '\0');
		TAP_CHECK(s.n == 0 && s.keys == NULL);
	}
	/* Too many keys: the first RVK_JWKS_MAX_KEYS are looked at. */
	rvk_buf_t b = RVK_BUF_INIT;
	rvk_buf_puts(&b, "{\"keys\":[");
	for (int i = 0; i < RVK_JWKS_MAX_KEYS + 5; i++)
		rvk_buf_printf(&b, "%s{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k%d\","
		               "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}", i ? "," : "", i);
	rvk_buf_puts(&b, "]}");
	rvk_jwks_set_t s = parse_ok(b.data, ALL_ES);
	TAP_CHECK_INT(s.n, RVK_JWKS_MAX_KEYS);
	TAP_CHECK(skipped_has(&s, "more than 64 keys"));
	rvk_jwks_set_fini(&s);
	rvk_buf_fini(&b);
}

TAP_TEST(same_keys_compares_by_kid_alg_and_key)
{
	const char d1[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	                  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}";
	/* Same keys, other order, other members. */
	const char d2[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"sig\",\"kid\":\"b\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"},"
	                  "{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"}]}";
	/* kid a now names another key. */
	const char d3[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"" A1_RSA_N "\",\"e\":\"AQAB\"},"
	                  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}";
	/* Same key material, other kid. */
	const char d4[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"c\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"},"
	                  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}";
	rvk_algset_t algs = RVK_ALGSET(RVK_ALG_RS256) | RVK_ALGSET(RVK_ALG_ES256);
	rvk_jwks_set_t s1 = parse_ok(d1, algs), s2 = parse_ok(d2, algs);
	rvk_jwks_set_t s3 = parse_ok(d3, algs), s4 = parse_ok(d4, algs);
	TAP_CHECK(rvk_jwks_same_keys(s1.keys, s1.n, s2.keys, s2.n));
	TAP_CHECK(!rvk_jwks_same_keys(s1.keys, s1.n, s3.keys, s3.n));
	TAP_CHECK(!rvk_jwks_same_keys(s1.keys, s1.n, s4.keys, s4.n));
	TAP_CHECK(!rvk_jwks_same_keys(s1.keys, s1.n, s1.keys, 1));
	TAP_CHECK(rvk_jwks_same_keys(NULL, 0, NULL, 0));
	/* A dup is the same key with the same load. */
	rvk_key_t *d = rvk_key_dup(s1.keys[0]);
	TAP_CHECK(rvk_key_same(d, s1.keys[0]));
	TAP_CHECK(rvk_key_load_id(d) == rvk_key_load_id(s1.keys[0]));
	TAP_CHECK(rvk_key_load_id(s2.keys[1]) != rvk_key_load_id(s1.keys[0]));
	rvk_key_free(d);
	rvk_jwks_set_fini(&s1);
	rvk_jwks_set_fini(&s2);
	rvk_jwks_set_fini(&s3);
	rvk_jwks_set_fini(&s4);
}

TAP_TEST(discovery)
{
	const char iss[] = "https://idp.example.com/realms/main";
	char *uri = NULL;
	char err[256];
	const char ok[] = "{\"issuer\":\"https://idp.example.com/realms/main\","
	                  "\"jwks_uri\":\"https://idp.example.com/certs\"}";
	TAP_CHECK_INT(rvk_jwks_discovery_parse(ok, strlen(ok), iss, &uri, err, sizeof(err)), RVK_OK);
	TAP_CHECK_STR(uri, "https://idp.example.com/certs");
	free(uri);
	uri = NULL;
	static const char *const bad[] = {
		"{\"issuer\":\"https://idp.example.com/realms/main/\",\"jwks_uri\":\"https://a/c\"}",
		"{\"issuer\":\"https://evil.example.com\",\"jwks_uri\":\"https://a/c\"}",
		"{\"jwks_uri\":\"https://a/c\"}",
		"{\"issuer\":\"https://idp.example.com/realms/main\"}",
		"{\"issuer\":\"https://idp.example.com/realms/main\",\"jwks_uri\":\"http://idp.example.com/c\"}",
		"{\"issuer\":\"https://idp.example.com/realms/main\",\"jwks_uri\":\"file:///etc/passwd\"}",
		"{\"issuer\":\"https://idp.example.com/realms/main\",\"jwks_uri\":7}",
		"[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		TAP_CHECK_INT(rvk_jwks_discovery_parse(bad[i], strlen(bad[i]), iss, &uri,
		                                       err, sizeof(err)), RVK_EINVAL);
		TAP_CHECK(uri == NULL && err[0] != '\0');
	}
	char *u = rvk_jwks_discovery_url("https://idp.example.com/realms/main/");
	TAP_CHECK_STR(u, "https://idp.example.com/realms/main/.well-known/openid-configuration");
	free(u);
	u = rvk_jwks_discovery_url("https://idp.example.com");
	TAP_CHECK_STR(u, "https://idp.example.com/.well-known/openid-configuration");
	free(u);
}

TAP_TEST(uri_rules)
{
	TAP_CHECK(rvk_jwks_uri_allowed("https://idp.example.com/certs"));
	TAP_CHECK(rvk_jwks_uri_allowed("HTTPS://idp.example.com"));
	TAP_CHECK(rvk_jwks_uri_allowed("http://127.0.0.1:8080/jwks"));
	TAP_CHECK(rvk_jwks_uri_allowed("http://127.3.2.1/jwks"));
	TAP_CHECK(rvk_jwks_uri_allowed("http://localhost:1/x"));
	TAP_CHECK(rvk_jwks_uri_allowed("http://[::1]:8080/x"));
	TAP_CHECK(rvk_jwks_uri_allowed("http://[::1]"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://127.0.0.1.evil.com/jwks"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://localhost.evil.com/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://127.0.0.1@evil.com/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("https://user@idp.example.com/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://10.0.0.1/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://[::2]/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://[::1]x/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("http://127.1/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("ftp://127.0.0.1/"));
	TAP_CHECK(!rvk_jwks_uri_allowed("https://"));
	TAP_CHECK(!rvk_jwks_uri_allowed("https://a b/"));
	TAP_CHECK(!rvk_jwks_uri_allowed(NULL));
	TAP_CHECK(rvk_jwks_host_is_loopback("127.255.0.1"));
	TAP_CHECK(rvk_jwks_host_is_loopback("LocalHost"));
	TAP_CHECK(!rvk_jwks_host_is_loopback("128.0.0.1"));
	TAP_CHECK(!rvk_jwks_host_is_loopback("0177.0.0.1"));
}

int
main(void)
{
	return tap_main(TAP_LIST(rfc7517_a1, rfc7515_examples_verify, alg_rules,
	                         small_rsa_refused_and_minted_tokens_verify,
	                         malformed_keys_are_skipped,
	                         same_keys_compares_by_kid_alg_and_key, discovery,
	                         uri_rules));
}
