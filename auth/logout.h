/*
 * logout.h - the claims of an OpenID Connect Back-Channel Logout 1.0 logout
 * token (REFERENCE §5.3), judged after the caller parsed the token (jws.h step 1),
 * found its issuer and verified its signature (jws.h steps 3-4).
 *
 * Rules, in this order (the first that fails is the message):
 *   typ, if present, is "logout+jwt" or "JWT" (case-insensitive, "application/"
 *   prefix allowed); aud (string or array) contains the issuer's
 *   backchannel_client_id; iat present and not more than leeway in the
 *   future; jti present; exp, if present, not passed (with leeway); without
 *   exp, iat not older than max_token_lifetime (so the replay memory, which
 *   keeps a jti until rvk_logout_t.remember_until, can never have forgotten a
 *   token that is still accepted); events an object whose member
 *   "http://schemas.openid.net/event/backchannel-logout" is an object (other
 *   members of either are tolerated); sid or sub present; no nonce.
 * A sid revokes that session; a sub alone the subject; as of iat.
 *
 * Replay is the caller's (it needs memory across requests): remember
 * (iss, jti) until remember_until and refuse a second use.
 *
 * Threads: pure, no I/O, no clock (now is a parameter).
 * Security: every claim is untrusted; id and jti borrow from the JWS.
 */
#ifndef RVK_AUTH_LOGOUT_H
#define RVK_AUTH_LOGOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jws.h"

typedef struct rvk_logout {
	bool session;               /* true: id is a sid; false: id is a sub */
	const char *id;             /* borrowed from the JWS */
	const char *jti;            /* borrowed from the JWS */
	int64_t at;                 /* revoked_at: the token's iat */
	int64_t remember_until;     /* keep the jti this long against replay */
} rvk_logout_t;

/*
 * Requires: jws parsed by rvk_jws_parse. client_id is the issuer's
 * backchannel_client_id; NULL (none configured) refuses every token.
 * Returns: true with *out; false with the reason in desc.
 */
bool rvk_logout_check(const rvk_jws_t *jws, const char *client_id,
                      int64_t leeway, int64_t max_token_lifetime, int64_t now,
                      rvk_logout_t *out, char *desc, size_t desclen);

#endif
