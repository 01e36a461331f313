#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "api/metrics.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "service/keyfetch.h"
#include "service/notify.h"
#include "service/commands.h"
#include "service/runtime.h"
#include "service/secrets.h"
#include "service/sweeper.h"

struct rvk_runtime {
	rvk_config_t *cfg;
	rvk_app_t app;
	rvk_server_t *server;
	rvk_keyfetch_t *jwks;             /* publishes every keyring after start */
	rvk_notify_t *notify;         /* systemd READY/WATCHDOG; NULL: none */
	rvk_sweeper_t *sweeper;       /* NULL: none (no thread) */
};

static void
on_commit(void *arg, double seconds, size_t rows, bool ok)
{
	(void)arg;
	(void)rows;
	rvk_metrics_commit((uint64_t)(seconds * 1e9));
	if (!ok)
		rvk_metrics_commit_error();
}

static void
on_replica_applied(void *arg, size_t n)
{
	(void)arg;
	rvk_metrics_taken(RVK_SRC_REPLICA, n);
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
rvk_runtime_start(rvk_config_t *cfg, rvk_runtime_t **out)
{
	char err[1024];
	rvk_runtime_t *rt = rvk_calloc(1, sizeof(*rt));
	rt->cfg = cfg;
	rvk_app_t *app = &rt->app;
	app->cfg = cfg;
	app->policy = (rvk_policy_t){
		.leeway = cfg->leeway,
		.max_token_bytes = (size_t)cfg->max_token_bytes,
		.max_token_lifetime = cfg->max_token_lifetime,
		.require_jti = cfg->require_jti,
	};
	raise_fd_limit();
	rvk_rcu_thread_online();
	const char *build[] = {
		"version", REVOKD_VERSION,
		"openssl", rvk_version_openssl(),
		"libmicrohttpd", MHD_get_version(),
		"sqlite", rvk_version_sqlite(),
		"jansson", jansson_version_str(),
		"libcurl", curl_version_info(CURLVERSION_NOW)->version,
		NULL,
	};
	rvk_metrics_set_build_info(build);

	int code = 2;
	if (rvk_secrets_load_issuers(cfg, &app->issuers, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto cleanup;
	}
	if ((code = rvk_secrets_load_app(cfg, app)) != 0)
		goto cleanup;
	code = 1;
	app->revtable = rvk_revtable_new(1u << 16, cfg->leeway);
	rvk_store_opts_t so = { .leeway = cfg->leeway, .on_commit = on_commit };
	if (cfg->redis_url) {
		/* Cluster mode: the replica exists before the store so the
		 * store's writer can wake its publisher (store/replica.h). */
		rvk_replica_opts_t ro = {
			.url = cfg->redis_url,
			.stream = cfg->redis_stream,
			.max_token_lifetime = cfg->max_token_lifetime,
			.leeway = cfg->leeway,
			.on_applied = on_replica_applied,
		};
		if (rvk_replica_new(&ro, &app->replica, err, sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: config %s: %s\n",
			        cfg->path ? cfg->path : "(none)", err);
			code = 2;
			goto cleanup;
		}
		so.cluster = true;
		so.on_outbox = rvk_replica_kick;
		so.on_outbox_arg = app->replica;
	}
	rvk_result_t r = rvk_store_open(cfg->data_dir, app->revtable, &so,
	                                rvk_clock_now(), &app->store, err, sizeof(err));
	if (r != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto cleanup;
	}
	app->ready_store = true;
	if (app->replica &&
	    rvk_replica_start(app->replica, app->store, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto cleanup;
	}
	app->vcache = rvk_vcache_new((size_t)cfg->vcache_max_entries, rvk_api_vcache_free);
	app->seen = rvk_syncmap_new(1024, NULL);
	rvk_api_prepare(app);
	/* Remote keys: the first fetches run on the refresher thread, so a slow
	 * IdP delays only its own issuer's readiness, not the listener. */
	rt->jwks = rvk_keyfetch_new(cfg, app->issuers);
	app->key_kick = rvk_keyfetch_kick_cb;
	app->key_kick_arg = rt->jwks;
	app->metrics_extra = rvk_keyfetch_render_metrics;
	app->metrics_extra_arg = rt->jwks;
	if (rvk_keyfetch_start(rt->jwks) != RVK_OK) {
		fprintf(stderr, "revokd: cannot start the JWKS refresher thread\n");
		goto cleanup;
	}
	if (rvk_server_start(app, &rt->server, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto cleanup;
	}
	rt->sweeper = rvk_sweeper_start(app);

	char port[16], threads[16];
	snprintf(port, sizeof(port), "%u", rvk_server_port(rt->server, 0));
	snprintf(threads, sizeof(threads), "%d", rvk_config_threads(cfg));
	rvk_log(RVK_LOG_INFO, "revokd listening", "listen", cfg->listen, "port", port,
	        "admin_listen", cfg->admin_listen ? cfg->admin_listen : "(same)",
	        "threads", threads, "data_dir", cfg->data_dir, NULL);
	/* Last: its first probe must find the listener up. */
	rt->notify = rvk_notify_start(cfg->listen, rvk_server_port(rt->server, 0));
	*out = rt;
	return 0;
cleanup:
	rvk_runtime_stop(rt);
	return code;
}

void
rvk_runtime_reload(rvk_runtime_t *rt)
{
	char err[1024];
	rvk_issuers_t *fresh = NULL;
	if (rvk_secrets_load_issuers(rt->cfg, &fresh, err, sizeof(err)) != RVK_OK) {
		rvk_log(RVK_LOG_ERROR, "key reload failed; the old keys stay", "error", err, NULL);
		return;
	}
	/* The issuer objects stay (requests and cache entries point to them);
	 * only their keyrings are swapped, by the key refresher, which merges
	 * the file keys with the JWKS keys and refetches every JWKS. */
	rvk_keyfetch_reload(rt->jwks, fresh);
	rvk_issuers_free(fresh);
	free(fresh); /* rvk_issuers_free frees the contents only */
}

void
rvk_runtime_reload_secrets(rvk_runtime_t *rt)
{
	rvk_secrets_reload_app(rt->cfg, &rt->app);
}

void
rvk_runtime_stop(rvk_runtime_t *rt)
{
	if (!rt)
		return;
	rvk_notify_stop(rt->notify); /* STOPPING=1 before the drain */
	rt->notify = NULL;
	rvk_keyfetch_stop(rt->jwks);
	rvk_server_stop(rt->server);
	rt->server = NULL;
	rvk_keyfetch_free(rt->jwks); /* no request can kick it any more */
	rt->jwks = NULL;
	rvk_sweeper_stop(rt->sweeper);
	rt->sweeper = NULL;
	rvk_app_t *app = &rt->app;
	rvk_replica_stop(app->replica);  /* before the store it reads */
	rvk_store_close(app->store);
	rvk_replica_free(app->replica);  /* the writer may kick it until here */
	rvk_rcu_barrier();
	if (app->vcache)
		rvk_vcache_free(app->vcache);
	if (app->revtable)
		rvk_revtable_free(app->revtable);
	if (app->seen)
		rvk_syncmap_free(app->seen);
	rvk_api_release(app);
	if (app->issuers) {
		rvk_issuers_free(app->issuers);
		free(app->issuers); /* rvk_issuers_free frees the contents only */
		app->issuers = NULL;
	}
	rvk_rcu_barrier();
	rvk_secrets_release_app(app);
	free(rt);
}

unsigned
rvk_runtime_port(rvk_runtime_t *rt, int admin)
{
	return rvk_server_port(rt->server, admin);
}
