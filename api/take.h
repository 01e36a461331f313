/*
 * take.h - how every endpoint that takes revocations hands them over: the
 * ledger (store.h: committed, then applied), then one log line and one count
 * per revocation taken, with its source (SPEC §6).
 *
 * Threads: blocks on the store writer; call only from a `blocking` route
 * (a waiter thread), never inside an RCU read section.
 */
#ifndef RVK_API_TAKE_H
#define RVK_API_TAKE_H

#include <stddef.h>

#include "api/app.h"
#include "base/result.h"
#include "store/store.h"

/*
 * Records n revocations (borrowed) as one all-or-nothing batch.
 * Requires: 1 <= n <= RVK_STORE_MAX_BATCH.
 * Returns: RVK_OK (durable and visible: the caller may answer 2xx), or the
 * store's failure (RVK_EIO, RVK_ESHUTDOWN; answer 503). A NULL store is
 * RVK_EIO.
 */
rvk_result_t rvk_take_record(const rvk_app_t *app, const rvk_revocation_t *revs,
                             size_t n);

#endif
