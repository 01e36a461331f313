/*
 * fuzz_json.c - base/json.h against jansson itself, from any bytes. The
 * invariants: rvk_json_load accepts only what json_loadb accepts, and then
 * the same document; whatever it accepts is nested at most
 * RVK_JSON_MAX_DEPTH deep; what it refuses that jansson accepts is refused
 * for one of its two bounds (depth, memory), never for another reason.
 */
#include <stdint.h>
#include <string.h>

#include "base/check.h"
#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
depth_of(const json_t *v)
{
	size_t d = 0, i;
	const char *k;
	json_t *e;
	if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, e) {
			size_t x = depth_of(e);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) {
			size_t x = depth_of(e);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	json_error_t e1, e2;
	json_t *ours = rvk_json_load(buf, size, JSON_REJECT_DUPLICATES, &e1);
	json_t *theirs = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &e2);
	if (ours) {
		RVK_REQUIRE(theirs != NULL && json_equal(ours, theirs));
		RVK_REQUIRE(depth_of(ours) <= RVK_JSON_MAX_DEPTH);
	} else if (theirs) {
		RVK_REQUIRE(strcmp(e1.text, "nesting too deep") == 0
		            || strcmp(e1.text, "document too large for its size") == 0);
		if (strcmp(e1.text, "nesting too deep") == 0)
			RVK_REQUIRE(depth_of(theirs) > RVK_JSON_MAX_DEPTH);
	}
	json_decref(ours);
	json_decref(theirs);
	return 0;
}
