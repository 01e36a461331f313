/*
 * get and list: reads on read-only connections, never on the writer's.
 *
 * A small pool of idle read-only connections, guarded by a mutex, saves
 * the open (and schema parse) per call; a caller that finds the pool empty
 * opens its own, and connections beyond RVK_STORE_READERS are closed when
 * handed back. Each statement is its own WAL read transaction, so it sees
 * every commit made before it started and never blocks the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/mem.h"
#include "store/db.h"
#include "store/internal.h"

#define COLUMNS "type, iss, id, revoked_at, expires_at, reason, source"

static struct reader *
take(rvk_store_t *s)
{
	pthread_mutex_lock(&s->rmu);
	struct reader *r = s->idle;
	if (r) {
		s->idle = r->next;
		s->nidle--;
	}
	pthread_mutex_unlock(&s->rmu);
	if (r)
		return r;
	sqlite3 *db;
	if (rvk_db_open_read(s->path, &db) != RVK_OK)
		return NULL;
	r = rvk_malloc(sizeof(*r));
	r->db = db;
	return r;
}

static void
give_back(rvk_store_t *s, struct reader *r)
{
	pthread_mutex_lock(&s->rmu);
	if (s->nidle < RVK_STORE_READERS) {
		r->next = s->idle;
		s->idle = r;
		s->nidle++;
		r = NULL;
	}
	pthread_mutex_unlock(&s->rmu);
	if (r) {
		sqlite3_close(r->db);
		free(r);
	}
}

struct reader *
rvk_store_reader_take(rvk_store_t *store)
{
	return take(store);
}

void
rvk_store_reader_give(rvk_store_t *store, struct reader *r)
{
	give_back(store, r);
}

void
rvk_store_readers_fini(rvk_store_t *s)
{
	for (struct reader *r = s->idle, *next; r; r = next) {
		next = r->next;
		sqlite3_close(r->db);
		free(r);
	}
	s->idle = NULL;
	s->nidle = 0;
}

/* Copies the current row (COLUMNS order) into *out. Returns: RVK_OK, or
 * RVK_EIO for a row this build cannot read. */
static rvk_result_t
read_row(sqlite3_stmt *st, rvk_revocation_t *out)
{
	int64_t type = sqlite3_column_int64(st, 0);
	const char *iss = (const char *)sqlite3_column_text(st, 1);
	const char *id = (const char *)sqlite3_column_text(st, 2);
	const char *reason = (const char *)sqlite3_column_text(st, 5);
	const char *source = (const char *)sqlite3_column_text(st, 6);
	rvk_source_t src;
	if (type < 0 || type >= RVK_REV_TYPE_COUNT || !iss || !id || !source
	    || !rvk_source_parse(source, &src))
		return RVK_EIO;
	*out = (rvk_revocation_t){
		.type = (rvk_rev_type_t)type,
		.iss = rvk_strdup(iss),
		.id = rvk_strdup(id),
		.revoked_at = sqlite3_column_int64(st, 3),
		.expires_at = rvk_db_column_expires(st, 4),
		.reason = reason ? rvk_strdup(reason) : NULL,
		.source = src,
	};
	return RVK_OK;
}

rvk_result_t
rvk_store_get(rvk_store_t *store, rvk_rev_type_t type, const char *iss,
              const char *id, rvk_revocation_t *out)
{
	RVK_REQUIRE(store && iss && id && out);
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	struct reader *rd = take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	rvk_result_t r = RVK_EIO;
	if (sqlite3_prepare_v2(rd->db, "SELECT " COLUMNS " FROM revocations"
	                       " WHERE type = ?1 AND iss = ?2 AND id = ?3",
	                       -1, &st, NULL) != SQLITE_OK)
		goto cleanup;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(st, out);
	else if (rc == SQLITE_DONE)
		r = RVK_ENOTFOUND;
cleanup:
	sqlite3_finalize(st);
	give_back(store, rd);
	return r;
}

rvk_result_t
rvk_store_list(rvk_store_t *store, int type, const char *iss,
               const rvk_store_pos_t *after, size_t limit,
               rvk_revocation_t **items, size_t *n, bool *more)
{
	RVK_REQUIRE(store && items && n && more);
	RVK_REQUIRE(type >= -1 && type < RVK_REV_TYPE_COUNT);
	RVK_REQUIRE(!after || (after->type >= -1 &&
	                       after->type < RVK_REV_TYPE_COUNT));
	bool from_pos = after && after->type >= 0;
	if (limit > (size_t)INT32_MAX)
		limit = INT32_MAX;

	/* Fixed fragments only; every value is bound. Keyset pagination on
	 * the primary key, so page N costs what page 1 costs. */
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT " COLUMNS " FROM revocations WHERE 1%s%s%s"
	         " ORDER BY type, iss, id LIMIT ?6",
	         type >= 0 ? " AND type = ?1" : "",
	         iss ? " AND iss = ?2" : "",
	         from_pos ? " AND (type, iss, id) > (?3, ?4, ?5)" : "");

	struct reader *rd = take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	rvk_revocation_t *arr = NULL;
	size_t cnt = 0, cap = 0;
	bool extra = false;
	rvk_result_t r = RVK_EIO;
	if (sqlite3_prepare_v2(rd->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto cleanup;
	sqlite3_bind_int(st, 1, type);
	if (iss)
		sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
	if (from_pos) {
		sqlite3_bind_int(st, 3, after->type);
		sqlite3_bind_text(st, 4, after->iss ? after->iss : "", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(st, 5, after->id ? after->id : "", -1,
		                  SQLITE_STATIC);
	}
	/* One row more than asked says whether there is a next page. */
	sqlite3_bind_int64(st, 6, (sqlite3_int64)limit + 1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == limit) {
			extra = true;
			break;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			arr = rvk_realloc(arr, cap * sizeof(*arr));
		}
		if (read_row(st, &arr[cnt]) != RVK_OK)
			goto cleanup;
		cnt++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto cleanup;
	*items = arr;
	*n = cnt;
	*more = extra;
	arr = NULL;
	cnt = 0;
	r = RVK_OK;
cleanup:
	for (size_t i = 0; i < cnt; i++)
		rvk_revocation_fini(&arr[i]);
	free(arr);
	sqlite3_finalize(st);
	give_back(store, rd);
	return r;
}
