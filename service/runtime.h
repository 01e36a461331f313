/*
 * runtime.h - the running service: every module built from a config, wired
 * together, started, and torn down in the reverse order.
 *
 * Start order: issuers (keys) -> revocation table -> store (loads every live
 * revocation) -> verified cache -> listeners -> sweeper. Stop order: stop
 * listeners (drain <= 5 s) -> sweeper -> flush and close the store -> RCU
 * barrier -> free.
 *
 * Threads: main thread only.
 */
#ifndef RVK_SERVICE_RUNTIME_H
#define RVK_SERVICE_RUNTIME_H

#include "api/app.h"
#include "api/server.h"
#include "service/config.h"

typedef struct rvk_runtime rvk_runtime_t;

/*
 * Builds everything and starts serving.
 * Returns: 0, or the process exit code (1 runtime failure, 2 configuration
 * error) after printing "revokd: <what>" to stderr.
 */
int rvk_runtime_start(rvk_config_t *cfg, rvk_runtime_t **out);
/* SIGHUP with the same configuration: reloads key files; logs what
 * changed. */
void rvk_runtime_reload(rvk_runtime_t *rt);

/*
 * SIGHUP: applies fresh (parsed from the same file, the command-line flags
 * applied again, validated; ownership transferred) when only live keys
 * differ from the running configuration, as a whole, and logs "config
 * reloaded" with the keys that changed; otherwise refuses it as a whole
 * and logs "config reload refused" (docs/OPERATIONS.md, "Change the
 * configuration without a restart"). Main thread.
 */
void rvk_runtime_reload_config(rvk_runtime_t *rt, rvk_config_t *fresh);

/* Logs "config reload refused" with why and counts it. Main thread. */
void rvk_runtime_reload_refused(rvk_runtime_t *rt, const char *why);
/* Stops every thread and closes the store. Requires: the process exits
 * after it (the revocation table is left to the kernel outside sanitizer
 * builds: cache/revtable.h, rvk_revtable_free_at_exit). Main thread. */
void rvk_runtime_stop(rvk_runtime_t *rt);
unsigned rvk_runtime_port(rvk_runtime_t *rt, int admin);

/* SIGHUP: reads the admin tokens and webhook secrets again
 * (rvk_secrets_reload_app). Main thread only. */
void rvk_runtime_reload_secrets(rvk_runtime_t *rt);

#endif
