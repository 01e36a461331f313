/* SET claim sets (auth/set.c, REFERENCE §5.2): every rule and subject format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jws.h"
#include "auth/set.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

#define NOW 1800000000
#define AUD "https://revokd.test/"
#define ISS "https://idp"
#define CAEP "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
#define RISC_SR "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
#define RISC_AD "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
#define TYP "{\"alg\":\"RS256\",\"typ\":\"secevent+jwt\"}"

static char desc[200];

/* Checks a SET built from header and payload; keeps the parse for *out's
 * borrowed strings in *j (caller finis it). */
static rvk_set_err_t
check(const char *hdr, const char *payload, rvk_set_t *out, rvk_jws_t *j)
{
	char *t = tk_token(hdr, payload, "AA");
	rvk_reason_t pr = rvk_jws_parse(t, strlen(t), 65536, j);
	free(t);
	TAP_CHECK_INT(pr, RVK_REASON_OK);
	if (pr != RVK_REASON_OK)
		return (rvk_set_err_t)-1;
	return rvk_set_check(j, AUD, 30, NOW, out, desc, sizeof(desc));
}

/* One call; returns the error and, on success, the only action. */
static rvk_set_err_t
one(const char *hdr, const char *payload, rvk_set_kind_t *kind, char *id,
    int64_t *at)
{
	rvk_set_t s;
	rvk_jws_t j;
	rvk_set_err_t e = check(hdr, payload, &s, &j);
	if (e == RVK_SET_OK && s.n == 1) {
		*kind = s.actions[0].kind;
		snprintf(id, 64, "%s", s.actions[0].id);
		*at = s.actions[0].at;
	} else if (e == RVK_SET_OK) {
		id[0] = '\0';
	}
	if ((int)e != -1)
		rvk_jws_fini(&j);
	return e;
}

static char *
payload(const char *extra, const char *events)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf),
	         "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":%d,\"jti\":\"j1\""
	         "%s%s,\"events\":%s}", NOW - 10, *extra ? "," : "", extra, events);
	return buf;
}

TAP_TEST(caep_opaque_is_session)
{
	rvk_set_kind_t k;
	char id[64];
	int64_t at;
	TAP_CHECK_INT(one(TYP, payload("", "{\"" CAEP "\":{\"subject\":{\"format\":"
	                  "\"opaque\",\"id\":\"s1\"},\"event_timestamp\":1799999000}}"),
	                  &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(k, RVK_SET_REVOKE_SESSION);
	TAP_CHECK_STR(id, "s1");
	TAP_CHECK_INT(at, 1799999000);
	/* milliseconds (above 10^11) are taken as such (REFERENCE §5.2) */
	TAP_CHECK_INT(one(TYP, payload("", "{\"" CAEP "\":{\"subject\":{\"format\":"
	                  "\"opaque\",\"id\":\"s1\"},\"event_timestamp\":1799999000123}}"),
	                  &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(at, 1799999000);
}

TAP_TEST(risc_opaque_is_subject_and_iat_default)
{
	rvk_set_kind_t k;
	char id[64];
	int64_t at;
	TAP_CHECK_INT(one(TYP, payload("", "{\"" RISC_SR "\":{\"subject\":{\"format\":"
	                  "\"opaque\",\"id\":\"u1\"}}}"), &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(k, RVK_SET_REVOKE_SUBJECT);
	TAP_CHECK_STR(id, "u1");
	TAP_CHECK_INT(at, NOW - 10);
}

TAP_TEST(sub_id_formats)
{
	rvk_set_kind_t k;
	char id[64];
	int64_t at;
	TAP_CHECK_INT(one(TYP, payload("\"sub_id\":{\"format\":\"iss_sub\",\"iss\":\""
	                  ISS "\",\"sub\":\"alice\"}", "{\"" RISC_AD "\":{}}"),
	                  &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(k, RVK_SET_REVOKE_SUBJECT);
	TAP_CHECK_STR(id, "alice");
	TAP_CHECK_INT(one(TYP, payload("\"sub_id\":{\"format\":\"jwt_id\",\"iss\":\""
	                  ISS "\",\"jti\":\"t9\"}", "{\"" CAEP "\":{}}"),
	                  &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(k, RVK_SET_REVOKE_TOKEN);
	TAP_CHECK_STR(id, "t9");
	/* the event's subject wins over sub_id */
	TAP_CHECK_INT(one(TYP, payload("\"sub_id\":{\"format\":\"opaque\",\"id\":\"x\"}",
	                  "{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":"
	                  "\"y\"}}}"), &k, id, &at), RVK_SET_OK);
	TAP_CHECK_STR(id, "y");
}

TAP_TEST(complex_subjects)
{
	rvk_set_kind_t k;
	char id[64];
	int64_t at;
	const char *both = "{\"" CAEP "\":{\"subject\":{\"session\":{\"format\":"
	                   "\"opaque\",\"id\":\"s2\"},\"user\":{\"format\":\"iss_sub\","
	                   "\"iss\":\"" ISS "\",\"sub\":\"bob\"}}}}";
	TAP_CHECK_INT(one(TYP, payload("", both), &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(k, RVK_SET_REVOKE_SESSION);
	TAP_CHECK_STR(id, "s2");
	const char *user = "{\"" CAEP "\":{\"subject\":{\"format\":\"complex\","
	                   "\"user\":{\"format\":\"opaque\",\"id\":\"bob\"}}}}";
	TAP_CHECK_INT(one(TYP, payload("", user), &k, id, &at), RVK_SET_OK);
	TAP_CHECK_INT(k, RVK_SET_REVOKE_SUBJECT);
	TAP_CHECK_STR(id, "bob");
	const char *risc_sess = "{\"" RISC_SR "\":{\"subject\":{\"session\":{\"format\":"
	                        "\"opaque\",\"id\":\"s2\"}}}}";
	TAP_CHECK_INT(one(TYP, payload("", risc_sess), &k, id, &at),
	              RVK_SET_INVALID_REQUEST);
}

TAP_TEST(unknown_events_are_counted_not_acted_on)
{
	rvk_set_t s;
	rvk_jws_t j;
	TAP_CHECK_INT(check(TYP, payload("", "{\"urn:a\":{},\"urn:b\":{},\"" CAEP
	                    "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"s\"}}}"),
	                    &s, &j), RVK_SET_OK);
	TAP_CHECK_INT(s.n, 1);
	TAP_CHECK_INT(s.n_ignored, 2);
	TAP_CHECK_STR(s.jti, "j1");
	rvk_jws_fini(&j);
}

TAP_TEST(error_codes)
{
	rvk_set_kind_t k;
	char id[64];
	int64_t at;
	const char *ev = "{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"s\"}}}";
	char p[2048];
	TAP_CHECK_INT(one("{\"alg\":\"RS256\"}", payload("", ev), &k, id, &at),
	              RVK_SET_INVALID_REQUEST);
	TAP_CHECK_INT(one("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload("", ev), &k, id, &at),
	              RVK_SET_INVALID_REQUEST);
	TAP_CHECK_INT(one("{\"alg\":\"RS256\",\"typ\":\"application/SecEvent+JWT\"}",
	                  payload("", ev), &k, id, &at), RVK_SET_OK);
	snprintf(p, sizeof(p), "{\"aud\":\"" AUD "\",\"iat\":1,\"jti\":\"j\",\"events\":%s}", ev);
	TAP_CHECK_INT(one(TYP, p, &k, id, &at), RVK_SET_INVALID_ISSUER);
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":[\"x\"],\"iat\":1,\"jti\":\"j\","
	         "\"events\":%s}", ev);
	TAP_CHECK_INT(one(TYP, p, &k, id, &at), RVK_SET_INVALID_AUDIENCE);
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],"
	         "\"jti\":\"j\",\"events\":%s}", ev);
	TAP_CHECK_INT(one(TYP, p, &k, id, &at), RVK_SET_INVALID_REQUEST); /* no iat */
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1,"
	         "\"events\":%s}", ev);
	TAP_CHECK_INT(one(TYP, p, &k, id, &at), RVK_SET_INVALID_REQUEST); /* no jti */
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":%d,"
	         "\"jti\":\"j\",\"events\":%s}", NOW + 3600, ev);
	TAP_CHECK_INT(one(TYP, p, &k, id, &at), RVK_SET_INVALID_REQUEST); /* future */
	TAP_CHECK_INT(one(TYP, payload("\"exp\":1", ev), &k, id, &at),
	              RVK_SET_INVALID_REQUEST);
	TAP_CHECK_INT(one(TYP, payload("", "{}"), &k, id, &at), RVK_SET_INVALID_REQUEST);
	TAP_CHECK_INT(one(TYP, payload("", "[]"), &k, id, &at), RVK_SET_INVALID_REQUEST);
	TAP_CHECK_STR(rvk_set_err_code(RVK_SET_INVALID_KEY), "invalid_key");
	TAP_CHECK_STR(rvk_set_err_code(RVK_SET_INVALID_AUDIENCE), "invalid_audience");
}

TAP_TEST(bad_subjects)
{
	static const char *const events[] = {
		"{\"" CAEP "\":{}}",
		"{\"" CAEP "\":7}",
		"{\"" CAEP "\":{\"subject\":\"s\"}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"email\",\"email\":\"a@b\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":7,\"id\":\"x\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"iss_sub\",\"sub\":\"x\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"iss_sub\",\"iss\":\"https://other\",\"sub\":\"x\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"jwt_id\",\"iss\":\"https://other\",\"jti\":\"x\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"jwt_id\",\"iss\":\"" ISS "\"}}}",
		"{\"" CAEP "\":{\"subject\":{\"user\":{\"format\":\"iss_sub\",\"iss\":\"https://o\",\"sub\":\"x\"}}}}",
		"{\"" CAEP "\":{\"subject\":{\"user\":{\"format\":\"email\"}}}}",
		"{\"" CAEP "\":{\"subject\":{\"session\":{\"format\":\"iss_sub\"}}}}",
		"{\"" CAEP "\":{\"subject\":{}}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"x\"},\"event_timestamp\":1900000000}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"x\"},\"event_timestamp\":1900000000000}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"x\"},\"event_timestamp\":\"1\"}}",
		"{\"" CAEP "\":{\"subject\":{\"format\":\"opaque\",\"id\":\"x\"},\"event_timestamp\":1.5}}",
	};
	for (size_t i = 0; i < sizeof(events) / sizeof(*events); i++) {
		rvk_set_kind_t k;
		char id[64];
		int64_t at;
		rvk_set_err_t e = one(TYP, payload("", events[i]), &k, id, &at);
		if (e != RVK_SET_INVALID_REQUEST)
			TAP_FAIL_AT("event %zu: %d (%s)", i, (int)e, desc);
	}
}

TAP_TEST(no_audience_configured)
{
	char *t = tk_token(TYP, payload("", "{}"), "AA");
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 65536, &j), RVK_REASON_OK);
	rvk_set_t s;
	TAP_CHECK_INT(rvk_set_check(&j, NULL, 30, NOW, &s, desc, sizeof(desc)),
	              RVK_SET_INVALID_AUDIENCE);
	rvk_jws_fini(&j);
	free(t);
}

/* exp + leeway saturates (was signed overflow, undefined behaviour). */
TAP_TEST(exp_near_int64_max_saturates)
{
	rvk_set_kind_t k;
	char id[64];
	int64_t at;
	const char *ev = "{\"" RISC_SR "\":{\"subject\":{\"format\":\"opaque\","
	                 "\"id\":\"u1\"}}}";
	TAP_CHECK_INT(one(TYP, payload("\"exp\":9223372036854775807", ev), &k, id,
	                  &at), RVK_SET_OK);
	TAP_CHECK_INT(one(TYP, payload("\"exp\":-9223372036854775807", ev), &k, id,
	                  &at), RVK_SET_INVALID_REQUEST);
	TAP_CHECK_STR(desc, "SET expired");
}

/* base/id.h: what becomes a revocation's ID is 1 to 255 bytes. */
TAP_TEST(subject_ids_are_at_most_255_bytes)
{
	rvk_set_kind_t k;
	char id[64], ev[1024], big[300];
	int64_t at;
	for (size_t n = 255; n <= 256; n++) {
		memset(big, 'x', n);
		big[n] = '\0';
		snprintf(ev, sizeof(ev), "{\"" RISC_SR "\":{\"subject\":{\"format\":"
		         "\"opaque\",\"id\":\"%s\"}}}", big);
		rvk_set_err_t e = one(TYP, payload("", ev), &k, id, &at);
		TAP_CHECK_INT(e, n == 255 ? RVK_SET_OK : RVK_SET_INVALID_REQUEST);
	}
	TAP_CHECK_STR(desc, "bad subject: identifier longer than 255 bytes");
}

int
main(void)
{
	return tap_main(TAP_LIST(caep_opaque_is_session,
	                         risc_opaque_is_subject_and_iat_default, sub_id_formats,
	                         complex_subjects,
	                         unknown_events_are_counted_not_acted_on, error_codes,
	                         bad_subjects, no_audience_configured,
	                         exp_near_int64_max_saturates,
	                         subject_ids_are_at_most_255_bytes));
}
