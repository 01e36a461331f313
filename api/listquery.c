/*
 * The admin list query: see listquery.h.
 */
#include <string.h>

#include "api/listquery.h"

/* Returns: true and *out for 1..RVK_LISTQUERY_LIMIT_MAX in plain decimal
 * digits. */
static bool
parse_limit(const char *s, size_t *out)
{
	size_t v = 0;
	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 7)
			return false;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (v < 1 || v > RVK_LISTQUERY_LIMIT_MAX)
		return false;
	*out = v;
	return true;
}

static bool
same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *
given(const char *s)
{
	return s && *s ? s : NULL;
}

const char *
rvk_listquery_parse(const char *type_s, const char *iss, const char *limit_s,
                    const char *cursor_s, rvk_listquery_t *q)
{
	type_s = given(type_s);
	iss = given(iss);
	limit_s = given(limit_s);
	cursor_s = given(cursor_s);
	memset(q, 0, sizeof(*q));
	q->type = -1;
	q->iss = iss;
	q->limit = RVK_LISTQUERY_LIMIT_DEFAULT;
	q->pos.type = -1;
	if (type_s) {
		rvk_rev_type_t t;
		if (!rvk_rev_type_parse(type_s, &t))
			return "type: must be token, session, subject, issuer or key";
		q->type = (int)t;
	}
	if (limit_s && !parse_limit(limit_s, &q->limit))
		return "limit: must be a number from 1 to 1000";
	if (!cursor_s)
		return NULL;
	rvk_cursor_t cur;
	if (!rvk_cursor_decode(cursor_s, &cur))
		return "cursor: not a cursor this server issued "
		       "(cursors do not survive a restart)";
	/* The HMAC vouches for these values; the range check keeps a future
	 * format change from reaching the store's REQUIREs. */
	if (cur.filter_type != q->type || !same_str(cur.filter_iss, iss) ||
	    cur.type < 0 || cur.type >= RVK_REV_TYPE_COUNT) {
		rvk_cursor_fini(&cur);
		return "cursor: issued for another type or iss filter";
	}
	q->cursor = cur;
	q->pos = (rvk_store_pos_t){ .type = cur.type, .iss = q->cursor.iss,
	                            .id = q->cursor.id };
	return NULL;
}

void
rvk_listquery_fini(rvk_listquery_t *q)
{
	rvk_cursor_fini(&q->cursor);
	q->pos = (rvk_store_pos_t){ .type = -1 };
}
