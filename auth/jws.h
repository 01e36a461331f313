/*
 * jws.h - a compact JWS taken apart and checked (REFERENCE §3 steps 1, 3, 4).
 *
 * Step 1 (rvk_jws_parse): size; three segments of unpadded base64url with no
 * character outside A-Z a-z 0-9 - _ and the two dots; header and payload are
 * JSON objects with no duplicate members (nesting at most RVK_JSON_MAX_DEPTH,
 * jansson's memory bounded: base/json.h); registered claims have the types
 * RFC 7519 gives them (sub, jti, sid strings; exp, iat, nbf numbers; aud a
 * string or an array of strings), else "malformed token"; header kid, typ
 * are strings when present. alg and iss are judged later (REFERENCE §3): a
 * header without a string alg parses with alg NULL, "unsupported algorithm"
 * at step 3; a payload without a string iss parses with iss NULL, "unknown
 * issuer" at step 2. exp/iat/nbf may be integers or reals (truncated),
 * finite and within int64.
 * Steps 3-4 (rvk_jws_verify): alg in the issuer's allow-list (exact,
 * case-sensitive), key chosen by keyring.h's rules, `crit` rejected, the
 * signature verified by OpenSSL over the signing input as received.
 * jku, x5u, jwk, x5c are ignored: keys come only from configuration.
 *
 * Used by /auth (access.h), SETs, logout tokens and Keycloak's push.
 *
 * Threads: a parsed rvk_jws_t belongs to one thread. rvk_jws_verify must run
 * inside an RCU read section (it reads the issuer's keyring).
 * Security: every byte of the token is untrusted; numbers outside int64 are
 * malformed; the parser allocates O(token size) at most.
 */
#ifndef RVK_AUTH_JWS_H
#define RVK_AUTH_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/alg.h"
#include "auth/issuer.h"
#include "base/reason.h"

typedef struct rvk_jws {
	const char *token;          /* borrowed: the caller keeps it alive */
	size_t len;
	size_t signing_input_len;   /* bytes of "header.payload" */
	json_t *header;             /* owned */
	json_t *payload;            /* owned */
	unsigned char *sig;         /* owned, decoded */
	size_t sig_len;
	/* Borrowed from header/payload (NULL when absent; alg and iss also
	 * when not a string): */
	const char *alg, *kid, *typ;
	size_t kid_len;
	const char *iss, *sub, *jti, *sid;
	bool has_crit;
	bool has_exp, has_iat, has_nbf;
	int64_t exp, iat, nbf;      /* fractional seconds are truncated */
} rvk_jws_t;

/*
 * Step 1.
 * Returns: RVK_REASON_OK and *out filled (release with rvk_jws_fini), or
 * RVK_REASON_TOO_LARGE / RVK_REASON_MALFORMED with *out left empty.
 */
rvk_reason_t rvk_jws_parse(const char *token, size_t len, size_t max_bytes,
                           rvk_jws_t *out);
void rvk_jws_fini(rvk_jws_t *jws);

/*
 * Steps 3 and 4 against one issuer.
 * Requires: inside an RCU read section; *used is valid until it ends.
 * Returns: RVK_REASON_OK and *used, or UNSUPPORTED_ALG, UNKNOWN_KEY,
 * UNSUPPORTED_CRIT, BAD_SIGNATURE.
 */
/* Returns: whether the payload's aud (a string or an array of strings, as
 * step 1 checked) contains want. */
bool rvk_jws_aud_contains(const rvk_jws_t *jws, const char *want);

rvk_reason_t rvk_jws_verify(const rvk_jws_t *jws, const rvk_issuer_t *issuer,
                            const rvk_key_t **used);

#endif
