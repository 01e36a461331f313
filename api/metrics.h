/*
 * metrics.h - Prometheus counters and histograms, per thread on the hot path.
 *
 * DESIGN: every thread that counts gets its own block of counters (made on
 * its first count and linked into a global list under a mutex, once). A
 * count is a relaxed atomic add to a cache line no other thread writes, so
 * /auth never contends on a shared counter. /metrics sums the blocks at
 * scrape time. Blocks outlive their threads (their counts must not vanish);
 * rvk_metrics_fini frees them at exit.
 *
 * Threads: the count functions from any thread; rvk_metrics_render from any
 * thread (reads are relaxed atomic loads: a scrape sees each counter at some
 * recent value).
 */
#ifndef RVK_API_METRICS_H
#define RVK_API_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/reason.h"
#include "base/vocab.h"

typedef enum rvk_route_id {
	RVK_ROUTE_AUTH = 0,
	RVK_ROUTE_EVENTS,
	RVK_ROUTE_BACKCHANNEL,
	RVK_ROUTE_KEYCLOAK,
	RVK_ROUTE_REVOKE,
	RVK_ROUTE_INTROSPECT,
	RVK_ROUTE_ADMIN,
	RVK_ROUTE_OPS,
	RVK_ROUTE_COUNT
} rvk_route_id_t;

/* The decision results: every reason, plus "no_token". */
#define RVK_DECISION_NO_TOKEN RVK_REASON_COUNT
#define RVK_DECISION_COUNT (RVK_REASON_COUNT + 1)

void rvk_metrics_decision(unsigned decision);
void rvk_metrics_vcache(bool hit);
void rvk_metrics_request(rvk_route_id_t route, uint64_t nanos);
void rvk_metrics_taken(rvk_source_t source, uint64_t n);
void rvk_metrics_commit(uint64_t nanos);
/* A group commit that failed (the store logged it and rolled back). */
void rvk_metrics_commit_error(void);
/* A request refused 503 because the bytes of request bodies in flight
 * reached the server's budget (api/server.c). */
void rvk_metrics_body_budget_exhausted(void);

/* A SIGHUP configuration reload applied (ok) or refused, at now (unix
 * seconds); also called once at start (ok: the configuration in force was
 * loaded then). Main thread. */
void rvk_metrics_config_reload(bool ok, bool at_start, int64_t now);

/* revokd_build_info's labels, set once at start before any scrape:
 * name/value pairs, NULL-terminated; copied. */
void rvk_metrics_set_build_info(const char *const *pairs);

/* Gauges and other values read at scrape time come from the caller. */
typedef struct rvk_metrics_gauges {
	size_t revocations[RVK_REV_TYPE_COUNT];
	size_t vcache_entries;
	bool ready;                     /* what /readyz would answer */
	bool cluster;
	size_t replication_outbox;
	double replication_lag_seconds;
	uint64_t replication_rejected;          /* entries refused, never applied */
	uint64_t reconcile_rounds, reconcile_skipped, reconcile_republished;
	uint64_t replication_connect_failures;  /* refused servers, TLS, AUTH... */
	int replication_state;          /* rvk_replica_state_t (cluster only) */
	/* jwks fetches: rendered by the caller-provided text, may be NULL */
	const char *extra;
} rvk_metrics_gauges_t;

/* Appends the whole exposition (text format 0.0.4) to out, the standard
 * process_* metrics included (read from /proc and getrusage at this call:
 * nothing is sampled in between). */
void rvk_metrics_render(rvk_buf_t *out, const rvk_metrics_gauges_t *g);

/* Returns: the verified-cache hits and misses counted so far (summed over
 * threads, relaxed reads; admin stats). */
void rvk_metrics_vcache_totals(uint64_t *hits, uint64_t *misses);

void rvk_metrics_fini(void);

#endif
