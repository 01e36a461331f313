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
 *   webhook-timestamp so a redelivery means the same thing)
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
#include <strings.h>


#include "api/events.h"
#include "api/handler.h"
#include "api/replay.h"
#include "api/take.h"
#include "api/webhook_sig.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"

/* Returns: whether the Content-Type's media type is `type` (case-insensitive,
 * parameters allowed). */
static bool
media_type_is(const char *ct, const char *type)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strlen(type);
	if (strncasecmp(ct, type, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

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

static void
not_recorded(rvk_req_t *req)
{
	rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
	                "the revocations could not be recorded");
}

/* What a delivery's answer needs besides its batch. */
struct delivery {
	char *id;               /* its webhook-id (a copy: see below) */
	int64_t until;          /* remembered against replay until then */
};

/* Back on the worker: settle the webhook-id's claim, log, answer. */
static void
delivery_finish(rvk_req_t *req)
{
	rvk_take_batch_t *b = rvk_take_settle(req);
	struct delivery *d = b->extra;
	rvk_app_t *app = req->app;
	if (b->result != RVK_OK) {
		if (app->seen)
			rvk_replay_forget(app->seen, RVK_REPLAY_WEBHOOK, "", d->id);
		not_recorded(req);
	} else {
		if (app->seen)
			rvk_replay_done(app->seen, RVK_REPLAY_WEBHOOK, "", d->id,
			                d->until, (int64_t)b->n);
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
	if (!media_type_is(ct, "application/json")) {
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
	int64_t tol = app->cfg->webhook_tolerance;
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
		unauthorized(req, rvk_webhook_sig_str(vs));
		return;
	}
	rvk_events_opts_t opts = {
		.issuers = app->issuers, .leeway = app->policy.leeway,
		.max_token_lifetime = app->policy.max_token_lifetime, .now = now,
		.default_at = at, .source = RVK_SRC_WEBHOOK,
	};
	/* Remembered for the whole window in which this id's timestamp is
	 * acceptable, so every redelivery that passes the check above is seen. */
	int64_t until = (at > now ? at : now) + tol + 1;
	int64_t note = 0;
	rvk_replay_state_t st = app->seen
		? rvk_replay_claim_note(app->seen, RVK_REPLAY_WEBHOOK, "", id, until,
		                        now, &note)
		: RVK_REPLAY_FRESH;
	if (st == RVK_REPLAY_DONE) {
		rvk_log(RVK_LOG_INFO, "webhook delivered again; not reapplied",
		        "webhook_id", id, NULL);
		accepted(req, MHD_HTTP_OK, note);
		return;
	}
	if (st == RVK_REPLAY_PENDING) {
		rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                "the same webhook-id is being taken; retry");
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		return;
	}
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[300];
	rvk_result_t r = rvk_events_parse(req->body, req->body_len, &opts, &revs,
	                                  &n, err, sizeof(err));
	if (r != RVK_OK) {
		if (app->seen)
			rvk_replay_forget(app->seen, RVK_REPLAY_WEBHOOK, "", id);
		if (r == RVK_EINVAL || r == RVK_EBUSY)
			rvk_reply_error(req, r == RVK_EBUSY ? MHD_HTTP_CONTENT_TOO_LARGE
			                                    : MHD_HTTP_BAD_REQUEST,
			                "invalid_request", err);
		else
			not_recorded(req);
		rvk_events_free(revs, n);
		return;
	}
	/* The webhook-id lives in MHD's connection pool; finish may run as
	 * the connection closes, so it gets its own copy. */
	struct delivery *d = rvk_malloc(sizeof(*d));
	*d = (struct delivery){ .id = rvk_strdup(id), .until = until };
	rvk_take_async(req, revs, n, d, delivery_finish);
}

void
rvk_handle_events(rvk_req_t *req)
{
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	if (media_type_is(ct, "application/secevent+jwt"))
		rvk_req_block(req, rvk_handle_set);     /* waits for the store */
	else
		handle_webhook(req);
}
