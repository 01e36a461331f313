/*
 * commands.h - the subcommands other than `serve` (SPEC §1).
 *
 * Each takes argv with argv[0] = the subcommand name and returns the exit
 * code: 0 success (check: allow), 1 runtime failure (check: deny), 2 usage
 * or configuration error.
 *
 * Threads: main thread only.
 */
#ifndef RVK_SERVICE_COMMANDS_H
#define RVK_SERVICE_COMMANDS_H

#include "service/config.h"

int rvk_cmd_check(int argc, char **argv);
int rvk_cmd_client(const char *cmd, int argc, char **argv);

/* Dev mode (SPEC §1.1): makes or reuses DIR's keys and secrets and builds
 * the config. Returns: 0 and *out, or an exit code after a message. */
int rvk_dev_prepare(const char *dir, rvk_config_t **out);
/* Prints the demo token and the curl lines for the bound port. */
void rvk_dev_announce(const rvk_config_t *cfg, unsigned port);

/* Versions of libraries that have no header constant. */
const char *rvk_version_sqlite(void);
const char *rvk_version_openssl(void);

#endif
