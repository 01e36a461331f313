/*
 * mint.h - making tokens and keys: dev mode (`revokd serve --dev`), the
 * `check` tooling and tests. Never on the verification path.
 *
 * Tokens are minted with libjwt 1.10 (REFERENCE §3 step 4: libjwt mints, OpenSSL
 * verifies), so the differential test has an independent signer. Keys are
 * generated with OpenSSL.
 *
 * Note: libjwt 1.10 writes `"typ":"JWT"` into the header of every signed
 * token and overwrites any other typ, so tokens with another typ (at+jwt,
 * logout+jwt) cannot be minted here; tests make those by hand.
 *
 * Threads: every function may run on any thread (libjwt keeps no global
 * state, each call has its own jwt_t).
 */
#ifndef RVK_AUTH_MINT_H
#define RVK_AUTH_MINT_H

#include <stddef.h>

#include "auth/alg.h"
#include "base/result.h"

/*
 * Signs claims_json (a JSON object) with alg.
 * Requires: key is a PEM private key (RS*, ES*: "BEGIN PRIVATE KEY" or the
 * traditional forms) or the HMAC secret bytes (HS*), key_len > 0; kid may
 * be NULL (no kid header).
 * Returns: a malloc'd NUL-terminated token (caller frees with free()), or
 * NULL with a message in err.
 */
char *rvk_mint_token(rvk_alg_t alg, const char *kid, const unsigned char *key,
                     size_t key_len, const char *claims_json, char *err,
                     size_t errlen);

/*
 * Generates a key pair; *priv_pem (PKCS#8) and *pub_pem (SubjectPublicKeyInfo)
 * are malloc'd NUL-terminated strings the caller frees, written only on
 * RVK_OK. Returns: RVK_EIO when OpenSSL fails.
 */
rvk_result_t rvk_keygen_ec_p256(char **priv_pem, char **pub_pem);
/* Requires: curve is "P-256", "P-384" or "P-521". */
rvk_result_t rvk_keygen_ec(const char *curve, char **priv_pem, char **pub_pem);
/* Requires: bits >= 512 (tests make small keys to see them refused). */
rvk_result_t rvk_keygen_rsa(unsigned bits, char **priv_pem, char **pub_pem);

/* Fills out with n random bytes (RAND_bytes). Returns: RVK_OK or RVK_EIO. */
rvk_result_t rvk_keygen_secret(unsigned char *out, size_t n);

#endif
