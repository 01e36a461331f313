/*
 * POST /v1/events with Content-Type application/secevent+jwt: RFC 8935 push
 * delivery of RFC 8417 Security Event Tokens (REFERENCE §5.2).
 *
 *   over max_token_bytes            -> invalid_request (nothing decoded)
 *   parse (jws.h step 1)            -> invalid_request "not a JWT"
 *   iss names a configured issuer   -> invalid_issuer
 *   key, algorithm, signature       -> invalid_key
 *   claims and events (auth/set.c)  -> invalid_request / invalid_audience
 *   (iss, jti) taken before         -> 202 again, nothing reapplied
 *   record every understood event as one batch (source set) -> 202
 *
 * Errors are {"err":"<code>","description":"..."} (RFC 8935 §2.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/handler.h"
#include "api/replay.h"
#include "api/take.h"
#include "auth/set.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/rcu.h"

static void
set_error(rvk_req_t *req, rvk_set_err_t e, const char *desc)
{
	json_t *o = json_object();
	json_object_set_new(o, "err", json_string(rvk_set_err_code(e)));
	json_t *d = json_string(desc);
	json_object_set_new(o, "description", d ? d : json_string("(invalid UTF-8)"));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rvk_reply_json(req, MHD_HTTP_BAD_REQUEST, s);
	free(s);
}

static const rvk_rev_type_t kind_type[] = {
	[RVK_SET_REVOKE_TOKEN] = RVK_REV_TOKEN,
	[RVK_SET_REVOKE_SESSION] = RVK_REV_SESSION,
	[RVK_SET_REVOKE_SUBJECT] = RVK_REV_SUBJECT,
};

void
rvk_handle_set(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	size_t len = req->body_len;
	while (len && (req->body[len - 1] == '\n' || req->body[len - 1] == '\r' ||
	               req->body[len - 1] == ' '))
		len--;
	int64_t now = rvk_clock_now();
	/* Held to max_token_bytes like every JOSE object, before any byte of
	 * it is decoded (docs/SECURITY.md, "Security round 2"). */
	rvk_jws_t j;
	rvk_reason_t pr = rvk_jws_parse(req->body, len, app->policy.max_token_bytes,
	                                &j);
	if (pr == RVK_REASON_TOO_LARGE) {
		set_error(req, RVK_SET_INVALID_REQUEST,
		          "SET larger than max_token_bytes");
		return;
	}
	if (pr != RVK_REASON_OK) {
		set_error(req, RVK_SET_INVALID_REQUEST, "not a JWT");
		return;
	}
	const rvk_issuer_t *is = NULL;
	if (!j.iss) {
		set_error(req, RVK_SET_INVALID_ISSUER, "missing iss, or not a string");
		goto out;
	}
	if (!(is = rvk_issuers_find(app->issuers, j.iss, strlen(j.iss)))) {
		set_error(req, RVK_SET_INVALID_ISSUER, "iss is not a configured issuer");
		goto out;
	}
	const rvk_key_t *used;
	rvk_rcu_read_lock();
	rvk_reason_t r = rvk_jws_verify(&j, is, &used);
	rvk_rcu_read_unlock();
	if (r != RVK_REASON_OK) {
		set_error(req, RVK_SET_INVALID_KEY, rvk_reason_str(r));
		goto out;
	}
	rvk_set_t set;
	char desc[160];
	rvk_set_err_t e = rvk_set_check(&j, app->cfg->set_audience,
	                                app->policy.leeway, now, &set, desc,
	                                sizeof(desc));
	if (e != RVK_SET_OK) {
		set_error(req, e, desc);
		goto out;
	}
	if (set.n_ignored) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", set.n_ignored);
		rvk_log(RVK_LOG_INFO, "SET events of unknown types ignored", "iss",
		        is->iss, "jti", set.jti, "events", n, NULL);
	}
	if (set.n == 0) {
		rvk_reply_empty(req, MHD_HTTP_ACCEPTED);
		goto out;
	}
	int64_t until = now + app->policy.max_token_lifetime + app->policy.leeway;
	rvk_replay_state_t st = app->seen
		? rvk_replay_claim(app->seen, RVK_REPLAY_SET, is->iss, set.jti, until, now)
		: RVK_REPLAY_FRESH;
	if (st == RVK_REPLAY_DONE) {
		rvk_log(RVK_LOG_INFO, "SET delivered again; not reapplied", "iss",
		        is->iss, "jti", set.jti, NULL);
		rvk_reply_empty(req, MHD_HTTP_ACCEPTED);
		goto out;
	}
	if (st == RVK_REPLAY_PENDING) {
		rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                "the same SET is being taken; retry");
		goto out;
	}
	rvk_revocation_t revs[RVK_SET_MAX_ACTIONS];
	for (size_t i = 0; i < set.n; i++) {
		revs[i] = (rvk_revocation_t){
			.type = kind_type[set.actions[i].kind], .iss = is->iss,
			.id = (char *)set.actions[i].id, .revoked_at = set.actions[i].at,
			.expires_at = set.actions[i].at + app->policy.max_token_lifetime,
			.reason = NULL, .source = RVK_SRC_SET,
		};
	}
	if (rvk_take_record(app, revs, set.n) != RVK_OK) {
		if (app->seen)
			rvk_replay_forget(app->seen, RVK_REPLAY_SET, is->iss, set.jti);
		rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                "the revocations could not be recorded");
		goto out;
	}
	if (app->seen)
		rvk_replay_done(app->seen, RVK_REPLAY_SET, is->iss, set.jti, until, 0);
	rvk_reply_empty(req, MHD_HTTP_ACCEPTED);
out:
	rvk_jws_fini(&j);
}
