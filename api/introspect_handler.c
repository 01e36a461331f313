/*
 * POST /v1/introspect: RFC 7662 token introspection (REFERENCE §5.7), for
 * callers that ask "is this token active?" rather than making an auth
 * subrequest (Ory Oathkeeper, Kong, APISIX, resource servers).
 *
 * The caller authenticates with HTTP Basic as one of introspection.clients
 * (id and secret compared as sent, the secret in constant time) or with the
 * admin token as Bearer; else 401 with WWW-Authenticate. A token is active
 * exactly when /auth would allow it: steps 1-5 (rvk_access_verify) and step
 * 6 (rvk_revtable_check). The verified cache is not consulted: this path is
 * not the hot one, and a fresh verification is the simplest correct answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/form.h"
#include "api/decide.h"
#include "api/handler.h"
#include "api/rules.h"
#include "base/b64.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/rcu.h"

static bool
basic_ok(const rvk_app_t *app, const char *cred, size_t n)
{
	unsigned char *dec = rvk_trymalloc(rvk_b64_decoded_max(n) + 1);
	size_t dlen = 0;
	bool ok = false;
	if (!dec || !rvk_b64_decode(cred, n, dec, &dlen))
		goto out;
	unsigned char *colon = memchr(dec, ':', dlen);
	if (!colon)
		goto out;
	size_t idlen = (size_t)(colon - dec);
	const char *secret = (const char *)colon + 1;
	size_t slen = dlen - idlen - 1;
	for (size_t i = 0; i < app->n_introspection_clients; i++) {
		const rvk_app_client_t *c = &app->introspection_clients[i];
		if (strlen(c->id) == idlen && memcmp(c->id, dec, idlen) == 0 &&
		    rvk_rules_secret_equal(c->secret, c->secret_len, secret, slen))
			ok = true;
	}
out:
	if (dec) {
		rvk_memzero(dec, dlen);
		free(dec);
	}
	return ok;
}

static bool
caller_ok(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cred;
	size_t n;
	if (rvk_rules_credentials(h, "Basic", &cred, &n))
		return basic_ok(app, cred, n);
	rvk_rcu_read_lock();
	const rvk_app_secrets_t *sec = rvk_rcu_dereference(app->secrets);
	bool ok = rvk_rules_admin(sec ? sec->admin : NULL, sec ? sec->n_admin : 0, h) ==
	          RVK_RULES_ADMIN_OK;
	rvk_rcu_read_unlock();
	return ok;
}

static void
copy_claim(json_t *out, const json_t *payload, const char *name, const char *as)
{
	json_t *v = json_object_get(payload, name);
	if (v)
		json_object_set(out, as, v);
}

void
rvk_handle_introspect(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	if (!caller_ok(req)) {
		rvk_reply_error(req, MHD_HTTP_UNAUTHORIZED, "invalid_client",
		                "introspection needs client credentials");
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"revokd\"");
		return;
	}
	rvk_form_t form;
	const char *tok;
	size_t len;
	if (!rvk_req_form_field(req, "token", &form, &tok, &len))
		return;
	int64_t now = rvk_clock_now();
	json_t *out = json_object();
	rvk_access_t acc;
	bool verified;
	rvk_reason_t r = rvk_decide(app->issuers, &app->policy, app->revtable, tok, len,
	                            now, &acc, &verified);
	if (verified) {
		json_t *payload = rvk_jws_payload(&acc.jws);
		if (r == RVK_REASON_OK) {
			json_object_set_new(out, "active", json_true());
			static const char *const claims[] = { "iss", "sub", "jti", "exp",
			                                      "iat", "aud", "scope" };
			for (size_t i = 0; i < sizeof(claims) / sizeof(*claims); i++)
				copy_claim(out, payload, claims[i], claims[i]);
			if (json_object_get(payload, "client_id"))
				copy_claim(out, payload, "client_id", "client_id");
			else
				copy_claim(out, payload, "azp", "client_id");
		}
		rvk_access_fini(&acc);
	}
	rvk_form_fini(&form);
	if (r != RVK_REASON_OK)
		json_object_set_new(out, "active", json_false());
	char *s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	rvk_reply_json(req, MHD_HTTP_OK, s);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	free(s);
}
