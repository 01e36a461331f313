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
#include "api/intake.h"
#include "api/replay.h"
#include "api/take.h"
#include "auth/set.h"
#include "base/clock.h"
#include "base/log.h"

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

static void
handle(rvk_req_t *req, const rvk_app_live_t *live)
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
	const rvk_issuer_t *is;
	rvk_reason_t why_not;
	switch (rvk_intake_verify(live, req->body, len, &j, &is, &why_not)) {
	case RVK_INTAKE_OK:
		break;
	case RVK_INTAKE_TOO_LARGE:
		set_error(req, RVK_SET_INVALID_REQUEST, "SET larger than max_token_bytes");
		return;
	case RVK_INTAKE_MALFORMED:
		set_error(req, RVK_SET_INVALID_REQUEST, "not a JWT");
		return;
	case RVK_INTAKE_NO_ISS:
		set_error(req, RVK_SET_INVALID_ISSUER, "missing iss, or not a string");
		return;
	case RVK_INTAKE_UNKNOWN_ISSUER:
		set_error(req, RVK_SET_INVALID_ISSUER, "iss is not a configured issuer");
		return;
	case RVK_INTAKE_UNVERIFIED:
		set_error(req, RVK_SET_INVALID_KEY, rvk_reason_str(why_not));
		return;
	}
	rvk_set_t set;
	char desc[160];
	rvk_set_err_t e = rvk_set_check(&j, live->settings.set_audience,
	                                live->policy.leeway, now, &set, desc,
	                                sizeof(desc));
	if (e != RVK_SET_OK) {
		set_error(req, e, desc);
		goto cleanup;
	}
	if (set.n_ignored) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", set.n_ignored);
		rvk_log(RVK_LOG_INFO, "SET events of unknown types ignored", "iss",
		        is->iss, "jti", set.jti, "events", n, NULL);
	}
	if (set.n == 0) {
		rvk_reply_empty(req, MHD_HTTP_ACCEPTED);
		goto cleanup;
	}
	int64_t until = now + live->policy.max_token_lifetime + live->policy.leeway;
	rvk_intake_t in = { .seen = app->seen, .kind = RVK_REPLAY_SET,
	                    .iss = is->iss, .id = set.jti, .until = until,
	                    .what = "SET" };
	rvk_replay_state_t st = rvk_intake_claim(&in, now, NULL);
	if (st == RVK_REPLAY_DONE) {
		rvk_log(RVK_LOG_INFO, "SET delivered again; not reapplied", "iss",
		        is->iss, "jti", set.jti, NULL);
		rvk_reply_empty(req, MHD_HTTP_ACCEPTED);
		goto cleanup;
	}
	if (st == RVK_REPLAY_PENDING) {
		rvk_intake_reply_pending(req, &in);
		goto cleanup;
	}
	rvk_revocation_t revs[RVK_SET_MAX_ACTIONS];
	for (size_t i = 0; i < set.n; i++) {
		revs[i] = (rvk_revocation_t){
			.type = kind_type[set.actions[i].kind], .iss = is->iss,
			.id = (char *)set.actions[i].id, .revoked_at = set.actions[i].at,
			.expires_at = set.actions[i].at + live->policy.max_token_lifetime,
			.reason = NULL, .source = RVK_SRC_SET,
		};
	}
	rvk_result_t rec = rvk_intake_record(app, &in, revs, set.n);
	if (rec != RVK_OK) {
		rvk_reply_failure(req, rec);
		goto cleanup;
	}
	rvk_reply_empty(req, MHD_HTTP_ACCEPTED);
cleanup:
	rvk_jws_fini(&j);
}

/* One configuration for the whole request (api/app.h): the issuer found
 * stays valid across the store commit even if a reload replaces it. */
void
rvk_handle_set(rvk_req_t *req)
{
	const rvk_app_live_t *live = rvk_app_live_hold(req->app);
	handle(req, live);
	rvk_app_live_drop(live);
}
