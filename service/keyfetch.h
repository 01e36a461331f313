/*
 * keyfetch.h - the key refresher: one thread that fetches every remote key set
 * (OpenID discovery, then the JWKS) with libcurl and publishes each issuer's
 * keyring, and the one place that publishes keyrings at all.
 *
 * Design: an issuer's keyring is its static keys (from files) plus the keys
 * of its latest good JWKS. This module keeps both halves per issuer and
 * builds every new ring from them, under one mutex, so a SIGHUP reload of
 * the files never drops the JWKS keys and a JWKS refresh never drops the
 * file keys. The rings hold copies of the kept keys (rvk_key_dup: same
 * load_id), so a swap for one half leaves the verified-cache entries of the
 * other half valid. A refresh whose keys equal the last good set by (kid,
 * alg, public key) swaps nothing. A failed fetch keeps the last good set.
 *
 * Schedule, per issuer with remote keys: a fetch at start (asynchronous:
 * startup does not wait for the IdP), then every jwks_refresh seconds after
 * the last attempt (never later); after a failure, sooner, with back-off
 * (1 s doubling, at most jwks_refresh); on rvk_keyfetch_refetch (SIGHUP) at
 * once; on rvk_keyfetch_kick_cb (a token named an unknown kid) at once, at most
 * once per RVK_KEYFETCH_KICK_INTERVAL seconds per issuer, checked on both sides.
 *
 * Fetching: https only, plain http only to a loopback host (127.0.0.0/8,
 * localhost, [::1]); no redirects (a 3xx is a failure); TLS verification
 * on; 5 s timeout, 2 s connect timeout; 1 MiB cap enforced while reading
 * and by MAXFILESIZE; HTTP 200 required.
 *
 * Threads: rvk_keyfetch_kick_cb from any thread (request threads): a relaxed
 * atomic load, and at most once per interval a CAS, a flag and a condition
 * signal. rvk_keyfetch_render_metrics from any thread. The others from the main
 * thread. The refresher thread is an RCU-registered thread (it swaps rings).
 */
#ifndef RVK_SERVICE_KEYFETCH_H
#define RVK_SERVICE_KEYFETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/issuer.h"
#include "base/buf.h"
#include "base/result.h"
#include "service/config.h"

#define RVK_KEYFETCH_KICK_INTERVAL 10         /* seconds */
#define RVK_KEYFETCH_MAX_BYTES (1024 * 1024)  /* per document */
#define RVK_KEYFETCH_TIMEOUT_MS 5000
#define RVK_KEYFETCH_CONNECT_TIMEOUT_MS 2000

typedef struct rvk_keyfetch rvk_keyfetch_t;

/*
 * Takes over keyring publishing for issuers (built by
 * rvk_secrets_load_issuers from cfg, same order): copies each issuer's
 * current keys as its static keys.
 * Requires: cfg and issuers outlive the refresher.
 * Returns: the refresher, not started (abort on OOM).
 */
rvk_keyfetch_t *rvk_keyfetch_new(const rvk_config_t *cfg, rvk_issuers_t *issuers);

/* Starts the thread when some issuer has remote keys; the first fetches run
 * on it. Returns: RVK_OK, or RVK_EIO when the thread cannot start. */
rvk_result_t rvk_keyfetch_start(rvk_keyfetch_t *j);

/* Stops the thread (an ongoing transfer is aborted) and joins it. Kicks
 * after this are harmless no-ops. Idempotent. */
void rvk_keyfetch_stop(rvk_keyfetch_t *j);

/* Requires: stopped, and no thread may kick any more (listeners stopped). */
void rvk_keyfetch_free(rvk_keyfetch_t *j);

/*
 * A token named a kid that the issuer's ring lacks: ask for a fetch now
 * (j is the rvk_keyfetch_t; the signature is api/app.h's key_kick).
 * Cheap for the request thread; a no-op for an issuer without remote keys.
 */
void rvk_keyfetch_kick_cb(void *j, const rvk_issuer_t *issuer);

/*
 * SIGHUP: replaces the static keys of every issuer with those of fresh
 * (built from the files again, same config, same order; its rings are
 * emptied, the caller still frees fresh), publishes the merged rings, and
 * asks for every JWKS to be fetched again.
 */
void rvk_keyfetch_reload(rvk_keyfetch_t *j, rvk_issuers_t *fresh);

/*
 * A configuration reload built j for a new issuer set: takes over, for each
 * issuer whose remote source (iss, jwks_uri, discovery) old also fetched,
 * old's last good JWKS keys (those of an algorithm the issuer still
 * allows) and its fetch counters, and publishes the rings, so the new
 * issuers verify at once while j's first fetches run.
 * Requires: j not started; old alive (its thread may run).
 */
void rvk_keyfetch_adopt(rvk_keyfetch_t *j, rvk_keyfetch_t *old);

/* Appends revokd_jwks_fetches_total{issuer,result} (with HELP and TYPE) to
 * out. The signature of api/app.h's metrics_extra callback. */
void rvk_keyfetch_render_metrics(rvk_buf_t *out, void *j);

#endif
