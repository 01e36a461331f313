/*
 * decide.h - REFERENCE §3 steps 1-6 without the verified cache: for callers that
 * decide a token once (introspection, `revokd check`). /auth has its own
 * path (auth_handler.c) because it caches step 1-5 results.
 *
 * Threads: any thread; takes its own RCU read section.
 */
#ifndef RVK_API_DECIDE_H
#define RVK_API_DECIDE_H

#include <stdbool.h>

#include "auth/access.h"
#include "cache/revtable.h"

/*
 * Returns: RVK_REASON_OK or the first failing reason. *verified tells
 * whether steps 1-5 passed; only then is *out filled (its claims are
 * trustworthy even when step 6 denied) and must be released with
 * rvk_access_fini.
 */
rvk_reason_t rvk_decide(const rvk_issuers_t *issuers, const rvk_policy_t *policy,
                        rvk_revtable_t *revtable, const char *token, size_t len,
                        int64_t now, rvk_access_t *out, bool *verified);

/* The step-6 query of a verified token (strings borrowed from acc). */
void rvk_decide_query(const rvk_access_t *acc, rvk_rev_query_t *q);

#endif
