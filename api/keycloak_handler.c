/*
 * POST /k_push_not_before: Keycloak's "Push" of a not-before policy, and
 * POST /k_logout: its LogoutAction ("Sign out all active sessions", admin
 * REST logout-all), checked the same way with action "LOGOUT"; a LogoutAction
 * with notBefore > 0 records the same issuer revocation, with 0 nothing
 * (REFERENCE §5.5). Keycloak POSTs a compact JWS (Content-Type text/plain; any
 * type is accepted) signed with the realm key, payload
 *   {"action":"PUSH_NOT_BEFORE","notBefore":N,"resource":"<client id>",
 *    "expiration":N,...}
 * It carries no iss: the issuer is the one whose backchannel_client_id is
 * `resource`, and the JWS must verify with that issuer's keys (REFERENCE §3 steps
 * 1, 3, 4). notBefore > 0 records an issuer revocation at notBefore - 1
 * (Keycloak refuses tokens with iat < notBefore; ours denies iat <=
 * revoked_at); notBefore 0 removes Keycloak's contribution to the issuer
 * revocation and nothing else: what an operator, a webhook or a SET set,
 * here or on another replica, stays in force (per-source revocations,
 * store/store.h). notBefore may not lie more than leeway in the future. A
 * push is single use (api/replay.h): presented again before its expiration
 * (plus leeway) it is answered 204 and not reapplied.
 *
 * The checks are api/keycloak_push.c.
 *
 * Answers: 204; 400 invalid_request; 503 when the store fails.
 */
#include <stdio.h>
#include <string.h>

#include "api/handler.h"
#include "api/intake.h"
#include "api/keycloak_push.h"
#include "api/replay.h"
#include "api/take.h"
#include "base/clock.h"
#include "base/log.h"

static void
bad(rvk_req_t *req, const char *why)
{
	rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
}

/* Records (notBefore > 0) or clears (0) Keycloak's issuer revocation.
 * Returns: whether the store took it. */
static rvk_result_t
taken(const rvk_app_t *app, const rvk_app_live_t *live, const rvk_issuer_t *is,
      int64_t nb)
{
	if (nb == 0) {
		rvk_source_t only = RVK_SRC_KEYCLOAK;
		bool deleted = false;
		rvk_result_t r = app->store
			? rvk_store_delete(app->store, RVK_REV_ISSUER, is->iss, "",
			                   &only, &deleted)
			: RVK_EIO;
		if (r != RVK_OK)
			return r;
		rvk_log(RVK_LOG_INFO, "keycloak not-before cleared", "iss", is->iss,
		        "deleted", deleted ? "true" : "false", NULL);
		return RVK_OK;
	}
	rvk_revocation_t rev = {
		.type = RVK_REV_ISSUER, .iss = is->iss, .id = (char *)"",
		.revoked_at = nb - 1,
		.expires_at = nb - 1 + live->policy.max_token_lifetime,
		.reason = NULL, .source = RVK_SRC_KEYCLOAK,
	};
	return rvk_take_record(app, &rev, 1);
}

static void
handle_live(rvk_req_t *req, const rvk_app_live_t *live, rvk_keycloak_action_t kind)
{
	rvk_app_t *app = req->app;
	int64_t now = rvk_clock_now();
	rvk_keycloak_push_t push;
	const char *why = rvk_keycloak_action_check(req->body, req->body_len, kind,
	                                            live->issuers, &live->policy, now,
	                                            &push);
	if (why) {
		bad(req, why);
		return;
	}
	const rvk_issuer_t *is = push.issuer;
	int64_t nb = push.not_before;
	if (kind == RVK_KEYCLOAK_LOGOUT) {
		/* adapterSessionIds are Keycloak's adapter sessions, not sids:
		 * logged, never used. A notBefore of 0 records nothing (it is
		 * no "clear" here, unlike a push). */
		char n[24];
		snprintf(n, sizeof(n), "%zu", push.n_adapter_sessions);
		rvk_log(RVK_LOG_INFO, "keycloak logout action", "iss", is->iss,
		        "adapter_sessions", n, NULL);
		if (nb == 0) {
			rvk_reply_empty(req, MHD_HTTP_NO_CONTENT);
			return;
		}
	}
	/* Single use: the same push again (a retry, or a captured one
	 * replayed to undo a later change) is answered 204 and not reapplied
	 * while it could still verify. */
	rvk_intake_t in = { .seen = app->seen, .kind = RVK_REPLAY_KEYCLOAK,
	                    .iss = is->iss, .id = push.replay_id,
	                    .until = push.remember_until, .what = "push" };
	rvk_replay_state_t st = rvk_intake_claim(&in, now, NULL);
	if (st == RVK_REPLAY_DONE) {
		rvk_log(RVK_LOG_INFO, "keycloak push delivered again; not reapplied",
		        "iss", is->iss, NULL);
		rvk_reply_empty(req, MHD_HTTP_NO_CONTENT);
		return;
	}
	if (st == RVK_REPLAY_PENDING) {
		rvk_intake_reply_pending(req, &in);
		return;
	}
	rvk_result_t r = taken(app, live, is, nb);
	rvk_intake_settle(&in, r, 0);
	if (r != RVK_OK) {
		rvk_reply_failure(req, r);
		return;
	}
	rvk_reply_empty(req, MHD_HTTP_NO_CONTENT);
}

/* One configuration for the whole request (api/app.h): the issuer found
 * stays valid across the store commit even if a reload replaces it. */
static void
handle(rvk_req_t *req, rvk_keycloak_action_t kind)
{
	const rvk_app_live_t *live = rvk_app_live_hold(req->app);
	handle_live(req, live, kind);
	rvk_app_live_drop(live);
}

void
rvk_handle_keycloak(rvk_req_t *req)
{
	handle(req, RVK_KEYCLOAK_PUSH);
}

void
rvk_handle_keycloak_logout(rvk_req_t *req)
{
	handle(req, RVK_KEYCLOAK_LOGOUT);
}

