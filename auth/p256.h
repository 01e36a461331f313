/*
 * p256.h - ES256 verification on a pinned P-256 key with a table of the
 * key's own multiples.
 *
 * An ECDSA verify computes u1·G + u2·Q (SEC 1 §4.1.4). OpenSSL keeps a table
 * of multiples of the generator G, so u1·G is cheap; Q, the public key, is
 * a variable point to OpenSSL and u2·Q is most of a verify. revokd's keys
 * are pinned and long-lived, so a table for Q is built once per key (on its
 * first verify) and each verify is then two table walks (auth/p256.c says
 * how, and docs/BENCHMARKS.md what it saves).
 *
 * Ownership: rvk_p256_new returns a reference owned by the caller; copies of
 * a key share one verifier through rvk_p256_ref and each holder calls
 * rvk_p256_unref once. The table is built at most once per verifier, the
 * first time a verify needs it.
 * Threads: rvk_p256_verify may run on many threads at once on one verifier
 * (the table is published once, with release/acquire, and only read after;
 * scratch state comes from a pool with its own lock). A verifier must not
 * be freed while another thread may verify with it (keys are freed after an
 * RCU grace period: auth/keyring.h).
 */
#ifndef RVK_AUTH_P256_H
#define RVK_AUTH_P256_H

#include <openssl/evp.h>

typedef struct rvk_p256 rvk_p256_t;

/*
 * Requires: pkey is an EC key on P-256.
 * Returns: a verifier for pkey (one reference, owned by the caller), or NULL
 * when this build has no fast P-256 table code in OpenSSL (only x86_64 and
 * aarch64 have its nistz256 assembly; elsewhere a table would be slower) or
 * OpenSSL cannot read the key: the caller then verifies with EVP.
 */
rvk_p256_t *rvk_p256_new(const EVP_PKEY *pkey);

/* Returns: v, with one more reference (owned by the caller). */
rvk_p256_t *rvk_p256_ref(rvk_p256_t *v);

/* Drops one reference; the last frees the verifier and its table. NULL is a
 * no-op. */
void rvk_p256_unref(rvk_p256_t *v);

/*
 * Verifies a JOSE ES256 signature (RFC 7518 §3.4: r || s, 32 bytes each,
 * big-endian) of a SHA-256 digest.
 * Returns: 1 valid, 0 not valid (including r or s outside [1, n-1]), -1 when
 * OpenSSL failed (out of memory): the caller then verifies with EVP.
 */
int rvk_p256_verify(rvk_p256_t *v, const unsigned char digest[32],
                    const unsigned char sig[64]);

#endif
