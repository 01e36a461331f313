/*
 * rsa.c - RSASSA-PKCS1-v1_5 verification with the key's Montgomery form
 * made once.
 *
 * Design: RFC 8017 §8.2.2 with OpenSSL's big-number primitives.
 *
 *   1. The signature is k bytes (the modulus size; the caller checked) and,
 *      as a number s, below n (RSAVP1: "signature representative out of
 *      range" otherwise).
 *   2. m = s^e mod n, by left-to-right square-and-multiply in Montgomery
 *      form on the context made at load: for e = 65537, 16 squarings and
 *      two multiplications. e is odd, so the last step multiplies by s
 *      itself rather than its Montgomery form, which also takes the result
 *      out of Montgomery form (one multiplication fewer than converting
 *      back).
 *   3. I2OSP(m, k) must equal EMSA-PKCS1-v1_5(digest), built here whole:
 *      0x00 0x01, 0xFF up to the 0x00 before T, T = DigestInfo || digest
 *      with the NULL parameters present (RFC 8017 §9.2 note 1). Comparing
 *      the whole encoding, not parsing m, is what RFC 8017 prescribes and
 *      what OpenSSL's RSA_verify does: no length or tag of the signer's is
 *      ever read.
 *
 * What EVP_PKEY_verify adds per call and this does not: a BN_CTX and a
 * buffer allocated and freed, the key's lock taken for its cached
 * Montgomery context (this path takes its scratch pool's mutex instead),
 * the expected encoding allocated, and a windowed exponentiation that
 * converts in and out of Montgomery form. Measured (bench/verify, an
 * RS256 rvk_key_verify of a 2048-bit key): 15.0-15.7 µs on a pooled
 * EVP_PKEY_CTX, 12.7 µs here (DECISIONS D37).
 *
 * Nothing here is secret (a public key, a public signature): no
 * constant-time requirement. tests/fuzz/fuzz_rs256.c compares every
 * verdict with EVP_PKEY_verify's, on encodings altered before they are
 * signed.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "auth/rsa.h"
#include "base/check.h"
#include "base/mem.h"
#include "base/pool.h"

/* The largest modulus taken, in bytes (8192 bits): the encodings are built
 * on the stack. */
#define K_MAX 1024

struct rvk_rsa {
	atomic_uint refs;
	BIGNUM *n;             /* the modulus; read-only */
	BN_MONT_CTX *mont;     /* for n; read-only after rvk_rsa_new */
	uint64_t e;            /* odd, 3 <= e < 2^64, and one BN_ULONG (a
	                        * 32-bit build leaves larger ones to EVP) */
	size_t k;              /* modulus bytes */
	rvk_pool_t scratch;    /* idle BN_CTX: their numbers are reused */
};

/* DigestInfo DER prefixes (RFC 8017 §9.2 note 1), by digest length. */
static const unsigned char DI_SHA256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const unsigned char DI_SHA384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const unsigned char DI_SHA512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
#define DI_LEN sizeof(DI_SHA256)   /* all three are 19 bytes */

static void
bn_ctx_free(void *p)
{
	BN_CTX_free(p);
}

rvk_rsa_t *
rvk_rsa_new(const EVP_PKEY *pkey)
{
	RVK_REQUIRE(pkey != NULL);
	BIGNUM *n = NULL, *e = NULL;
	BN_CTX *bn = BN_CTX_new();
	BN_MONT_CTX *mont = BN_MONT_CTX_new();
	rvk_rsa_t *v = NULL;
	if (bn == NULL || mont == NULL
	    || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)
	    || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
		goto done;
	/* The smallest modulus that holds a SHA-512 encoding with its eight
	 * bytes of padding; check_pkey (auth/key.c) asks 2048 bits anyway. */
	size_t k = (size_t)BN_num_bytes(n);
	if (k < DI_LEN + 64 + 11 || k > K_MAX || !BN_is_odd(n)
	    || !BN_is_odd(e) || BN_num_bits(e) > BN_BITS2   /* one word: 64 bits */
	    || BN_is_one(e)
	    || !BN_MONT_CTX_set(mont, n, bn))
		goto done;
	v = rvk_calloc(1, sizeof(*v));
	atomic_init(&v->refs, 1);
	v->n = n;
	v->mont = mont;
	v->e = BN_get_word(e);
	v->k = k;
	rvk_pool_init(&v->scratch);
	n = NULL;
	mont = NULL;
done:
	BN_free(e);
	BN_free(n);
	BN_MONT_CTX_free(mont);
	BN_CTX_free(bn);
	return v;
}

rvk_rsa_t *
rvk_rsa_ref(rvk_rsa_t *v)
{
	RVK_REQUIRE(v != NULL);
	atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
	return v;
}

void
rvk_rsa_unref(rvk_rsa_t *v)
{
	if (v == NULL
	    || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
		return;
	rvk_pool_fini(&v->scratch, bn_ctx_free);
	BN_MONT_CTX_free(v->mont);
	BN_free(v->n);
	free(v);
}

/* m = s^e mod n (step 2 above). Returns: false when OpenSSL failed. */
static bool
public_op(const rvk_rsa_t *v, BN_CTX *bn, const BIGNUM *s, BIGNUM *m)
{
	BIGNUM *sm = BN_CTX_get(bn);   /* s in Montgomery form */
	if (sm == NULL || !BN_to_montgomery(sm, s, v->mont, bn) || !BN_copy(m, sm))
		return false;
	int top = 63 - __builtin_clzll(v->e);   /* e >= 3: top >= 1 */
	for (int i = top - 1; i >= 1; i--) {
		if (!BN_mod_mul_montgomery(m, m, m, v->mont, bn)
		    || ((v->e >> i & 1)
		        && !BN_mod_mul_montgomery(m, m, sm, v->mont, bn)))
			return false;
	}
	/* Bit 0 is set (e is odd): square, then multiply by s as it is, which
	 * leaves Montgomery form: (s^(e-1)·R)·s·R^-1 = s^e mod n. */
	return BN_mod_mul_montgomery(m, m, m, v->mont, bn)
	       && BN_mod_mul_montgomery(m, m, s, v->mont, bn);
}

/* Writes EMSA-PKCS1-v1_5(digest) of k bytes to em (step 3 above). */
static void
encode(size_t k, const unsigned char *digest, size_t md_len,
       unsigned char *em)
{
	const unsigned char *di = md_len == 32 ? DI_SHA256
	                          : md_len == 48 ? DI_SHA384 : DI_SHA512;
	size_t t_len = DI_LEN + md_len;
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - t_len - 3);
	em[k - t_len - 1] = 0x00;
	memcpy(em + k - t_len, di, DI_LEN);
	memcpy(em + k - md_len, digest, md_len);
}

int
rvk_rsa_verify(rvk_rsa_t *v, const unsigned char *digest, size_t md_len,
               const unsigned char *sig, size_t sig_len)
{
	RVK_REQUIRE(v != NULL && digest != NULL && sig != NULL);
	RVK_REQUIRE(md_len == 32 || md_len == 48 || md_len == 64);
	if (sig_len != v->k)
		return 0;
	BN_CTX *bn = rvk_pool_take(&v->scratch);
	if (bn == NULL && (bn = BN_CTX_new()) == NULL)
		return -1;
	BN_CTX_start(bn);
	BIGNUM *s = BN_CTX_get(bn), *m = BN_CTX_get(bn);
	unsigned char got[K_MAX], want[K_MAX];
	int ok = -1;
	if (m == NULL || BN_bin2bn(sig, (int)sig_len, s) == NULL)
		goto done;
	if (BN_ucmp(s, v->n) >= 0) {
		ok = 0;
		goto done;
	}
	if (!public_op(v, bn, s, m) || BN_bn2binpad(m, got, (int)v->k) < 0)
		goto done;
	encode(v->k, digest, md_len, want);
	ok = CRYPTO_memcmp(got, want, v->k) == 0;
done:
	BN_CTX_end(bn);
	bn_ctx_free(rvk_pool_give(&v->scratch, bn));
	return ok;
}
