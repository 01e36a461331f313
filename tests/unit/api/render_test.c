/*
 * api/render: a revocation as the admin API shows it is, byte for byte,
 * what jansson's json_dumps(JSON_COMPACT) makes of the same document built
 * as a jansson tree (how the admin API built it before render.c): member
 * order, escapes of every control character, quotes and backslashes,
 * UTF-8 kept as is, and a string member jansson refuses (not UTF-8) left
 * out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/render.h"
#include "base/clock.h"
#include "tests/support/tap.h"

/* The jansson tree of r, as admin_handler.c built it before render.c. */
static json_t *
expires_json(int64_t expires_at)
{
	return expires_at == RVK_NEVER ? json_null() : json_integer(expires_at);
}

static json_t *
tree(const rvk_revocation_t *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(rvk_rev_type_name(r->type)));
	json_object_set_new(o, "iss", json_string(r->iss));
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "revoked_at", json_integer(r->revoked_at));
	json_object_set_new(o, "expires_at", expires_json(r->expires_at));
	json_object_set_new(o, "reason", r->reason ? json_string(r->reason) : json_null());
	json_object_set_new(o, "source", json_string(rvk_source_name(r->source)));
	if (r->origin)
		json_object_set_new(o, "origin", json_string(r->origin));
	json_t *srcs = json_array();
	rvk_contribution_t self = {
		.source = r->source, .revoked_at = r->revoked_at,
		.expires_at = r->expires_at, .reason = r->reason,
	};
	const rvk_contribution_t *v = r->nsources ? r->sources : &self;
	size_t n = r->nsources ? r->nsources : 1;
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_object();
		json_object_set_new(c, "source", json_string(rvk_source_name(v[i].source)));
		json_object_set_new(c, "revoked_at", json_integer(v[i].revoked_at));
		json_object_set_new(c, "expires_at", expires_json(v[i].expires_at));
		json_object_set_new(c, "reason", v[i].reason ? json_string(v[i].reason)
		                                           : json_null());
		json_array_append_new(srcs, c);
	}
	json_object_set_new(o, "sources", srcs);
	return o;
}

/* Whether render.c and jansson write r the same; prints both if not. */
static bool
same_as_jansson(const rvk_revocation_t *r)
{
	json_t *t = tree(r);
	char *want = json_dumps(t, JSON_COMPACT);
	json_decref(t);
	rvk_buf_t got = RVK_BUF_INIT;
	rvk_render_revocation(&got, r);
	bool ok = want && got.data && strcmp(want, got.data) == 0;
	if (!ok)
		printf("# want %s\n#  got %s\n", want ? want : "(null)",
		       got.data ? got.data : "(null)");
	free(want);
	rvk_buf_fini(&got);
	return ok;
}

TAP_TEST(plain_revocations)
{
	rvk_revocation_t r = {
		.type = RVK_REV_TOKEN, .iss = "https://idp.example/realms/a",
		.id = "0123456789abcdef", .revoked_at = 1700000000,
		.expires_at = 1700003600, .source = RVK_SRC_ADMIN,
	};
	TAP_CHECK(same_as_jansson(&r));
	r.type = RVK_REV_KEY;
	r.expires_at = RVK_NEVER;
	r.reason = "key leaked";
	TAP_CHECK(same_as_jansson(&r));
	r.type = RVK_REV_ISSUER;
	r.id = "";
	r.revoked_at = -5;
	TAP_CHECK(same_as_jansson(&r));
	rvk_buf_t b = RVK_BUF_INIT;
	r = (rvk_revocation_t){ .type = RVK_REV_SESSION, .iss = "i", .id = "s",
	                        .revoked_at = 10, .expires_at = 20,
	                        .source = RVK_SRC_WEBHOOK };
	rvk_render_revocation(&b, &r);
	TAP_CHECK_STR(b.data, "{\"type\":\"session\",\"iss\":\"i\",\"id\":\"s\","
	              "\"revoked_at\":10,\"expires_at\":20,\"reason\":null,"
	              "\"source\":\"webhook\",\"sources\":[{\"source\":\"webhook\","
	              "\"revoked_at\":10,\"expires_at\":20,\"reason\":null}]}");
	rvk_buf_fini(&b);
}

TAP_TEST(sources_and_origin)
{
	rvk_contribution_t srcs[] = {
		{ .source = RVK_SRC_ADMIN, .revoked_at = 15, .expires_at = RVK_NEVER },
		{ .source = RVK_SRC_SET, .revoked_at = 10, .expires_at = 20,
		  .reason = "ra", .origin = "node-b" },
	};
	rvk_revocation_t r = {
		.type = RVK_REV_SUBJECT, .iss = "i", .id = "user/1",
		.revoked_at = 15, .expires_at = RVK_NEVER, .source = RVK_SRC_ADMIN,
		.origin = "node-a", .sources = srcs, .nsources = 2,
	};
	TAP_CHECK(same_as_jansson(&r));
}

/* Every byte jansson escapes, and the ones it does not. */
TAP_TEST(escapes_as_jansson)
{
	char all[128];
	for (int i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	all[127] = '\0';
	char *ids[] = {
		all, "quote\" back\\slash /slash", "tab\tnl\ncr\rbs\bff\f",
		"\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "",
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		rvk_revocation_t r = {
			.type = RVK_REV_TOKEN, .iss = "i", .id = ids[i],
			.revoked_at = 1, .expires_at = 2, .reason = ids[i],
			.source = RVK_SRC_ADMIN, .origin = ids[i],
		};
		TAP_CHECK(same_as_jansson(&r));
	}
}

/* What jansson's json_string refuses is left out, as jansson left it. */
TAP_TEST(not_utf8_is_left_out_as_jansson_did)
{
	char *bad[] = {
		"\x80", "a\xc3", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\xaf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "ok\xe2\x82",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rvk_contribution_t srcs[] = {
			{ .source = RVK_SRC_ADMIN, .revoked_at = 1, .expires_at = 2,
			  .reason = bad[i] },
		};
		rvk_revocation_t r = {
			.type = RVK_REV_TOKEN, .iss = "i", .id = bad[i],
			.revoked_at = 1, .expires_at = 2, .reason = bad[i],
			.source = RVK_SRC_ADMIN, .origin = bad[i],
			.sources = srcs, .nsources = 1,
		};
		TAP_CHECK(same_as_jansson(&r));
		rvk_buf_t b = RVK_BUF_INIT;
		rvk_render_string(&b, bad[i]);
		TAP_CHECK_STR(b.data, "null");
		rvk_buf_fini(&b);
	}
	rvk_buf_t b = RVK_BUF_INIT;
	rvk_render_string(&b, NULL);
	rvk_render_string(&b, "c\"ur");
	TAP_CHECK_STR(b.data, "null\"c\\\"ur\"");
	rvk_buf_fini(&b);
}

int
main(void)
{
	return tap_main(TAP_LIST(plain_revocations, sources_and_origin,
	                         escapes_as_jansson,
	                         not_utf8_is_left_out_as_jansson_did));
}
