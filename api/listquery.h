/*
 * listquery.h - the query of GET /admin/v1/revocations (REFERENCE §5.6): the
 * type, iss, limit and cursor arguments (already percent-decoded by MHD)
 * into a store position, or the reason for a 400.
 *
 * Factored out of admin_handler.c so that it can be fuzzed
 * (tests/fuzz/fuzz_listquery.c) without a server.
 *
 * Threads: thread-safe (rvk_cursor_decode is). No I/O.
 * Security: every argument is untrusted and of any length.
 */
#ifndef RVK_API_LISTQUERY_H
#define RVK_API_LISTQUERY_H

#include <stddef.h>

#include "api/cursor.h"
#include "store/store.h"

#define RVK_LISTQUERY_LIMIT_DEFAULT 100
#define RVK_LISTQUERY_LIMIT_MAX 1000

typedef struct rvk_listquery {
	int type;               /* filter: rvk_rev_type_t, -1: any */
	const char *iss;        /* filter: borrowed from the argument, NULL: any */
	size_t limit;           /* 1..RVK_LISTQUERY_LIMIT_MAX */
	rvk_store_pos_t pos;    /* start after; .type -1: from the beginning */
	rvk_cursor_t cursor;    /* owns the strings pos points into */
} rvk_listquery_t;

/*
 * Parses the arguments (NULL or "" = absent): type one of the REFERENCE's type
 * names; limit 1..1000 in plain decimal; cursor one this process issued for
 * the same type and iss filters.
 * Returns: NULL and *q (release with rvk_listquery_fini) or a static
 * message for the 400 (*q holds nothing to release).
 */
const char *rvk_listquery_parse(const char *type, const char *iss,
                                const char *limit, const char *cursor,
                                rvk_listquery_t *q);

/* Releases what q owns. */
void rvk_listquery_fini(rvk_listquery_t *q);

#endif
