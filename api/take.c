/*
 * take.c - record, then log and count (take.h).
 */
#include <stdio.h>

#include "api/metrics.h"
#include "api/take.h"
#include "base/check.h"
#include "base/log.h"

void
rvk_take_recorded(const rvk_revocation_t *revs, size_t n, rvk_result_t r)
{
	if (r != RVK_OK) {
		rvk_log(RVK_LOG_ERROR, "revocations not recorded", "source",
		        rvk_source_name(revs[0].source), "error", rvk_result_str(r), NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char at[24];
		snprintf(at, sizeof(at), "%lld", (long long)revs[i].revoked_at);
		rvk_log(RVK_LOG_INFO, "revocation taken", "source",
		        rvk_source_name(revs[i].source), "type",
		        rvk_rev_type_name(revs[i].type), "iss", revs[i].iss, "id",
		        revs[i].id, "revoked_at", at, NULL);
		rvk_metrics_taken(revs[i].source, 1);
	}
}

rvk_result_t
rvk_take_record(const rvk_app_t *app, const rvk_revocation_t *revs, size_t n)
{
	RVK_REQUIRE(n >= 1 && n <= RVK_STORE_MAX_BATCH);
	if (!app->store)
		return RVK_EIO;
	rvk_result_t r = rvk_store_record(app->store, revs, n);
	rvk_take_recorded(revs, n, r);
	return r;
}

rvk_result_t
rvk_take_submit(const rvk_app_t *app, const rvk_revocation_t *revs, size_t n,
                rvk_store_done_fn done, void *arg)
{
	RVK_REQUIRE(n >= 1 && n <= RVK_STORE_MAX_BATCH);
	if (!app->store)
		return RVK_EIO;
	return rvk_store_record_async(app->store, revs, n, done, arg);
}
