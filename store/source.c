/* The revocation value type (source names: base/vocab.c). */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "store/store.h"

void
rvk_revocation_fini(rvk_revocation_t *r)
{
	if (!r)
		return;
	free(r->iss);
	free(r->id);
	free(r->reason);
	free(r->origin);
	for (size_t i = 0; i < r->nsources; i++) {
		free(r->sources[i].reason);
		free(r->sources[i].origin);
	}
	free(r->sources);
	r->iss = r->id = r->reason = r->origin = NULL;
	r->sources = NULL;
	r->nsources = 0;
}
