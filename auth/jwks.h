/*
 * jwks.h - JWK Set documents (RFC 7517) and OpenID discovery documents
 * turned into verification keys for one issuer. No I/O: the bytes come from
 * the refresher (service/keyfetch.c), which fetches them.
 *
 * Design: every JWK is judged alone. A usable one becomes one rvk_key_t per
 * algorithm it may serve: its own `alg` when it has one (which must be in
 * the issuer's allow-list and fit its type and curve), else every algorithm
 * of its type the issuer allows (RS256/384/512 for RSA; ES256, ES384, ES512
 * for P-256, P-384, P-521). The keys of one JWK share its kid; the keyring
 * picks the one pinned to the token's alg (keyring.h). A JWK that is
 * malformed or not for signatures is skipped with a reason, never fatal:
 * one bad key in an IdP's document must not take the others down.
 *
 * Taken: kty RSA (n, e; at least 2048 bits) and EC (crv P-256/384/521, x and
 * y of exactly the field size, on the curve), `use` absent or "sig",
 * `key_ops` absent or containing "verify". Never taken: kty oct (a shared
 * secret has no business in a public document), a JWK carrying private
 * members (d, p, q, ...), a second JWK with the same (kid, alg).
 *
 * Threads: pure functions; results belong to the caller.
 * Resources: at most RVK_JWKS_MAX_KEYS JWKs are looked at per document.
 * Security: every byte is untrusted; messages quote at most 64 bytes of a
 * kid, escaped, and never the key material.
 */
#ifndef RVK_AUTH_JWKS_H
#define RVK_AUTH_JWKS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/alg.h"
#include "auth/key.h"
#include "base/result.h"

#define RVK_JWKS_MAX_KEYS 64
#define RVK_JWKS_MAX_KID 256

typedef struct rvk_jwks_set {
	rvk_key_t **keys;     /* owned, n of them */
	size_t n;
	char **skipped;       /* owned: one line per JWK not taken, e.g.
	                       * "keys[2] (kid \"a\"): RSA key shorter than 2048 bits" */
	size_t n_skipped;
} rvk_jwks_set_t;

/*
 * Parses a JWK Set document.
 * Requires: doc holds len bytes (need not be NUL-terminated); algs is the
 * issuer's allow-list.
 * Returns: RVK_OK and *out (release with rvk_jwks_set_fini) whenever the
 * document is a JSON object with a `keys` array, even if no key in it is
 * usable (out->n == 0); RVK_EINVAL with a message in err otherwise (*out
 * left empty).
 */
rvk_result_t rvk_jwks_parse(const char *doc, size_t len, rvk_algset_t algs,
                            rvk_jwks_set_t *out, char *err, size_t errlen);
void rvk_jwks_set_fini(rvk_jwks_set_t *set);

/*
 * Parses an OpenID Provider configuration document (OpenID Connect
 * Discovery 1.0 §3): its `issuer` must equal want_iss exactly (§4.3), and
 * its `jwks_uri` must pass rvk_jwks_uri_allowed.
 * Returns: RVK_OK and *jwks_uri (owned); RVK_EINVAL with err otherwise.
 */
rvk_result_t rvk_jwks_discovery_parse(const char *doc, size_t len,
                                      const char *want_iss, char **jwks_uri,
                                      char *err, size_t errlen);

/*
 * Returns: the discovery URL of an issuer: iss without a trailing "/", then
 * "/.well-known/openid-configuration" (owned).
 */
char *rvk_jwks_discovery_url(const char *iss);

/*
 * Returns: whether uri may be fetched: "https://" with a host, or
 * "http://" to a loopback host (rvk_jwks_host_is_loopback); never with
 * userinfo, whitespace or control characters.
 */
bool rvk_jwks_uri_allowed(const char *uri);

/*
 * Returns: whether host (as in a URL: "127.0.0.1", "localhost", "[::1]") is
 * loopback: 127.0.0.0/8 in strict dotted-quad form, "localhost" (any case),
 * or ::1 with or without brackets.
 */
bool rvk_jwks_host_is_loopback(const char *host);

/*
 * Returns: whether the two key lists hold the same keys, in any order, by
 * (kid, alg, public key) (rvk_key_same). Used to skip a swap when a refresh
 * changed nothing, so that cached verifications stay warm.
 */
bool rvk_jwks_same_keys(rvk_key_t *const *a, size_t na, rvk_key_t *const *b,
                        size_t nb);

/*
 * RFC 7638 thumbprint (SHA-256, base64url) of an RSA or EC JWK given as a
 * JSON text. Returns: RVK_OK and out (44 characters + NUL); RVK_EINVAL when
 * the JWK lacks a required member.
 */
rvk_result_t rvk_jwks_thumbprint(const char *jwk, size_t len, char out[44]);

#endif
