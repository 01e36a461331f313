#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/mint.h"
#include "base/check.h"
#include "base/b64.h"
#include "base/mem.h"
#include "tests/unit/auth/keys.h"

static tk_material_t cache[RVK_ALG_COUNT][2];
static int cached[RVK_ALG_COUNT][2];

/* Keys of one family are shared across its algorithms (an RSA key serves
 * RS256/384/512), as a real issuer's would be. */
static void
generate(rvk_alg_t alg, int i)
{
	tk_material_t *m = &cache[alg][i];
	char *priv = NULL, *pub = NULL;
	if (rvk_alg_is_hmac(alg)) {
		size_t n = 32 + 16 * (size_t)(alg - RVK_ALG_HS256);
		unsigned char *s = rvk_malloc(n);
		RVK_REQUIRE(rvk_keygen_secret(s, n) == RVK_OK);
		m->priv = m->pub = s;
		m->priv_len = m->pub_len = n;
		return;
	}
	if (rvk_alg_is_rsa(alg) && alg != RVK_ALG_RS256) {
		*m = *tk_material(RVK_ALG_RS256, i);
		return;
	}
	if (rvk_alg_is_rsa(alg))
		RVK_REQUIRE(rvk_keygen_rsa(2048, &priv, &pub) == RVK_OK);
	else
		RVK_REQUIRE(rvk_keygen_ec(alg == RVK_ALG_ES256 ? "P-256"
		                          : alg == RVK_ALG_ES384 ? "P-384" : "P-521",
		                          &priv, &pub) == RVK_OK);
	m->priv = (unsigned char *)priv;
	m->priv_len = strlen(priv);
	m->pub = (unsigned char *)pub;
	m->pub_len = strlen(pub);
}

const tk_material_t *
tk_material(rvk_alg_t alg, int i)
{
	RVK_REQUIRE((unsigned)alg < RVK_ALG_COUNT && (i == 0 || i == 1));
	if (!cached[alg][i]) {
		generate(alg, i);
		cached[alg][i] = 1;
	}
	return &cache[alg][i];
}

rvk_key_t *
tk_key(rvk_alg_t alg, int i, const char *kid)
{
	const tk_material_t *m = tk_material(alg, i);
	rvk_key_t *key = NULL;
	char err[128];
	rvk_result_t r = rvk_alg_is_hmac(alg)
		? rvk_key_from_secret(kid, alg, m->pub, m->pub_len, &key, err, sizeof(err))
		: rvk_key_from_pem(kid, alg, (const char *)m->pub, m->pub_len, &key,
		                   err, sizeof(err));
	if (r != RVK_OK) {
		fprintf(stderr, "tk_key: %s\n", err);
		abort();
	}
	return key;
}

rvk_issuer_t *
tk_issuer(const char *iss, rvk_algset_t algs, rvk_key_t **keys, size_t n)
{
	rvk_issuer_t *issuer = rvk_issuer_new(iss);
	issuer->algorithms = algs;
	rvk_keyring_free(issuer->keyring);
	issuer->keyring = rvk_keyring_new(keys, n);
	return issuer;
}

char *
tk_mint(rvk_alg_t alg, int i, const char *kid, const char *claims_json)
{
	const tk_material_t *m = tk_material(alg, i);
	char err[128];
	char *t = rvk_mint_token(alg, kid, m->priv, m->priv_len,
	                             claims_json, err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "tk_mint: %s\n", err);
		abort();
	}
	return t;
}

char *
tk_b64(const void *p, size_t n)
{
	char *out = rvk_malloc(rvk_b64url_encoded_len(n) + 1);
	rvk_b64url_encode(p, n, out);
	return out;
}

char *
tk_token(const char *header_json, const char *payload_json, const char *sig_b64)
{
	char *h = tk_b64(header_json, strlen(header_json));
	char *p = tk_b64(payload_json, strlen(payload_json));
	size_t n = strlen(h) + strlen(p) + strlen(sig_b64) + 3;
	char *t = rvk_malloc(n);
	snprintf(t, n, "%s.%s.%s", h, p, sig_b64);
	free(h);
	free(p);
	return t;
}

char *
tk_hmac_token(rvk_alg_t hs, const void *key, size_t key_len,
              const char *header_json, const char *payload_json)
{
	RVK_REQUIRE(rvk_alg_is_hmac(hs));
	char *unsigned_tok = tk_token(header_json, payload_json, "");
	size_t input_len = strlen(unsigned_tok) - 1; /* drop the last dot */
	const EVP_MD *md = hs == RVK_ALG_HS256 ? EVP_sha256()
	                 : hs == RVK_ALG_HS384 ? EVP_sha384() : EVP_sha512();
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	RVK_REQUIRE(HMAC(md, key, (int)key_len, (unsigned char *)unsigned_tok,
	                 input_len, mac, &mac_len) != NULL);
	char *sig = tk_b64(mac, mac_len);
	size_t n = input_len + 1 + strlen(sig) + 1;
	char *t = rvk_malloc(n);
	snprintf(t, n, "%.*s.%s", (int)input_len, unsigned_tok, sig);
	free(unsigned_tok);
	free(sig);
	return t;
}

typedef struct {
	rvk_key_t *key;
	const unsigned char *msg, *sig, *other;
	size_t msg_len, sig_len;
	int rounds, wrong;
} race_t;

static void *
race(void *arg)
{
	race_t *r = arg;
	for (int i = 0; i < r->rounds; i++) {
		r->wrong += !rvk_key_verify(r->key, r->msg, r->msg_len, r->sig,
		                            r->sig_len);
		r->wrong += rvk_key_verify(r->key, r->msg, r->msg_len, r->other,
		                           r->sig_len);
	}
	return NULL;
}

int
tk_verify_race(rvk_key_t *key, const unsigned char *msg, size_t msg_len,
               const unsigned char *sig, const unsigned char *other,
               size_t sig_len, int n_threads, int rounds)
{
	RVK_REQUIRE(n_threads > 0 && n_threads <= 8);
	race_t r[8];
	pthread_t t[8];
	for (int i = 0; i < n_threads; i++) {
		r[i] = (race_t){ key, msg, sig, other, msg_len, sig_len, rounds, 0 };
		RVK_REQUIRE(pthread_create(&t[i], NULL, race, &r[i]) == 0);
	}
	int wrong = 0;
	for (int i = 0; i < n_threads; i++) {
		RVK_REQUIRE(pthread_join(t[i], NULL) == 0);
		wrong += r[i].wrong;
	}
	return wrong;
}

EVP_PKEY *
tk_private_pkey(rvk_alg_t alg, int i)
{
	RVK_REQUIRE(!rvk_alg_is_hmac(alg));
	const tk_material_t *m = tk_material(alg, i);
	BIO *bio = BIO_new_mem_buf(m->priv, (int)m->priv_len);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	RVK_REQUIRE(pk != NULL);
	return pk;
}
