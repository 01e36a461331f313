/*
 * take.h - how every endpoint that takes revocations hands them over: the
 * ledger (store.h: committed, then applied), then one log line and one count
 * per revocation taken, with its source (REFERENCE §6).
 *
 * Threads: rvk_take_record blocks on the store writer; call it only from a
 * `blocking` route (a waiter thread), never inside an RCU read section.
 * rvk_take_async never blocks: the `async` routes' way.
 */
#ifndef RVK_API_TAKE_H
#define RVK_API_TAKE_H

#include <stddef.h>

#include "api/app.h"
#include "api/handler.h"
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
 * rvk_take_record for an `async` route (handler.h), which must not block:
 * takes revs (owned from here on: freed by rvk_take_batch_free), suspends
 * req, and queues the batch with rvk_store_record_async_with. When the
 * store has answered - or at once, when the batch could not be queued (no
 * store, stopping) - req is resumed and finish runs on its worker, where
 * rvk_take_settle gives the outcome. A single revocation is logged and
 * counted by the thread that completed it (the store's writer, or this
 * one), a batch of several by rvk_take_settle; either way before the
 * answer. extra is the caller's (kept with the batch, never freed here).
 * Requires: req's route is async; 1 <= n <= RVK_STORE_MAX_BATCH.
 */
typedef struct rvk_take_batch {
	rvk_revocation_t *revs;
	size_t n;
	rvk_result_t result;    /* RVK_OK: durable and visible: answer 2xx */
	void *extra;
	/* rvk_take_async_shown only, else NULL: n entries, what is stored
	 * for each revocation right after the commit (store.h,
	 * rvk_store_record_async_with); an entry with iss NULL could not be
	 * read. Owned by the batch. */
	rvk_revocation_t *shown;
} rvk_take_batch_t;

void rvk_take_async(rvk_req_t *req, rvk_revocation_t *revs, size_t n,
                    void *extra, rvk_handler_fn finish);

/* rvk_take_async for an answer that shows the revocations: the batch's
 * shown holds what the store has for each once it is committed. */
void rvk_take_async_shown(rvk_req_t *req, rvk_revocation_t *revs, size_t n,
                          void *extra, rvk_handler_fn finish);

/* In finish: detaches the batch from req, and logs and counts it (or logs
 * its failure) unless that was done already (a single revocation).
 * Returns: the batch (owned: rvk_take_batch_free). */
rvk_take_batch_t *rvk_take_settle(rvk_req_t *req);
/* Frees the batch and its revocations (not extra). NULL is fine. */
void rvk_take_batch_free(rvk_take_batch_t *b);

#endif
