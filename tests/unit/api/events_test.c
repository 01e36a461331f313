/* The revocation event parser (api/events.c, REFERENCE §5.1): RFC 3339
 * timestamps, the Standard Webhooks envelope, every event kind with its
 * defaults, every refusal, the batch bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/events.h"
#include "base/clock.h"
#include "base/buf.h"
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

/* now 1796554900, leeway 30, max_token_lifetime 3600, default_at 1796554899
 * (parse() above). */
#define NOW 1796554900
#define DEF_AT 1796554899

/* Parses body, expecting one revocation; *rev is the caller's to fini. */
static bool
one(const char *body, rvk_revocation_t *rev)
{
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[256] = "";
	rvk_result_t r = parse(body, &revs, &n, err, sizeof(err));
	if (r != RVK_OK || n != 1) {
		TAP_FAIL_AT("refused (%d, n %zu): %s: %s", (int)r, n, err, body);
		rvk_events_free(revs, r == RVK_OK ? n : 0);
		return false;
	}
	*rev = revs[0];
	free(revs);
	return true;
}

/* Expects body refused with rc and exactly the message want; the outputs
 * stay untouched. */
static void
refused_at(int line, const char *body, rvk_result_t rc, const char *want)
{
	rvk_revocation_t *revs = (rvk_revocation_t *)1;
	size_t n = 77;
	char err[256] = "";
	rvk_result_t r = parse(body, &revs, &n, err, sizeof(err));
	if (r != rc || strcmp(err, want) != 0 || revs != (rvk_revocation_t *)1 || n != 77)
		TAP_FAIL_AT("line %d: %d \"%s\", expected %d \"%s\" (%s)", line, (int)r, err,
		            (int)rc, want, body);
	if (r == RVK_OK)
		rvk_events_free(revs, n);
}
#define refused(body, rc, want) refused_at(__LINE__, body, rc, want)

TAP_TEST(every_kind)
{
	rvk_revocation_t r;
	/* token: exp given */
	if (one("{\"type\":\"token.revoked\",\"jti\":\"j1\",\"exp\":1796556000,"
	        "\"reason\":\"leaked\"}", &r)) {
		TAP_CHECK_INT(r.type, RVK_REV_TOKEN);
		TAP_CHECK_STR(r.iss, "https://i");
		TAP_CHECK_STR(r.id, "j1");
		TAP_CHECK_INT(r.revoked_at, DEF_AT);
		TAP_CHECK_INT(r.expires_at, 1796556000);
		TAP_CHECK_STR(r.reason, "leaked");
		TAP_CHECK_INT(r.source, RVK_SRC_WEBHOOK);
		rvk_revocation_fini(&r);
	}
	/* token: no exp -> at + max_token_lifetime */
	if (one("{\"type\":\"token.revoked\",\"jti\":\"j1\",\"at\":1796554000}", &r)) {
		TAP_CHECK_INT(r.revoked_at, 1796554000);
		TAP_CHECK_INT(r.expires_at, 1796554000 + 3600);
		TAP_CHECK(r.reason == NULL);
		rvk_revocation_fini(&r);
	}
	/* token: an exp past any acceptable token is cut to now + leeway + lifetime */
	if (one("{\"type\":\"token.revoked\",\"jti\":\"j1\",\"exp\":9000000000}", &r)) {
		TAP_CHECK_INT(r.expires_at, NOW + 30 + 3600);
		rvk_revocation_fini(&r);
	}
	if (one("{\"type\":\"token.revoked\",\"jti\":\"j1\",\"exp\":0}", &r)) {
		TAP_CHECK_INT(r.expires_at, 0);
		rvk_revocation_fini(&r);
	}
	/* session, subject, issuer: at + max_token_lifetime */
	if (one("{\"type\":\"session.revoked\",\"iss\":\"https://i\",\"sid\":\"s1\","
	        "\"at\":1796554000,\"reason\":null}", &r)) {
		TAP_CHECK_INT(r.type, RVK_REV_SESSION);
		TAP_CHECK_STR(r.id, "s1");
		TAP_CHECK_INT(r.revoked_at, 1796554000);
		TAP_CHECK_INT(r.expires_at, 1796554000 + 3600);
		TAP_CHECK(r.reason == NULL);
		rvk_revocation_fini(&r);
	}
	if (one("{\"type\":\"subject.revoked\",\"sub\":\"u1\"}", &r)) {
		TAP_CHECK_INT(r.type, RVK_REV_SUBJECT);
		TAP_CHECK_STR(r.id, "u1");
		TAP_CHECK_INT(r.revoked_at, DEF_AT);
		TAP_CHECK_INT(r.expires_at, DEF_AT + 3600);
		rvk_revocation_fini(&r);
	}
	/* issuer: no ID member; an id-looking member is just unknown */
	if (one("{\"type\":\"issuer.revoked\",\"at\":1796554000,\"sid\":\"x\"}", &r)) {
		TAP_CHECK_INT(r.type, RVK_REV_ISSUER);
		TAP_CHECK_STR(r.id, "");
		TAP_CHECK_INT(r.expires_at, 1796554000 + 3600);
		rvk_revocation_fini(&r);
	}
	/* key: never expires; `at` is ignored whatever its type (REFERENCE §5.1) */
	static const char *const keys[] = {
		"{\"type\":\"key.revoked\",\"kid\":\"k1\"}",
		"{\"type\":\"key.revoked\",\"kid\":\"k1\",\"at\":\"yesterday\"}",
		"{\"type\":\"key.revoked\",\"kid\":\"k1\",\"at\":-5}",
		"{\"type\":\"key.revoked\",\"kid\":\"k1\",\"at\":99999999999}",
		"{\"type\":\"key.revoked\",\"kid\":\"k1\",\"at\":1.5}",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		if (!one(keys[i], &r))
			continue;
		TAP_CHECK_INT(r.type, RVK_REV_KEY);
		TAP_CHECK_STR(r.id, "k1");
		TAP_CHECK_INT(r.revoked_at, DEF_AT);
		TAP_CHECK_INT(r.expires_at, RVK_NEVER);
		rvk_revocation_fini(&r);
	}
	/* unknown members are ignored; at exactly now + leeway is accepted */
	if (one("{\"type\":\"subject.revoked\",\"sub\":\"u\",\"x\":[1,{}],\"at\":1796554930}",
	        &r)) {
		TAP_CHECK_INT(r.revoked_at, NOW + 30);
		rvk_revocation_fini(&r);
	}
}

TAP_TEST(ids)
{
	char body[600], id[300];
	rvk_revocation_t r;
	memset(id, 'a', 255);
	id[255] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"session.revoked\",\"sid\":\"%s\"}", id);
	if (one(body, &r)) {
		TAP_CHECK_INT(strlen(r.id), 255);
		rvk_revocation_fini(&r);
	}
	memset(id, 'a', 256);
	id[256] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"session.revoked\",\"sid\":\"%s\"}", id);
	refused(body, RVK_EINVAL, "events[0].sid: longer than 255 bytes");
	snprintf(body, sizeof(body), "{\"type\":\"key.revoked\",\"kid\":\"%s\"}", id);
	refused(body, RVK_EINVAL, "events[0].kid: longer than 255 bytes");
	refused("{\"type\":\"token.revoked\",\"jti\":\"\"}", RVK_EINVAL, "events[0].jti: empty");
	refused("{\"type\":\"subject.revoked\",\"sub\":\"\"}", RVK_EINVAL, "events[0].sub: empty");
	refused("{\"type\":\"key.revoked\",\"kid\":\"\"}", RVK_EINVAL, "events[0].kid: empty");
	refused("{\"type\":\"token.revoked\"}", RVK_EINVAL, "events[0].jti: missing");
	refused("{\"type\":\"session.revoked\",\"jti\":\"s\"}", RVK_EINVAL,
	        "events[0].sid: missing");
	refused("{\"type\":\"subject.revoked\",\"sub\":7}", RVK_EINVAL,
	        "events[0].sub: not a string");
	refused("{\"type\":\"key.revoked\",\"kid\":null}", RVK_EINVAL,
	        "events[0].kid: not a string");
}

TAP_TEST(refusals)
{
	refused("{\"sub\":\"u\"}", RVK_EINVAL, "events[0].type: missing");
	refused("{\"type\":1,\"sub\":\"u\"}", RVK_EINVAL, "events[0].type: not a string");
	refused("{\"type\":\"subject.deleted\",\"sub\":\"u\"}", RVK_EINVAL,
	        "events[0].type: unknown event type");
	refused("{\"type\":\"Subject.Revoked\",\"sub\":\"u\"}", RVK_EINVAL,
	        "events[0].type: unknown event type");
	refused("{\"type\":\"subject\",\"sub\":\"u\"}", RVK_EINVAL,
	        "events[0].type: unknown event type");
	refused("{\"type\":\"subject.revoked\",\"sub\":\"u\",\"iss\":\"https://j\"}", RVK_EINVAL,
	        "events[0].iss: not a configured issuer");
	refused("{\"type\":\"subject.revoked\",\"sub\":\"u\",\"iss\":[]}", RVK_EINVAL,
	        "events[0].iss: not a string");
	/* `at` of the other kinds: an integer, not negative, not in the future */
	refused("{\"type\":\"subject.revoked\",\"sub\":\"u\",\"at\":\"1796554000\"}", RVK_EINVAL,
	        "events[0].at: not an integer (Unix seconds)");
	refused("{\"type\":\"token.revoked\",\"jti\":\"j\",\"at\":1796554000.5}", RVK_EINVAL,
	        "events[0].at: not an integer (Unix seconds)");
	refused("{\"type\":\"issuer.revoked\",\"at\":-1}", RVK_EINVAL, "events[0].at: negative");
	refused("{\"type\":\"session.revoked\",\"sid\":\"s\",\"at\":1796554931}", RVK_EINVAL,
	        "events[0].at: in the future");
	refused("{\"type\":\"token.revoked\",\"jti\":\"j\",\"exp\":\"soon\"}", RVK_EINVAL,
	        "events[0].exp: not an integer (Unix seconds)");
	refused("{\"type\":\"token.revoked\",\"jti\":\"j\",\"exp\":-1}", RVK_EINVAL,
	        "events[0].exp: negative");
	refused("{\"type\":\"token.revoked\",\"jti\":\"j\",\"reason\":5}", RVK_EINVAL,
	        "events[0].reason: not a string");
	/* reason: at most 1024 bytes */
	char body[1200], reason[1100];
	memset(reason, 'r', 1025);
	reason[1025] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"issuer.revoked\",\"reason\":\"%s\"}", reason);
	refused(body, RVK_EINVAL, "events[0].reason: too long");
	reason[1024] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"issuer.revoked\",\"reason\":\"%s\"}", reason);
	rvk_revocation_t r;
	if (one(body, &r)) {
		TAP_CHECK_INT(strlen(r.reason), 1024);
		rvk_revocation_fini(&r);
	}
	/* the document */
	refused("[{\"type\":\"issuer.revoked\"}]", RVK_EINVAL, "the body must be a JSON object");
	/* duplicate members: jansson's words, after ours */
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[256] = "";
	const char *dup = "{\"type\":\"issuer.revoked\",\"type\":\"issuer.revoked\"}";
	TAP_CHECK_INT(parse(dup, &revs, &n, err, sizeof(err)), RVK_EINVAL);
	TAP_CHECK(strncmp(err, "invalid JSON: duplicate object key", 34) == 0);
	const char *cut = "{\"type\":\"issuer.revoked\"";
	TAP_CHECK_INT(parse(cut, &revs, &n, err, sizeof(err)), RVK_EINVAL);
	TAP_CHECK(strncmp(err, "invalid JSON: ", 14) == 0 && strstr(err, "(line 1, column "));
}

/* iss may be omitted only when exactly one issuer is configured. */
TAP_TEST(two_issuers)
{
	rvk_issuer_t *v[2] = { rvk_issuer_new("https://a"), rvk_issuer_new("https://b") };
	rvk_issuers_t set = { .n = 2, .v = v };
	rvk_events_opts_t o = { .issuers = &set, .leeway = 30, .max_token_lifetime = 3600,
	                        .now = NOW, .default_at = DEF_AT, .source = RVK_SRC_ADMIN };
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[256] = "";
	const char *no_iss = "{\"type\":\"issuer.revoked\"}";
	TAP_CHECK_INT(rvk_events_parse(no_iss, strlen(no_iss), &o, &revs, &n, err, sizeof(err)),
	              RVK_EINVAL);
	TAP_CHECK_STR(err, "events[0].iss: missing (required when more than one issuer is "
	                   "configured)");
	const char *b = "{\"type\":\"issuer.revoked\",\"iss\":\"https://b\"}";
	TAP_CHECK_INT(rvk_events_parse(b, strlen(b), &o, &revs, &n, err, sizeof(err)), RVK_OK);
	TAP_CHECK_INT(n, 1);
	TAP_CHECK_STR(revs[0].iss, "https://b");
	TAP_CHECK_INT(revs[0].source, RVK_SRC_ADMIN);
	rvk_events_free(revs, n);
	rvk_issuer_free(v[0]);
	rvk_issuer_free(v[1]);
}

/* Returns: a body of count events {"type":"session.revoked","sid":"s<i>"},
 * the one at bad_at (if any) with jti for sid (caller frees). */
static char *
batch(size_t count, size_t bad_at)
{
	rvk_buf_t b = RVK_BUF_INIT;
	rvk_buf_puts(&b, "{\"events\":[");
	for (size_t i = 0; i < count; i++)
		rvk_buf_printf(&b, "%s{\"type\":\"session.revoked\",\"%s\":\"s%zu\"}",
		               i ? "," : "", i == bad_at ? "jti" : "sid", i);
	rvk_buf_puts(&b, "]}");
	return rvk_buf_steal(&b);
}

TAP_TEST(batch_bounds)
{
	refused("{\"events\":[]}", RVK_EINVAL, "events: empty");
	refused("{\"events\":{}}", RVK_EINVAL, "events: not an array");
	refused("{\"events\":[{\"type\":\"issuer.revoked\"},7]}", RVK_EINVAL,
	        "events[1]: not an object");
	/* all or nothing: the first bad event names its index */
	char *b = batch(3, 2);
	refused(b, RVK_EINVAL, "events[2].sid: missing");
	free(b);
	/* RVK_EVENTS_MAX (10,000) events are one batch; one more is a 413 */
	TAP_CHECK_INT(RVK_EVENTS_MAX, 10000);
	b = batch(RVK_EVENTS_MAX, SIZE_MAX);
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[256] = "";
	TAP_CHECK_INT(parse(b, &revs, &n, err, sizeof(err)), RVK_OK);
	TAP_CHECK_INT(n, RVK_EVENTS_MAX);
	if (n == RVK_EVENTS_MAX) {
		TAP_CHECK_STR(revs[0].id, "s0");
		TAP_CHECK_STR(revs[9999].id, "s9999");
	}
	rvk_events_free(revs, n);
	free(b);
	b = batch(RVK_EVENTS_MAX + 1, SIZE_MAX);
	refused(b, RVK_EBUSY, "events: more than 10000 events in one request");
	free(b);
	/* the batch's events are checked like single ones (bad at 9,999) */
	b = batch(RVK_EVENTS_MAX, RVK_EVENTS_MAX - 1);
	refused(b, RVK_EINVAL, "events[9999].sid: missing");
	free(b);
}

int
main(void)
{
	return tap_main(TAP_LIST(rfc3339, envelope, every_kind, ids, refusals, two_issuers,
	                         batch_bounds));
}
