/*
 * verify_bench.c - one signature verify, revokd's way against OpenSSL's
 * one-call way, in the same run (a ratio, so the machine's load cancels).
 *
 * For ES256 and RS256: a key made with OpenSSL, N signatures over distinct
 * JWS-sized signing inputs, then N rvk_key_verify (auth/key.c: ES256
 * through the key's table, auth/p256.c; RS256 on a pooled context) and N
 * EVP_DigestVerify with a fresh context per call, as a library would.
 * Prints µs per verify for both and their ratio; exits non-zero if any
 * verdict differs. Then the parts of a P-256 verify (DECISIONS D27): the
 * inverse of s, u·G through OpenSSL's generator table, u·Q for a point
 * OpenSSL does not know, and u·Q through a table made for Q.
 *
 * Usage: verify_bench [N]   (default 4000; build with --buildtype=release)
 */
#define OPENSSL_SUPPRESS_DEPRECATED   /* EC_GROUP_precompute_mult, as p256.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "auth/key.h"

#define INPUT_LEN 300

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *
pem_of(EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(b, pk);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *out = malloc((size_t)n + 1);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return out;
}

/* JOSE r || s from a DER ECDSA signature. */
static void
jose_of(const unsigned char *der, size_t der_len, unsigned char out[64])
{
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &der, (long)der_len);
	BN_bn2binpad(ECDSA_SIG_get0_r(s), out, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(s), out + 32, 32);
	ECDSA_SIG_free(s);
}

static int
run(const char *name, EVP_PKEY *pk, rvk_alg_t alg, int n)
{
	unsigned char (*in)[INPUT_LEN] = malloc((size_t)n * INPUT_LEN);
	unsigned char (*der)[512] = malloc((size_t)n * 512);
	unsigned char (*jose)[512] = malloc((size_t)n * 512);
	size_t *der_len = calloc((size_t)n, sizeof(size_t));
	size_t *jose_len = calloc((size_t)n, sizeof(size_t));
	for (int i = 0; i < n; i++) {
		RAND_bytes(in[i], INPUT_LEN);
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		der_len[i] = 512;
		EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, pk);
		EVP_DigestSign(c, der[i], &der_len[i], in[i], INPUT_LEN);
		EVP_MD_CTX_free(c);
		if (alg == RVK_ALG_ES256) {
			jose_of(der[i], der_len[i], jose[i]);
			jose_len[i] = 64;
		} else {
			memcpy(jose[i], der[i], der_len[i]);
			jose_len[i] = der_len[i];
		}
	}
	char *pem = pem_of(pk), err[128];
	rvk_key_t *key;
	if (rvk_key_from_pem("k", alg, pem, strlen(pem), &key, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", name, err);
		return 1;
	}
	/* The first verify builds what a key keeps (ES256's table): not timed. */
	int ours = rvk_key_verify(key, in[0], INPUT_LEN, jose[0], jose_len[0]);
	double t0 = now();
	for (int i = 0; i < n; i++)
		ours += rvk_key_verify(key, in[i], INPUT_LEN, jose[i], jose_len[i]);
	double t_ours = now() - t0;
	int ref = 1;
	t0 = now();
	for (int i = 0; i < n; i++) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		ref += EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, pk) == 1
		       && EVP_DigestVerify(c, der[i], der_len[i], in[i], INPUT_LEN) == 1;
		EVP_MD_CTX_free(c);
	}
	double t_ref = now() - t0;
	printf("%-6s revokd %7.2f us  EVP_DigestVerify %7.2f us  ratio %.2fx  (verified %d/%d and %d/%d)\n",
	       name, t_ours / n * 1e6, t_ref / n * 1e6, t_ref / t_ours, ours,
	       n + 1, ref, n + 1);
	rvk_key_free(key);
	free(pem);
	free(in);
	free(der);
	free(jose);
	free(der_len);
	free(jose_len);
	return ours != n + 1 || ref != n + 1;
}

#define TIME(label, n, stmt)                                              \
	do {                                                                  \
		double t0_ = now();                                           \
		for (int i_ = 0; i_ < (n); i_++) {                            \
			stmt;                                                 \
		}                                                             \
		printf("  %-28s %7.2f us\n", label, (now() - t0_) / (n) * 1e6); \
	} while (0)

static void
p256_parts(int n)
{
	BN_CTX *bn = BN_CTX_new();
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	const BIGNUM *order = EC_GROUP_get0_order(g);
	BIGNUM *a = BN_new(), *b = BN_new(), *c = BN_new();
	EC_POINT *q = EC_POINT_new(g), *r = EC_POINT_new(g);
	BN_rand_range(a, order);
	BN_rand_range(b, order);
	EC_POINT_mul(g, q, a, NULL, NULL, bn);
	EC_GROUP *gq = EC_GROUP_dup(g);
	EC_GROUP_set_generator(gq, q, order, EC_GROUP_get0_cofactor(g));
	double t0 = now();
	EC_GROUP_precompute_mult(gq, bn);
	printf("P-256 parts:\n  %-28s %7.2f ms\n", "table for Q (once per key)",
	       (now() - t0) * 1e3);
	TIME("s^-1 mod n (BN_mod_inverse)", n, BN_mod_inverse(c, a, order, bn));
	TIME("u*G, OpenSSL's table", n, EC_POINT_mul(g, r, b, NULL, NULL, bn));
	TIME("u*Q, no table", n, EC_POINT_mul(g, r, NULL, q, b, bn));
	TIME("u*Q, Q's table", n, EC_POINT_mul(gq, r, b, NULL, NULL, bn));
	EC_POINT_free(q);
	EC_POINT_free(r);
	EC_GROUP_free(gq);
	EC_GROUP_free(g);
	BN_free(a);
	BN_free(b);
	BN_free(c);
	BN_CTX_free(bn);
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4000;
	if (n < 1)
		n = 4000;
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	int bad = run("ES256", ec, RVK_ALG_ES256, n);
	bad |= run("RS256", rsa, RVK_ALG_RS256, n);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	p256_parts(n);
	return bad;
}
