/*
 * digest.h - the hashes of the reconciliation digest (DECISIONS D33).
 *
 * Internal to store/ (not a contract for other modules).
 *
 * A replica's digest is, per revocation type and per bucket of (iss, id)
 * (RVK_DIGEST_BUCKETS, store/outbox.h), the XOR of rvk_digest_hash over
 * the contributions its file holds, one per (type, iss, id, source), and
 * of rvk_digest_version_hash over its versions rows (cluster mode: the
 * last change of each contribution, so a missed re-revocation, which
 * changes a version and not the set of contributions, shows). The table
 * `digest` (schema 8, store/db.c) holds it, kept by triggers on every
 * insert, update and delete of those rows, in the same transaction, so
 * reading it costs a few hundred rows whatever the file holds.
 *
 * Both hashes are persisted and compared between replicas, so they never
 * change: tests/unit/store/store_test.c pins them and
 * tests/support/keyhash.py computes them for rows written by hand.
 *
 * Threads: pure functions, thread-safe.
 */
#ifndef RVK_STORE_DIGEST_H
#define RVK_STORE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* The bucket of (iss, id): FNV-1a over iss, a NUL and id, modulo
 * RVK_DIGEST_BUCKETS. */
unsigned rvk_digest_bucket(const char *iss, size_t iss_len, const char *id,
                           size_t id_len);

/* The hash of one contribution: FNV-1a over the type (8 bytes, little
 * endian), then iss, id and source, each after its length (4 bytes, big
 * endian), with a final mix so that an XOR over many stays well spread. */
uint64_t rvk_digest_hash(int64_t type, const char *iss, size_t iss_len,
                         const char *id, size_t id_len, const char *source,
                         size_t source_len);

/* The hash of one versions row: as rvk_digest_hash after a byte 'v', the
 * node after the source (length first), then the version (8 bytes, little
 * endian) and deleted (1 byte). */
uint64_t rvk_digest_version_hash(int64_t type, const char *iss,
                                 size_t iss_len, const char *id,
                                 size_t id_len, const char *source,
                                 size_t source_len, int64_t version,
                                 const char *node, size_t node_len,
                                 bool deleted);

/*
 * Adds to db, in SQL: rvk_bucket(iss, id), rvk_ch(type, iss, id, source)
 * (rvk_digest_hash), rvk_vh(type, iss, id, source, version, node,
 * deleted) (rvk_digest_version_hash), rvk_xor(a, b) and the aggregate
 * rvk_xor(x). The
 * triggers of schema 8 call them: every connection that writes
 * contributions needs them (store/db.c adds them to its own).
 * Returns: an SQLite result code.
 */
int rvk_digest_add_functions(sqlite3 *db);

#endif
