/*
 * render.c - revocations as compact JSON (render.h).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/render.h"
#include "base/clock.h"
#include "base/vocab.h"

/* Whether s is UTF-8 as jansson accepts it (load.c utf8_check_*): no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static bool
utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		size_t n;
		uint32_t v;
		if (c < 0x80) {
			s++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			v = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			v = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			v = c & 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			v = (v << 6) | (s[i] & 0x3f);
		}
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)
		    || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
			return false;
		s += n;
	}
	return true;
}

/* Appends s (valid UTF-8) quoted and escaped as jansson's dump_string. */
static void
put_string(rvk_buf_t *b, const char *s)
{
	rvk_buf_append(b, "\"", 1);
	const char *run = s;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rvk_buf_append(b, run, (size_t)(p - run));
		run = p + 1;
		char esc[8];
		const char *e = esc;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default: snprintf(esc, sizeof(esc), "\\u%04X", c); break;
		}
		rvk_buf_puts(b, e);
	}
	rvk_buf_puts(b, run);
	rvk_buf_append(b, "\"", 1);
}

void
rvk_render_string(rvk_buf_t *b, const char *s)
{
	if (s && utf8_ok((const unsigned char *)s))
		put_string(b, s);
	else
		rvk_buf_append(b, "null", 4);
}

/* Members of one object: the comma before every member but the first. */
struct obj {
	rvk_buf_t *b;
	bool any;
};

static void
key(struct obj *o, const char *k)
{
	if (o->any)
		rvk_buf_append(o->b, ",", 1);
	o->any = true;
	rvk_buf_append(o->b, "\"", 1);
	rvk_buf_puts(o->b, k);
	rvk_buf_append(o->b, "\":", 2);
}

/* A string member; null when s is NULL and null_ok, left out when s is
 * not valid UTF-8 (or NULL without null_ok). */
static void
member_string(struct obj *o, const char *k, const char *s, bool null_ok)
{
	if (s ? !utf8_ok((const unsigned char *)s) : !null_ok)
		return;
	key(o, k);
	if (s)
		put_string(o->b, s);
	else
		rvk_buf_append(o->b, "null", 4);
}

static void
member_int(struct obj *o, const char *k, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);
	key(o, k);
	rvk_buf_append(o->b, num, (size_t)n);
}

static void
member_expires(struct obj *o, int64_t expires_at)
{
	if (expires_at == RVK_NEVER) {
		key(o, "expires_at");
		rvk_buf_append(o->b, "null", 4);
	} else {
		member_int(o, "expires_at", expires_at);
	}
}

void
rvk_render_revocation(rvk_buf_t *b, const rvk_revocation_t *r)
{
	struct obj o = { .b = b };
	rvk_buf_append(b, "{", 1);
	member_string(&o, "type", rvk_rev_type_name(r->type), false);
	member_string(&o, "iss", r->iss, false);
	member_string(&o, "id", r->id, false);
	member_int(&o, "revoked_at", r->revoked_at);
	member_expires(&o, r->expires_at);
	member_string(&o, "reason", r->reason, true);
	member_string(&o, "source", rvk_source_name(r->source), false);
	if (r->origin)
		member_string(&o, "origin", r->origin, false);
	key(&o, "sources");
	rvk_buf_append(b, "[", 1);
	rvk_contribution_t self = {
		.source = r->source, .revoked_at = r->revoked_at,
		.expires_at = r->expires_at, .reason = r->reason,
	};
	const rvk_contribution_t *v = r->nsources ? r->sources : &self;
	size_t n = r->nsources ? r->nsources : 1;
	for (size_t i = 0; i < n; i++) {
		struct obj c = { .b = b };
		if (i)
			rvk_buf_append(b, ",", 1);
		rvk_buf_append(b, "{", 1);
		member_string(&c, "source", rvk_source_name(v[i].source), false);
		member_int(&c, "revoked_at", v[i].revoked_at);
		member_expires(&c, v[i].expires_at);
		member_string(&c, "reason", v[i].reason, true);
		rvk_buf_append(b, "}", 1);
	}
	rvk_buf_append(b, "]}", 2);
}
