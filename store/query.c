/*
 * get and list: reads on read-only connections, never on the writer's.
 *
 * A small pool of idle read-only connections, guarded by a mutex, saves
 * the open (and schema parse) per call; a caller that finds the pool empty
 * opens its own, and connections beyond RVK_STORE_READERS are closed when
 * handed back. Each statement is its own WAL read transaction, so it sees
 * every commit made before it started and never blocks the writer.
 *
 * A revocation is one row per source's contribution (store.h); get and list
 * read the rows of a revocation in source order and gather them in C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/mem.h"
#include "store/db.h"
#include "store/internal.h"

#define COLUMNS "type, iss, id, revoked_at, expires_at, reason, source," \
	" origin"

const char *const rvk_store_sql_get =
	"SELECT " COLUMNS " FROM revocations WHERE kh = rvk_kh(?1, ?2, ?3)"
	" AND type = ?1 AND iss = ?2 AND id = ?3 ORDER BY source";

/* One lower bound on kh, the greater of the range's start and the
 * position's hash, so the index is entered there: with two, SQLite sought
 * the first and stepped through every row before the position (at 3,000
 * rows, the page after row 2,900 took 6.5 times the steps of the first;
 * tests/unit/store/store_test.c, a_late_page_costs_what_the_first_costs).
 * INDEXED BY: a page
 * comes from reading the range in order until it is full, never from
 * sorting what the filter matches. */
const char *const rvk_store_sql_list =
	"SELECT " COLUMNS " FROM revocations INDEXED BY revocations_kh"
	" WHERE kh >= max(?3, ?7) AND kh < ?8"
	" AND (kh, iss, id) > (?3, ?4, ?5)"
	" AND (?1 < 0 OR type = ?1) AND (?2 IS NULL OR iss = ?2)"
	" ORDER BY kh, iss, id, source LIMIT ?6";

static void
reader_close(struct reader *r)
{
	sqlite3_finalize(r->get);
	sqlite3_close(r->db);
	free(r);
}

/* A new read connection with its statements. Returns: NULL when it cannot
 * be opened. */
static struct reader *
reader_open(rvk_store_t *s)
{
	sqlite3 *db;
	if (rvk_db_open_read(s->path, &db) != RVK_OK)
		return NULL;
	struct reader *r = rvk_calloc(1, sizeof(*r));
	r->db = db;
	if (sqlite3_prepare_v3(db, rvk_store_sql_get, -1, SQLITE_PREPARE_PERSISTENT,
	                       &r->get, NULL) != SQLITE_OK) {
		reader_close(r);
		return NULL;
	}
	return r;
}

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
	return reader_open(s);
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
	if (r)
		reader_close(r);
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
		reader_close(r);
	}
	s->idle = NULL;
	s->nidle = 0;
}

/* Reads the current row's contribution (COLUMNS order) into *c.
 * Returns: RVK_OK, or RVK_EIO for a row this build cannot read. */
static rvk_result_t
read_contribution(sqlite3_stmt *st, rvk_contribution_t *c)
{
	const char *reason = (const char *)sqlite3_column_text(st, 5);
	const char *source = (const char *)sqlite3_column_text(st, 6);
	const char *origin = (const char *)sqlite3_column_text(st, 7);
	rvk_source_t src;
	if (!source || !rvk_source_parse(source, &src))
		return RVK_EIO;
	*c = (rvk_contribution_t){
		.source = src,
		.revoked_at = sqlite3_column_int64(st, 3),
		.expires_at = rvk_db_column_expires(st, 4),
		.reason = reason ? rvk_strdup(reason) : NULL,
		.origin = origin ? rvk_strdup(origin) : NULL,
	};
	return RVK_OK;
}

/* Whether the current row belongs to the revocation r is gathering. */
static bool
same_key(sqlite3_stmt *st, const rvk_revocation_t *r)
{
	const char *iss = (const char *)sqlite3_column_text(st, 1);
	const char *id = (const char *)sqlite3_column_text(st, 2);
	return sqlite3_column_int64(st, 0) == (int64_t)r->type && iss && id
	       && strcmp(iss, r->iss) == 0 && strcmp(id, r->id) == 0;
}

/* Starts *out with the current row's key and adds its contribution.
 * Returns: RVK_OK, RVK_EIO (nothing left to free in *out). */
static rvk_result_t
begin_group(sqlite3_stmt *st, rvk_revocation_t *out)
{
	int64_t type = sqlite3_column_int64(st, 0);
	const char *iss = (const char *)sqlite3_column_text(st, 1);
	const char *id = (const char *)sqlite3_column_text(st, 2);
	if (type < 0 || type >= RVK_REV_TYPE_COUNT || !iss || !id)
		return RVK_EIO;
	rvk_contribution_t c;
	if (read_contribution(st, &c) != RVK_OK)
		return RVK_EIO;
	*out = (rvk_revocation_t){
		.type = (rvk_rev_type_t)type,
		.iss = rvk_strdup(iss),
		.id = rvk_strdup(id),
		.sources = rvk_malloc(RVK_SRC_COUNT * sizeof(*out->sources)),
		.nsources = 1,
	};
	out->sources[0] = c;
	return RVK_OK;
}

/* Adds the current row (same key) to *r. Returns: RVK_OK, RVK_EIO. */
static rvk_result_t
add_to_group(sqlite3_stmt *st, rvk_revocation_t *r)
{
	/* The writer keeps one row per key and source (store.c,
	 * sql_insert_new). */
	if (r->nsources == RVK_SRC_COUNT)
		return RVK_EIO;
	if (read_contribution(st, &r->sources[r->nsources]) != RVK_OK)
		return RVK_EIO;
	r->nsources++;
	return RVK_OK;
}

/* Fills the in-force fields of a gathered revocation: the source, reason
 * and origin of the latest contribution (ties: the later expires_at, then
 * the first in source-name order, which is row order), and the latest
 * times over every contribution, as the table holds them. */
static void
end_group(rvk_revocation_t *r)
{
	const rvk_contribution_t *force = &r->sources[0];
	int64_t exp = force->expires_at;
	for (size_t i = 1; i < r->nsources; i++) {
		const rvk_contribution_t *c = &r->sources[i];
		if (c->revoked_at > force->revoked_at
		    || (c->revoked_at == force->revoked_at
		        && c->expires_at > force->expires_at))
			force = c;
		if (c->expires_at > exp)
			exp = c->expires_at;
	}
	r->revoked_at = force->revoked_at;
	r->expires_at = exp;
	r->source = force->source;
	r->reason = force->reason ? rvk_strdup(force->reason) : NULL;
	r->origin = force->origin ? rvk_strdup(force->origin) : NULL;
}

/* A read's error that says the file or its medium is damaged (not a busy
 * or locked database, not memory): the store's close then sets no
 * clean-stop marker, so the next start checks the whole file (DECISIONS
 * D26). */
static void
note_read_error(rvk_store_t *s, int rc)
{
	int primary = rc & 0xff;
	if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
	    || primary == SQLITE_IOERR)
		atomic_store_explicit(&s->read_damage, true, memory_order_relaxed);
}

rvk_result_t
rvk_store_get_one(rvk_store_t *s, sqlite3_stmt *st, rvk_rev_type_t type,
                  const char *iss, const char *id, rvk_revocation_t *out)
{
	rvk_revocation_t got = { 0 };
	bool started = false;
	rvk_result_t r = RVK_EIO;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!started) {
			if (begin_group(st, &got) != RVK_OK)
				goto cleanup;
			started = true;
		} else if (add_to_group(st, &got) != RVK_OK) {
			goto cleanup;
		}
	}
	if (rc != SQLITE_DONE) {
		note_read_error(s, rc);
		goto cleanup;
	}
	if (!started) {
		r = RVK_ENOTFOUND;
		goto cleanup;
	}
	end_group(&got);
	*out = got;
	started = false;
	r = RVK_OK;
cleanup:
	if (started)
		rvk_revocation_fini(&got);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
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
	rvk_result_t r = rvk_store_get_one(store, rd->get, type, iss, id, out);
	give_back(store, rd);
	return r;
}

/* A page being filled: up to limit revocations, then extra when one more
 * shows. */
struct page {
	rvk_revocation_t *arr;
	size_t cnt, cap, limit;
	bool extra;
};

/* Appends the revocations of st's rows, in order, to pg until it is full
 * and one more shows. Returns: RVK_OK, RVK_EIO. */
static rvk_result_t
fill_page(rvk_store_t *store, sqlite3_stmt *st, struct page *pg)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (pg->cnt > 0 && same_key(st, &pg->arr[pg->cnt - 1])) {
			if (add_to_group(st, &pg->arr[pg->cnt - 1]) != RVK_OK)
				return RVK_EIO;
			continue;
		}
		if (pg->cnt == pg->limit) {
			pg->extra = true;
			break;
		}
		if (pg->cnt == pg->cap) {
			pg->cap = pg->cap ? pg->cap * 2 : 16;
			pg->arr = rvk_realloc(pg->arr, pg->cap * sizeof(*pg->arr));
		}
		if (begin_group(st, &pg->arr[pg->cnt]) != RVK_OK)
			return RVK_EIO;
		pg->cnt++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		note_read_error(store, rc);
		return RVK_EIO;
	}
	return RVK_OK;
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
	if (limit > (size_t)INT32_MAX / RVK_SRC_COUNT - 1)
		limit = INT32_MAX / RVK_SRC_COUNT - 1;

	/* Keyset pagination in the order of the key index, the key's hash
	 * (db.h), so page N costs what page 1 costs; iss and id order the
	 * keys of one hash, and the rows of a revocation (one per source, up
	 * to RVK_SRC_COUNT) come together, to be gathered in C. Each filter
	 * is a range of the index, [?7, ?8): a type, a type and an issuer;
	 * an issuer alone is one range a type, read type after type. The
	 * position is (?3, ?4, ?5): its hash, iss and id. One row of the
	 * revocation after the page says whether there is a next
	 * (rvk_store_sql_list: fixed SQL, every value bound). */
	/* The ranges to read: one, or one a type for an issuer alone. */
	int first = type, last = type;
	if (type < 0 && iss) {
		first = from_pos ? after->type : 0;
		last = RVK_REV_TYPE_COUNT - 1;
	}
	size_t iss_len = iss ? strlen(iss) : 0;

	struct reader *rd = take(store);
	if (!rd)
		return RVK_EIO;
	sqlite3_stmt *st = NULL;
	struct page pg = { .limit = limit };
	rvk_result_t r = RVK_EIO;
	if (sqlite3_prepare_v2(rd->db, rvk_store_sql_list, -1, &st, NULL) !=
	    SQLITE_OK)
		goto cleanup;
	for (int t = first; t <= last && !pg.extra; t++) {
		int64_t lo = 0, hi = (int64_t)RVK_REV_TYPE_COUNT
		                     << RVK_DB_KH_TYPE_SHIFT;
		if (t >= 0)
			rvk_db_key_range(t, iss, iss_len, &lo, &hi);
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, type);
		if (iss)
			sqlite3_bind_text(st, 2, iss, -1, SQLITE_STATIC);
		/* The position bounds the one range, or the range of its
		 * type when an issuer alone is read type after type. */
		if (from_pos && (type >= 0 || t < 0 || t == after->type)) {
			const char *pi = after->iss ? after->iss : "";
			const char *pd = after->id ? after->id : "";
			sqlite3_bind_int64(st, 3, rvk_db_key_hash(after->type, pi,
			                                          strlen(pi), pd,
			                                          strlen(pd)));
			sqlite3_bind_text(st, 4, pi, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, pd, -1, SQLITE_STATIC);
		} else {                     /* from the range's start */
			sqlite3_bind_int64(st, 3, lo - 1);
			sqlite3_bind_text(st, 4, "", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, "", -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 6, ((sqlite3_int64)limit + 1) *
		                          RVK_SRC_COUNT);
		sqlite3_bind_int64(st, 7, lo);
		sqlite3_bind_int64(st, 8, hi);
		if (fill_page(store, st, &pg) != RVK_OK)
			goto cleanup;
	}
	for (size_t i = 0; i < pg.cnt; i++)
		end_group(&pg.arr[i]);
	*items = pg.arr;
	*n = pg.cnt;
	*more = pg.extra;
	pg.arr = NULL;
	pg.cnt = 0;
	r = RVK_OK;
cleanup:
	for (size_t i = 0; i < pg.cnt; i++)
		rvk_revocation_fini(&pg.arr[i]);
	free(pg.arr);
	sqlite3_finalize(st);
	give_back(store, rd);
	return r;
}
