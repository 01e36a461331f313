/*
 * key.c - one verification key, parsed once, its algorithm pinned.
 *
 * Design: the OpenSSL object is built when the key is loaded (PEM parse,
 * curve and size checks, or an HMAC context keyed with the secret) and is
 * only read afterwards (openssl-threads(7): a built EVP_PKEY may be shared
 * by calls that do not modify it). HS: HMAC (RFC 2104) from the two SHA-2
 * states after the key's inner and outer pad blocks, computed at load:
 * per call, a copy of each state, the message, two finals - no allocation
 * and one compression of each pad block fewer. Duplicating a keyed
 * EVP_MAC_CTX per call (allocation, provider dispatch, free) was ~7% of
 * the instructions of an HS256 cache miss (docs/BENCHMARKS.md "Miss path
 * at the crypto floor"). At load the states are checked against OpenSSL's
 * own HMAC on a fixed message (RVK_REQUIRE): a wrong state can never be
 * used.
 *
 * RS/ES: the signing input is hashed here (SHA-2 low-level functions: no
 * allocation, no method fetch) and the digest verified with EVP_PKEY_verify
 * on a context made ready once (verify_init, PKCS#1 v1.5 padding for RSA,
 * the digest pinned to the key's algorithm) and kept in a small per-key
 * pool, one thread at a time per context. EVP_DigestVerifyInit on every
 * call built a fresh EVP_PKEY_CTX, looked the key's management and
 * signature methods up by name, and fetched the digest: ~10% of the CPU of
 * an RS256 cache miss (perf, docs/BENCHMARKS.md "Miss path"). It is the
 * same check: the provider's digest-verify final computes the digest and
 * calls the very function EVP_PKEY_verify calls (rsa_verify, ecdsa_verify
 * in OpenSSL 3's default provider), so padding, DigestInfo and DER checks
 * are unchanged. PS* take the same path with PSS padding (salt = hash
 * length, MGF1 with the same hash; RFC 7518 §3.5). EdDSA (RFC 8037) has no
 * separate digest: one EVP_DigestVerify per call over the signing input.
 * ES256, where OpenSSL has its P-256 assembly, verifies in auth/p256.c
 * instead (a table of the pinned key's multiples, DECISIONS D27); the EVP
 * context stays for the moment that table is being built. RS256/384/512
 * verify in auth/rsa.c (the public-key operation on the key's Montgomery
 * form made at load, the whole encoding compared, DECISIONS D37); EVP
 * verifies a key that path does not take, or when it fails.
 */
/* SHA256_Init/Update/Final and friends are deprecated in OpenSSL 3 but
 * still shipped; they are its only SHA-2 entry points that allocate
 * nothing and fetch nothing per call (base/sha256.c says why). SHA-256 of
 * a signing input goes through rvk_sha256; the HMAC pad states and
 * SHA-384/512 use them here. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "auth/key.h"
#include "auth/p256.h"
#include "auth/rsa.h"
#include "base/check.h"
#include "base/mem.h"
#include "base/pool.h"
#include "base/sha256.h"

struct rvk_key {
	char *kid;            /* owned, NULL when the key has none */
	rvk_alg_t alg;
	uint64_t load_id;
	EVP_PKEY *pkey;       /* RS*, PS*, ES*, EdDSA */
	rvk_pool_t *pool;     /* RS*, PS*, ES*: idle EVP_PKEY_CTX ready for
	                       * EVP_PKEY_verify; the key is const to its users,
	                       * the pool is not (it has its own lock) */
	struct hmac_state *hmac;  /* HS*: the pad states, owned */
	rvk_p256_t *p256;     /* ES256 where OpenSSL's P-256 tables are fast:
	                       * one reference, shared with copies (p256.h) */
	rvk_rsa_t *rsa;       /* RS*, where auth/rsa.c takes the key: one
	                       * reference, shared with copies (rsa.h) */
};

/* HMAC's state after absorbing K0 ^ ipad and K0 ^ opad (RFC 2104 §2). */
struct hmac_state {
	union { SHA256_CTX s256; SHA512_CTX s512; } in, out;
};

static atomic_uint_fast64_t next_load_id = 1;

static const char *
md_name(rvk_alg_t alg)
{
	switch (alg) {
	case RVK_ALG_HS256: case RVK_ALG_RS256: case RVK_ALG_ES256:
	case RVK_ALG_PS256:
		return "SHA256";
	case RVK_ALG_HS384: case RVK_ALG_RS384: case RVK_ALG_ES384:
	case RVK_ALG_PS384:
		return "SHA384";
	case RVK_ALG_HS512: case RVK_ALG_RS512: case RVK_ALG_ES512:
	case RVK_ALG_PS512:
		return "SHA512";
	default:
		RVK_UNREACHABLE();
	}
}

static const EVP_MD *
md_of(rvk_alg_t alg)
{
	switch (alg) {
	case RVK_ALG_HS256: case RVK_ALG_RS256: case RVK_ALG_ES256:
	case RVK_ALG_PS256:
		return EVP_sha256();
	case RVK_ALG_HS384: case RVK_ALG_RS384: case RVK_ALG_ES384:
	case RVK_ALG_PS384:
		return EVP_sha384();
	case RVK_ALG_HS512: case RVK_ALG_RS512: case RVK_ALG_ES512:
	case RVK_ALG_PS512:
		return EVP_sha512();
	default:
		RVK_UNREACHABLE();
	}
}

/* The OpenSSL group name and JOSE field size (RFC 7518 §3.4) of an ES alg. */
static const char *
ec_group(rvk_alg_t alg, size_t *field, const char **label)
{
	switch (alg) {
	case RVK_ALG_ES256:
		*field = 32;
		*label = "P-256";
		return "prime256v1";
	case RVK_ALG_ES384:
		*field = 48;
		*label = "P-384";
		return "secp384r1";
	case RVK_ALG_ES512:
		*field = 66;
		*label = "P-521";
		return "secp521r1";
	default:
		RVK_UNREACHABLE();
	}
}

static rvk_key_t *
key_new(const char *kid, rvk_alg_t alg)
{
	rvk_key_t *key = rvk_calloc(1, sizeof(*key));
	key->kid = kid ? rvk_strdup(kid) : NULL;
	key->alg = alg;
	key->load_id = atomic_fetch_add(&next_load_id, 1);
	return key;
}

/* Returns: a context ready to verify a digest for key's algorithm, or
 * NULL (OpenSSL failure; the caller denies). */
static EVP_PKEY_CTX *
vctx_new(EVP_PKEY *pkey, rvk_alg_t alg)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (c == NULL)
		return NULL;
	/* PS*: RFC 7518 §3.5, MGF1 with the same hash (OpenSSL's default
	 * once the signature digest is set) and a salt as long as the hash;
	 * any other salt length is refused, as the RFC requires. */
	if (EVP_PKEY_verify_init(c) != 1
	    || (rvk_alg_is_rsa(alg)
	        && EVP_PKEY_CTX_set_rsa_padding(c, rvk_alg_is_pss(alg)
	                                        ? RSA_PKCS1_PSS_PADDING
	                                        : RSA_PKCS1_PADDING) != 1)
	    || EVP_PKEY_CTX_set_signature_md(c, md_of(alg)) != 1
	    || (rvk_alg_is_pss(alg)
	        && (EVP_PKEY_CTX_set_rsa_mgf1_md(c, md_of(alg)) != 1
	            || EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) != 1))) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

static rvk_pool_t *
vpool_new(void)
{
	rvk_pool_t *p = rvk_malloc(sizeof(*p));
	rvk_pool_init(p);
	return p;
}

static void
vctx_free(void *c)
{
	EVP_PKEY_CTX_free(c);
}

static void
vpool_free(rvk_pool_t *p)
{
	if (p == NULL)
		return;
	rvk_pool_fini(p, vctx_free);
	free(p);
}

static EVP_PKEY_CTX *
vctx_take(const rvk_key_t *key)
{
	EVP_PKEY_CTX *c = rvk_pool_take(key->pool);
	return c ? c : vctx_new(key->pkey, key->alg);
}

static void
vctx_give(const rvk_key_t *key, EVP_PKEY_CTX *c)
{
	EVP_PKEY_CTX_free(rvk_pool_give(key->pool, c));
}

static rvk_result_t
fail(char *err, size_t errlen, const char *msg, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, msg, arg);
	return RVK_EINVAL;
}

/* Checks that pkey may verify alg: type, RSA size and exponent, EC curve. */
static rvk_result_t
check_pkey(rvk_alg_t alg, EVP_PKEY *pkey, char *err, size_t errlen)
{
	if (rvk_alg_is_eddsa(alg)) {
		int id = EVP_PKEY_get_base_id(pkey);
		if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_ED448)
			return fail(err, errlen, "%s", "not an Ed25519 or Ed448 key (EdDSA)");
		return RVK_OK;
	}
	if (rvk_alg_is_rsa(alg)) {
		/* EVP_PKEY_RSA only: an RSA-PSS key would change the padding. */
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
			return fail(err, errlen, "not an RSA key (%s)", rvk_alg_name(alg));
		if (EVP_PKEY_get_bits(pkey) < 2048)
			return fail(err, errlen, "%s", "RSA key shorter than 2048 bits");
		/* An exponent of 1 makes every encoding its own signature, and
		 * an even one is no RSA key (RFC 8017 §3.1: e is odd, at least
		 * 3); OpenSSL imports both without a word. */
		BIGNUM *e = NULL;
		bool odd_e = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)
		             && BN_is_odd(e) && !BN_is_one(e);
		BN_free(e);
		if (!odd_e)
			return fail(err, errlen, "%s",
			            "RSA public exponent is even or 1");
		return RVK_OK;
	}
	size_t field;
	const char *label;
	const char *group = ec_group(alg, &field, &label);
	char name[64];
	size_t name_len = 0;
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC
	    || !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	                                       name, sizeof(name), &name_len)
	    || strcmp(name, group) != 0)
		return fail(err, errlen, "not an EC %s key", label);
	return RVK_OK;
}

rvk_result_t
rvk_key_from_pkey(const char *kid, rvk_alg_t alg, EVP_PKEY *pkey,
                  rvk_key_t **out, char *err, size_t errlen)
{
	RVK_REQUIRE(pkey != NULL && out != NULL);
	RVK_REQUIRE(!rvk_alg_is_hmac(alg));
	rvk_result_t r = check_pkey(alg, pkey, err, errlen);
	if (r != RVK_OK)
		return r;
	if (rvk_alg_is_eddsa(alg)) {
		/* EdDSA hashes inside the signature scheme: no digest context to
		 * keep ready, each verify makes its own (rvk_key_verify). */
		rvk_key_t *key = key_new(kid, alg);
		key->pkey = pkey;
		*out = key;
		return RVK_OK;
	}
	/* One context now: a key OpenSSL cannot verify with is refused at
	 * load, and the first request finds a context ready. */
	EVP_PKEY_CTX *c = vctx_new(pkey, alg);
	if (c == NULL)
		return fail(err, errlen, "%s", "key rejected by OpenSSL");
	rvk_key_t *key = key_new(kid, alg);
	key->pkey = pkey;
	key->pool = vpool_new();
	vctx_give(key, c);
	if (alg == RVK_ALG_ES256)
		key->p256 = rvk_p256_new(pkey);   /* NULL: EVP verifies */
	else if (rvk_alg_is_rsa(alg) && !rvk_alg_is_pss(alg))
		key->rsa = rvk_rsa_new(pkey);     /* NULL: EVP verifies */
	*out = key;
	return RVK_OK;
}

rvk_result_t
rvk_key_from_pem(const char *kid, rvk_alg_t alg, const char *pem,
                 size_t pem_len, rvk_key_t **out, char *err, size_t errlen)
{
	RVK_REQUIRE(pem != NULL && out != NULL);
	RVK_REQUIRE(!rvk_alg_is_hmac(alg));
	if (pem_len > INT_MAX)
		return fail(err, errlen, "%s", "PEM too large");
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	RVK_REQUIRE(bio != NULL);
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return fail(err, errlen, "%s",
		            "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
	rvk_result_t r = rvk_key_from_pkey(kid, alg, pkey, out, err, errlen);
	if (r != RVK_OK)
		EVP_PKEY_free(pkey);
	return r;
}

/* The pad states of secret (RFC 2104 §2: a key longer than the block is
 * hashed first, a shorter one padded with zeros). */
static struct hmac_state *
hmac_new(rvk_alg_t alg, const unsigned char *secret, size_t len)
{
	struct hmac_state *h = rvk_calloc(1, sizeof(*h));
	unsigned char k0[SHA512_CBLOCK] = { 0 }, pad[SHA512_CBLOCK];
	size_t block = alg == RVK_ALG_HS256 ? SHA256_CBLOCK : SHA512_CBLOCK;
	if (len > block) {
		switch (alg) {
		case RVK_ALG_HS256: SHA256(secret, len, k0); break;
		case RVK_ALG_HS384: SHA384(secret, len, k0); break;
		case RVK_ALG_HS512: SHA512(secret, len, k0); break;
		default: RVK_UNREACHABLE();
		}
	} else {
		memcpy(k0, secret, len);
	}
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < block; i++)
			pad[i] = k0[i] ^ (round == 0 ? 0x36 : 0x5c);
		void *c = round == 0 ? (void *)&h->in : (void *)&h->out;
		switch (alg) {
		case RVK_ALG_HS256:
			SHA256_Init(c);
			SHA256_Update(c, pad, block);
			break;
		case RVK_ALG_HS384:
			SHA384_Init(c);
			SHA384_Update(c, pad, block);
			break;
		case RVK_ALG_HS512:
			SHA512_Init(c);
			SHA512_Update(c, pad, block);
			break;
		default:
			RVK_UNREACHABLE();
		}
	}
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(pad, sizeof(pad));
	return h;
}

/* HMAC of in with key's pad states into out.
 * Returns: the MAC's length (the digest size). */
static size_t
hmac_compute(const rvk_key_t *key, const unsigned char *in, size_t n,
             unsigned char out[SHA512_DIGEST_LENGTH])
{
	const struct hmac_state *h = key->hmac;
	unsigned char inner[SHA512_DIGEST_LENGTH];
	size_t len;
	switch (key->alg) {
	case RVK_ALG_HS256: {
		SHA256_CTX c = h->in.s256;
		SHA256_Update(&c, in, n);
		SHA256_Final(inner, &c);
		c = h->out.s256;
		SHA256_Update(&c, inner, SHA256_DIGEST_LENGTH);
		SHA256_Final(out, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		len = SHA256_DIGEST_LENGTH;
		break;
	}
	case RVK_ALG_HS384: case RVK_ALG_HS512: {
		bool is384 = key->alg == RVK_ALG_HS384;
		len = is384 ? SHA384_DIGEST_LENGTH : SHA512_DIGEST_LENGTH;
		SHA512_CTX c = h->in.s512;
		is384 ? SHA384_Update(&c, in, n) : SHA512_Update(&c, in, n);
		is384 ? SHA384_Final(inner, &c) : SHA512_Final(inner, &c);
		c = h->out.s512;
		is384 ? SHA384_Update(&c, inner, len) : SHA512_Update(&c, inner, len);
		is384 ? SHA384_Final(out, &c) : SHA512_Final(out, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		break;
	}
	default:
		RVK_UNREACHABLE();
	}
	OPENSSL_cleanse(inner, sizeof(inner));
	return len;
}

rvk_result_t
rvk_key_from_secret(const char *kid, rvk_alg_t alg, const unsigned char *secret,
                    size_t len, rvk_key_t **out, char *err, size_t errlen)
{
	RVK_REQUIRE(out != NULL && rvk_alg_is_hmac(alg));
	if (secret == NULL || len == 0)
		return fail(err, errlen, "%s", "empty HMAC secret");
	/* RFC 7518 §3.2: a key at least as long as the hash output. A shorter
	 * secret can be brute-forced from any one token it signed. */
	size_t min = alg == RVK_ALG_HS256 ? 32 : alg == RVK_ALG_HS384 ? 48 : 64;
	if (len < min) {
		if (err && errlen)
			snprintf(err, errlen, "HMAC secret of %zu bytes is shorter than the "
			         "%zu that %s requires (RFC 7518 section 3.2)", len, min,
			         rvk_alg_name(alg));
		return RVK_EINVAL;
	}
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	RVK_REQUIRE(mac != NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	RVK_REQUIRE(ctx != NULL);
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		                                 (char *)md_name(alg), 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_init(ctx, secret, len, params)) {
		EVP_MAC_CTX_free(ctx);
		return fail(err, errlen, "%s", "HMAC key rejected by OpenSSL");
	}
	rvk_key_t *key = key_new(kid, alg);
	key->hmac = hmac_new(alg, secret, len);
	/* The pad states against OpenSSL's HMAC, once, on a fixed message. */
	static const unsigned char probe[] = "revokd HMAC self-check, RFC 2104";
	unsigned char want[EVP_MAX_MD_SIZE], got[SHA512_DIGEST_LENGTH];
	size_t want_len = 0;
	RVK_REQUIRE(EVP_MAC_update(ctx, probe, sizeof(probe))
	            && EVP_MAC_final(ctx, want, &want_len, sizeof(want)));
	EVP_MAC_CTX_free(ctx);
	RVK_REQUIRE(hmac_compute(key, probe, sizeof(probe), got) == want_len
	            && memcmp(got, want, want_len) == 0);
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	*out = key;
	return RVK_OK;
}

void
rvk_key_free(rvk_key_t *key)
{
	if (key == NULL)
		return;
	vpool_free(key->pool);
	rvk_p256_unref(key->p256);
	rvk_rsa_unref(key->rsa);
	EVP_PKEY_free(key->pkey);
	if (key->hmac != NULL) {
		OPENSSL_cleanse(key->hmac, sizeof(*key->hmac));
		free(key->hmac);
	}
	free(key->kid);
	free(key);
}

rvk_key_t *
rvk_key_dup(const rvk_key_t *key)
{
	RVK_REQUIRE(key != NULL);
	rvk_key_t *copy = rvk_calloc(1, sizeof(*copy));
	copy->kid = key->kid ? rvk_strdup(key->kid) : NULL;
	copy->alg = key->alg;
	copy->load_id = key->load_id;
	if (key->pkey != NULL) {
		RVK_REQUIRE(EVP_PKEY_up_ref(key->pkey) == 1);
		copy->pkey = key->pkey;
		if (!rvk_alg_is_eddsa(key->alg))
			copy->pool = vpool_new();   /* filled on first use */
		if (key->p256 != NULL)
			copy->p256 = rvk_p256_ref(key->p256);   /* one table */
		if (key->rsa != NULL)
			copy->rsa = rvk_rsa_ref(key->rsa);
	}
	if (key->hmac != NULL) {
		copy->hmac = rvk_malloc(sizeof(*copy->hmac));
		*copy->hmac = *key->hmac;
	}
	return copy;
}

bool
rvk_key_same(const rvk_key_t *a, const rvk_key_t *b)
{
	RVK_REQUIRE(a != NULL && b != NULL);
	if (a->alg != b->alg || a->pkey == NULL || b->pkey == NULL)
		return false;
	if ((a->kid == NULL) != (b->kid == NULL))
		return false;
	if (a->kid != NULL && strcmp(a->kid, b->kid) != 0)
		return false;
	return EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

const char *
rvk_key_kid(const rvk_key_t *key)
{
	return key->kid;
}

rvk_alg_t
rvk_key_alg(const rvk_key_t *key)
{
	return key->alg;
}

uint64_t
rvk_key_load_id(const rvk_key_t *key)
{
	return key->load_id;
}

static bool
verify_hmac(const rvk_key_t *key, const unsigned char *input, size_t input_len,
            const unsigned char *sig, size_t sig_len)
{
	unsigned char mac[SHA512_DIGEST_LENGTH];
	size_t mac_len = hmac_compute(key, input, input_len, mac);
	/* The length is public (it is the digest size); the bytes are not. */
	bool ok = sig_len == mac_len && CRYPTO_memcmp(mac, sig, mac_len) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* EdDSA (RFC 8037 §3.1): pure Ed25519 or Ed448 over the signing input, one
 * EVP_MD_CTX per call (a shared EVP_PKEY is read-only). */
static bool
verify_eddsa(const rvk_key_t *key, const unsigned char *input,
             size_t input_len, const unsigned char *sig, size_t sig_len)
{
	size_t want = EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_ED25519 ? 64 : 114;
	if (sig_len != want)
		return false;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return false;
	bool ok = EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1
	          && EVP_DigestVerify(ctx, sig, sig_len, input, input_len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The largest DER ECDSA-Sig-Value here (P-521): SEQUENCE header of 3
 * bytes, two INTEGERs of at most 2 + 1 + 66 bytes. */
#define ECDSA_DER_MAX (3 + 2 * (3 + 66))

/* One DER INTEGER (minimal: no leading zero byte unless the next has its
 * high bit set) from an unsigned big-endian number of n >= 1 bytes.
 * Returns: the bytes written (at most 3 + n). */
static size_t
der_uint(unsigned char *out, const unsigned char *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	size_t pad = (v[0] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (unsigned char)(n + pad);
	out[2] = 0;
	memcpy(out + 2 + pad, v, n);
	return 2 + pad + n;
}

/* JOSE r||s (two big-endian integers of the field size) to DER, written
 * into der (ECDSA_DER_MAX bytes) with no allocation: the encoding
 * i2d_ECDSA_SIG makes, which OpenSSL's verify re-encodes and compares
 * (it refuses any other encoding of the same numbers).
 * Returns: false when sig_len is not exactly twice the field size. */
static bool
ecdsa_der(rvk_alg_t alg, const unsigned char *sig, size_t sig_len,
          unsigned char *der, size_t *der_len)
{
	size_t field;
	const char *label;
	(void)ec_group(alg, &field, &label);
	if (sig_len != 2 * field)
		return false;
	unsigned char body[2 * (3 + 66)];
	size_t n = der_uint(body, sig, field);
	n += der_uint(body + n, sig + field, field);
	size_t o = 0;
	der[o++] = 0x30;
	if (n >= 0x80)
		der[o++] = 0x81;       /* long form: one length byte (n < 256) */
	der[o++] = (unsigned char)n;
	memcpy(der + o, body, n);
	*der_len = o + n;
	return true;
}

/* Hashes the signing input with the digest of alg (RS*, ES*).
 * Returns: the digest length. */
static size_t
digest_of(rvk_alg_t alg, const unsigned char *in, size_t n,
          unsigned char out[SHA512_DIGEST_LENGTH])
{
	switch (alg) {
	case RVK_ALG_RS256: case RVK_ALG_ES256: case RVK_ALG_PS256:
		rvk_sha256(in, n, out);
		return RVK_SHA256_LEN;
	case RVK_ALG_RS384: case RVK_ALG_ES384: case RVK_ALG_PS384: {
		SHA512_CTX c;
		SHA384_Init(&c);
		SHA384_Update(&c, in, n);
		SHA384_Final(out, &c);
		return SHA384_DIGEST_LENGTH;
	}
	case RVK_ALG_RS512: case RVK_ALG_ES512: case RVK_ALG_PS512: {
		SHA512_CTX c;
		SHA512_Init(&c);
		SHA512_Update(&c, in, n);
		SHA512_Final(out, &c);
		return SHA512_DIGEST_LENGTH;
	}
	default:
		RVK_UNREACHABLE();
	}
}

bool
rvk_key_verify(const rvk_key_t *key, const unsigned char *input,
               size_t input_len, const unsigned char *sig, size_t sig_len)
{
	RVK_REQUIRE(key != NULL && (input != NULL || input_len == 0));
	if (sig == NULL && sig_len != 0)
		return false;
	if (rvk_alg_is_hmac(key->alg))
		return verify_hmac(key, input, input_len, sig, sig_len);
	if (rvk_alg_is_eddsa(key->alg))
		return verify_eddsa(key, input, input_len, sig, sig_len);

	/* Lengths first (RFC 7518 §3.3, §3.4), then one digest for either
	 * path. */
	unsigned char der[ECDSA_DER_MAX];
	const unsigned char *s = sig;
	size_t s_len = sig_len;
	if (rvk_alg_is_ec(key->alg)) {
		if (!ecdsa_der(key->alg, sig, sig_len, der, &s_len))
			return false;
		s = der;
	} else if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
		/* RFC 7518 §3.3: the signature is exactly the modulus size. */
		return false;
	}
	unsigned char md[SHA512_DIGEST_LENGTH];
	size_t md_len = digest_of(key->alg, input, input_len, md);
	if (key->p256 != NULL) {
		/* sig is r || s of 64 bytes: ecdsa_der checked it. */
		int v = rvk_p256_verify(key->p256, md, sig);
		if (v >= 0)
			return v == 1;
		/* -1: the table is being built by another thread, or OpenSSL
		 * failed: EVP decides this one. */
	}
	if (key->rsa != NULL) {
		int v = rvk_rsa_verify(key->rsa, md, md_len, sig, sig_len);
		if (v >= 0)
			return v == 1;
		/* -1: OpenSSL failed (out of memory): EVP decides this one. */
	}
	EVP_PKEY_CTX *ctx = vctx_take(key);
	if (ctx == NULL)
		return false;
	bool ok = EVP_PKEY_verify(ctx, s, s_len, md, md_len) == 1;
	vctx_give(key, ctx);
	return ok;
}
