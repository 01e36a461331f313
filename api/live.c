/*
 * live.c - references to the live configuration (api/app.h, rvk_app_live_t).
 *
 * A hold is taken inside an RCU read section: the publication's reference
 * is dropped only after a grace period that follows the swap, so a reader
 * that found the object in a read section finds it with refs >= 1 and its
 * increment cannot race with the last drop.
 */
#include "api/app.h"
#include "base/check.h"
#include "base/rcu.h"

const rvk_app_live_t *
rvk_app_live_hold(const rvk_app_t *app)
{
	RVK_REQUIRE(app != NULL);
	rvk_rcu_read_lock();
	rvk_app_live_t *live = rvk_rcu_dereference(((rvk_app_t *)app)->live);
	RVK_REQUIRE(live != NULL);
	unsigned was = __atomic_fetch_add(&live->refs, 1, __ATOMIC_RELAXED);
	RVK_REQUIRE(was > 0);
	rvk_rcu_read_unlock();
	return live;
}

void
rvk_app_live_drop(const rvk_app_live_t *live)
{
	if (!live)
		return;
	rvk_app_live_t *l = (rvk_app_live_t *)live;
	/* Release on every drop, acquire on the last: what a holder did with
	 * the object happens before release() frees it. */
	if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
		l->release(l);
}
