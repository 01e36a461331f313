/*
 * api_settings.c - rvk_config_t -> rvk_api_settings_t (api_settings.h).
 */
#include "base/check.h"
#include "service/api_settings.h"

void
rvk_api_settings_from_config(const rvk_config_t *cfg, rvk_api_settings_t *s)
{
	RVK_REQUIRE(cfg && s && !s->forward);
	*s = (rvk_api_settings_t){
		.listen = cfg->listen,
		.admin_listen = cfg->admin_listen,
		.threads = rvk_config_threads(cfg),
		.max_token_bytes = (size_t)cfg->max_token_bytes,
		.token_cookie = cfg->token_cookie,
		.vcache_ttl = cfg->vcache_ttl,
		.webhook_tolerance = cfg->webhook_tolerance,
		.set_audience = cfg->set_audience,
	};
	for (size_t i = 0; i < cfg->n_forward_claims; i++)
		rvk_api_settings_forward(s, cfg->forward_claims[i].name,
		                         cfg->forward_claims[i].value);
}
