/*
 * client_auth.h - OAuth client authentication as RFC 6749 §2.3.1 defines
 * it, for /v1/introspect (required) and /v1/revoke (read, not required):
 *
 *   client_secret_basic: HTTP Basic (RFC 7617), whose user and password are
 *     each application/x-www-form-urlencoded (RFC 6749 appendix B) before
 *     they are joined with ':' and base64-encoded. Certified clients
 *     (openid-client, oauth4webapi) encode every character but
 *     A-Z a-z 0-9, so "my-client" arrives as "my%2Dclient" and a space in a
 *     secret as '+'. revokd decodes both; when the decoded pair matches no
 *     client it tries the pair as sent, for clients that skip the encoding
 *     (curl -u, most gateways), so a secret holding a literal "%41" or '+'
 *     works either way.
 *   client_secret_post: client_id and client_secret in the form body
 *     (already form-decoded by api/form.c).
 *
 * Every configured client is compared, each secret over SHA-256 digests
 * with CRYPTO_memcmp: neither a secret's content nor its length shows in
 * the time taken.
 *
 * Threads: pure. Resources: one allocation per call, wiped and freed.
 */
#ifndef RVK_API_CLIENT_AUTH_H
#define RVK_API_CLIENT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* A configured client: id and secret (bytes). */
typedef struct rvk_client_cred {
	const char *id;
	size_t id_len;
	const char *secret;
	size_t secret_len;
} rvk_client_cred_t;

/*
 * Decodes n bytes of application/x-www-form-urlencoded text into out
 * (room for n bytes): '+' is a space, "%XY" one byte.
 * Returns: false on a '%' not followed by two hex digits, or a decoded NUL.
 */
bool rvk_client_form_decode(const char *s, size_t n, char *out, size_t *out_len);

/* Returns: whether (id, secret) is one of the n clients. */
bool rvk_client_pair_ok(const rvk_client_cred_t *clients, size_t n, const char *id,
                        size_t id_len, const char *secret, size_t secret_len);

/*
 * cred, len: the credentials of "Authorization: Basic <cred>".
 * Returns: whether they name one of the n clients with its secret, decoded
 * per RFC 6749 §2.3.1 or, failing that, as sent.
 */
bool rvk_client_basic_ok(const rvk_client_cred_t *clients, size_t n, const char *cred,
                         size_t len);

#endif
