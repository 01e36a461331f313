/*
 * The admin API (REFERENCE §5.6): create, list, get and delete revocations, and
 * stats, under /admin/ on the admin listener.
 *
 * Every request first passes the admin token check: no token configured ->
 * 403 for everything; a missing or wrong Bearer token -> 401 (the check and
 * its constant-time compare: rvk_rules_admin, api/rules.h).
 *
 * Create runs on the MHD worker (its route is `async`, handler.h): it
 * parses, suspends the request and queues the batch to the store writer
 * (rvk_take_async_shown), which also reads back what it stored for the
 * answer; its completion resumes the request, and the 201 is built back on
 * the worker. List (same route) goes to a waiter thread; get and delete run
 * on one (their route is `blocking`) and delete waits in rvk_store_delete.
 * So a 201 or 204 is only sent once the change is durable and visible (the
 * ledger).
 * A batch is validated completely before anything is recorded, and recorded
 * in one store call, so it is all or nothing.
 *
 * IDs in paths: MHD percent-decodes the path before routing (its default
 * unescape callback), so req->url already holds the decoded ID, "/" and all;
 * the ID is everything after "{type}/". (A %00 in a path cuts the ID there —
 * an ID cannot hold a NUL anyway: JSON bodies refuse \u0000.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/cursor.h"
#include "api/events.h"
#include "api/handler.h"
#include "api/rules.h"
#include "api/take.h"
#include "api/listquery.h"
#include "api/render.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"

#define ONE_PREFIX "/admin/v1/revocations/"

/* Returns: true when the request carries the admin token; otherwise answers
 * 403 or 401 and returns false. */
static bool
authorized(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	rvk_rcu_read_lock();
	const rvk_app_secrets_t *sec = rvk_rcu_dereference(app->secrets);
	rvk_rules_admin_t v = rvk_rules_admin(
		sec ? sec->admin : NULL, sec ? sec->n_admin : 0,
		MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
		                            MHD_HTTP_HEADER_AUTHORIZATION));
	rvk_rcu_read_unlock();
	if (v == RVK_RULES_ADMIN_DISABLED) {
		rvk_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
		                "the admin API is disabled: no admin token is configured");
		return false;
	}
	if (v != RVK_RULES_ADMIN_OK) {
		rvk_reply_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		                v == RVK_RULES_ADMIN_WRONG ? "wrong admin token"
		                                           : "admin token required");
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"revokd-admin\"");
		return false;
	}
	return true;
}

/*
 * Answers the batch of a create: what is stored for each revocation right
 * after its commit (a merge may have kept a later revoked_at or
 * expires_at, and another source's contribution may be the one in force).
 * The store's writer read it inside the batch's transaction
 * (rvk_take_async_shown); what it could not read is shown as recorded.
 */
static void
reply_batch(rvk_req_t *req, const rvk_take_batch_t *b)
{
	rvk_buf_t out = RVK_BUF_INIT;
	rvk_buf_puts(&out, "{\"revocations\":[");
	for (size_t i = 0; i < b->n; i++) {
		if (i)
			rvk_buf_append(&out, ",", 1);
		rvk_render_revocation(&out, b->shown[i].iss ? &b->shown[i]
		                                            : &b->revs[i]);
	}
	rvk_buf_append(&out, "]}", 2);
	rvk_reply_text(req, MHD_HTTP_CREATED, "application/json", out.data,
	               out.len);
	rvk_buf_fini(&out);
}

static void
reply_doc(rvk_req_t *req, unsigned status, json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	rvk_reply_json(req, status, s);
	free(s);
}

static void
store_failed(rvk_req_t *req, rvk_result_t r)
{
	rvk_reply_failure(req, r);
}

static const char *
arg(rvk_req_t *req, const char *name)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	return v && *v ? v : NULL;
}

/* Back on the worker: log and count, then the answer. */
static void
create_finish(rvk_req_t *req)
{
	rvk_take_batch_t *b = rvk_take_settle(req);
	if (b->result != RVK_OK)
		store_failed(req, b->result);
	else
		reply_batch(req, b);
	rvk_take_batch_free(b);
}

static void
create(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	if (!rvk_rules_media_type(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                                      MHD_HTTP_HEADER_CONTENT_TYPE),
	                          "application/json")) {
		rvk_reply_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
		                "Content-Type must be application/json");
		return;
	}
	int64_t now = rvk_clock_now();
	const rvk_app_live_t *live = rvk_app_live_hold(app);
	rvk_events_opts_t o = {
		.issuers = live->issuers,
		.leeway = live->policy.leeway,
		.max_token_lifetime = live->policy.max_token_lifetime,
		.now = now,
		.default_at = now,
		.source = RVK_SRC_ADMIN,
	};
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[512];
	rvk_result_t r = rvk_events_parse(req->body, req->body_len, &o, &revs, &n, err,
	                                  sizeof(err));
	rvk_app_live_drop(live); /* the revocations hold copies */
	if (r != RVK_OK) {
		rvk_reply_error(req, r == RVK_EBUSY ? MHD_HTTP_CONTENT_TOO_LARGE
		                                    : MHD_HTTP_BAD_REQUEST,
		                "invalid_request", err);
		return;
	}
	rvk_take_async_shown(req, revs, n, NULL, create_finish);
}

static void
list(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	rvk_listquery_t q;
	const char *why = rvk_listquery_parse(arg(req, "type"), arg(req, "iss"),
	                                      arg(req, "limit"), arg(req, "cursor"),
	                                      &q);
	if (why) {
		rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
		return;
	}
	if (!app->store) {
		rvk_listquery_fini(&q);
		store_failed(req, RVK_EIO);
		return;
	}
	const char *iss = q.iss;
	int type = q.type;
	rvk_revocation_t *items = NULL;
	size_t n = 0;
	bool more = false;
	rvk_result_t r = rvk_store_list(app->store, type, iss, &q.pos, q.limit, &items,
	                                &n, &more);
	rvk_listquery_fini(&q);
	if (r != RVK_OK) {
		store_failed(req, r);
		return;
	}
	rvk_buf_t out = RVK_BUF_INIT;
	rvk_buf_puts(&out, "{\"items\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			rvk_buf_append(&out, ",", 1);
		rvk_render_revocation(&out, &items[i]);
	}
	rvk_buf_puts(&out, "],\"next_cursor\":");
	char *text = NULL;
	if (more && n > 0) {
		rvk_cursor_t c = {
			.type = (int)items[n - 1].type, .iss = items[n - 1].iss,
			.id = items[n - 1].id, .filter_type = type, .filter_iss = (char *)iss,
		};
		text = rvk_cursor_encode(&c);
	}
	rvk_render_string(&out, text);
	rvk_buf_append(&out, "}", 1);
	free(text);
	for (size_t i = 0; i < n; i++)
		rvk_revocation_fini(&items[i]);
	free(items);
	rvk_reply_text(req, MHD_HTTP_OK, "application/json", out.data, out.len);
	rvk_buf_fini(&out);
}

void
rvk_handle_admin_revocations(rvk_req_t *req)
{
	if (!authorized(req))
		return;
	if (strcmp(req->method, "POST") == 0)
		create(req);
	else
		rvk_req_block(req, list);       /* reads the database */
}

/*
 * Splits "/admin/v1/revocations/{type}/{id}" and finds the issuer (the iss
 * argument, or the only configured issuer). Returns: true with the parts
 * (borrowed from the request), or false after answering 400.
 */
static bool
target(rvk_req_t *req, rvk_rev_type_t *type, const char **iss, const char **id,
       char only[RVK_ID_MAX + 1])
{
	const char *rest = req->url + strlen(ONE_PREFIX);
	const char *slash = strchr(rest, '/');
	size_t tn = slash ? (size_t)(slash - rest) : strlen(rest);
	char tname[16];
	if (tn >= sizeof(tname)) {
		rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request",
		                "type: must be token, session, subject, issuer or key");
		return false;
	}
	memcpy(tname, rest, tn);
	tname[tn] = '\0';
	if (!rvk_rev_type_parse(tname, type)) {
		rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request",
		                "type: must be token, session, subject, issuer or key");
		return false;
	}
	*id = slash ? slash + 1 : "";
	if (*type == RVK_REV_ISSUER && **id) {
		rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request",
		                "an issuer revocation has an empty ID: "
		                "/admin/v1/revocations/issuer/?iss=...");
		return false;
	}
	if (*type != RVK_REV_ISSUER && !**id) {
		rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request", "missing ID");
		return false;
	}
	*iss = arg(req, "iss");
	if (!*iss) {
		/* Copied into only[]: a reload may drop the issuer set while
		 * the store call runs. */
		const rvk_app_live_t *live = rvk_app_live_hold(req->app);
		const rvk_issuers_t *set = live->issuers;
		bool one = set->n == 1;
		if (one)
			snprintf(only, RVK_ID_MAX + 1, "%s", set->v[0]->iss);
		rvk_app_live_drop(live);
		if (!one) {
			rvk_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_request",
			                "iss: required when more than one issuer is configured");
			return false;
		}
		*iss = only;
	}
	return true;
}

void
rvk_handle_admin_revocation(rvk_req_t *req)
{
	if (!authorized(req))
		return;
	rvk_rev_type_t type;
	const char *iss, *id;
	char only[RVK_ID_MAX + 1];
	if (!target(req, &type, &iss, &id, only))
		return;
	rvk_store_t *store = req->app->store;
	if (!store) {
		store_failed(req, RVK_EIO);
		return;
	}
	if (strcmp(req->method, "DELETE") == 0) {
		bool deleted = false;
		rvk_result_t r = rvk_store_delete(store, type, iss, id, NULL, &deleted);
		if (r != RVK_OK) {
			store_failed(req, r);
		} else if (!deleted) {
			rvk_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such revocation");
		} else {
			rvk_log(RVK_LOG_INFO, "revocation removed", "source", "admin",
			        "type", rvk_rev_type_name(type), "iss", iss, "id", id, NULL);
			rvk_reply_empty(req, MHD_HTTP_NO_CONTENT);
		}
		return;
	}
	rvk_revocation_t got;
	rvk_result_t r = rvk_store_get(store, type, iss, id, &got);
	if (r == RVK_ENOTFOUND) {
		rvk_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such revocation");
	} else if (r != RVK_OK) {
		store_failed(req, r);
	} else {
		rvk_buf_t out = RVK_BUF_INIT;
		rvk_render_revocation(&out, &got);
		rvk_revocation_fini(&got);
		rvk_reply_text(req, MHD_HTTP_OK, "application/json", out.data,
		               out.len);
		rvk_buf_fini(&out);
	}
}

void
rvk_handle_admin_stats(rvk_req_t *req)
{
	if (!authorized(req))
		return;
	const rvk_app_t *app = req->app;
	json_t *revs = json_object();
	size_t total = 0;
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++) {
		size_t c = rvk_revtable_count(app->revtable, (rvk_rev_type_t)t);
		total += c;
		json_object_set_new(revs, rvk_rev_type_name((rvk_rev_type_t)t),
		                    json_integer((json_int_t)c));
	}
	json_object_set_new(revs, "total", json_integer((json_int_t)total));

	uint64_t hits = 0, misses = 0;
	rvk_metrics_vcache_totals(&hits, &misses);
	json_t *vc = json_object();
	json_object_set_new(vc, "entries", json_integer(
		(json_int_t)(app->vcache ? rvk_vcache_len(app->vcache) : 0)));
	json_object_set_new(vc, "hits", json_integer((json_int_t)hits));
	json_object_set_new(vc, "misses", json_integer((json_int_t)misses));
	json_object_set_new(vc, "hit_ratio", hits + misses
	                    ? json_real((double)hits / (double)(hits + misses))
	                    : json_null());

	json_t *st = json_object();
	if (app->store) {
		rvk_store_stats_t s;
		rvk_store_stats(app->store, &s);
		json_object_set_new(st, "state", json_string(s.healthy ? "ok" : "failing"));
		json_object_set_new(st, "rows", json_integer((json_int_t)s.rows));
		json_object_set_new(st, "commits", json_integer((json_int_t)s.commits));
		json_object_set_new(st, "rows_written", json_integer((json_int_t)s.rows_written));
		json_object_set_new(st, "failed_commits",
		                    json_integer((json_int_t)s.failed_commits));
	} else {
		json_object_set_new(st, "state", json_string("absent"));
	}

	json_t *doc = json_object();
	json_object_set_new(doc, "revocations", revs);
	json_object_set_new(doc, "verified_cache", vc);
	json_object_set_new(doc, "store", st);
	if (app->replica) {
		rvk_replica_status_t rs;
		rvk_replica_status(app->replica, &rs);
		json_object_set_new(doc, "cluster", json_string(
			rvk_replica_state_name(rs.state)));
	} else {
		json_object_set_new(doc, "cluster", json_string("disabled"));
	}
	/* The configured issuers, for the console's forms (docs/CONSOLE.md). */
	json_t *isss = json_array();
	const rvk_app_live_t *live = rvk_app_live_hold(app);
	for (size_t i = 0; i < live->issuers->n; i++)
		json_array_append_new(isss, json_string(live->issuers->v[i]->iss));
	rvk_app_live_drop(live);
	json_object_set_new(doc, "issuers", isss);
	reply_doc(req, MHD_HTTP_OK, doc);
}
