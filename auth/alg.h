/*
 * alg.h - the JWS algorithms revokd verifies (RFC 7518 §3.1, RFC 8037):
 * HS256/384/512, RS256/384/512, ES256/384/512 (the set libjwt 1.10 offers,
 * numbered first), PS256/384/512 and EdDSA (Ed25519, Ed448) — every JWS
 * algorithm identity providers sign with (REFERENCE §2). `none` is not an
 * algorithm here, in any spelling.
 *
 * Threads: pure functions.
 */
#ifndef RVK_AUTH_ALG_H
#define RVK_AUTH_ALG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rvk_alg {
	RVK_ALG_HS256 = 0,
	RVK_ALG_HS384,
	RVK_ALG_HS512,
	RVK_ALG_RS256,
	RVK_ALG_RS384,
	RVK_ALG_RS512,
	RVK_ALG_ES256,
	RVK_ALG_ES384,
	RVK_ALG_ES512,
	RVK_ALG_PS256,
	RVK_ALG_PS384,
	RVK_ALG_PS512,
	RVK_ALG_EDDSA,
	RVK_ALG_COUNT
} rvk_alg_t;

/* The algorithms libjwt 1.10 can mint and verify (HS*, RS*, ES*): the
 * first RVK_ALG_LIBJWT_COUNT values. */
#define RVK_ALG_LIBJWT_COUNT (RVK_ALG_ES512 + 1)

/* A set of algorithms, one bit per rvk_alg_t. */
typedef uint32_t rvk_algset_t;
#define RVK_ALGSET(a) ((rvk_algset_t)1u << (a))

/* Returns: true and *out when s (n bytes, not NUL-terminated) is exactly a
 * canonical name ("RS256"); "rs256", "none", "None" are all false. */
bool rvk_alg_parse(const char *s, size_t n, rvk_alg_t *out);
/* Returns: the canonical name. Requires: a valid alg. */
const char *rvk_alg_name(rvk_alg_t alg);
bool rvk_alg_is_hmac(rvk_alg_t alg);
/* RS* and PS*: an RSA key (PKCS#1 v1.5 or PSS padding). */
bool rvk_alg_is_rsa(rvk_alg_t alg);
bool rvk_alg_is_pss(rvk_alg_t alg);
bool rvk_alg_is_ec(rvk_alg_t alg);
/* EdDSA: an Ed25519 or Ed448 key (RFC 8037). */
bool rvk_alg_is_eddsa(rvk_alg_t alg);

#endif
