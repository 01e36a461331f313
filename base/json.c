/*
 * json.c - depth scan and allocation budget around jansson (json.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* This thread's budget while inside rvk_json_load. */
static __thread bool counting;
static __thread size_t left;
static __thread bool exhausted;

/* What malloc spends on a request of n bytes (glibc: an 8-byte header,
 * 16-byte alignment, 32 bytes at least), so that the budget is memory, not
 * the sum of the sizes asked for (jansson makes many small allocations). */
static size_t
chunk_size(size_t n)
{
	size_t c = n > SIZE_MAX - 32 ? SIZE_MAX : (n + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

static void *
json_alloc(size_t n)
{
	if (counting) {
		size_t c = chunk_size(n);
		if (c > left) {
			exhausted = true;
			return NULL;
		}
		left -= c;
	}
	return malloc(n);
}

static void
json_release(void *p)
{
	free(p);
}

/* Before main, so before any thread or any jansson value exists: from then
 * on every jansson allocation in the process goes through json_alloc
 * (libjwt's too; outside a load it is plain malloc). */
__attribute__((constructor)) static void
install(void)
{
	json_set_alloc_funcs(json_alloc, json_release);
}

size_t
rvk_json_depth(const char *buf, size_t len, size_t max)
{
	size_t depth = 0, deepest = 0;
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
			if (++depth > deepest) {
				deepest = depth;
				if (deepest > max)
					return deepest;
			}
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return deepest;
}

static void
set_error(json_error_t *err, const char *text)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->line = -1;
	err->column = -1;
	err->position = 0;
	snprintf(err->text, sizeof(err->text), "%s", text);
}

json_t *
rvk_json_load(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	if (rvk_json_depth(buf, len, RVK_JSON_MAX_DEPTH) > RVK_JSON_MAX_DEPTH) {
		set_error(err, "nesting too deep");
		return NULL;
	}
	size_t budget = len > (SIZE_MAX - RVK_JSON_MEM_SLACK) / RVK_JSON_MEM_FACTOR
		? SIZE_MAX : len * RVK_JSON_MEM_FACTOR + RVK_JSON_MEM_SLACK;
	counting = true;
	left = budget;
	exhausted = false;
	json_t *v = json_loadb(buf, len, flags, err);
	counting = false;
	if (!v && exhausted)
		set_error(err, "document too large for its size");
	return v;
}
