/*
 * /admin and /admin/... on the admin listener: the embedded incident
 * console (api/console.h). Its route row comes after the admin API's, so
 * the API's paths never reach it; what does and names no file is the same
 * 404, whatever the method, as any unknown path; a file is GET or HEAD
 * only (405).
 */
#include <string.h>

#include "api/console.h"
#include "api/handler.h"
#include "base/check.h"

#define PREFIX "/admin/"

const rvk_console_asset_t *
rvk_console_find(const char *name)
{
	RVK_REQUIRE(name);
	if (*name == '\0')
		name = "index.html";
	/* Basenames only: the table holds no path, so this refuses nothing
	 * the lookup below would find; it says why ".." cannot name a file. */
	if (strchr(name, '/') || strstr(name, ".."))
		return NULL;
	for (const rvk_console_asset_t *a = rvk_console_assets; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* The headers of every console answer, 200, 304 and redirect alike. */
static void
secure(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", RVK_CONSOLE_CSP);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

/* Whether an If-None-Match value lists etag (or is "*"). */
static bool
etag_listed(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '*' || (strncmp(p, etag, n) == 0 &&
		                  (p[n] == '\0' || p[n] == ',' || p[n] == ' ')))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

void
rvk_handle_console(rvk_req_t *req)
{
	bool root = strcmp(req->url, "/admin") == 0;
	const rvk_console_asset_t *a = !root && strncmp(req->url, PREFIX, strlen(PREFIX)) == 0
		? rvk_console_find(req->url + strlen(PREFIX)) : NULL;
	if (!root && !a) {
		rvk_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		rvk_reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request",
		                "method not allowed");
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return;
	}
	if (root) {
		rvk_reply_empty(req, MHD_HTTP_PERMANENT_REDIRECT);
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_LOCATION, PREFIX);
		secure(req->resp);
		return;
	}
	const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                              MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && etag_listed(inm, a->etag)) {
		rvk_reply_empty(req, MHD_HTTP_NOT_MODIFIED);
	} else {
		rvk_reply_text(req, MHD_HTTP_OK, a->content_type, (const char *)a->data,
		               a->len);
	}
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_ETAG, a->etag);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	secure(req->resp);
}
