/*
 * replica_impl.h - what the three parts of cluster mode share: the replica
 * object (store/replica.c: its life cycle and its Redis connections), the
 * stream publisher (store/stream_publisher.c) and the stream consumer
 * (store/stream_consumer.c).
 * Internal to store/; the public contract is store/replica.h.
 *
 * Threads: the publisher and the consumer each own their connection
 * (store/redis_conn.h);
 * rep->mu guards the fields marked below and the context pointers (for
 * rvk_replica_stop, which shuts the sockets down from another thread).
 */
#ifndef RVK_STORE_REPLICA_IMPL_H
#define RVK_STORE_REPLICA_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include "store/outbox.h"
#include "store/redis_conn.h"
#include "store/replica.h"

#define BLOCK_MS 5000
#define READ_TIMEOUT_S 10       /* > BLOCK_MS: see DECISIONS D9 */
#define PUBLISH_TIMEOUT_S 5
#define CONNECT_TIMEOUT_MS 2000
#define READ_COUNT 1000
#define PUBLISH_BATCH 500
/* The publisher acks (deletes from the outbox) what Redis accepted once it
 * caught up, or after this many rows or this long, or at once for a batch
 * holding a key revocation: an ack is a job for the writer, queued behind
 * intake, so acking every batch bounded publishing to a batch per group
 * commit (DECISIONS D34). Rows accepted but not acked when revokd dies are
 * published again at the next start: the stream's consumers ignore a
 * change they have (same version, same origin); the keys hash takes it
 * again, which is why key revocations, the only rows it lifts, are acked
 * at once. */
#define ACK_EVERY_ROWS 16384
#define ACK_EVERY_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define IDLE_POLL_MS 1000       /* publisher re-reads the outbox this often */
#define WAIT_TIMEOUT_MS 2000    /* WAIT's own bound (< PUBLISH_TIMEOUT_S) */

struct rvk_replica {
	rvk_replica_opts_t opts;        /* strings owned (copies) */
	rvk_redis_url_t url;            /* password: the effective one */
	SSL_CTX *tls;                   /* rediss://: shared by both threads */
	char *server_name;              /* NULL: url.host */
	char *sentinel_master;          /* NULL: no Sentinel */
	char **sentinel_hosts;          /* n_sentinels each */
	int *sentinel_ports;
	size_t n_sentinels;
	char *sentinel_password;
	char *keys;                     /* <stream>:keys */
	rvk_store_t *store;
	char node[33];                  /* origin of our entries */
	pthread_t publisher, consumer;
	bool publisher_running, consumer_running;

	/* Guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* kicks, back-off sleeps, stop */
	bool stopping, kicked;
	/* Owned by their threads; mu only guards the pointers, for stop. */
	rvk_redis_conn_t *publisher_ctx, *consumer_ctx;
	char last_error[256];           /* the last connect failure ("" after
	                                 * a connect succeeded) */
	bool ever_connected, caught_up, at_head;
	int64_t pos_ms;                 /* ms part of the last applied ID */
	int64_t at_head_ms;             /* wall ms we last were at the head */
	uint64_t applied, published;
	/* Rows Redis accepted that the outbox still holds until the
	 * publisher's next ack (ACK_EVERY_ROWS): not waiting any more. */
	size_t unacked;
	uint64_t rejected, connect_failures;
	/* Reconciliation (metrics): rounds done, rounds skipped, rows
	 * republished. */
	uint64_t rounds, skipped, republished;
	/* Publisher thread only (DECISIONS D36). Rounds fall on the wall
	 * clock's multiples of reconcile_interval, the same instants on
	 * every replica: round_ms is the last one done (0: none yet), mine
	 * its digest, which the next round compares with the others' of
	 * that same instant (0 in mine_ms: none to compare). */
	int64_t round_ms, mine_ms;
	uint64_t mine[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	/* Each bucket's difference from the others at the last comparison
	 * (a sum over them of a mix of mine XOR theirs; 0: none), and how
	 * many comparisons in a row found that same one. A bucket is
	 * republished when that count reaches 2, 4, 8, ...: a change in
	 * flight at one round's instant costs nothing, the comparison after
	 * a republish (of digests taken before it) does not repeat it, and a
	 * difference no republish mends is retried ever more rarely. */
	uint64_t differed[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	uint32_t same[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
};

/* Counts an entry refused as malformed (metrics). */
void rvk_repl_count_rejected(rvk_replica_t *rep);

/* Wall-clock milliseconds (stream IDs are wall-clock ms). */
int64_t rvk_repl_wall_ms(void);
/* Sleeps up to ms unless stopping (or kicked, when kickable).
 * Returns: !stopping. */
bool rvk_repl_nap(rvk_replica_t *rep, int64_t ms, bool kickable);
bool rvk_repl_stopping(rvk_replica_t *rep);
/* Returns: r when it is a reply that is not an error; else NULL (logged,
 * r freed: the caller drops the connection). */
redisReply *rvk_repl_command_ok(rvk_redis_conn_t *c, const char *what, redisReply *r);
/* Connects (TLS for rediss://), AUTHs, SELECTs, checks the server's
 * version. Returns: the connection or NULL (logged, and kept as
 * last_error for /readyz). */
rvk_redis_conn_t *rvk_repl_connect(rvk_replica_t *rep, int timeout_s);
/* Publishes a context under mu (for stop), or refuses when stopping. */
bool rvk_repl_set_ctx(rvk_replica_t *rep, rvk_redis_conn_t **slot,
                      rvk_redis_conn_t *c);
void rvk_repl_drop_ctx(rvk_replica_t *rep, rvk_redis_conn_t **slot);

/* Thread bodies (arg: the rvk_replica_t). */
void *rvk_stream_publisher_main(void *arg);
void *rvk_stream_consumer_main(void *arg);

#endif
