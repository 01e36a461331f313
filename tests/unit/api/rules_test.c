/*
 * api/rules: each request rule with its edge cases - Authorization
 * credentials (RFC 6750 §2.1, RFC 9110 §5.5), the admin token check, media
 * types (RFC 9110 §8.3.1), and the failure table.
 */
#include <string.h>

#include "api/app.h"
#include "api/rules.h"
#include "tests/support/tap.h"

/* The token rvk_rules_bearer finds in field, as a string ("" when none). */
static const char *
bearer(const char *field)
{
	static char out[256];
	const char *t;
	size_t n;
	if (!rvk_rules_bearer(field, &t, &n))
		return "";
	memcpy(out, t, n);
	out[n] = '\0';
	return out;
}

TAP_TEST(bearer_scheme_and_separator)
{
	TAP_CHECK_STR(bearer("Bearer abc.def"), "abc.def");
	TAP_CHECK_STR(bearer("bearer abc"), "abc");
	TAP_CHECK_STR(bearer("BEARER abc"), "abc");
	TAP_CHECK_STR(bearer("BeArEr abc"), "abc");
	TAP_CHECK_STR(bearer("Bearer    abc"), "abc");       /* 1*SP */
	TAP_CHECK_STR(bearer("Bearer\tabc"), "");            /* a tab is no separator */
	TAP_CHECK_STR(bearer("Bearerabc"), "");
	TAP_CHECK_STR(bearer("Bearer"), "");
	TAP_CHECK_STR(bearer("Bearer "), "");
	TAP_CHECK_STR(bearer("Bearer    "), "");
	TAP_CHECK_STR(bearer("Bearer \t "), "");
	TAP_CHECK_STR(bearer("Basic YWxpY2U6c2VjcmV0"), "");
	TAP_CHECK_STR(bearer("Digest abc"), "");
	TAP_CHECK_STR(bearer(""), "");
	TAP_CHECK_STR(bearer(NULL), "");
}

TAP_TEST(bearer_surrounding_whitespace)
{
	/* Not part of the field value (RFC 9110 §5.5): dropped everywhere. */
	TAP_CHECK_STR(bearer("Bearer tok "), "tok");
	TAP_CHECK_STR(bearer("Bearer tok\t"), "tok");
	TAP_CHECK_STR(bearer("Bearer tok \t "), "tok");
	TAP_CHECK_STR(bearer(" Bearer tok"), "tok");
	TAP_CHECK_STR(bearer("\t Bearer tok"), "tok");
	/* Inside the credentials, whitespace stays (the consumer refuses it). */
	TAP_CHECK_STR(bearer("Bearer a b"), "a b");
	/* Characters outside token68 are the consumer's to refuse too. */
	TAP_CHECK_STR(bearer("Bearer a.b*.c"), "a.b*.c");
	TAP_CHECK_STR(bearer("Bearer abc=="), "abc==");
}

TAP_TEST(other_schemes)
{
	const char *c;
	size_t n;
	TAP_CHECK(rvk_rules_credentials("Basic YWxp", "Basic", &c, &n) && n == 4 &&
	          memcmp(c, "YWxp", 4) == 0);
	TAP_CHECK(rvk_rules_credentials("basic  YWxp ", "Basic", &c, &n) && n == 4);
	TAP_CHECK(!rvk_rules_credentials("Bearer YWxp", "Basic", &c, &n));
	TAP_CHECK(!rvk_rules_credentials("Basic", "Basic", &c, &n));
}

TAP_TEST(secret_equal)
{
	TAP_CHECK(rvk_rules_secret_equal("s3cret", 6, "s3cret", 6));
	TAP_CHECK(!rvk_rules_secret_equal("s3cret", 6, "s3cre", 5));
	TAP_CHECK(!rvk_rules_secret_equal("s3cret", 6, "s3cretX", 7));
	TAP_CHECK(!rvk_rules_secret_equal("s3cret", 6, "S3cret", 6));
	TAP_CHECK(!rvk_rules_secret_equal("s3cret", 6, "", 0));
	TAP_CHECK(rvk_rules_secret_equal("", 0, "", 0));
	/* Lengths matter even with a NUL inside. */
	TAP_CHECK(!rvk_rules_secret_equal("ab\0", 3, "ab", 2));
}

TAP_TEST(admin_token)
{
	rvk_secret_t one[] = { { (unsigned char *)"test-admin-token", 16 } };
	rvk_secret_t two[] = { { (unsigned char *)"old-token", 9 },
	                       { (unsigned char *)"test-admin-token", 16 } };
	TAP_CHECK_INT(rvk_rules_admin(NULL, 0, "Bearer x"), RVK_RULES_ADMIN_DISABLED);
	TAP_CHECK_INT(rvk_rules_admin(one, 0, "Bearer x"), RVK_RULES_ADMIN_DISABLED);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, NULL), RVK_RULES_ADMIN_MISSING);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer "), RVK_RULES_ADMIN_MISSING);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Basic dGVzdA=="), RVK_RULES_ADMIN_MISSING);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer wrong"), RVK_RULES_ADMIN_WRONG);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer test-admin-tokeN"), RVK_RULES_ADMIN_WRONG);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer test-admin-token-"), RVK_RULES_ADMIN_WRONG);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer test-admin-token"), RVK_RULES_ADMIN_OK);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "bearer test-admin-token"), RVK_RULES_ADMIN_OK);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer  test-admin-token "), RVK_RULES_ADMIN_OK);
	TAP_CHECK_INT(rvk_rules_admin(one, 1, "Bearer\ttest-admin-token"), RVK_RULES_ADMIN_MISSING);
	/* a rotation: either token */
	TAP_CHECK_INT(rvk_rules_admin(two, 2, "Bearer old-token"), RVK_RULES_ADMIN_OK);
	TAP_CHECK_INT(rvk_rules_admin(two, 2, "Bearer test-admin-token"), RVK_RULES_ADMIN_OK);
	TAP_CHECK_INT(rvk_rules_admin(two, 2, "Bearer old-tokenX"), RVK_RULES_ADMIN_WRONG);
}

#define JSON "application/json"

TAP_TEST(media_type_names)
{
	TAP_CHECK(rvk_rules_media_type("application/json", JSON));
	TAP_CHECK(rvk_rules_media_type("Application/JSON", JSON));
	TAP_CHECK(rvk_rules_media_type(" application/json ", JSON));
	TAP_CHECK(rvk_rules_media_type("application/secevent+jwt", "application/secevent+jwt"));
	TAP_CHECK(!rvk_rules_media_type(NULL, JSON));
	TAP_CHECK(!rvk_rules_media_type("", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/jsonx", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json x", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/jso", JSON));
	TAP_CHECK(!rvk_rules_media_type("text/plain", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/secevent+jwt", JSON));
}

TAP_TEST(media_type_parameters)
{
	TAP_CHECK(rvk_rules_media_type("application/json; charset=utf-8", JSON));
	TAP_CHECK(rvk_rules_media_type("application/json;charset=UTF-8", JSON));
	TAP_CHECK(rvk_rules_media_type("application/json ; Charset=utf8", JSON));
	TAP_CHECK(rvk_rules_media_type("application/json;charset=\"UTF-8\"", JSON));
	TAP_CHECK(rvk_rules_media_type("application/json; x=y; charset=utf-8", JSON));
	TAP_CHECK(rvk_rules_media_type("application/json; x=\"a;b\"", JSON));
	TAP_CHECK(rvk_rules_media_type("application/json;", JSON));        /* empty */
	TAP_CHECK(rvk_rules_media_type("application/json;; x=y", JSON));
	/* A charset that is not UTF-8: the body is not what revokd reads. */
	TAP_CHECK(!rvk_rules_media_type("application/json; charset=latin1", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json; charset=\"latin1\"", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json; charset=utf-16", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json; charset=", JSON));
	/* "charset=" inside another parameter's value is not a charset. */
	TAP_CHECK(rvk_rules_media_type("application/json; x=\"charset=latin1\"", JSON));
	/* Malformed parameter lists. */
	TAP_CHECK(!rvk_rules_media_type("application/json; garbage", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json; =x", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json; x=\"open", JSON));
	TAP_CHECK(!rvk_rules_media_type("application/json; x=y z", JSON));
}

TAP_TEST(failure_table)
{
	rvk_rules_answer_t a = rvk_rules_failure(RVK_EIO);
	TAP_CHECK_INT(a.status, 503);
	TAP_CHECK_STR(a.error, "server_error");
	TAP_CHECK_STR(a.description, "the revocation store could not commit");
	TAP_CHECK_STR(rvk_rules_failure(RVK_ESHUTDOWN).description, "the service is stopping");
	TAP_CHECK_STR(rvk_rules_failure(RVK_ENOMEM).description, "out of memory");
	TAP_CHECK_INT(rvk_rules_failure(RVK_ETIMEOUT).status, 503);
	TAP_CHECK(rvk_rules_failure(RVK_ETIMEOUT).description != NULL);
}

int
main(void)
{
	return tap_main(TAP_LIST(bearer_scheme_and_separator, bearer_surrounding_whitespace,
	                         other_schemes, secret_equal, admin_token, media_type_names,
	                         media_type_parameters, failure_table));
}
