/* Names of revocation sources, and the revocation value type. */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "store/store.h"

static const char *const names[RVK_SRC_COUNT] = {
	[RVK_SRC_WEBHOOK] = "webhook",
	[RVK_SRC_SET] = "set",
	[RVK_SRC_BACKCHANNEL] = "backchannel",
	[RVK_SRC_KEYCLOAK] = "keycloak",
	[RVK_SRC_RFC7009] = "rfc7009",
	[RVK_SRC_ADMIN] = "admin",
	[RVK_SRC_REPLICA] = "replica",
};

const char *
rvk_source_name(rvk_source_t source)
{
	RVK_REQUIRE((unsigned)source < RVK_SRC_COUNT);
	return names[source];
}

bool
rvk_source_parse(const char *name, rvk_source_t *out)
{
	for (int i = 0; i < RVK_SRC_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (rvk_source_t)i;
			return true;
		}
	}
	return false;
}

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
