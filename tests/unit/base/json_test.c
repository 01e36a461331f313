/*
 * base/json: the depth scan and the allocation budget of rvk_json_load.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "tests/support/tap.h"

/* Returns: a heap string of head, then n copies of unit (the last without
 * sep), then tail. */
static char *
repeat(const char *head, const char *unit, const char *sep, size_t n,
       const char *tail, size_t *len)
{
	size_t cap = strlen(head) + n * (strlen(unit) + strlen(sep)) + strlen(tail) + 1;
	char *s = malloc(cap), *w = s;
	if (s == NULL)
		abort();
	w += sprintf(w, "%s", head);
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "%s%s", unit, i + 1 < n ? sep : "");
	w += sprintf(w, "%s", tail);
	*len = (size_t)(w - s);
	return s;
}

static size_t
depth_of(const char *s)
{
	rvk_json_scan_t sc;
	rvk_json_scan(s, strlen(s), 32, &sc);
	return sc.depth;
}

TAP_TEST(depth_scan)
{
	TAP_CHECK_INT(depth_of("{}"), 1);
	TAP_CHECK_INT(depth_of("{\"a\":[{}]}"), 3);
	/* Brackets inside strings, escaped quotes included, do not count. */
	TAP_CHECK_INT(depth_of("{\"a\":\"[[[\\\"[[[\"}"), 1);
	TAP_CHECK_INT(depth_of(""), 0);
	rvk_json_scan_t sc;
	rvk_json_scan("[[[[", 4, 2, &sc);
	TAP_CHECK_INT(sc.depth, 3);             /* stops past max */
	rvk_json_scan("{\"a\":[1,2],\"b,:\":{}}", 21, 32, &sc);
	TAP_CHECK_INT(sc.containers, 3);
	TAP_CHECK_INT(sc.items, 4);             /* : , , : */
}

TAP_TEST(too_deep_is_refused_before_jansson)
{
	size_t len;
	char *ok = repeat("", "[", "", RVK_JSON_MAX_DEPTH, "", &len);
	char *ok2 = malloc(2 * len + 1);
	if (ok2 == NULL)
		abort();
	memcpy(ok2, ok, len);
	memset(ok2 + len, ']', len);
	json_error_t e;
	json_t *v = rvk_json_load(ok2, 2 * len, 0, &e);
	TAP_CHECK(v != NULL);
	json_decref(v);
	ok2[0] = ' ';
	free(ok);
	free(ok2);
	char *deep = repeat("", "[", "", RVK_JSON_MAX_DEPTH + 1, "", &len);
	TAP_CHECK(rvk_json_load(deep, len, 0, &e) == NULL);
	TAP_CHECK_STR(e.text, "nesting too deep");
	free(deep);
}

/* The attack of docs/SECURITY.md: many empty objects in few bytes. */
TAP_TEST(dense_documents_exceed_the_budget)
{
	const char *units[] = { "{}", "[]", "\"\"", "{\"a\":{}}", "1", "\"a\":1" };
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t len;
		bool pairs = strchr(units[u], ':') && units[u][0] != '{';
		char *s = repeat(pairs ? "{" : "{\"x\":[", units[u], ",", 200000,
		                 pairs ? "}" : "]}", &len);
		json_error_t e;
		json_t *v = rvk_json_load(s, len, 0, &e);
		if (v != NULL)
			TAP_FAIL_AT("unit %s: parsed within the budget", units[u]);
		else
			TAP_CHECK_STR(e.text, "document too large for its size");
		json_decref(v);
		free(s);
	}
}

/* What revokd must accept: a webhook batch of 10,000 short events, and a
 * small JOSE header (the slack covers it). */
TAP_TEST(legitimate_documents_fit)
{
	size_t len;
	char *s = repeat("{\"events\":[",
	                 "{\"type\":\"session.revoked\",\"iss\":\"i\",\"sid\":\"s\"}",
	                 ",", 10000, "]}", &len);
	json_error_t e;
	json_t *v = rvk_json_load(s, len, JSON_REJECT_DUPLICATES, &e);
	TAP_CHECK(v != NULL);
	TAP_CHECK_INT(json_array_size(json_object_get(v, "events")), 10000);
	json_decref(v);
	free(s);
	const char *hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
	v = rvk_json_load(hdr, strlen(hdr), 0, &e);
	TAP_CHECK(v != NULL);
	json_decref(v);
	/* The shortest events there are. */
	s = repeat("{\"events\":[", "{\"type\":\"key.revoked\",\"kid\":\"k\"}",
	           ",", 10000, "]}", &len);
	v = rvk_json_load(s, len, JSON_REJECT_DUPLICATES, &e);
	TAP_CHECK(v != NULL);
	json_decref(v);
	free(s);
}

int
main(void)
{
	return tap_main(TAP_LIST(depth_scan, too_deep_is_refused_before_jansson,
	                         dense_documents_exceed_the_budget,
	                         legitimate_documents_fit));
}
