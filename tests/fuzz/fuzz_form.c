/*
 * fuzz_form.c - form bodies (api/form.c) from any bytes. The invariants: an
 * accepted form has at most RVK_FORM_MAX_FIELDS fields with non-empty,
 * unique, NUL-free names and NUL-free values of the stated length, and
 * rvk_form_get finds each of them.
 */
#include <stdint.h>
#include <string.h>

#include "api/form.h"
#include "base/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rvk_form_t f;
	const char *why = NULL;
	rvk_result_t r = rvk_form_parse((const char *)data, size, &f, &why);
	if (r != RVK_OK) {
		RVK_REQUIRE(r == RVK_EINVAL || r == RVK_ENOMEM);
		RVK_REQUIRE(r == RVK_ENOMEM || why != NULL);
		return 0;
	}
	RVK_REQUIRE(f.n <= RVK_FORM_MAX_FIELDS && (size > 0 || f.n == 0));
	for (size_t i = 0; i < f.n; i++) {
		RVK_REQUIRE(f.fields[i].name[0] != '\0');
		RVK_REQUIRE(strlen(f.fields[i].value) == f.fields[i].value_len);
		size_t len = 0;
		RVK_REQUIRE(rvk_form_get(&f, f.fields[i].name, &len) == f.fields[i].value);
		for (size_t k = 0; k < i; k++)
			RVK_REQUIRE(strcmp(f.fields[k].name, f.fields[i].name) != 0);
	}
	rvk_form_fini(&f);
	return 0;
}
