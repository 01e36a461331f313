/*
 * app.h - everything a request handler may use, built once by service/.
 *
 * The app owns nothing it did not build: service/ creates the issuers, the
 * tables and the store, fills an rvk_app_t, starts the server, and tears
 * them down in the reverse order after the server stopped.
 *
 * Threads: every field is set before the server starts and is read-only
 * afterwards (the objects they point to have their own thread rules),
 * except app->live and app->secrets, which a SIGHUP replaces by RCU
 * pointer swap.
 */
#ifndef RVK_API_APP_H
#define RVK_API_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/settings.h"
#include "auth/access.h"
#include "auth/issuer.h"
#include "base/buf.h"
#include "base/rcu.h"
#include "cache/revtable.h"
#include "cache/syncmap.h"
#include "cache/vcache.h"
#include "store/replica.h"
#include "store/store.h"

struct MHD_Response;
struct rvk_app;

/* An RFC 7662 introspection client (config introspection.clients). */
typedef struct rvk_app_client {
	char *id;                     /* owned */
	char *secret;                 /* owned, from its secret_file */
	size_t secret_len;
} rvk_app_client_t;

/* One secret: bytes and length (owned). */
typedef struct rvk_secret {
	unsigned char *v;
	size_t len;
} rvk_secret_t;

/* The secrets that SIGHUP re-reads, published by RCU (app->secrets): every
 * entry is accepted, so a rotation adds the new one before the old one
 * goes. Readers hold rvk_rcu_read_lock() while they use it. */
typedef struct rvk_app_secrets {
	rvk_secret_t *admin;          /* admin tokens; none: admin API 403 */
	size_t n_admin;
	rvk_secret_t *webhook;        /* decoded whsec_ keys; none: /v1/events 403 */
	size_t n_webhook;
	rvk_app_client_t *clients;    /* introspection.clients with their secrets */
	size_t n_clients;
	rvk_rcu_head_t rcu;           /* a replaced set is wiped after a grace period */
} rvk_app_secrets_t;

/*
 * The configuration a SIGHUP may replace (docs/OPERATIONS.md, "Change the
 * configuration without a restart"): the issuers, the policy, the settings
 * api/ reads per request. One object, published by RCU pointer swap, so a
 * request sees the whole old configuration or the whole new one, never a
 * mix (DECISIONS D24).
 *
 * Readers: /auth reads app->live inside its RCU read section and takes no
 * reference (the hot path writes no shared memory). A handler that keeps
 * what it found past a read section (an issuer across a store commit)
 * holds a reference: rvk_app_live_hold / rvk_app_live_drop.
 *
 * Lifetime: the app's publication is one reference. A reload publishes the
 * new object, waits for a grace period (no new hold can then find the old
 * one) and drops the old publication's reference; the last drop calls
 * release (service/'s: frees the issuers, the key refresher, the config).
 */
typedef struct rvk_app_live {
	rvk_api_settings_t settings;  /* forward, token_cookie, vcache_ttl,
	                               * webhook_tolerance, set_audience */
	rvk_issuers_t *issuers;       /* owned through release */
	rvk_policy_t policy;
	/* Verified-cache entries built under another generation are never
	 * used (auth_handler.c): a reload may have narrowed what is
	 * accepted, or changed the forwarded headers. */
	uint64_t generation;
	/* key_kick's and metrics_extra's argument (the key refresher of
	 * these issuers). */
	void *keys_arg;
	unsigned refs;                /* atomic */
	void (*release)(struct rvk_app_live *live);
	void *owner;                  /* release's (service/'s config) */
} rvk_app_live_t;

/* Returns: the published live configuration, with a reference (never NULL
 * once started). Any thread; takes a short RCU read section itself. */
const rvk_app_live_t *rvk_app_live_hold(const struct rvk_app *app);
/* Drops a reference from rvk_app_live_hold or the publication; the last one
 * calls live->release. NULL is fine. */
void rvk_app_live_drop(const rvk_app_live_t *live);

typedef struct rvk_app {
	/* The settings the server was started with: the listeners, threads
	 * and bounds (restart-only); per-request settings are in live. */
	rvk_api_settings_t settings;
	rvk_app_live_t *live;         /* RCU-published; never NULL once started */
	rvk_revtable_t *revtable;
	rvk_vcache_t *vcache;
	rvk_store_t *store;           /* NULL only in tests of /auth alone */
	rvk_app_secrets_t *secrets;   /* RCU-published; never NULL once started */
	/* Replay memory of logout tokens, SETs and webhook-ids (api/replay.h);
	 * NULL: none kept. */
	rvk_syncmap_t *seen;
	bool ready_store;             /* the store loaded everything */
	/* Cluster mode (store/replica.h); NULL: replication disabled. */
	rvk_replica_t *replica;
	/* Remote keys (service/keyfetch.h): /auth calls key_kick when a token of
	 * issuer names a kid its keyring lacks; NULL: nobody to tell.
	 * Its argument is live->keys_arg. */
	void (*key_kick)(void *arg, const rvk_issuer_t *issuer);
	/* /metrics appends what this writes (whole families, HELP and TYPE
	 * included), with live->keys_arg; NULL: nothing. Called from any
	 * request thread. */
	void (*metrics_extra)(rvk_buf_t *out, void *arg);
	/* Prepared responses, built by rvk_api_prepare(). */
	struct MHD_Response *deny[RVK_REASON_COUNT];
	struct MHD_Response *no_token;
} rvk_app_t;

/* Builds the shared responses. */
void rvk_api_prepare(rvk_app_t *app);
/* Frees them, and what settings own (rvk_api_settings_fini). */
void rvk_api_release(rvk_app_t *app);
/* The destructor of the values /auth keeps in the verified cache. */
void rvk_api_vcache_free(void *value);
/* Drops the verified-cache entries built under a live configuration other
 * than generation (they are never used: this only frees their memory).
 * Returns: how many. */
size_t rvk_api_vcache_drop_stale(rvk_app_t *app, uint64_t generation);

#endif
