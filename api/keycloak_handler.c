/*
 * POST /k_push_not_before: Keycloak's "Push" of a not-before policy
 * (SPEC §5.5). Keycloak POSTs a compact JWS (Content-Type text/plain; any
 * type is accepted) signed with the realm key, payload
 *   {"action":"PUSH_NOT_BEFORE","notBefore":N,"resource":"<client id>",
 *    "expiration":N,...}
 * It carries no iss: the issuer is the one whose backchannel_client_id is
 * `resource`, and the JWS must verify with that issuer's keys (SPEC §3 steps
 * 1, 3, 4). notBefore > 0 records an issuer revocation at notBefore - 1
 * (Keycloak refuses tokens with iat < notBefore; ours denies iat <=
 * revoked_at); notBefore 0 removes the issuer revocation only if Keycloak
 * set it. notBefore may not lie more than leeway in the future.
 *
 * Answers: 204; 400 invalid_request; 503 when the store fails.
 */
#include <stdio.h>
#include <string.h>

#include "api/handler.h"
#include "api/take.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/rcu.h"

static void
bad(rvk_req_t *req, const char *why)
{
	rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
}

static const rvk_issuer_t *
issuer_for(const rvk_issuers_t *set, const char *resource)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *c = set->v[i]->backchannel_client_id;
		if (c && strcmp(c, resource) == 0)
			return set->v[i];
	}
	return NULL;
}

static bool
int_member(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

void
rvk_handle_keycloak(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	size_t len = req->body_len;
	while (len && (req->body[len - 1] == '\n' || req->body[len - 1] == '\r' ||
	               req->body[len - 1] == ' '))
		len--;
	int64_t now = rvk_clock_now();
	rvk_jws_t j;
	rvk_reason_t r = rvk_jws_parse(req->body, len, app->policy.max_token_bytes, &j);
	if (r != RVK_REASON_OK) {
		bad(req, r == RVK_REASON_TOO_LARGE ? "token too large" : "malformed token");
		return;
	}
	const json_t *action = json_object_get(j.payload, "action");
	const json_t *resource = json_object_get(j.payload, "resource");
	int64_t nb = 0, expiration = 0;
	const rvk_issuer_t *is = NULL;
	if (!json_is_string(action) ||
	    strcmp(json_string_value(action), "PUSH_NOT_BEFORE") != 0) {
		bad(req, "action is not PUSH_NOT_BEFORE");
		goto out;
	}
	if (!json_is_string(resource) ||
	    !(is = issuer_for(app->issuers, json_string_value(resource)))) {
		bad(req, "resource names no issuer's backchannel_client_id");
		goto out;
	}
	const rvk_key_t *used;
	rvk_rcu_read_lock();
	r = rvk_jws_verify(&j, is, &used);
	rvk_rcu_read_unlock();
	if (r != RVK_REASON_OK) {
		bad(req, rvk_reason_str(r));
		goto out;
	}
	if (!int_member(j.payload, "expiration", &expiration)) {
		bad(req, "missing expiration");
		goto out;
	}
	if (now >= expiration + app->policy.leeway) {
		bad(req, "expired");
		goto out;
	}
	if (!int_member(j.payload, "notBefore", &nb) || nb < 0) {
		bad(req, "missing or negative notBefore");
		goto out;
	}
	if (nb > now + app->policy.leeway) {
		bad(req, "notBefore is in the future");
		goto out;
	}
	if (nb == 0) {
		rvk_source_t only = RVK_SRC_KEYCLOAK;
		bool deleted = false;
		if (!app->store || rvk_store_delete(app->store, RVK_REV_ISSUER, is->iss, "",
		                                    &only, &deleted) != RVK_OK) {
			rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
			                "the store could not commit");
			goto out;
		}
		rvk_log(RVK_LOG_INFO, "keycloak not-before cleared", "iss", is->iss,
		        "deleted", deleted ? "true" : "false", NULL);
		rvk_reply_empty(req, MHD_HTTP_NO_CONTENT);
		goto out;
	}
	rvk_revocation_t rev = {
		.type = RVK_REV_ISSUER, .iss = is->iss, .id = (char *)"",
		.revoked_at = nb - 1,
		.expires_at = nb - 1 + app->policy.max_token_lifetime,
		.reason = NULL, .source = RVK_SRC_KEYCLOAK,
	};
	if (rvk_take_record(app, &rev, 1) != RVK_OK) {
		rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                "the revocation could not be recorded");
		goto out;
	}
	rvk_reply_empty(req, MHD_HTTP_NO_CONTENT);
out:
	rvk_jws_fini(&j);
}
