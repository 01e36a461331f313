/*
 * POST /v1/backchannel-logout: OpenID Connect Back-Channel Logout 1.0
 * (REFERENCE §5.3). The form's logout_token is parsed and verified like an access
 * token's steps 1-4 against the issuer its iss names, judged by
 * auth/logout.c, and recorded through the intake pipeline (api/intake.h) as
 * a session (sid) or subject (sub) revocation as of its iat.
 *
 * A logout token whose (iss, jti) was taken before (api/replay.h) is
 * answered 200 and not reapplied when it is the same token (a sender's
 * retry), and refused as a replay when it is another token.
 *
 * Answers: 200 with Cache-Control: no-store; 400 invalid_request with a
 * description; 503 when the store cannot commit.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/sha.h>

#include "api/form.h"
#include "api/handler.h"
#include "api/intake.h"
#include "api/rules.h"
#include "api/replay.h"
#include "api/take.h"
#include "auth/logout.h"
#include "base/clock.h"
#include "base/log.h"

static void
bad(rvk_req_t *req, const char *why)
{
	rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

/* The 400's description for a logout token that did not verify. */
static const char *
refused(rvk_intake_verdict_t v, rvk_reason_t why)
{
	switch (v) {
	case RVK_INTAKE_TOO_LARGE: return "logout token too large";
	case RVK_INTAKE_MALFORMED: return "malformed logout token";
	case RVK_INTAKE_NO_ISS:
	case RVK_INTAKE_UNKNOWN_ISSUER: return "unknown issuer";
	default: return rvk_reason_str(why);
	}
}

static void
handle(rvk_req_t *req, const rvk_app_live_t *live)
{
	rvk_app_t *app = req->app;
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!rvk_rules_media_type(ct, "application/x-www-form-urlencoded")) {
		bad(req, "Content-Type must be application/x-www-form-urlencoded");
		return;
	}
	rvk_form_t form;
	const char *why = NULL;
	rvk_result_t fr = rvk_form_parse(req->body, req->body_len, &form, &why);
	if (fr != RVK_OK) {
		if (fr == RVK_ENOMEM)
			rvk_reply_failure(req, fr);
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
	const rvk_issuer_t *is;
	rvk_reason_t why_not;
	rvk_intake_verdict_t v = rvk_intake_verify(live, tok, len, &j, &is, &why_not);
	if (v != RVK_INTAKE_OK) {
		rvk_form_fini(&form);
		bad(req, refused(v, why_not));
		return;
	}
	rvk_logout_t lo;
	char desc[160];
	if (!rvk_logout_check(&j, is->backchannel_client_id, live->policy.leeway,
	                      live->policy.max_token_lifetime, now, &lo, desc,
	                      sizeof(desc))) {
		bad(req, desc);
		goto cleanup;
	}
	rvk_intake_t in = { .seen = app->seen, .kind = RVK_REPLAY_LOGOUT,
	                    .iss = is->iss, .id = lo.jti,
	                    .until = lo.remember_until, .what = "logout token" };
	/* The same logout token again (senders retry) is answered 200 and not
	 * reapplied; another token reusing a jti already seen is a replay.
	 * The note tells them apart: 63 bits of the token's SHA-256. */
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)tok, len, md);
	int64_t digest = 0;
	for (int i = 0; i < 8; i++)
		digest = (int64_t)(((uint64_t)digest << 8) | md[i]);
	digest &= INT64_MAX;
	int64_t note = -1;
	rvk_replay_state_t st = rvk_intake_claim(&in, now, &note);
	if (st == RVK_REPLAY_DONE && note == digest) {
		rvk_log(RVK_LOG_INFO, "logout token delivered again; not reapplied", "iss",
		        is->iss, "jti", lo.jti, NULL);
		rvk_reply_empty(req, MHD_HTTP_OK);
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		goto cleanup;
	}
	if (st != RVK_REPLAY_FRESH) {
		rvk_log(RVK_LOG_WARN, "logout token replayed", "iss", is->iss, "jti",
		        lo.jti, NULL);
		bad(req, "logout token replayed");
		goto cleanup;
	}
	rvk_revocation_t rev = {
		.type = lo.session ? RVK_REV_SESSION : RVK_REV_SUBJECT,
		.iss = is->iss, .id = (char *)lo.id, .revoked_at = lo.at,
		.expires_at = lo.at + live->policy.max_token_lifetime,
		.reason = NULL, .source = RVK_SRC_BACKCHANNEL,
	};
	rvk_result_t rec = rvk_take_record(app, &rev, 1);
	rvk_intake_settle(&in, rec, digest);
	if (rec != RVK_OK) {
		rvk_reply_failure(req, rec);
		goto cleanup;
	}
	rvk_reply_empty(req, MHD_HTTP_OK);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
cleanup:
	rvk_jws_fini(&j);
	rvk_form_fini(&form);
}

/* One configuration for the whole request (api/app.h): the issuer found
 * stays valid across the store commit even if a reload replaces it. */
void
rvk_handle_backchannel(rvk_req_t *req)
{
	const rvk_app_live_t *live = rvk_app_live_hold(req->app);
	handle(req, live);
	rvk_app_live_drop(live);
}
