/*
 * secrets.c - what the config names by file or the environment holds:
 * keys, the admin token, the webhook secret, introspection client secrets
 * (service/secrets.h). Every buffer that held a secret is zeroed before it
 * is freed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "service/secrets.h"

rvk_result_t
rvk_secrets_read(const char *path, char **out, size_t *len, char *err,
                       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
		return RVK_EIO;
	}
	size_t cap = 64 * 1024;
	char *buf = rvk_malloc(cap + 1);
	size_t n = fread(buf, 1, cap + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > cap) {
		snprintf(err, errlen, "cannot read \"%s\": %s", path,
		         bad ? "read error" : "larger than 64 KiB");
		rvk_memzero(buf, cap + 1);
		free(buf);
		return RVK_EIO;
	}
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	buf[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "\"%s\" is empty", path);
		free(buf);
		return RVK_EINVAL;
	}
	*out = buf;
	*len = n;
	return RVK_OK;
}

static rvk_result_t
load_key(const rvk_config_t *cfg, size_t ii, size_t ki, rvk_key_t **out,
         char *err, size_t errlen)
{
	const rvk_config_key_t *k = &cfg->issuers[ii].keys[ki];
	const char *file = k->pem_file ? k->pem_file : k->secret_file;
	char what[512];
	char *data = NULL;
	size_t len = 0;
	rvk_result_t r = rvk_secrets_read(file, &data, &len, what, sizeof(what));
	if (r == RVK_OK) {
		if (k->pem_file)
			r = rvk_key_from_pem(k->kid, k->alg, data, len, out, what, sizeof(what));
		else
			r = rvk_key_from_secret(k->kid, k->alg, (unsigned char *)data,
			                        len, out, what, sizeof(what));
		rvk_memzero(data, len);
		free(data);
	}
	if (r != RVK_OK) {
		snprintf(err, errlen, "config %s: issuers[%zu].keys[%zu].%s: %s",
		         cfg->path ? cfg->path : "(none)", ii, ki,
		         k->pem_file ? "pem_file" : "secret_file", what);
		return RVK_EINVAL;
	}
	return RVK_OK;
}

rvk_result_t
rvk_secrets_load_issuers(const rvk_config_t *cfg, rvk_issuers_t **out,
                         char *err, size_t errlen)
{
	rvk_issuers_t *issuers = rvk_calloc(1, sizeof(*issuers));
	issuers->v = rvk_calloc(cfg->n_issuers ? cfg->n_issuers : 1, sizeof(rvk_issuer_t *));
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		const rvk_config_issuer_t *ci = &cfg->issuers[i];
		rvk_issuer_t *is = rvk_issuer_new(ci->issuer);
		issuers->v[issuers->n++] = is;
		is->algorithms = ci->algorithms;
		is->n_audiences = ci->n_audiences;
		is->audiences = rvk_calloc(ci->n_audiences ? ci->n_audiences : 1, sizeof(char *));
		for (size_t j = 0; j < ci->n_audiences; j++)
			is->audiences[j] = rvk_strdup(ci->audiences[j]);
		is->n_token_types = ci->n_token_types;
		is->token_types = rvk_calloc(ci->n_token_types ? ci->n_token_types : 1, sizeof(char *));
		for (size_t j = 0; j < ci->n_token_types; j++)
			is->token_types[j] = rvk_strdup(ci->token_types[j]);
		if (ci->backchannel_client_id)
			is->backchannel_client_id = rvk_strdup(ci->backchannel_client_id);
		is->allow_nonce = ci->allow_nonce;
		is->require_jti = ci->require_jti;
		/* "jti" itself needs no second look-up. */
		if (ci->jti_claim && strcmp(ci->jti_claim, "jti") != 0)
			is->jti_claim = rvk_strdup(ci->jti_claim);
		rvk_key_t **keys = rvk_calloc(ci->n_keys ? ci->n_keys : 1, sizeof(rvk_key_t *));
		for (size_t k = 0; k < ci->n_keys; k++) {
			if (load_key(cfg, i, k, &keys[k], err, errlen) != RVK_OK) {
				for (size_t j = 0; j < k; j++)
					rvk_key_free(keys[j]);
				free(keys);
				rvk_issuers_free(issuers);
				free(issuers);
				return RVK_EINVAL;
			}
		}
		rvk_keyring_t *ring = rvk_keyring_new(keys, ci->n_keys);
		free(keys);
		rvk_keyring_t *old = is->keyring;
		is->keyring = ring;
		rvk_keyring_free(old);
	}
	*out = issuers;
	return RVK_OK;
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
	for (size_t i = 0; i < s->n_clients; i++) {
		rvk_memzero(s->clients[i].secret, s->clients[i].secret_len);
		free(s->clients[i].secret);
		free(s->clients[i].id);
	}
	free(s->admin);
	free(s->webhook);
	free(s->clients);
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

/* Reads the admin tokens, the webhook secrets and the introspection
 * clients' secrets (REFERENCE §2): the environment wins over the files.
 * Every file must hold a secret (an empty one is an error, as ever); every
 * webhook secret must be a Standard Webhooks secret. Two files may hold
 * the same secret: that is how a rotation starts and ends.
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
			if (rvk_secrets_read(cfg->admin_token_files[i], &v, &len, what,
			                           sizeof(what)) != RVK_OK) {
				key_name(key, sizeof(key), "admin.token_file", i,
				         cfg->n_admin_token_files);
				snprintf(err, errlen, "%s: %s", key, what);
				goto cleanup;
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
					goto cleanup;
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
			if (rvk_secrets_read(cfg->webhook_secret_files[i], &v, &len, what,
			                           sizeof(what)) != RVK_OK) {
				snprintf(err, errlen, "%s: %s", key, what);
				goto cleanup;
			}
			bool ok = decode_whsec(v, len, &s->webhook[s->n_webhook]);
			rvk_memzero(v, len);
			free(v);
			if (!ok) {
				snprintf(err, errlen, "%s: not a Standard Webhooks secret "
				         "(whsec_ + base64 of at least 16 bytes)", key);
				goto cleanup;
			}
			s->n_webhook++;
		}
	}
	if (cfg->n_introspection_clients)
		s->clients = rvk_calloc(cfg->n_introspection_clients,
		                        sizeof(rvk_app_client_t));
	for (size_t i = 0; i < cfg->n_introspection_clients; i++) {
		rvk_app_client_t *c = &s->clients[i];
		if (rvk_secrets_read(cfg->introspection_clients[i].value, &c->secret,
		                     &c->secret_len, what, sizeof(what)) != RVK_OK) {
			snprintf(err, errlen, "introspection.clients[%zu].secret_file: %s",
			         i, what);
			goto cleanup;
		}
		c->id = rvk_strdup(cfg->introspection_clients[i].name);
		s->n_clients = i + 1;
	}
	return s;
cleanup:
	secrets_free(s);
	return NULL;
}

int
rvk_secrets_load_app(const rvk_config_t *cfg, rvk_app_t *app)
{
	char err[1024];
	rvk_app_secrets_t *sec = read_secrets(cfg, err, sizeof(err));
	if (!sec) {
		fprintf(stderr, "revokd: config %s: %s\n", cfg->path ? cfg->path : "(none)", err);
		return 2;
	}
	secrets_free(app->secrets);
	app->secrets = sec;
	return 0;
}

rvk_app_secrets_t *
rvk_secrets_read_app(const rvk_config_t *cfg, char *err, size_t errlen)
{
	return read_secrets(cfg, err, errlen);
}

void
rvk_secrets_reload_app(const rvk_config_t *cfg, rvk_app_t *app)
{
	char err[1024];
	rvk_app_secrets_t *sec = read_secrets(cfg, err, sizeof(err));
	if (!sec) {
		rvk_log(RVK_LOG_ERROR, "secret reload failed; the old secrets stay",
		        "error", err, NULL);
		return;
	}
	rvk_secrets_publish_app(app, sec);
}

void
rvk_secrets_publish_app(rvk_app_t *app, rvk_app_secrets_t *sec)
{
	char na[24], nw[24], nc[24];
	snprintf(na, sizeof(na), "%zu", sec->n_admin);
	snprintf(nw, sizeof(nw), "%zu", sec->n_webhook);
	snprintf(nc, sizeof(nc), "%zu", sec->n_clients);
	/* Requests in flight finish with the set they read; the old one is
	 * wiped once none can still see it (after a grace period, on
	 * liburcu's call_rcu thread, like a replaced keyring). */
	rvk_app_secrets_t *old = rvk_rcu_xchg_pointer(&app->secrets, sec);
	if (old)
		rvk_rcu_call(&old->rcu, secrets_free_cb);
	rvk_log(RVK_LOG_INFO, "secrets reloaded", "admin_tokens", na,
	        "webhook_secrets", nw, "introspection_clients", nc, NULL);
}

void
rvk_secrets_release_app(rvk_app_t *app)
{
	secrets_free(app->secrets);
	app->secrets = NULL;
}
