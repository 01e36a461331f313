/*
 * fuzz_config.c - the configuration file (service/config.c, REFERENCE §2) from
 * any bytes: rvk_config_parse_string, then rvk_config_validate on what
 * parsed. Parsing does no I/O (files it names are read later), so any input
 * is safe here. The invariants: a refusal is RVK_EINVAL with a message, an
 * accepted config has absolute paths (resolved against the folder).
 */
#include <stdint.h>
#include <string.h>

#include "base/check.h"
#include "service/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rvk_config_t *cfg = NULL;
	char err[512] = "";
	rvk_result_t r = rvk_config_parse_string((const char *)data, size,
	                                         "fuzz.json", "/etc/revokd", &cfg,
	                                         err, sizeof(err));
	if (r != RVK_OK) {
		RVK_REQUIRE(r == RVK_EINVAL && err[0] != '\0' && cfg == NULL);
		return 0;
	}
	RVK_REQUIRE(cfg != NULL && cfg->data_dir && cfg->data_dir[0] == '/');
	char verr[512] = "";
	r = rvk_config_validate(cfg, verr, sizeof(verr));
	RVK_REQUIRE(r == RVK_OK || (r == RVK_EINVAL && verr[0] != '\0'));
	(void)rvk_config_threads(cfg);
	rvk_config_free(cfg);
	return 0;
}
