/*
 * keys.h - test fixtures for auth/: keys generated once per test program,
 * tokens minted with libjwt or crafted by hand.
 *
 * Every returned string is malloc'd and owned by the caller unless the
 * comment says "cached" (then it lives until the program exits).
 * Threads: not thread-safe (tests are single-threaded); tk_verify_race
 * starts threads of its own, which only verify.
 */
#ifndef RVK_TESTS_AUTH_KEYS_H
#define RVK_TESTS_AUTH_KEYS_H

#include <stddef.h>

#include <openssl/evp.h>

#include "auth/alg.h"
#include "auth/issuer.h"
#include "auth/key.h"
#include "base/check.h"

/* Key material for alg, variant i (0 or 1: two independent keys per alg).
 * priv: PEM private key (RS/ES) or the secret (HS); pub: PEM public key or
 * the same secret. Cached. */
typedef struct tk_material {
	const unsigned char *priv;
	size_t priv_len;
	const unsigned char *pub;
	size_t pub_len;
} tk_material_t;
const tk_material_t *tk_material(rvk_alg_t alg, int i);

/* Returns: the private key of variant i of alg (RS, PS or ES), as an
 * EVP_PKEY owned by the caller (aborts on failure). */
EVP_PKEY *tk_private_pkey(rvk_alg_t alg, int i);

/* Returns: a verification key for alg from variant i (aborts on failure). */
rvk_key_t *tk_key(rvk_alg_t alg, int i, const char *kid);

/* Returns: an issuer allowing algs, owning the n keys. */
rvk_issuer_t *tk_issuer(const char *iss, rvk_algset_t algs, rvk_key_t **keys,
                        size_t n);

/* Mints with libjwt using variant i of alg (aborts on failure). The header
 * always has "typ":"JWT" (libjwt 1.10 writes it). */
char *tk_mint(rvk_alg_t alg, int i, const char *kid, const char *claims_json);

/* Returns: the unpadded base64url text of n bytes. */
char *tk_b64(const void *p, size_t n);

/* Returns: b64(header) "." b64(payload) "." sig_b64 (sig_b64 may be ""). */
char *tk_token(const char *header_json, const char *payload_json,
               const char *sig_b64);

/* Returns: a token crafted by hand and HMAC'd with key under the digest of
 * hs (HS256/384/512), whatever the header says. */
char *tk_hmac_token(rvk_alg_t hs, const void *key, size_t key_len,
                    const char *header_json, const char *payload_json);

/* Runs n_threads threads (at most 8) at once, each verifying sig (which
 * must verify) and other (which must not) rounds times over msg with key.
 * Returns: how many verdicts were wrong, over all threads (aborts if a
 * thread cannot start). */
int tk_verify_race(rvk_key_t *key, const unsigned char *msg, size_t msg_len,
                   const unsigned char *sig, const unsigned char *other,
                   size_t sig_len, int n_threads, int rounds);

#endif
