/*
 * fuzz_rs256.c - RS256/384/512 through the key's Montgomery form
 * (auth/rsa.c, the path rvk_key_verify takes) against OpenSSL's
 * EVP_PKEY_verify on the same digest and signature: the verdict must be
 * the same on every input. Random bytes almost never make a valid
 * signature, and whether a signature is valid is decided by the encoding
 * its public operation gives, so most inputs choose that encoding and it is
 * signed here with the key's raw private-key operation: the fuzzer
 * explores padding, DigestInfo and digest bytes, the verifiers see exactly
 * that encoding come out.
 *
 * rvk_key_verify falls back to EVP when auth/rsa.c answers -1, so a path
 * that always failed would pass that comparison unseen: rvk_rsa_verify is
 * also asked directly, on its own verifier, and must answer 0 or 1 as
 * OpenSSL does.
 *
 * Input: mode (1 byte), then by mode % 4:
 *   0  the signature raw (256 bytes), then the signing input;
 *   1  the encoding (256 bytes), then the signing input: the encoding's
 *      last bytes are replaced by the signing input's digest when
 *      mode & 4, so the rest of it is what decides;
 *   2  the valid encoding of the signing input's digest with one byte
 *      set: position (2 bytes, big-endian), value (1), then the input;
 *   3  as 2, but the byte is xored with the value.
 * With v = mode >> 3, v % 3 picks RS256, RS384 or RS512 and (v >> 2) & 1
 * the key: e = 65537 (16 squarings) or e = 2^40 + 15 (multiplications
 * inside the loop too). An encoding at or above the modulus cannot be
 * signed: it is taken as a raw signature instead. A signature that was
 * signed is also tried plus n, whenever that fits in 256 bytes: the same
 * value after the public operation, refused only by the range check.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth/key.h"
#include "auth/rsa.h"
#include "base/check.h"
#include "tests/fuzz/fuzz_keys.h"

#define K 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const rvk_alg_t ALGS[3] = {RVK_ALG_RS256, RVK_ALG_RS384,
                                  RVK_ALG_RS512};
/* One fixed key and what each side verifies with. */
struct fkey {
	rvk_key_t *keys[3];   /* revokd's, one per algorithm */
	rvk_rsa_t *direct;    /* auth/rsa.c alone */
	EVP_PKEY *pub;        /* the reference */
	EVP_PKEY *priv;
	BIGNUM *n;
};

static struct fkey fkeys[2];
static bool ready;

static const EVP_MD *
md_of(int a)
{
	return a == 0 ? EVP_sha256() : a == 1 ? EVP_sha384() : EVP_sha512();
}

static void
load(struct fkey *f, const char *pub_pem, const char *priv_pem)
{
	char err[128];
	for (int a = 0; a < 3; a++)
		RVK_REQUIRE(rvk_key_from_pem("r1", ALGS[a], pub_pem, strlen(pub_pem),
		                             &f->keys[a], err, sizeof(err)) == RVK_OK);
	BIO *b = BIO_new_mem_buf(pub_pem, -1);
	f->pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(priv_pem, -1);
	f->priv = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	RVK_REQUIRE(f->pub != NULL && f->priv != NULL);
	RVK_REQUIRE(EVP_PKEY_get_bn_param(f->pub, OSSL_PKEY_PARAM_RSA_N, &f->n));
	f->direct = rvk_rsa_new(f->pub);
	RVK_REQUIRE(f->direct != NULL);
	RVK_REQUIRE(EVP_PKEY_get_size(f->pub) == K);
}

static void
init(void)
{
	load(&fkeys[0], FUZZ_RS_PUB, FUZZ_RS_PRIV);
	load(&fkeys[1], FUZZ_RS_E40_PUB, FUZZ_RS_E40_PRIV);
	ready = true;
}

/* The valid encoding of digest (RFC 8017 §9.2), built independently of
 * auth/rsa.c: OpenSSL's own DigestInfo encoder. */
static void
valid_encoding(int a, const unsigned char *digest, size_t md_len,
               unsigned char em[K])
{
	X509_SIG *di = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *os;
	X509_SIG_getm(di, &alg, &os);
	RVK_REQUIRE(X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md_of(a))),
	                            V_ASN1_NULL, NULL) == 1
	            && ASN1_OCTET_STRING_set(os, digest, (int)md_len) == 1);
	unsigned char *t = NULL;
	int t_len = i2d_X509_SIG(di, &t);
	RVK_REQUIRE(t_len > 0 && (size_t)t_len + 11 <= K);
	X509_SIG_free(di);
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, K - (size_t)t_len - 3);
	em[K - t_len - 1] = 0x00;
	memcpy(em + K - t_len, t, (size_t)t_len);
	OPENSSL_free(t);
}

/* sig = em^d mod n. Returns: false when em is not below n. */
static bool
sign_raw(const struct fkey *f, const unsigned char em[K], unsigned char sig[K])
{
	BIGNUM *m = BN_bin2bn(em, K, NULL);
	RVK_REQUIRE(m != NULL);
	bool below = BN_ucmp(m, f->n) < 0;
	BN_free(m);
	if (!below)
		return false;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(f->priv, NULL);
	size_t len = K;
	RVK_REQUIRE(c != NULL && EVP_PKEY_sign_init(c) == 1
	            && EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) == 1
	            && EVP_PKEY_sign(c, sig, &len, em, K) == 1 && len == K);
	EVP_PKEY_CTX_free(c);
	return true;
}

/* OpenSSL's verdict. */
static bool
reference(const struct fkey *f, int a, const unsigned char *digest,
          size_t md_len, const unsigned char sig[K])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(f->pub, NULL);
	RVK_REQUIRE(c != NULL && EVP_PKEY_verify_init(c) == 1
	            && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1
	            && EVP_PKEY_CTX_set_signature_md(c, md_of(a)) == 1);
	bool ok = EVP_PKEY_verify(c, sig, K, digest, md_len) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

/* Both of revokd's answers against OpenSSL's on one signature. */
static void
compare(const struct fkey *f, int a, const unsigned char *msg, size_t msg_len,
        const unsigned char *digest, size_t md_len, const unsigned char sig[K],
        bool must_verify)
{
	bool want = reference(f, a, digest, md_len, sig);
	RVK_REQUIRE(rvk_key_verify(f->keys[a], msg, msg_len, sig, K) == want);
	RVK_REQUIRE(rvk_rsa_verify(f->direct, digest, md_len, sig, K)
	            == (want ? 1 : 0));
	if (must_verify)
		RVK_REQUIRE(want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		init();
	if (size < 1)
		return 0;
	int mode = data[0] % 4, a = (data[0] >> 3) % 3;
	const struct fkey *f = &fkeys[(data[0] >> 5) & 1];
	size_t head = 1 + (mode < 2 ? K : 3);
	if (size < head)
		return 0;
	const unsigned char *msg = data + head;
	size_t msg_len = size - head;
	unsigned char digest[64];
	unsigned int md_len = 0;
	RVK_REQUIRE(EVP_Digest(msg, msg_len, digest, &md_len, md_of(a), NULL));
	unsigned char em[K], sig[K];
	bool must_verify = false, signed_here = false;
	if (mode == 0) {
		memcpy(sig, data + 1, K);
	} else {
		if (mode == 1) {
			memcpy(em, data + 1, K);
			if (data[0] & 4)
				memcpy(em + K - md_len, digest, md_len);
		} else {
			valid_encoding(a, digest, md_len, em);
			size_t pos = ((size_t)data[1] << 8 | data[2]) % K;
			unsigned char was = em[pos];
			em[pos] = mode == 2 ? data[3] : (unsigned char)(em[pos] ^ data[3]);
			must_verify = em[pos] == was;
		}
		signed_here = sign_raw(f, em, sig);
		if (!signed_here)
			memcpy(sig, em, K);   /* at or above n: a raw signature */
	}
	compare(f, a, msg, msg_len, digest, md_len, sig, must_verify);
	if (signed_here) {
		BIGNUM *t = BN_bin2bn(sig, K, NULL);
		RVK_REQUIRE(t != NULL && BN_add(t, t, f->n));
		if (BN_num_bytes(t) <= K) {
			RVK_REQUIRE(BN_bn2binpad(t, sig, K) == K);
			compare(f, a, msg, msg_len, digest, md_len, sig, false);
			RVK_REQUIRE(!rvk_key_verify(f->keys[a], msg, msg_len, sig, K));
		}
		BN_free(t);
	}
	return 0;
}
