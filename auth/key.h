/*
 * key.h - one verification key, parsed once, its algorithm pinned.
 *
 * A key is immutable after creation: a kid (or none), exactly one algorithm,
 * and either an OpenSSL EVP_PKEY (RS*, PS*, ES*, EdDSA) or an HMAC secret
 * (HS*). Public keys and secrets never share a lookup path: a key made from
 * a PEM can only verify RS*, PS*, ES* or EdDSA signatures, a key made from a
 * secret only HS*. This is
 * what makes `none` and HS/RS confusion impossible (REFERENCE §3 step 3).
 *
 * Every key gets a process-unique load_id when it is made; a verified-token
 * cache entry is bound to the load_id, not to the kid (identity providers
 * reuse kids).
 *
 * Threads: rvk_key_verify may run on many threads at once on one key (each
 * call uses OpenSSL contexts no other call uses meanwhile: RS/ES take a
 * ready one from the key's pool, which has its own lock). A key must not be freed while another
 * thread may verify with it: keys live in keyrings, freed after an RCU grace
 * period (keyring.h).
 * Security: RSA keys under 2048 bits are refused; EC keys must be on the
 * curve their algorithm names (P-256 for ES256, ...).
 */
#ifndef RVK_AUTH_KEY_H
#define RVK_AUTH_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "auth/alg.h"
#include "base/result.h"

typedef struct rvk_key rvk_key_t;

/*
 * Makes a key from a PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----").
 * Requires: alg is not HS*; kid may be NULL (copied). RS* and PS* want an
 * RSA key, ES* the curve it names, EdDSA an Ed25519 or Ed448 key.
 * Returns: RVK_OK and *out (owned by the caller); RVK_EINVAL with a message
 * in err (e.g. "RSA key shorter than 2048 bits", "not an EC P-256 key").
 */
rvk_result_t rvk_key_from_pem(const char *kid, rvk_alg_t alg, const char *pem,
                              size_t pem_len, rvk_key_t **out, char *err,
                              size_t errlen);

/*
 * Makes a key from an HMAC secret (the raw bytes).
 * Requires: alg is HS*. Returns: RVK_EINVAL for an empty secret.
 */
rvk_result_t rvk_key_from_secret(const char *kid, rvk_alg_t alg,
                                 const unsigned char *secret, size_t len,
                                 rvk_key_t **out, char *err, size_t errlen);

/*
 * Makes a key from an EVP_PKEY already built (the JWKS path).
 * Requires: pkey non-NULL; ownership of pkey is transferred on RVK_OK only.
 */
rvk_result_t rvk_key_from_pkey(const char *kid, rvk_alg_t alg, EVP_PKEY *pkey,
                               rvk_key_t **out, char *err, size_t errlen);

void rvk_key_free(rvk_key_t *key);

/*
 * A second object for the same loaded key (the JWKS refresher keeps its last
 * good set and puts copies into each new keyring): same kid, alg and
 * load_id, the OpenSSL object shared by reference. Because the load_id is
 * the same, verified-cache entries made with the original stay valid while
 * either object is in the current ring.
 * Returns: the copy (owned by the caller; abort on OOM).
 */
rvk_key_t *rvk_key_dup(const rvk_key_t *key);

/*
 * Returns: whether a and b have the same kid (both none, or equal), the same
 * alg, and equal public keys (EVP_PKEY_eq). HMAC keys are never "the same"
 * (their secret is not kept in comparable form).
 */
bool rvk_key_same(const rvk_key_t *a, const rvk_key_t *b);

/* Returns: the kid (NULL when the key has none); valid while the key lives. */
const char *rvk_key_kid(const rvk_key_t *key);
rvk_alg_t rvk_key_alg(const rvk_key_t *key);
uint64_t rvk_key_load_id(const rvk_key_t *key);

/*
 * Verifies a JWS signature: input is the signing input as received
 * ("header.payload"), sig the decoded signature bytes (for ES*, the JOSE
 * r||s form of RFC 7518 §3.4, converted to DER here).
 * Returns: true only for a valid signature; HMAC compared in constant time.
 */
bool rvk_key_verify(const rvk_key_t *key, const unsigned char *input,
                    size_t input_len, const unsigned char *sig, size_t sig_len);

#endif
