#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/store/fixture.h"

bool
store_fx_mkdtemp(char *dir, size_t n, const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	int len = snprintf(dir, n, "%s/rvk_%s_XXXXXX", tmp, tag);
	if (len < 0 || (size_t)len >= n)
		return false;
	return mkdtemp(dir) != NULL;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

void
store_fx_rmtree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

rvk_result_t
store_fx_open(store_fx_t *fx)
{
	char err[512];
	fx->table = rvk_revtable_new(1024, fx->opts.leeway);
	rvk_result_t r = rvk_store_open(fx->dir, fx->table, &fx->opts, STORE_FX_NOW,
	                                &fx->store, err, sizeof(err));
	if (r != RVK_OK)
		printf("# open: %s\n", err);
	return r;
}

bool
store_fx_init(store_fx_t *fx, const char *tag, const rvk_store_opts_t *opts)
{
	memset(fx, 0, sizeof(*fx));
	if (opts)
		fx->opts = *opts;
	if (!store_fx_mkdtemp(fx->dir, sizeof(fx->dir), tag))
		return false;
	return store_fx_open(fx) == RVK_OK;
}

void
store_fx_close(store_fx_t *fx)
{
	rvk_store_close(fx->store);
	rvk_revtable_free(fx->table);
	fx->store = NULL;
	fx->table = NULL;
}

void
store_fx_fini(store_fx_t *fx)
{
	store_fx_close(fx);
	store_fx_rmtree(fx->dir);
}
