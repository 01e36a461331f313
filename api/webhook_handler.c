/*
 * POST /v1/events: the one path of two protocols, told apart by
 * Content-Type. application/secevent+jwt goes to set_handler.c (RFC 8935);
 * everything else is a Standard Webhooks delivery (REFERENCE §5.1), here (the
 * signature check itself is api/webhook_sig.c):
 *
 *   no webhook secret configured            -> 403 (to everything)
 *   Content-Type not application/json       -> 415
 *   webhook-id/-timestamp/-signature missing,
 *   timestamp outside ±webhook.tolerance,
 *   no "v1,<base64>" entry that matches
 *   HMAC-SHA256(secret, id "." timestamp "." body) (constant time) -> 401
 *   a webhook-id already taken within the tolerance window
 *                                           -> 200 {"accepted":N} again, not reapplied
 *   the events (api/events.c, all or nothing, `at` defaulting to the
 *   first receipt of the webhook-id, or the envelope's timestamp)
 *                                           -> 400 / 413 (over 10,000)
 *   recorded (source webhook)               -> 202 {"accepted":N}
 * Bodies over 4 MiB are refused with 413 by the server (the route's max_body).
 *
 * The route is `async` (handler.h): a webhook delivery is checked and
 * parsed on the MHD worker and recorded through rvk_take_async, its 202
 * built back on the worker after the commit; a SET goes to a waiter thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "api/events.h"
#include "api/handler.h"
#include "api/intake.h"
#include "api/rules.h"
#include "api/replay.h"
#include "api/take.h"
#include "api/webhook_sig.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"

static void
unauthorized(rvk_req_t *req, const char *why)
{
	rvk_reply_error(req, MHD_HTTP_UNAUTHORIZED, "invalid_signature", why);
}

static void
accepted(rvk_req_t *req, unsigned status, int64_t n)
{
	char body[48];
	snprintf(body, sizeof(body), "{\"accepted\":%lld}", (long long)n);
	rvk_reply_json(req, status, body);
}

/* What a delivery's answer needs besides its batch. */
struct delivery {
	char *id;               /* its webhook-id (a copy: see below) */
	rvk_intake_t in;        /* its replay slot (in.id is id) */
};

/* Back on the worker: settle the webhook-id's claim, log, answer. */
static void
delivery_finish(rvk_req_t *req)
{
	rvk_take_batch_t *b = rvk_take_settle(req);
	struct delivery *d = b->extra;
	rvk_intake_settle(&d->in, b->result, (int64_t)b->n);
	if (b->result != RVK_OK) {
		rvk_reply_failure(req, b->result);
	} else {
		accepted(req, MHD_HTTP_ACCEPTED, (int64_t)b->n);
	}
	free(d->id);
	free(d);
	rvk_take_batch_free(b);
}

static void
handle_webhook(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	rvk_rcu_read_lock();
	const rvk_app_secrets_t *sec = rvk_rcu_dereference(app->secrets);
	bool none = !sec || sec->n_webhook == 0;
	rvk_rcu_read_unlock();
	if (none) {
		rvk_reply_error(req, MHD_HTTP_FORBIDDEN, "access_denied",
		                "no webhook secret is configured");
		return;
	}
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!rvk_rules_media_type(ct, "application/json")) {
		rvk_reply_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
		                "Content-Type must be application/json or "
		                "application/secevent+jwt");
		return;
	}
	const char *id = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             "webhook-id");
	const char *ts = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             "webhook-timestamp");
	const char *sig = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                              "webhook-signature");
	int64_t now = rvk_clock_now(), at = 0;
	/* One configuration for the whole delivery (api/app.h): the
	 * tolerance here, the issuers and bounds of the events below. */
	const rvk_app_live_t *live = rvk_app_live_hold(app);
	int64_t tol = live->settings.webhook_tolerance;
	/* Every configured secret is tried (a rotation lists the old and the
	 * new one); the verdict of the last that fails is kept unless one
	 * matched. The set read here is the one of this request even if a
	 * SIGHUP swaps it meanwhile. */
	rvk_webhook_sig_t vs = RVK_WEBHOOK_SIG_MISMATCH;
	rvk_rcu_read_lock();
	sec = rvk_rcu_dereference(app->secrets);
	for (size_t i = 0; sec && i < sec->n_webhook; i++) {
		int64_t t = 0;
		rvk_webhook_sig_t one = rvk_webhook_sig_check(sec->webhook[i].v,
		                                              sec->webhook[i].len, id, ts,
		                                              sig, req->body, req->body_len,
		                                              now, tol, &t);
		if (one == RVK_WEBHOOK_SIG_OK) {
			vs = one;
			at = t;
		} else if (vs != RVK_WEBHOOK_SIG_OK) {
			vs = one;
		}
	}
	rvk_rcu_read_unlock();
	if (vs != RVK_WEBHOOK_SIG_OK) {
		rvk_app_live_drop(live);
		unauthorized(req, rvk_webhook_sig_str(vs));
		return;
	}
	rvk_events_opts_t opts = {
		.issuers = live->issuers, .leeway = live->policy.leeway,
		.max_token_lifetime = live->policy.max_token_lifetime, .now = now,
		/* The first receipt of this webhook-id (a redelivery is not
		 * reapplied): senders sign every retry with a fresh
		 * webhook-timestamp, the time of the attempt, not of the event. */
		.default_at = now, .source = RVK_SRC_WEBHOOK,
	};
	/* Remembered for the whole window in which this id's timestamp is
	 * acceptable, so every redelivery that passes the check above is seen. */
	int64_t until = (at > now ? at : now) + tol + 1;
	int64_t note = 0;
	rvk_intake_t in = { .seen = app->seen, .kind = RVK_REPLAY_WEBHOOK, .iss = "",
	                    .id = id, .until = until, .what = "webhook-id" };
	rvk_replay_state_t st = rvk_intake_claim(&in, now, &note);
	if (st == RVK_REPLAY_DONE) {
		rvk_log(RVK_LOG_INFO, "webhook delivered again; not reapplied",
		        "webhook_id", id, NULL);
		rvk_app_live_drop(live);
		accepted(req, MHD_HTTP_OK, note);
		return;
	}
	if (st == RVK_REPLAY_PENDING) {
		rvk_app_live_drop(live);
		rvk_intake_reply_pending(req, &in);
		return;
	}
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[300];
	rvk_result_t r = rvk_events_parse(req->body, req->body_len, &opts, &revs,
	                                  &n, err, sizeof(err));
	rvk_app_live_drop(live); /* the revocations hold copies */
	live = NULL;
	if (r != RVK_OK) {
		rvk_intake_settle(&in, r, 0);
		if (r == RVK_EINVAL || r == RVK_EBUSY)
			rvk_reply_error(req, r == RVK_EBUSY ? MHD_HTTP_CONTENT_TOO_LARGE
			                                    : MHD_HTTP_BAD_REQUEST,
			                "invalid_request", err);
		else
			rvk_reply_failure(req, r);
		rvk_events_free(revs, n);
		return;
	}
	/* The webhook-id lives in MHD's connection pool; finish may run as
	 * the connection closes, so it gets its own copy. */
	struct delivery *d = rvk_malloc(sizeof(*d));
	*d = (struct delivery){ .id = rvk_strdup(id), .in = in };
	d->in.id = d->id;
	rvk_take_async(req, revs, n, d, delivery_finish);
}

void
rvk_handle_events(rvk_req_t *req)
{
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	if (rvk_rules_media_type(ct, "application/secevent+jwt"))
		rvk_req_block(req, rvk_handle_set);     /* waits for the store */
	else
		handle_webhook(req);
}
