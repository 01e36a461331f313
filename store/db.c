/*
 * Opening, migrating and loading the database file.
 *
 * Corruption at open: "not a database" shows at the first statement (the
 * journal_mode pragma); a damaged page of the revocations table shows
 * during the load, which reads every page of that table anyway. PRAGMA
 * quick_check additionally walks every index, the other tables and the
 * free list: it reads the whole file (24-47 s at 10M revocations,
 * docs/BENCHMARKS.md "Scale"), so by default it runs only when the file
 * does not say that the last revokd stopped cleanly (the clean-stop marker,
 * db.h), or its WAL is not empty (DECISIONS D26).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/sha256.h"
#include "store/db.h"
#include "store/digest.h"
#include "store/outbox.h"
#include "store/vfs.h"

static const char *const schema_v1 =
	"CREATE TABLE revocations ("
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL,"
	" expires_at INTEGER NULL," /* NULL = never */
	" reason TEXT NULL,"
	" source TEXT NOT NULL,"
	" PRIMARY KEY (type, iss, id)) WITHOUT ROWID;"
	"CREATE INDEX revocations_expires ON revocations(expires_at);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

/* v2: the replication outbox (store/outbox.h). seq only grows (AUTOINCREMENT
 * never reuses a number) and rows leave only as a prefix, so the rows are
 * always contiguous and the depth is max - min + 1. */
static const char *const schema_v2 =
	"CREATE TABLE outbox ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" op TEXT NOT NULL,"                 /* "revoke" or "delete" */
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" revoked_at INTEGER NULL,"
	" expires_at INTEGER NULL,"          /* NULL = never */
	" reason TEXT NULL,"
	" source TEXT NULL);"                /* NULL for a delete */
	"PRAGMA user_version = 2;";

/* v3: per-source revocations (store/store.h). A row is one source's
 * contribution, keyed (type, iss, id, source); origin is the replica ID that
 * took it first (NULL: taken here). SQLite cannot change a primary key in
 * place, so the table is copied: every v2 row becomes the contribution of
 * its source (a v2 "replica" row keeps that name; its origin is unknown). */
static const char *const schema_v3 =
	"CREATE TABLE revocations_v3 ("
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL,"
	" expires_at INTEGER NULL,"          /* NULL = never */
	" reason TEXT NULL,"
	" source TEXT NOT NULL,"
	" origin TEXT NULL,"                 /* NULL = taken here */
	" PRIMARY KEY (type, iss, id, source)) WITHOUT ROWID;"
	"INSERT INTO revocations_v3 (type, iss, id, revoked_at, expires_at,"
	" reason, source, origin) SELECT type, iss, id, revoked_at, expires_at,"
	" reason, source, NULL FROM revocations;"
	"DROP TABLE revocations;"            /* and its index */
	"ALTER TABLE revocations_v3 RENAME TO revocations;"
	"CREATE INDEX revocations_expires ON revocations(expires_at);"
	"PRAGMA user_version = 3;";

/* v4: versioned changes (docs/ARCHITECTURE.md, "Versioned changes"). A
 * versions row is the last change applied to one source's contribution
 * (source '*': the last delete of every source) - its hybrid logical
 * clock version, the replica that made it, whether it was a delete - kept
 * after the contribution itself is gone, so a change that arrives late
 * loses to a later one. An outbox row carries its change's version (NULL:
 * a row written by version 3, published without one) and, for a change
 * republished by reconciliation, the replica that made it (NULL: us). Nothing to copy: a
 * v3 database has no versions yet. */
static const char *const schema_v4 =
	"CREATE TABLE versions ("
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" source TEXT NOT NULL,"             /* '*': every source */
	" version INTEGER NOT NULL,"
	" node TEXT NOT NULL,"
	" deleted INTEGER NOT NULL,"
	" PRIMARY KEY (type, iss, id, source)) WITHOUT ROWID;"
	"ALTER TABLE outbox ADD COLUMN version INTEGER NULL;"
	"ALTER TABLE outbox ADD COLUMN origin TEXT NULL;"   /* NULL: us */
	"PRAGMA user_version = 4;";

/* The write connection's page cache (PRAGMA cache_size, negative: KiB):
 * see rvk_db_open_write. */
#define CACHE_KIB "-65536"
/* The load's: a scan reads each page once. With the writer's 64 MiB, the
 * pages it cached were malloc'ed between the revocation table's new nodes
 * and, handed back after the load, left ~50 MB of RSS at 1M rows that
 * malloc_trim could not return (docs/BENCHMARKS.md, "Stop during a sweep,
 * and start without reading the whole file"); a quick_check before the
 * load used to fill the cache first, out of the nodes' way. */
#define LOAD_CACHE_KIB "-2048"

/* Rows loaded between two checks of the revocation table's size at
 * start-up (rvk_revtable_maintain: cheap when nothing is due). */
#define LOAD_MAINTAIN_EVERY 65536

/* v5: the contributions in a rowid table, their key in a unique index
 * (docs/ARCHITECTURE.md, DECISIONS D25). Keyed by (type, iss, id, source)
 * WITHOUT ROWID, a new revocation with a random ID (a UUID, as identity
 * providers send them) dirtied a random page of the table and, since the
 * expires_at index of such a table carries the whole key, another random
 * page of that index; in a rowid table the row and its expires_at entry
 * are appended (rowids and, mostly, expiry times grow with intake), and
 * only the key index takes a random page, of small entries. Same columns,
 * same rows: copied, as for v3. */
static const char *const schema_v5 =
	"CREATE TABLE revocations_v5 ("
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL,"
	" expires_at INTEGER NULL,"          /* NULL = never */
	" reason TEXT NULL,"
	" source TEXT NOT NULL,"
	" origin TEXT NULL);"                /* NULL = taken here */
	"INSERT INTO revocations_v5 (type, iss, id, revoked_at, expires_at,"
	" reason, source, origin) SELECT type, iss, id, revoked_at, expires_at,"
	" reason, source, origin FROM revocations;"
	"DROP TABLE revocations;"            /* and its index */
	"ALTER TABLE revocations_v5 RENAME TO revocations;"
	"CREATE UNIQUE INDEX revocations_key ON revocations"
	" (type, iss, id, source);"
	"CREATE INDEX revocations_expires ON revocations(expires_at);"
	/* The cluster's version purge (version < ?) and the start's
	 * max(version) walked the whole versions table (3.9 s at 10M rows,
	 * docs/BENCHMARKS.md "Scale"); versions grow, so the index is
	 * appended to, not written at random. */
	"CREATE INDEX versions_version ON versions(version);"
	"PRAGMA user_version = 5;";

/* v6: the key index holds the key's hash (rvk_db_key_hash), not the key
 * (DECISIONS D31). The (type, iss, id, source) entries of v5's unique index
 * took ~78 bytes each: 234 MB at 3M random IDs, far beyond the writer's
 * cache, so each new row read a random page of it from the file and
 * dirtied it. Hash entries take ~18 bytes, so the index stays in the cache
 * to several million rows: webhook batches at 64 clients into a 3M-row
 * file went from 26,600 to 46,300 events/s (docs/BENCHMARKS.md, "A key
 * index of hashes"). The hash is not unique: every statement that looks a
 * key up also compares the columns, and the single writer inserts a
 * contribution only where none is (store.c, sql_insert_new). Same rows,
 * copied with their hash. */
static const char *const schema_v6 =
	"CREATE TABLE revocations_v6 ("
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL,"
	" expires_at INTEGER NULL,"          /* NULL = never */
	" reason TEXT NULL,"
	" source TEXT NOT NULL,"
	" origin TEXT NULL,"                 /* NULL = taken here */
	" kh INTEGER NOT NULL);"             /* rvk_kh(type, iss, id) */
	"INSERT INTO revocations_v6 (type, iss, id, revoked_at, expires_at,"
	" reason, source, origin, kh) SELECT type, iss, id, revoked_at,"
	" expires_at, reason, source, origin, rvk_kh(type, iss, id)"
	" FROM revocations ORDER BY rowid;"
	"DROP TABLE revocations;"            /* and its indexes */
	"ALTER TABLE revocations_v6 RENAME TO revocations;"
	"CREATE INDEX revocations_kh ON revocations(kh);"
	"CREATE INDEX revocations_expires ON revocations(expires_at);"
	"PRAGMA user_version = 6;";

/* v7: the versions rows in a rowid table, found by the key's hash
 * (DECISIONS D32), as v5 and v6 did for the contributions. Keyed by
 * (type, iss, id, source) WITHOUT ROWID, each new revocation of a replica
 * in cluster mode wrote its versions row (~100 bytes) at a random page of
 * a table that outgrows the writer's cache at a few hundred thousand rows;
 * now the row and its versions_version entry are appended and only the
 * ~18-byte kh entry lands at random. The single writer keeps (type, iss,
 * id, source) unique (store.c, ver_put). Same rows, copied with their
 * hash. */
static const char *const schema_v7 =
	"CREATE TABLE versions_v7 ("
	" type INTEGER NOT NULL,"
	" iss TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" source TEXT NOT NULL,"             /* '*': every source */
	" version INTEGER NOT NULL,"
	" node TEXT NOT NULL,"
	" deleted INTEGER NOT NULL,"
	" kh INTEGER NOT NULL);"             /* rvk_kh(type, iss, id) */
	"INSERT INTO versions_v7 (type, iss, id, source, version, node,"
	" deleted, kh) SELECT type, iss, id, source, version, node, deleted,"
	" rvk_kh(type, iss, id) FROM versions"
	" ORDER BY type, iss, id, source;"    /* the key's order: a scan */
	"DROP TABLE versions;"               /* and its index */
	"ALTER TABLE versions_v7 RENAME TO versions;"
	"CREATE INDEX versions_kh ON versions(kh);"
	"CREATE INDEX versions_version ON versions(version);"
	"PRAGMA user_version = 7;";

/* v8: the reconciliation digest kept in the file (store/digest.h,
 * DECISIONS D33). It was computed by a scan of both tables each round:
 * 54 s of CPU at 3M rows, longer than the round, on the publisher's
 * thread. Now one row per type (8, for the 3 bits kh leaves them) and
 * bucket holds the XOR of rvk_ch over its contributions and of rvk_vh
 * over its versions rows, set here by one scan and kept by triggers from
 * then on: every insert, delete and key change of a contribution, and
 * every change of a versions row, by any statement, updates its bucket in
 * the same transaction (a rollback undoes both). A connection that writes
 * either table needs the functions (rvk_db_add_functions). */
#define DIGEST_CH(r) \
	"rvk_ch(" r ".type, " r ".iss, " r ".id, " r ".source)"
#define DIGEST_VH(r) \
	"rvk_vh(" r ".type, " r ".iss, " r ".id, " r ".source, " r ".version," \
	" " r ".node, " r ".deleted)"
/* XORs hash h of row r (new or old) into its bucket. */
#define DIGEST_XOR(h, r) \
	" UPDATE digest SET x = rvk_xor(x, " h ") WHERE type = " r ".type" \
	" AND bucket = rvk_bucket(" r ".iss, " r ".id);"
static const char *const schema_v8 =
	"CREATE TABLE digest ("
	" type INTEGER NOT NULL,"
	" bucket INTEGER NOT NULL,"
	" x INTEGER NOT NULL,"
	" PRIMARY KEY (type, bucket)) WITHOUT ROWID;"
	"INSERT INTO digest (type, bucket, x) SELECT type, b, rvk_xor(h) FROM"
	" (SELECT type, rvk_bucket(iss, id) AS b, " DIGEST_CH("r") " AS h"
	"  FROM revocations r"
	"  UNION ALL SELECT type, rvk_bucket(iss, id), " DIGEST_VH("v")
	"  FROM versions v)"
	" GROUP BY 1, 2;"
	"WITH RECURSIVE t(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM t"
	"  WHERE v < 7),"
	" b(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM b WHERE v < 63)"
	" INSERT OR IGNORE INTO digest (type, bucket, x)"
	" SELECT t.v, b.v, 0 FROM t, b;"
	"CREATE TRIGGER revocations_digest_insert AFTER INSERT ON revocations"
	" BEGIN" DIGEST_XOR(DIGEST_CH("new"), "new") " END;"
	"CREATE TRIGGER revocations_digest_delete AFTER DELETE ON revocations"
	" BEGIN" DIGEST_XOR(DIGEST_CH("old"), "old") " END;"
	/* revokd never changes a contribution's key in place; a hand might.
	 * Its times are left out (a merge keeps the later ones): a change of
	 * them comes with a new version. */
	"CREATE TRIGGER revocations_digest_update AFTER UPDATE OF type, iss,"
	" id, source ON revocations"
	" BEGIN" DIGEST_XOR(DIGEST_CH("old"), "old")
	DIGEST_XOR(DIGEST_CH("new"), "new") " END;"
	"CREATE TRIGGER versions_digest_insert AFTER INSERT ON versions"
	" BEGIN" DIGEST_XOR(DIGEST_VH("new"), "new") " END;"
	"CREATE TRIGGER versions_digest_delete AFTER DELETE ON versions"
	" BEGIN" DIGEST_XOR(DIGEST_VH("old"), "old") " END;"
	"CREATE TRIGGER versions_digest_update AFTER UPDATE ON versions"
	" BEGIN" DIGEST_XOR(DIGEST_VH("old"), "old")
	DIGEST_XOR(DIGEST_VH("new"), "new") " END;"
	"PRAGMA user_version = 8;";
/* The digest rows schema 8 makes: */
_Static_assert(RVK_REV_TYPE_COUNT <= 8 && RVK_DIGEST_BUCKETS == 64,
               "schema_v8 makes 8 x 64 digest rows");

/* Migrations: migrations[v] takes a database from version v to v + 1. */
static const char *const migrations[RVK_DB_VERSION] = {
	schema_v1, schema_v2, schema_v3, schema_v4, schema_v5, schema_v6,
	schema_v7, schema_v8
};

/* The first bytes of SHA-256(data), big-endian. */
static uint64_t
sha256_prefix(const unsigned char *data, size_t len)
{
	unsigned char d[RVK_SHA256_LEN];
	rvk_sha256(data, len, d);
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | d[i];
	return h;
}

/* The bits of kh above the key's own (db.h): the type, then 16 bits of
 * SHA-256(iss). */
static uint64_t
issuer_prefix(int type, const char *iss, size_t iss_len)
{
	uint64_t issh = sha256_prefix((const unsigned char *)iss, iss_len) >> 48;
	return (uint64_t)type << RVK_DB_KH_TYPE_SHIFT |
	       issh << RVK_DB_KH_ISS_SHIFT;
}

/* The key hash (db.h): the type in the top 4 bits, so each type is one
 * range of the index (a listing by type reads that range); 16 bits of the
 * issuer's SHA-256 next, so each issuer's keys of a type are one range too
 * (a listing by issuer reads one range a type); 44 bits of SHA-256 over
 * the type byte, the issuer's length (4 bytes, big-endian), the issuer
 * and the ID last. Never negative. Persisted: it must never change (a
 * test pins it). SHA-256 rather than a fast hash because senders choose
 * IDs: a collision only costs a longer run of rows under one hash, but
 * one made on purpose takes ~2^22 digests, and a run of k of them about
 * 2^(44(k-1)/k). */
/* The type in kh's top 4 bits leaves the sign bit clear, and the range
 * of the last type ends below 2^63. */
_Static_assert(RVK_REV_TYPE_COUNT <= 7, "revocation types must fit kh");

int64_t
rvk_db_key_hash(int type, const char *iss, size_t iss_len, const char *id,
                size_t id_len)
{
	RVK_REQUIRE(type >= 0 && type < RVK_REV_TYPE_COUNT);
	RVK_REQUIRE(iss_len <= UINT32_MAX);
	unsigned char stack[512];
	size_t len = 5 + iss_len + id_len;
	unsigned char *buf = len <= sizeof(stack) ? stack : rvk_malloc(len);
	buf[0] = (unsigned char)type;
	buf[1] = (unsigned char)(iss_len >> 24);
	buf[2] = (unsigned char)(iss_len >> 16);
	buf[3] = (unsigned char)(iss_len >> 8);
	buf[4] = (unsigned char)iss_len;
	memcpy(buf + 5, iss, iss_len);
	memcpy(buf + 5 + iss_len, id, id_len);
	uint64_t keyh = sha256_prefix(buf, len);
	if (buf != stack)
		free(buf);
	return (int64_t)(issuer_prefix(type, iss, iss_len) |
	                 keyh >> (64 - RVK_DB_KH_ISS_SHIFT));
}

void
rvk_db_key_range(int type, const char *iss, size_t iss_len, int64_t *lo,
                 int64_t *hi)
{
	RVK_REQUIRE(type >= 0 && type < RVK_REV_TYPE_COUNT && lo && hi);
	if (!iss) {
		*lo = (int64_t)((uint64_t)type << RVK_DB_KH_TYPE_SHIFT);
		*hi = (int64_t)((uint64_t)(type + 1) << RVK_DB_KH_TYPE_SHIFT);
		return;
	}
	uint64_t p = issuer_prefix(type, iss, iss_len);
	*lo = (int64_t)p;
	*hi = (int64_t)(p + ((uint64_t)1 << RVK_DB_KH_ISS_SHIFT));
}

/* rvk_kh(type, iss, id) in SQL: NULL when an argument is NULL or the type
 * is unknown, so such a row matches no key and cannot be inserted. */
static void
sql_key_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[2]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_int64 type = sqlite3_value_int64(argv[0]);
	if (type < 0 || type >= RVK_REV_TYPE_COUNT) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *iss = (const char *)sqlite3_value_text(argv[1]);
	size_t iss_len = (size_t)sqlite3_value_bytes(argv[1]);
	const char *id = (const char *)sqlite3_value_text(argv[2]);
	size_t id_len = (size_t)sqlite3_value_bytes(argv[2]);
	if (!iss || !id) {                   /* out of memory */
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_int64(ctx, rvk_db_key_hash((int)type, iss, iss_len, id,
	                                          id_len));
}

int
rvk_db_add_functions(sqlite3 *db)
{
	int rc = sqlite3_create_function(db, "rvk_kh", 3,
	                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC |
	                                 SQLITE_INNOCUOUS, NULL, sql_key_hash,
	                                 NULL, NULL);
	return rc == SQLITE_OK ? rvk_digest_add_functions(db) : rc;
}

static rvk_result_t
classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return RVK_EPERM;
	default:
		return RVK_EIO;
	}
}

static rvk_result_t
fail(sqlite3 *db, int rc, const char *path, const char *what, char *err,
     size_t errlen)
{
	snprintf(err, errlen, "database %s: %s: %s", path, what,
	         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return classify(rc);
}

/* Runs a pragma that answers one text row; copies it into out. */
static int
pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		out[0] = '\0';
		rc = SQLITE_OK;
	}
	/* The statement's commit (journal_mode = WAL syncs the new header)
	 * reports its I/O errors only here: a failed fsync must not pass. */
	int frc = sqlite3_finalize(st);
	return rc == SQLITE_OK ? frc : rc;
}

/* Before v6 and v7, which hash each row's key of table: a row of a type
 * this revokd does not know (written by hand: the loader refuses it too)
 * has no hash, and the copy would fail on SQLite's words alone. Returns:
 * false with err when there is one. */
static bool
types_known(sqlite3 *db, const char *table, int to, const char *path,
            char *err, size_t errlen)
{
	char q[160], n[32];
	snprintf(q, sizeof(q), "SELECT count(*) FROM %s WHERE"
	         " typeof(type) <> 'integer' OR type < 0 OR type >= %d",
	         table, RVK_REV_TYPE_COUNT);
	if (pragma_text(db, q, n, sizeof(n)) != SQLITE_OK || strcmp(n, "0") == 0)
		return true;            /* a failed count: the copy says why */
	snprintf(err, errlen, "database %s: cannot migrate the schema to "
	         "version %d: %s rows in %s with an unknown revocation type "
	         "(types are 0 to %d)", path, to, n, table,
	         RVK_REV_TYPE_COUNT - 1);
	return false;
}

static rvk_result_t
migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	char buf[32];
	int rc = pragma_text(db, "PRAGMA user_version", buf, sizeof(buf));
	if (rc != SQLITE_OK)
		return fail(db, rc, path, "reading the schema version", err, errlen);
	long version = strtol(buf, NULL, 10);
	if (version > RVK_DB_VERSION) {
		snprintf(err, errlen,
		         "database %s: schema version %ld is newer than this "
		         "revokd knows (%d); upgrade revokd", path, version,
		         RVK_DB_VERSION);
		return RVK_EIO;
	}
	if (version < 0) {
		snprintf(err, errlen, "database %s: bad schema version %ld",
		         path, version);
		return RVK_EIO;
	}
	uint64_t t0 = rvk_clock_mono_ns();
	for (long v = version; v < RVK_DB_VERSION; v++) {
		if ((v == 5 && !types_known(db, "revocations", 6, path, err,
		                            errlen)) ||
		    (v == 6 && !types_known(db, "versions", 7, path, err,
		                            errlen)))
			return RVK_EIO;
		/* Each step in its own transaction, the version bump included,
		 * so a crash mid-migration leaves the previous version. */
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			rvk_result_t r = fail(db, rc, path, "migrating the schema",
			                      err, errlen);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	/* Said, because a migration that copies the rows (v5, v6, v7)
	 * or scans them (v8)
	 * takes seconds per million rows at the start it happens in. A new
	 * file (version 0) is created, not migrated. */
	if (version > 0 && version < RVK_DB_VERSION) {
		char from[24], to[24], ms[32];
		snprintf(from, sizeof(from), "%ld", version);
		snprintf(to, sizeof(to), "%d", RVK_DB_VERSION);
		snprintf(ms, sizeof(ms), "%.1f",
		         (double)(rvk_clock_mono_ns() - t0) / 1e6);
		rvk_log(RVK_LOG_INFO, "database schema migrated", "path", path,
		        "from", from, "to", to, "ms", ms, NULL);
	}
	return RVK_OK;
}

/* quick_check answers "ok" or up to 100 lines of damage. */
static rvk_result_t
quick_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	char buf[256];
	int rc = pragma_text(db, "PRAGMA quick_check", buf, sizeof(buf));
	if (rc != SQLITE_OK)
		return fail(db, rc, path, "integrity check", err, errlen);
	if (strcmp(buf, "ok") != 0) {
		/* quick_check answers several lines: keep one line. */
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ' ';
		snprintf(err, errlen, "database %s: integrity check failed: %s",
		         path, buf);
		return RVK_EIO;
	}
	return RVK_OK;
}

/* *marked: whether meta holds the clean-stop marker; *fresh: no meta table
 * (a new file, or one no revokd migrated). */
static int
read_marker(sqlite3 *db, bool *marked, bool *fresh)
{
	char buf[32];
	*marked = false;
	int rc = pragma_text(db, "SELECT count(*) FROM sqlite_schema"
	                     " WHERE type = 'table' AND name = 'meta'", buf,
	                     sizeof(buf));
	*fresh = rc == SQLITE_OK && strcmp(buf, "1") != 0;
	if (rc != SQLITE_OK || *fresh)
		return rc;
	rc = pragma_text(db, "SELECT count(*) FROM meta WHERE key = '"
	                 RVK_DB_META_CLEAN_STOP "'", buf, sizeof(buf));
	if (rc == SQLITE_OK)
		*marked = strcmp(buf, "1") == 0;
	return rc;
}

/* Whether path's WAL exists and is not empty before we open it: the last
 * connection to close checkpoints and deletes it, so a WAL with frames
 * means one did not close (or one has it open now). */
static bool
wal_has_frames(const char *path)
{
	size_t len = strlen(path) + sizeof("-wal");
	char *wal = rvk_malloc(len);
	snprintf(wal, len, "%s-wal", path);
	struct stat sb;
	bool frames = stat(wal, &sb) == 0 && sb.st_size > 0;
	free(wal);
	return frames;
}

rvk_result_t
rvk_db_mark_clean_stop(sqlite3 *db, int64_t now)
{
	/* NORMAL: the close's checkpoint syncs the marker with the WAL
	 * anyway; should power fail before it, the marker is lost and the
	 * next start checks the file, the safe side. One fsync less on every
	 * stop. */
	sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value)"
	                            " VALUES ('" RVK_DB_META_CLEAN_STOP "', ?1)",
	                            -1, &st, NULL);
	if (rc == SQLITE_OK) {
		char when[24];
		snprintf(when, sizeof(when), "%lld", (long long)now);
		sqlite3_bind_text(st, 1, when, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	int frc = sqlite3_finalize(st);
	return rc == SQLITE_OK && frc == SQLITE_OK ? RVK_OK : RVK_EIO;
}

rvk_result_t
rvk_db_open_write(const char *path, const rvk_db_open_opts_t *opts,
                  rvk_db_opened_t *info, sqlite3 **out, char *err,
                  size_t errlen)
{
	static const rvk_db_open_opts_t every_open = { .check_every_open = true };
	rvk_db_opened_t unused;
	if (!opts)
		opts = &every_open;
	if (!info)
		info = &unused;
	*info = (rvk_db_opened_t){ .why = "" };
	sqlite3 *db = NULL;
	char buf[256];
	rvk_result_t r;
	/* Before the open: the open itself may recover the WAL. */
	bool wal_in_use = wal_has_frames(path);
	int rc = sqlite3_open_v2(path, &db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                         SQLITE_OPEN_NOMUTEX, rvk_store_vfs_name());
	if (rc != SQLITE_OK) {
		r = fail(db, rc, path, "cannot open", err, errlen);
		goto cleanup;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	rc = rvk_db_add_functions(db);
	if (rc != SQLITE_OK) {
		r = fail(db, rc, path, "cannot open", err, errlen);
		goto cleanup;
	}
	/* The first statement reads the header: "not a database" shows here. */
	rc = pragma_text(db, "PRAGMA journal_mode = WAL", buf, sizeof(buf));
	if (rc != SQLITE_OK) {
		r = fail(db, rc, path, "cannot use", err, errlen);
		goto cleanup;
	}
	if (strcmp(buf, "wal") != 0) {
		snprintf(err, errlen, "database %s: cannot switch to WAL "
		         "(journal mode is %s)", path, buf);
		r = RVK_EPERM;
		goto cleanup;
	}
	/* FULL: a commit survives power loss, not only a crash (REFERENCE §4).
	 * journal_size_limit: a big group commit grows the WAL; give the
	 * space back after the next checkpoint. cache_size 64 MiB (default
	 * 2 MiB): a group commit of thousands of new rows dirties about one
	 * page each; a cache smaller than that spilled dirty pages into the
	 * WAL in mid-transaction and wrote them again later, 20x the CPU and
	 * bytes per row (docs/BENCHMARKS.md, "Durable intake at 64
	 * clients"). wal_autocheckpoint 65536 pages (256 MiB, default 1000):
	 * a checkpoint writes each page once however many frames it has, and
	 * with random IDs a group dirties about one key-index page per row,
	 * so the longer the WAL, the more of its frames are the same pages
	 * again: at 1-2M rows in the file, 8192 pages wrote 9.5 KB per row
	 * and took 22,800 events/s; 65536 pages 7.1 KB and 31,900/s
	 * (docs/BENCHMARKS.md, "Intake into a growing file"). The checkpoint
	 * runs in the writer after a commit, never inside one, and after a
	 * second without work (store.c), so a burst shorter than the WAL
	 * pays none. journal_size_limit: the WAL file is cut back to this
	 * after a checkpoint. */
	rc = sqlite3_exec(db, "PRAGMA synchronous = FULL;"
	                  "PRAGMA journal_size_limit = 268435456;"
	                  "PRAGMA cache_size = " CACHE_KIB ";"
	                  "PRAGMA wal_autocheckpoint = 65536", NULL, NULL,
	                  NULL);
	if (rc != SQLITE_OK) {
		r = fail(db, rc, path, "setting synchronous=FULL", err, errlen);
		goto cleanup;
	}
	bool marked = false, fresh = false;
	rc = read_marker(db, &marked, &fresh);
	if (rc != SQLITE_OK) {
		r = fail(db, rc, path, "reading the clean-stop marker", err, errlen);
		goto cleanup;
	}
	if (opts->check_every_open)
		info->why = "integrity_check is every_start";
	else if (fresh)
		info->why = "a new database";
	else if (!marked)
		info->why = "the last stop was not clean";
	else if (wal_in_use)
		info->why = "the write-ahead log was not empty";
	else
		info->why = "the last stop was clean";
	if (opts->check_every_open || !marked || wal_in_use) {
		rvk_log(RVK_LOG_INFO, "database integrity check", "path", path,
		        "why", info->why, NULL);
		uint64_t t0 = rvk_clock_mono_ns();
		r = quick_check(db, path, err, errlen);
		if (r != RVK_OK)
			goto cleanup;
		info->checked = true;
		info->check_ms = (double)(rvk_clock_mono_ns() - t0) / 1e6;
	}
	r = migrate(db, path, err, errlen);
	if (r != RVK_OK)
		goto cleanup;
	if (opts->clear_clean_stop && marked) {
		/* Into the main file at once: a copy of that file alone taken
		 * while this process runs must not look cleanly stopped. */
		rc = sqlite3_exec(db, "DELETE FROM meta WHERE key = '"
		                  RVK_DB_META_CLEAN_STOP "'", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_wal_checkpoint_v2(db, NULL,
			                               SQLITE_CHECKPOINT_TRUNCATE,
			                               NULL, NULL);
		/* BUSY: another connection reads; the marker is gone from the
		 * database all the same (its WAL frame is committed), but not
		 * yet from the main file: said, because a copy of that file
		 * alone would look cleanly stopped (OPERATIONS §6: back up with
		 * SQLite's online backup, never cp). */
		if ((rc & 0xff) == SQLITE_BUSY)
			rvk_log(RVK_LOG_WARN, "clean-stop marker cleared in the WAL only "
			        "(checkpoint busy); the main file alone still carries it",
			        "path", path, NULL);
		else if (rc != SQLITE_OK) {
			r = fail(db, rc, path, "clearing the clean-stop marker",
			         err, errlen);
			goto cleanup;
		}
	}
	*out = db;
	return RVK_OK;
cleanup:
	sqlite3_close(db);
	return r;
}

rvk_result_t
rvk_db_open_read(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
	                         SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = rvk_db_add_functions(db);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return RVK_EIO;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	*out = db;
	return RVK_OK;
}

int64_t
rvk_db_column_expires(sqlite3_stmt *stmt, int col)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return RVK_NEVER;
	return sqlite3_column_int64(stmt, col);
}

rvk_result_t
rvk_db_load(sqlite3 *db, const char *path, rvk_revtable_t *table, int64_t now,
            int64_t leeway, size_t *loaded, size_t *total, char *err,
            size_t errlen)
{
	/* A full scan in rowid order, filtered in C: reads each page of
	 * the table once and gives the row count for free. Each row is one
	 * source's contribution; the table's put keeps the latest times, so
	 * the entry ends as the in-force times over the live contributions. */
	static const char *const sql =
		"SELECT type, iss, id, revoked_at, expires_at FROM revocations";
	sqlite3_stmt *st = NULL;
	size_t n = 0, all = 0, skipped = 0;
	rvk_result_t r = RVK_OK;
	int rc = sqlite3_exec(db, "PRAGMA cache_size = " LOAD_CACHE_KIB, NULL,
	                      NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(db, rc, path, "loading revocations", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		all++;
		int64_t type = sqlite3_column_int64(st, 0);
		int64_t expires = rvk_db_column_expires(st, 4);
		if (type < 0 || type >= RVK_REV_TYPE_COUNT) {
			snprintf(err, errlen, "database %s: row with unknown "
			         "revocation type %lld", path, (long long)type);
			r = RVK_EIO;
			goto cleanup;
		}
		/* expires + leeway >= now, written so it cannot overflow. */
		if (expires != RVK_NEVER && expires < now - leeway)
			continue;
		const char *iss = (const char *)sqlite3_column_text(st, 1);
		int iss_len = sqlite3_column_bytes(st, 1);
		const char *id = (const char *)sqlite3_column_text(st, 2);
		int id_len = sqlite3_column_bytes(st, 2);
		if (!iss || !id) {
			snprintf(err, errlen, "database %s: row without issuer "
			         "or id", path);
			r = RVK_EIO;
			goto cleanup;
		}
		/* A row an older version let in (an ID over 255 bytes, an
		 * empty one) is left on disk, not loaded: it stopped every
		 * restart before (docs/SECURITY.md, "Security round 2"). */
		if (!rvk_rev_key_valid((rvk_rev_type_t)type, iss,
		                       (size_t)iss_len, id, (size_t)id_len)) {
			skipped++;
			continue;
		}
		rvk_revtable_put(table, (rvk_rev_type_t)type, iss,
		                 (size_t)iss_len, id, (size_t)id_len,
		                 sqlite3_column_int64(st, 3), expires);
		/* The sweeper, which keeps the table sized, is not running
		 * yet: grow it here as it fills, or 10M rows go into the
		 * presize's 65,536 buckets (docs/BENCHMARKS.md, "Scale"). */
		if (++n % LOAD_MAINTAIN_EVERY == 0)
			rvk_revtable_maintain(table);
	}
	if (skipped) {
		char sbuf[24];
		snprintf(sbuf, sizeof(sbuf), "%zu", skipped);
		rvk_log(RVK_LOG_WARN, "revocations with an invalid issuer or ID "
		        "not loaded (IDs are 1 to 255 bytes)", "path", path,
		        "rows", sbuf, NULL);
	}
	if (rc != SQLITE_DONE) {
		r = fail(db, rc, path, "loading revocations", err, errlen);
		goto cleanup;
	}
	rvk_revtable_maintain(table);
	*loaded = n;
	*total = all;
cleanup:
	sqlite3_finalize(st);
	/* The writer's cache again (a failure here only costs speed). */
	sqlite3_exec(db, "PRAGMA cache_size = " CACHE_KIB, NULL, NULL, NULL);
	return r;
}
