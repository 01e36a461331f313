/*
 * outbox.h - what cluster mode needs from the store: the outbox of
 * revocations and deletions still to be published to Redis, the replica's
 * writes (which never enter the outbox) and the stream position in meta.
 *
 * DESIGN: with rvk_store_opts_t.cluster set, rvk_store_record() of a
 * contribution that changed and an rvk_store_delete() that removed one write
 * an outbox row in the SAME transaction (a delete of one source's
 * contribution keeps that source in the row's source column; NULL there
 * means every source), so "acknowledged" implies "will be
 * published". The publisher reads rows in seq order, hands them to Redis
 * and only then acks (deletes) them: at-least-once, receivers merge.
 * The replica's writes save the last applied stream ID in meta in the same
 * transaction as the rows they apply, so a restart neither reapplies nor
 * skips an entry.
 *
 * Threads: all thread-safe (like store.h). Writes go through the writer
 * thread; reads use a read connection.
 */
#ifndef RVK_STORE_OUTBOX_H
#define RVK_STORE_OUTBOX_H

#include "store/store.h"

/* meta keys */
#define RVK_STORE_META_POSITION "replication.last_id"
#define RVK_STORE_META_NODE "replication.node_id"

/* Reconciliation (store/replica.h): each type's revocations fall into
 * RVK_DIGEST_BUCKETS buckets by a hash of (iss, id). */
#define RVK_DIGEST_BUCKETS 64

typedef struct rvk_outbox_row {
	int64_t seq;
	/* A delete: only rev.type, iss, id are set, and rev.source when
	 * every_source is false (one source's contribution left). */
	bool tombstone;
	bool every_source;
	rvk_revocation_t rev;     /* owned strings; reason may be NULL */
} rvk_outbox_row_t;

/*
 * Reads up to limit outbox rows with seq > after, oldest first (after 0:
 * from the oldest; the publisher passes the last row Redis accepted and it
 * has not acked yet).
 * Returns: RVK_OK, *rows (owned: rvk_outbox_rows_free) and *n (0: empty);
 * RVK_EIO.
 */
rvk_result_t rvk_store_outbox_read(rvk_store_t *store, int64_t after,
                                   size_t limit, rvk_outbox_row_t **rows,
                                   size_t *n);
void rvk_outbox_rows_free(rvk_outbox_row_t *rows, size_t n);

/* Deletes the outbox rows with seq <= upto (Redis has them).
 * Returns: RVK_OK, RVK_EIO, RVK_ESHUTDOWN. */
rvk_result_t rvk_store_outbox_ack(rvk_store_t *store, int64_t upto);

/* Returns: RVK_OK and *depth (rows waiting), RVK_EIO. */
rvk_result_t rvk_store_outbox_depth(rvk_store_t *store, size_t *depth);

/* Returns: RVK_OK and *value (owned, free()), RVK_ENOTFOUND, RVK_EIO. */
rvk_result_t rvk_store_meta_get(rvk_store_t *store, const char *key,
                                char **value);
/* Returns: RVK_OK, RVK_EIO, RVK_ESHUTDOWN. */
rvk_result_t rvk_store_meta_set(rvk_store_t *store, const char *key,
                                const char *value);

/*
 * Like rvk_store_record(), for entries applied from the stream: never
 * written to the outbox, and stream_id (when not NULL) is saved as
 * RVK_STORE_META_POSITION in the same transaction. Each revocation is the
 * contribution of its originating source, origin (borrowed, may be NULL)
 * the replica that took it.
 * Requires: n <= RVK_STORE_MAX_BATCH; n == 0 only with a stream_id (just
 * moves the position).
 */
/*
 * The digest of what this replica holds, for reconciliation: per type and
 * bucket, the XOR of a 64-bit hash of each contribution's (type, iss, id,
 * source) and of each versions row (the last change of a contribution:
 * version, node, deleted) (store/digest.h). The file keeps it (schema 8),
 * so this reads RVK_REV_TYPE_COUNT x RVK_DIGEST_BUCKETS numbers whatever
 * it holds. Times and origins are left out: two replicas that applied the
 * same changes have the same digest.
 * Returns: RVK_OK and out; RVK_EIO.
 */
rvk_result_t rvk_store_digest(rvk_store_t *store,
                              uint64_t out[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS]);

/* The bucket of (iss, id). */
unsigned rvk_store_bucket(const char *iss, const char *id);

/*
 * Republishes, through the outbox, what this replica knows of one (type,
 * bucket): its contributions as revocations and the deletes versioned
 * since `since` as tombstones, in version order, each with its version
 * and the replica that made it (so a receiver judges it as it would have
 * the first time).
 * Returns: RVK_OK and *rows (outbox rows added); RVK_EIO.
 */
rvk_result_t rvk_store_republish(rvk_store_t *store, rvk_rev_type_t type,
                                 unsigned bucket, uint64_t since, size_t *rows);

rvk_result_t rvk_store_record_replica(rvk_store_t *store,
                                      const rvk_revocation_t *revs, size_t n,
                                      const char *stream_id);

/* Like rvk_store_delete(), for a tombstone from the stream (only_source
 * NULL: every contribution; else that source's only): no outbox row;
 * stream_id saved as above. version (0: none) and origin (borrowed, may be
 * NULL) version the delete: it applies only when it is the later change
 * (store.c, "Versioned changes"). */
rvk_result_t rvk_store_delete_replica(rvk_store_t *store, rvk_rev_type_t type,
                                      const char *iss, const char *id,
                                      const rvk_source_t *only_source,
                                      uint64_t version, const char *origin,
                                      const char *stream_id, bool *deleted);

#endif
