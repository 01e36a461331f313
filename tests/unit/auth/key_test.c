/* Keys (loading, pinning, verifying), keyrings (choice rules), issuers. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/issuer.h"
#include "auth/jws.h"
#include "auth/key.h"
#include "auth/keyring.h"
#include "auth/mint.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

static rvk_result_t
from_pem(rvk_alg_t alg, const unsigned char *pem, size_t len, char *err)
{
	rvk_key_t *k = NULL;
	rvk_result_t r = rvk_key_from_pem("k", alg, (const char *)pem, len, &k,
	                                  err, 128);
	if (r == RVK_OK) {
		TAP_CHECK(k != NULL);
		rvk_key_free(k);
	}
	return r;
}

TAP_TEST(pem_loading)
{
	char err[128] = "";
	const tk_material_t *rsa = tk_material(RVK_ALG_RS256, 0);
	const tk_material_t *p256 = tk_material(RVK_ALG_ES256, 0);
	const tk_material_t *p384 = tk_material(RVK_ALG_ES384, 0);
	TAP_CHECK_INT(from_pem(RVK_ALG_RS256, rsa->pub, rsa->pub_len, err), RVK_OK);
	TAP_CHECK_INT(from_pem(RVK_ALG_RS512, rsa->pub, rsa->pub_len, err), RVK_OK);
	TAP_CHECK_INT(from_pem(RVK_ALG_ES256, p256->pub, p256->pub_len, err), RVK_OK);
	/* Wrong curve for the algorithm. */
	TAP_CHECK_INT(from_pem(RVK_ALG_ES384, p256->pub, p256->pub_len, err), RVK_EINVAL);
	TAP_CHECK_STR(err, "not an EC P-384 key");
	TAP_CHECK_INT(from_pem(RVK_ALG_ES256, p384->pub, p384->pub_len, err), RVK_EINVAL);
	TAP_CHECK_STR(err, "not an EC P-256 key");
	/* Wrong family. */
	TAP_CHECK_INT(from_pem(RVK_ALG_ES256, rsa->pub, rsa->pub_len, err), RVK_EINVAL);
	TAP_CHECK_INT(from_pem(RVK_ALG_RS256, p256->pub, p256->pub_len, err), RVK_EINVAL);
	/* A private key is not a public key file. */
	TAP_CHECK_INT(from_pem(RVK_ALG_RS256, rsa->priv, rsa->priv_len, err), RVK_EINVAL);
	TAP_CHECK_INT(from_pem(RVK_ALG_RS256, (const unsigned char *)"junk", 4, err),
	              RVK_EINVAL);
	/* RSA 1024 refused. */
	char *priv = NULL, *pub = NULL;
	TAP_CHECK_INT(rvk_keygen_rsa(1024, &priv, &pub), RVK_OK);
	TAP_CHECK_INT(from_pem(RVK_ALG_RS256, (unsigned char *)pub, strlen(pub), err),
	              RVK_EINVAL);
	TAP_CHECK_STR(err, "RSA key shorter than 2048 bits");
	free(priv);
	free(pub);
}

TAP_TEST(secret_loading)
{
	char err[128] = "";
	rvk_key_t *k = NULL;
	TAP_CHECK_INT(rvk_key_from_secret("h", RVK_ALG_HS256, (const unsigned char *)"", 0,
	                                  &k, err, sizeof(err)), RVK_EINVAL);
	TAP_CHECK_STR(err, "empty HMAC secret");
	TAP_CHECK(k == NULL);
	static const unsigned char s64[64] = "0123456789abcdef0123456789abcdef"
	                                     "0123456789abcdef0123456789abcde";
	TAP_CHECK_INT(rvk_key_from_secret(NULL, RVK_ALG_HS512, s64, 63, &k, err,
	                                  sizeof(err)), RVK_EINVAL);
	TAP_CHECK_STR(err, "HMAC secret of 63 bytes is shorter than the 64 that HS512 "
	                   "requires (RFC 7518 section 3.2)");
	TAP_CHECK(k == NULL);
	TAP_CHECK_INT(rvk_key_from_secret(NULL, RVK_ALG_HS512, s64, 64,
	                                  &k, err, sizeof(err)), RVK_OK);
	TAP_CHECK(rvk_key_kid(k) == NULL);
	TAP_CHECK_INT(rvk_key_alg(k), RVK_ALG_HS512);
	rvk_key_free(k);
}

TAP_TEST(load_ids_are_unique)
{
	rvk_key_t *a = tk_key(RVK_ALG_HS256, 0, "same");
	rvk_key_t *b = tk_key(RVK_ALG_HS256, 0, "same");
	TAP_CHECK(rvk_key_load_id(a) != rvk_key_load_id(b));
	TAP_CHECK(rvk_key_load_id(a) != 0);
	TAP_CHECK_STR(rvk_key_kid(a), "same");
	rvk_keyring_t *ring = rvk_keyring_new(&a, 1);
	TAP_CHECK(rvk_keyring_has_load(ring, rvk_key_load_id(a)));
	TAP_CHECK(!rvk_keyring_has_load(ring, rvk_key_load_id(b)));
	rvk_keyring_free(ring);
	rvk_key_free(b);
}

/* Signs with libjwt, verifies the raw parts with rvk_key_verify. */
static bool
verify_minted(rvk_alg_t alg, int sign_variant, int key_variant, int tamper)
{
	char *t = tk_mint(alg, sign_variant, NULL, "{\"a\":1}");
	rvk_jws_t j;
	RVK_REQUIRE(rvk_jws_parse(t, strlen(t), 8192, &j) == RVK_REASON_OK);
	if (tamper == 1)
		j.sig[j.sig_len / 2] ^= 1;
	size_t sig_len = j.sig_len - (tamper == 2);
	rvk_key_t *k = tk_key(alg, key_variant, NULL);
	bool ok = rvk_key_verify(k, (const unsigned char *)t, j.signing_input_len,
	                         j.sig, sig_len);
	rvk_key_free(k);
	rvk_jws_fini(&j);
	free(t);
	return ok;
}

TAP_TEST(verify_every_alg)
{
	/* libjwt's algorithms; PS* and EdDSA: tests/interop (jose signs). */
	for (int a = 0; a < RVK_ALG_LIBJWT_COUNT; a++) {
		if (!verify_minted((rvk_alg_t)a, 0, 0, 0))
			TAP_FAIL_AT("%s: valid signature refused", rvk_alg_name((rvk_alg_t)a));
		if (verify_minted((rvk_alg_t)a, 1, 0, 0))
			TAP_FAIL_AT("%s: other key accepted", rvk_alg_name((rvk_alg_t)a));
		if (verify_minted((rvk_alg_t)a, 0, 0, 1))
			TAP_FAIL_AT("%s: flipped bit accepted", rvk_alg_name((rvk_alg_t)a));
		if (verify_minted((rvk_alg_t)a, 0, 0, 2))
			TAP_FAIL_AT("%s: short signature accepted", rvk_alg_name((rvk_alg_t)a));
	}
}

TAP_TEST(es_signature_length_is_exact)
{
	/* A DER signature (what OpenSSL produces natively) is not JOSE r||s. */
	EVP_PKEY *pk = tk_private_pkey(RVK_ALG_ES256, 0);
	unsigned char der[128];
	size_t der_len = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	TAP_CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1);
	TAP_CHECK(EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)"a.b", 3) == 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	rvk_key_t *k = tk_key(RVK_ALG_ES256, 0, NULL);
	TAP_CHECK(!rvk_key_verify(k, (const unsigned char *)"a.b", 3, der, der_len));
	/* r||s with leading zeros padded to 64 bytes is the only accepted form:
	 * an all-zero signature has the right length and must still fail. */
	unsigned char zero[64] = { 0 };
	TAP_CHECK(!rvk_key_verify(k, (const unsigned char *)"a.b", 3, zero, 64));
	TAP_CHECK(!rvk_key_verify(k, (const unsigned char *)"a.b", 3, zero, 0));
	rvk_key_free(k);
}

/* key.c writes the DER of r||s itself: a leading zero byte dropped, a zero
 * byte added before a high bit. 600 ES256 signatures make both shapes
 * (each integer: high bit 1/2, a leading zero byte 1/256), and each must
 * verify; ES384/ES512 once each (P-521's DER needs a long-form length). */
TAP_TEST(es_signatures_of_every_shape)
{
	int refused = 0;
	for (int i = 0; i < 600; i++)
		refused += !verify_minted(RVK_ALG_ES256, 0, 0, 0);
	TAP_CHECK_INT(refused, 0);
	for (int i = 0; i < 20; i++) {
		TAP_CHECK(verify_minted(RVK_ALG_ES384, 0, 0, 0));
		TAP_CHECK(verify_minted(RVK_ALG_ES512, 0, 0, 0));
		TAP_CHECK(!verify_minted(RVK_ALG_ES512, 0, 0, 1));
	}
}

/* One key, many threads: each call makes its own OpenSSL contexts from the
 * shared EVP_PKEY / pre-keyed EVP_MAC_CTX (run under TSan too). */
typedef struct {
	rvk_key_t *key;
	const char *token;
	size_t input_len;
	const unsigned char *sig;
	size_t sig_len;
	int ok, bad;
} par_t;

static void *
par_verify(void *arg)
{
	par_t *p = arg;
	unsigned char flipped[600];
	memcpy(flipped, p->sig, p->sig_len);
	flipped[0] ^= 0x40;
	for (int i = 0; i < 50; i++) {
		p->ok += rvk_key_verify(p->key, (const unsigned char *)p->token,
		                        p->input_len, p->sig, p->sig_len);
		p->bad += rvk_key_verify(p->key, (const unsigned char *)p->token,
		                         p->input_len, flipped, p->sig_len);
	}
	return NULL;
}

TAP_TEST(concurrent_verify)
{
	const rvk_alg_t algs[] = { RVK_ALG_HS256, RVK_ALG_ES256, RVK_ALG_RS256 };
	for (size_t a = 0; a < RVK_ARRAY_LEN(algs); a++) {
		char *t = tk_mint(algs[a], 0, NULL, "{\"x\":1}");
		rvk_jws_t j;
		TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 8192, &j), RVK_REASON_OK);
		rvk_key_t *k = tk_key(algs[a], 0, NULL);
		pthread_t th[4];
		par_t p[4];
		for (int i = 0; i < 4; i++) {
			p[i] = (par_t){ k, t, j.signing_input_len, j.sig, j.sig_len, 0, 0 };
			TAP_CHECK(pthread_create(&th[i], NULL, par_verify, &p[i]) == 0);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			TAP_CHECK_INT(p[i].ok, 50);
			TAP_CHECK_INT(p[i].bad, 0);
		}
		rvk_key_free(k);
		rvk_jws_fini(&j);
		free(t);
	}
}

static rvk_reason_t
sel(const rvk_keyring_t *ring, rvk_alg_t alg, const char *kid,
    const rvk_key_t **out)
{
	*out = NULL;
	return rvk_keyring_select(ring, alg, kid, kid ? strlen(kid) : 0, out);
}

TAP_TEST(keyring_selection)
{
	rvk_key_t *keys[] = {
		tk_key(RVK_ALG_ES256, 0, "e1"),
		tk_key(RVK_ALG_RS256, 0, "r1"),
		tk_key(RVK_ALG_RS384, 0, "r1"),   /* a JWK without alg: two keys */
		tk_key(RVK_ALG_HS256, 0, NULL),
		tk_key(RVK_ALG_RS512, 0, "r5a"),
		tk_key(RVK_ALG_RS512, 1, "r5b"),
	};
	rvk_keyring_t *ring = rvk_keyring_new(keys, RVK_ARRAY_LEN(keys));
	const rvk_key_t *k;
	TAP_CHECK_INT(sel(ring, RVK_ALG_ES256, "e1", &k), RVK_REASON_OK);
	TAP_CHECK(k == keys[0]);
	TAP_CHECK_INT(sel(ring, RVK_ALG_RS256, "r1", &k), RVK_REASON_OK);
	TAP_CHECK(k == keys[1]);
	TAP_CHECK_INT(sel(ring, RVK_ALG_RS384, "r1", &k), RVK_REASON_OK);
	TAP_CHECK(k == keys[2]);
	/* kid known, alg not its own. */
	TAP_CHECK_INT(sel(ring, RVK_ALG_HS256, "e1", &k), RVK_REASON_UNSUPPORTED_ALG);
	TAP_CHECK_INT(sel(ring, RVK_ALG_RS512, "r1", &k), RVK_REASON_UNSUPPORTED_ALG);
	TAP_CHECK(k == NULL);
	/* kid unknown; a kid prefix is not the kid. */
	TAP_CHECK_INT(sel(ring, RVK_ALG_ES256, "e2", &k), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK_INT(rvk_keyring_select(ring, RVK_ALG_ES256, "e1x", 1, &k), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK_INT(sel(ring, RVK_ALG_ES256, "e", &k), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK_INT(sel(ring, RVK_ALG_ES256, "", &k), RVK_REASON_UNKNOWN_KEY);
	/* A key without kid never serves a token with one. */
	TAP_CHECK_INT(sel(ring, RVK_ALG_HS256, "x", &k), RVK_REASON_UNKNOWN_KEY);
	/* No kid: the only key of that alg... */
	TAP_CHECK_INT(sel(ring, RVK_ALG_HS256, NULL, &k), RVK_REASON_OK);
	TAP_CHECK(k == keys[3]);
	TAP_CHECK_INT(sel(ring, RVK_ALG_ES256, NULL, &k), RVK_REASON_OK);
	TAP_CHECK(k == keys[0]);
	/* ...none, or several: unknown key. */
	TAP_CHECK_INT(sel(ring, RVK_ALG_ES384, NULL, &k), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK_INT(sel(ring, RVK_ALG_RS512, NULL, &k), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK(k == NULL);
	rvk_keyring_free(ring);

	rvk_keyring_t *empty = rvk_keyring_new(NULL, 0);
	TAP_CHECK_INT(sel(empty, RVK_ALG_HS256, NULL, &k), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK_INT(sel(empty, RVK_ALG_HS256, "a", &k), RVK_REASON_UNKNOWN_KEY);
	rvk_keyring_free(empty);
}

TAP_TEST(issuer_typ_rule)
{
	rvk_issuer_t *is = rvk_issuer_new("i");
	/* Default token types. */
	TAP_CHECK(rvk_issuer_accepts_typ(is, "JWT", 3));
	TAP_CHECK(rvk_issuer_accepts_typ(is, "jwt", 3));
	TAP_CHECK(rvk_issuer_accepts_typ(is, "at+jwt", 6));
	TAP_CHECK(rvk_issuer_accepts_typ(is, "AT+JWT", 6));
	TAP_CHECK(rvk_issuer_accepts_typ(is, "application/at+jwt", 18));
	TAP_CHECK(rvk_issuer_accepts_typ(is, "Application/JWT", 15));
	TAP_CHECK(rvk_issuer_accepts_typ(is, NULL, 0));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "logout+jwt", 10));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "secevent+jwt", 12));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "application/logout+jwt", 22));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "application/", 12));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "", 0));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "JWTX", 4));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "JW", 2));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "application/application/JWT", 27));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "JWT\0x", 5));
	/* Configured token types replace the default. */
	is->token_types = calloc(1, sizeof(char *));
	is->token_types[0] = strdup("JWT");
	is->n_token_types = 1;
	TAP_CHECK(rvk_issuer_accepts_typ(is, "application/jwt", 15));
	TAP_CHECK(!rvk_issuer_accepts_typ(is, "at+jwt", 6));
	rvk_issuer_free(is);
}

TAP_TEST(issuer_find_and_swap)
{
	rvk_issuers_t set = { .n = 2, .v = calloc(2, sizeof(rvk_issuer_t *)) };
	set.v[0] = rvk_issuer_new("https://a");
	set.v[1] = rvk_issuer_new("https://b");
	TAP_CHECK(rvk_issuers_find(&set, "https://b", 9) == set.v[1]);
	TAP_CHECK(rvk_issuers_find(&set, "https://bb", 10) == NULL);
	TAP_CHECK(rvk_issuers_find(&set, "https://", 8) == NULL);
	TAP_CHECK(rvk_issuers_find(&set, "HTTPS://A", 9) == NULL);
	rvk_key_t *k = tk_key(RVK_ALG_HS256, 0, "h");
	rvk_issuer_swap_keyring(set.v[0], rvk_keyring_new(&k, 1));
	rvk_rcu_read_lock();
	TAP_CHECK_INT(rvk_issuer_keyring(set.v[0])->n, 1);
	TAP_CHECK_INT(rvk_issuer_keyring(set.v[1])->n, 0);
	rvk_rcu_read_unlock();
	rvk_rcu_barrier(); /* the old ring is freed now (LeakSanitizer) */
	rvk_issuers_free(&set);
	TAP_CHECK(set.n == 0 && set.v == NULL);
}

/* HMAC from the pad states (key.c) against OpenSSL's HMAC(): every HS
 * alg, secrets shorter than, equal to and longer than the hash block,
 * messages of every length across several blocks. */
TAP_TEST(hmac_matches_openssl)
{
	static const rvk_alg_t algs[] = { RVK_ALG_HS256, RVK_ALG_HS384, RVK_ALG_HS512 };
	static const size_t secret_lens[] = { 64, 65, 128, 129, 200 };
	unsigned char secret[200], msg[300], mac[EVP_MAX_MD_SIZE];
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 13 + 1);
	for (size_t a = 0; a < 3; a++) {
		const EVP_MD *md = a == 0 ? EVP_sha256() : a == 1 ? EVP_sha384() : EVP_sha512();
		for (size_t s = 0; s < sizeof(secret_lens) / sizeof(*secret_lens); s++) {
			rvk_key_t *k = NULL;
			char err[128];
			TAP_CHECK_INT(rvk_key_from_secret(NULL, algs[a], secret, secret_lens[s],
			                                  &k, err, sizeof(err)), RVK_OK);
			int bad = 0;
			for (size_t n = 0; n <= sizeof(msg); n += (n < 140 ? 1 : 37)) {
				unsigned mac_len = 0;
				HMAC(md, secret, (int)secret_lens[s], msg, n, mac, &mac_len);
				bad += !rvk_key_verify(k, msg, n, mac, mac_len);
				mac[mac_len - 1] ^= 1;
				bad += rvk_key_verify(k, msg, n, mac, mac_len);
				bad += rvk_key_verify(k, msg, n, mac, mac_len - 1);
			}
			TAP_CHECK_INT(bad, 0);
			rvk_key_free(k);
		}
	}
}

int
main(void)
{
	return tap_main(TAP_LIST(pem_loading, secret_loading, load_ids_are_unique,
	                         verify_every_alg, es_signature_length_is_exact,
	                         es_signatures_of_every_shape,
	                         concurrent_verify,
	                         keyring_selection, issuer_typ_rule,
	                         issuer_find_and_swap, hmac_matches_openssl));
}
