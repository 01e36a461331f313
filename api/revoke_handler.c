/*
 * POST /v1/revoke: RFC 7009 token revocation (REFERENCE §5.4). A token that
 * passes REFERENCE §3 steps 1-5 has its jti revoked until its exp (source
 * rfc7009). The answer is 200 whether or not the token was valid (RFC 7009
 * §2.2: an invalid token is not the caller's error); only a missing token is
 * 400, and a store that cannot commit 503. token_type_hint is ignored.
 */
#include <string.h>

#include "api/form.h"
#include "api/handler.h"
#include "api/take.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/rcu.h"

void
rvk_handle_revoke(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	rvk_form_t form;
	const char *tok;
	size_t len;
	if (!rvk_req_form_field(req, "token", &form, &tok, &len))
		return;
	int64_t now = rvk_clock_now();
	rvk_access_t acc;
	rvk_revocation_t rev = { .type = RVK_REV_TOKEN, .source = RVK_SRC_RFC7009 };
	rvk_rcu_read_lock();
	const rvk_app_live_t *live = rvk_rcu_dereference(app->live);
	rvk_reason_t r = rvk_access_verify(live->issuers, &live->policy, tok, len,
	                                   now, &acc);
	if (r == RVK_REASON_OK) {
		/* Copies: the store call below must not run inside the read
		 * section. */
		if (acc.jws.jti) {
			rev.iss = rvk_strdup(acc.issuer->iss);
			rev.id = rvk_strdup(acc.jws.jti);
			rev.revoked_at = now;
			rev.expires_at = acc.jws.exp;
		}
		rvk_access_fini(&acc);
	}
	rvk_rcu_read_unlock();
	rvk_form_fini(&form);
	rvk_result_t rec = rev.id ? rvk_take_record(app, &rev, 1) : RVK_OK;
	if (rec != RVK_OK) {
		rvk_reply_failure(req, rec);
	} else {
		rvk_reply_empty(req, MHD_HTTP_OK);
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	free(rev.iss);
	free(rev.id);
}
