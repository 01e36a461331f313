/*
 * db.h - the SQLite file of store/: opening, schema migration, loading.
 *
 * Internal to store/ (not a contract for other modules).
 *
 * Schema (PRAGMA user_version):
 *   1  revocations(type, iss, id, revoked_at, expires_at NULL = never,
 *      reason NULL, source) WITHOUT ROWID, PRIMARY KEY (type, iss, id);
 *      index on expires_at (purge); meta(key, value) for later use
 *      (replication stream position).
 *   2  outbox(seq AUTOINCREMENT, op, type, iss, id, revoked_at, expires_at,
 *      reason, source): what cluster mode still has to publish
 *      (store/outbox.h).
 *   3  revocations(type, iss, id, revoked_at, expires_at, reason, source,
 *      origin NULL = taken here) WITHOUT ROWID, PRIMARY KEY (type, iss, id,
 *      source): one row per source's contribution (store/store.h); v2 rows
 *      are copied as the contribution of their source.
 *   4  versions(type, iss, id, source, version, node, deleted) and the
 *      outbox's version and origin (versioned changes, cluster mode).
 *   5  revocations: the same columns in a rowid table, the key (type, iss,
 *      id, source) a UNIQUE index, plus the expires_at index: a new row
 *      is an append and one random page of small index entries, where a
 *      WITHOUT ROWID table took a random page of the table and another of
 *      its expires_at index (DECISIONS D25); the rows are copied.
 *   6  revocations: plus kh, the key's hash (rvk_db_key_hash), and the
 *      UNIQUE key index replaced by an index on kh: a fifth of the size,
 *      so it stays in the writer's cache (DECISIONS D31). The writer keeps
 *      the key unique; the rows are copied with their hash.
 *   7  versions: plus kh, in a rowid table with an index on kh (and the
 *      versions_version index), for the same reason (DECISIONS D32); the
 *      writer keeps (type, iss, id, source) unique; rows copied.
 *   8  digest(type, bucket, x): the reconciliation digest, kept by
 *      triggers on revocations and versions (store/digest.h, DECISIONS
 *      D33).
 * A database with a newer user_version than RVK_DB_VERSION is refused: an
 * older binary must not write rows it does not understand.
 *
 * Threads: a connection belongs to one thread at a time (opened NOMUTEX).
 */
#ifndef RVK_STORE_DB_H
#define RVK_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/result.h"
#include "cache/revtable.h"

#define RVK_DB_VERSION 8
#define RVK_DB_FILE "revokd.db"

/*
 * The clean-stop marker (DECISIONS D26): meta row RVK_DB_META_CLEAN_STOP,
 * its value the Unix time of the stop. The serving process sets it in the
 * last transaction before it closes the file after a run with no failed
 * commit, and deletes it (and checkpoints the deletion into the main file)
 * right after it opened the file. So the file carries it only while no
 * revokd has it open for writing and the last one stopped cleanly.
 */
#define RVK_DB_META_CLEAN_STOP "clean_stop"

typedef struct rvk_db_open_opts {
	/* PRAGMA quick_check at every open; false: only when the file does
	 * not carry the clean-stop marker, or its WAL is not empty. */
	bool check_every_open;
	/* The serving process: delete the marker once the file is open. */
	bool clear_clean_stop;
} rvk_db_open_opts_t;

/* What the open did about the check, for the "store opened" log line. */
typedef struct rvk_db_opened {
	bool checked;           /* quick_check ran (and answered ok) */
	const char *why;        /* static text: why it ran, or why not */
	double check_ms;        /* its wall time; 0 when it did not run */
} rvk_db_opened_t;

/*
 * Opens path for writing (creating it), switches it to WAL with
 * synchronous=FULL, runs PRAGMA quick_check as opts say (NULL: every
 * open), migrates the schema and, with opts->clear_clean_stop, deletes the
 * clean-stop marker. info (may be NULL) says whether the check ran.
 * Returns: RVK_OK and *out; RVK_EPERM when the file cannot be created or
 * written, RVK_EIO when it is not a database, corrupt or too new; err names
 * the path.
 */
rvk_result_t rvk_db_open_write(const char *path, const rvk_db_open_opts_t *opts,
                               rvk_db_opened_t *info, sqlite3 **out, char *err,
                               size_t errlen);

/*
 * Sets the clean-stop marker to now, in a transaction of its own, with
 * synchronous=NORMAL (the close's checkpoint syncs it; lost, it only costs
 * the next start a check). The caller closes db next and writes nothing
 * more.
 * Returns: RVK_OK, or RVK_EIO (the next open then runs the check).
 */
rvk_result_t rvk_db_mark_clean_stop(sqlite3 *db, int64_t now);

/* Opens path read-only (for get/list). Returns: RVK_OK and *out, RVK_EIO. */
rvk_result_t rvk_db_open_read(const char *path, sqlite3 **out);

/*
 * Puts every contribution with expires_at NULL or expires_at + leeway >= now into
 * table, with one full scan (which also reads every page of the table, so
 * a corrupt page surfaces here as RVK_EIO).
 * Returns: RVK_OK, *loaded and *total (rows in the file); RVK_EIO with err.
 */
rvk_result_t rvk_db_load(sqlite3 *db, const char *path, rvk_revtable_t *table,
                         int64_t now, int64_t leeway, size_t *loaded,
                         size_t *total, char *err, size_t errlen);

/*
 * The key hash of (type, iss, id), as the column kh stores it (db.c says
 * how it is made; it is persisted and never changes). Not unique: a lookup
 * compares the columns too. From the top: the type (4 bits), 16 bits of
 * the issuer's hash, 44 bits of the key's, so the keys of one type, and of
 * one type and issuer, are each one range (rvk_db_key_range).
 * Requires: type < RVK_REV_TYPE_COUNT. Thread-safe.
 */
#define RVK_DB_KH_TYPE_SHIFT 60
#define RVK_DB_KH_ISS_SHIFT 44
int64_t rvk_db_key_hash(int type, const char *iss, size_t iss_len,
                        const char *id, size_t id_len);

/*
 * The range [*lo, *hi) of kh that holds every key of type, and of issuer
 * iss when not NULL (with other issuers' whose 16 bits are the same: a
 * listing still compares iss). Requires: type < RVK_REV_TYPE_COUNT.
 */
void rvk_db_key_range(int type, const char *iss, size_t iss_len, int64_t *lo,
                      int64_t *hi);

/*
 * Adds rvk_kh(type, iss, id), rvk_db_key_hash in SQL, and the digest's
 * functions (store/digest.h) to db: every connection rvk_db_open_* makes
 * has them; one opened otherwise needs them before it runs the store's
 * SQL or writes a contribution. Returns: an SQLite result code.
 */
int rvk_db_add_functions(sqlite3 *db);

/* SQLite's NULL expires_at is RVK_NEVER in memory. */
int64_t rvk_db_column_expires(sqlite3_stmt *stmt, int col);

#endif
