/*
 * cursor.h - opaque, tamper-evident list cursors for the admin API
 * (REFERENCE §5.6).
 *
 * DESIGN: a cursor names the last item a page returned — its (type, iss,
 * id) position in the store's list order — together with the filters of the
 * query that produced it (type, iss), so a cursor cannot be replayed against
 * another query. The wire form is base64url(payload || HMAC-SHA256(payload))
 * where payload is a small compact JSON array and the HMAC key is 32 random
 * bytes drawn once per process. So:
 *   - a cursor revokd did not issue (forged, edited, truncated) fails the
 *     HMAC check and is refused;
 *   - cursors do not survive a restart: after one, an old cursor is refused
 *     like a forged one (the client starts its listing again).
 * The payload is not secret (it holds an issuer and an ID the caller was
 * shown anyway); it is only authenticated.
 *
 * Threads: all functions are thread-safe (the key is made once, under
 * pthread_once, on first use).
 * Security: rvk_cursor_decode takes untrusted input of any length; it
 * refuses anything over RVK_CURSOR_MAX_LEN before decoding.
 */
#ifndef RVK_API_CURSOR_H
#define RVK_API_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#define RVK_CURSOR_MAX_LEN 32768

typedef struct rvk_cursor {
	int type;              /* position: rvk_rev_type_t of the last item */
	char *iss;             /* position: owned */
	char *id;              /* position: owned */
	int filter_type;       /* the query's type filter, -1: none */
	char *filter_iss;      /* the query's iss filter, owned, NULL: none */
} rvk_cursor_t;

/*
 * Requires: c->iss and c->id non-NULL, valid UTF-8.
 * Returns: the cursor text (owned, NUL-terminated, only [A-Za-z0-9_-]).
 */
char *rvk_cursor_encode(const rvk_cursor_t *c);

/*
 * Returns: true and *out (release with rvk_cursor_fini) when text is a
 * cursor this process issued; false otherwise (*out untouched).
 */
bool rvk_cursor_decode(const char *text, rvk_cursor_t *out);

/* Frees the strings of c (not c). */
void rvk_cursor_fini(rvk_cursor_t *c);

#endif
