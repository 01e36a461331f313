/*
 * secrets.h - the files and environment variables the config points to
 * for secrets: key files (RS/ES PEM, HS secrets), the admin token, the
 * webhook secrets, the introspection clients' secrets (REFERENCE §2).
 *
 * Messages name the config key of the file that failed and never quote a
 * secret. Every buffer that held a secret is zeroed before it is freed.
 *
 * Threads: main thread (start-up and SIGHUP reload).
 */
#ifndef RVK_SERVICE_SECRETS_H
#define RVK_SERVICE_SECRETS_H

#include <stddef.h>

#include "api/app.h"
#include "auth/issuer.h"
#include "base/result.h"
#include "service/config.h"

/*
 * Reads a secret or token file: the raw bytes, one trailing "\n" or "\r\n"
 * removed, at most 64 KiB, not empty.
 * Returns: RVK_OK, *out (owned, NUL-terminated) and *len; RVK_EIO /
 * RVK_EINVAL with err ("cannot read \"FILE\": ...").
 */
rvk_result_t rvk_secrets_read(const char *path, char **out, size_t *len,
                              char *err, size_t errlen);

/*
 * Builds the runtime issuer set of cfg, keys read from their files.
 * Returns: RVK_OK and *out (owned: rvk_issuers_free, then free); RVK_EINVAL
 * with a message naming the config key of the file that failed.
 */
rvk_result_t rvk_secrets_load_issuers(const rvk_config_t *cfg,
                                      rvk_issuers_t **out, char *err,
                                      size_t errlen);

/*
 * Reads the admin tokens and the webhook secrets (REVOKD_ADMIN_TOKEN and
 * REVOKD_WEBHOOK_SECRET win over the files; every file listed must hold a
 * secret) and the introspection clients' secrets into app.
 * Returns: 0, or exit code 2 after printing "revokd: ..." to stderr (what
 * was read so far stays in app for rvk_secrets_release_app).
 */
int rvk_secrets_load_app(const rvk_config_t *cfg, rvk_app_t *app);

/*
 * SIGHUP: reads the admin tokens, the webhook secrets and the
 * introspection clients' secrets again and swaps the
 * set into app->secrets (RCU: requests in flight finish with the old set,
 * wiped after a grace period); on a problem logs it and keeps the old set.
 * Threads: main thread; request threads read app->secrets meanwhile.
 */
void rvk_secrets_reload_app(const rvk_config_t *cfg, rvk_app_t *app);

/*
 * The two halves of rvk_secrets_reload_app, for a configuration reload
 * that must read everything before it applies anything.
 * rvk_secrets_read_app returns: the set (owned, for publish) or NULL with
 * err. rvk_secrets_publish_app swaps sec in (ownership transferred) and
 * logs "secrets reloaded". Main thread.
 */
rvk_app_secrets_t *rvk_secrets_read_app(const rvk_config_t *cfg, char *err,
                                        size_t errlen);
void rvk_secrets_publish_app(rvk_app_t *app, rvk_app_secrets_t *sec);

/* Zeroes and frees what rvk_secrets_load_app put in app. */
void rvk_secrets_release_app(rvk_app_t *app);

#endif
