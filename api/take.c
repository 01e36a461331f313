/*
 * take.c - record, then log and count (take.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/events.h"
#include "api/metrics.h"
#include "api/take.h"
#include "base/check.h"
#include "base/log.h"
#include "base/mem.h"

/* Logs and counts a batch; its lines go out in as few writes as they fit
 * (rvk_log_hold). */
static void
recorded(const rvk_revocation_t *revs, size_t n, rvk_result_t r)
{
	if (r != RVK_OK) {
		rvk_log(RVK_LOG_ERROR, "revocations not recorded", "source",
		        rvk_source_name(revs[0].source), "error", rvk_result_str(r), NULL);
		return;
	}
	rvk_log_hold();
	for (size_t i = 0; i < n; i++) {
		char at[24];
		snprintf(at, sizeof(at), "%lld", (long long)revs[i].revoked_at);
		rvk_log(RVK_LOG_INFO, "revocation taken", "source",
		        rvk_source_name(revs[i].source), "type",
		        rvk_rev_type_name(revs[i].type), "iss", revs[i].iss, "id",
		        revs[i].id, "revoked_at", at, NULL);
		rvk_metrics_taken(revs[i].source, 1);
	}
	rvk_log_flush();
}

rvk_result_t
rvk_take_record(const rvk_app_t *app, const rvk_revocation_t *revs, size_t n)
{
	RVK_REQUIRE(n >= 1 && n <= RVK_STORE_MAX_BATCH);
	if (!app->store)
		return RVK_EIO;
	rvk_result_t r = rvk_store_record(app->store, revs, n);
	recorded(revs, n, r);
	return r;
}

/* The batch between its submission and its answer. */
struct pending {
	rvk_take_batch_t b;
	rvk_req_t *req;
};

/*
 * On the store writer after the commit or rollback (or on the worker when
 * the batch was never queued). A single revocation is logged and counted
 * here, where the lines of a group commit's single ones go out in one
 * write (store.h): one write(2) per request on the workers was ~5% of the
 * server's CPU at 64 single-event admin clients (docs/BENCHMARKS.md,
 * "Single admin events: where the CPU went"). A batch of several is left to
 * its worker (rvk_take_settle): its lines are written together anyway, and
 * formatting a thousand of them on the writer, which every request waits
 * for, slowed 64 webhook clients.
 */
static void
submitted(void *arg, rvk_result_t r)
{
	struct pending *p = arg;
	p->b.result = r;
	if (p->b.n == 1)
		recorded(p->b.revs, p->b.n, r);
}

/* Then, with the lines written: hands the request back to its worker. */
static void
wake(void *arg)
{
	struct pending *p = arg;
	rvk_req_resume(p->req);
}

static void
take_async(rvk_req_t *req, rvk_revocation_t *revs, size_t n, void *extra,
           rvk_handler_fn finish, bool show)
{
	RVK_REQUIRE(n >= 1 && n <= RVK_STORE_MAX_BATCH && !req->ctx);
	struct pending *p = rvk_malloc(sizeof(*p));
	*p = (struct pending){ .b = { .revs = revs, .n = n, .extra = extra },
	                       .req = req };
	if (show)
		p->b.shown = rvk_calloc(n, sizeof(*p->b.shown));
	req->ctx = p;
	rvk_req_suspend(req, finish);
	rvk_store_async_t how = { .done = submitted, .wake = wake, .arg = p,
	                          .shown = p->b.shown };
	rvk_result_t r = req->app->store
		? rvk_store_record_async_with(req->app->store, revs, n, &how)
		: RVK_EIO;
	if (r != RVK_OK) {              /* not queued: answer 503 at once */
		submitted(p, r);
		wake(p);
	}
}

void
rvk_take_async(rvk_req_t *req, rvk_revocation_t *revs, size_t n, void *extra,
               rvk_handler_fn finish)
{
	take_async(req, revs, n, extra, finish, false);
}

void
rvk_take_async_shown(rvk_req_t *req, rvk_revocation_t *revs, size_t n,
                     void *extra, rvk_handler_fn finish)
{
	take_async(req, revs, n, extra, finish, true);
}

rvk_take_batch_t *
rvk_take_settle(rvk_req_t *req)
{
	struct pending *p = req->ctx;
	RVK_REQUIRE(p != NULL);
	req->ctx = NULL;
	if (p->b.n != 1)        /* a single one was logged by submitted */
		recorded(p->b.revs, p->b.n, p->b.result);
	return &p->b;
}

void
rvk_take_batch_free(rvk_take_batch_t *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->shown && i < b->n; i++)
		rvk_revocation_fini(&b->shown[i]);
	free(b->shown);
	rvk_events_free(b->revs, b->n);
	free((struct pending *)(void *)b);       /* b is its first member */
}
