/* Replay memory (api/replay.c): claim, done with a note, forget, expiry. */
#include "api/replay.h"
#include "base/rcu.h"
#include "tests/support/tap.h"

TAP_TEST(claim_done_forget)
{
	rvk_syncmap_t *m = rvk_syncmap_new(16, NULL);
	int64_t note = -1;
	TAP_CHECK_INT(rvk_replay_claim(m, RVK_REPLAY_LOGOUT, "iss", "j1", 200, 100),
	              RVK_REPLAY_FRESH);
	TAP_CHECK_INT(rvk_replay_claim(m, RVK_REPLAY_LOGOUT, "iss", "j1", 200, 100),
	              RVK_REPLAY_PENDING);
	/* other kinds and issuers are other names; "is"+"sj1" is not "iss"+"j1" */
	TAP_CHECK_INT(rvk_replay_claim(m, RVK_REPLAY_SET, "iss", "j1", 200, 100),
	              RVK_REPLAY_FRESH);
	TAP_CHECK_INT(rvk_replay_claim(m, RVK_REPLAY_LOGOUT, "is", "sj1", 200, 100),
	              RVK_REPLAY_FRESH);
	rvk_replay_done(m, RVK_REPLAY_LOGOUT, "iss", "j1", 200, 7);
	TAP_CHECK_INT(rvk_replay_claim_note(m, RVK_REPLAY_LOGOUT, "iss", "j1", 200, 150,
	                                    &note), RVK_REPLAY_DONE);
	TAP_CHECK_INT(note, 7);
	/* expired entries no longer count, swept or not */
	TAP_CHECK_INT(rvk_replay_claim(m, RVK_REPLAY_LOGOUT, "iss", "j1", 400, 200),
	              RVK_REPLAY_FRESH);
	rvk_replay_forget(m, RVK_REPLAY_LOGOUT, "iss", "j1");
	TAP_CHECK_INT(rvk_replay_claim(m, RVK_REPLAY_LOGOUT, "iss", "j1", 400, 200),
	              RVK_REPLAY_FRESH);
	rvk_syncmap_free(m);
}

int
main(void)
{
	rvk_rcu_thread_online();
	return tap_main(TAP_LIST(claim_done_forget));
}
