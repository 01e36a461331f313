/*
 * fuzz_es256.c - ES256 through the pinned key's table (auth/p256.c, the path
 * rvk_key_verify takes) against OpenSSL's EVP_DigestVerify on the same
 * signing input and the same (r, s): the verdict must be the same on every
 * input. Random bytes alone almost never make a valid signature, so most
 * inputs are signed here first, with a nonce from the input (deterministic
 * for a replay), then altered in one of the ways that matter: a bit, s
 * against n - s, r or s at 0, 1, n or r + n, r and s swapped.
 *
 * rvk_key_verify falls back to EVP when the table path answers -1, so a
 * table path that always failed would pass that comparison unseen: the
 * table path is also asked directly, on its own verifier, and must answer
 * 0 or 1 as OpenSSL does.
 *
 * Input: mode (1 byte), nonce (32), alteration (1), position (1), then the
 * signing input. An even mode takes the signature raw from the 64 bytes
 * after the mode instead of signing.
 */
#define OPENSSL_SUPPRESS_DEPRECATED   /* ECDSA_do_sign_ex: a chosen nonce */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "auth/key.h"
#include "auth/p256.h"
#include "base/check.h"
#include "tests/fuzz/fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rvk_key_t *key;      /* what revokd verifies with */
static EVP_PKEY *pub;       /* the reference */
static rvk_p256_t *table;   /* the table path alone (NULL: none here) */
static EC_KEY *priv;
static const EC_GROUP *group;
static const BIGNUM *order;

static void
init(void)
{
	char err[128];
	RVK_REQUIRE(rvk_key_from_pem("e1", RVK_ALG_ES256, FUZZ_ES_PUB,
	                             strlen(FUZZ_ES_PUB), &key, err,
	                             sizeof(err)) == RVK_OK);
	BIO *b = BIO_new_mem_buf(FUZZ_ES_PUB, -1);
	pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(FUZZ_ES_PRIV, -1);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	RVK_REQUIRE(pub != NULL && pk != NULL);
	table = rvk_p256_new(pub);
	priv = EVP_PKEY_get1_EC_KEY(pk);
	EVP_PKEY_free(pk);
	RVK_REQUIRE(priv != NULL);
	group = EC_KEY_get0_group(priv);
	order = EC_GROUP_get0_order(group);
}

/* Signs digest with nonce k (reduced mod n, 0 made 1) into r || s.
 * Returns: false when OpenSSL refused (r or s came out 0: try nothing). */
static bool
sign(const unsigned char digest[32], const unsigned char nonce[32],
     unsigned char sig[64])
{
	BN_CTX *bn = BN_CTX_new();
	BIGNUM *k = BN_bin2bn(nonce, 32, NULL), *kinv = BN_new(), *rp = BN_new();
	EC_POINT *R = EC_POINT_new(group);
	RVK_REQUIRE(bn && k && kinv && rp && R);
	RVK_REQUIRE(BN_nnmod(k, k, order, bn) == 1);
	if (BN_is_zero(k))
		RVK_REQUIRE(BN_one(k) == 1);
	RVK_REQUIRE(EC_POINT_mul(group, R, k, NULL, NULL, bn) == 1
	            && EC_POINT_get_affine_coordinates(group, R, rp, NULL, bn) == 1
	            && BN_nnmod(rp, rp, order, bn) == 1
	            && BN_mod_inverse(kinv, k, order, bn) != NULL);
	ECDSA_SIG *s = ECDSA_do_sign_ex(digest, 32, kinv, rp, priv);
	bool ok = s != NULL;
	if (ok)
		RVK_REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32
		            && BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32);
	ECDSA_SIG_free(s);
	EC_POINT_free(R);
	BN_free(k);
	BN_free(kinv);
	BN_free(rp);
	BN_CTX_free(bn);
	return ok;
}

/* Sets half h (0: r, 1: s) of sig to v when v fits in 32 bytes. */
static void
set_half(unsigned char sig[64], int h, const BIGNUM *v)
{
	if (BN_num_bytes(v) <= 32)
		RVK_REQUIRE(BN_bn2binpad(v, sig + 32 * h, 32) == 32);
}

/* Alters a valid signature (or the message) as op says. */
static void
alter(unsigned char sig[64], unsigned char *msg, size_t msg_len, uint8_t op,
      uint8_t pos)
{
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	BIGNUM *t = BN_new();
	RVK_REQUIRE(r && s && t);
	switch (op % 12) {
	case 0: break;
	case 1: sig[pos % 64] ^= (unsigned char)(1u << (pos % 8)); break;
	case 2:
		if (msg_len)
			msg[pos % msg_len] ^= (unsigned char)(1u << (pos % 8));
		break;
	case 3: RVK_REQUIRE(BN_sub(t, order, s)); set_half(sig, 1, t); break;
	case 4: BN_zero(t); set_half(sig, pos & 1, t); break;
	case 5: RVK_REQUIRE(BN_one(t)); set_half(sig, pos & 1, t); break;
	case 6: set_half(sig, pos & 1, order); break;
	case 7: RVK_REQUIRE(BN_add(t, r, order)); set_half(sig, 0, t); break;
	case 8: RVK_REQUIRE(BN_add(t, s, order)); set_half(sig, 1, t); break;
	case 9:
		set_half(sig, 0, s);
		set_half(sig, 1, r);
		break;
	case 10: RVK_REQUIRE(BN_sub(t, order, BN_value_one())); set_half(sig, pos & 1, t); break;
	default: memset(sig + 32 * (pos & 1), 0xff, 32); break;
	}
	BN_free(r);
	BN_free(s);
	BN_free(t);
}

/* OpenSSL's own verdict on (r, s) over msg. */
static bool
reference(const unsigned char *msg, size_t msg_len, const unsigned char sig[64])
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	RVK_REQUIRE(s && ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL),
	                                BN_bin2bn(sig + 32, 32, NULL)) == 1);
	unsigned char *der = NULL;
	int der_len = i2d_ECDSA_SIG(s, &der);
	RVK_REQUIRE(der_len > 0);
	ECDSA_SIG_free(s);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	RVK_REQUIRE(c && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, pub) == 1);
	bool ok = EVP_DigestVerify(c, der, (size_t)der_len, msg, msg_len) == 1;
	EVP_MD_CTX_free(c);
	OPENSSL_free(der);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (key == NULL)
		init();
	if (size < 1 + 64)
		return 0;
	unsigned char sig[64];
	size_t head = data[0] & 1 ? 1 + 32 + 2 : 1 + 64;
	if (size < head)
		return 0;
	size_t msg_len = size - head;
	unsigned char *msg = malloc(msg_len ? msg_len : 1);
	memcpy(msg, data + head, msg_len);
	bool must_verify = false;
	if (data[0] & 1) {
		unsigned char d[32];
		SHA256(msg, msg_len, d);
		if (!sign(d, data + 1, sig)) {
			free(msg);
			return 0;
		}
		uint8_t op = data[33] % 12;
		must_verify = op == 0 || op == 3;   /* as signed, or with n - s */
		alter(sig, msg, msg_len, op, data[34]);
	} else {
		memcpy(sig, data + 1, 64);
	}
	bool got = rvk_key_verify(key, msg, msg_len, sig, sizeof(sig));
	bool want = reference(msg, msg_len, sig);
	RVK_REQUIRE(got == want);
	if (table != NULL) {
		unsigned char d[32];
		SHA256(msg, msg_len, d);
		RVK_REQUIRE(rvk_p256_verify(table, d, sig) == (want ? 1 : 0));
	}
	if (must_verify)
		RVK_REQUIRE(got);
	free(msg);
	return 0;
}
