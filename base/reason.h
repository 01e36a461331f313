/*
 * reason.h - the verdicts of REFERENCE §3, as data.
 *
 * RVK_REASON_OK means "allow". Every other value is a deny whose text,
 * rvk_reason_str(), is exactly the REFERENCE's reason string; rvk_reason_metric()
 * is the same with spaces as '_' (the `result` label of
 * revokd_decisions_total). The enum order is the REFERENCE's check order.
 *
 * Threads: pure functions.
 */
#ifndef RVK_BASE_REASON_H
#define RVK_BASE_REASON_H

typedef enum rvk_reason {
	RVK_REASON_OK = 0,
	/* step 1: format */
	RVK_REASON_TOO_LARGE,
	RVK_REASON_MALFORMED,
	/* step 2: issuer */
	RVK_REASON_UNKNOWN_ISSUER,
	/* step 3: key and algorithm */
	RVK_REASON_UNSUPPORTED_ALG,
	RVK_REASON_UNKNOWN_KEY,
	RVK_REASON_UNSUPPORTED_CRIT,
	/* step 4: signature */
	RVK_REASON_BAD_SIGNATURE,
	/* step 5: claims */
	RVK_REASON_MISSING_EXP,
	RVK_REASON_MISSING_IAT,
	RVK_REASON_EXPIRED,
	RVK_REASON_NOT_YET_VALID,
	RVK_REASON_ISSUED_IN_FUTURE,
	RVK_REASON_LIFETIME_TOO_LONG,
	RVK_REASON_BAD_AUDIENCE,
	RVK_REASON_WRONG_TYPE,
	RVK_REASON_MISSING_JTI,
	/* step 6: revocations */
	RVK_REASON_TOKEN_REVOKED,
	RVK_REASON_SESSION_REVOKED,
	RVK_REASON_SUBJECT_REVOKED,
	RVK_REASON_ISSUER_REVOKED,
	RVK_REASON_KEY_REVOKED,
	RVK_REASON_COUNT
} rvk_reason_t;

/* Returns: the REFERENCE reason text ("token expired"), "allow" for OK. */
const char *rvk_reason_str(rvk_reason_t r);
/* Returns: the metric label ("token_expired"), "allow" for OK. */
const char *rvk_reason_metric(rvk_reason_t r);

#endif
