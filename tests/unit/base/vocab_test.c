/*
 * base/vocab: every type, source and event kind has its row, names are
 * distinct, and each parses back to itself; anything else parses to
 * nothing.
 */
#include <string.h>

#include "base/vocab.h"
#include "tests/support/tap.h"

TAP_TEST(types_round_trip)
{
	for (unsigned i = 0; i < RVK_REV_TYPE_COUNT; i++) {
		rvk_rev_type_t t = (rvk_rev_type_t)i, back = RVK_REV_TYPE_COUNT;
		const char *n = rvk_rev_type_name(t), *e = rvk_rev_type_event(t);
		TAP_CHECK(n && e);
		TAP_CHECK(rvk_rev_type_parse(n, &back) && back == t);
		back = RVK_REV_TYPE_COUNT;
		TAP_CHECK(rvk_rev_type_parse_event(e, &back) && back == t);
		/* "<name>.revoked" */
		TAP_CHECK(strncmp(e, n, strlen(n)) == 0 && strcmp(e + strlen(n), ".revoked") == 0);
		TAP_CHECK((rvk_rev_type_id_field(t) == NULL) == (t == RVK_REV_ISSUER));
		for (unsigned j = 0; j < i; j++)
			TAP_CHECK(strcmp(n, rvk_rev_type_name((rvk_rev_type_t)j)) != 0);
	}
}

TAP_TEST(sources_round_trip)
{
	for (unsigned i = 0; i < RVK_SRC_COUNT; i++) {
		rvk_source_t s = (rvk_source_t)i, back = RVK_SRC_COUNT;
		const char *n = rvk_source_name(s);
		TAP_CHECK(n != NULL);
		TAP_CHECK(rvk_source_parse(n, &back) && back == s);
		for (unsigned j = 0; j < i; j++)
			TAP_CHECK(strcmp(n, rvk_source_name((rvk_source_t)j)) != 0);
	}
}

TAP_TEST(exact_names_only)
{
	rvk_rev_type_t t;
	rvk_source_t s;
	TAP_CHECK(!rvk_rev_type_parse(NULL, &t));
	TAP_CHECK(!rvk_rev_type_parse("Token", &t));
	TAP_CHECK(!rvk_rev_type_parse("token.revoked", &t));
	TAP_CHECK(!rvk_rev_type_parse("", &t));
	TAP_CHECK(!rvk_rev_type_parse_event(NULL, &t));
	TAP_CHECK(!rvk_rev_type_parse_event("token", &t));
	TAP_CHECK(!rvk_rev_type_parse_event("Token.revoked", &t));
	TAP_CHECK(!rvk_source_parse(NULL, &s));
	TAP_CHECK(!rvk_source_parse("Admin", &s));
	TAP_CHECK(!rvk_source_parse("", &s));
}

TAP_TEST(reference_spellings)
{
	TAP_CHECK_STR(rvk_source_name(RVK_SRC_RFC7009), "rfc7009");
	TAP_CHECK_STR(rvk_source_name(RVK_SRC_ADMIN), "admin");
	TAP_CHECK_STR(rvk_rev_type_name(RVK_REV_KEY), "key");
	TAP_CHECK_STR(rvk_rev_type_event(RVK_REV_SUBJECT), "subject.revoked");
	TAP_CHECK_STR(rvk_rev_type_id_field(RVK_REV_SESSION), "sid");
	TAP_CHECK_STR(rvk_rev_type_id_field(RVK_REV_KEY), "kid");
}

int
main(void)
{
	return tap_main(TAP_LIST(types_round_trip, sources_round_trip,
	                         exact_names_only, reference_spellings));
}
