/* Strict form bodies (api/form.c). */
#include <string.h>

#include "api/form.h"
#include "api/rules.h"
#include "tests/support/tap.h"

static rvk_result_t
parse(const char *body, rvk_form_t *f)
{
	const char *why = NULL;
	rvk_result_t r = rvk_form_parse(body, strlen(body), f, &why);
	if (r == RVK_OK)
		TAP_CHECK(why == NULL);
	else
		TAP_CHECK(why != NULL && f->n == 0);
	return r;
}

TAP_TEST(decodes)
{
	rvk_form_t f = { .n = 0 };
	TAP_CHECK_INT(parse("token=a%2Bb+c%3d&token_type_hint=access_token&e=", &f), RVK_OK);
	TAP_CHECK_INT(f.n, 3);
	size_t len = 0;
	TAP_CHECK_STR(rvk_form_get(&f, "token", &len), "a+b c=");
	TAP_CHECK_INT(len, 6);
	TAP_CHECK_STR(rvk_form_get(&f, "token_type_hint", NULL), "access_token");
	TAP_CHECK_STR(rvk_form_get(&f, "e", &len), "");
	TAP_CHECK_INT(len, 0);
	TAP_CHECK(rvk_form_get(&f, "missing", NULL) == NULL);
	TAP_CHECK(rvk_form_get(&f, "Token", NULL) == NULL);
	rvk_form_fini(&f);
	TAP_CHECK_INT(parse("", &f), RVK_OK);
	TAP_CHECK_INT(f.n, 0);
	TAP_CHECK_INT(parse("n%61me=v", &f), RVK_OK);
	TAP_CHECK_STR(rvk_form_get(&f, "name", NULL), "v");
	rvk_form_fini(&f);
}

TAP_TEST(not_nul_terminated)
{
	const char body[] = "a=1&b=2XXXX";
	rvk_form_t f;
	const char *why;
	TAP_CHECK_INT(rvk_form_parse(body, 7, &f, &why), RVK_OK);
	TAP_CHECK_STR(rvk_form_get(&f, "b", NULL), "2");
	rvk_form_fini(&f);
}

TAP_TEST(refuses)
{
	static const char *const bad[] = {
		"a", "=v", "a=1&&b=2", "a=1&", "&a=1", "a=%", "a=%4", "a=%zz", "a=%G0",
		"a=%00", "%00=1", "a=1&a=2", "a=1&b=2&a=3", "&",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		rvk_form_t f = { .n = 0 };
		if (parse(bad[i], &f) != RVK_EINVAL) {
			TAP_FAIL_AT("accepted \"%s\"", bad[i]);
			rvk_form_fini(&f);
		}
	}
	char many[400] = "";
	for (int i = 0; i <= RVK_FORM_MAX_FIELDS; i++) {
		char p[16];
		snprintf(p, sizeof(p), "%sk%d=v", i ? "&" : "", i);
		strcat(many, p);
	}
	rvk_form_t f;
	TAP_CHECK_INT(parse(many, &f), RVK_EINVAL);
}

/* The form routes' media type, by the one rule (api/rules.h). */
#define FORM "application/x-www-form-urlencoded"

TAP_TEST(media_type)
{
	TAP_CHECK(rvk_rules_media_type("application/x-www-form-urlencoded", FORM));
	TAP_CHECK(rvk_rules_media_type("Application/X-WWW-Form-Urlencoded; charset=UTF-8", FORM));
	TAP_CHECK(rvk_rules_media_type(" application/x-www-form-urlencoded ;x=y", FORM));
	TAP_CHECK(!rvk_rules_media_type(NULL, FORM));
	TAP_CHECK(!rvk_rules_media_type("application/json", FORM));
	TAP_CHECK(!rvk_rules_media_type("application/x-www-form-urlencodedX", FORM));
	TAP_CHECK(!rvk_rules_media_type("multipart/form-data", FORM));
}

int
main(void)
{
	return tap_main(TAP_LIST(decodes, not_nul_terminated, refuses, media_type));
}
