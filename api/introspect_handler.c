/*
 * POST /v1/introspect: RFC 7662 token introspection (REFERENCE §5.7), for
 * callers that ask "is this token active?" rather than making an auth
 * subrequest (Ory Oathkeeper, Kong, APISIX, resource servers).
 *
 * The caller authenticates as one of introspection.clients the two ways of
 * RFC 6749 §2.3.1 (api/client_auth.h: HTTP Basic with form-urlencoded user
 * and password, decoded, else taken as sent; or client_id and
 * client_secret in the form body), or with the admin token as Bearer; else
 * 401 invalid_client with WWW-Authenticate: Basic. A token is active
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
#include "api/client_auth.h"
#include "api/rules.h"
#include "base/b64.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/rcu.h"

/* The configured clients as api/client_auth.h takes them (borrowed from
 * sec: used inside the caller's RCU read section). */
static rvk_client_cred_t *
creds_of(const rvk_app_secrets_t *sec)
{
	size_t n = sec->n_clients;
	rvk_client_cred_t *c = rvk_trymalloc((n ? n : 1) * sizeof(*c));
	for (size_t i = 0; c && i < n; i++) {
		const rvk_app_client_t *a = &sec->clients[i];
		c[i] = (rvk_client_cred_t){ a->id, strlen(a->id), a->secret, a->secret_len };
	}
	return c;
}

/* client_secret_basic (RFC 6749 §2.3.1, api/client_auth.h). */
static bool
basic_ok(const rvk_app_secrets_t *sec, const char *cred, size_t n)
{
	rvk_client_cred_t *c = creds_of(sec);
	bool ok = c && rvk_client_basic_ok(c, sec->n_clients, cred, n);
	free(c);
	return ok;
}

/* Who the caller says it is: HTTP Basic credentials, or the form's
 * client_id and client_secret (borrowed from the request). */
typedef struct {
	const char *cred;             /* Basic: the credentials; else NULL */
	size_t n;
	const char *id, *secret;      /* client_secret_post: from the form */
	size_t il, sl;
} caller_t;

/* Whether who is one of sec's clients (inside the caller's read
 * section). */
static bool
clients_ok(const rvk_app_secrets_t *sec, const caller_t *who)
{
	if (who->cred != NULL)
		return basic_ok(sec, who->cred, who->n);
	rvk_client_cred_t *c = who->id && who->secret ? creds_of(sec) : NULL;
	bool ok = c && rvk_client_pair_ok(c, sec->n_clients, who->id, who->il,
	                                  who->secret, who->sl);
	free(c);
	return ok;
}

static bool
caller_ok(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	caller_t who = {0};
	rvk_form_t f;
	bool parsed = false;
	if (h == NULL) {
		/* client_secret_post (RFC 6749 §2.3.1): client_id and
		 * client_secret in the form body, parsed before the read
		 * section so that it stays short. */
		const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_TYPE);
		const char *why = NULL;
		if (!rvk_rules_media_type(ct, "application/x-www-form-urlencoded")
		    || rvk_form_parse(req->body, req->body_len, &f, &why) != RVK_OK)
			return false;
		parsed = true;
		who.id = rvk_form_get(&f, "client_id", &who.il);
		who.secret = rvk_form_get(&f, "client_secret", &who.sl);
	} else {
		/* Basic sets who.cred; any other scheme leaves it NULL: the
		 * admin token is asked for below. */
		(void)rvk_rules_credentials(h, "Basic", &who.cred, &who.n);
	}
	/* The clients and the admin tokens are one set that SIGHUP replaces
	 * (api/app.h): read under one read section. */
	rvk_rcu_read_lock();
	const rvk_app_secrets_t *sec = rvk_rcu_dereference(app->secrets);
	bool ok;
	if (sec == NULL)
		ok = false;
	else if (h == NULL || who.cred != NULL)
		ok = clients_ok(sec, &who);
	else
		ok = rvk_rules_admin(sec->admin, sec->n_admin, h) == RVK_RULES_ADMIN_OK;
	rvk_rcu_read_unlock();
	if (parsed)
		rvk_form_fini(&f);
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
	/* Held while acc (its issuer) is in use (api/app.h). */
	const rvk_app_live_t *live = rvk_app_live_hold(app);
	rvk_reason_t r = rvk_decide(live->issuers, &live->policy, app->revtable, tok, len,
	                            now, &acc, &verified);
	if (verified) {
		json_t *payload = rvk_jws_payload(&acc.jws);
		if (r == RVK_REASON_OK) {
			json_object_set_new(out, "active", json_true());
			static const char *const claims[] = { "iss", "sub", "exp",
			                                      "iat", "aud", "scope" };
			for (size_t i = 0; i < sizeof(claims) / sizeof(*claims); i++)
				copy_claim(out, payload, claims[i], claims[i]);
			/* The token ID: jti, or the issuer's jti_claim (REFERENCE §2). */
			if (acc.jws.jti)
				json_object_set_new(out, "jti", json_string(acc.jws.jti));
			if (json_object_get(payload, "client_id"))
				copy_claim(out, payload, "client_id", "client_id");
			else
				copy_claim(out, payload, "azp", "client_id");
		}
		rvk_access_fini(&acc);
	}
	rvk_app_live_drop(live);
	rvk_form_fini(&form);
	if (r != RVK_REASON_OK)
		json_object_set_new(out, "active", json_false());
	char *s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	rvk_reply_json(req, MHD_HTTP_OK, s);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	free(s);
}
