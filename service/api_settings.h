/*
 * api_settings.h - the configuration handed down to api/ (api/settings.h):
 * the one place that knows both rvk_config_t and rvk_api_settings_t, so
 * api/ never includes service/.
 *
 * Threads: the caller's (main thread: at start, and for each SIGHUP
 * reload's live configuration before it is published).
 */
#ifndef RVK_SERVICE_API_SETTINGS_H
#define RVK_SERVICE_API_SETTINGS_H

#include "api/settings.h"
#include "service/config.h"

/*
 * Fills s from cfg. Strings are borrowed from cfg, which must outlive s;
 * s's own allocations are freed by rvk_api_settings_fini.
 * Requires: cfg, s not NULL; s zeroed.
 */
void rvk_api_settings_from_config(const rvk_config_t *cfg, rvk_api_settings_t *s);

#endif
