/*
 * rules.h - the HTTP request rules every route applies, each written once:
 * credentials in Authorization, the admin token check, Content-Type
 * matching, and what a failure result answers. Pure: no MHD, no I/O, so
 * each rule is unit-tested with its edge cases (tests/unit/api/rules_test.c).
 *
 * The decisions, from the RFCs:
 *
 *   Authorization (RFC 9110 §11.4, RFC 6750 §2.1, RFC 7617 §2):
 *     whitespace (SP, HTAB) around the field value is not part of it
 *     (RFC 9110 §5.5) and is dropped, on every route; the scheme is
 *     case-insensitive; scheme and credentials are separated by one or
 *     more SP (`"Bearer" 1*SP b64token`: a tab there is not a separator).
 *     The credentials are the rest, never empty. The token68 charset is not
 *     checked here: /auth must answer "malformed token" for a token outside
 *     base64url (REFERENCE §3 step 1, stricter than token68), not "no
 *     token", and a token compared with a configured secret cannot match
 *     unless it is that secret.
 *   Admin token: both sides hashed with SHA-256 and the digests compared
 *     with CRYPTO_memcmp, lengths compared without a branch, against every
 *     configured token (a rotation lists two): neither the content nor the
 *     length of a configured token, nor which one matched, shows in the
 *     time.
 *   Content-Type (RFC 9110 §8.3.1): type/subtype case-insensitive, then
 *     parameters `*( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`;
 *     a malformed parameter list does not match; a charset parameter, when
 *     present, must name UTF-8 ("utf-8" or "utf8", case-insensitive) -
 *     every body revokd reads is UTF-8 (JSON, a form, a compact JWS).
 *   Failures: one table from a result code to (status, error, description).
 *
 * Threads: any; nothing here keeps state. rvk_rules_credentials allocates
 * nothing and writes nothing shared (it is on the /auth hot path).
 */
#ifndef RVK_API_RULES_H
#define RVK_API_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/result.h"

/*
 * The credentials of an Authorization field value for scheme (e.g.
 * "Bearer", "Basic").
 * Returns: true with *cred, *len pointing into field (borrowed, not
 * NUL-terminated at *len) when field is `scheme 1*SP credentials` (with
 * the rules above); false otherwise, *cred and *len untouched.
 * Requires: scheme not NULL; field may be NULL (false).
 */
bool rvk_rules_credentials(const char *field, const char *scheme,
                           const char **cred, size_t *len);

/* rvk_rules_credentials(field, "Bearer", ...) (RFC 6750 §2.1). */
bool rvk_rules_bearer(const char *field, const char **tok, size_t *len);

/* Returns: whether a equals b, in time independent of their contents and
 * of b's length (SHA-256 of both, CRYPTO_memcmp). */
bool rvk_rules_secret_equal(const char *a, size_t alen, const char *b, size_t blen);

typedef enum rvk_rules_admin {
	RVK_RULES_ADMIN_OK = 0,
	RVK_RULES_ADMIN_DISABLED,   /* no admin token configured: 403 */
	RVK_RULES_ADMIN_MISSING,    /* no Bearer credentials: 401 */
	RVK_RULES_ADMIN_WRONG,      /* Bearer credentials, not the token: 401 */
} rvk_rules_admin_t;

struct rvk_secret;

/*
 * The admin token check, for every route that takes the admin token.
 * tokens: the n configured tokens (api/app.h; borrowed: the caller holds
 * the RCU read section they are published under); none: disabled.
 * Every token is compared, each in constant time, so the time does not
 * tell which one matched. authorization: the request's Authorization field
 * value, or NULL.
 */
rvk_rules_admin_t rvk_rules_admin(const struct rvk_secret *tokens, size_t n,
                                  const char *authorization);

/*
 * Returns: whether the Content-Type field value ct names the media type
 * `type` ("application/json"), with the rules above. ct may be NULL (false).
 * Requires: type lower-case type/subtype.
 */
bool rvk_rules_media_type(const char *ct, const char *type);

/* What a request answers when the result r stopped it. */
typedef struct rvk_rules_answer {
	unsigned status;
	const char *error;          /* the JSON "error" */
	const char *description;    /* the JSON "error_description" */
} rvk_rules_answer_t;

/* Returns: the answer to a failure r (static strings).
 * Requires: r != RVK_OK. */
rvk_rules_answer_t rvk_rules_failure(rvk_result_t r);

#endif
