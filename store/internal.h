/*
 * internal.h - the store object, shared by store.c (lifecycle, writer) and
 * query.c (get, list). Not a contract for other modules.
 */
#ifndef RVK_STORE_INTERNAL_H
#define RVK_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <sqlite3.h>

#include "store/store.h"

/* Idle read connections kept for get/list; more callers open more, and the
 * ones beyond this are closed when returned. */
#define RVK_STORE_READERS 4

struct reader {
	sqlite3 *db;
	/* Prepared once per connection (query.c): compiling it on every
	 * get cost more than running it. */
	sqlite3_stmt *get;
	struct reader *next;
};

struct job;

struct rvk_store {
	char *path;                     /* data_dir/revokd.db */
	rvk_revtable_t *table;          /* borrowed */
	rvk_store_opts_t opts;

	/* Writer thread only (after open). */
	sqlite3 *wdb;
	sqlite3_stmt *st_begin, *st_commit, *st_rollback;
	sqlite3_stmt *st_insert_new, *st_merge, *st_find, *st_remain;
	sqlite3_stmt *st_delete, *st_delete_src, *st_purge;
	sqlite3_stmt *st_outbox_ins, *st_outbox_ack, *st_meta_set;
	sqlite3_stmt *st_ver_get, *st_ver_set, *st_ver_new, *st_ver_any;
	sqlite3_stmt *st_delete_older, *st_ver_purge;
	sqlite3_stmt *st_get;           /* rvk_store_sql_get, for shown */
	uint64_t hlc;                   /* the last version made or seen */
	char node[33];                  /* versions our changes ("" alone) */
	pthread_t writer;
	size_t outbox_added;            /* rows added by the current group */

	/* Guarded by mu: the queue, the stop flag, the statistics. */
	pthread_mutex_t mu;
	pthread_cond_t work_cv;         /* writer waits for jobs */
	struct job *head, *tail;
	bool stopping;
	rvk_store_stats_t stats;
	/* Set by any thread whose read met a damaged file (query.c): like a
	 * failed commit, it keeps the clean-stop marker off (DECISIONS D26). */
	atomic_bool read_damage;

	/* Guarded by rmu: idle read connections. */
	pthread_mutex_t rmu;
	struct reader *idle;
	int nidle;
};

/* A read connection from the pool (NULL: cannot open), and back. */
struct reader *rvk_store_reader_take(rvk_store_t *store);
void rvk_store_reader_give(rvk_store_t *store, struct reader *r);

/* Closes every idle read connection (close only). */
void rvk_store_readers_fini(rvk_store_t *store);

/* One revocation's rows, in source order (?1 type, ?2 iss, ?3 id). */
extern const char *const rvk_store_sql_get;

/* Up to ?6 rows of one range [?7, ?8) of the key index after the position
 * (?3 its hash, ?4 iss, ?5 id), of type ?1 (-1: any) and issuer ?2 (NULL:
 * any), in (kh, iss, id, source) order (store/query.c, rvk_store_list). */
extern const char *const rvk_store_sql_list;

/* Runs st (rvk_store_sql_get, prepared on any connection) for one
 * revocation and resets it. Returns: RVK_OK and *out (owned: the in-force
 * contribution and every source, as rvk_store_get), RVK_ENOTFOUND (*out
 * untouched), RVK_EIO (a row this build cannot read, or a failed step;
 * a step that met a damaged file is noted in s->read_damage). */
rvk_result_t rvk_store_get_one(rvk_store_t *s, sqlite3_stmt *st,
                               rvk_rev_type_t type, const char *iss,
                               const char *id, rvk_revocation_t *out);

#endif
