#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/form.h"
#include "api/handler.h"
#include "api/rules.h"
#include "base/mem.h"

static void
set(rvk_req_t *req, unsigned status, struct MHD_Response *r, bool shared)
{
	if (req->resp && !req->resp_shared)
		MHD_destroy_response(req->resp);
	req->status = status;
	req->resp = r;
	req->resp_shared = shared;
}

void
rvk_reply_text(rvk_req_t *req, unsigned status, const char *ctype,
               const char *text, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	set(req, status, r, false);
}

void
rvk_reply_json(rvk_req_t *req, unsigned status, const char *json)
{
	rvk_reply_text(req, status, "application/json", json, strlen(json));
}

char *
rvk_json_quote(const char *s)
{
	json_t *str = json_string(s);
	if (!str) /* not UTF-8: say so rather than echo bytes */
		return rvk_strdup("\"(invalid UTF-8)\"");
	char *out = json_dumps(str, JSON_ENCODE_ANY);
	json_decref(str);
	return out;
}

void
rvk_reply_error(rvk_req_t *req, unsigned status, const char *error,
                const char *desc)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(error));
	if (desc) {
		json_t *d = json_string(desc);
		json_object_set_new(o, "error_description",
		                    d ? d : json_string("(invalid UTF-8)"));
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rvk_reply_json(req, status, s);
	free(s);
}

void
rvk_reply_failure(rvk_req_t *req, rvk_result_t r)
{
	rvk_rules_answer_t a = rvk_rules_failure(r);
	rvk_reply_error(req, a.status, a.error, a.description);
}

void
rvk_reply_empty(rvk_req_t *req, unsigned status)
{
	set(req, status, MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT),
	    false);
}

void
rvk_reply_shared(rvk_req_t *req, unsigned status, struct MHD_Response *r)
{
	set(req, status, r, true);
}

bool
rvk_req_form_field(rvk_req_t *req, const char *name, rvk_form_t *form,
                   const char **val, size_t *len)
{
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *why = NULL;
	rvk_result_t r = rvk_rules_media_type(ct, "application/x-www-form-urlencoded")
		? rvk_form_parse(req->body, req->body_len, form, &why) : RVK_EINVAL;
	if (r == RVK_ENOMEM) {
		rvk_reply_failure(req, r);
		return false;
	}
	*len = 0;
	*val = r == RVK_OK ? rvk_form_get(form, name, len) : NULL;
	if (!*val || *len == 0) {
		if (r == RVK_OK)
			rvk_form_fini(form);
		rvk_reply_json(req, MHD_HTTP_BAD_REQUEST, "{\"error\":\"invalid_request\"}");
		return false;
	}
	return true;
}
