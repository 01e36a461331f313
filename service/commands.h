/*
 * commands.h - the subcommands other than `serve` (docs/CONFIGURATION.md §1).
 *
 * Each takes argv with argv[0] = the subcommand name and returns the exit
 * code: 0 success (check: allow), 1 runtime failure (check: deny), 2 usage
 * or configuration error.
 *
 * Threads: main thread only.
 */
#ifndef RVK_SERVICE_COMMANDS_H
#define RVK_SERVICE_COMMANDS_H

#include <stdbool.h>

#include "service/config.h"

int rvk_cmd_check(int argc, char **argv);
/* revoke, unrevoke, list: the admin API's client (one table, client.c).
 * Requires: rvk_cmd_client_has(argv[0]). */
int rvk_cmd_client(int argc, char **argv);
/* Returns: whether cmd is one of the client's subcommands. */
bool rvk_cmd_client_has(const char *cmd);

/* Dev mode (docs/CONFIGURATION.md §2): makes or reuses DIR's keys and secrets and builds
 * the config. Returns: 0 and *out, or an exit code after a message. */
int rvk_dev_prepare(const char *dir, rvk_config_t **out);
/* Writes the configuration dev mode runs with, *cfgp after the serve flags,
 * to DIR/revokd.json (keys and secrets by file reference) and replaces *cfgp
 * with that file parsed back. Returns: 0, or an exit code after a message. */
int rvk_dev_write_config(rvk_config_t **cfgp);
/* Prints the demo token, the curl lines for the bound ports, and the
 * `revokd check`, admin client and `revokd serve --config` lines. */
void rvk_dev_announce(const rvk_config_t *cfg, unsigned port, unsigned admin_port);

/* Versions of libraries that have no header constant. */
const char *rvk_version_sqlite(void);
const char *rvk_version_openssl(void);

#endif
