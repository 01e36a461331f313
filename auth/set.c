/*
 * set.c - a SET's claims judged, its events turned into actions (set.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/set.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/id.h"

#define CAEP_SESSION_REVOKED \
	"https://schemas.openid.net/secevent/caep/event-type/session-revoked"
#define RISC_SESSIONS_REVOKED \
	"https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
#define RISC_ACCOUNT_DISABLED \
	"https://schemas.openid.net/secevent/risc/event-type/account-disabled"

const char *
rvk_set_err_code(rvk_set_err_t e)
{
	switch (e) {
	case RVK_SET_OK: return "ok";
	case RVK_SET_INVALID_REQUEST: return "invalid_request";
	case RVK_SET_INVALID_KEY: return "invalid_key";
	case RVK_SET_INVALID_ISSUER: return "invalid_issuer";
	case RVK_SET_INVALID_AUDIENCE: return "invalid_audience";
	}
	return "invalid_request";
}

static rvk_set_err_t
fail(rvk_set_err_t e, char *desc, size_t desclen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(desc, desclen, fmt, ap);
	va_end(ap);
	return e;
}

/* A usable identifier: a non-empty string without embedded NUL. */
static const char *
str_member(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	if (*s == '\0' || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

static bool
typ_is_secevent(const char *typ)
{
	if (typ == NULL)
		return false;
	if (strncasecmp(typ, "application/", 12) == 0)
		typ += 12;
	return strcasecmp(typ, "secevent+jwt") == 0;
}

enum family { CAEP, RISC };

/* A subject's own iss, when it has one, must be the SET's issuer: one
 * issuer's key never revokes another issuer's tokens. */
static bool
same_issuer(const json_t *subj, const char *iss, const char **why)
{
	const json_t *v = json_object_get(subj, "iss");
	if (!v)
		return true;
	if (!json_is_string(v) || strcmp(json_string_value(v), iss) != 0) {
		*why = "subject iss is not the SET's issuer";
		return false;
	}
	return true;
}

/* Returns: true with *kind and *id for a subject this family can act on. */
static bool
subject_action(const json_t *subj, enum family fam, const char *iss,
               rvk_set_kind_t *kind, const char **id, const char **why)
{
	if (!json_is_object(subj)) {
		*why = "subject is not an object";
		return false;
	}
	const json_t *fv = json_object_get(subj, "format");
	if (fv && !json_is_string(fv)) {
		*why = "subject format is not a string";
		return false;
	}
	const char *format = fv ? json_string_value(fv) : "complex";
	if (strcmp(format, "jwt_id") == 0) {
		if (!json_object_get(subj, "iss")) {
			*why = "jwt_id subject without iss";
			return false;
		}
		if (!same_issuer(subj, iss, why))
			return false;
		*kind = RVK_SET_REVOKE_TOKEN;
		*id = str_member(subj, "jti");
		*why = "jwt_id subject without jti";
		return *id != NULL;
	}
	if (strcmp(format, "iss_sub") == 0) {
		if (!json_object_get(subj, "iss")) {
			*why = "iss_sub subject without iss";
			return false;
		}
		if (!same_issuer(subj, iss, why))
			return false;
		*kind = RVK_SET_REVOKE_SUBJECT;
		*id = str_member(subj, "sub");
		*why = "iss_sub subject without sub";
		return *id != NULL;
	}
	if (strcmp(format, "opaque") == 0) {
		*kind = fam == CAEP ? RVK_SET_REVOKE_SESSION : RVK_SET_REVOKE_SUBJECT;
		*id = str_member(subj, "id");
		*why = "opaque subject without id";
		return *id != NULL;
	}
	if (strcmp(format, "complex") != 0) {
		*why = "unsupported subject format";
		return false;
	}
	const json_t *session = json_object_get(subj, "session");
	const json_t *user = json_object_get(subj, "user");
	if (session && fam == CAEP) {
		const json_t *sf = json_object_get(session, "format");
		if (!json_is_object(session) || !json_is_string(sf) ||
		    strcmp(json_string_value(sf), "opaque") != 0) {
			*why = "complex subject: session is not an opaque identifier";
			return false;
		}
		*kind = RVK_SET_REVOKE_SESSION;
		*id = str_member(session, "id");
		*why = "complex subject: session without id";
		return *id != NULL;
	}
	if (!user || (session && fam != CAEP)) {
		*why = "complex subject without a usable user or session";
		return false;
	}
	const json_t *uf = json_object_get(user, "format");
	if (!json_is_object(user) || !json_is_string(uf)) {
		*why = "complex subject: user is not a subject identifier";
		return false;
	}
	if (strcmp(json_string_value(uf), "iss_sub") == 0) {
		if (!json_object_get(user, "iss")) {
			*why = "iss_sub subject without iss";
			return false;
		}
		if (!same_issuer(user, iss, why))
			return false;
		*id = str_member(user, "sub");
	} else if (strcmp(json_string_value(uf), "opaque") == 0) {
		*id = str_member(user, "id");
	} else {
		*why = "complex subject: unsupported user format";
		return false;
	}
	*kind = RVK_SET_REVOKE_SUBJECT;
	*why = "complex subject: user without identifier";
	return *id != NULL;
}

rvk_set_err_t
rvk_set_check(const rvk_jws_t *jws, const char *audience, int64_t leeway,
              int64_t now, rvk_set_t *out, char *desc, size_t desclen)
{
	RVK_REQUIRE(jws != NULL && jws->payload != NULL && out != NULL);
	RVK_REQUIRE(desc != NULL && desclen > 0);
	const json_t *p = jws->payload;
	if (!typ_is_secevent(jws->typ))
		return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
		            "typ must be secevent+jwt");
	if (!jws->iss || !*jws->iss)
		return fail(RVK_SET_INVALID_ISSUER, desc, desclen, "missing iss");
	if (!audience || !rvk_jws_aud_contains(jws, audience))
		return fail(RVK_SET_INVALID_AUDIENCE, desc, desclen,
		            "aud does not contain this receiver's set_audience");
	if (!jws->has_iat)
		return fail(RVK_SET_INVALID_REQUEST, desc, desclen, "missing iat");
	if (!jws->jti || !*jws->jti)
		return fail(RVK_SET_INVALID_REQUEST, desc, desclen, "missing jti");
	if (jws->iat > rvk_time_add(now, leeway))
		return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
		            "iat is in the future");
	if (jws->has_exp && now >= rvk_time_add(jws->exp, leeway))
		return fail(RVK_SET_INVALID_REQUEST, desc, desclen, "SET expired");
	const json_t *events = json_object_get(p, "events");
	if (!json_is_object(events) || json_object_size(events) == 0)
		return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
		            "missing or empty events");
	const json_t *sub_id = json_object_get(p, "sub_id");

	rvk_set_t r = { .n = 0, .n_ignored = 0, .jti = jws->jti, .iat = jws->iat };
	const char *uri;
	const json_t *ev;
	json_object_foreach((json_t *)events, uri, ev) {
		if (!json_is_object(ev))
			return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
			            "an event is not an object");
		enum family fam;
		if (strcmp(uri, CAEP_SESSION_REVOKED) == 0)
			fam = CAEP;
		else if (strcmp(uri, RISC_SESSIONS_REVOKED) == 0 ||
		         strcmp(uri, RISC_ACCOUNT_DISABLED) == 0)
			fam = RISC;
		else {
			r.n_ignored++;
			continue;
		}
		const json_t *subj = json_object_get(ev, "subject");
		if (!subj)
			subj = sub_id;
		if (!subj)
			return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
			            "bad subject: no sub_id and no event subject");
		rvk_set_action_t a;
		const char *why = NULL;
		if (!subject_action(subj, fam, jws->iss, &a.kind, &a.id, &why))
			return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
			            "bad subject: %s", why);
		if (!rvk_id_valid_str(a.id))
			return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
			            "bad subject: identifier longer than %d bytes",
			            RVK_ID_MAX);
		a.at = jws->iat;
		const json_t *ts = json_object_get(ev, "event_timestamp");
		if (ts) {
			if (!json_is_integer(ts) || json_integer_value(ts) < 0)
				return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
				            "event_timestamp is not a number of seconds");
			a.at = json_integer_value(ts);
			/* Above 10^11 (the year 5138 in seconds) it is milliseconds:
			 * early SSF drafts and some transmitters send those. */
			if (a.at > 100000000000LL)
				a.at /= 1000;
			if (a.at > now + leeway)
				return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
				            "event_timestamp is in the future");
		}
		if (r.n == RVK_SET_MAX_ACTIONS)
			return fail(RVK_SET_INVALID_REQUEST, desc, desclen,
			            "too many events");
		r.actions[r.n++] = a;
	}
	*out = r;
	desc[0] = '\0';
	return RVK_SET_OK;
}
