/* RS256/384/512 through the key's Montgomery form (auth/rsa.c): every
 * verdict is the one OpenSSL's own EVP_PKEY_verify gives for the same
 * digest and signature, on signatures made by OpenSSL and on encodings
 * altered before they are signed with the raw private-key operation. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "auth/key.h"
#include "auth/rsa.h"
#include "tests/fuzz/fuzz_keys.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

/* Every EVP_PKEY_verify of this program, auth/key.c's included, is
 * counted here on its way to OpenSSL's (the executable's definition comes
 * first in symbol resolution): the count shows which keys rvk_key_verify
 * sends to auth/rsa.c and which to EVP. */
static atomic_int evp_verifies;
static int (*real_verify)(EVP_PKEY_CTX *, const unsigned char *, size_t,
                          const unsigned char *, size_t);

/* Found before main, so no thread ever writes it. */
__attribute__((constructor)) static void
find_real_verify(void)
{
	*(void **)&real_verify = dlsym(RTLD_NEXT, "EVP_PKEY_verify");
	RVK_REQUIRE(real_verify != NULL);
}

int
EVP_PKEY_verify(EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen,
                const unsigned char *tbs, size_t tbslen)
{
	atomic_fetch_add(&evp_verifies, 1);
	return real_verify(ctx, sig, siglen, tbs, tbslen);
}

static EVP_PKEY *
private_key(int variant)
{
	return tk_private_pkey(RVK_ALG_RS256, variant);
}

/* A new key of bits with public exponent e (a decimal string). */
static EVP_PKEY *
generate(int bits, const char *e)
{
	BIGNUM *bn = NULL;
	RVK_REQUIRE(BN_dec2bn(&bn, e) > 0);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *pk = NULL;
	RVK_REQUIRE(c != NULL && EVP_PKEY_keygen_init(c) == 1
	            && EVP_PKEY_CTX_set_rsa_keygen_bits(c, bits) == 1
	            && EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn) == 1
	            && EVP_PKEY_keygen(c, &pk) == 1);
	EVP_PKEY_CTX_free(c);
	BN_free(bn);
	return pk;
}

static const EVP_MD *
md_of_len(size_t md_len)
{
	return md_len == 32 ? EVP_sha256() : md_len == 48 ? EVP_sha384()
	                                                   : EVP_sha512();
}

/* A PKCS#1 v1.5 signature of digest by OpenSSL; returns its length. */
static size_t
sign(EVP_PKEY *pk, const unsigned char *digest, size_t md_len,
     unsigned char *sig)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	size_t len = 1024;
	RVK_REQUIRE(c != NULL && EVP_PKEY_sign_init(c) == 1
	            && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1
	            && EVP_PKEY_CTX_set_signature_md(c, md_of_len(md_len)) == 1
	            && EVP_PKEY_sign(c, sig, &len, digest, md_len) == 1);
	EVP_PKEY_CTX_free(c);
	return len;
}

/* The raw private-key operation on em (k bytes, below n): a "signature"
 * whose public operation gives back em exactly. */
static void
sign_raw(EVP_PKEY *pk, const unsigned char *em, size_t k, unsigned char *sig)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	size_t len = k;
	RVK_REQUIRE(c != NULL && EVP_PKEY_sign_init(c) == 1
	            && EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) == 1
	            && EVP_PKEY_sign(c, sig, &len, em, k) == 1 && len == k);
	EVP_PKEY_CTX_free(c);
}

/* OpenSSL's verdict: 1 or 0. */
static int
reference(EVP_PKEY *pk, const unsigned char *digest, size_t md_len,
          const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	RVK_REQUIRE(c != NULL && EVP_PKEY_verify_init(c) == 1
	            && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1
	            && EVP_PKEY_CTX_set_signature_md(c, md_of_len(md_len)) == 1);
	int ok = EVP_PKEY_verify(c, sig, sig_len, digest, md_len) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

/* Checks that v and OpenSSL agree, and that the verdict is want. */
#define CHECK_BOTH(v, pk, d, md_len, sig, len, want)                          \
	do {                                                                  \
		int got_ = rvk_rsa_verify((v), (d), (md_len), (sig), (len));  \
		TAP_CHECK_INT(got_, (want));                                  \
		TAP_CHECK_INT(reference((pk), (d), (md_len), (sig), (len)),   \
		              (want));                                        \
	} while (0)

/* Each digest length, its signature valid; any bit of the signature or the
 * digest flipped makes it invalid; the other key's signature too. */
TAP_TEST(valid_and_altered_signatures)
{
	EVP_PKEY *pk = private_key(0), *other = private_key(1);
	rvk_rsa_t *v = rvk_rsa_new(pk);
	TAP_CHECK(v != NULL);
	const size_t lens[] = {32, 48, 64};
	for (size_t l = 0; l < 3; l++) {
		size_t md_len = lens[l];
		unsigned char d[64], sig[512], o[512];
		memset(d, 0, sizeof(d));
		for (size_t i = 0; i < md_len; i++)
			d[i] = (unsigned char)(i * 7 + l);
		size_t k = sign(pk, d, md_len, sig);
		TAP_CHECK_INT((int)k, 256);
		CHECK_BOTH(v, pk, d, md_len, sig, k, 1);
		for (size_t i = 0; i < k; i += 13) {
			sig[i] ^= 0x10;
			CHECK_BOTH(v, pk, d, md_len, sig, k, 0);
			sig[i] ^= 0x10;
		}
		d[md_len - 1] ^= 1;
		CHECK_BOTH(v, pk, d, md_len, sig, k, 0);
		d[md_len - 1] ^= 1;
		/* The same signature checked as another hash's. */
		size_t wrong = lens[(l + 1) % 3];
		CHECK_BOTH(v, pk, d, wrong, sig, k, 0);
		sign(other, d, md_len, o);
		CHECK_BOTH(v, pk, d, md_len, o, k, 0);
		/* A length other than the modulus's. */
		TAP_CHECK_INT(rvk_rsa_verify(v, d, md_len, sig, k - 1), 0);
		TAP_CHECK_INT(rvk_rsa_verify(v, d, md_len, sig, k + 1), 0);
	}
	rvk_rsa_unref(v);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(other);
}

/* Builds EMSA-PKCS1-v1_5 of a SHA-256 digest into em (k bytes), then
 * alters it as op says. Returns: whether the result is the valid
 * encoding. */
static int
encoding(int op, const unsigned char d[32], unsigned char *em, size_t k)
{
	static const unsigned char di256[] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	/* The same without the NULL parameters (RFC 8017 §9.2 note 2 says
	 * some encoders omit them; OpenSSL's RSA_verify does not accept it). */
	static const unsigned char di256_nonull[] = {
		0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20};
	/* SHA-1's, with 32 bytes after it. */
	static const unsigned char di1[] = {
		0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
		0x1a, 0x05, 0x00, 0x04, 0x14};
	const unsigned char *di = di256;
	size_t di_len = sizeof(di256);
	if (op == 6) {
		di = di256_nonull;
		di_len = sizeof(di256_nonull);
	} else if (op == 7) {
		di = di1;
		di_len = sizeof(di1);
	}
	size_t t = di_len + 32;
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - t - 3);
	em[k - t - 1] = 0x00;
	memcpy(em + k - t, di, di_len);
	memcpy(em + k - 32, d, 32);
	switch (op) {
	case 0: return 1;
	case 1: em[1] = 0x02; break;                 /* block type 2 */
	case 2: em[k - t - 1] = 0xff; break;         /* no separator */
	case 3: em[10] = 0xfe; break;                /* padding not all FF */
	case 4: em[0] = 0x01; break;                 /* leading byte */
	case 5:                                      /* digest moved left, */
		memmove(em + k - t - 1, em + k - t, t); /* a byte of garbage */
		em[k - 1] = 0xaa;
		break;
	case 8: em[k - t + 1] ^= 0x01; break;        /* DigestInfo length */
	case 9: em[k - 33] = 0x21; break;            /* OCTET STRING length */
	case 10: memset(em + 2, 0x00, 8); break;     /* zeros in the padding */
	default: break;                              /* 6, 7 above */
	}
	return 0;
}

/* Encodings that are almost right, each signed with the raw private-key
 * operation: only the exact encoding is valid, for both paths. */
TAP_TEST(altered_encodings)
{
	EVP_PKEY *pk = private_key(0);
	rvk_rsa_t *v = rvk_rsa_new(pk);
	TAP_CHECK(v != NULL);
	unsigned char d[32], em[256], sig[256];
	SHA256((const unsigned char *)"header.payload", 14, d);
	for (int op = 0; op <= 10; op++) {
		int want = encoding(op, d, em, sizeof(em));
		sign_raw(pk, em, sizeof(em), sig);
		CHECK_BOTH(v, pk, d, 32, sig, sizeof(sig), want);
	}
	rvk_rsa_unref(v);
	EVP_PKEY_free(pk);
}

/* The signature as a number: 0, 1, n - 1, n, n + 1 and all ones are all
 * refused (n and above are out of range, RFC 8017 §5.2.2). Those would be
 * refused by the encoding comparison too; only a valid s plus n needs the
 * range check, and is tried last. */
TAP_TEST(signature_out_of_range)
{
	EVP_PKEY *pk = private_key(0);
	rvk_rsa_t *v = rvk_rsa_new(pk);
	BIGNUM *n = NULL, *t = BN_new();
	RVK_REQUIRE(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) && t);
	unsigned char d[32], sig[256];
	SHA256((const unsigned char *)"x", 1, d);
	const long deltas[] = {-1, 0, 1};
	for (size_t i = 0; i < 3; i++) {
		RVK_REQUIRE(BN_copy(t, n) != NULL);
		if (deltas[i] < 0)
			RVK_REQUIRE(BN_sub_word(t, 1));
		else if (deltas[i] > 0)
			RVK_REQUIRE(BN_add_word(t, 1));
		RVK_REQUIRE(BN_bn2binpad(t, sig, 256) == 256);
		CHECK_BOTH(v, pk, d, 32, sig, 256, 0);
	}
	/* A valid s plus n: the same value after the public operation, so
	 * only the range check refuses it (a second string for one token's
	 * signature). On the fuzz targets' fixed key, whose n is about 0.66 ×
	 * 2^2048, s + n fits in 256 bytes for about half of the digests; the
	 * fixture keys are new each run and may lie too close to 2^2048. */
	BIO *bio = BIO_new_mem_buf(FUZZ_RS_PRIV, -1);
	EVP_PKEY *fixed = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	rvk_rsa_t *fv = fixed ? rvk_rsa_new(fixed) : NULL;
	BIGNUM *fn = NULL;
	RVK_REQUIRE(fv != NULL
	            && EVP_PKEY_get_bn_param(fixed, OSSL_PKEY_PARAM_RSA_N, &fn));
	int tried = 0;
	for (unsigned char c = 0; tried < 2 && c < 64; c++) {
		SHA256(&c, 1, d);
		sign(fixed, d, 32, sig);
		CHECK_BOTH(fv, fixed, d, 32, sig, 256, 1);
		RVK_REQUIRE(BN_bin2bn(sig, 256, t) && BN_add(t, t, fn));
		if (BN_num_bytes(t) > 256)
			continue;
		RVK_REQUIRE(BN_bn2binpad(t, sig, 256) == 256);
		CHECK_BOTH(fv, fixed, d, 32, sig, 256, 0);
		tried++;
	}
	TAP_CHECK_INT(tried, 2);
	BN_free(fn);
	rvk_rsa_unref(fv);
	EVP_PKEY_free(fixed);
	memset(sig, 0, sizeof(sig));
	CHECK_BOTH(v, pk, d, 32, sig, 256, 0);
	sig[255] = 1;
	CHECK_BOTH(v, pk, d, 32, sig, 256, 0);
	memset(sig, 0xff, sizeof(sig));
	CHECK_BOTH(v, pk, d, 32, sig, 256, 0);
	BN_free(n);
	BN_free(t);
	rvk_rsa_unref(v);
	EVP_PKEY_free(pk);
}

/* Other moduli and exponents: 3072 and 4096 bits; e = 3 and a 40-bit e
 * take this path; a 65-bit e does not (rvk_rsa_new: NULL), and
 * rvk_key_verify still verifies with such a key (through EVP). */
TAP_TEST(moduli_and_exponents)
{
	struct { int bits; const char *e; int taken; } cases[] = {
		{3072, "65537", 1},
		{4096, "65537", 1},
		{2048, "3", 1},
		{2048, "1099511627791", 1},            /* 2^40 + 15 */
		{2048, "36893488147419103249", 0},     /* 2^65 + 17 */
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		EVP_PKEY *pk = generate(cases[c].bits, cases[c].e);
		rvk_rsa_t *v = rvk_rsa_new(pk);
		TAP_CHECK_INT(v != NULL, cases[c].taken);
		unsigned char d[32], sig[512];
		SHA256((const unsigned char *)cases[c].e, strlen(cases[c].e), d);
		size_t k = sign(pk, d, 32, sig);
		TAP_CHECK_INT((int)k, cases[c].bits / 8);
		if (v != NULL) {
			CHECK_BOTH(v, pk, d, 32, sig, k, 1);
			sig[k / 2] ^= 0x01;
			CHECK_BOTH(v, pk, d, 32, sig, k, 0);
			sig[k / 2] ^= 0x01;
		}
		/* Through the key, whichever path it takes. */
		BIO *b = BIO_new(BIO_s_mem());
		RVK_REQUIRE(PEM_write_bio_PUBKEY(b, pk) == 1);
		char *pem;
		long pem_len = BIO_get_mem_data(b, &pem);
		rvk_key_t *key = NULL;
		char err[128];
		TAP_CHECK(rvk_key_from_pem(NULL, RVK_ALG_RS256, pem, (size_t)pem_len,
		                           &key, err, sizeof(err)) == RVK_OK);
		BIO_free(b);
		const unsigned char msg[] = "signing.input";
		SHA256(msg, sizeof(msg) - 1, d);
		k = sign(pk, d, 32, sig);
		int evp0 = atomic_load(&evp_verifies);
		TAP_CHECK(rvk_key_verify(key, msg, sizeof(msg) - 1, sig, k));
		TAP_CHECK(!rvk_key_verify(key, msg, sizeof(msg) - 2, sig, k));
		/* The key takes auth/rsa.c exactly when rvk_rsa_new does. */
		TAP_CHECK_INT(atomic_load(&evp_verifies) - evp0,
		              cases[c].taken ? 0 : 2);
		rvk_key_free(key);
		rvk_rsa_unref(v);
		EVP_PKEY_free(pk);
	}
}

/* A public key made of n and e as given (no check of OpenSSL's). */
static EVP_PKEY *
from_data(const BIGNUM *n, const BIGNUM *e)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	RVK_REQUIRE(b && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n)
	            && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e));
	OSSL_PARAM *p = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	RVK_REQUIRE(p && c && EVP_PKEY_fromdata_init(c) == 1
	            && EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, p) == 1);
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

/* Keys auth/rsa.c does not take: a modulus above 8192 bits (its buffers
 * hold 1024 bytes; one of exactly 8192 bits is taken), an exponent of 1 or
 * an even one. The last two are refused at load too, whatever the path:
 * with e = 1 every encoding is its own signature. */
TAP_TEST(keys_the_path_does_not_take)
{
	EVP_PKEY *pk = private_key(0);
	BIGNUM *n = NULL, *e = BN_new(), *big = BN_new();
	RVK_REQUIRE(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) && e
	            && big);
	RVK_REQUIRE(BN_set_word(e, 65537) && BN_lshift(big, n, 8200 - 2048)
	            && BN_set_bit(big, 0));
	EVP_PKEY *huge = from_data(big, e);
	TAP_CHECK(rvk_rsa_new(huge) == NULL);
	EVP_PKEY_free(huge);
	RVK_REQUIRE(BN_lshift(big, n, 8192 - 2048) && BN_set_bit(big, 0));
	EVP_PKEY *largest = from_data(big, e);
	rvk_rsa_t *taken = rvk_rsa_new(largest);
	TAP_CHECK(taken != NULL);
	rvk_rsa_unref(taken);
	EVP_PKEY_free(largest);
	const unsigned long bad[] = {1, 65536};
	for (size_t i = 0; i < 2; i++) {
		RVK_REQUIRE(BN_set_word(e, bad[i]));
		EVP_PKEY *k = from_data(n, e);
		TAP_CHECK(rvk_rsa_new(k) == NULL);
		rvk_key_t *key = NULL;
		char err[128] = "";
		TAP_CHECK_INT(rvk_key_from_pkey(NULL, RVK_ALG_RS256, k, &key, err,
		                                sizeof(err)), RVK_EINVAL);
		TAP_CHECK_STR(err, "RSA public exponent is even or 1");
		EVP_PKEY_free(k);
	}
	BN_free(n);
	BN_free(e);
	BN_free(big);
	EVP_PKEY_free(pk);
}

/* Through rvk_key_verify: RS384 and RS512 keys take the path too; a copy
 * of a key (rvk_key_dup shares the verifier) still verifies after the
 * original is freed. */
TAP_TEST(keys_and_their_copies)
{
	EVP_PKEY *pk0 = private_key(0), *pk1 = private_key(1);
	const rvk_alg_t algs[] = {RVK_ALG_RS256, RVK_ALG_RS384, RVK_ALG_RS512};
	const size_t lens[] = {32, 48, 64};
	const unsigned char msg[] = "header.payload";
	for (size_t a = 0; a < 3; a++) {
		rvk_key_t *k = tk_key(algs[a], 0, NULL);
		unsigned char d[64], sig[256], other[256];
		const EVP_MD *md = md_of_len(lens[a]);
		RVK_REQUIRE(EVP_Digest(msg, sizeof(msg) - 1, d, NULL, md, NULL));
		sign(pk0, d, lens[a], sig);
		sign(pk1, d, lens[a], other);
		int evp0 = atomic_load(&evp_verifies);
		TAP_CHECK(rvk_key_verify(k, msg, sizeof(msg) - 1, sig, 256));
		TAP_CHECK(!rvk_key_verify(k, msg, sizeof(msg) - 1, other, 256));
		TAP_CHECK(!rvk_key_verify(k, msg, sizeof(msg) - 2, sig, 256));
		TAP_CHECK(!rvk_key_verify(k, msg, sizeof(msg) - 1, sig, 255));
		rvk_key_t *copy = rvk_key_dup(k);
		rvk_key_free(k);
		TAP_CHECK(rvk_key_verify(copy, msg, sizeof(msg) - 1, sig, 256));
		TAP_CHECK(!rvk_key_verify(copy, msg, sizeof(msg) - 1, other, 256));
		rvk_key_free(copy);
		/* None of them went to EVP: the key and its copy take
		 * auth/rsa.c. */
		TAP_CHECK_INT(atomic_load(&evp_verifies) - evp0, 0);
	}
	EVP_PKEY_free(pk0);
	EVP_PKEY_free(pk1);
}

/* Four threads verify on one key at once: every verdict is right (run
 * under TSan too, for the scratch pool and the references; the shared
 * Montgomery context is only read, inside libcrypto, which TSan does not
 * see). */
TAP_TEST(threads_share_a_key)
{
	EVP_PKEY *pk0 = private_key(0), *pk1 = private_key(1);
	const unsigned char msg[] = "race.input";
	unsigned char d[32], sig[256], other[256];
	SHA256(msg, sizeof(msg) - 1, d);
	sign(pk0, d, 32, sig);
	sign(pk1, d, 32, other);
	rvk_key_t *k = tk_key(RVK_ALG_RS256, 0, NULL);
	TAP_CHECK_INT(tk_verify_race(k, msg, sizeof(msg) - 1, sig, other, 256, 4,
	                             40), 0);
	rvk_key_free(k);
	EVP_PKEY_free(pk0);
	EVP_PKEY_free(pk1);
}

int
main(void)
{
	return tap_main(TAP_LIST(valid_and_altered_signatures, altered_encodings,
	                         signature_out_of_range, moduli_and_exponents,
	                         keys_the_path_does_not_take,
	                         keys_and_their_copies, threads_share_a_key));
}
