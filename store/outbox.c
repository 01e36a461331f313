/*
 * Reads of the replication outbox and of meta, on read connections (the
 * writes are jobs of the writer thread, in store.c).
 */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/mem.h"
#include "store/db.h"
#include "store/internal.h"
#include "store/outbox.h"

static char *
dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? rvk_strdup((const char *)t) : NULL;
}

void
rvk_outbox_rows_free(rvk_outbox_row_t *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		rvk_revocation_fini(&rows[i].rev);
	free(rows);
}

rvk_result_t
rvk_store_outbox_read(rvk_store_t *store, int64_t after, size_t limit,
                      rvk_outbox_row_t **rows, size_t *n)
{
	RVK_REQUIRE(store && rows && n && limit > 0);
	*rows = NULL;
	*n = 0;
	struct reader *rd = rvk_store_reader_take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	rvk_result_t r = RVK_EIO;
	int rc = sqlite3_prepare_v2(rd->db,
		"SELECT seq, op, type, iss, id, revoked_at, expires_at, reason,"
		" source, version, origin FROM outbox WHERE seq > ?2 ORDER BY seq"
		" LIMIT ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto cleanup;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	rvk_outbox_row_t *v = rvk_calloc(limit, sizeof(*v));
	size_t k = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rvk_outbox_row_t *o = &v[k];
		const unsigned char *op = sqlite3_column_text(st, 1);
		int64_t type = sqlite3_column_int64(st, 2);
		if (!op || type < 0 || type >= RVK_REV_TYPE_COUNT
		    || !sqlite3_column_text(st, 3) || !sqlite3_column_text(st, 4))
			break;          /* a row we did not write: EIO below */
		o->seq = sqlite3_column_int64(st, 0);
		o->tombstone = strcmp((const char *)op, "delete") == 0;
		o->rev.type = (rvk_rev_type_t)type;
		o->rev.iss = dup_col(st, 3);
		o->rev.id = dup_col(st, 4);
		o->rev.revoked_at = sqlite3_column_int64(st, 5);
		o->rev.expires_at = rvk_db_column_expires(st, 6);
		o->rev.reason = dup_col(st, 7);
		const unsigned char *src = sqlite3_column_text(st, 8);
		bool named = src && rvk_source_parse((const char *)src,
		                                     &o->rev.source);
		if (!named)
			o->rev.source = RVK_SRC_ADMIN;
		o->every_source = o->tombstone && !named;
		o->rev.version = (uint64_t)sqlite3_column_int64(st, 9);
		o->rev.origin = dup_col(st, 10);
		k++;
	}
	if (rc != SQLITE_DONE) {
		rvk_outbox_rows_free(v, k);
		goto cleanup;
	}
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*rows = v;
	*n = k;
	r = RVK_OK;
cleanup:
	sqlite3_finalize(st);
	rvk_store_reader_give(store, rd);
	return r;
}

rvk_result_t
rvk_store_outbox_depth(rvk_store_t *store, size_t *depth)
{
	RVK_REQUIRE(store && depth);
	struct reader *rd = rvk_store_reader_take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	rvk_result_t r = RVK_EIO;
	/* Rows are contiguous in seq (see db.c): two index probes, not a
	 * scan, however deep the outbox got during an outage. */
	if (sqlite3_prepare_v2(rd->db, "SELECT min(seq), max(seq) FROM outbox",
	                       -1, &st, NULL) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			*depth = 0;
		else
			*depth = (size_t)(sqlite3_column_int64(st, 1)
			                  - sqlite3_column_int64(st, 0) + 1);
		r = RVK_OK;
	}
	sqlite3_finalize(st);
	rvk_store_reader_give(store, rd);
	return r;
}

rvk_result_t
rvk_store_meta_get(rvk_store_t *store, const char *key, char **value)
{
	RVK_REQUIRE(store && key && value);
	struct reader *rd = rvk_store_reader_take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	rvk_result_t r = RVK_EIO;
	if (sqlite3_prepare_v2(rd->db, "SELECT value FROM meta WHERE key = ?1",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			*value = dup_col(st, 0);
			r = RVK_OK;
		} else if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
			r = RVK_ENOTFOUND;
		}
	}
	sqlite3_finalize(st);
	rvk_store_reader_give(store, rd);
	return r;
}
