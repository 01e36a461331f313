/*
 * config.h - the JSON configuration file (REFERENCE §2), parsed and validated.
 *
 * Every key is checked: unknown keys, wrong types, out-of-range numbers,
 * unknown algorithms, a key whose alg is not in its issuer's algorithms,
 * listing `none` or a logout/SET type as an access-token type are errors
 * naming the file and the key path:
 *     config revokd.json: issuers[0].algorithms[1]: unknown algorithm "HS257"
 * Relative paths are resolved against the config file's folder. Files named
 * by the config (keys, secrets) are read by rvk_config_load_*, not here, so
 * that parsing itself does no I/O beyond reading the config file.
 *
 * Threads: a parsed config is immutable and may be read from any thread.
 * Security: secrets are never copied into error messages.
 */
#ifndef RVK_SERVICE_CONFIG_H
#define RVK_SERVICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/alg.h"
#include "auth/issuer.h"
#include "base/log.h"
#include "base/result.h"

typedef struct rvk_config_key {
	char *kid;           /* NULL: serves only tokens without a kid */
	rvk_alg_t alg;
	char *pem_file;      /* absolute path, RS and ES keys */
	char *secret_file;   /* absolute path, HS keys */
} rvk_config_key_t;

typedef struct rvk_config_issuer {
	char *issuer;
	char **audiences;
	size_t n_audiences;
	rvk_algset_t algorithms;
	char *jwks_uri;
	bool discovery;
	int64_t jwks_refresh;
	rvk_config_key_t *keys;
	size_t n_keys;
	char **token_types;
	size_t n_token_types;
	char *backchannel_client_id;
	bool allow_nonce;
	int require_jti;     /* -1: absent (the top-level require_jti) */
	char *jti_claim;     /* NULL: "jti" */
} rvk_config_issuer_t;

typedef struct rvk_config_pair {
	char *name;
	char *value;
} rvk_config_pair_t;

typedef struct rvk_config {
	char *path;             /* the file as given, for messages; NULL: none */
	char *dir;              /* its folder: relative paths are against it */
	char *listen;           /* "127.0.0.1:8080" */
	char *admin_listen;     /* NULL: admin routes on listen */
	int threads;            /* 0: one per CPU (resolved by rvk_config_threads) */
	char *data_dir;         /* absolute */
	/* integrity_check: true "every_start", false "after_unclean_stop"
	 * (PRAGMA quick_check at start, DECISIONS D26). */
	bool integrity_check_every_start;
	rvk_log_format_t log_format;
	rvk_log_level_t log_level;
	int64_t leeway;
	int64_t max_token_bytes;
	int64_t max_token_lifetime;
	bool require_jti;
	char *token_cookie;     /* NULL: no cookie */
	rvk_config_pair_t *forward_claims;   /* claim -> header */
	size_t n_forward_claims;
	int64_t vcache_max_entries;
	int64_t vcache_ttl;
	rvk_config_issuer_t *issuers;
	size_t n_issuers;
	/* webhook.secret_file and admin.token_file: a path or a list of
	 * paths (each absolute); every secret listed is accepted, so a new
	 * one can be added before the old one is removed (SIGHUP re-reads
	 * them). */
	char **webhook_secret_files;
	size_t n_webhook_secret_files;
	int64_t webhook_tolerance;
	char **admin_token_files;
	size_t n_admin_token_files;
	rvk_config_pair_t *introspection_clients;  /* id -> secret_file */
	size_t n_introspection_clients;
	char *set_audience;
	char *redis_url;
	char *redis_password_file;      /* REVOKD_REDIS_PASSWORD wins */
	char *redis_tls_ca_file;        /* NULL: the system's bundle */
	char *redis_tls_cert_file, *redis_tls_key_file;
	char *redis_tls_server_name;
	char *redis_sentinel_master;    /* NULL: no Sentinel */
	char **redis_sentinel_addrs;    /* "host:port" */
	size_t n_redis_sentinel_addrs;
	char *redis_sentinel_password_file;
	int64_t redis_wait_replicas;    /* 0: no WAIT */
	int64_t redis_reconcile_interval; /* seconds */
	char *redis_stream;
	bool dev;               /* set by `serve --dev`, not the file */
} rvk_config_t;

/* Returns: a config holding every default of REFERENCE §2 and no issuer. */
rvk_config_t *rvk_config_new_defaults(void);

/*
 * Parses the file at path into a new config.
 * Returns: RVK_OK and *out; RVK_EINVAL / RVK_EIO with the whole message
 * ("config FILE: KEY: what is wrong") in err.
 */
rvk_result_t rvk_config_parse_file(const char *path, rvk_config_t **out,
                                   char *err, size_t errlen);
/* As above from a string (fuzzing, tests); name is used in messages. */
rvk_result_t rvk_config_parse_string(const char *json, size_t len,
                                     const char *name, const char *dir,
                                     rvk_config_t **out, char *err,
                                     size_t errlen);
void rvk_config_free(rvk_config_t *cfg);

/* Returns: threads, with 0 resolved to the number of online CPUs. */
int rvk_config_threads(const rvk_config_t *cfg);

/*
 * Checks what parsing cannot see alone (e.g. an issuer with no key source)
 * after command-line overrides. Returns: RVK_OK or RVK_EINVAL with err.
 */
rvk_result_t rvk_config_validate(const rvk_config_t *cfg, char *err,
                                 size_t errlen);

/*
 * Compares two configs key by key, as the schema's rows describe them (a
 * list or an array of objects is one key: "issuers", "forward_claims").
 * restart_only: the keys a reload cannot apply (docs/OPERATIONS.md,
 * "Change the configuration without a restart"), else the live ones.
 * Writes the differing keys' paths to out, ", "-separated ("" if none),
 * cut to outlen.
 */
void rvk_config_diff(const rvk_config_t *a, const rvk_config_t *b,
                     bool restart_only, char *out, size_t outlen);

/* Resolves p against dir unless absolute. Returns: owned string. */
char *rvk_config_path(const char *dir, const char *p);

#endif
