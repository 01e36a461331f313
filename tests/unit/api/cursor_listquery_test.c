/* The admin list query (api/listquery.c) and its cursors (api/cursor.c),
 * REFERENCE §5.6: filters, limits, and cursors bound to their filter. */
#include <string.h>

#include "api/cursor.h"
#include "api/listquery.h"
#include "tests/support/tap.h"

static const char *
parse(const char *type, const char *iss, const char *limit, const char *cursor,
      rvk_listquery_t *q)
{
	return rvk_listquery_parse(type, iss, limit, cursor, q);
}

TAP_TEST(absent_arguments_are_the_defaults)
{
	rvk_listquery_t q;
	TAP_CHECK(parse(NULL, NULL, NULL, NULL, &q) == NULL);
	TAP_CHECK_INT(q.type, -1);
	TAP_CHECK(q.iss == NULL);
	TAP_CHECK_INT(q.limit, RVK_LISTQUERY_LIMIT_DEFAULT);
	TAP_CHECK_INT(q.pos.type, -1);
	rvk_listquery_fini(&q);
	/* "" is absent too */
	TAP_CHECK(parse("", "", "", "", &q) == NULL);
	TAP_CHECK_INT(q.type, -1);
	TAP_CHECK(q.iss == NULL);
	rvk_listquery_fini(&q);
}

TAP_TEST(type_names)
{
	rvk_listquery_t q;
	static const char *const names[] = { "token", "session", "subject", "issuer", "key" };
	for (size_t i = 0; i < 5; i++) {
		TAP_CHECK(parse(names[i], NULL, NULL, NULL, &q) == NULL);
		TAP_CHECK(q.type >= 0 && q.type < RVK_REV_TYPE_COUNT);
		rvk_listquery_fini(&q);
	}
	const char *why = parse("tokens", NULL, NULL, NULL, &q);
	TAP_CHECK_STR(why, "type: must be token, session, subject, issuer or key");
	TAP_CHECK(parse("Token", NULL, NULL, NULL, &q) != NULL);
}

TAP_TEST(limits)
{
	rvk_listquery_t q;
	TAP_CHECK(parse(NULL, NULL, "1", NULL, &q) == NULL);
	TAP_CHECK_INT(q.limit, 1);
	rvk_listquery_fini(&q);
	TAP_CHECK(parse(NULL, NULL, "1000", NULL, &q) == NULL);
	TAP_CHECK_INT(q.limit, RVK_LISTQUERY_LIMIT_MAX);
	rvk_listquery_fini(&q);
	static const char *const bad[] = { "0", "1001", "-1", "+5", "5x", "abc",
	                                   " 5", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = parse(NULL, NULL, bad[i], NULL, &q);
		TAP_CHECK(why != NULL);
		if (why)
			TAP_CHECK_STR(why, "limit: must be a number from 1 to 1000");
	}
}

TAP_TEST(cursor_round_trip_and_its_filter)
{
	rvk_cursor_t c = { .type = RVK_REV_SESSION, .iss = "https://i", .id = "s-1",
	                   .filter_type = -1, .filter_iss = "https://i" };
	char *text = rvk_cursor_encode(&c);
	TAP_CHECK(text != NULL && strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	          "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(text));
	rvk_cursor_t back;
	TAP_CHECK(rvk_cursor_decode(text, &back));
	TAP_CHECK_INT(back.type, RVK_REV_SESSION);
	TAP_CHECK_STR(back.iss, "https://i");
	TAP_CHECK_STR(back.id, "s-1");
	TAP_CHECK_INT(back.filter_type, -1);
	TAP_CHECK_STR(back.filter_iss, "https://i");
	rvk_cursor_fini(&back);

	rvk_listquery_t q;
	TAP_CHECK(parse(NULL, "https://i", NULL, text, &q) == NULL);
	TAP_CHECK_INT(q.pos.type, RVK_REV_SESSION);
	TAP_CHECK_STR(q.pos.iss, "https://i");
	TAP_CHECK_STR(q.pos.id, "s-1");
	rvk_listquery_fini(&q);
	/* the same cursor under another filter */
	TAP_CHECK_STR(parse("token", "https://i", NULL, text, &q),
	              "cursor: issued for another type or iss filter");
	TAP_CHECK_STR(parse(NULL, NULL, NULL, text, &q),
	              "cursor: issued for another type or iss filter");

	/* one changed character: not ours */
	text[strlen(text) / 2] = text[strlen(text) / 2] == 'A' ? 'B' : 'A';
	TAP_CHECK(!rvk_cursor_decode(text, &back));
	TAP_CHECK(parse(NULL, "https://i", NULL, text, &q) != NULL);
	free(text);
	TAP_CHECK(!rvk_cursor_decode("", &back));
	TAP_CHECK(!rvk_cursor_decode("not-a-cursor", &back));
}

int
main(void)
{
	return tap_main(TAP_LIST(absent_arguments_are_the_defaults, type_names, limits,
	                         cursor_round_trip_and_its_filter));
}
