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
 * Two parsers, one verdict. rvk_jws_parse reads header and payload with
 * jansson. rvk_jws_parse_fast (the /auth miss path, access.h) first tries
 * a scanner of the JSON the payload almost always is - an object whose
 * strings are printable ASCII without escapes, integers of at most 18
 * digits, true/false/null, nested arrays and objects of the same - and,
 * on any other byte, hands the payload to jansson exactly as rvk_jws_parse
 * does. The scanner never refuses: it either takes the payload or defers,
 * so its only duty is to take nothing jansson would refuse and to read
 * what jansson would read (fuzz_fastpath checks both on every input). When
 * it took the payload, `payload` stays NULL until rvk_jws_payload() asks
 * for it (jansson then parses it once).
 *
 * Used by /auth (access.h), SETs, logout tokens and Keycloak's push.
 *
 * Threads: a parsed rvk_jws_t belongs to one thread (rvk_jws_payload may
 * fill `payload` on first use). rvk_jws_verify must run
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

#define RVK_JWS_AUD_MAX 8

typedef struct rvk_jws {
	const char *token;          /* borrowed: the caller keeps it alive */
	size_t len;
	size_t header_len;          /* bytes of the header segment */
	size_t signing_input_len;   /* bytes of "header.payload" */
	json_t *header;             /* owned */
	json_t *payload;            /* owned; NULL after the fast scanner took
	                             * the payload: use rvk_jws_payload() */
	char *claims;               /* owned: the payload text the fast
	                             * scanner took (NULL on the jansson path),
	                             * then copies of the strings read */
	size_t claims_len;          /* bytes of that text */
	unsigned char *sig;         /* decoded; owned, or inside claims' */
	size_t sig_len;             /* allocation when sig_in_claims */
	bool sig_in_claims;
	/* Borrowed from header/payload (NULL when absent; alg and iss also
	 * when not a string): */
	const char *alg, *kid, *typ;
	size_t kid_len;
	const char *iss, *sub, *jti, *sid;
	bool has_crit;
	bool has_events, has_nonce; /* the payload has that member */
	/* The fast scanner's aud (borrowed from claims): n_aud strings when
	 * aud is present, aud_array when it was an array. */
	const char *aud[RVK_JWS_AUD_MAX];
	size_t n_aud;
	bool has_aud, aud_array;
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

/*
 * Step 1, as rvk_jws_parse (same reason, same members), the payload read by
 * the fast scanner when it can (see the top of this file).
 * Returns: as rvk_jws_parse; *out->payload may be NULL: read the payload as
 * JSON through rvk_jws_payload only.
 */
rvk_reason_t rvk_jws_parse_fast(const char *token, size_t len,
                                size_t max_bytes, rvk_jws_t *out);

/*
 * The payload as a JSON object: jws->payload, parsed from the token on the
 * first call after rvk_jws_parse_fast took the fast path.
 * Requires: jws parsed (either parser), on the thread that owns it.
 * Returns: borrowed (valid until rvk_jws_fini), or NULL only when memory
 * ran out (the object was valid JSON once already).
 */
json_t *rvk_jws_payload(const rvk_jws_t *jws);
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

/*
 * A top-level claim as text for a header: a string as it is (none if it
 * holds a NUL), an integer in decimal, a real as jansson prints it, a
 * non-empty array of strings joined by single spaces; anything else, or
 * an absent claim: NULL. Read from the fast scanner's text when it took
 * the payload (no JSON object is built), else from the payload object.
 * Returns: owned (free), or NULL.
 */
char *rvk_jws_claim_text(const rvk_jws_t *jws, const char *name);

rvk_reason_t rvk_jws_verify(const rvk_jws_t *jws, const rvk_issuer_t *issuer,
                            const rvk_key_t **used);

#endif
