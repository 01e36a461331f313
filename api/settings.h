/*
 * settings.h - what api/ reads from the configuration, in api/'s own terms.
 *
 * api/ sits below service/ (docs/ARCHITECTURE.md, "Modules and
 * dependencies"): it never sees rvk_config_t. service/ fills an
 * rvk_api_settings_t from the configuration (service/api_settings.c): one
 * for the server at start (listeners, threads, bounds), one in each live
 * configuration the handlers read (api/app.h, rvk_app_live_t).
 *
 * Ownership: strings are borrowed from whoever filled them (the
 * configuration, which outlives the settings); the forward array is owned
 * and freed by rvk_api_settings_fini.
 *
 * Threads: filled before the server starts or the live object is
 * published, read-only afterwards.
 */
#ifndef RVK_API_SETTINGS_H
#define RVK_API_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

/* A claim /auth copies into a response header (REFERENCE §2 forward_claims). */
typedef struct rvk_api_forward {
	const char *claim;           /* borrowed */
	const char *header;          /* borrowed */
} rvk_api_forward_t;

typedef struct rvk_api_settings {
	const char *listen;          /* "127.0.0.1:8080"; borrowed */
	const char *admin_listen;    /* NULL: admin routes on listen */
	int threads;                 /* MHD workers per listener, >= 1 */
	size_t max_token_bytes;      /* sizes the per-connection memory */
	const char *token_cookie;    /* NULL: no cookie */
	rvk_api_forward_t *forward;  /* owned, n_forward of them */
	size_t n_forward;
	int64_t vcache_ttl;          /* seconds a verified token stays cached */
	int64_t webhook_tolerance;   /* seconds, Standard Webhooks timestamps */
	const char *set_audience;    /* NULL: SETs carry no aud check */
} rvk_api_settings_t;

/*
 * Appends one forwarded claim (claim and header borrowed), unless header
 * names one of the allow response's own headers (REFERENCE §3: those are
 * not written twice; compared without regard to case).
 * Requires: s, claim, header not NULL.
 */
void rvk_api_settings_forward(rvk_api_settings_t *s, const char *claim,
                              const char *header);

/* Frees what s owns and zeroes it. NULL is fine. */
void rvk_api_settings_fini(rvk_api_settings_t *s);

#endif
