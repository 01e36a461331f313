/*
 * rsa.h - RS256/RS384/RS512 verification (RSASSA-PKCS1-v1_5) on a pinned
 * RSA public key, with the key's Montgomery form made once.
 *
 * A PKCS#1 v1.5 verify is one public-key operation, m = s^e mod n, and a
 * comparison of m with the one encoding the digest allows (RFC 8017
 * §8.2.2). Through EVP_PKEY_verify, OpenSSL 3 also makes a BN_CTX, a
 * buffer and the expected encoding per call, takes the key's lock for its
 * Montgomery context and raises s to e by a general windowed method:
 * 15.0-15.7 µs per RS256 verify of a 2048-bit key here, 12.7 µs this way
 * (DECISIONS D37; docs/BENCHMARKS.md, "RS256: the public-key operation
 * without EVP").
 *
 * Ownership: rvk_rsa_new returns a reference owned by the caller; copies of
 * a key share one verifier through rvk_rsa_ref and each holder calls
 * rvk_rsa_unref once.
 * Threads: rvk_rsa_verify may run on many threads at once on one verifier
 * (the key's numbers and Montgomery context are made before it is returned
 * and only read after; scratch state comes from a pool with its own lock).
 * A verifier must not be freed while another thread may verify with it
 * (keys are freed after an RCU grace period: auth/keyring.h).
 */
#ifndef RVK_AUTH_RSA_H
#define RVK_AUTH_RSA_H

#include <stddef.h>

#include <openssl/evp.h>

typedef struct rvk_rsa rvk_rsa_t;

/*
 * Requires: pkey is an RSA key (EVP_PKEY_RSA).
 * Returns: a verifier for pkey (one reference, owned by the caller), or
 * NULL when this path does not take the key — a modulus above 8192 bits,
 * a public exponent that is even, below 3 or wider than one BN_ULONG (64
 * bits on 64-bit builds; OpenSSL itself takes no more than 64 bits with a
 * modulus above 3072), or OpenSSL cannot read it: the caller then
 * verifies with EVP, which keeps its own rules for such keys.
 */
rvk_rsa_t *rvk_rsa_new(const EVP_PKEY *pkey);

/* Returns: v, with one more reference (owned by the caller). */
rvk_rsa_t *rvk_rsa_ref(rvk_rsa_t *v);

/* Drops one reference; the last frees the verifier. NULL is a no-op. */
void rvk_rsa_unref(rvk_rsa_t *v);

/*
 * Requires: v, digest and sig not NULL; md_len 32, 48 or 64.
 * Verifies an RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.2) of a digest:
 * SHA-256, SHA-384 or SHA-512 by md_len (32, 48 or 64). The signature is
 * valid iff it is exactly the modulus size, below the modulus as a number,
 * and its public-key operation gives exactly EMSA-PKCS1-v1_5(digest) with
 * the DigestInfo's NULL parameters present — the encoding OpenSSL's
 * RSA_verify compares with, byte for byte.
 * Returns: 1 valid, 0 not valid, -1 when OpenSSL failed (out of memory):
 * the caller then verifies with EVP.
 */
int rvk_rsa_verify(rvk_rsa_t *v, const unsigned char *digest, size_t md_len,
                   const unsigned char *sig, size_t sig_len);

#endif
