/*
 * base/json: the depth scan and the allocation budget of rvk_json_load.
 */
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

TAP_TEST(depth_scan)
{
	TAP_CHECK_INT(rvk_json_depth("{}", 2, 32), 1);
	TAP_CHECK_INT(rvk_json_depth("{\"a\":[{}]}", 10, 32), 3);
	/* Brackets inside strings, escaped quotes included, do not count. */
	const char *s = "{\"a\":\"[[[\\\"[[[\"}";
	TAP_CHECK_INT(rvk_json_depth(s, strlen(s), 32), 1);
	TAP_CHECK_INT(rvk_json_depth("", 0, 32), 0);
	TAP_CHECK_INT(rvk_json_depth("[[[[", 4, 2), 3);    /* stops past max */
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
	const char *units[] = { "{}", "[]", "\"\"", "{\"a\":{}}" };
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t len;
		char *s = repeat("{\"x\":[", units[u], ",", 200000, "]}", &len);
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
	/* Outside a load nothing is counted: a large document built by hand. */
	json_t *a = json_array();
	for (int i = 0; i < 100000; i++)
		json_array_append_new(a, json_object());
	TAP_CHECK_INT(json_array_size(a), 100000);
	json_decref(a);
}

int
main(void)
{
	return tap_main(TAP_LIST(depth_scan, too_deep_is_refused_before_jansson,
	                         dense_documents_exceed_the_budget,
	                         legitimate_documents_fit));
}
