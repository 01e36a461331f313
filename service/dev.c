/*
 * `revokd serve --dev` (SPEC §1.1): a working demo from an empty folder.
 *
 * First start: an ES256 key pair and an HS256 secret for the issuer
 * `revokd-dev`, an admin token and a Standard Webhooks secret are created in
 * DIR (mode 0600, DIR 0700); later starts reuse them, so tokens minted before
 * a restart stay valid. The SQLite database lives in DIR too. The listener is
 * 127.0.0.1:8080 with public and admin routes on it. After the listener is
 * up, stdout gets a fresh token (1 hour, random jti, sub dev-user, sid
 * dev-session) and the curl lines that check, revoke and re-check it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth/mint.h"
#include "base/b64.h"
#include "base/clock.h"
#include "base/mem.h"
#include "service/commands.h"

#define DEV_ISSUER "revokd-dev"

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
	cfg->admin_token_file = join(dir, "admin.token");
	cfg->webhook_secret_file = join(dir, "webhook.secret");
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

void
rvk_dev_announce(const rvk_config_t *cfg, unsigned port)
{
	char *priv_path = join(cfg->data_dir, "dev-es256.key");
	char *priv = NULL, err[512];
	size_t len = 0;
	if (rvk_config_read_secret(priv_path, &priv, &len, err, sizeof(err)) != RVK_OK) {
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
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
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
	       base, DEV_ISSUER, cfg->data_dir, token, base, cfg->data_dir, jti,
	       (long long)now + 3600, base, base);
	fflush(stdout);
	free(token);
}
