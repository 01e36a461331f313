/*
 * json.c - the scan and the price of a document before jansson (json.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"

void
rvk_json_scan(const char *buf, size_t len, size_t max_depth,
              rvk_json_scan_t *out)
{
	rvk_json_scan_t s = { 0, 0, 0 };
	size_t depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;            /* the escaped byte is never a quote */
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			break;
		case '[':
		case '{':
			s.containers++;
			if (++depth > s.depth) {
				s.depth = depth;
				if (depth > max_depth) {
					*out = s;
					return;
				}
			}
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		case ',':
		case ':':
			s.items++;
			break;
		default:
			break;
		}
	}
	*out = s;
}

/* a * b + c, saturating at SIZE_MAX. */
static size_t
mul_add(size_t a, size_t b, size_t c)
{
	size_t r;
	if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
		return SIZE_MAX;
	return r;
}

/* Returns: the price of a scanned document of len bytes (saturating). */
static size_t
json_cost(const rvk_json_scan_t *s, size_t len)
{
	size_t cost = mul_add(len, RVK_JSON_COST_BYTE, 0);
	cost = mul_add(s->containers, RVK_JSON_COST_CONTAINER, cost);
	/* The first value of a document has no , or : before it. */
	return mul_add(s->items + 1, RVK_JSON_COST_ITEM, cost);
}

bool
rvk_json_affordable(const rvk_json_scan_t *s, size_t len)
{
	return json_cost(s, len) <= mul_add(len, RVK_JSON_MEM_FACTOR,
	                                        RVK_JSON_MEM_SLACK);
}

static void
set_error(json_error_t *err, const char *text)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->line = -1;
	err->column = -1;
	snprintf(err->text, sizeof(err->text), "%s", text);
}

json_t *
rvk_json_load(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	rvk_json_scan_t s;
	rvk_json_scan(buf, len, RVK_JSON_MAX_DEPTH, &s);
	if (s.depth > RVK_JSON_MAX_DEPTH) {
		set_error(err, "nesting too deep");
		return NULL;
	}
	if (!rvk_json_affordable(&s, len)) {
		set_error(err, "document too large for its size");
		return NULL;
	}
	return json_loadb(buf, len, flags, err);
}
