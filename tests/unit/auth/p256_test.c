/* ES256 through the pinned key's table (auth/p256.c): every verdict is the
 * one OpenSSL's own EVP_PKEY_verify gives for the same digest and (r, s). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth/key.h"
#include "auth/p256.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

static EVP_PKEY *
private_key(int variant)
{
	return tk_private_pkey(RVK_ALG_ES256, variant);
}

static BIGNUM *
order(void)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BIGNUM *n = BN_dup(EC_GROUP_get0_order(g));
	EC_GROUP_free(g);
	return n;
}

/* Signs digest with pk into JOSE r || s. */
static void
sign(EVP_PKEY *pk, const unsigned char digest[32], unsigned char sig[64])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	unsigned char der[80];
	size_t der_len = sizeof(der);
	RVK_REQUIRE(c != NULL && EVP_PKEY_sign_init(c) == 1
	            && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1
	            && EVP_PKEY_sign(c, der, &der_len, digest, 32) == 1);
	EVP_PKEY_CTX_free(c);
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	RVK_REQUIRE(s != NULL);
	RVK_REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32
	            && BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32);
	ECDSA_SIG_free(s);
}

/* OpenSSL's verdict on (r, s) of sig over digest: 1 or 0. */
static int
reference(EVP_PKEY *pk, const unsigned char digest[32],
          const unsigned char sig[64])
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	RVK_REQUIRE(ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL),
	                           BN_bin2bn(sig + 32, 32, NULL)) == 1);
	unsigned char *der = NULL;
	int der_len = i2d_ECDSA_SIG(s, &der);
	RVK_REQUIRE(der_len > 0);
	ECDSA_SIG_free(s);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	RVK_REQUIRE(c != NULL && EVP_PKEY_verify_init(c) == 1
	            && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1);
	int ok = EVP_PKEY_verify(c, der, (size_t)der_len, digest, 32) == 1;
	EVP_PKEY_CTX_free(c);
	OPENSSL_free(der);
	return ok;
}

/* Checks that v and OpenSSL both answer want on (digest, sig). */
#define SAME_VERDICT(v, pk, digest, sig, want)                          \
	do {                                                            \
		TAP_CHECK_INT(rvk_p256_verify((v), (digest), (sig)), (want)); \
		TAP_CHECK_INT(reference((pk), (digest), (sig)), (want));     \
	} while (0)

/* The first verify builds the table and answers (a verifier without one
 * answers -1): 300 valid signatures verify, each with one bit of the digest
 * or of r or s flipped does not, as OpenSSL says. */
TAP_TEST(valid_and_altered_signatures)
{
	EVP_PKEY *pk = private_key(0);
	rvk_p256_t *v = rvk_p256_new(pk);
	TAP_CHECK(v != NULL);
	int mismatch = 0, good = 0, bad = 0;
	for (int i = 0; i < 300; i++) {
		unsigned char d[32], sig[64];
		RAND_bytes(d, sizeof(d));
		sign(pk, d, sig);
		int got = rvk_p256_verify(v, d, sig);
		good += got == 1;
		mismatch += got != reference(pk, d, sig);
		unsigned char d2[32], sig2[64];
		memcpy(d2, d, 32);
		memcpy(sig2, sig, 64);
		if (i % 2)
			d2[i % 32] ^= (unsigned char)(1u << (i % 8));
		else
			sig2[i % 64] ^= (unsigned char)(1u << (i % 8));
		got = rvk_p256_verify(v, d2, sig2);
		bad += got != 0;
		mismatch += got != reference(pk, d2, sig2);
	}
	TAP_CHECK_INT(good, 300);
	TAP_CHECK_INT(bad, 0);
	TAP_CHECK_INT(mismatch, 0);
	rvk_p256_unref(v);
	EVP_PKEY_free(pk);
}

/* r and s must lie in [1, n-1] (SEC 1 §4.1.4 step 1); (r, n - s) is as
 * valid as (r, s): JOSE has no low-s rule and OpenSSL accepts both. */
TAP_TEST(range_of_r_and_s)
{
	EVP_PKEY *pk = private_key(0);
	rvk_p256_t *v = rvk_p256_new(pk);
	BIGNUM *n = order();
	unsigned char d[32], sig[64], alt[64], nb[32], ones[32];
	RAND_bytes(d, sizeof(d));
	sign(pk, d, sig);
	TAP_CHECK(BN_bn2binpad(n, nb, 32) == 32);
	memset(ones, 0xff, sizeof(ones));
	struct { int half; const unsigned char *with; } cases[] = {
		{ 0, NULL }, { 1, NULL },   /* zero */
		{ 0, nb }, { 1, nb },       /* n */
		{ 0, ones }, { 1, ones },   /* 2^256 - 1 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(alt, sig, 64);
		unsigned char *half = alt + 32 * cases[i].half;
		if (cases[i].with)
			memcpy(half, cases[i].with, 32);
		else
			memset(half, 0, 32);
		SAME_VERDICT(v, pk, d, alt, 0);
	}
	/* s' = n - s */
	BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
	TAP_CHECK(BN_sub(s, n, s) == 1);
	memcpy(alt, sig, 32);
	TAP_CHECK(BN_bn2binpad(s, alt + 32, 32) == 32);
	SAME_VERDICT(v, pk, d, alt, 1);
	/* r + n still fits in 32 bytes for most r: it is not r. */
	BIGNUM *r = BN_bin2bn(sig, 32, NULL);
	TAP_CHECK(BN_add(r, r, n) == 1);
	if (BN_num_bytes(r) <= 32) {
		memcpy(alt, sig, 64);
		TAP_CHECK(BN_bn2binpad(r, alt, 32) == 32);
		SAME_VERDICT(v, pk, d, alt, 0);
	}
	BN_free(r);
	BN_free(s);
	BN_free(n);
	rvk_p256_unref(v);
	EVP_PKEY_free(pk);
}

/* The public key Q = (x, y) with x = n + 3, the first such x on the curve
 * (x may exceed n: p - n is about 2^128). Nobody knows its private key, but
 * with e = 0 (mod n) and r = s = 3, u1 = 0 and u2 = 1: R = Q, and R.x mod n
 * = 3 = r. So (3, 3) is a valid signature of the zero digest, and of the
 * digest n, under Q: the one case a verify that compares R.x with r without
 * reducing it mod n refuses, and that random signatures reach with
 * probability 2^-128. */
static EVP_PKEY *
key_with_x_above_n(void)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *q = EC_POINT_new(g);
	BIGNUM *x = BN_dup(EC_GROUP_get0_order(g));
	RVK_REQUIRE(g && q && x && BN_add_word(x, 3) == 1
	            && EC_POINT_set_compressed_coordinates(g, q, x, 0, NULL) == 1);
	unsigned char pub[65];
	size_t pub_len = EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED,
	                                    pub, sizeof(pub), NULL);
	RVK_REQUIRE(pub_len == 65);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	RVK_REQUIRE(b && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	                                                 "prime256v1", 0) == 1
	            && OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY,
	                                                pub, pub_len) == 1);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	RVK_REQUIRE(params && c && EVP_PKEY_fromdata_init(c) == 1
	            && EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1);
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_free(x);
	EC_POINT_free(q);
	EC_GROUP_free(g);
	return pk;
}

/* R.x >= n: R.x mod n is compared with r (SEC 1 §4.1.4 step 7), the whole
 * digest is taken mod n (e = n is e = 0), and r = R.x unreduced is out of
 * range; each verdict is OpenSSL's. */
TAP_TEST(x_above_n_and_digest_mod_n)
{
	EVP_PKEY *pk = key_with_x_above_n();
	rvk_p256_t *v = rvk_p256_new(pk);
	TAP_CHECK(v != NULL);
	BIGNUM *n = order(), *x = BN_dup(n);
	TAP_CHECK(BN_add_word(x, 3) == 1);
	unsigned char zero[32] = { 0 }, nd[32], one[32] = { 0 }, sig[64] = { 0 };
	TAP_CHECK(BN_bn2binpad(n, nd, 32) == 32);
	one[31] = 1;
	sig[31] = 3;
	sig[63] = 3;
	SAME_VERDICT(v, pk, zero, sig, 1);
	SAME_VERDICT(v, pk, nd, sig, 1);
	SAME_VERDICT(v, pk, one, sig, 0);
	/* s = n - 3: u2 = -1, R = -Q, the same x. */
	BIGNUM *s = BN_dup(n);
	TAP_CHECK(BN_sub_word(s, 3) == 1 && BN_bn2binpad(s, sig + 32, 32) == 32);
	SAME_VERDICT(v, pk, zero, sig, 1);
	/* r = R.x itself (>= n): refused. */
	TAP_CHECK(BN_bn2binpad(x, sig, 32) == 32);
	SAME_VERDICT(v, pk, zero, sig, 0);
	BN_free(s);
	BN_free(x);
	BN_free(n);
	rvk_p256_unref(v);
	EVP_PKEY_free(pk);
}

/* Through rvk_key_verify: the other key's signature is refused, and a copy
 * of a key (rvk_key_dup shares the verifier) still verifies after the
 * original is freed. */
TAP_TEST(keys_and_their_copies)
{
	EVP_PKEY *pk0 = private_key(0), *pk1 = private_key(1);
	rvk_key_t *k = tk_key(RVK_ALG_ES256, 0, NULL);
	const unsigned char msg[] = "header.payload";
	unsigned char d[32], sig[64], other[64];
	SHA256(msg, sizeof(msg) - 1, d);
	sign(pk0, d, sig);
	sign(pk1, d, other);
	TAP_CHECK(rvk_key_verify(k, msg, sizeof(msg) - 1, sig, 64));
	TAP_CHECK(!rvk_key_verify(k, msg, sizeof(msg) - 1, other, 64));
	TAP_CHECK(!rvk_key_verify(k, msg, sizeof(msg) - 2, sig, 64));
	TAP_CHECK(!rvk_key_verify(k, msg, sizeof(msg) - 1, sig, 63));
	rvk_key_t *copy = rvk_key_dup(k);
	rvk_key_free(k);
	TAP_CHECK(rvk_key_verify(copy, msg, sizeof(msg) - 1, sig, 64));
	TAP_CHECK(!rvk_key_verify(copy, msg, sizeof(msg) - 1, other, 64));
	rvk_key_free(copy);
	EVP_PKEY_free(pk0);
	EVP_PKEY_free(pk1);
}

/* Four threads start on a key whose table is not built: one builds it,
 * the others are answered by EVP meanwhile; every verdict is right (run
 * under TSan too: the table is published once). */
TAP_TEST(threads_race_the_first_build)
{
	EVP_PKEY *pk0 = private_key(0), *pk1 = private_key(1);
	const unsigned char msg[] = "race.input";
	unsigned char d[32], sig[64], other[64];
	SHA256(msg, sizeof(msg) - 1, d);
	sign(pk0, d, sig);
	sign(pk1, d, other);
	for (int round = 0; round < 3; round++) {
		rvk_key_t *k = tk_key(RVK_ALG_ES256, 0, NULL);
		TAP_CHECK_INT(tk_verify_race(k, msg, sizeof(msg) - 1, sig, other,
		                             64, 4, 40), 0);
		rvk_key_free(k);
	}
	EVP_PKEY_free(pk0);
	EVP_PKEY_free(pk1);
}

int
main(void)
{
	return tap_main(TAP_LIST(valid_and_altered_signatures, range_of_r_and_s,
	                         x_above_n_and_digest_mod_n,
	                         keys_and_their_copies,
	                         threads_race_the_first_build));
}
