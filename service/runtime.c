#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "api/metrics.h"
#include "service/commands.h"
#include "base/b64.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "service/jwks.h"
#include "service/notify.h"
#include "service/runtime.h"

#define SWEEP_INTERVAL_MS 1000
/* A sweep walks its whole table (250-500 ms for 1M entries, DECISIONS
 * D7): the next one waits at least this many times as long as the last walk
 * took, so sweeping costs at most ~2% of one core however large the table,
 * and a 1M-entry table is swept every ~10-25 s instead of stealing a third
 * of a core from /auth every second. */
#define SWEEP_PACE 50
#define PURGE_EVERY_SWEEPS 60
#define TRIM_AFTER_SWEPT 1024

struct rvk_runtime {
	rvk_config_t *cfg;
	rvk_app_t app;
	rvk_server_t *server;
	rvk_jwks_t *jwks;             /* publishes every keyring after start */
	rvk_notify_t *notify;         /* systemd READY/WATCHDOG; NULL: none */
	pthread_t sweeper;
	bool sweeper_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
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

/* When a table's next sweep is due, on the monotonic clock. */
struct pace {
	uint64_t due_ns;
};

/* Runs sweep() when due and schedules the next one. Returns: entries swept. */
static size_t
paced(struct pace *p, size_t (*sweep)(void *, int64_t), void *table, int64_t now)
{
	uint64_t t0 = rvk_clock_mono_ns();
	if (t0 < p->due_ns)
		return 0;
	size_t n = sweep(table, now);
	uint64_t took = rvk_clock_mono_ns() - t0;
	uint64_t wait = took * SWEEP_PACE;
	if (wait < (uint64_t)SWEEP_INTERVAL_MS * 1000000u)
		wait = (uint64_t)SWEEP_INTERVAL_MS * 1000000u;
	/* Due slightly early, so a 1 s wait is not missed by a timer's jitter. */
	p->due_ns = t0 + wait - wait / 16;
	return n;
}

static size_t
sweep_revtable(void *t, int64_t now)
{
	return rvk_revtable_sweep(t, now);
}

static size_t
sweep_vcache(void *t, int64_t now)
{
	return rvk_vcache_sweep(t, now);
}

static size_t
sweep_syncmap(void *t, int64_t now)
{
	return rvk_syncmap_sweep(t, now);
}

/*
 * The sweeper: expired entries leave the tables every second (less often
 * for a table so large that walking it costs more than SWEEP_PACE allows),
 * and rows that can deny nothing leave the database every minute, so with
 * no traffic memory returns to its baseline.
 */
static void *
sweeper_main(void *arg)
{
	rvk_runtime_t *rt = arg;
	rvk_rcu_thread_online();
	unsigned n = 0;
	struct pace p_rev = { 0 }, p_vc = { 0 }, p_seen = { 0 };
	pthread_mutex_lock(&rt->mu);
	while (!rt->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += SWEEP_INTERVAL_MS / 1000;
		pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
		if (rt->stopping)
			break;
		pthread_mutex_unlock(&rt->mu);
		int64_t now = rvk_clock_now();
		size_t swept = paced(&p_rev, sweep_revtable, rt->app.revtable, now);
		swept += paced(&p_vc, sweep_vcache, rt->app.vcache, now);
		if (rt->app.seen)
			swept += paced(&p_seen, sweep_syncmap, rt->app.seen, now);
		if (swept >= TRIM_AFTER_SWEPT) {
			/* Swept nodes are freed by call_rcu; once they are, give the
			 * pages back, so an idle process returns to its baseline RSS
			 * instead of keeping the peak of its last burst. */
			rvk_rcu_barrier();
			malloc_trim(0);
		}
		if (++n % PURGE_EVERY_SWEEPS == 0 && rt->app.store) {
			size_t purged = 0;
			if (rvk_store_purge(rt->app.store, now, &purged) == RVK_OK && purged) {
				char num[32];
				snprintf(num, sizeof(num), "%zu", purged);
				rvk_log(RVK_LOG_INFO, "expired revocations purged", "rows", num, NULL);
			}
		}
		pthread_mutex_lock(&rt->mu);
	}
	pthread_mutex_unlock(&rt->mu);
	return NULL;
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

static void
secrets_free(rvk_app_secrets_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_admin; i++) {
		rvk_memzero(s->admin[i].v, s->admin[i].len);
		free(s->admin[i].v);
	}
	for (size_t i = 0; i < s->n_webhook; i++) {
		rvk_memzero(s->webhook[i].v, s->webhook[i].len);
		free(s->webhook[i].v);
	}
	free(s->admin);
	free(s->webhook);
	free(s);
}

static void
secrets_free_cb(rvk_rcu_head_t *head)
{
	secrets_free(caa_container_of(head, rvk_app_secrets_t, rcu));
}

/* "key" or "key[i]" for messages: the index only when the file lists
 * several. */
static void
key_name(char *out, size_t n, const char *key, size_t i, size_t count)
{
	if (count > 1)
		snprintf(out, n, "%s[%zu]", key, i);
	else
		snprintf(out, n, "%s", key);
}

/* Decodes a Standard Webhooks secret ("whsec_" + base64 of at least 16
 * bytes) into out. Returns: whether it was one. */
static bool
decode_whsec(const char *wh, size_t whlen, rvk_secret_t *out)
{
	if (whlen < 6 || strncmp(wh, "whsec_", 6) != 0)
		return false;
	const char *b = wh + 6;
	size_t blen = whlen - 6;
	unsigned char *key = rvk_malloc(rvk_b64_decoded_max(blen) + 1);
	size_t klen = 0;
	if (!rvk_b64_decode(b, blen, key, &klen) || klen < 16) {
		rvk_memzero(key, rvk_b64_decoded_max(blen) + 1);
		free(key);
		return false;
	}
	out->v = key;
	out->len = klen;
	return true;
}

/* Reads the admin tokens and the webhook secrets (REFERENCE §2): the
 * environment wins over the files. Every file must hold a secret (an empty
 * one is an error, as ever); every webhook secret must be a Standard
 * Webhooks secret. Two files may hold the same secret: that is how a
 * rotation starts and ends.
 * Returns: the set, or NULL and err ("KEY: problem"). */
static rvk_app_secrets_t *
read_secrets(const rvk_config_t *cfg, char *err, size_t errlen)
{
	rvk_app_secrets_t *s = rvk_calloc(1, sizeof(*s));
	char what[600], key[64];
	const char *env = getenv("REVOKD_ADMIN_TOKEN");
	if (env && *env) {
		s->admin = rvk_calloc(1, sizeof(rvk_secret_t));
		s->admin[0].v = (unsigned char *)rvk_strdup(env);
		s->admin[0].len = strlen(env);
		s->n_admin = 1;
	} else if (cfg->n_admin_token_files) {
		s->admin = rvk_calloc(cfg->n_admin_token_files, sizeof(rvk_secret_t));
		for (size_t i = 0; i < cfg->n_admin_token_files; i++) {
			char *v = NULL;
			size_t len = 0;
			if (rvk_config_read_secret(cfg->admin_token_files[i], &v, &len, what,
			                           sizeof(what)) != RVK_OK) {
				key_name(key, sizeof(key), "admin.token_file", i,
				         cfg->n_admin_token_files);
				snprintf(err, errlen, "%s: %s", key, what);
				goto fail;
			}
			s->admin[s->n_admin].v = (unsigned char *)v;
			s->admin[s->n_admin].len = len;
			s->n_admin++;
		}
	}
	env = getenv("REVOKD_WEBHOOK_SECRET");
	if (env && *env) {
		/* Several secrets separated by white space (whsec_ values have
		 * none). */
		size_t most = strlen(env) / 2 + 1;
		s->webhook = rvk_calloc(most, sizeof(rvk_secret_t));
		for (const char *p = env; *p;) {
			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			const char *e = p;
			while (*e && *e != ' ' && *e != '\t' && *e != '\n')
				e++;
			if (e > p) {
				if (!decode_whsec(p, (size_t)(e - p), &s->webhook[s->n_webhook])) {
					snprintf(err, errlen, "REVOKD_WEBHOOK_SECRET: not a Standard "
					         "Webhooks secret (whsec_ + base64 of at least 16 bytes)");
					goto fail;
				}
				s->n_webhook++;
			}
			p = e;
		}
	} else if (cfg->n_webhook_secret_files) {
		s->webhook = rvk_calloc(cfg->n_webhook_secret_files, sizeof(rvk_secret_t));
		for (size_t i = 0; i < cfg->n_webhook_secret_files; i++) {
			char *v = NULL;
			size_t len = 0;
			key_name(key, sizeof(key), "webhook.secret_file", i,
			         cfg->n_webhook_secret_files);
			if (rvk_config_read_secret(cfg->webhook_secret_files[i], &v, &len, what,
			                           sizeof(what)) != RVK_OK) {
				snprintf(err, errlen, "%s: %s", key, what);
				goto fail;
			}
			bool ok = decode_whsec(v, len, &s->webhook[s->n_webhook]);
			rvk_memzero(v, len);
			free(v);
			if (!ok) {
				snprintf(err, errlen, "%s: not a Standard Webhooks secret "
				         "(whsec_ + base64 of at least 16 bytes)", key);
				goto fail;
			}
			s->n_webhook++;
		}
	}
	return s;
fail:
	secrets_free(s);
	return NULL;
}

int
rvk_runtime_load_secrets(const rvk_config_t *cfg, rvk_app_t *app)
{
	char err[1024];
	rvk_app_secrets_t *sec = read_secrets(cfg, err, sizeof(err));
	if (!sec) {
		fprintf(stderr, "revokd: config %s: %s\n", cfg->path ? cfg->path : "(none)", err);
		return 2;
	}
	secrets_free(app->secrets);
	app->secrets = sec;
	/* RFC 7662 clients: id -> secret, read once here. */
	if (cfg->n_introspection_clients) {
		app->introspection_clients = rvk_calloc(cfg->n_introspection_clients,
		                                        sizeof(rvk_app_client_t));
		for (size_t i = 0; i < cfg->n_introspection_clients; i++) {
			rvk_app_client_t *c = &app->introspection_clients[i];
			if (rvk_config_read_secret(cfg->introspection_clients[i].value,
			                           &c->secret, &c->secret_len, err,
			                           sizeof(err)) != RVK_OK) {
				fprintf(stderr, "revokd: config %s: introspection.clients[%zu]."
				        "secret_file: %s\n", cfg->path ? cfg->path : "(none)",
				        i, err);
				return 2;
			}
			c->id = rvk_strdup(cfg->introspection_clients[i].name);
			app->n_introspection_clients = i + 1;
		}
	}
	return 0;
}

int
rvk_runtime_start(rvk_config_t *cfg, rvk_runtime_t **out)
{
	char err[1024];
	rvk_runtime_t *rt = rvk_calloc(1, sizeof(*rt));
	rt->cfg = cfg;
	pthread_mutex_init(&rt->mu, NULL);
	pthread_cond_init(&rt->cv, NULL);
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
	if (rvk_config_build_issuers(cfg, &app->issuers, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto fail;
	}
	if ((code = rvk_runtime_load_secrets(cfg, app)) != 0)
		goto fail;
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
			goto fail;
		}
		so.cluster = true;
		so.on_outbox = rvk_replica_kick;
		so.on_outbox_arg = app->replica;
	}
	rvk_result_t r = rvk_store_open(cfg->data_dir, app->revtable, &so,
	                                rvk_clock_now(), &app->store, err, sizeof(err));
	if (r != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto fail;
	}
	app->ready_store = true;
	if (app->replica &&
	    rvk_replica_start(app->replica, app->store, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto fail;
	}
	app->vcache = rvk_vcache_new((size_t)cfg->vcache_max_entries, rvk_api_vcache_free);
	app->seen = rvk_syncmap_new(1024, NULL);
	rvk_api_prepare(app);
	/* Remote keys: the first fetches run on the refresher thread, so a slow
	 * IdP delays only its own issuer's readiness, not the listener. */
	rt->jwks = rvk_jwks_new(cfg, app->issuers);
	app->key_kick = rvk_jwks_kick_cb;
	app->key_kick_arg = rt->jwks;
	app->metrics_extra = rvk_jwks_render_metrics;
	app->metrics_extra_arg = rt->jwks;
	if (rvk_jwks_start(rt->jwks) != RVK_OK) {
		fprintf(stderr, "revokd: cannot start the JWKS refresher thread\n");
		goto fail;
	}
	if (rvk_server_start(app, &rt->server, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto fail;
	}
	if (pthread_create(&rt->sweeper, NULL, sweeper_main, rt) == 0)
		rt->sweeper_running = true;

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
fail:
	rvk_runtime_stop(rt);
	return code;
}

void
rvk_runtime_reload(rvk_runtime_t *rt)
{
	char err[1024];
	rvk_issuers_t *fresh = NULL;
	if (rvk_config_build_issuers(rt->cfg, &fresh, err, sizeof(err)) != RVK_OK) {
		rvk_log(RVK_LOG_ERROR, "key reload failed; the old keys stay", "error", err, NULL);
		return;
	}
	/* The issuer objects stay (requests and cache entries point to them);
	 * only their keyrings are swapped, by the key refresher, which merges
	 * the file keys with the JWKS keys and refetches every JWKS. */
	rvk_jwks_reload(rt->jwks, fresh);
	rvk_issuers_free(fresh);
	free(fresh); /* rvk_issuers_free frees the contents only */
}

void
rvk_runtime_reload_secrets(rvk_runtime_t *rt)
{
	char err[1024];
	rvk_app_secrets_t *sec = read_secrets(rt->cfg, err, sizeof(err));
	if (!sec) {
		rvk_log(RVK_LOG_ERROR, "secret reload failed; the old secrets stay",
		        "error", err, NULL);
		return;
	}
	char na[24], nw[24];
	snprintf(na, sizeof(na), "%zu", sec->n_admin);
	snprintf(nw, sizeof(nw), "%zu", sec->n_webhook);
	/* Requests in flight finish with the set they read; the old one is
	 * wiped once none can still see it (after a grace period, on
	 * liburcu's call_rcu thread, like a replaced keyring). */
	rvk_app_secrets_t *old = rvk_rcu_xchg_pointer(&rt->app.secrets, sec);
	if (old)
		rvk_rcu_call(&old->rcu, secrets_free_cb);
	rvk_log(RVK_LOG_INFO, "secrets reloaded", "admin_tokens", na,
	        "webhook_secrets", nw, NULL);
}

void
rvk_runtime_stop(rvk_runtime_t *rt)
{
	if (!rt)
		return;
	rvk_notify_stop(rt->notify); /* STOPPING=1 before the drain */
	rt->notify = NULL;
	rvk_jwks_stop(rt->jwks);
	rvk_server_stop(rt->server);
	rt->server = NULL;
	rvk_jwks_free(rt->jwks); /* no request can kick it any more */
	rt->jwks = NULL;
	if (rt->sweeper_running) {
		pthread_mutex_lock(&rt->mu);
		rt->stopping = true;
		pthread_cond_signal(&rt->cv);
		pthread_mutex_unlock(&rt->mu);
		pthread_join(rt->sweeper, NULL);
	}
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
	secrets_free(app->secrets);
	app->secrets = NULL;
	for (size_t i = 0; i < app->n_introspection_clients; i++) {
		rvk_app_client_t *c = &app->introspection_clients[i];
		rvk_memzero(c->secret, c->secret_len);
		free(c->secret);
		free(c->id);
	}
	free(app->introspection_clients);
	pthread_mutex_destroy(&rt->mu);
	pthread_cond_destroy(&rt->cv);
	free(rt);
}

rvk_app_t *
rvk_runtime_app(rvk_runtime_t *rt)
{
	return &rt->app;
}

unsigned
rvk_runtime_port(rvk_runtime_t *rt, int admin)
{
	return rvk_server_port(rt->server, admin);
}
