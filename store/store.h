/*
 * store.h - durable revocations: SQLite with group commit, and the ledger.
 *
 * DESIGN: one writer thread owns the SQLite write connection. Handlers call
 * rvk_store_record(), which queues the batch and waits; the writer drains
 * what is queued (whole batches, up to 8,192 rows unless one batch is
 * bigger) into one transaction (WAL, synchronous=FULL), commits,
 * then applies each batch to the revocation table in commit order, then wakes
 * each waiter of the group (or calls its completion,
 * rvk_store_record_async). So a 2xx is only ever sent after the commit
 * (durable) and the apply (visible), and a burst of N concurrent requests costs a few fsyncs.
 * A batch is all or nothing: if its transaction fails, nothing of it is in
 * the database or the table, and every waiter of that transaction gets
 * RVK_EIO. The writer is the only thread that changes the table (besides the
 * sweeper's expiry), so a delete and a re-revoke never swap.
 *
 * Per-source revocations (docs/ARCHITECTURE.md, "Per-source revocations"):
 * each source that revoked a (type, iss, id) keeps its own contribution - a
 * row keyed (type, iss, id, source) with its own revoked_at, expires_at,
 * reason and origin. Recording an existing contribution keeps the later
 * revoked_at and the later expires_at (RVK_NEVER wins); its reason is the
 * one given with the later revoked_at. One that changes nothing (revoked_at
 * and expires_at both no later) writes nothing, and makes no outbox row.
 * The revocation in force is the contribution with the latest revoked_at
 * (ties: the later expires_at, then the source name in alphabetical order);
 * the table (cache/revtable.h) holds only the in-force times: the latest
 * revoked_at and the latest expires_at over every contribution. Removing
 * one source's contribution leaves the others in force; an unfiltered
 * delete removes them all. RFC 7009 revokes a token "now": its repeat of a
 * token it revoked before keeps the first revoked_at (which plays no part
 * in a token revocation's decision) and so writes nothing either.
 *
 * Schema: versioned with PRAGMA user_version, migrated on open.
 *
 * Threads: every function is thread-safe except open/close. record, delete
 * and purge block the caller until the writer has done the work; get and
 * list read on a read connection of their own for the call (WAL readers
 * never block the writer).
 * Resources: a batch may hold at most RVK_STORE_MAX_BATCH revocations.
 */
#ifndef RVK_STORE_STORE_H
#define RVK_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/result.h"
#include "base/vocab.h"
#include "cache/revtable.h"

#define RVK_STORE_MAX_BATCH 10000

/* rvk_source_t, its names and parser: base/vocab.h. */

/* One source's contribution to a revocation (what rvk_store_get and
 * rvk_store_list return beside the one in force). */
typedef struct rvk_contribution {
	rvk_source_t source;
	int64_t revoked_at;
	int64_t expires_at;     /* RVK_NEVER: never */
	char *reason;           /* owned; NULL when none was given */
	char *origin;           /* owned; NULL when taken on this replica */
} rvk_contribution_t;

typedef struct rvk_revocation {
	rvk_rev_type_t type;
	char *iss;              /* "" never: always an issuer */
	char *id;               /* "" for RVK_REV_ISSUER */
	int64_t revoked_at;
	int64_t expires_at;     /* RVK_NEVER for RVK_REV_KEY */
	char *reason;           /* NULL when none was given */
	rvk_source_t source;
	/* The replica ID that took this contribution first (a revocation
	 * applied from the cluster stream); NULL when taken on this replica.
	 * Recorded on the contribution's first write only. */
	char *origin;
	/* Cluster mode: the change's version (hybrid logical clock, see
	 * "Versioned changes" in docs/ARCHITECTURE.md) with origin the replica
	 * that made it; 0: none (taken here - the store assigns one - or an
	 * entry from a revokd that had no versions). */
	uint64_t version;
	/* Read results only (rvk_store_get, rvk_store_list): the fields above
	 * are the contribution in force (times: the in-force times, as the
	 * table has them), and sources every contribution, in source-name
	 * order. NULL and 0 in a revocation given to record. */
	rvk_contribution_t *sources;
	size_t nsources;
} rvk_revocation_t;

/* Frees the strings and the sources of r (not r itself). */
void rvk_revocation_fini(rvk_revocation_t *r);

typedef struct rvk_store rvk_store_t;

/* When rvk_store_open runs PRAGMA quick_check, which reads the whole file
 * (DECISIONS D26; config integrity_check). */
typedef enum rvk_store_check {
	/* Only when the file does not carry the clean-stop marker (the last
	 * revokd that wrote it did not stop cleanly, or one runs now) or its
	 * WAL is not empty. */
	RVK_STORE_CHECK_AFTER_UNCLEAN_STOP = 0,
	RVK_STORE_CHECK_EVERY_START,
} rvk_store_check_t;

typedef struct rvk_store_opts {
	int64_t leeway;         /* purge rows with expires_at + leeway < now */
	rvk_store_check_t check;
	/* The serving process (one per data dir): delete the clean-stop
	 * marker at open, set it at a close after no failed commit and no
	 * read that met a damaged file. false (revokd check, tests): leave
	 * it as it is. */
	bool clean_stop_marker;
	/* Called on the writer thread after each commit (metrics); may be NULL. */
	void (*on_commit)(void *arg, double seconds, size_t rows, bool ok);
	void *on_commit_arg;
	/* Cluster mode (store/outbox.h): every recorded contribution that
	 * changed (not one applied from the stream), and every delete that
	 * removed a row, also writes an outbox row in the same transaction. */
	bool cluster;
	/* Called on the writer thread after a commit that added outbox rows
	 * (wakes the publisher); may be NULL. */
	void (*on_outbox)(void *arg);
	void *on_outbox_arg;
	/* Cluster mode: how long (seconds) the version of a change outlives
	 * the contribution it changed (so a late entry still loses to it);
	 * at least the stream's retention. 0: 7 days. */
	int64_t version_keep;
	/* Cluster mode: rvk_store_purge rounds its `now` down to a multiple
	 * of this many seconds (the reconcile interval), so that every
	 * replica has purged the same rows between two reconciliation rounds
	 * whenever its sweeper ran (DECISIONS D36). 0: not rounded. */
	int64_t purge_align;
} rvk_store_opts_t;

/* Cluster mode: this replica's node ID, which versions its changes (ties
 * between equal versions go to the larger node ID).
 * Requires: before the first record or delete; node at most 32 bytes. */
void rvk_store_set_node(rvk_store_t *store, const char *node);

/*
 * Opens (creating when absent) data_dir/revokd.db, migrates it, loads every
 * unexpired revocation into table, and starts the writer thread.
 * Requires: data_dir exists or can be created; table is empty.
 * Returns: RVK_OK and *out; RVK_EPERM (read-only dir), RVK_EIO (corrupt or
 * unreadable database) with a message naming the path in err.
 */
rvk_result_t rvk_store_open(const char *data_dir, rvk_revtable_t *table,
                            const rvk_store_opts_t *opts, int64_t now,
                            rvk_store_t **out, char *err, size_t errlen);

/* Flushes and stops the writer, sets the clean-stop marker (opts), closes
 * the database. NULL is fine. */
void rvk_store_close(rvk_store_t *store);

/*
 * Commits n revocations (borrowed) in one transaction, then applies them to
 * the table. Blocks until both are done. Each is the contribution of its
 * source (merged as DESIGN says); one that changes nothing is acknowledged
 * without a write.
 * Requires: 1 <= n <= RVK_STORE_MAX_BATCH; each revocation well-formed
 * (origin NULL, sources NULL: origin is for rvk_store_record_replica).
 * Returns: RVK_OK (durable and visible), RVK_EIO (nothing recorded),
 * RVK_ESHUTDOWN.
 */
rvk_result_t rvk_store_record(rvk_store_t *store, const rvk_revocation_t *revs,
                              size_t n);

/* Called once with the result of an asynchronous record. */
typedef void (*rvk_store_done_fn)(void *arg, rvk_result_t result);

/*
 * rvk_store_record without the wait: queues the batch and returns; the
 * writer calls done(arg, result) after the commit and the apply (RVK_OK:
 * durable and visible) or after the failed commit (RVK_EIO, nothing
 * recorded). Same group, order and all-or-nothing as rvk_store_record; a
 * close flushes queued batches, so done is always called.
 * Threads: done runs on the writer thread, so it must be quick and must not
 * call into the store (that would wait for the writer itself).
 * Ownership: revs (borrowed) must stay valid until done is called.
 * Requires: as rvk_store_record; done not NULL.
 * Returns: RVK_OK (queued: done will be called), RVK_ESHUTDOWN (not
 * queued: done will not be called).
 */
rvk_result_t rvk_store_record_async(rvk_store_t *store,
                                    const rvk_revocation_t *revs, size_t n,
                                    rvk_store_done_fn done, void *arg);

/*
 * rvk_store_record_async with more said: how = { done, wake, arg, shown }.
 * The completions of one group commit run in two rounds: first done(arg,
 * result) of every job, in queue order, whose log lines (base/log.h) are
 * held and written together once the round is over; then wake(arg) of
 * every job (when not NULL), in the same order. So what done logs is out
 * before anything wake lets answer.
 * shown, when not NULL: n entries, zeroed by the caller, borrowed until
 * done is called: the writer also reads back what is stored for each
 * revocation once the batch is written, inside its transaction (what that
 * commit made durable; a look-up in pages the writer just touched, where a
 * read connection after the commit has to take its locks and re-read those
 * pages). When done gets RVK_OK, shown[i] is as rvk_store_get gives it
 * (owned by the caller: rvk_revocation_fini), or still zeroed (iss NULL)
 * when it could not be read; on any other result every entry is zeroed.
 * Threads: done and wake run as rvk_store_record_async's done does.
 * Requires: as rvk_store_record_async; how and how->done not NULL.
 */
typedef struct rvk_store_async {
	rvk_store_done_fn done;
	void (*wake)(void *arg);
	void *arg;
	rvk_revocation_t *shown;
} rvk_store_async_t;

rvk_result_t rvk_store_record_async_with(rvk_store_t *store,
                                         const rvk_revocation_t *revs,
                                         size_t n, const rvk_store_async_t *how);

/*
 * Deletes one revocation from the database and the table: every source's
 * contribution (an admin DELETE). When only_source is not NULL, deletes only
 * the contribution of *only_source (a Keycloak notBefore of 0 removes only
 * what Keycloak set): the others stay in force, and the table gets their
 * latest times.
 * Returns: RVK_OK with *deleted (a contribution was removed), RVK_EIO.
 */
rvk_result_t rvk_store_delete(rvk_store_t *store, rvk_rev_type_t type,
                              const char *iss, const char *id,
                              const rvk_source_t *only_source, bool *deleted);

/* Returns: RVK_OK and *out (owned: rvk_revocation_fini): the contribution
 * in force, its sources, the in-force times; RVK_ENOTFOUND, RVK_EIO. */
rvk_result_t rvk_store_get(rvk_store_t *store, rvk_rev_type_t type,
                           const char *iss, const char *id,
                           rvk_revocation_t *out);

/* Position in the list order: the revocation (type, iss, id) the last page
 * ended with (it need not exist any more); type -1 = from the start. */
typedef struct rvk_store_pos {
	int type;               /* -1: start */
	const char *iss;
	const char *id;
} rvk_store_pos_t;

/*
 * Lists up to limit revocations after pos in the key index's order (the
 * key hash, then iss and id: store/db.h), filtered by type (-1: any) and
 * iss (NULL: any). Paging on to the end gives each revocation present
 * throughout exactly once, whatever changes between the pages.
 * Returns: RVK_OK, *items (owned array: free each with rvk_revocation_fini,
 * then free()), *n, and *more when further items exist.
 */
rvk_result_t rvk_store_list(rvk_store_t *store, int type, const char *iss,
                            const rvk_store_pos_t *after, size_t limit,
                            rvk_revocation_t **items, size_t *n, bool *more);

/* The most rows one rvk_store_purge deletes: a purge is one transaction,
 * and the writer (every revocation waiting behind it) and a stop wait for
 * it whole; 10M rows that expired together were one multi-minute
 * transaction and a WAL of gigabytes. */
#define RVK_STORE_PURGE_BATCH 10000

/* Deletes up to RVK_STORE_PURGE_BATCH rows that can deny nothing any more
 * (the writer thread does it, in one transaction: all of them or none).
 * Returns: RVK_OK and *purged (RVK_STORE_PURGE_BATCH: there may be more). */
rvk_result_t rvk_store_purge(rvk_store_t *store, int64_t now, size_t *purged);

typedef struct rvk_store_stats {
	uint64_t commits, failed_commits;
	uint64_t rows_written;  /* contributions written or deleted */
	uint64_t rows;          /* contributions in the database */
	bool healthy;           /* the last commit succeeded */
} rvk_store_stats_t;

void rvk_store_stats(rvk_store_t *store, rvk_store_stats_t *out);

#endif
