/*
 * logout.c - a logout token's claims judged (logout.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/logout.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/id.h"

#define BCL_EVENT "http://schemas.openid.net/event/backchannel-logout"

static bool
no(char *desc, size_t desclen, const char *why)
{
	snprintf(desc, desclen, "%s", why);
	return false;
}

bool
rvk_logout_check(const rvk_jws_t *jws, const char *client_id, int64_t leeway,
                 int64_t max_token_lifetime, int64_t now, rvk_logout_t *out,
                 char *desc, size_t desclen)
{
	RVK_REQUIRE(jws != NULL && jws->payload != NULL && out != NULL);
	RVK_REQUIRE(desc != NULL && desclen > 0);
	const json_t *p = jws->payload;
	if (jws->typ) {
		const char *t = jws->typ;
		if (strncasecmp(t, "application/", 12) == 0)
			t += 12;
		/* JWT: Keycloak up to 24, Authentik and older Duende. What tells a
		 * logout token from an ID or access token is its `events` member
		 * and the absence of `nonce`, both checked below. */
		if (strcasecmp(t, "logout+jwt") != 0 && strcasecmp(t, "JWT") != 0)
			return no(desc, desclen, "typ is not logout+jwt or JWT");
	}
	if (!client_id || !rvk_jws_aud_contains(jws, client_id))
		return no(desc, desclen,
		          "aud does not contain the issuer's backchannel_client_id");
	if (!jws->has_iat)
		return no(desc, desclen, "missing iat");
	if (jws->iat > now + leeway)
		return no(desc, desclen, "iat is in the future");
	if (!jws->jti || !*jws->jti)
		return no(desc, desclen, "missing jti");
	int64_t until;
	if (jws->has_exp) {
		until = rvk_time_add(jws->exp, leeway);
		if (now >= until)
			return no(desc, desclen, "logout token expired");
	} else {
		if (jws->iat < now - leeway - max_token_lifetime)
			return no(desc, desclen, "logout token too old (iat)");
		until = jws->iat + max_token_lifetime + 2 * leeway;
	}
	const json_t *events = json_object_get(p, "events");
	if (!json_is_object(events))
		return no(desc, desclen, "missing events");
	if (!json_is_object(json_object_get(events, BCL_EVENT)))
		return no(desc, desclen, "events lacks the back-channel logout event");
	bool has_sid = jws->sid && *jws->sid;
	bool has_sub = jws->sub && *jws->sub;
	if (!has_sid && !has_sub)
		return no(desc, desclen, "neither sid nor sub");
	if (json_object_get(p, "nonce"))
		return no(desc, desclen, "a logout token must not carry a nonce");
	if (!rvk_id_valid_str(has_sid ? jws->sid : jws->sub))
		return no(desc, desclen, has_sid ? "sid longer than 255 bytes"
		                                 : "sub longer than 255 bytes");
	out->session = has_sid;
	out->id = has_sid ? jws->sid : jws->sub;
	out->jti = jws->jti;
	out->at = jws->iat;
	out->remember_until = until;
	desc[0] = '\0';
	return true;
}
