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
#include "base/heap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "service/api_settings.h"
#include "service/keyfetch.h"
#include "service/notify.h"
#include "service/commands.h"
#include "service/runtime.h"
#include "service/secrets.h"
#include "service/sweeper.h"

struct rvk_runtime {
	rvk_config_t *cfg;            /* the start-up config (the caller's) */
	const rvk_config_t *cur;      /* app.live's: cfg, or a reload's (owned by
	                               * the live object) */
	rvk_app_t app;
	rvk_server_t *server;
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

/* The replica's consumer thread asks; the issuer set may be swapped. */
static bool
replica_issuer_known(void *arg, const char *iss)
{
	rvk_app_t *app = arg;
	rvk_rcu_read_lock();
	const rvk_app_live_t *live = rvk_rcu_dereference(app->live);
	bool known = rvk_issuers_find(live->issuers, iss, strlen(iss)) != NULL;
	rvk_rcu_read_unlock();
	return known;
}

/* live->release: the last reference is gone (any thread). The key
 * refresher was stopped before its live object was unpublished. */
static void
live_release(rvk_app_live_t *live)
{
	rvk_keyfetch_stop(live->keys_arg);
	rvk_keyfetch_free(live->keys_arg);
	rvk_issuers_free(live->issuers);
	free(live->issuers); /* rvk_issuers_free frees the contents only */
	rvk_api_settings_fini(&live->settings);
	rvk_config_free(live->owner);
	free(live);
}

/* A live object for cfg and issuers (transferred), with its key refresher
 * (not started); owned: cfg itself, freed with it (NULL: the caller's). */
static rvk_app_live_t *
live_new(const rvk_config_t *cfg, rvk_config_t *owned, rvk_issuers_t *issuers,
         uint64_t generation)
{
	rvk_app_live_t *live = rvk_calloc(1, sizeof(*live));
	rvk_api_settings_from_config(cfg, &live->settings);
	live->issuers = issuers;
	live->policy = (rvk_policy_t){
		.leeway = cfg->leeway,
		.max_token_bytes = (size_t)cfg->max_token_bytes,
		.max_token_lifetime = cfg->max_token_lifetime,
		.require_jti = cfg->require_jti,
	};
	live->generation = generation;
	live->keys_arg = rvk_keyfetch_new(cfg, issuers);
	live->refs = 1; /* the publication's */
	live->release = live_release;
	live->owner = owned;
	return live;
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
	rt->cur = cfg;
	rvk_app_t *app = &rt->app;
	rvk_api_settings_from_config(cfg, &app->settings);
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
	rvk_issuers_t *issuers = NULL;
	if (rvk_secrets_load_issuers(cfg, &issuers, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto cleanup;
	}
	/* Remote keys: the refresher takes over the rings now; its first
	 * fetches run on its thread, started below. */
	app->live = live_new(cfg, NULL, issuers, 1);
	rvk_metrics_config_reload(true, true, rvk_clock_now());
	if ((code = rvk_secrets_load_app(cfg, app)) != 0)
		goto cleanup;
	code = 1;
	app->revtable = rvk_revtable_new(1u << 16, cfg->leeway);
	/* The serving process keeps the clean-stop marker: a start after a
	 * clean stop skips the read of the whole file (DECISIONS D26). */
	rvk_store_opts_t so = {
		.leeway = cfg->leeway, .on_commit = on_commit,
		.check = cfg->integrity_check_every_start
		         ? RVK_STORE_CHECK_EVERY_START
		         : RVK_STORE_CHECK_AFTER_UNCLEAN_STOP,
		.clean_stop_marker = true,
	};
	if (cfg->redis_url) {
		/* Cluster mode: the replica exists before the store so the
		 * store's writer can wake its publisher (store/replica.h). */
		/* The password: REVOKD_REDIS_PASSWORD, else password_file,
		 * else the URL's. */
		char *pw = NULL;
		size_t pwlen = 0;
		const char *pwenv = getenv("REVOKD_REDIS_PASSWORD");
		if (pwenv && *pwenv) {
			pw = rvk_strdup(pwenv);
			pwlen = strlen(pw);
		} else if (cfg->redis_password_file &&
		           rvk_secrets_read(cfg->redis_password_file, &pw,
		                                  &pwlen, err, sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: config %s: redis.password_file: %s\n",
			        cfg->path ? cfg->path : "(none)", err);
			code = 2;
			goto cleanup;
		}
		if ((cfg->redis_tls_ca_file || cfg->redis_tls_cert_file
		     || cfg->redis_tls_server_name)
		    && strncmp(cfg->redis_url, "rediss://", 9) != 0) {
			fprintf(stderr, "revokd: config %s: redis.tls: is set but the "
			        "redis URL is not rediss:// (TLS)\n",
			        cfg->path ? cfg->path : "(none)");
			if (pw)
				rvk_memzero(pw, pwlen);
			free(pw);
			code = 2;
			goto cleanup;
		}
		char *spw = NULL;
		size_t spwlen = 0;
		if (cfg->redis_sentinel_password_file &&
		    rvk_secrets_read(cfg->redis_sentinel_password_file, &spw,
		                           &spwlen, err, sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: config %s: redis.sentinel.password_file: %s\n",
			        cfg->path ? cfg->path : "(none)", err);
			if (pw)
				rvk_memzero(pw, pwlen);
			free(pw);
			code = 2;
			goto cleanup;
		}
		rvk_replica_opts_t ro = {
			.url = cfg->redis_url,
			.password = pw,
			.sentinel_master = cfg->redis_sentinel_master,
			.sentinel_addrs = (const char *const *)cfg->redis_sentinel_addrs,
			.n_sentinel_addrs = cfg->n_redis_sentinel_addrs,
			.sentinel_password = spw,
			.wait_replicas = (int)cfg->redis_wait_replicas,
			.reconcile_interval = cfg->redis_reconcile_interval,
			.tls = { .ca_file = cfg->redis_tls_ca_file,
			         .cert_file = cfg->redis_tls_cert_file,
			         .key_file = cfg->redis_tls_key_file },
			.server_name = cfg->redis_tls_server_name,
			.stream = cfg->redis_stream,
			.max_token_lifetime = cfg->max_token_lifetime,
			.leeway = cfg->leeway,
			.on_applied = on_replica_applied,
			.issuer_known = replica_issuer_known,
			.issuer_known_arg = app,
		};
		rvk_result_t rr = rvk_replica_new(&ro, &app->replica, err, sizeof(err));
		if (pw)
			rvk_memzero(pw, pwlen);
		free(pw);
		if (spw)
			rvk_memzero(spw, spwlen);
		free(spw);
		if (rr != RVK_OK) {
			fprintf(stderr, "revokd: config %s: %s\n",
			        cfg->path ? cfg->path : "(none)", err);
			code = 2;
			goto cleanup;
		}
		so.cluster = true;
		/* A change's version outlives it by the stream's retention
		 * and a day: no entry that could still arrive is older. */
		so.version_keep = cfg->max_token_lifetime + 2 * cfg->leeway + 86400;
		/* Replicas purge at the same cutoffs between two rounds of
		 * reconciliation, so expiry makes no difference in their
		 * digests (DECISIONS D36). */
		so.purge_align = cfg->redis_reconcile_interval;
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
	app->key_kick = rvk_keyfetch_kick_cb;
	app->metrics_extra = rvk_keyfetch_render_metrics;
	if (rvk_keyfetch_start(app->live->keys_arg) != RVK_OK) {
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
	        "threads", threads, "data_dir", cfg->data_dir,
	        "allocator", rvk_heap_allocator(), NULL);
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
	if (rvk_secrets_load_issuers(rt->cur, &fresh, err, sizeof(err)) != RVK_OK) {
		rvk_log(RVK_LOG_ERROR, "key reload failed; the old keys stay", "error", err, NULL);
		return;
	}
	/* The issuer objects stay (requests and cache entries point to them);
	 * only their keyrings are swapped, by the key refresher, which merges
	 * the file keys with the JWKS keys and refetches every JWKS. The main
	 * thread is the only one that replaces app.live: no hold needed. */
	rvk_keyfetch_reload(rt->app.live->keys_arg, fresh);
	rvk_issuers_free(fresh);
	free(fresh); /* rvk_issuers_free frees the contents only */
}

void
rvk_runtime_reload_secrets(rvk_runtime_t *rt)
{
	rvk_secrets_reload_app(rt->cur, &rt->app);
}

void
rvk_runtime_reload_refused(rvk_runtime_t *rt, const char *why)
{
	(void)rt;
	rvk_log(RVK_LOG_ERROR, "config reload refused", "error", why, NULL);
	rvk_metrics_config_reload(false, false, rvk_clock_now());
}

/*
 * Everything is read and checked before anything is applied: the restart-
 * only keys, the leeway bound, the key files, the secret files. Then one
 * pointer swap publishes the issuers, policy and settings together; the
 * old key refresher is stopped first (it publishes into the old issuers),
 * the new one takes over its JWKS keys and fetches at once. After a grace
 * period no /auth request can see the old generation, so its verified-cache
 * entries are dropped and the old object loses its publication reference.
 */
void
rvk_runtime_reload_config(rvk_runtime_t *rt, rvk_config_t *fresh)
{
	char why[1024], changed[1024];
	rvk_app_t *app = &rt->app;
	rvk_config_diff(rt->cur, fresh, true, why, sizeof(why));
	if (*why) {
		size_t o = strlen(why);
		snprintf(why + o, sizeof(why) - o, " cannot change without a restart");
		goto refuse;
	}
	/* Revocations are kept (in memory, in SQLite, in the stream) until
	 * expires_at + the start-up leeway: a larger leeway would accept
	 * revoked tokens again once their revocation is purged (DECISIONS
	 * D24). */
	if (fresh->leeway > rt->cfg->leeway) {
		snprintf(why, sizeof(why), "leeway cannot rise above %lld (its value at start) "
		         "without a restart", (long long)rt->cfg->leeway);
		goto refuse;
	}
	rvk_config_diff(rt->cur, fresh, false, changed, sizeof(changed));
	if (!*changed) {
		/* The same configuration: the keys and secrets as before. */
		rvk_config_free(fresh);
		rvk_runtime_reload(rt);
		rvk_runtime_reload_secrets(rt);
		rvk_log(RVK_LOG_INFO, "config unchanged", NULL);
		rvk_metrics_config_reload(true, false, rvk_clock_now());
		return;
	}
	rvk_issuers_t *issuers = NULL;
	if (rvk_secrets_load_issuers(fresh, &issuers, why, sizeof(why)) != RVK_OK)
		goto refuse;
	char err[768];
	rvk_app_secrets_t *sec = rvk_secrets_read_app(fresh, err, sizeof(err));
	if (!sec) {
		snprintf(why, sizeof(why), "config %.200s: %s",
		         fresh->path ? fresh->path : "(none)", err);
		rvk_issuers_free(issuers);
		free(issuers);
		goto refuse;
	}
	rvk_app_live_t *old = app->live;
	rvk_app_live_t *live = live_new(fresh, fresh, issuers, old->generation + 1);
	/* Stopped first, so nothing the old refresher fetches after the
	 * adoption is lost. */
	rvk_keyfetch_stop(old->keys_arg);
	rvk_keyfetch_adopt(live->keys_arg, old->keys_arg);
	rvk_rcu_assign_pointer(app->live, live);
	rt->cur = fresh;
	if (rvk_keyfetch_start(live->keys_arg) != RVK_OK)
		rvk_log(RVK_LOG_ERROR, "cannot start the JWKS refresher thread; the JWKS "
		        "keys stay as they were", NULL);
	rvk_log_set_level(fresh->log_level);
	rvk_secrets_publish_app(app, sec);
	rvk_rcu_synchronize();
	char dropped[24];
	snprintf(dropped, sizeof(dropped), "%zu",
	         rvk_api_vcache_drop_stale(app, live->generation));
	rvk_log(RVK_LOG_DEBUG, "verified cache entries of the old configuration dropped",
	        "entries", dropped, NULL);
	rvk_app_live_drop(old);
	char gen[24];
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)live->generation);
	rvk_log(RVK_LOG_INFO, "config reloaded", "changed", changed, "generation", gen,
	        NULL);
	rvk_metrics_config_reload(true, false, rvk_clock_now());
	return;
refuse:
	rvk_config_free(fresh);
	rvk_runtime_reload_refused(rt, why);
}

void
rvk_runtime_stop(rvk_runtime_t *rt)
{
	if (!rt)
		return;
	rvk_app_t *app = &rt->app;
	rvk_notify_stop(rt->notify); /* STOPPING=1 before the drain */
	rt->notify = NULL;
	if (app->live)
		rvk_keyfetch_stop(app->live->keys_arg);
	/* A sweep in progress ends at its next chunk while the requests
	 * drain (service/sweeper.h). */
	rvk_sweeper_request_stop(rt->sweeper);
	rvk_server_stop(rt->server);
	rt->server = NULL;
	rvk_sweeper_stop(rt->sweeper);
	rt->sweeper = NULL;
	rvk_replica_stop(app->replica);  /* before the store it reads */
	rvk_store_close(app->store);
	rvk_replica_free(app->replica);  /* the writer may kick it until here */
	rvk_rcu_barrier();
	if (app->vcache)
		rvk_vcache_free(app->vcache);
	/* The process exits next: the table (every stored revocation) is left
	 * to the kernel outside sanitizer builds, or the stop takes ~1.8 us of
	 * CPU per entry (cache/syncmap.h, rvk_syncmap_free_at_exit). */
	rvk_revtable_free_at_exit(app->revtable);
	if (app->seen)
		rvk_syncmap_free(app->seen);
	rvk_api_release(app);
	/* No request, replica or refresher thread is left: the last
	 * reference; its key refresher is freed with it. */
	rvk_app_live_drop(app->live);
	app->live = NULL;
	rvk_rcu_barrier();
	rvk_secrets_release_app(app);
	free(rt);
}

unsigned
rvk_runtime_port(rvk_runtime_t *rt, int admin)
{
	return rvk_server_port(rt->server, admin);
}
