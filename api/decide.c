#include <string.h>

#include "api/decide.h"
#include "base/rcu.h"

static const char *
str(const char *s, size_t *len)
{
	*len = s ? strlen(s) : 0;
	return s;
}

void
rvk_decide_query(const rvk_access_t *acc, rvk_rev_query_t *q)
{
	const rvk_jws_t *j = &acc->jws;
	q->iss = str(j->iss, &q->iss_len);
	q->jti = str(j->jti, &q->jti_len);
	q->sid = str(j->sid, &q->sid_len);
	q->sub = str(j->sub, &q->sub_len);
	q->kid = str(acc->key_kid, &q->kid_len);
	q->iat = j->iat;
}

rvk_reason_t
rvk_decide(const rvk_issuers_t *issuers, const rvk_policy_t *policy,
           rvk_revtable_t *revtable, const char *token, size_t len, int64_t now,
           rvk_access_t *out, bool *verified)
{
	rvk_rcu_read_lock();
	rvk_reason_t r = rvk_access_verify(issuers, policy, token, len, now, out);
	rvk_rcu_read_unlock();
	*verified = r == RVK_REASON_OK;
	if (!*verified)
		return r;
	rvk_rev_query_t q;
	rvk_decide_query(out, &q);
	return rvk_revtable_check(revtable, &q, now);
}
