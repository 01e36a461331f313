/*
 * Event JSON -> revocations with REFERENCE §4 defaults; see events.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/events.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/json.h"
#include "base/mem.h"

/* Writes "events[i].field: why" into err. Returns: RVK_EINVAL. */
static rvk_result_t
bad(char *err, size_t errlen, size_t i, const char *field, const char *why)
{
	snprintf(err, errlen, "events[%zu]%s%s: %s", i, field ? "." : "",
	         field ? field : "", why);
	return RVK_EINVAL;
}

/* Reads an optional integer member. Returns: 0 absent, 1 present, -1 mistyped. */
static int
opt_int(const json_t *ev, const char *field, int64_t *out)
{
	const json_t *v = json_object_get(ev, field);
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 1;
}

static rvk_result_t
event_to_revocation(const json_t *ev, size_t i, const rvk_events_opts_t *o,
                    rvk_revocation_t *out, char *err, size_t errlen)
{
	if (!json_is_object(ev))
		return bad(err, errlen, i, NULL, "not an object");
	const json_t *t = json_object_get(ev, "type");
	if (!t)
		return bad(err, errlen, i, "type", "missing");
	if (!json_is_string(t))
		return bad(err, errlen, i, "type", "not a string");
	rvk_rev_type_t type;
	if (!rvk_rev_type_parse_event(json_string_value(t), &type))
		return bad(err, errlen, i, "type", "unknown event type");
	const char *id_field = rvk_rev_type_id_field(type);

	const char *iss;
	const json_t *iv = json_object_get(ev, "iss");
	if (!iv) {
		if (o->issuers->n != 1)
			return bad(err, errlen, i, "iss",
			           "missing (required when more than one issuer is configured)");
		iss = o->issuers->v[0]->iss;
	} else if (!json_is_string(iv)) {
		return bad(err, errlen, i, "iss", "not a string");
	} else {
		iss = json_string_value(iv);
		if (!rvk_issuers_find(o->issuers, iss, json_string_length(iv)))
			return bad(err, errlen, i, "iss", "not a configured issuer");
	}

	const char *id = "";
	if (id_field) {
		const json_t *v = json_object_get(ev, id_field);
		if (!v)
			return bad(err, errlen, i, id_field, "missing");
		if (!json_is_string(v))
			return bad(err, errlen, i, id_field, "not a string");
		if (json_string_length(v) == 0)
			return bad(err, errlen, i, id_field, "empty");
		if (!rvk_id_valid(json_string_value(v), json_string_length(v)))
			return bad(err, errlen, i, id_field,
			           "longer than 255 bytes");
		id = json_string_value(v);
	}

	/* A key revocation has no `at` (REFERENCE §5.1): one given there is ignored
	 * like any unknown member, whatever its type. */
	int64_t at = o->default_at;
	int r = type == RVK_REV_KEY ? 0 : opt_int(ev, "at", &at);
	if (r < 0)
		return bad(err, errlen, i, "at", "not an integer (Unix seconds)");
	if (at < 0)
		return bad(err, errlen, i, "at", "negative");
	if (at > o->now + o->leeway)
		return bad(err, errlen, i, "at", "in the future");

	int64_t expires = at + o->max_token_lifetime;
	if (type == RVK_REV_KEY) {
		expires = RVK_NEVER;
	} else if (type == RVK_REV_TOKEN) {
		int64_t exp = 0;
		r = opt_int(ev, "exp", &exp);
		if (r < 0)
			return bad(err, errlen, i, "exp", "not an integer (Unix seconds)");
		if (r > 0 && exp < 0)
			return bad(err, errlen, i, "exp", "negative");
		if (r > 0) {
			int64_t cap = o->now + o->leeway + o->max_token_lifetime;
			expires = exp < cap ? exp : cap;
		}
	}

	const char *reason = NULL;
	const json_t *rv = json_object_get(ev, "reason");
	if (rv && !json_is_null(rv)) {
		if (!json_is_string(rv))
			return bad(err, errlen, i, "reason", "not a string");
		if (json_string_length(rv) > RVK_EVENTS_MAX_REASON)
			return bad(err, errlen, i, "reason", "too long");
		reason = json_string_value(rv);
	}

	*out = (rvk_revocation_t){
		.type = type,
		.iss = rvk_strdup(iss),
		.id = rvk_strdup(id),
		.revoked_at = at,
		.expires_at = expires,
		.reason = reason ? rvk_strdup(reason) : NULL,
		.source = o->source,
	};
	return RVK_OK;
}

bool
rvk_events_rfc3339(const char *s, int64_t *out)
{
	/* date-time = full-date "T" full-time (RFC 3339 §5.6); "t", "z" and a
	 * space for "T" are allowed by its §5.6 note. Leap seconds (":60")
	 * are refused. */
	int Y, M, D, h, m, sec, n = 0;
	char t;
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &Y, &M, &D, &t, &h, &m, &sec, &n) != 7
	    || n != 19 || (t != 'T' && t != 't' && t != ' '))
		return false;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 59
	    || Y < 1970 || h < 0 || m < 0 || sec < 0)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59
		    || oh < 0 || om < 0)
			return false;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
	                 .tm_hour = h, .tm_min = m, .tm_sec = sec };
	time_t t0 = timegm(&tm);
	if (t0 == (time_t)-1 || tm.tm_mday != D)   /* normalised: no Feb 30 */
		return false;
	*out = (int64_t)t0 - off;
	return true;
}

/* The Standard Webhooks envelope {"type", "timestamp", "data": {...}}: a
 * new object of data's members with the envelope's type; the envelope's
 * timestamp becomes *default_at. Returns: NULL when root is no envelope;
 * root itself (a new reference) otherwise unchanged. */
static json_t *
unwrap(const json_t *root, int64_t *default_at, char *err, size_t errlen, bool *bad_env)
{
	const json_t *data = json_object_get(root, "data");
	*bad_env = false;
	if (data == NULL || json_object_get(root, "events") != NULL)
		return NULL;
	if (!json_is_object(data)) {
		snprintf(err, errlen, "data: not an object");
		*bad_env = true;
		return NULL;
	}
	const json_t *type = json_object_get(root, "type");
	if (!json_is_string(type)) {
		snprintf(err, errlen, "type: %s", type ? "not a string" : "missing");
		*bad_env = true;
		return NULL;
	}
	const json_t *ts = json_object_get(root, "timestamp");
	if (ts != NULL) {
		int64_t t;
		if (!json_is_string(ts) || !rvk_events_rfc3339(json_string_value(ts), &t)) {
			snprintf(err, errlen, "timestamp: not an RFC 3339 date-time");
			*bad_env = true;
			return NULL;
		}
		*default_at = t;
	}
	json_t *ev = json_deep_copy(data);
	RVK_REQUIRE(ev != NULL);
	json_object_set(ev, "type", (json_t *)type);
	return ev;
}

rvk_result_t
rvk_events_from_json(const json_t *root, const rvk_events_opts_t *opts,
                     rvk_revocation_t **revs, size_t *n, char *err,
                     size_t errlen)
{
	RVK_REQUIRE(opts && opts->issuers);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the body must be a JSON object");
		return RVK_EINVAL;
	}
	bool bad_env;
	rvk_events_opts_t env_opts = *opts;
	json_t *env = unwrap(root, &env_opts.default_at, err, errlen, &bad_env);
	if (bad_env)
		return RVK_EINVAL;
	if (env != NULL) {
		rvk_result_t r = rvk_events_from_json(env, &env_opts, revs, n, err, errlen);
		json_decref(env);
		return r;
	}
	const json_t *list = json_object_get(root, "events");
	size_t count = 1;
	if (list) {
		if (!json_is_array(list)) {
			snprintf(err, errlen, "events: not an array");
			return RVK_EINVAL;
		}
		count = json_array_size(list);
		if (count == 0) {
			snprintf(err, errlen, "events: empty");
			return RVK_EINVAL;
		}
		if (count > RVK_EVENTS_MAX) {
			snprintf(err, errlen, "events: more than %d events in one request",
			         RVK_EVENTS_MAX);
			return RVK_EBUSY;
		}
	}
	rvk_revocation_t *out = rvk_calloc(count, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		const json_t *ev = list ? json_array_get(list, i) : root;
		rvk_result_t r = event_to_revocation(ev, i, opts, &out[i], err, errlen);
		if (r != RVK_OK) {
			rvk_events_free(out, i);
			return r;
		}
	}
	*revs = out;
	*n = count;
	return RVK_OK;
}

rvk_result_t
rvk_events_parse(const char *body, size_t len, const rvk_events_opts_t *opts,
                 rvk_revocation_t **revs, size_t *n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = rvk_json_load(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line < 0)        /* a bound of base/json.h: no position */
			snprintf(err, errlen, "invalid JSON: %s", je.text);
		else
			snprintf(err, errlen, "invalid JSON: %s (line %d, column %d)",
			         je.text, je.line, je.column);
		return RVK_EINVAL;
	}
	rvk_result_t r = rvk_events_from_json(root, opts, revs, n, err, errlen);
	json_decref(root);
	return r;
}

void
rvk_events_free(rvk_revocation_t *revs, size_t n)
{
	if (!revs)
		return;
	for (size_t i = 0; i < n; i++)
		rvk_revocation_fini(&revs[i]);
	free(revs);
}
