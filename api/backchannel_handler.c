/*
 * POST /v1/backchannel-logout: OpenID Connect Back-Channel Logout 1.0
 * (REFERENCE §5.3). The form's logout_token is parsed and verified like an access
 * token's steps 1-4 against the issuer its iss names, judged by
 * auth/logout.c, refused if its (iss, jti) was taken before (api/replay.h),
 * and recorded as a session (sid) or subject (sub) revocation as of its iat.
 *
 * Answers: 200 with Cache-Control: no-store; 400 invalid_request with a
 * description; 503 when the store cannot commit.
 */
#include <string.h>

#include "api/form.h"
#include "api/handler.h"
#include "api/replay.h"
#include "api/take.h"
#include "auth/logout.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/rcu.h"

static void
bad(rvk_req_t *req, const char *why)
{
	rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

void
rvk_handle_backchannel(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!rvk_form_media_type(ct)) {
		bad(req, "Content-Type must be application/x-www-form-urlencoded");
		return;
	}
	rvk_form_t form;
	const char *why = NULL;
	rvk_result_t fr = rvk_form_parse(req->body, req->body_len, &form, &why);
	if (fr != RVK_OK) {
		if (fr == RVK_ENOMEM)
			rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
			                "out of memory");
		else
			bad(req, why);
		return;
	}
	size_t len = 0;
	const char *tok = rvk_form_get(&form, "logout_token", &len);
	if (!tok || len == 0) {
		rvk_form_fini(&form);
		bad(req, "missing logout_token");
		return;
	}
	int64_t now = rvk_clock_now();
	rvk_jws_t j;
	rvk_reason_t r = rvk_jws_parse(tok, len, app->policy.max_token_bytes, &j);
	if (r != RVK_REASON_OK) {
		rvk_form_fini(&form);
		bad(req, r == RVK_REASON_TOO_LARGE ? "logout token too large"
		                                   : "malformed logout token");
		return;
	}
	const rvk_issuer_t *is = j.iss ? rvk_issuers_find(app->issuers, j.iss,
	                                                  strlen(j.iss)) : NULL;
	if (!is) {
		bad(req, "unknown issuer");
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
	rvk_logout_t lo;
	char desc[160];
	if (!rvk_logout_check(&j, is->backchannel_client_id, app->policy.leeway,
	                      app->policy.max_token_lifetime, now, &lo, desc,
	                      sizeof(desc))) {
		bad(req, desc);
		goto out;
	}
	if (app->seen && rvk_replay_claim(app->seen, RVK_REPLAY_LOGOUT, is->iss,
	                                  lo.jti, lo.remember_until, now)
	                 != RVK_REPLAY_FRESH) {
		rvk_log(RVK_LOG_WARN, "logout token replayed", "iss", is->iss, "jti",
		        lo.jti, NULL);
		bad(req, "logout token replayed");
		goto out;
	}
	rvk_revocation_t rev = {
		.type = lo.session ? RVK_REV_SESSION : RVK_REV_SUBJECT,
		.iss = is->iss, .id = (char *)lo.id, .revoked_at = lo.at,
		.expires_at = lo.at + app->policy.max_token_lifetime,
		.reason = NULL, .source = RVK_SRC_BACKCHANNEL,
	};
	if (rvk_take_record(app, &rev, 1) != RVK_OK) {
		if (app->seen)
			rvk_replay_forget(app->seen, RVK_REPLAY_LOGOUT, is->iss, lo.jti);
		rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                "the revocation could not be recorded");
		goto out;
	}
	if (app->seen)
		rvk_replay_done(app->seen, RVK_REPLAY_LOGOUT, is->iss, lo.jti,
		                lo.remember_until, 0);
	rvk_reply_empty(req, MHD_HTTP_OK);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
out:
	rvk_jws_fini(&j);
	rvk_form_fini(&form);
}
