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
#include "base/mem.h"
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

int
rvk_secrets_load_app(const rvk_config_t *cfg, rvk_app_t *app)
{
	char err[600];
	const char *env = getenv("REVOKD_ADMIN_TOKEN");
	if (env && *env) {
		app->admin_token = rvk_strdup(env);
		app->admin_token_len = strlen(env);
	} else if (cfg->admin_token_file) {
		if (rvk_secrets_read(cfg->admin_token_file, &app->admin_token,
		                           &app->admin_token_len, err, sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: config %s: admin.token_file: %s\n",
			        cfg->path ? cfg->path : "(none)", err);
			return 2;
		}
	}
	char *wh = NULL;
	size_t whlen = 0;
	bool wh_env = false; /* the message must name where the secret came from */
	env = getenv("REVOKD_WEBHOOK_SECRET");
	if (env && *env) {
		wh = rvk_strdup(env);
		whlen = strlen(env);
		wh_env = true;
	} else if (cfg->webhook_secret_file) {
		if (rvk_secrets_read(cfg->webhook_secret_file, &wh, &whlen, err,
		                           sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: config %s: webhook.secret_file: %s\n",
			        cfg->path ? cfg->path : "(none)", err);
			return 2;
		}
	}
	if (wh) {
		/* Standard Webhooks: "whsec_" + base64 of the key bytes. */
		const char *b = strncmp(wh, "whsec_", 6) == 0 ? wh + 6 : NULL;
		unsigned char *key = b ? rvk_malloc(rvk_b64_decoded_max(strlen(b))) : NULL;
		size_t klen = 0;
		if (!b || !rvk_b64_decode(b, strlen(b), key, &klen) || klen < 16) {
			if (wh_env)
				fprintf(stderr, "revokd: REVOKD_WEBHOOK_SECRET: not a Standard "
				        "Webhooks secret (whsec_ + base64 of at least 16 bytes)\n");
			else
				fprintf(stderr, "revokd: config %s: webhook.secret_file: not a Standard "
				        "Webhooks secret (whsec_ + base64 of at least 16 bytes)\n",
				        cfg->path ? cfg->path : "(none)");
			rvk_memzero(wh, whlen);
			free(wh);
			free(key);
			return 2;
		}
		app->webhook_secret = key;
		app->webhook_secret_len = klen;
		rvk_memzero(wh, whlen);
		free(wh);
	}
	/* RFC 7662 clients: id -> secret, read once here. */
	if (cfg->n_introspection_clients) {
		app->introspection_clients = rvk_calloc(cfg->n_introspection_clients,
		                                        sizeof(rvk_app_client_t));
		for (size_t i = 0; i < cfg->n_introspection_clients; i++) {
			rvk_app_client_t *c = &app->introspection_clients[i];
			if (rvk_secrets_read(cfg->introspection_clients[i].value,
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

void
rvk_secrets_release_app(rvk_app_t *app)
{
	if (app->admin_token) {
		rvk_memzero(app->admin_token, app->admin_token_len);
		free(app->admin_token);
	}
	for (size_t i = 0; i < app->n_introspection_clients; i++) {
		rvk_app_client_t *c = &app->introspection_clients[i];
		rvk_memzero(c->secret, c->secret_len);
		free(c->secret);
		free(c->id);
	}
	free(app->introspection_clients);
	if (app->webhook_secret) {
		rvk_memzero(app->webhook_secret, app->webhook_secret_len);
		free(app->webhook_secret);
	}
}
