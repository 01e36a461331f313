/*
 * settings.c - the configuration as api/ sees it (settings.h).
 */
#include <stdlib.h>
#include <string.h>

#include "api/settings.h"
#include "base/check.h"
#include "base/mem.h"

void
rvk_api_settings_forward(rvk_api_settings_t *s, const char *claim,
                         const char *header)
{
	RVK_REQUIRE(s && claim && header);
	s->forward = rvk_realloc(s->forward, (s->n_forward + 1) * sizeof(*s->forward));
	s->forward[s->n_forward++] = (rvk_api_forward_t){ .claim = claim,
	                                                  .header = header };
}

void
rvk_api_settings_fini(rvk_api_settings_t *s)
{
	if (!s)
		return;
	free(s->forward);
	memset(s, 0, sizeof(*s));
}
