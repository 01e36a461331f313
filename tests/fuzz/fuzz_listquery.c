/*
 * fuzz_listquery.c - the admin list query (api/listquery.c) and its cursors
 * (api/cursor.c, REFERENCE §5.6) from any bytes: "type\niss\nlimit\ncursor\nid".
 * The invariants: whatever parses has a limit in 1..1000, a type filter in
 * range and a cursor position in range; a cursor this process encodes for
 * (type, iss) round-trips through the parser to the same position; the same
 * cursor with any one character changed (not the last: its spare bits) is
 * refused (HMAC), and so is one encoded for another filter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/listquery.h"
#include "base/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 5

static bool
utf8(const char *s)
{
	json_t *j = json_string(s);
	json_decref(j);
	return j != NULL;
}

static void
check_ok(const rvk_listquery_t *q)
{
	RVK_REQUIRE(q->limit >= 1 && q->limit <= RVK_LISTQUERY_LIMIT_MAX);
	RVK_REQUIRE(q->type >= -1 && q->type < RVK_REV_TYPE_COUNT);
	RVK_REQUIRE(q->pos.type >= -1 && q->pos.type < RVK_REV_TYPE_COUNT);
	if (q->pos.type >= 0)
		RVK_REQUIRE(q->pos.iss && q->pos.id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *f[FIELDS] = { 0 };
	char *p = copy;
	for (int i = 0; i < FIELDS && p; i++) {
		f[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	rvk_listquery_t q;
	const char *why = rvk_listquery_parse(f[0], f[1], f[2], f[3], &q);
	if (why == NULL) {
		check_ok(&q);
		rvk_listquery_fini(&q);
	}
	/* Round trip: the same filters with a cursor made here. */
	why = rvk_listquery_parse(f[0], f[1], f[2], NULL, &q);
	if (why == NULL && f[4] && utf8(f[4]) && (!q.iss || utf8(q.iss))) {
		rvk_cursor_t c = {
			.type = (int)(size % RVK_REV_TYPE_COUNT),
			.iss = q.iss ? (char *)q.iss : (char *)"https://a.example",
			.id = f[4], .filter_type = q.type, .filter_iss = (char *)q.iss,
		};
		char *text = rvk_cursor_encode(&c);
		rvk_listquery_t r;
		RVK_REQUIRE(rvk_listquery_parse(f[0], f[1], f[2], text, &r) == NULL);
		check_ok(&r);
		RVK_REQUIRE(r.pos.type == c.type && strcmp(r.pos.iss, c.iss) == 0 &&
		            strcmp(r.pos.id, c.id) == 0 && r.limit == q.limit);
		rvk_listquery_fini(&r);
		size_t len = strlen(text);
		if (len > 1) {
			size_t at = size % (len - 1);
			text[at] = text[at] == 'A' ? 'B' : 'A';
			RVK_REQUIRE(rvk_listquery_parse(f[0], f[1], f[2], text, &r) != NULL);
			text[at] = text[at] == 'A' ? 'B' : 'A';
		}
		/* Another type filter: refused. */
		const char *other = q.type == RVK_REV_KEY ? "session" : "key";
		RVK_REQUIRE(rvk_listquery_parse(other, f[1], f[2], text, &r) != NULL);
		free(text);
		rvk_listquery_fini(&q);
	} else if (why == NULL) {
		rvk_listquery_fini(&q);
	}
	free(copy);
	return 0;
}
