#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "auth/mint.h"
#include "base/check.h"
#include "base/mem.h"

static jwt_alg_t
to_libjwt(rvk_alg_t alg)
{
	static const jwt_alg_t map[RVK_ALG_COUNT] = {
		[RVK_ALG_HS256] = JWT_ALG_HS256, [RVK_ALG_HS384] = JWT_ALG_HS384,
		[RVK_ALG_HS512] = JWT_ALG_HS512, [RVK_ALG_RS256] = JWT_ALG_RS256,
		[RVK_ALG_RS384] = JWT_ALG_RS384, [RVK_ALG_RS512] = JWT_ALG_RS512,
		[RVK_ALG_ES256] = JWT_ALG_ES256, [RVK_ALG_ES384] = JWT_ALG_ES384,
		[RVK_ALG_ES512] = JWT_ALG_ES512,
	};
	/* libjwt 1.10 mints HS*, RS*, ES* only (dev mode is ES256). */
	RVK_REQUIRE((unsigned)alg < RVK_ALG_LIBJWT_COUNT);
	return map[alg];
}

static char *
mint_fail(char *err, size_t errlen, const char *what, int e)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, strerror(e));
	return NULL;
}

char *
rvk_mint_token(rvk_alg_t alg, const char *kid, const unsigned char *key,
               size_t key_len, const char *claims_json, char *err,
               size_t errlen)
{
	RVK_REQUIRE(key != NULL && key_len > 0 && key_len <= INT_MAX);
	RVK_REQUIRE(claims_json != NULL);
	jwt_t *jwt = NULL;
	int e = jwt_new(&jwt);
	if (e != 0)
		return mint_fail(err, errlen, "jwt_new", e);
	char *out = NULL;
	const char *what = NULL;
	if ((e = jwt_add_grants_json(jwt, claims_json)) != 0)
		what = "claims";
	else if (kid && (e = jwt_add_header(jwt, "kid", kid)) != 0)
		what = "kid header";
	else if ((e = jwt_set_alg(jwt, to_libjwt(alg), key, (int)key_len)) != 0)
		what = "key";
	if (what == NULL) {
		errno = 0;
		char *s = jwt_encode_str(jwt);
		if (s == NULL) {
			what = "signing";
			e = errno ? errno : EINVAL;
		} else {
			out = rvk_strdup(s);
			free(s); /* libjwt 1.10 has no jwt_free_str */
		}
	}
	jwt_free(jwt);
	if (what != NULL)
		return mint_fail(err, errlen, what, e);
	return out;
}

static char *
bio_string(BIO *bio)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	RVK_REQUIRE(n >= 0);
	return rvk_memdup0(data, (size_t)n);
}

/* Writes both PEMs of pkey; frees pkey. */
static rvk_result_t
export_pair(EVP_PKEY *pkey, char **priv_pem, char **pub_pem)
{
	if (pkey == NULL)
		return RVK_EIO;
	BIO *priv = BIO_new(BIO_s_mem());
	BIO *pub = BIO_new(BIO_s_mem());
	rvk_result_t r = RVK_EIO;
	if (priv && pub
	    && PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL)
	    && PEM_write_bio_PUBKEY(pub, pkey)) {
		*priv_pem = bio_string(priv);
		*pub_pem = bio_string(pub);
		r = RVK_OK;
	}
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(pkey);
	return r;
}

rvk_result_t
rvk_keygen_ec(const char *curve, char **priv_pem, char **pub_pem)
{
	RVK_REQUIRE(curve != NULL && priv_pem != NULL && pub_pem != NULL);
	const char *group = strcmp(curve, "P-256") == 0 ? "prime256v1"
	                  : strcmp(curve, "P-384") == 0 ? "secp384r1"
	                  : strcmp(curve, "P-521") == 0 ? "secp521r1" : NULL;
	RVK_REQUIRE(group != NULL);
	return export_pair(EVP_EC_gen(group), priv_pem, pub_pem);
}

rvk_result_t
rvk_keygen_ec_p256(char **priv_pem, char **pub_pem)
{
	return rvk_keygen_ec("P-256", priv_pem, pub_pem);
}

rvk_result_t
rvk_keygen_rsa(unsigned bits, char **priv_pem, char **pub_pem)
{
	RVK_REQUIRE(bits >= 512 && priv_pem != NULL && pub_pem != NULL);
	return export_pair(EVP_RSA_gen(bits), priv_pem, pub_pem);
}

rvk_result_t
rvk_keygen_secret(unsigned char *out, size_t n)
{
	RVK_REQUIRE(out != NULL || n == 0);
	if (n > INT_MAX)
		return RVK_EIO;
	return RAND_bytes(out, (int)n) == 1 ? RVK_OK : RVK_EIO;
}
