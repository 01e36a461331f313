/*
 * `revokd serve --dev` (docs/CONFIGURATION.md §2): a working demo from an
 * empty folder.
 *
 * First start: an ES256 key pair and an HS256 secret for the issuer
 * `revokd-dev`, an admin token and a Standard Webhooks secret are created in
 * DIR (mode 0600, DIR 0700); later starts reuse them, so tokens minted before
 * a restart stay valid. The SQLite database lives in DIR too. The listener is
 * 127.0.0.1:8080 with public and admin routes on it.
 *
 * Every start also writes the configuration it runs with (after the flags)
 * to DIR/revokd.json: keys and secrets by file reference, relative to DIR,
 * so nothing secret is in it, and `revokd serve --config DIR/revokd.json`
 * starts the same service. Dev mode then runs from that file as parsed back
 * (rvk_dev_write_config), so the two cannot drift apart. A --redis-url is
 * not written (it may carry a password); it stays in effect for this run.
 *
 * After the listener is up, stdout gets a fresh token (1 hour, random jti,
 * sub dev-user, sid dev-session), the curl lines that check, revoke and
 * re-check it, and the `revokd check`, admin client and `revokd serve
 * --config` lines for the written file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "auth/mint.h"
#include "base/b64.h"
#include "base/clock.h"
#include "base/mem.h"
#include "service/commands.h"
#include "service/secrets.h"

#define DEV_ISSUER "revokd-dev"
#define DEV_CONFIG "revokd.json"

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = rvk_malloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static bool
exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Writes data to path atomically (temp file + rename), mode 0600. */
static int
write_file(const char *path, const void *data, size_t len)
{
	char *tmp = join(path, "..tmp");
	tmp[strlen(path)] = '.';
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		fprintf(stderr, "revokd: --dev: cannot write %s: %s\n", path, strerror(errno));
		free(tmp);
		return 1;
	}
	bool ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "revokd: --dev: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return 1;
	}
	free(tmp);
	return 0;
}

static int
random_text(const char *path, const char *prefix, size_t bytes, bool std_b64)
{
	unsigned char raw[64];
	char text[160];
	if (RAND_bytes(raw, (int)bytes) != 1) {
		fprintf(stderr, "revokd: --dev: no randomness\n");
		return 1;
	}
	size_t off = (size_t)snprintf(text, sizeof(text), "%s", prefix);
	if (std_b64)
		rvk_b64_encode(raw, bytes, text + off);
	else
		rvk_b64url_encode(raw, bytes, text + off);
	strcat(text, "\n");
	return write_file(path, text, strlen(text));
}

static int
make_material(const char *dir)
{
	char *priv = join(dir, "dev-es256.key"), *pub = join(dir, "dev-es256.pub.pem"),
	     *hs = join(dir, "dev-hs256.secret"), *admin = join(dir, "admin.token"),
	     *wh = join(dir, "webhook.secret");
	int rc = 0;
	if (!exists(priv) || !exists(pub)) {
		char *priv_pem = NULL, *pub_pem = NULL;
		if (rvk_keygen_ec_p256(&priv_pem, &pub_pem) != RVK_OK) {
			fprintf(stderr, "revokd: --dev: cannot generate an EC key\n");
			rc = 1;
		} else {
			rc = write_file(priv, priv_pem, strlen(priv_pem));
			if (!rc)
				rc = write_file(pub, pub_pem, strlen(pub_pem));
		}
		free(priv_pem);
		free(pub_pem);
	}
	if (!rc && !exists(hs))
		rc = random_text(hs, "", 32, false);
	if (!rc && !exists(admin))
		rc = random_text(admin, "", 32, false);
	if (!rc && !exists(wh))
		rc = random_text(wh, "whsec_", 32, true);
	free(priv);
	free(pub);
	free(hs);
	free(admin);
	free(wh);
	return rc;
}

int
rvk_dev_prepare(const char *dir_arg, rvk_config_t **out)
{
	char *dir = rvk_config_path(NULL, dir_arg);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "revokd: --dev: cannot create %s: %s\n", dir, strerror(errno));
		free(dir);
		return 1;
	}
	char *real = realpath(dir, NULL); /* "./var" -> "/srv/x/var", for the printed lines */
	if (real) {
		free(dir);
		dir = rvk_strdup(real);
		free(real);
	}
	if (access(dir, W_OK) != 0) {
		fprintf(stderr, "revokd: --dev: %s is not writable\n", dir);
		free(dir);
		return 1;
	}
	if (make_material(dir) != 0) {
		free(dir);
		return 1;
	}
	rvk_config_t *cfg = rvk_config_new_defaults();
	cfg->dev = true;
	cfg->path = rvk_strdup("(dev mode)");
	cfg->dir = rvk_strdup(dir);
	free(cfg->data_dir);
	cfg->data_dir = rvk_strdup(dir);
	cfg->log_format = RVK_LOG_TEXT;
	cfg->admin_token_files = rvk_calloc(1, sizeof(char *));
	cfg->admin_token_files[0] = join(dir, "admin.token");
	cfg->n_admin_token_files = 1;
	cfg->webhook_secret_files = rvk_calloc(1, sizeof(char *));
	cfg->webhook_secret_files[0] = join(dir, "webhook.secret");
	cfg->n_webhook_secret_files = 1;
	cfg->n_issuers = 1;
	cfg->issuers = rvk_calloc(1, sizeof(*cfg->issuers));
	rvk_config_issuer_t *is = &cfg->issuers[0];
	is->issuer = rvk_strdup(DEV_ISSUER);
	is->algorithms = RVK_ALGSET(RVK_ALG_ES256) | RVK_ALGSET(RVK_ALG_HS256);
	is->jwks_refresh = 300;
	is->token_types = rvk_calloc(2, sizeof(char *));
	is->token_types[0] = rvk_strdup("JWT");
	is->token_types[1] = rvk_strdup("at+jwt");
	is->n_token_types = 2;
	is->backchannel_client_id = rvk_strdup("revokd-dev-client");
	is->n_keys = 2;
	is->keys = rvk_calloc(2, sizeof(*is->keys));
	is->keys[0] = (rvk_config_key_t){ .kid = rvk_strdup("dev-es256"), .alg = RVK_ALG_ES256,
	                                  .pem_file = join(dir, "dev-es256.pub.pem") };
	is->keys[1] = (rvk_config_key_t){ .kid = rvk_strdup("dev-hs256"), .alg = RVK_ALG_HS256,
	                                  .secret_file = join(dir, "dev-hs256.secret") };
	free(dir);
	*out = cfg;
	return 0;
}

static const char *
level_name(rvk_log_level_t l)
{
	switch (l) {
	case RVK_LOG_DEBUG: return "debug";
	case RVK_LOG_WARN: return "warn";
	case RVK_LOG_ERROR: return "error";
	default: return "info";
	}
}

/* path as written into DIR/revokd.json: relative to DIR when inside it. */
static json_t *
rel(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (strncmp(path, dir, n) == 0 && path[n] == '/')
		return json_string(path + n + 1);
	return json_string(path);
}

/* The dev issuer and the serve flags, as the JSON configuration file. */
static json_t *
config_json(const rvk_config_t *cfg)
{
	const char *dir = cfg->data_dir;
	json_t *o = json_object();
	json_object_set_new(o, "listen", json_string(cfg->listen));
	if (cfg->admin_listen)
		json_object_set_new(o, "admin_listen", json_string(cfg->admin_listen));
	json_object_set_new(o, "threads", json_integer(cfg->threads));
	json_object_set_new(o, "data_dir", json_string("."));
	json_object_set_new(o, "log_format",
	                    json_string(cfg->log_format == RVK_LOG_TEXT ? "text" : "json"));
	json_object_set_new(o, "log_level", json_string(level_name(cfg->log_level)));
	json_t *issuers = json_array();
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		const rvk_config_issuer_t *is = &cfg->issuers[i];
		json_t *j = json_object(), *algs = json_array(), *keys = json_array(),
		       *types = json_array();
		json_object_set_new(j, "issuer", json_string(is->issuer));
		for (int a = 0; a < RVK_ALG_COUNT; a++)
			if (is->algorithms & RVK_ALGSET(a))
				json_array_append_new(algs, json_string(rvk_alg_name((rvk_alg_t)a)));
		json_object_set_new(j, "algorithms", algs);
		for (size_t k = 0; k < is->n_keys; k++) {
			const rvk_config_key_t *key = &is->keys[k];
			json_t *jk = json_object();
			json_object_set_new(jk, "kid", json_string(key->kid));
			json_object_set_new(jk, "alg", json_string(rvk_alg_name(key->alg)));
			if (key->pem_file)
				json_object_set_new(jk, "pem_file", rel(dir, key->pem_file));
			else
				json_object_set_new(jk, "secret_file", rel(dir, key->secret_file));
			json_array_append_new(keys, jk);
		}
		json_object_set_new(j, "keys", keys);
		for (size_t t = 0; t < is->n_token_types; t++)
			json_array_append_new(types, json_string(is->token_types[t]));
		json_object_set_new(j, "token_types", types);
		json_object_set_new(j, "backchannel_client_id",
		                    json_string(is->backchannel_client_id));
		json_array_append_new(issuers, j);
	}
	json_object_set_new(o, "issuers", issuers);
	json_t *wh = json_object(), *adm = json_object();
	json_object_set_new(wh, "secret_file", rel(dir, cfg->webhook_secret_files[0]));
	json_object_set_new(o, "webhook", wh);
	json_object_set_new(adm, "token_file", rel(dir, cfg->admin_token_files[0]));
	json_object_set_new(o, "admin", adm);
	return o;
}

int
rvk_dev_write_config(rvk_config_t **cfgp)
{
	rvk_config_t *cfg = *cfgp;
	json_t *o = config_json(cfg);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	char *path = join(cfg->data_dir, DEV_CONFIG);
	size_t n = strlen(text);
	char *line = rvk_malloc(n + 2);
	memcpy(line, text, n);
	memcpy(line + n, "\n", 2);
	free(text);
	int rc = write_file(path, line, n + 1);
	free(line);
	rvk_config_t *back = NULL;
	char err[1024];
	if (!rc && rvk_config_parse_file(path, &back, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: --dev: %s\n", err);
		rc = 2;
	}
	free(path);
	if (rc)
		return rc;
	back->dev = true;
	back->redis_url = cfg->redis_url;
	cfg->redis_url = NULL;
	rvk_config_free(cfg);
	*cfgp = back;
	return 0;
}

void
rvk_dev_announce(const rvk_config_t *cfg, unsigned port, unsigned admin_port)
{
	char *priv_path = join(cfg->data_dir, "dev-es256.key");
	char *priv = NULL, err[512];
	size_t len = 0;
	if (rvk_secrets_read(priv_path, &priv, &len, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: --dev: %s\n", err);
		free(priv_path);
		return;
	}
	unsigned char raw[16];
	char jti[32];
	RAND_bytes(raw, sizeof(raw));
	rvk_b64url_encode(raw, sizeof(raw), jti);
	int64_t now = rvk_clock_now();
	char claims[512];
	snprintf(claims, sizeof(claims),
	         "{\"iss\":\"%s\",\"sub\":\"dev-user\",\"sid\":\"dev-session\","
	         "\"jti\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
	         DEV_ISSUER, jti, (long long)now, (long long)now + 3600);
	char *token = rvk_mint_token(RVK_ALG_ES256, "dev-es256", (unsigned char *)priv,
	                             len, claims, err, sizeof(err));
	rvk_memzero(priv, len);
	free(priv);
	free(priv_path);
	if (!token) {
		fprintf(stderr, "revokd: --dev: cannot mint a token: %s\n", err);
		return;
	}
	char base[64], admin[64], exe[4096];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
	snprintf(admin, sizeof(admin), "http://127.0.0.1:%u", admin_port);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		snprintf(exe, sizeof(exe), "revokd");
	else
		exe[n] = '\0';
	const char *dir = cfg->data_dir;
	printf("\nrevokd is running in dev mode on %s (issuer \"%s\", data in %s)\n\n"
	       "A token for sub dev-user, sid dev-session, valid for 1 hour:\n\n"
	       "TOKEN=%s\n\n"
	       "Check it (200, with X-Auth-Subject: dev-user):\n\n"
	       "curl -i -H \"Authorization: Bearer $TOKEN\" %s/auth\n\n"
	       "Revoke it through the admin API (201):\n\n"
	       "curl -i -X POST -H \"Authorization: Bearer $(cat %s/admin.token)\" "
	       "-H 'Content-Type: application/json' "
	       "-d '{\"type\":\"token.revoked\",\"jti\":\"%s\",\"exp\":%lld}' %s/admin/v1/revocations\n\n"
	       "Check it again (401, error_description=\"token revoked\"):\n\n"
	       "curl -i -H \"Authorization: Bearer $TOKEN\" %s/auth\n\n",
	       base, DEV_ISSUER, dir, token, base, dir, jti,
	       (long long)now + 3600, admin, base);
	printf("The configuration this server runs with is %s/%s (keys and secrets\n"
	       "by file reference). Decide the token offline with it and the revocations\n"
	       "in %s (prints the decision as JSON; exit 0 allow, 1 deny):\n\n"
	       "%s check --config %s/%s \"$TOKEN\"\n\n"
	       "The admin client (list, revoke the subject, remove that revocation):\n\n"
	       "%s list --server %s --token-file %s/admin.token\n"
	       "%s revoke --server %s --token-file %s/admin.token --sub dev-user --reason \"laptop stolen\"\n"
	       "%s unrevoke --server %s --token-file %s/admin.token --type subject --id dev-user\n\n"
	       "The same service, from its configuration file (stop this one first):\n\n"
	       "%s serve --config %s/%s\n\n",
	       dir, DEV_CONFIG, dir, exe, dir, DEV_CONFIG, exe, admin, dir, exe, admin, dir,
	       exe, admin, dir, exe, dir, DEV_CONFIG);
	fflush(stdout);
	free(token);
}
