/*
 * form.c - strict form bodies (form.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/form.h"
#include "base/check.h"
#include "base/hex.h"
#include "base/mem.h"

/* Decodes n bytes at s into a new string. Returns: RVK_OK and *out. */
static rvk_result_t
decode(const char *s, size_t n, char **out, size_t *out_len, const char **why)
{
	char *d = rvk_trymalloc(n + 1);
	if (!d)
		return RVK_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 1 < n ? rvk_hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < n ? rvk_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(d);
				*why = "bad percent-encoding";
				return RVK_EINVAL;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0') {
			free(d);
			*why = "NUL byte in form";
			return RVK_EINVAL;
		}
		d[k++] = c;
	}
	d[k] = '\0';
	*out = d;
	if (out_len)
		*out_len = k;
	return RVK_OK;
}

rvk_result_t
rvk_form_parse(const char *body, size_t len, rvk_form_t *out, const char **why)
{
	RVK_REQUIRE(out != NULL && why != NULL && (body != NULL || len == 0));
	rvk_form_t f;
	f.n = 0;
	rvk_result_t r = RVK_OK;
	size_t pos = 0;
	while (len > 0 && pos <= len) {
		const char *seg = body + pos;
		const char *amp = memchr(seg, '&', len - pos);
		size_t n = amp ? (size_t)(amp - seg) : len - pos;
		const char *eq = memchr(seg, '=', n);
		if (n == 0) {
			*why = "empty form field";
			r = RVK_EINVAL;
			goto cleanup;
		}
		if (!eq || eq == seg) {
			*why = eq ? "form field without a name" : "form field without '='";
			r = RVK_EINVAL;
			goto cleanup;
		}
		if (f.n == RVK_FORM_MAX_FIELDS) {
			*why = "too many form fields";
			r = RVK_EINVAL;
			goto cleanup;
		}
		rvk_form_field_t *fl = &f.fields[f.n];
		size_t nlen = (size_t)(eq - seg);
		if ((r = decode(seg, nlen, &fl->name, NULL, why)) != RVK_OK)
			goto cleanup;
		if ((r = decode(eq + 1, n - nlen - 1, &fl->value, &fl->value_len,
		                why)) != RVK_OK) {
			free(fl->name);
			goto cleanup;
		}
		f.n++;
		for (size_t i = 0; i + 1 < f.n; i++) {
			if (strcmp(f.fields[i].name, fl->name) == 0) {
				*why = "repeated form field";
				r = RVK_EINVAL;
				goto cleanup;
			}
		}
		if (!amp)
			break;
		pos += n + 1;
		if (pos == len) {
			*why = "empty form field";
			r = RVK_EINVAL;
			goto cleanup;
		}
	}
	*out = f;
	return RVK_OK;
cleanup:
	rvk_form_fini(&f);
	out->n = 0;
	return r;
}

void
rvk_form_fini(rvk_form_t *form)
{
	for (size_t i = 0; i < form->n; i++) {
		free(form->fields[i].name);
		if (form->fields[i].value) {
			rvk_memzero(form->fields[i].value, form->fields[i].value_len);
			free(form->fields[i].value);
		}
	}
	form->n = 0;
}

const char *
rvk_form_get(const rvk_form_t *form, const char *name, size_t *len)
{
	for (size_t i = 0; i < form->n; i++) {
		if (strcmp(form->fields[i].name, name) == 0) {
			if (len)
				*len = form->fields[i].value_len;
			return form->fields[i].value;
		}
	}
	return NULL;
}
