/*
 * /auth: the decision, REFERENCE §3, on every request of every API behind the
 * gateway. So this file is written for the cache hit:
 *
 *   token from the request (pointers into MHD's header storage, no copy)
 *   SHA-256 of the whole token on the stack -> verified-cache lookup (RCU)
 *   hit: same configuration generation? key still loaded? exp/nbf again,
 *        step 6, queue the allow response
 *        built when the token was first verified (kept in the cache entry)
 *   miss: steps 1-5 (auth/access.c), step 6, build the entry and cache it
 *   deny: queue the prepared 401 for that reason
 *
 * A hit allocates nothing and takes no lock: the cache entry's response is
 * queued inside the RCU read section that found it (req->rcu_held), so the
 * entry cannot be freed before MHD holds its own reference. The live
 * configuration (app->live: issuers, policy, forwarded claims) is read in
 * the same section, once, so one request never mixes two configurations.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/handler.h"
#include "api/rules.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/rcu.h"

struct verified {
	uint64_t generation;         /* the live configuration's it was built under */
	const rvk_issuer_t *issuer;  /* valid only while generation is current */
	uint64_t load_id;
	int64_t exp, nbf;
	bool has_nbf;
	rvk_rev_query_t q;           /* strings point into strs */
	struct MHD_Response *allow;
	char strs[];
};

void
rvk_api_vcache_free(void *p)
{
	struct verified *v = p;
	if (v->allow)
		MHD_destroy_response(v->allow);
	free(v);
}


static int
stale(const void *value, void *arg)
{
	const struct verified *v = value;
	return v->generation != *(const uint64_t *)arg;
}

size_t
rvk_api_vcache_drop_stale(rvk_app_t *app, uint64_t generation)
{
	RVK_REQUIRE(app != NULL);
	return app->vcache ? rvk_vcache_drop_if(app->vcache, stale, &generation) : 0;
}

/* Returns: true with the token when the request carries one (REFERENCE §3;
 * the Authorization rule is api/rules.h's). */
static bool
find_token(rvk_req_t *req, const rvk_app_live_t *live, const char **tok,
           size_t *len)
{
	const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	if (rvk_rules_bearer(h, tok, len))
		return true;
	const char *cookie = live->settings.token_cookie;
	if (cookie) {
		const char *c = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, cookie);
		if (c && *c) {
			*tok = c;
			*len = strlen(c);
			return true;
		}
	}
	return false;
}

static bool
header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static void
add_header(struct MHD_Response *r, const char *name, const char *value)
{
	if (value && header_safe(value))
		MHD_add_response_header(r, name, value);
}

/* Writes v in decimal to out (NUL-terminated); snprintf's format parsing
 * was a tenth of build_allow's instructions. */
static void
format_i64(int64_t v, char out[static 21])
{
	char tmp[20];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	char *o = out;
	if (v < 0)
		*o++ = '-';
	while (n)
		*o++ = tmp[--n];
	*o = '\0';
}

/* The forwarded claims never name one of the fixed headers written here:
 * rvk_api_settings_forward leaves those out when the settings are filled. */
static struct MHD_Response *
build_allow(const rvk_app_live_t *live, const rvk_access_t *acc)
{
	const rvk_jws_t *j = &acc->jws;
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	char exp[21];
	format_i64(j->exp, exp);
	add_header(r, "X-Auth-Subject", j->sub);
	add_header(r, "X-Auth-Issuer", j->iss);
	add_header(r, "X-Auth-Token-Id", j->jti);
	add_header(r, "X-Auth-Expires", exp);
	for (size_t i = 0; i < live->settings.n_forward; i++) {
		const rvk_api_forward_t *fc = &live->settings.forward[i];
		char *v = rvk_jws_claim_text(j, fc->claim);
		add_header(r, fc->header, v);
		free(v);
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

static char *
put_str(char **cursor, const char *s, size_t *len)
{
	if (!s) {
		*len = 0;
		return NULL;
	}
	size_t n = strlen(s);
	char *d = *cursor;
	memcpy(d, s, n + 1);
	*cursor += n + 1;
	*len = n;
	return d;
}

static struct verified *
build_verified(const rvk_app_live_t *live, const rvk_access_t *acc)
{
	const rvk_jws_t *j = &acc->jws;
	const char *strs[] = { j->iss, j->jti, j->sid, j->sub, acc->key_kid };
	size_t total = 0;
	for (size_t i = 0; i < RVK_ARRAY_LEN(strs); i++)
		total += strs[i] ? strlen(strs[i]) + 1 : 0;
	/* malloc and a compound literal, not calloc: glibc's calloc never
	 * takes the thread cache (docs/BENCHMARKS.md, "Tried and not kept"),
	 * and put_str writes every byte of strs. */
	struct verified *v = rvk_malloc(sizeof(*v) + total);
	*v = (struct verified){
		.generation = live->generation,
		.issuer = acc->issuer,
		.load_id = acc->key_load_id,
		.exp = j->exp,
		.nbf = j->nbf,
		.has_nbf = j->has_nbf,
		.q.iat = j->iat,
	};
	char *c = v->strs;
	v->q.iss = put_str(&c, j->iss, &v->q.iss_len);
	v->q.jti = put_str(&c, j->jti, &v->q.jti_len);
	v->q.sid = put_str(&c, j->sid, &v->q.sid_len);
	v->q.sub = put_str(&c, j->sub, &v->q.sub_len);
	v->q.kid = put_str(&c, acc->key_kid, &v->q.kid_len);
	v->allow = build_allow(live, acc);
	return v;
}

static void
deny(rvk_req_t *req, rvk_reason_t r)
{
	rvk_metrics_decision(r);
	rvk_reply_shared(req, MHD_HTTP_UNAUTHORIZED, req->app->deny[r]);
}

void
rvk_handle_auth(rvk_req_t *req)
{
	rvk_app_t *app = req->app;
	const char *tok;
	size_t len;
	rvk_rcu_read_lock();
	const rvk_app_live_t *live = rvk_rcu_dereference(app->live);
	if (!find_token(req, live, &tok, &len)) {
		rvk_rcu_read_unlock();
		rvk_metrics_decision(RVK_DECISION_NO_TOKEN);
		rvk_reply_shared(req, MHD_HTTP_UNAUTHORIZED, app->no_token);
		return;
	}
	const rvk_policy_t *policy = &live->policy;
	int64_t now = rvk_clock_now();
	unsigned char digest[RVK_VCACHE_DIGEST_LEN];
	if (len <= policy->max_token_bytes)
		rvk_vcache_digest(tok, len, digest);

	struct verified *v = NULL;
	if (len <= policy->max_token_bytes)
		v = rvk_vcache_get(app->vcache, digest, now);
	/* Built under another configuration (an issuer removed, an audience,
	 * algorithm or leeway narrowed, other forwarded claims): verify from
	 * step 1, without touching v->issuer (it may be gone). */
	if (v && v->generation != live->generation)
		v = NULL;
	if (v && !rvk_keyring_has_load(rvk_issuer_keyring(v->issuer), v->load_id))
		v = NULL; /* its key left or was replaced: verify from step 1 */
	rvk_reason_t r;
	if (v) {
		rvk_metrics_vcache(true);
		r = rvk_access_check_times(policy, v->exp, v->has_nbf, v->nbf, now);
		if (r == RVK_REASON_OK)
			r = rvk_revtable_check(app->revtable, &v->q, now);
	} else {
		rvk_access_t acc;
		const rvk_issuer_t *issuer;
		rvk_metrics_vcache(false);
		r = rvk_access_verify_issuer(live->issuers, policy, tok, len, now,
		                             &acc, &issuer);
		/* A kid the ring lacks may be a key the IdP just published. */
		if (r == RVK_REASON_UNKNOWN_KEY && issuer && app->key_kick)
			app->key_kick(live->keys_arg, issuer);
		bool verified = r == RVK_REASON_OK; /* acc is filled only then */
		if (verified) {
			struct verified *fresh = build_verified(live, &acc);
			r = rvk_revtable_check(app->revtable, &fresh->q, now);
			int64_t until = now + live->settings.vcache_ttl;
			if (fresh->exp < until)
				until = fresh->exp;
			/* Published, the entry lives at least until this read
			 * section ends, so its response can answer this request
			 * like a hit. Not published (cache full of puts in
			 * flight, another thread first, cache off), it is gone:
			 * build one for this request alone. */
			if (rvk_vcache_put(app->vcache, digest, fresh, until, now))
				v = fresh;
			else if (r == RVK_REASON_OK) {
				struct MHD_Response *resp = build_allow(live, &acc);
				rvk_rcu_read_unlock();
				rvk_metrics_decision(RVK_REASON_OK);
				req->status = MHD_HTTP_OK;
				req->resp = resp;
				req->resp_shared = false;
				rvk_access_fini(&acc);
				return;
			}
		}
		if (verified)
			rvk_access_fini(&acc);
	}
	if (r != RVK_REASON_OK) {
		rvk_rcu_read_unlock();
		deny(req, r);
		return;
	}
	/* A hit, or a miss whose entry was published: the entry's response is
	 * queued inside this read section (see the top of this file). */
	rvk_metrics_decision(RVK_REASON_OK);
	rvk_reply_shared(req, MHD_HTTP_OK, v->allow);
	req->rcu_held = true;
}

static struct MHD_Response *
prepared_401(const char *www, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, www);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return r;
}

void
rvk_api_prepare(rvk_app_t *app)
{
	app->no_token = prepared_401("Bearer realm=\"revokd\"",
	                             "{\"error\":\"invalid_request\",\"error_description\":\"no token\"}");
	for (int i = 1; i < RVK_REASON_COUNT; i++) {
		char www[160], body[160];
		const char *reason = rvk_reason_str((rvk_reason_t)i);
		snprintf(www, sizeof(www),
		         "Bearer realm=\"revokd\", error=\"invalid_token\", error_description=\"%s\"",
		         reason);
		snprintf(body, sizeof(body),
		         "{\"error\":\"invalid_token\",\"error_description\":\"%s\"}", reason);
		app->deny[i] = prepared_401(www, body);
	}
}

void
rvk_api_release(rvk_app_t *app)
{
	if (app->no_token)
		MHD_destroy_response(app->no_token);
	app->no_token = NULL;
	for (int i = 0; i < RVK_REASON_COUNT; i++) {
		if (app->deny[i])
			MHD_destroy_response(app->deny[i]);
		app->deny[i] = NULL;
	}
	rvk_api_settings_fini(&app->settings);
}
