/*
 * fixture.h - the store tests' one fixture: a fresh data dir under $TMPDIR
 * (default /tmp), a revocation table and a store open on it.
 *
 * Tests run anywhere: nothing here names /tmp itself, so a read-only /tmp
 * or a per-job TMPDIR (CI, meson's own) works.
 */
#ifndef RVK_TESTS_UNIT_STORE_FIXTURE_H
#define RVK_TESTS_UNIT_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/revtable.h"
#include "store/store.h"

#define STORE_FX_NOW 1764190000

typedef struct store_fx {
	char dir[512];
	rvk_revtable_t *table;
	rvk_store_t *store;
	rvk_store_opts_t opts;    /* leeway is also the table's */
} store_fx_t;

/* Creates "$TMPDIR/rvk_<tag>_XXXXXX" into dir[n]. Returns: success. */
bool store_fx_mkdtemp(char *dir, size_t n, const char *tag);
/* Removes dir and everything under it. */
void store_fx_rmtree(const char *dir);

/* A fresh dir (tag names it), then store_fx_open with opts (copied).
 * Returns: success (a failure is printed as a TAP comment). */
bool store_fx_init(store_fx_t *fx, const char *tag, const rvk_store_opts_t *opts);
/* Opens a table and a store on fx->dir with fx->opts at STORE_FX_NOW. */
rvk_result_t store_fx_open(store_fx_t *fx);
/* Closes the store and frees the table; fx->dir stays (reopen it). */
void store_fx_close(store_fx_t *fx);
/* store_fx_close, then the dir goes. */
void store_fx_fini(store_fx_t *fx);

#endif
