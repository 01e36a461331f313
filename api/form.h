/*
 * form.h - a strict application/x-www-form-urlencoded body parser, for the
 * endpoints that take forms: back-channel logout, RFC 7009, RFC 7662.
 *
 * Strict because the bytes come from the network and a lenient parser is
 * where two readers of one body disagree: pairs are separated by '&' and
 * each is name=value with a non-empty name; '+' is a space; '%' must be
 * followed by two hex digits; a decoded NUL, an empty pair ("a=1&&b=2"), a
 * pair without '=', a repeated name (RFC 6749 §3.2) or more than
 * RVK_FORM_MAX_FIELDS pairs is an error. An empty body is an empty form.
 *
 * Threads: pure; a parsed form belongs to one thread.
 * Resources: one allocation per field name and value, O(body) in total
 * (peer-sized: rvk_trymalloc; failure is RVK_ENOMEM).
 */
#ifndef RVK_API_FORM_H
#define RVK_API_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/result.h"

#define RVK_FORM_MAX_FIELDS 32

typedef struct rvk_form_field {
	char *name;                /* owned, decoded, NUL-terminated */
	char *value;               /* owned, decoded, NUL-terminated */
	size_t value_len;
} rvk_form_field_t;

typedef struct rvk_form {
	rvk_form_field_t fields[RVK_FORM_MAX_FIELDS];
	size_t n;
} rvk_form_t;

/*
 * Parses len bytes at body (need not be NUL-terminated).
 * Returns: RVK_OK with *out filled (release with rvk_form_fini); RVK_EINVAL
 * with a static message in *why; RVK_ENOMEM. *out is left empty on error.
 */
rvk_result_t rvk_form_parse(const char *body, size_t len, rvk_form_t *out,
                            const char **why);
void rvk_form_fini(rvk_form_t *form);

/* Returns: the decoded value of name (borrowed from form), or NULL. */
const char *rvk_form_get(const rvk_form_t *form, const char *name,
                         size_t *len);

#endif
