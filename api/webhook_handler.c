/*
 * POST /v1/events: the one path of two protocols, told apart by
 * Content-Type. application/secevent+jwt goes to set_handler.c (RFC 8935);
 * everything else is a Standard Webhooks delivery (SPEC §5.1), here:
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/events.h"
#include "api/handler.h"
#include "api/replay.h"
#include "api/take.h"
#include "base/b64.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/log.h"

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

/* Writes base64(HMAC-SHA256(key, id "." ts "." body)) into out (45 bytes). */
static void
sign(const rvk_app_t *app, const char *id, const char *ts, const char *body,
     size_t len, char out[45])
{
	unsigned char mac[32];
	size_t maclen = 0;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	RVK_REQUIRE(m != NULL);
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(m);
	RVK_REQUIRE(c != NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	RVK_REQUIRE(EVP_MAC_init(c, app->webhook_secret, app->webhook_secret_len,
	                         params) == 1);
	EVP_MAC_update(c, (const unsigned char *)id, strlen(id));
	EVP_MAC_update(c, (const unsigned char *)".", 1);
	EVP_MAC_update(c, (const unsigned char *)ts, strlen(ts));
	EVP_MAC_update(c, (const unsigned char *)".", 1);
	EVP_MAC_update(c, (const unsigned char *)body, len);
	RVK_REQUIRE(EVP_MAC_final(c, mac, &maclen, sizeof(mac)) == 1 && maclen == 32);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	rvk_b64_encode(mac, sizeof(mac), out);
}

/* Returns: whether one of the space-separated "v1,<base64>" entries equals
 * the expected signature. Other versions are skipped (Standard Webhooks). */
static bool
signature_matches(const char *header, const char expected[45])
{
	size_t elen = strlen(expected);
	const char *p = header;
	bool ok = false;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		size_t n = (size_t)(end - p);
		if (n == 3 + elen && strncmp(p, "v1,", 3) == 0 &&
		    CRYPTO_memcmp(p + 3, expected, elen) == 0)
			ok = true;  /* keep walking: the time does not depend on which */
		p = end;
	}
	return ok;
}

/* Returns: true and *out for a timestamp of 1 to 18 decimal digits. */
static bool
parse_ts(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static void
accepted(rvk_req_t *req, unsigned status, int64_t n)
{
	char body[48];
	snprintf(body, sizeof(body), "{\"accepted\":%lld}", (long long)n);
	rvk_reply_json(req, status, body);
}

static void
handle_webhook(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	if (!app->webhook_secret) {
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
	if (!id || !*id || !ts || !sig) {
		unauthorized(req, "missing webhook-id, webhook-timestamp or "
		             "webhook-signature");
		return;
	}
	int64_t now = rvk_clock_now(), at;
	int64_t tol = app->cfg->webhook_tolerance;
	if (!parse_ts(ts, &at) || at < now - tol || at > now + tol) {
		unauthorized(req, "webhook-timestamp outside the tolerance");
		return;
	}
	char expected[45];
	sign(app, id, ts, req->body, req->body_len, expected);
	if (!signature_matches(sig, expected)) {
		unauthorized(req, "no matching webhook-signature");
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
	if (r == RVK_OK)
		r = rvk_take_record(app, revs, n);
	else if (r == RVK_EINVAL || r == RVK_EBUSY)
		rvk_reply_error(req, r == RVK_EBUSY ? MHD_HTTP_CONTENT_TOO_LARGE
		                                    : MHD_HTTP_BAD_REQUEST,
		                "invalid_request", err);
	rvk_events_free(revs, n);
	if (r != RVK_OK) {
		if (app->seen)
			rvk_replay_forget(app->seen, RVK_REPLAY_WEBHOOK, "", id);
		if (!req->resp)
			rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
			                "the revocations could not be recorded");
		return;
	}
	if (app->seen)
		rvk_replay_done(app->seen, RVK_REPLAY_WEBHOOK, "", id, until, (int64_t)n);
	accepted(req, MHD_HTTP_ACCEPTED, (int64_t)n);
}

void
rvk_handle_events(rvk_req_t *req)
{
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);
	if (media_type_is(ct, "application/secevent+jwt"))
		rvk_handle_set(req);
	else
		handle_webhook(req);
}
