/*
 * intake.c - verify, claim, record, settle (intake.h).
 */
#include <stdio.h>
#include <string.h>

#include "api/intake.h"
#include "api/take.h"
#include "base/check.h"
#include "base/rcu.h"

rvk_intake_verdict_t
rvk_intake_verify(const rvk_app_live_t *live, const char *jose, size_t len,
                  rvk_jws_t *j, const rvk_issuer_t **is, rvk_reason_t *why)
{
	RVK_REQUIRE(live && j && is && why);
	rvk_reason_t r = rvk_jws_parse(jose, len, live->policy.max_token_bytes, j);
	if (r != RVK_REASON_OK)
		return r == RVK_REASON_TOO_LARGE ? RVK_INTAKE_TOO_LARGE
		                                 : RVK_INTAKE_MALFORMED;
	rvk_intake_verdict_t v = RVK_INTAKE_OK;
	const rvk_issuer_t *found = NULL;
	if (!j->iss)
		v = RVK_INTAKE_NO_ISS;
	else if (!(found = rvk_issuers_find(live->issuers, j->iss, strlen(j->iss))))
		v = RVK_INTAKE_UNKNOWN_ISSUER;
	if (v == RVK_INTAKE_OK) {
		const rvk_key_t *used;
		rvk_rcu_read_lock();
		r = rvk_jws_verify(j, found, &used);
		rvk_rcu_read_unlock();
		if (r != RVK_REASON_OK) {
			*why = r;
			v = RVK_INTAKE_UNVERIFIED;
		}
	}
	if (v != RVK_INTAKE_OK) {
		rvk_jws_fini(j);
		return v;
	}
	*is = found;
	return RVK_INTAKE_OK;
}

rvk_replay_state_t
rvk_intake_claim(const rvk_intake_t *in, int64_t now, int64_t *note)
{
	if (!in->seen)
		return RVK_REPLAY_FRESH;
	int64_t ignored;
	return rvk_replay_claim_note(in->seen, in->kind, in->iss, in->id, in->until,
	                             now, note ? note : &ignored);
}

void
rvk_intake_settle(const rvk_intake_t *in, rvk_result_t r, int64_t note)
{
	if (!in->seen)
		return;
	if (r == RVK_OK)
		rvk_replay_done(in->seen, in->kind, in->iss, in->id, in->until, note);
	else
		rvk_replay_forget(in->seen, in->kind, in->iss, in->id);
}

rvk_result_t
rvk_intake_record(const rvk_app_t *app, const rvk_intake_t *in,
                  const rvk_revocation_t *revs, size_t n)
{
	rvk_result_t r = rvk_take_record(app, revs, n);
	rvk_intake_settle(in, r, 0);
	return r;
}

void
rvk_intake_reply_pending(rvk_req_t *req, const rvk_intake_t *in)
{
	char desc[80];
	snprintf(desc, sizeof(desc), "the same %s is being taken; retry", in->what);
	rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error", desc);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
}
