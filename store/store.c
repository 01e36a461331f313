/*
 * The store's lifecycle and its writer thread (group commit).
 *
 * DESIGN: callers build a job on their own stack, append it to the queue
 * and sleep on the job's own semaphore (an asynchronous caller's job is on
 * the heap and its callback runs instead). The writer takes the queue at
 * once (a "group": every queued job, up to GROUP_ROWS rows), runs it as one
 * transaction - BEGIN IMMEDIATE, one prepared statement step per row,
 * COMMIT - and only after the commit applies the
 * group to the revocation table, in queue order, which is the order of the
 * statements in the transaction. So what the table shows is always a prefix
 * of what is durable, and a delete and a re-revoke never swap. Any failure
 * inside the transaction rolls all of it back: nothing of the group reaches
 * the table, and each of its callers gets RVK_EIO.
 *
 * Per-source revocations (store.h): a row is one source's contribution.
 * Recording first inserts the contribution if it is not there (one
 * statement: the common case of intake). One that is there is looked up:
 * one that would change nothing is skipped (no write, no outbox row,
 * nothing for the table). Otherwise the merge is one UPDATE whose
 * RETURNING clause hands back the contribution's merged times, which the
 * table gets (the table keeps the latest times over every source, so its
 * entry stays the in-force one). Removing one source's
 * contribution reads what the others still hold in the same transaction,
 * and the table is set to exactly that (or loses the entry).
 *
 * Versioned changes (cluster mode; docs/ARCHITECTURE.md): every local
 * change that writes gets a version from the hybrid logical clock s->hlc
 * (wall milliseconds << 16, and always above every version made or seen),
 * stored in the versions table beside the contribution and carried by its
 * outbox row. A change from the stream applies only when its (version,
 * node) is above what versions holds for its contribution and above the
 * last delete of every source: the later version wins on every replica,
 * whatever order the stream delivered them in. A revocation that wins
 * still merges (later revoked_at, later expires_at), so a revocation is
 * never shortened by the order of arrival. An entry without a version (an
 * older revokd) applies only to a revocation no versioned change has
 * touched, by the rules of before.
 *
 * Fault points: "store.step" before each step of a write statement (BEGIN
 * included, and the look-ups inside the write transaction), "store.commit"
 * before COMMIT; a fired point behaves as if SQLite had returned
 * SQLITE_IOERR.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/db.h"
#include "store/digest.h"
#include "store/internal.h"
#include "store/outbox.h"

enum job_kind { JOB_RECORD, JOB_DELETE, JOB_PURGE, JOB_ACK, JOB_REPUBLISH };

struct merged {
	int64_t revoked_at, expires_at;
	bool skip;              /* changed nothing: no write, no apply */
};

struct job {
	enum job_kind kind;
	/* JOB_RECORD */
	const rvk_revocation_t *revs;
	size_t n;
	struct merged *merged;          /* n entries, filled by the writer */
	rvk_revocation_t *shown;        /* NULL, or n entries to read back */
	/* JOB_DELETE */
	rvk_rev_type_t type;
	const char *iss, *id;
	const rvk_source_t *only_source;
	uint64_t version;               /* replica: the entry's (0: none) */
	const char *origin;             /* replica: the entry's origin */
	bool deleted;
	/* After a delete of one source: what the other sources still hold
	 * (remain: any), the table's entry from then on. */
	bool remain;
	int64_t remain_at, remain_exp;
	/* JOB_PURGE */
	int64_t before;                 /* delete expires_at < before */
	size_t purged;
	/* JOB_ACK */
	int64_t upto;
	/* JOB_REPUBLISH (type above) */
	unsigned bucket;
	uint64_t since;
	size_t republished;
	/* Any kind: from the replication stream (never enters the outbox),
	 * and a meta row to write in the same transaction (NULL: none). */
	bool replica;
	const char *meta_key, *meta_value;
	/* Contributions this job added (+) or removed (-), and wrote. */
	int64_t rows_delta;
	size_t written;

	rvk_result_t result;
	/* How the caller learns the result: a synchronous caller sleeps on
	 * its own semaphore (posted once, by the writer, for this job only);
	 * an asynchronous one gets cb on the writer thread, and the job and
	 * merged are the store's to free. */
	sem_t done;
	rvk_store_done_fn cb;
	void (*wake)(void *arg);        /* after every cb of the group */
	void *cb_arg;
	struct job *next;
};

/* The rows of the key (?1, ?2, ?3): its hash finds them in the index
 * (db.h, rvk_db_key_hash), the columns tell them from another key's with
 * the same hash. */
#define KEY_IS_123 \
	"kh = rvk_kh(?1, ?2, ?3) AND type = ?1 AND iss = ?2 AND id = ?3"

/* Merges into the contribution there (bound as sql_insert_new but for
 * origin, which is the first writer's and stays). Every SET expression
 * reads the row as it was before the update. */
static const char *const sql_merge =
	"UPDATE revocations SET"
	"  revoked_at = max(revoked_at, ?4),"
	"  expires_at = CASE WHEN expires_at IS NULL OR ?5 IS NULL THEN NULL"
	"                    ELSE max(expires_at, ?5) END,"
	"  reason = CASE WHEN ?4 >= revoked_at THEN ?6 ELSE reason END"
	" WHERE " KEY_IS_123 " AND source = ?7"
	" RETURNING revoked_at, expires_at";

/* A contribution that is not there yet: inserted as given (its merged
 * times are its own), or nothing at all when there is one (changes() = 0).
 * The key index is not unique (db.h): this, on the single writer, is what
 * keeps one row per key and source. The lookup and the insert descend to
 * the same index page, which the first brings into the cache. */
static const char *const sql_insert_new =
	"INSERT INTO revocations (type, iss, id, revoked_at, expires_at,"
	" reason, source, origin, kh)"
	" SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, rvk_kh(?1, ?2, ?3)"
	" WHERE NOT EXISTS (SELECT 1 FROM revocations WHERE " KEY_IS_123
	"  AND source = ?7)";

static const char *const sql_find =
	"SELECT revoked_at, expires_at FROM revocations"
	" WHERE " KEY_IS_123 " AND source = ?4";

/* What the contributions of (type, iss, id) still hold, as the table keeps
 * it: the latest revoked_at, the latest expires_at (NULL = never wins). */
static const char *const sql_remain =
	"SELECT count(*), max(revoked_at),"
	" max(coalesce(expires_at, 9223372036854775807)) FROM revocations"
	" WHERE " KEY_IS_123;

static int
step_write(sqlite3_stmt *st)
{
	if (RVK_FAULT("store.step"))
		return SQLITE_IOERR;
	return sqlite3_step(st);
}

static int
run_simple(sqlite3_stmt *st)
{
	int rc = step_write(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static const char *const sql_outbox_ins =
	"INSERT INTO outbox (op, type, iss, id, revoked_at, expires_at, reason,"
	" source, version, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	" ?10)";

/* What reconciliation republishes of a type (outbox.h,
 * rvk_store_republish): each versions row since ?2 or whose contribution
 * is still there, with that contribution's times; and each contribution
 * without a version. ?1: one type, or -1 for all. Columns: type, iss, id,
 * source, version, node, deleted, revoked_at (NULL: no contribution),
 * expires_at, reason. In version order (unversioned first): the keys hash,
 * unlike a replica, keeps whatever was written last, so a delete of every
 * source must not land after a later contribution
 * (store/stream_publisher.c). */
static const char *const sql_changes_by_version =
	"SELECT v.type, v.iss, v.id, v.source, v.version, v.node, v.deleted,"
	"  r.revoked_at, r.expires_at, r.reason"
	" FROM versions v LEFT JOIN revocations r"
	"  ON r.kh = v.kh AND r.type = v.type"
	"  AND r.iss = v.iss AND r.id = v.id AND r.source = v.source"
	" WHERE (?1 < 0 OR v.type = ?1)"
	"  AND (v.version >= ?2 OR (v.deleted = 0 AND r.type IS NOT NULL))"
	" UNION ALL"
	" SELECT r.type, r.iss, r.id, r.source, 0, coalesce(r.origin, ''), 0,"
	"  r.revoked_at, r.expires_at, r.reason FROM revocations r"
	" WHERE (?1 < 0 OR r.type = ?1) AND NOT EXISTS (SELECT 1 FROM versions v"
	"  WHERE v.kh = r.kh AND v.type = r.type AND v.iss = r.iss"
	"  AND v.id = r.id AND v.source = r.source)"
	" ORDER BY 5, 6";   /* version, then node: the order later() judges */

/* ---- versions ----------------------------------------------------------- */

/* The versions rows are found by the key's hash too (db.h, v7). */
static const char *const sql_ver_get =
	"SELECT version, node FROM versions"
	" WHERE " KEY_IS_123 " AND source = ?4";
/* The last change of a contribution replaces the one there; when none is
 * (changes() = 0), sql_ver_new adds it. The versions_kh index is not
 * unique: this pair, on the single writer, keeps one row per (type, iss,
 * id, source), as sql_merge and sql_insert_new do for the contributions.
 * The update descends to the index page the insert then writes. */
static const char *const sql_ver_set =
	"UPDATE versions SET version = ?5, node = ?6, deleted = ?7"
	" WHERE " KEY_IS_123 " AND source = ?4";
static const char *const sql_ver_new =
	"INSERT INTO versions (type, iss, id, source, version, node, deleted,"
	" kh) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, rvk_kh(?1, ?2, ?3))";
static const char *const sql_ver_any =
	"SELECT 1 FROM versions WHERE " KEY_IS_123 " LIMIT 1";
/* A delete of every source at (?4, ?5): removes each contribution whose
 * last change is not later. */
static const char *const sql_delete_older =
	"DELETE FROM revocations WHERE " KEY_IS_123
	" AND source NOT IN (SELECT source FROM versions WHERE " KEY_IS_123
	"  AND source <> '*' AND (version > ?4 OR (version = ?4 AND node > ?5)))";
/* Versions older than ?1 whose contribution is gone. */
static const char *const sql_ver_purge =
	"DELETE FROM versions WHERE version < ?1 AND NOT EXISTS"
	" (SELECT 1 FROM revocations r"
	"  WHERE r.kh = versions.kh AND r.type = versions.type"
	"  AND r.iss = versions.iss AND r.id = versions.id"
	"  AND r.source = versions.source)";

#define EVERY_SOURCE "*"
/* At most this many rows per group commit (take_group). */
#define GROUP_ROWS 8192
/* The writer releases the page cache after this long without work. */
#define IDLE_RELEASE_S 1
#define VERSION_KEEP_DEFAULT (7 * 86400)

/* (va, na) later than (vb, nb)? Ties go to the larger node ID. */
static bool
later(uint64_t va, const char *na, uint64_t vb, const char *nb)
{
	return va > vb || (va == vb && strcmp(na, nb) > 0);
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The next version of a local change: ahead of the wall clock's and of
 * everything made or seen. */
static uint64_t
hlc_next(rvk_store_t *s)
{
	uint64_t v = wall_ms() << 16;
	s->hlc = v > s->hlc ? v : s->hlc + 1;
	return s->hlc;
}

static void
hlc_observe(rvk_store_t *s, uint64_t v)
{
	if (v > s->hlc)
		s->hlc = v;
}

/* The last change of (type, iss, id, source). Returns: SQLITE_OK with
 * *found, *version and node (33 bytes) when found. */
static int
ver_get(rvk_store_t *s, rvk_rev_type_t type, const char *iss, const char *id,
        const char *source, bool *found, uint64_t *version, char *node)
{
	sqlite3_stmt *st = s->st_ver_get;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	int rc = step_write(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		*version = (uint64_t)sqlite3_column_int64(st, 0);
		const unsigned char *n = sqlite3_column_text(st, 1);
		snprintf(node, 33, "%s", n ? (const char *)n : "");
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
ver_put(rvk_store_t *s, rvk_rev_type_t type, const char *iss, const char *id,
        const char *source, uint64_t version, const char *node, bool deleted)
{
	int rc = SQLITE_DONE;
	sqlite3_stmt *sts[] = { s->st_ver_set, s->st_ver_new };
	for (size_t i = 0; i < 2 && rc == SQLITE_DONE; i++) {
		sqlite3_stmt *st = sts[i];
		sqlite3_bind_int(st, 1, (int)type);
		sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)version);
		sqlite3_bind_text(st, 6, node, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, deleted);
		rc = step_write(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_DONE && sqlite3_changes(s->wdb) > 0)
			break;          /* replaced the one there */
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Whether any versioned change touched (type, iss, id). */
static int
ver_any(rvk_store_t *s, rvk_rev_type_t type, const char *iss, const char *id,
        bool *any)
{
	sqlite3_stmt *st = s->st_ver_any;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	int rc = step_write(st);
	*any = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Whether a change from the stream at (version, node) to (type, iss, id)
 * of source (NULL: a delete of every source) wins: later than the
 * source's last change and than the last delete of every source. An
 * unversioned one wins only where no versioned change ever was.
 */
static int
replica_wins(rvk_store_t *s, rvk_rev_type_t type, const char *iss,
             const char *id, const char *source, uint64_t version,
             const char *node, bool *wins)
{
	bool found;
	uint64_t v = 0;
	char n[33];
	int rc;
	*wins = false;
	if (version == 0) {
		bool any;
		rc = ver_any(s, type, iss, id, &any);
		*wins = rc == SQLITE_OK && !any;
		return rc;
	}
	hlc_observe(s, version);
	rc = ver_get(s, type, iss, id, EVERY_SOURCE, &found, &v, n);
	if (rc != SQLITE_OK || (found && !later(version, node, v, n)))
		return rc;
	if (source) {
		rc = ver_get(s, type, iss, id, source, &found, &v, n);
		if (rc != SQLITE_OK || (found && !later(version, node, v, n)))
			return rc;
	}
	*wins = true;
	return SQLITE_OK;
}

/* One outbox row; r is NULL for a tombstone of (type, iss, id): of one
 * source's contribution when tomb_source is not NULL, else of them all. */
static int
outbox_add(rvk_store_t *s, rvk_rev_type_t type, const char *iss,
           const char *id, const rvk_revocation_t *r,
           const struct merged *m, const rvk_source_t *tomb_source,
           uint64_t version, const char *origin)
{
	sqlite3_stmt *st = s->st_outbox_ins;
	if (version)
		sqlite3_bind_int64(st, 9, (sqlite3_int64)version);
	if (origin && origin[0])
		sqlite3_bind_text(st, 10, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 1, r ? "revoke" : "delete", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)type);
	sqlite3_bind_text(st, 3, iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	if (r) {
		/* The merged times: what this replica now holds. */
		sqlite3_bind_int64(st, 5, m->revoked_at);
		if (m->expires_at == RVK_NEVER)
			sqlite3_bind_null(st, 6);
		else
			sqlite3_bind_int64(st, 6, m->expires_at);
		if (r->reason)
			sqlite3_bind_text(st, 7, r->reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, rvk_source_name(r->source), -1,
		                  SQLITE_STATIC);
	} else if (tomb_source) {
		sqlite3_bind_text(st, 8, rvk_source_name(*tomb_source), -1,
		                  SQLITE_STATIC);
	}
	int rc = step_write(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		s->outbox_added++;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
run_meta(rvk_store_t *s, const char *key, const char *value)
{
	sqlite3_stmt *st = s->st_meta_set;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = step_write(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
run_ack(rvk_store_t *s, struct job *j)
{
	sqlite3_stmt *st = s->st_outbox_ack;
	sqlite3_bind_int64(st, 1, j->upto);
	int rc = step_write(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Looks up r's contribution. Returns: SQLITE_OK with *skip set when
 * recording r would change nothing (revoked_at and expires_at no later);
 * *fresh when there is no such contribution yet. */
static int
find_contribution(rvk_store_t *s, const rvk_revocation_t *r, bool *skip,
                  bool *fresh)
{
	sqlite3_stmt *st = s->st_find;
	sqlite3_bind_int(st, 1, (int)r->type);
	sqlite3_bind_text(st, 2, r->iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rvk_source_name(r->source), -1, SQLITE_STATIC);
	int rc = step_write(st);
	*skip = false;
	*fresh = rc == SQLITE_DONE;
	if (rc == SQLITE_ROW) {
		int64_t at = sqlite3_column_int64(st, 0);
		int64_t exp = rvk_db_column_expires(st, 1);
		/* RFC 7009 revokes a token "now", so its repeat always carries a
		 * later revoked_at; a token revocation denies that token whatever
		 * its iat, so the later time changes nothing and the repeat is no
		 * write (else every repeated /v1/revoke of a held token would be
		 * a commit and a stream entry). */
		bool same_time = r->revoked_at <= at ||
		                 (r->type == RVK_REV_TOKEN && r->source == RVK_SRC_RFC7009);
		*skip = same_time && r->expires_at <= exp;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Binds r to an insert of its contribution (sql_insert_new) or a merge
 * into it (sql_merge, which has no ?8: the origin stays the first
 * writer's). */
static void
bind_contribution(sqlite3_stmt *st, const rvk_revocation_t *r)
{
	sqlite3_bind_int(st, 1, (int)r->type);
	sqlite3_bind_text(st, 2, r->iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->revoked_at);
	if (r->expires_at == RVK_NEVER)
		sqlite3_bind_null(st, 5);
	else
		sqlite3_bind_int64(st, 5, r->expires_at);
	if (r->reason)
		sqlite3_bind_text(st, 6, r->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, rvk_source_name(r->source), -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) < 8)
		return;
	if (r->origin)
		sqlite3_bind_text(st, 8, r->origin, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
}

/* Inserts r's contribution when there is none yet. Returns: SQLITE_OK with
 * *inserted (false: one is there, and nothing was written). */
static int
insert_new(rvk_store_t *s, const rvk_revocation_t *r, bool *inserted)
{
	sqlite3_stmt *st = s->st_insert_new;
	bind_contribution(st, r);
	int rc = step_write(st);
	*inserted = rc == SQLITE_DONE && sqlite3_changes(s->wdb) > 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Merges r into the contribution there (sql_merge); m gets the merged
 * times. */
static int
merge_into(rvk_store_t *s, const rvk_revocation_t *r, struct merged *m)
{
	sqlite3_stmt *st = s->st_merge;
	bind_contribution(st, r);
	int rc = step_write(st);
	if (rc == SQLITE_ROW) {
		m->revoked_at = sqlite3_column_int64(st, 0);
		m->expires_at = rvk_db_column_expires(st, 1);
		/* RETURNING made every change on the first step. */
		rc = sqlite3_step(st);
	} else if (rc == SQLITE_DONE) {
		/* No row to merge into, where insert_new found one in this
		 * transaction: the file is not what the writer wrote. */
		rc = SQLITE_CORRUPT;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
run_record(rvk_store_t *s, struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		const rvk_revocation_t *r = &j->revs[i];
		const char *src = rvk_source_name(r->source);
		uint64_t version = 0;
		bool fresh;
		if (j->replica) {
			bool wins;
			int wrc = replica_wins(s, r->type, r->iss, r->id, src,
			                       r->version,
			                       r->origin ? r->origin : "", &wins);
			if (wrc != SQLITE_OK)
				return wrc;
			if (!wins) {
				j->merged[i].skip = true;
				continue;
			}
			/* The winner's version is kept even when the merge
			 * changes nothing: a later delete is judged by it. */
			if (r->version) {
				wrc = ver_put(s, r->type, r->iss, r->id, src,
				              r->version, r->origin ? r->origin
				                                    : "", false);
				if (wrc != SQLITE_OK)
					return wrc;
			}
		}
		/* A new contribution (most of intake) takes one statement;
		 * only one that is there is looked up and merged. */
		int frc = insert_new(s, r, &fresh);
		if (frc != SQLITE_OK)
			return frc;
		if (fresh) {
			j->merged[i] = (struct merged){ .revoked_at = r->revoked_at,
			                                .expires_at = r->expires_at };
		} else {
			bool none;
			frc = find_contribution(s, r, &j->merged[i].skip, &none);
			if (frc != SQLITE_OK)
				return frc;
			if (j->merged[i].skip)
				continue;
			frc = merge_into(s, r, &j->merged[i]);
			if (frc != SQLITE_OK)
				return frc;
		}
		if (s->opts.cluster && !j->replica) {
			version = hlc_next(s);
			frc = ver_put(s, r->type, r->iss, r->id, src, version,
			              s->node, false);
			if (frc != SQLITE_OK)
				return frc;
		}
		j->written++;
		if (fresh)
			j->rows_delta++;
		if (s->opts.cluster && !j->replica) {
			frc = outbox_add(s, r->type, r->iss, r->id, r,
			                 &j->merged[i], NULL, version, NULL);
			if (frc != SQLITE_OK)
				return frc;
		}
	}
	/* After the whole batch: a key it holds twice shows its last state.
	 * What cannot be read stays zeroed (the caller shows it as
	 * recorded); a failed step that broke the transaction fails its
	 * COMMIT. */
	for (size_t i = 0; j->shown && i < j->n; i++)
		(void)rvk_store_get_one(s, s->st_get, j->revs[i].type,
		                        j->revs[i].iss, j->revs[i].id,
		                        &j->shown[i]);
	return SQLITE_OK;
}

/* After one source's contribution left: what the others hold. */
static int
read_remain(rvk_store_t *s, struct job *j)
{
	sqlite3_stmt *st = s->st_remain;
	sqlite3_bind_int(st, 1, (int)j->type);
	sqlite3_bind_text(st, 2, j->iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->id, -1, SQLITE_STATIC);
	int rc = step_write(st);
	if (rc == SQLITE_ROW) {
		j->remain = sqlite3_column_int64(st, 0) > 0;
		j->remain_at = sqlite3_column_int64(st, 1);
		j->remain_exp = sqlite3_column_int64(st, 2);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
run_delete(rvk_store_t *s, struct job *j)
{
	const char *src = j->only_source ? rvk_source_name(*j->only_source)
	                                 : EVERY_SOURCE;
	/* A versioned delete of every source from the stream spares the
	 * contributions changed later than it. */
	bool older_only = j->replica && j->version && !j->only_source;
	const char *origin = j->origin ? j->origin : "";
	if (j->replica) {
		bool wins;
		int wrc = replica_wins(s, j->type, j->iss, j->id,
		                       j->only_source ? src : NULL, j->version,
		                       origin, &wins);
		if (wrc != SQLITE_OK)
			return wrc;
		if (!wins)
			return SQLITE_OK;
		if (j->version) {
			wrc = ver_put(s, j->type, j->iss, j->id, src, j->version,
			              origin, true);
			if (wrc != SQLITE_OK)
				return wrc;
		}
	}
	sqlite3_stmt *st = older_only ? s->st_delete_older
	                 : j->only_source ? s->st_delete_src : s->st_delete;
	sqlite3_bind_int(st, 1, (int)j->type);
	sqlite3_bind_text(st, 2, j->iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->id, -1, SQLITE_STATIC);
	if (older_only) {
		sqlite3_bind_int64(st, 4, (sqlite3_int64)j->version);
		sqlite3_bind_text(st, 5, origin, -1, SQLITE_STATIC);
	} else if (j->only_source) {
		sqlite3_bind_text(st, 4, src, -1, SQLITE_STATIC);
	}
	int rc = step_write(st);
	if (rc == SQLITE_DONE) {
		int changes = sqlite3_changes(s->wdb);
		j->deleted = changes > 0;
		j->rows_delta -= changes;
		j->written += (size_t)changes;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return rc;
	if (j->deleted && (j->only_source || older_only)) {
		rc = read_remain(s, j);
		if (rc != SQLITE_OK)
			return rc;
	}
	/* Only a delete that removed something travels: one that found
	 * nothing has nothing to tell the others. */
	if (s->opts.cluster && !j->replica && j->deleted) {
		uint64_t version = hlc_next(s);
		rc = ver_put(s, j->type, j->iss, j->id, src, version, s->node,
		             true);
		if (rc != SQLITE_OK)
			return rc;
		return outbox_add(s, j->type, j->iss, j->id, NULL, NULL,
		                  j->only_source, version, NULL);
	}
	return SQLITE_OK;
}

unsigned
rvk_store_bucket(const char *iss, const char *id)
{
	RVK_REQUIRE(iss && id);
	return rvk_digest_bucket(iss, strlen(iss), id, strlen(id));
}

static int
run_republish(rvk_store_t *s, struct job *j)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->wdb, sql_changes_by_version, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int(st, 1, (int)j->type);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)j->since);
	while ((rc = step_write(st)) == SQLITE_ROW) {
		const char *iss = (const char *)sqlite3_column_text(st, 1);
		const char *id = (const char *)sqlite3_column_text(st, 2);
		const char *src = (const char *)sqlite3_column_text(st, 3);
		if (!iss || !id || !src
		    || rvk_store_bucket(iss, id) != j->bucket)
			continue;
		uint64_t version = (uint64_t)sqlite3_column_int64(st, 4);
		const char *node = (const char *)sqlite3_column_text(st, 5);
		bool deleted = sqlite3_column_int(st, 6) != 0;
		bool every = strcmp(src, EVERY_SOURCE) == 0;
		rvk_source_t source = RVK_SRC_ADMIN;
		if (!every && !rvk_source_parse(src, &source))
			continue;
		int arc;
		if (deleted) {
			arc = outbox_add(s, j->type, iss, id, NULL, NULL,
			                 every ? NULL : &source, version, node);
		} else if (sqlite3_column_type(st, 7) != SQLITE_NULL && !every) {
			rvk_revocation_t r = {
				.type = j->type, .iss = (char *)iss, .id = (char *)id,
				.reason = (char *)sqlite3_column_text(st, 9),
				.source = source,
			};
			struct merged m = {
				.revoked_at = sqlite3_column_int64(st, 7),
				.expires_at = rvk_db_column_expires(st, 8),
			};
			arc = outbox_add(s, j->type, iss, id, &r, &m, NULL, version,
			                 node);
		} else {
			continue;       /* its contribution expired: nothing */
		}
		if (arc != SQLITE_OK) {
			rc = arc;
			break;
		}
		j->republished++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
run_purge(rvk_store_t *s, struct job *j)
{
	sqlite3_stmt *st = s->st_purge;
	sqlite3_bind_int64(st, 1, j->before);
	sqlite3_bind_int64(st, 2, RVK_STORE_PURGE_BATCH);
	int rc = step_write(st);
	if (rc == SQLITE_DONE) {
		j->purged = (size_t)sqlite3_changes(s->wdb);
		j->rows_delta -= (int64_t)j->purged;
		j->written += j->purged;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || !s->opts.cluster)
		return rc == SQLITE_DONE ? SQLITE_OK : rc;
	/* Versions outlive their contribution by version_keep. */
	int64_t keep = s->opts.version_keep > 0 ? s->opts.version_keep
	                                        : VERSION_KEEP_DEFAULT;
	int64_t cut_s = j->before - keep;
	st = s->st_ver_purge;
	sqlite3_bind_int64(st, 1, cut_s > 0 ? (sqlite3_int64)(((uint64_t)cut_s
	                                       * 1000) << 16) : 0);
	rc = step_write(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* After the commit: the table learns the group, in transaction order.
 * Returns: how many contributions are new, minus how many left. */
static int64_t
apply(rvk_store_t *s, struct job *group)
{
	int64_t delta = 0;
	for (struct job *j = group; j; j = j->next) {
		delta += j->rows_delta;
		switch (j->kind) {
		case JOB_RECORD:
			for (size_t i = 0; i < j->n; i++) {
				const rvk_revocation_t *r = &j->revs[i];
				if (j->merged[i].skip)
					continue;
				rvk_revtable_put(s->table, r->type, r->iss,
				                 strlen(r->iss), r->id, strlen(r->id),
				                 j->merged[i].revoked_at,
				                 j->merged[i].expires_at);
			}
			break;
		case JOB_DELETE:
			if (!j->deleted)
				break;
			if (j->remain)
				rvk_revtable_set(s->table, j->type, j->iss,
				                 strlen(j->iss), j->id, strlen(j->id),
				                 j->remain_at, j->remain_exp);
			else
				rvk_revtable_delete(s->table, j->type, j->iss,
				                    strlen(j->iss), j->id,
				                    strlen(j->id));
			break;
		case JOB_PURGE:
			/* The sweeper clears the table itself. */
			break;
		case JOB_ACK:
		case JOB_REPUBLISH:
			break;
		}
	}
	return delta;
}

/* Runs one group as one transaction. Returns: whether it committed. */
static bool
run_group(rvk_store_t *s, struct job *group, size_t *rows)
{
	const char *what = "begin";
	int rc = run_simple(s->st_begin);
	for (struct job *j = group; j && rc == SQLITE_OK; j = j->next) {
		switch (j->kind) {
		case JOB_RECORD:
			what = "insert";
			rc = run_record(s, j);
			break;
		case JOB_DELETE:
			what = "delete";
			rc = run_delete(s, j);
			break;
		case JOB_PURGE:
			what = "purge";
			rc = run_purge(s, j);
			break;
		case JOB_ACK:
			what = "outbox ack";
			rc = run_ack(s, j);
			break;
		case JOB_REPUBLISH:
			what = "republish";
			rc = run_republish(s, j);
			break;
		}
		*rows += j->written;
		if (rc == SQLITE_OK && j->meta_key) {
			what = "meta";
			rc = run_meta(s, j->meta_key, j->meta_value);
		}
	}
	if (rc == SQLITE_OK) {
		what = "commit";
		if (RVK_FAULT("store.commit")) {
			rc = SQLITE_IOERR;
		} else {
			rc = sqlite3_step(s->st_commit);
			sqlite3_reset(s->st_commit);
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
	}
	if (rc == SQLITE_OK)
		return true;
	rvk_log(RVK_LOG_ERROR, "store transaction failed", "path", s->path,
	        "step", what, "error", sqlite3_errstr(rc), NULL);
	if (!sqlite3_get_autocommit(s->wdb)) {
		int rrc = sqlite3_step(s->st_rollback);
		sqlite3_reset(s->st_rollback);
		if (rrc != SQLITE_DONE)
			rvk_log(RVK_LOG_ERROR, "store rollback failed", "path",
			        s->path, "error", sqlite3_errstr(rrc), NULL);
	}
	return false;
}

/* Hands each job of a finished group its result: every completion first,
 * with what they log held and written together (rvk_log_hold: at 64
 * clients one write(2) per "revocation taken" line was ~5% of the
 * server's CPU, docs/BENCHMARKS.md, "Single admin events: where the CPU
 * went"), then every wake and every synchronous caller, so that no answer
 * goes out before its line. */
static void
complete(struct job *group, rvk_result_t result)
{
	rvk_log_hold();
	for (struct job *j = group; j; j = j->next) {
		j->result = result;
		for (size_t i = 0; result != RVK_OK && j->shown && i < j->n; i++) {
			rvk_revocation_fini(&j->shown[i]);
			memset(&j->shown[i], 0, sizeof(j->shown[i]));
		}
		if (j->cb)
			j->cb(j->cb_arg, result);
	}
	rvk_log_flush();
	for (struct job *j = group, *next; j; j = next) {
		next = j->next;         /* j may die once its caller is told */
		if (j->cb) {
			if (j->wake)
				j->wake(j->cb_arg);
			free(j->merged);
			free(j);
		} else {
			sem_post(&j->done);
		}
	}
}

/* Rows a job may write, for the group's bound. */
static size_t
job_rows(const struct job *j)
{
	return j->kind == JOB_RECORD && j->n > 0 ? j->n : 1;
}

/* Takes the queue's head as a group: every job, up to GROUP_ROWS rows (at
 * least one job). The bound keeps a group's dirty pages inside the page
 * cache (db.c: cache_size), and its commit short enough that the callers
 * queued behind it are not kept waiting; jobs left stay queued in order.
 * Requires: s->mu held, s->head not NULL. */
static struct job *
take_group(rvk_store_t *s)
{
	struct job *group = s->head, *last = group;
	size_t rows = job_rows(last);
	while (last->next && rows + job_rows(last->next) <= GROUP_ROWS) {
		last = last->next;
		rows += job_rows(last);
	}
	s->head = last->next;
	if (!s->head)
		s->tail = NULL;
	last->next = NULL;
	return group;
}

/* A checkpoint that fails is not an error of any caller's: the frames stay
 * in the WAL, readable and durable, and the next checkpoint copies them. */
static void
idle_checkpoint(rvk_store_t *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_PASSIVE,
	                                   NULL, NULL);
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		rvk_log(RVK_LOG_WARN, "store: idle checkpoint failed", "path",
		        s->path, "error", sqlite3_errmsg(s->wdb), NULL);
}

static void *
writer_main(void *arg)
{
	rvk_store_t *s = arg;
	pthread_setname_np(pthread_self(), "rvk-store");

	bool cached = false;    /* pages in the cache since the last release */
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stopping) {
			if (!cached) {
				pthread_cond_wait(&s->work_cv, &s->mu);
				continue;
			}
			/* Idle for IDLE_RELEASE_S: copy the WAL into the
			 * main file (the automatic checkpoint waits for 256
			 * MiB of it, db.c), then hand the page cache (up to
			 * cache_size) back to the kernel, so an idle process
			 * returns to its baseline RSS; a burst rebuilds it.
			 * PASSIVE: a reader is never made to wait. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += IDLE_RELEASE_S;
			if (pthread_cond_timedwait(&s->work_cv, &s->mu, &ts)
			    == ETIMEDOUT && !s->head && !s->stopping) {
				pthread_mutex_unlock(&s->mu);
				idle_checkpoint(s);
				sqlite3_db_release_memory(s->wdb);
				rvk_heap_release();
				pthread_mutex_lock(&s->mu);
				cached = false;
			}
		}
		if (!s->head)
			break;          /* stopping, and the queue is flushed */
		cached = true;
		struct job *group = take_group(s);
		pthread_mutex_unlock(&s->mu);

		uint64_t t0 = rvk_clock_mono_ns();
		size_t rows = 0;
		s->outbox_added = 0;
		bool ok = run_group(s, group, &rows);
		int64_t delta = ok ? apply(s, group) : 0;
		double secs = (double)(rvk_clock_mono_ns() - t0) / 1e9;
		if (s->opts.on_commit)
			s->opts.on_commit(s->opts.on_commit_arg, secs, rows, ok);
		if (ok && s->outbox_added && s->opts.on_outbox)
			s->opts.on_outbox(s->opts.on_outbox_arg);

		pthread_mutex_lock(&s->mu);
		if (ok) {
			s->stats.commits++;
			s->stats.rows_written += rows;
			if (delta < 0 && (uint64_t)-delta > s->stats.rows)
				s->stats.rows = 0;
			else
				s->stats.rows += (uint64_t)delta;
		} else {
			s->stats.failed_commits++;
		}
		s->stats.healthy = ok;
		/* Wake exactly the callers of this group, outside the lock: a
		 * broadcast on one shared condition woke every waiting caller
		 * per commit, each of which retook mu (docs/BENCHMARKS.md). */
		pthread_mutex_unlock(&s->mu);
		complete(group, ok ? RVK_OK : RVK_EIO);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queues j. Returns: RVK_OK, or RVK_ESHUTDOWN (not queued). */
static rvk_result_t
enqueue(rvk_store_t *s, struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return RVK_ESHUTDOWN;
	}
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
	return RVK_OK;
}

/* Queues j and waits for the writer. Returns: j's result. */
static rvk_result_t
submit(rvk_store_t *s, struct job *j)
{
	j->cb = NULL;
	sem_init(&j->done, 0, 0);
	rvk_result_t r = enqueue(s, j);
	if (r == RVK_OK) {
		while (sem_wait(&j->done) != 0)
			;               /* EINTR */
		r = j->result;  /* sem_post published it */
	}
	sem_destroy(&j->done);
	return r;
}

/* The intake paths checked rvk_rev_key_valid already (a 4xx); this keeps
 * a row that could not be loaded again out of the database. */
static bool
well_formed(const rvk_revocation_t *r)
{
	return r->iss && r->id
	       && rvk_rev_key_valid(r->type, r->iss, strlen(r->iss), r->id,
	                            strlen(r->id))
	       && (unsigned)r->source < RVK_SRC_COUNT && !r->sources;
}

rvk_result_t
rvk_store_record(rvk_store_t *store, const rvk_revocation_t *revs, size_t n)
{
	RVK_REQUIRE(store && revs);
	RVK_REQUIRE(n >= 1 && n <= RVK_STORE_MAX_BATCH);
	for (size_t i = 0; i < n; i++)
		RVK_REQUIRE(well_formed(&revs[i]) && !revs[i].origin);
	struct job j = { .kind = JOB_RECORD, .revs = revs, .n = n };
	j.merged = rvk_malloc(n * sizeof(*j.merged));
	rvk_result_t r = submit(store, &j);
	free(j.merged);
	return r;
}

rvk_result_t
rvk_store_record_async_with(rvk_store_t *store, const rvk_revocation_t *revs,
                            size_t n, const rvk_store_async_t *how)
{
	RVK_REQUIRE(store && revs && how && how->done);
	RVK_REQUIRE(n >= 1 && n <= RVK_STORE_MAX_BATCH);
	for (size_t i = 0; i < n; i++)
		RVK_REQUIRE(well_formed(&revs[i]) && !revs[i].origin);
	struct job *j = rvk_calloc(1, sizeof(*j));
	j->kind = JOB_RECORD;
	j->revs = revs;
	j->n = n;
	j->merged = rvk_malloc(n * sizeof(*j->merged));
	j->shown = how->shown;
	j->cb = how->done;
	j->wake = how->wake;
	j->cb_arg = how->arg;
	rvk_result_t r = enqueue(store, j);
	if (r != RVK_OK) {
		free(j->merged);
		free(j);
	}
	return r;
}

rvk_result_t
rvk_store_record_async(rvk_store_t *store, const rvk_revocation_t *revs,
                       size_t n, rvk_store_done_fn done, void *arg)
{
	rvk_store_async_t how = { .done = done, .arg = arg };
	return rvk_store_record_async_with(store, revs, n, &how);
}

rvk_result_t
rvk_store_delete(rvk_store_t *store, rvk_rev_type_t type, const char *iss,
                 const char *id, const rvk_source_t *only_source,
                 bool *deleted)
{
	RVK_REQUIRE(store && iss && id && deleted);
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	RVK_REQUIRE(!only_source || (unsigned)*only_source < RVK_SRC_COUNT);
	struct job j = { .kind = JOB_DELETE, .type = type, .iss = iss,
	                 .id = id, .only_source = only_source };
	rvk_result_t r = submit(store, &j);
	if (r == RVK_OK)
		*deleted = j.deleted;
	return r;
}

rvk_result_t
rvk_store_record_replica(rvk_store_t *store, const rvk_revocation_t *revs,
                         size_t n, const char *stream_id)
{
	RVK_REQUIRE(store && (revs || n == 0));
	RVK_REQUIRE(n <= RVK_STORE_MAX_BATCH && (n > 0 || stream_id));
	for (size_t i = 0; i < n; i++)
		RVK_REQUIRE(well_formed(&revs[i]));
	struct job j = { .kind = JOB_RECORD, .revs = revs, .n = n,
	                 .replica = true };
	if (stream_id) {
		j.meta_key = RVK_STORE_META_POSITION;
		j.meta_value = stream_id;
	}
	j.merged = rvk_malloc((n ? n : 1) * sizeof(*j.merged));
	rvk_result_t r = submit(store, &j);
	free(j.merged);
	return r;
}

rvk_result_t
rvk_store_delete_replica(rvk_store_t *store, rvk_rev_type_t type,
                         const char *iss, const char *id,
                         const rvk_source_t *only_source, uint64_t version,
                         const char *origin, const char *stream_id,
                         bool *deleted)
{
	RVK_REQUIRE(store && iss && id && deleted);
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	RVK_REQUIRE(!only_source || (unsigned)*only_source < RVK_SRC_COUNT);
	struct job j = { .kind = JOB_DELETE, .type = type, .iss = iss,
	                 .id = id, .only_source = only_source,
	                 .version = version, .origin = origin,
	                 .replica = true };
	if (stream_id) {
		j.meta_key = RVK_STORE_META_POSITION;
		j.meta_value = stream_id;
	}
	rvk_result_t r = submit(store, &j);
	if (r == RVK_OK)
		*deleted = j.deleted;
	return r;
}

rvk_result_t
rvk_store_republish(rvk_store_t *store, rvk_rev_type_t type, unsigned bucket,
                    uint64_t since, size_t *rows)
{
	RVK_REQUIRE(store && rows && (unsigned)type < RVK_REV_TYPE_COUNT
	            && bucket < RVK_DIGEST_BUCKETS);
	struct job j = { .kind = JOB_REPUBLISH, .type = type, .bucket = bucket,
	                 .since = since };
	rvk_result_t r = submit(store, &j);
	if (r == RVK_OK)
		*rows = j.republished;
	return r;
}

/* The digest as the file keeps it (db.c, schema 8): one row per type and
 * bucket, whatever the number of contributions. */
static const char *const sql_digest =
	"SELECT type, bucket, x FROM digest";

rvk_result_t
rvk_store_digest(rvk_store_t *store,
                 uint64_t out[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS])
{
	RVK_REQUIRE(store && out);
	struct reader *rd = rvk_store_reader_take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(rd->db, sql_digest, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		memset(out, 0, sizeof(uint64_t) * RVK_REV_TYPE_COUNT
		               * RVK_DIGEST_BUCKETS);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t t = sqlite3_column_int64(st, 0);
			int64_t b = sqlite3_column_int64(st, 1);
			if (t >= 0 && t < RVK_REV_TYPE_COUNT && b >= 0
			    && b < RVK_DIGEST_BUCKETS)
				out[t][b] = (uint64_t)sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_finalize(st);
	rvk_store_reader_give(store, rd);
	return rc == SQLITE_DONE ? RVK_OK : RVK_EIO;
}

void
rvk_store_set_node(rvk_store_t *store, const char *node)
{
	RVK_REQUIRE(store && node && strlen(node) < sizeof(store->node));
	/* Read by the writer; the mutex orders this before its next job. */
	pthread_mutex_lock(&store->mu);
	snprintf(store->node, sizeof(store->node), "%s", node);
	pthread_mutex_unlock(&store->mu);
}

rvk_result_t
rvk_store_meta_set(rvk_store_t *store, const char *key, const char *value)
{
	RVK_REQUIRE(store && key && value);
	/* An ack of nothing carries the meta write. */
	struct job j = { .kind = JOB_ACK, .upto = INT64_MIN, .meta_key = key,
	                 .meta_value = value };
	return submit(store, &j);
}

rvk_result_t
rvk_store_outbox_ack(rvk_store_t *store, int64_t upto)
{
	RVK_REQUIRE(store);
	struct job j = { .kind = JOB_ACK, .upto = upto };
	return submit(store, &j);
}

rvk_result_t
rvk_store_purge(rvk_store_t *store, int64_t now, size_t *purged)
{
	RVK_REQUIRE(store && purged);
	int64_t align = store->opts.purge_align;
	if (align > 0 && now > 0)
		now -= now % align;
	/* expires_at + leeway < now, without overflow for a huge leeway. */
	int64_t leeway = store->opts.leeway;
	struct job j = { .kind = JOB_PURGE,
	                 .before = now < INT64_MIN + leeway ? INT64_MIN
	                                                    : now - leeway };
	rvk_result_t r = submit(store, &j);
	if (r == RVK_OK)
		*purged = j.purged;
	return r;
}

void
rvk_store_stats(rvk_store_t *store, rvk_store_stats_t *out)
{
	RVK_REQUIRE(store && out);
	pthread_mutex_lock(&store->mu);
	*out = store->stats;
	pthread_mutex_unlock(&store->mu);
}

static rvk_result_t
check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "data_dir %s: cannot create: %s", dir,
		         strerror(errno));
		return RVK_EPERM;
	}
	if (stat(dir, &sb) != 0) {
		snprintf(err, errlen, "data_dir %s: %s", dir, strerror(errno));
		return RVK_EPERM;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "data_dir %s: not a directory", dir);
		return RVK_EPERM;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "data_dir %s: not writable: %s", dir,
		         strerror(errno));
		return RVK_EPERM;
	}
	return RVK_OK;
}

static void
finalize_all(rvk_store_t *s)
{
	sqlite3_stmt **sts[] = { &s->st_begin, &s->st_commit, &s->st_rollback,
	                         &s->st_insert_new, &s->st_merge,
	                         &s->st_find, &s->st_remain,
	                         &s->st_delete,
	                         &s->st_delete_src, &s->st_purge,
	                         &s->st_outbox_ins, &s->st_outbox_ack,
	                         &s->st_meta_set, &s->st_ver_get,
	                         &s->st_ver_set, &s->st_ver_new,
	                         &s->st_ver_any,
	                         &s->st_delete_older, &s->st_ver_purge,
	                         &s->st_get };
	for (size_t i = 0; i < RVK_ARRAY_LEN(sts); i++) {
		sqlite3_finalize(*sts[i]);
		*sts[i] = NULL;
	}
}

static int
prepare_all(rvk_store_t *s)
{
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} list[] = {
		{ &s->st_begin, "BEGIN IMMEDIATE" },
		{ &s->st_commit, "COMMIT" },
		{ &s->st_rollback, "ROLLBACK" },
		{ &s->st_insert_new, sql_insert_new },
		{ &s->st_merge, sql_merge },
		{ &s->st_find, sql_find },
		{ &s->st_remain, sql_remain },
		{ &s->st_delete, "DELETE FROM revocations WHERE " KEY_IS_123 },
		{ &s->st_delete_src, "DELETE FROM revocations"
		  " WHERE " KEY_IS_123 " AND source = ?4" },
		/* A batch, oldest rowids first, found through the expires_at
		 * index (RVK_STORE_PURGE_BATCH). */
		{ &s->st_purge, "DELETE FROM revocations WHERE rowid IN"
		  " (SELECT rowid FROM revocations WHERE expires_at < ?1"
		  " LIMIT ?2)" },
		{ &s->st_outbox_ins, sql_outbox_ins },
		{ &s->st_outbox_ack, "DELETE FROM outbox WHERE seq <= ?1" },
		{ &s->st_meta_set, "INSERT OR REPLACE INTO meta (key, value)"
		  " VALUES (?1, ?2)" },
		{ &s->st_ver_get, sql_ver_get },
		{ &s->st_ver_set, sql_ver_set },
		{ &s->st_ver_new, sql_ver_new },
		{ &s->st_ver_any, sql_ver_any },
		{ &s->st_delete_older, sql_delete_older },
		{ &s->st_ver_purge, sql_ver_purge },
		{ &s->st_get, rvk_store_sql_get },
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(list); i++) {
		int rc = sqlite3_prepare_v3(s->wdb, list[i].sql, -1,
		                            SQLITE_PREPARE_PERSISTENT,
		                            list[i].st, NULL);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

rvk_result_t
rvk_store_open(const char *data_dir, rvk_revtable_t *table,
               const rvk_store_opts_t *opts, int64_t now, rvk_store_t **out,
               char *err, size_t errlen)
{
	RVK_REQUIRE(data_dir && table && out && err && errlen > 0);
	size_t live = 0;
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		live += rvk_revtable_count(table, (rvk_rev_type_t)t);
	RVK_REQUIRE(live == 0);
	err[0] = '\0';

	rvk_result_t r = check_dir(data_dir, err, errlen);
	if (r != RVK_OK)
		return r;

	rvk_store_t *s = rvk_calloc(1, sizeof(*s));
	size_t plen = strlen(data_dir) + sizeof("/" RVK_DB_FILE);
	s->path = rvk_malloc(plen);
	snprintf(s->path, plen, "%s/%s", data_dir, RVK_DB_FILE);
	s->table = table;
	atomic_init(&s->read_damage, false);
	if (opts)
		s->opts = *opts;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_mutex_init(&s->rmu, NULL);

	rvk_db_open_opts_t dbo = {
		.check_every_open = s->opts.check == RVK_STORE_CHECK_EVERY_START,
		.clear_clean_stop = s->opts.clean_stop_marker,
	};
	rvk_db_opened_t opened;
	r = rvk_db_open_write(s->path, &dbo, &opened, &s->wdb, err, errlen);
	if (r != RVK_OK)
		goto cleanup;
	int rc = prepare_all(s);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", s->path,
		         sqlite3_errmsg(s->wdb));
		r = RVK_EIO;
		goto cleanup;
	}
	/* The clock resumes above every version this replica made or saw. */
	sqlite3_stmt *mx = NULL;
	if (sqlite3_prepare_v2(s->wdb, "SELECT max(version) FROM versions", -1,
	                       &mx, NULL) == SQLITE_OK
	    && sqlite3_step(mx) == SQLITE_ROW)
		s->hlc = (uint64_t)sqlite3_column_int64(mx, 0);
	sqlite3_finalize(mx);
	uint64_t t0 = rvk_clock_mono_ns();
	size_t loaded = 0, total = 0;
	r = rvk_db_load(s->wdb, s->path, table, now, s->opts.leeway, &loaded,
	                &total, err, errlen);
	if (r != RVK_OK)
		goto cleanup;
	char nbuf[24], lbuf[24], msbuf[24], cbuf[24];
	snprintf(nbuf, sizeof(nbuf), "%zu", total);
	snprintf(lbuf, sizeof(lbuf), "%zu", loaded);
	snprintf(msbuf, sizeof(msbuf), "%.1f",
	         (double)(rvk_clock_mono_ns() - t0) / 1e6);
	snprintf(cbuf, sizeof(cbuf), "%.1f", opened.check_ms);
	rvk_log(RVK_LOG_INFO, "store opened", "path", s->path, "rows", nbuf,
	        "loaded", lbuf, "load_ms", msbuf,
	        "integrity_check", opened.checked ? "full" : "skipped",
	        "check_why", opened.why, "check_ms", cbuf, NULL);
	s->stats.rows = total;
	s->stats.healthy = true;
	/* quick_check and the load went through the page cache: give it
	 * back, as the writer does when idle (up to cache_size, db.c). */
	sqlite3_db_release_memory(s->wdb);
	rvk_heap_release();

	rc = pthread_create(&s->writer, NULL, writer_main, s);
	if (rc != 0) {
		snprintf(err, errlen, "store: cannot start the writer: %s",
		         strerror(rc));
		r = RVK_EIO;
		goto cleanup;
	}
	*out = s;
	return RVK_OK;
cleanup:
	finalize_all(s);
	sqlite3_close(s->wdb);
	pthread_mutex_destroy(&s->rmu);
	pthread_cond_destroy(&s->work_cv);
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
	return r;
}

void
rvk_store_close(rvk_store_t *store)
{
	if (!store)
		return;
	pthread_mutex_lock(&store->mu);
	store->stopping = true;
	pthread_cond_signal(&store->work_cv);
	pthread_mutex_unlock(&store->mu);
	pthread_join(store->writer, NULL);

	rvk_store_readers_fini(store);
	finalize_all(store);
	/* The last write: nothing of this run is left to commit. A run with a
	 * failed commit, or a read that met a damaged page, may have met a
	 * damaged file: no marker, so the next start checks it (DECISIONS
	 * D26). */
	if (store->opts.clean_stop_marker && store->stats.failed_commits == 0
	    && !atomic_load_explicit(&store->read_damage, memory_order_relaxed)
	    && rvk_db_mark_clean_stop(store->wdb, rvk_clock_now()) != RVK_OK)
		rvk_log(RVK_LOG_ERROR, "store: cannot mark the clean stop (the "
		        "next start checks the whole file)", "path", store->path,
		        "error", sqlite3_errmsg(store->wdb), NULL);
	if (sqlite3_close(store->wdb) != SQLITE_OK)
		rvk_log(RVK_LOG_ERROR, "store close failed", "path", store->path,
		        "error", sqlite3_errmsg(store->wdb), NULL);
	pthread_mutex_destroy(&store->rmu);
	pthread_cond_destroy(&store->work_cv);
	pthread_mutex_destroy(&store->mu);
	free(store->path);
	free(store);
}
