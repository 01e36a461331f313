/*
 * replica.h - cluster mode (REFERENCE §7): replicas share revocations through a
 * Redis stream.
 *
 * DESIGN: two threads, each with its own hiredis connection (RESP2; hiredis
 * 0.14 leaves a context dead after any error, so a failed command drops the
 * connection and reconnects with back-off, 100 ms doubling to 5 s).
 *  - The publisher moves outbox rows (store/outbox.h) to the stream with
 *    XADD <stream> MINID ~ <now - (max_token_lifetime + 2 leeway)> * ...,
 *    key revocations also into the hash <stream>:keys (tombstones HDEL),
 *    and acks the rows only after Redis answered every command of a batch.
 *  - The consumer tails the stream (XREAD BLOCK 5000 COUNT 1000, socket
 *    timeout 10 s) from the last applied ID kept in meta, and applies the
 *    entries of other nodes as the contribution of their originating
 *    source, with origin = the entry's origin, the ID saved in the same
 *    transaction (store/store.h, per-source revocations). A replica without a position (brand new), or whose
 *    position the stream was trimmed past, first loads the keys hash.
 * Entries carry origin = this replica's node ID (kept in meta, so it
 * survives restarts); the consumer skips its own, so nothing echoes.
 *
 * Reconciliation (convergence that does not rest on Redis keeping every
 * entry; DECISIONS D36): at each multiple of reconcile_interval on the wall
 * clock, once caught up and with the outbox just found empty, the
 * publisher purges what expired by that instant, writes a digest of what
 * this replica holds (store/outbox.h, rvk_store_digest: per type and
 * bucket, its contributions and their last versions, not times) into the
 * hash <stream>:digests (field "<node ID>:<round parity>"), compares its
 * previous round's digest with every other replica's of that same instant,
 * and republishes through the outbox each (type, bucket) whose difference
 * from them is the same two comparisons in a row (a change merely in
 * flight at one instant costs nothing) - every change with its original
 * version and origin, so receivers judge it as the first time (a tombstone
 * still beats an older revocation). After a FLUSHALL or a lost stream
 * every replica so ends with the union, traffic or not. Digests of other
 * instants (a replica stopped) are ignored, and deleted once ten rounds
 * old; one in another format is refused, logged and counted.
 *
 * Entry fields: op (revoke|delete), type, iss, id, revoked_at, expires_at
 * (seconds or "never"), reason (absent: none), source (the originating
 * source: required on a revoke; on a delete, the one source whose
 * contribution left, absent when every source's did), origin.
 *
 * Threads: rvk_replica_status and rvk_replica_kick from any thread; the
 * rest from one controlling thread.
 */
#ifndef RVK_STORE_REPLICA_H
#define RVK_STORE_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/result.h"
#include "store/redis_conn.h"
#include "store/redis_url.h"
#include "store/store.h"

typedef struct rvk_replica_opts {
	const char *url;                /* redis:// or rediss:// (TLS) */
	const char *password;           /* wins over the URL's; may be NULL */
	rvk_redis_tls_opts_t tls;       /* rediss:// only */
	const char *server_name;        /* rediss://: the name checked, and
	                                 * SNI; NULL: the URL's host */
	/* Sentinel: the master is asked of these ("host:port", tried in
	 * order) at every connect; NULL master: the URL's host and port. The
	 * URL's credentials, db and scheme still apply to the master. */
	const char *sentinel_master;
	const char *const *sentinel_addrs;
	size_t n_sentinel_addrs;
	const char *sentinel_password;  /* AUTH to the sentinels; may be NULL */
	/* > 0: a batch leaves the outbox only after WAIT confirms this many
	 * Redis replicas have it. */
	int wait_replicas;
	/* Seconds between reconciliation rounds (0: none): see DESIGN. */
	int64_t reconcile_interval;
	const char *stream;
	int64_t max_token_lifetime;     /* seconds: the stream's retention */
	int64_t leeway;                 /* seconds */
	/* Called on the consumer thread after n entries of other replicas
	 * were applied (metrics); may be NULL. */
	void (*on_applied)(void *arg, size_t n);
	void *on_applied_arg;
	/* Whether iss is a configured issuer; an entry for another one is
	 * refused (logged, counted), never applied. Called on the consumer
	 * thread; NULL: every issuer is taken. */
	bool (*issuer_known)(void *arg, const char *iss);
	void *issuer_known_arg;
} rvk_replica_opts_t;

typedef struct rvk_replica rvk_replica_t;

typedef enum rvk_replica_state {
	RVK_REPL_CONNECTING = 0,        /* Redis never reached yet */
	RVK_REPL_CATCHING_UP,           /* reached; initial catch-up running */
	RVK_REPL_CONNECTED,             /* caught up, both connections up */
	RVK_REPL_DEGRADED,              /* caught up once; Redis unreachable */
} rvk_replica_state_t;

/* Returns: "connecting", "catching up", "connected", "degraded". */
const char *rvk_replica_state_name(rvk_replica_state_t s);

typedef struct rvk_replica_status {
	rvk_replica_state_t state;
	bool ready;                     /* the initial catch-up is done */
	size_t outbox;                  /* rows waiting to be published */
	double lag_seconds;             /* behind the stream's head */
	uint64_t applied, published;    /* entries, since start */
	uint64_t rejected;              /* entries refused as malformed */
	uint64_t connect_failures;      /* failed or refused connects */
	/* Reconciliation, since start: rounds done, rounds skipped (no
	 * empty outbox within half an interval), rows republished. */
	uint64_t rounds, skipped, republished;
	char error[256];                /* why the last connect failed, "" */
} rvk_replica_status_t;

/* Parses the URL, loads the TLS files (rediss://); starts nothing (so the
 * store can already be given rvk_replica_kick). A URL that names a user
 * needs a password (the URL's or opts->password).
 * Returns: RVK_OK and *out; RVK_EINVAL with err. */
rvk_result_t rvk_replica_new(const rvk_replica_opts_t *opts,
                             rvk_replica_t **out, char *err, size_t errlen);

/* Starts both threads on store (borrowed until rvk_replica_stop).
 * Returns: RVK_OK, RVK_EIO (meta unreadable, no thread) with err. */
rvk_result_t rvk_replica_start(rvk_replica_t *rep, rvk_store_t *store,
                               char *err, size_t errlen);

/* The store's on_outbox callback: wakes the publisher. arg: the replica. */
void rvk_replica_kick(void *arg);

void rvk_replica_status(rvk_replica_t *rep, rvk_replica_status_t *out);

/* Stops and joins the threads (interrupting a blocked XREAD). Unpublished
 * rows stay in the outbox for the next start. NULL is fine. */
void rvk_replica_stop(rvk_replica_t *rep);

/* Frees it; after rvk_replica_stop and after the store closed (the
 * store's writer may still kick it until then). NULL is fine. */
void rvk_replica_free(rvk_replica_t *rep);

#endif
