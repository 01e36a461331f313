/*
 * keyfetch.c - the key refresher (see keyfetch.h for the design and the schedule).
 *
 * Locking: mu guards each issuer's two key halves (static, remote), the
 * force flags and every keyring publication, so the refresher thread and a
 * SIGHUP on the main thread never publish over each other. The fetch itself
 * runs without the lock. Request threads never take mu on their own: a kick
 * passes the per-issuer atomic rate limit first, so mu is taken at most once
 * per RVK_KEYFETCH_KICK_INTERVAL per issuer from the request side.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "auth/jwks.h"
#include "auth/keyring.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "service/keyfetch.h"

#ifndef REVOKD_VERSION
#define REVOKD_VERSION "dev"
#endif

#define MAX_BACKOFF_S 60

enum { RES_OK = 0, RES_ERROR, RES_UNCHANGED, RES_COUNT };
static const char *const result_names[RES_COUNT] = { "ok", "error", "unchanged" };

struct remote {
	rvk_issuer_t *issuer;
	const rvk_config_issuer_t *ci;
	bool remote;                  /* jwks_uri or discovery */
	/* under mu */
	rvk_key_t **stat;             /* static keys (files), owned */
	size_t n_stat;
	rvk_key_t **rem;              /* latest good JWKS keys, owned */
	size_t n_rem;
	bool force;                   /* SIGHUP: fetch now */
	/* refresher thread only */
	uint64_t next_ms;             /* next scheduled fetch (monotonic ms) */
	uint64_t last_kick_fetch_ms;  /* 0: never */
	unsigned backoff_s;
	/* any thread */
	atomic_bool kicked;
	atomic_int_fast64_t last_kick_s; /* monotonic s + 1 of the last accepted kick; 0 never */
	atomic_uint_fast64_t fetches[RES_COUNT];
};

struct rvk_keyfetch {
	const rvk_config_t *cfg;
	rvk_issuers_t *issuers;
	struct remote *v;
	size_t n;
	size_t n_remote;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* CLOCK_MONOTONIC */
	pthread_t thread;
	bool running;
	atomic_bool stopping;
};

static uint64_t
mono_ms(void)
{
	return rvk_clock_mono_ns() / 1000000u;
}

static void
free_keys(rvk_key_t **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rvk_key_free(keys[i]);
	free(keys);
}

static rvk_key_t **
dup_keys(rvk_key_t *const *keys, size_t n)
{
	rvk_key_t **out = rvk_calloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = rvk_key_dup(keys[i]);
	return out;
}

/* Builds the issuer's ring from both halves and swaps it in. Requires: mu. */
static void
publish(struct remote *r)
{
	size_t n = r->n_stat + r->n_rem;
	rvk_key_t **all = rvk_calloc(n ? n : 1, sizeof(*all));
	for (size_t i = 0; i < r->n_stat; i++)
		all[i] = rvk_key_dup(r->stat[i]);
	for (size_t i = 0; i < r->n_rem; i++)
		all[r->n_stat + i] = rvk_key_dup(r->rem[i]);
	rvk_keyring_t *ring = rvk_keyring_new(all, n);
	free(all);
	rvk_issuer_swap_keyring(r->issuer, ring);
}

rvk_keyfetch_t *
rvk_keyfetch_new(const rvk_config_t *cfg, rvk_issuers_t *issuers)
{
	RVK_REQUIRE(cfg != NULL && issuers != NULL && issuers->n == cfg->n_issuers);
	rvk_keyfetch_t *j = rvk_calloc(1, sizeof(*j));
	j->cfg = cfg;
	j->issuers = issuers;
	j->n = issuers->n;
	j->v = rvk_calloc(j->n ? j->n : 1, sizeof(*j->v));
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&j->stopping, false);
	rvk_rcu_read_lock();
	for (size_t i = 0; i < j->n; i++) {
		struct remote *r = &j->v[i];
		r->issuer = issuers->v[i];
		r->ci = &cfg->issuers[i];
		r->remote = r->ci->jwks_uri != NULL || r->ci->discovery;
		j->n_remote += r->remote;
		const rvk_keyring_t *ring = rvk_issuer_keyring(r->issuer);
		r->stat = dup_keys(ring->keys, ring->n);
		r->n_stat = ring->n;
		r->rem = rvk_calloc(1, sizeof(*r->rem));
		atomic_init(&r->kicked, false);
		atomic_init(&r->last_kick_s, 0);
		for (int k = 0; k < RES_COUNT; k++)
			atomic_init(&r->fetches[k], 0);
	}
	rvk_rcu_read_unlock();
	return j;
}

/* ---- fetching ---------------------------------------------------------- */

struct sink {
	rvk_buf_t b;
	bool over;
};

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	/* MAXFILESIZE alone does not stop a chunked body (DECISIONS D11):
	 * the cap is enforced here, on what actually arrives. */
	if (s->b.len + n > RVK_KEYFETCH_MAX_BYTES) {
		s->over = true;
		return 0;
	}
	rvk_buf_append(&s->b, p, n);
	return n;
}

static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	const rvk_keyfetch_t *j = arg;
	return atomic_load(&j->stopping) ? 1 : 0; /* abort: shutting down */
}

/*
 * GETs url into *out. Returns: true with the body; false with err.
 */
static bool
fetch(rvk_keyfetch_t *j, CURL *curl, const char *url, rvk_buf_t *out, char *err,
      size_t errlen)
{
	bool ok = false;
	char *scheme = NULL, *host = NULL;
	CURLU *u = curl_url();
	struct sink s = { RVK_BUF_INIT, false };
	RVK_REQUIRE(u != NULL);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "not a valid URL");
		goto cleanup;
	}
	/* Judged on curl's own parse: what we check is what it connects to. */
	bool http = strcmp(scheme, "http") == 0;
	if (!http && strcmp(scheme, "https") != 0) {
		snprintf(err, errlen, "scheme %s refused (https only)", scheme);
		goto cleanup;
	}
	if (http && !rvk_jwks_host_is_loopback(host)) {
		snprintf(err, errlen, "plain http refused to a non-loopback host");
		goto cleanup;
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_CURLU, u);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, http ? "http" : "https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)RVK_KEYFETCH_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)RVK_KEYFETCH_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RVK_KEYFETCH_MAX_BYTES);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "revokd/" REVOKD_VERSION);
	/* Fault point "curl" (base/fault.h): the transfer fails as if the
	 * identity provider could not be reached. */
	CURLcode rc = RVK_FAULT("curl") ? CURLE_COULDNT_CONNECT : curl_easy_perform(curl);
	long code = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (s.over || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(err, errlen, "document larger than %d bytes", RVK_KEYFETCH_MAX_BYTES);
	else if (rc != CURLE_OK)
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	else if (code >= 300 && code < 400)
		snprintf(err, errlen, "HTTP %ld: redirects are not followed", code);
	else if (code != 200)
		snprintf(err, errlen, "HTTP %ld", code);
	else
		ok = true;
cleanup:
	curl_easy_setopt(curl, CURLOPT_CURLU, NULL); /* u is freed next */
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (ok)
		*out = s.b;
	else
		rvk_buf_fini(&s.b);
	return ok;
}

/* ---- one refresh -------------------------------------------------------- */

static bool
has_kid(rvk_key_t *const *keys, size_t n, const char *kid)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = rvk_key_kid(keys[i]);
		if ((k == NULL && kid == NULL) || (k && kid && strcmp(k, kid) == 0))
			return true;
	}
	return false;
}

/* Appends the distinct kids of a[] that are not in b[] ("(none)" for a key
 * without one), comma-separated. */
static void
kids_missing(rvk_buf_t *out, rvk_key_t *const *a, size_t na, rvk_key_t *const *b,
             size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		const char *kid = rvk_key_kid(a[i]);
		if (has_kid(b, nb, kid) || has_kid(a, i, kid))
			continue;
		if (out->len)
			rvk_buf_puts(out, ",");
		rvk_buf_puts(out, kid ? kid : "(none)");
	}
}

/* Appends kids in both whose keys differ (a kid reused for a new key). */
static void
kids_changed(rvk_buf_t *out, rvk_key_t *const *a, size_t na, rvk_key_t *const *b,
             size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		const char *kid = rvk_key_kid(a[i]);
		if (!has_kid(b, nb, kid) || has_kid(a, i, kid))
			continue;
		bool same = false;
		for (size_t k = 0; k < nb && !same; k++)
			same = rvk_key_same(a[i], b[k]);
		if (same)
			continue;
		if (out->len)
			rvk_buf_puts(out, ",");
		rvk_buf_puts(out, kid ? kid : "(none)");
	}
}

static void
log_failure(const struct remote *r, const char *what, const char *err)
{
	rvk_log(RVK_LOG_WARN, "JWKS fetch failed; the last good keys stay",
	        "issuer", r->issuer->iss, "step", what, "error", err, NULL);
}

/* Returns: RES_OK (a new set was published), RES_UNCHANGED or RES_ERROR. */
static int
refresh(rvk_keyfetch_t *j, struct remote *r, CURL *curl)
{
	char err[256];
	char *found_uri = NULL;
	rvk_buf_t body = RVK_BUF_INIT;
	int res = RES_ERROR;
	const char *uri = r->ci->jwks_uri;
	if (uri == NULL) {
		char *disc = rvk_jwks_discovery_url(r->ci->issuer);
		bool got = fetch(j, curl, disc, &body, err, sizeof(err));
		free(disc);
		if (!got) {
			log_failure(r, "discovery", err);
			goto cleanup;
		}
		if (rvk_jwks_discovery_parse(body.data ? body.data : "", body.len,
		                             r->ci->issuer, &found_uri, err,
		                             sizeof(err)) != RVK_OK) {
			log_failure(r, "discovery", err);
			goto cleanup;
		}
		rvk_buf_fini(&body);
		uri = found_uri;
	}
	if (!fetch(j, curl, uri, &body, err, sizeof(err))) {
		log_failure(r, "jwks", err);
		goto cleanup;
	}
	rvk_jwks_set_t jwk_set;
	if (rvk_jwks_parse(body.data ? body.data : "", body.len, r->issuer->algorithms,
	                   &jwk_set, err, sizeof(err)) != RVK_OK) {
		log_failure(r, "jwks", err);
		goto cleanup;
	}
	if (jwk_set.n == 0) {
		/* An empty or wholly unusable set is far likelier a broken IdP
		 * than a deliberate withdrawal of every key: keep the last good. */
		for (size_t i = 0; i < jwk_set.n_skipped; i++)
			rvk_log(RVK_LOG_WARN, "JWKS key skipped", "issuer", r->issuer->iss,
			        "key", jwk_set.skipped[i], NULL);
		log_failure(r, "jwks", "no usable key in the document");
		rvk_jwks_set_fini(&jwk_set);
		goto cleanup;
	}
	pthread_mutex_lock(&j->mu);
	if (rvk_jwks_same_keys(jwk_set.keys, jwk_set.n, r->rem, r->n_rem)) {
		pthread_mutex_unlock(&j->mu);
		rvk_jwks_set_fini(&jwk_set);
		res = RES_UNCHANGED;
		goto cleanup;
	}
	for (size_t i = 0; i < jwk_set.n_skipped; i++)
		rvk_log(RVK_LOG_WARN, "JWKS key skipped", "issuer", r->issuer->iss,
		        "key", jwk_set.skipped[i], NULL);
	rvk_buf_t added = RVK_BUF_INIT, removed = RVK_BUF_INIT, changed = RVK_BUF_INIT;
	kids_missing(&added, jwk_set.keys, jwk_set.n, r->rem, r->n_rem);
	kids_missing(&removed, r->rem, r->n_rem, jwk_set.keys, jwk_set.n);
	kids_changed(&changed, jwk_set.keys, jwk_set.n, r->rem, r->n_rem);
	free_keys(r->rem, r->n_rem);
	r->rem = jwk_set.keys;
	r->n_rem = jwk_set.n;
	jwk_set.keys = NULL;
	jwk_set.n = 0;
	publish(r);
	pthread_mutex_unlock(&j->mu);
	char n[16];
	snprintf(n, sizeof(n), "%zu", r->n_rem);
	rvk_log(RVK_LOG_INFO, "JWKS key set changed", "issuer", r->issuer->iss,
	        "keys", n, "added", added.len ? added.data : "",
	        "removed", removed.len ? removed.data : "",
	        "replaced", changed.len ? changed.data : "", NULL);
	rvk_buf_fini(&added);
	rvk_buf_fini(&removed);
	rvk_buf_fini(&changed);
	rvk_jwks_set_fini(&jwk_set);
	res = RES_OK;
cleanup:
	rvk_buf_fini(&body);
	free(found_uri);
	return res;
}

/* ---- the thread ---------------------------------------------------------- */

static void
schedule(struct remote *r, int res, uint64_t now)
{
	uint64_t period = (uint64_t)r->ci->jwks_refresh * 1000u;
	if (res == RES_ERROR) {
		r->backoff_s = r->backoff_s ? r->backoff_s * 2 : 1;
		if (r->backoff_s > MAX_BACKOFF_S)
			r->backoff_s = MAX_BACKOFF_S;
		uint64_t b = (uint64_t)r->backoff_s * 1000u;
		r->next_ms = now + (b < period ? b : period);
	} else {
		r->backoff_s = 0;
		r->next_ms = now + period;
	}
}

static bool
kick_allowed(const struct remote *r, uint64_t now)
{
	return r->last_kick_fetch_ms == 0
	       || now >= r->last_kick_fetch_ms + RVK_KEYFETCH_KICK_INTERVAL * 1000u;
}

static void *
thread_main(void *arg)
{
	rvk_keyfetch_t *j = arg;
	rvk_rcu_thread_online();
	CURL *curl = curl_easy_init();
	RVK_REQUIRE(curl != NULL);
	pthread_mutex_lock(&j->mu);
	while (!atomic_load(&j->stopping)) {
		uint64_t now = mono_ms();
		uint64_t wake = now + 3600 * 1000u;
		struct remote *due = NULL;
		for (size_t i = 0; i < j->n && !due; i++) {
			struct remote *r = &j->v[i];
			if (!r->remote)
				continue;
			bool kicked = atomic_load(&r->kicked);
			if (r->force || now >= r->next_ms || (kicked && kick_allowed(r, now))) {
				due = r;
				break;
			}
			if (r->next_ms < wake)
				wake = r->next_ms;
			if (kicked) {
				uint64_t k = r->last_kick_fetch_ms + RVK_KEYFETCH_KICK_INTERVAL * 1000u;
				if (k < wake)
					wake = k;
			}
		}
		if (due != NULL) {
			due->force = false;
			if (atomic_exchange(&due->kicked, false))
				due->last_kick_fetch_ms = now ? now : 1;
			pthread_mutex_unlock(&j->mu);
			int res = refresh(j, due, curl);
			atomic_fetch_add_explicit(&due->fetches[res], 1, memory_order_relaxed);
			schedule(due, res, mono_ms());
			pthread_mutex_lock(&j->mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait = wake - now;
		ts.tv_sec += (time_t)(wait / 1000u);
		ts.tv_nsec += (long)(wait % 1000u) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	pthread_mutex_unlock(&j->mu);
	curl_easy_cleanup(curl);
	return NULL;
}

rvk_result_t
rvk_keyfetch_start(rvk_keyfetch_t *j)
{
	RVK_REQUIRE(j != NULL && !j->running);
	if (j->n_remote == 0)
		return RVK_OK;
	if (pthread_create(&j->thread, NULL, thread_main, j) != 0)
		return RVK_EIO;
	j->running = true;
	return RVK_OK;
}

void
rvk_keyfetch_stop(rvk_keyfetch_t *j)
{
	if (j == NULL || !j->running)
		return;
	pthread_mutex_lock(&j->mu);
	atomic_store(&j->stopping, true);
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	j->running = false;
}

void
rvk_keyfetch_free(rvk_keyfetch_t *j)
{
	if (j == NULL)
		return;
	RVK_REQUIRE(!j->running);
	for (size_t i = 0; i < j->n; i++) {
		free_keys(j->v[i].stat, j->v[i].n_stat);
		free_keys(j->v[i].rem, j->v[i].n_rem);
	}
	free(j->v);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}

static struct remote *
find(const rvk_keyfetch_t *j, const rvk_issuer_t *issuer)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].issuer == issuer)
			return &j->v[i];
	return NULL;
}

/* A token named a kid that the issuer's ring lacks: ask for a fetch now.
 * Cheap for the request thread; a no-op for an issuer without remote keys. */
static void
kick(rvk_keyfetch_t *j, const rvk_issuer_t *issuer)
{
	if (j == NULL || issuer == NULL)
		return;
	struct remote *r = find(j, issuer);
	if (r == NULL || !r->remote)
		return;
	int_fast64_t now = (int_fast64_t)(rvk_clock_mono_ns() / 1000000000u) + 1;
	int_fast64_t last = atomic_load_explicit(&r->last_kick_s, memory_order_relaxed);
	if (last != 0 && now - last < RVK_KEYFETCH_KICK_INTERVAL)
		return; /* the common case under a flood: one load, no write */
	if (!atomic_compare_exchange_strong(&r->last_kick_s, &last, now))
		return; /* another thread won this interval's kick */
	atomic_store(&r->kicked, true);
	pthread_mutex_lock(&j->mu);
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

void
rvk_keyfetch_kick_cb(void *j, const rvk_issuer_t *issuer)
{
	kick(j, issuer);
}

void
rvk_keyfetch_reload(rvk_keyfetch_t *j, rvk_issuers_t *fresh)
{
	RVK_REQUIRE(j != NULL && fresh != NULL && fresh->n == j->n);
	pthread_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->n; i++) {
		struct remote *r = &j->v[i];
		const rvk_keyring_t *ring = fresh->v[i]->keyring;
		free_keys(r->stat, r->n_stat);
		r->stat = dup_keys(ring->keys, ring->n);
		r->n_stat = ring->n;
		publish(r);
		r->force = r->remote;
		char ns[16], nr[16];
		snprintf(ns, sizeof(ns), "%zu", r->n_stat);
		snprintf(nr, sizeof(nr), "%zu", r->n_rem);
		rvk_log(RVK_LOG_INFO, "keys reloaded", "issuer", r->issuer->iss,
		        "file_keys", ns, "jwks_keys", nr, NULL);
	}
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* The same remote key source: the same issuer, fetched the same way. */
static bool
same_source(const struct remote *a, const struct remote *b)
{
	const char *ua = a->ci->jwks_uri, *ub = b->ci->jwks_uri;
	return a->remote && b->remote && strcmp(a->ci->issuer, b->ci->issuer) == 0
	       && a->ci->discovery == b->ci->discovery
	       && (ua == ub || (ua && ub && strcmp(ua, ub) == 0));
}

void
rvk_keyfetch_adopt(rvk_keyfetch_t *j, rvk_keyfetch_t *old)
{
	RVK_REQUIRE(j != NULL && old != NULL && !j->running);
	pthread_mutex_lock(&old->mu);
	for (size_t i = 0; i < j->n; i++) {
		struct remote *r = &j->v[i];
		for (size_t k = 0; k < old->n; k++) {
			const struct remote *o = &old->v[k];
			if (!same_source(r, o))
				continue;
			/* Only the algorithms the issuer still allows. */
			free_keys(r->rem, r->n_rem);
			r->rem = rvk_calloc(o->n_rem ? o->n_rem : 1, sizeof(*r->rem));
			r->n_rem = 0;
			for (size_t m = 0; m < o->n_rem; m++)
				if (r->issuer->algorithms & RVK_ALGSET(rvk_key_alg(o->rem[m])))
					r->rem[r->n_rem++] = rvk_key_dup(o->rem[m]);
			for (int c = 0; c < RES_COUNT; c++)
				atomic_store(&r->fetches[c], atomic_load(&o->fetches[c]));
			publish(r);
			break;
		}
	}
	pthread_mutex_unlock(&old->mu);
}

static void
label_escape(rvk_buf_t *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			rvk_buf_puts(out, "\\\\");
		else if (*s == '"')
			rvk_buf_puts(out, "\\\"");
		else if (*s == '\n')
			rvk_buf_puts(out, "\\n");
		else
			rvk_buf_append(out, s, 1);
	}
}

void
rvk_keyfetch_render_metrics(rvk_buf_t *out, void *arg)
{
	const rvk_keyfetch_t *j = arg;
	rvk_buf_puts(out, "# HELP revokd_jwks_fetches_total JWKS refreshes by issuer and "
	                  "result (ok: a new key set, unchanged, error).\n"
	                  "# TYPE revokd_jwks_fetches_total counter\n");
	for (size_t i = 0; j && i < j->n; i++) {
		const struct remote *r = &j->v[i];
		if (!r->remote)
			continue;
		for (int k = 0; k < RES_COUNT; k++) {
			rvk_buf_puts(out, "revokd_jwks_fetches_total{issuer=\"");
			label_escape(out, r->issuer->iss);
			rvk_buf_printf(out, "\",result=\"%s\"} %" PRIuFAST64 "\n", result_names[k],
			               atomic_load_explicit(&r->fetches[k], memory_order_relaxed));
		}
	}
}
