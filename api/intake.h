/*
 * intake.h - the signed-intake pipeline the four intake routes share
 * (back-channel logout, SET, webhook, Keycloak push; REFERENCE §5.1-5.5):
 *
 *   verify    a compact JWS from a configured issuer: parse (held to
 *             max_token_bytes before any decoding), the issuer its iss
 *             names, signature under an RCU read section  (rvk_intake_verify)
 *   claim     the message's replay slot (api/replay.h)   (rvk_intake_claim)
 *   record    its revocations as one batch (api/take.h), then settle the
 *             slot: done on success, forgotten on failure so the sender's
 *             retry is taken                (rvk_intake_record / _settle)
 *
 * Each handler keeps only what its standard adds: how the message arrives
 * (a form field, a body, a header), its claim checks (auth/logout.c,
 * auth/set.c, keycloak_push.c, the webhook signature), what a replay
 * answers, and the shape of its errors. (Keycloak chooses its issuer by
 * `resource`, and webhooks are HMAC-signed JSON: those two use the slot
 * half only.)
 *
 * Threads: rvk_intake_record blocks on the store (a `blocking` route's
 * waiter thread); everything else may run on an MHD worker.
 */
#ifndef RVK_API_INTAKE_H
#define RVK_API_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/app.h"
#include "api/handler.h"
#include "api/replay.h"
#include "auth/jws.h"
#include "base/reason.h"
#include "base/result.h"
#include "store/store.h"

typedef enum rvk_intake_verdict {
	RVK_INTAKE_OK = 0,
	RVK_INTAKE_TOO_LARGE,        /* over max_token_bytes, nothing decoded */
	RVK_INTAKE_MALFORMED,        /* not a compact JWS (step 1) */
	RVK_INTAKE_NO_ISS,           /* no iss, or not a string */
	RVK_INTAKE_UNKNOWN_ISSUER,   /* iss names no configured issuer */
	RVK_INTAKE_UNVERIFIED,       /* algorithm, key or signature (steps 3-4) */
} rvk_intake_verdict_t;

/*
 * Parses jose (len bytes, borrowed) and verifies it with the keys of the
 * issuer its iss names.
 * Returns: RVK_INTAKE_OK with *j (owned: rvk_jws_fini) and *is (borrowed
 * from live->issuers: the caller holds live); otherwise the verdict, with *why the REFERENCE §3
 * reason of an RVK_INTAKE_UNVERIFIED, and nothing to release.
 */
rvk_intake_verdict_t rvk_intake_verify(const rvk_app_live_t *live, const char *jose,
                                       size_t len, rvk_jws_t *j,
                                       const rvk_issuer_t **is, rvk_reason_t *why);

/* A message's replay slot. Strings are borrowed and must outlive it. */
typedef struct rvk_intake {
	rvk_syncmap_t *seen;         /* app->seen; NULL: no replay memory */
	char kind;                   /* RVK_REPLAY_* */
	const char *iss;             /* "" for webhook-ids */
	const char *id;              /* the message's identity (jti, id) */
	int64_t until;               /* remembered until then */
	const char *what;            /* "SET", "push": for the 503 message */
} rvk_intake_t;

/*
 * Claims the slot. Returns: RVK_REPLAY_FRESH (claimed - or no replay
 * memory - record then settle), RVK_REPLAY_DONE (taken before; *note, if
 * note is not NULL, is what the first settle stored), RVK_REPLAY_PENDING
 * (another request is taking it: rvk_intake_reply_pending).
 */
rvk_replay_state_t rvk_intake_claim(const rvk_intake_t *in, int64_t now,
                                    int64_t *note);

/* After a FRESH claim: done (r == RVK_OK, with note >= 0) or forgotten. */
void rvk_intake_settle(const rvk_intake_t *in, rvk_result_t r, int64_t note);

/*
 * After a FRESH claim: records revs (borrowed, 1 <= n <= RVK_STORE_MAX_BATCH)
 * with rvk_take_record, then settles the slot.
 * Returns: rvk_take_record's result (RVK_OK: answer 2xx; else
 * rvk_reply_failure).
 */
rvk_result_t rvk_intake_record(const rvk_app_t *app, const rvk_intake_t *in,
                               const rvk_revocation_t *revs, size_t n);

/* Answers a PENDING claim: 503 server_error "the same <what> is being
 * taken; retry", Retry-After: 1. */
void rvk_intake_reply_pending(rvk_req_t *req, const rvk_intake_t *in);

#endif
