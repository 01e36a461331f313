/*
 * settings.c - the configuration as api/ sees it (settings.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/settings.h"
#include "base/check.h"
#include "base/mem.h"

/* The allow response's own headers (REFERENCE §3, api/auth_handler.c): a
 * forwarded claim naming one is not written twice, so it is left out here,
 * once per configuration, instead of being compared on every miss. */
static const char *const fixed_headers[] = { "X-Auth-Subject", "X-Auth-Issuer",
                                             "X-Auth-Token-Id", "X-Auth-Expires",
                                             "Cache-Control" };

void
rvk_api_settings_forward(rvk_api_settings_t *s, const char *claim,
                         const char *header)
{
	RVK_REQUIRE(s && claim && header);
	for (size_t k = 0; k < sizeof(fixed_headers) / sizeof(*fixed_headers); k++)
		if (strcasecmp(fixed_headers[k], header) == 0)
			return;
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
