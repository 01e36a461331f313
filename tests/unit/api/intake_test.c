/*
 * The intake pipeline (api/intake.c): the verdicts of rvk_intake_verify
 * before any key is needed, and the replay slot's life - claim, record
 * (a failed record forgets the slot so the retry is taken), settle.
 */
#include <string.h>

#include "api/intake.h"
#include "base/rcu.h"
#include "tests/support/tap.h"

/* {"alg":"HS256"} . payload . "sig" */
#define HDR "eyJhbGciOiJIUzI1NiJ9"

TAP_TEST(verify_verdicts)
{
	rvk_issuers_t none = { 0 };
	rvk_app_live_t live = { .issuers = &none,
	                        .policy = { .max_token_bytes = 64 } };
	rvk_jws_t j;
	const rvk_issuer_t *is = NULL;
	rvk_reason_t why = RVK_REASON_OK;
	TAP_CHECK_INT(rvk_intake_verify(&live, "abc", 3, &j, &is, &why), RVK_INTAKE_MALFORMED);
	char big[100];
	memset(big, 'a', sizeof(big));
	TAP_CHECK_INT(rvk_intake_verify(&live, big, sizeof(big), &j, &is, &why),
	              RVK_INTAKE_TOO_LARGE);
	/* {"sub":"x"}: no iss */
	const char *noiss = HDR ".eyJzdWIiOiJ4In0.c2ln";
	TAP_CHECK_INT(rvk_intake_verify(&live, noiss, strlen(noiss), &j, &is, &why),
	              RVK_INTAKE_NO_ISS);
	/* {"iss":"x"}: not configured */
	const char *unknown = HDR ".eyJpc3MiOiJ4In0.c2ln";
	TAP_CHECK_INT(rvk_intake_verify(&live, unknown, strlen(unknown), &j, &is, &why),
	              RVK_INTAKE_UNKNOWN_ISSUER);
	TAP_CHECK(is == NULL);
}

TAP_TEST(slot_claim_record_settle)
{
	rvk_syncmap_t *m = rvk_syncmap_new(16, NULL);
	rvk_app_t app = { .seen = m };          /* no store: every record fails */
	rvk_intake_t in = { .seen = m, .kind = RVK_REPLAY_SET, .iss = "iss",
	                    .id = "j1", .until = 200, .what = "SET" };
	TAP_CHECK_INT(rvk_intake_claim(&in, 100, NULL), RVK_REPLAY_FRESH);
	TAP_CHECK_INT(rvk_intake_claim(&in, 100, NULL), RVK_REPLAY_PENDING);
	rvk_revocation_t rev = { .type = RVK_REV_TOKEN, .iss = (char *)"iss",
	                         .id = (char *)"t", .source = RVK_SRC_SET };
	TAP_CHECK_INT(rvk_intake_record(&app, &in, &rev, 1), RVK_EIO);
	/* forgotten: the sender's retry is taken */
	TAP_CHECK_INT(rvk_intake_claim(&in, 100, NULL), RVK_REPLAY_FRESH);
	rvk_intake_settle(&in, RVK_OK, 3);
	int64_t note = -1;
	TAP_CHECK_INT(rvk_intake_claim(&in, 150, &note), RVK_REPLAY_DONE);
	TAP_CHECK_INT(note, 3);
	/* no replay memory: always fresh, settle is a no-op */
	rvk_intake_t bare = in;
	bare.seen = NULL;
	TAP_CHECK_INT(rvk_intake_claim(&bare, 150, NULL), RVK_REPLAY_FRESH);
	rvk_intake_settle(&bare, RVK_EIO, 0);
	rvk_syncmap_free(m);
}

int
main(void)
{
	rvk_rcu_thread_online();
	return tap_main(TAP_LIST(verify_verdicts, slot_claim_record_settle));
}
