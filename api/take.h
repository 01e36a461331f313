/*
 * take.h - how every endpoint that takes revocations hands them over: the
 * ledger (store.h: committed, then applied), then one log line and one count
 * per revocation taken, with its source (SPEC §6).
 *
 * Threads: rvk_take_record blocks on the store writer; call it only from a
 * `blocking` route (a waiter thread), never inside an RCU read section.
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

/*
 * rvk_take_record in two halves, for a handler that must not block (an
 * `async` route, handler.h): rvk_take_submit queues the batch
 * (rvk_store_record_async: done(arg, result) runs on the store writer), and
 * once done has been called - or rvk_take_submit failed - the caller calls
 * rvk_take_recorded with the result, on any thread: it logs and counts, or
 * logs the failure.
 * Returns: RVK_OK (done will be called), RVK_EIO (no store), RVK_ESHUTDOWN
 * (done will not be called).
 */
rvk_result_t rvk_take_submit(const rvk_app_t *app, const rvk_revocation_t *revs,
                             size_t n, rvk_store_done_fn done, void *arg);
void rvk_take_recorded(const rvk_revocation_t *revs, size_t n, rvk_result_t r);

#endif
