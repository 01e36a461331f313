/*
 * console.h - the incident console (docs/CONSOLE.md): a page, its style and
 * its script, embedded in the binary and served on the admin listener under
 * /admin/.
 *
 * The files live in api/console/ and become C arrays at build time
 * (api/console/embed.py, a meson custom_target): nothing is read from disk
 * at run time, so no request path ever reaches the filesystem and there is
 * nothing to traverse. A request names a file by its exact basename; any
 * other name is 404.
 *
 * Every answer carries the same security headers (RVK_CONSOLE_CSP and the
 * rest, console_handler.c): the page runs only its own script and style,
 * talks only to its own origin, and cannot be framed. Files are revalidated
 * on each load (Cache-Control: no-cache) against an ETag of their bytes, so
 * an upgraded binary serves its new console at once and an unchanged one
 * answers 304.
 *
 * Threads: the table is constant; any thread may read it.
 * Security: the files are public (the page holds no secret; the admin token
 * is pasted by the operator and kept in the page's memory). The API behind
 * them is what the token guards.
 */
#ifndef RVK_API_CONSOLE_H
#define RVK_API_CONSOLE_H

#include <stddef.h>

typedef struct rvk_console_asset {
	const char *name;                /* basename, e.g. "console.js" */
	const char *content_type;
	const char *etag;                /* quoted, as sent */
	const unsigned char *data;       /* len bytes, then a NUL */
	size_t len;
} rvk_console_asset_t;

/* The embedded files, ended by a row with name NULL (generated). */
extern const rvk_console_asset_t rvk_console_assets[];

/* The policy every console answer carries. */
#define RVK_CONSOLE_CSP \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

/*
 * Finds the file a path under the console names: "" (the directory itself)
 * is index.html; otherwise the exact basename of an embedded file. A name
 * with a "/", "..", or anything not in the table is not found.
 * Requires: name not NULL (the part of the path after "/admin/").
 * Returns: the asset (static), or NULL.
 */
const rvk_console_asset_t *rvk_console_find(const char *name);

#endif
