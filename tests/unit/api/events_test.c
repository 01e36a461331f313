/* The Standard Webhooks envelope and RFC 3339 timestamps (api/events.c). */
#include <stdio.h>
#include <string.h>

#include "api/events.h"
#include "tests/support/tap.h"

TAP_TEST(rfc3339)
{
	int64_t t = 0;
	TAP_CHECK(rvk_events_rfc3339("2026-12-06T11:00:00Z", &t) && t == 1796554800);
	TAP_CHECK(rvk_events_rfc3339("2026-12-06T11:00:00.123456Z", &t) && t == 1796554800);
	TAP_CHECK(rvk_events_rfc3339("2026-12-06t12:30:00+01:30", &t) && t == 1796554800);
	TAP_CHECK(rvk_events_rfc3339("2026-12-06T09:00:00-02:00", &t) && t == 1796554800);
	TAP_CHECK(!rvk_events_rfc3339("2026-12-06T11:00:00", &t));      /* no offset */
	TAP_CHECK(!rvk_events_rfc3339("2026-02-30T11:00:00Z", &t));
	TAP_CHECK(!rvk_events_rfc3339("2026-12-06T11:00:60Z", &t));
	TAP_CHECK(!rvk_events_rfc3339("2026-12-06T11:00:00.Z", &t));
	TAP_CHECK(!rvk_events_rfc3339("2026-12-06T11:00:00Zx", &t));
	TAP_CHECK(!rvk_events_rfc3339("1796554800", &t));
	TAP_CHECK(!rvk_events_rfc3339("", &t));
}

static rvk_result_t
parse(const char *body, rvk_revocation_t **revs, size_t *n, char *err, size_t errlen)
{
	static rvk_issuer_t *is;
	static rvk_issuer_t *v[1];
	if (!is) {
		is = rvk_issuer_new("https://i");
		v[0] = is;
	}
	rvk_issuers_t set = { .n = 1, .v = v };
	rvk_events_opts_t o = { .issuers = &set, .leeway = 30, .max_token_lifetime = 3600,
	                        .now = 1796554900, .default_at = 1796554899,
	                        .source = RVK_SRC_WEBHOOK };
	return rvk_events_parse(body, strlen(body), &o, revs, n, err, errlen);
}

TAP_TEST(envelope)
{
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[256];
	TAP_CHECK_INT(parse("{\"type\":\"session.revoked\",\"timestamp\":\"2026-12-06T11:00:00Z\","
	                    "\"data\":{\"sid\":\"s1\"}}", &revs, &n, err, sizeof(err)), RVK_OK);
	TAP_CHECK_INT(n, 1);
	TAP_CHECK_INT(revs[0].type, RVK_REV_SESSION);
	TAP_CHECK_STR(revs[0].id, "s1");
	TAP_CHECK_INT(revs[0].revoked_at, 1796554800);
	rvk_events_free(revs, n);
	/* data's own at wins; no timestamp: the default */
	TAP_CHECK_INT(parse("{\"type\":\"subject.revoked\",\"timestamp\":\"2026-12-06T11:00:00Z\","
	                    "\"data\":{\"sub\":\"u\",\"at\":1796554700}}", &revs, &n, err,
	                    sizeof(err)), RVK_OK);
	TAP_CHECK_INT(revs[0].revoked_at, 1796554700);
	rvk_events_free(revs, n);
	TAP_CHECK_INT(parse("{\"type\":\"subject.revoked\",\"data\":{\"sub\":\"u\"}}", &revs, &n,
	                    err, sizeof(err)), RVK_OK);
	TAP_CHECK_INT(revs[0].revoked_at, 1796554899);
	rvk_events_free(revs, n);
	/* refusals */
	static const char *const bad[] = {
		"{\"type\":\"subject.revoked\",\"data\":[]}",
		"{\"type\":5,\"data\":{\"sub\":\"u\"}}",
		"{\"data\":{\"sub\":\"u\"}}",
		"{\"type\":\"subject.revoked\",\"timestamp\":\"yesterday\",\"data\":{\"sub\":\"u\"}}",
		"{\"type\":\"subject.revoked\",\"timestamp\":\"2030-01-01T00:00:00Z\",\"data\":{\"sub\":\"u\"}}",
		"{\"type\":\"nope\",\"data\":{\"sub\":\"u\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (parse(bad[i], &revs, &n, err, sizeof(err)) != RVK_EINVAL)
			TAP_FAIL_AT("case %zu accepted", i);
}

int
main(void)
{
	return tap_main(TAP_LIST(rfc3339, envelope));
}
