/*
 * /healthz, /readyz, /metrics (REFERENCE §6), served on every listener.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/handler.h"
#include "base/rcu.h"

void
rvk_handle_healthz(rvk_req_t *req)
{
	rvk_reply_text(req, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok", 2);
}

/* Returns: "ok", or an owned description of what is wrong. */
static char *
keys_check(const rvk_app_t *app)
{
	char *bad = NULL;
	rvk_rcu_read_lock();
	const rvk_issuers_t *set = rvk_rcu_dereference(((rvk_app_t *)app)->live)->issuers;
	for (size_t i = 0; i < set->n && !bad; i++) {
		const rvk_issuer_t *is = set->v[i];
		if (rvk_issuer_keyring(is)->n == 0) {
			size_t n = strlen(is->iss) + 32;
			bad = malloc(n);
			if (bad)
				snprintf(bad, n, "issuer %s has no key", is->iss);
		}
	}
	rvk_rcu_read_unlock();
	return bad;
}

/* /readyz's verdict, shared with /metrics (revokd_ready). *keys: NULL or
 * the owned description of the keys check; *rs filled in cluster mode. */
static bool
readiness(const rvk_app_t *app, char **keys, rvk_replica_status_t *rs)
{
	*keys = keys_check(app);
	bool ready = app->ready_store && !*keys;
	if (app->replica) {
		/* Not ready until the initial catch-up; an outage after it
		 * only degrades (decisions never wait on Redis). */
		rvk_replica_status(app->replica, rs);
		ready = ready && rs->ready;
	}
	return ready;
}

void
rvk_handle_readyz(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	char *keys;
	rvk_replica_status_t rs = { 0 };
	bool ready = readiness(app, &keys, &rs);
	bool store_ok = app->ready_store;
	const char *repl = app->replica ? rvk_replica_state_name(rs.state) : "disabled";
	json_t *checks = json_object();
	json_object_set_new(checks, "store", json_string(store_ok ? "ok" : "not loaded"));
	json_object_set_new(checks, "keys", json_string(keys ? keys : "ok"));
	json_object_set_new(checks, "replication", json_string(repl));
	/* Why Redis cannot be used (TLS verification, AUTH, version...),
	 * while it cannot. */
	if (app->replica && rs.error[0] && rs.state != RVK_REPL_CONNECTED)
		json_object_set_new(checks, "replication_error",
		                    json_string(rs.error));
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(ready ? "ready" : "not ready"));
	json_object_set_new(o, "checks", checks);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(keys);
	rvk_reply_json(req, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, s);
	free(s);
}

void
rvk_handle_metrics(rvk_req_t *req)
{
	const rvk_app_t *app = req->app;
	rvk_metrics_gauges_t g = { 0 };
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		g.revocations[t] = rvk_revtable_count(app->revtable, (rvk_rev_type_t)t);
	g.vcache_entries = rvk_vcache_len(app->vcache);
	char *keys;
	rvk_replica_status_t rs;
	g.ready = readiness(app, &keys, &rs);
	free(keys);
	if (app->replica) {
		g.cluster = true;
		g.replication_outbox = rs.outbox;
		g.replication_lag_seconds = rs.lag_seconds;
		g.replication_rejected = rs.rejected;
		g.reconcile_rounds = rs.rounds;
		g.reconcile_skipped = rs.skipped;
		g.reconcile_republished = rs.republished;
		g.replication_connect_failures = rs.connect_failures;
		g.replication_state = (int)rs.state;
	}
	rvk_buf_t extra = RVK_BUF_INIT;
	if (app->metrics_extra) {
		const rvk_app_live_t *live = rvk_app_live_hold(app);
		app->metrics_extra(&extra, live->keys_arg);
		rvk_app_live_drop(live);
		g.extra = extra.data;
	}
	rvk_buf_t b = RVK_BUF_INIT;
	rvk_metrics_render(&b, &g);
	rvk_buf_fini(&extra);
	rvk_reply_text(req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
	               b.data, b.len);
	rvk_buf_fini(&b);
}
