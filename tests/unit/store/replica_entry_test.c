/*
 * The cluster consumer's readers of Redis replies (store/replica_entry.c),
 * fed RESP bytes through hiredis' own reader, as a connection reads them.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "base/clock.h"
#include "store/replica_entry.h"
#include "tests/support/tap.h"

#define SELF "0123456789abcdef0123456789abcdef"

/* Returns: the one reply in resp (owned), or NULL on a reader error. */
static redisReply *
read_reply(const char *resp, bool bounded)
{
	redisReader *rd = redisReaderCreate();
	if (bounded)
		rvk_repl_bound_reader(rd);
	void *reply = NULL;
	if (redisReaderFeed(rd, resp, strlen(resp)) != REDIS_OK
	    || redisReaderGetReply(rd, &reply) != REDIS_OK)
		reply = NULL;
	redisReaderFree(rd);
	return reply;
}

/* One XREAD reply holding one entry of the given fields. */
static redisReply *
xread_of(const char *const *kv, size_t n)
{
	char buf[2048];
	int len = snprintf(buf, sizeof(buf), "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n"
	                   "$3\r\n1-0\r\n*%zu\r\n", n);
	for (size_t i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
		                "$%zu\r\n%s\r\n", strlen(kv[i]), kv[i]);
	return read_reply(buf, true);
}

/* Set by kind_of: the delete named one source. */
static bool one_source;

static rvk_repl_entry_kind_t
kind_of(const char *const *kv, size_t n, rvk_revocation_t *r)
{
	redisReply *x = xread_of(kv, n);
	TAP_CHECK(x != NULL);
	if (!x)
		return RVK_REPL_ENTRY_BAD;
	const redisReply *entries = rvk_repl_xread_entries(x);
	TAP_CHECK(entries && entries->elements == 1);
	TAP_CHECK_STR(rvk_repl_entry_id(entries->element[0]), "1-0");
	rvk_repl_entry_kind_t k = rvk_repl_parse_entry(
		entries->element[0]->element[1], SELF, r, &one_source);
	/* r borrows the reply: keep what the checks need, then free it. */
	static char iss[64], id[64], origin[64];
	if (r->origin)
		snprintf(origin, sizeof(origin), "%s", r->origin),
		r->origin = origin;
	if (r->iss)
		snprintf(iss, sizeof(iss), "%s", r->iss), r->iss = iss;
	if (r->id)
		snprintf(id, sizeof(id), "%s", r->id), r->id = id;
	r->reason = NULL;
	freeReplyObject(x);
	return k;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

TAP_TEST(a_revocation_as_the_publisher_writes_it)
{
	const char *kv[] = { "op", "revoke", "type", "session", "iss", "https://i/",
	                     "id", "s-1", "revoked_at", "1764190000",
	                     "expires_at", "1764193600", "source", "admin",
	                     "origin", "ffffffffffffffffffffffffffffffff" };
	rvk_revocation_t r;
	TAP_CHECK_INT(kind_of(kv, N(kv), &r), RVK_REPL_ENTRY_REVOKE);
	TAP_CHECK_INT(r.type, RVK_REV_SESSION);
	TAP_CHECK_STR(r.iss, "https://i/");
	TAP_CHECK_STR(r.id, "s-1");
	TAP_CHECK(r.revoked_at == 1764190000 && r.expires_at == 1764193600);
	/* The originating source and the replica that took it. */
	TAP_CHECK_INT(r.source, RVK_SRC_ADMIN);
	TAP_CHECK_STR(r.origin, "ffffffffffffffffffffffffffffffff");
}

TAP_TEST(key_revocations_never_expire_and_deletes_need_no_times)
{
	const char *key[] = { "op", "revoke", "type", "key", "iss", "i", "id", "k1",
	                      "revoked_at", "5", "expires_at", "99",
	                      "source", "webhook" };
	rvk_revocation_t r;
	TAP_CHECK_INT(kind_of(key, N(key), &r), RVK_REPL_ENTRY_REVOKE);
	TAP_CHECK(r.expires_at == RVK_NEVER);
	TAP_CHECK_INT(r.source, RVK_SRC_WEBHOOK);
	TAP_CHECK(r.origin == NULL);
	/* No source: every source's contribution left (an admin DELETE). */
	const char *del[] = { "op", "delete", "type", "subject", "iss", "i", "id", "u" };
	TAP_CHECK_INT(kind_of(del, N(del), &r), RVK_REPL_ENTRY_DELETE);
	TAP_CHECK_INT(r.type, RVK_REV_SUBJECT);
	TAP_CHECK(!one_source);
	/* A source: only that one's (a Keycloak notBefore of 0). */
	const char *del_kc[] = { "op", "delete", "type", "issuer", "iss", "i",
	                         "id", "", "source", "keycloak" };
	TAP_CHECK_INT(kind_of(del_kc, N(del_kc), &r), RVK_REPL_ENTRY_DELETE);
	TAP_CHECK(one_source);
	TAP_CHECK_INT(r.source, RVK_SRC_KEYCLOAK);
	const char *del_bad[] = { "op", "delete", "type", "issuer", "iss", "i",
	                          "id", "", "source", "Keycloak" };
	TAP_CHECK_INT(kind_of(del_bad, N(del_bad), &r), RVK_REPL_ENTRY_BAD);
}

TAP_TEST(own_entries_are_skipped)
{
	const char *kv[] = { "op", "revoke", "type", "token", "iss", "i", "id", "j",
	                     "revoked_at", "1", "expires_at", "2", "origin", SELF };
	rvk_revocation_t r;
	TAP_CHECK_INT(kind_of(kv, N(kv), &r), RVK_REPL_ENTRY_OWN);
}

TAP_TEST(malformed_entries_are_refused)
{
	rvk_revocation_t r;
	/* A token revocation without an id: one the admin API refuses. */
	const char *no_id[] = { "op", "revoke", "type", "token", "iss", "i", "id", "",
	                        "revoked_at", "1", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(no_id, N(no_id), &r), RVK_REPL_ENTRY_BAD);
	const char *issuer_id[] = { "op", "revoke", "type", "issuer", "iss", "i",
	                            "id", "x", "revoked_at", "1", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(issuer_id, N(issuer_id), &r), RVK_REPL_ENTRY_BAD);
	const char *no_iss[] = { "op", "revoke", "type", "token", "iss", "", "id", "j",
	                         "revoked_at", "1", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(no_iss, N(no_iss), &r), RVK_REPL_ENTRY_BAD);
	const char *bad_type[] = { "op", "revoke", "type", "user", "iss", "i", "id",
	                           "j", "revoked_at", "1", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(bad_type, N(bad_type), &r), RVK_REPL_ENTRY_BAD);
	const char *bad_op[] = { "op", "upsert", "type", "token", "iss", "i", "id",
	                         "j", "revoked_at", "1", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(bad_op, N(bad_op), &r), RVK_REPL_ENTRY_BAD);
	const char *bad_time[] = { "op", "revoke", "type", "token", "iss", "i", "id",
	                           "j", "revoked_at", "1x", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(bad_time, N(bad_time), &r), RVK_REPL_ENTRY_BAD);
	const char *no_exp[] = { "op", "revoke", "type", "token", "iss", "i", "id",
	                         "j", "revoked_at", "1" };
	TAP_CHECK_INT(kind_of(no_exp, N(no_exp), &r), RVK_REPL_ENTRY_BAD);
	/* A revocation must say whose contribution it is. */
	const char *no_src[] = { "op", "revoke", "type", "token", "iss", "i", "id",
	                         "j", "revoked_at", "1", "expires_at", "2" };
	TAP_CHECK_INT(kind_of(no_src, N(no_src), &r), RVK_REPL_ENTRY_BAD);
	const char *bad_src[] = { "op", "revoke", "type", "token", "iss", "i", "id",
	                          "j", "revoked_at", "1", "expires_at", "2",
	                          "source", "nobody" };
	TAP_CHECK_INT(kind_of(bad_src, N(bad_src), &r), RVK_REPL_ENTRY_BAD);
	/* IDs are 1 to 255 bytes (base/id.h): a longer one never reaches
	 * the store, where it could stop a restart. */
	static char id255[256], id256[257];
	memset(id255, 'x', 255);
	memset(id256, 'x', 256);
	const char *long_id[] = { "op", "revoke", "type", "session", "iss", "i", "id",
	                          id256, "revoked_at", "1", "expires_at", "2",
	                          "source", "admin" };
	TAP_CHECK_INT(kind_of(long_id, N(long_id), &r), RVK_REPL_ENTRY_BAD);
	const char *max_id[] = { "op", "revoke", "type", "session", "iss", "i", "id",
	                         id255, "revoked_at", "1", "expires_at", "2",
	                         "source", "admin" };
	TAP_CHECK_INT(kind_of(max_id, N(max_id), &r), RVK_REPL_ENTRY_REVOKE);
	rvk_revocation_t k;
	char *iss, *kid, *reason;
	char field_s[300];
	snprintf(field_s, sizeof(field_s), "1:i%s", id256);
	TAP_CHECK(!rvk_repl_parse_key(field_s, "1 2 -", &k, &iss, &kid, &reason));
	free(iss);
	free(kid);
	free(reason);
}

TAP_TEST(xread_replies_of_another_shape_are_refused)
{
	redisReply *x = read_reply("*1\r\n$1\r\ns\r\n", true);
	TAP_CHECK(x && !rvk_repl_xread_entries(x));
	freeReplyObject(x);
	x = read_reply("*1\r\n*2\r\n$1\r\ns\r\n$1\r\nx\r\n", true);
	TAP_CHECK(x && !rvk_repl_xread_entries(x));
	freeReplyObject(x);
	x = read_reply("*1\r\n:5\r\n", true);
	TAP_CHECK(x && !rvk_repl_entry_id(x));
	freeReplyObject(x);
}

TAP_TEST(key_hash_pairs)
{
	rvk_revocation_t r;
	char *iss, *kid, *reason;
	TAP_CHECK(rvk_repl_parse_key("10:https://i/k1", "1764190000 admin 6:rotate",
	                             &r, &iss, &kid, &reason));
	TAP_CHECK_STR(r.iss, "https://i/");
	TAP_CHECK_STR(r.id, "k1");
	TAP_CHECK_STR(r.reason, "rotate");
	TAP_CHECK(r.type == RVK_REV_KEY && r.expires_at == RVK_NEVER
	          && r.revoked_at == 1764190000);
	TAP_CHECK_INT(r.source, RVK_SRC_ADMIN);
	free(iss), free(kid), free(reason);
	/* A value an older version wrote for a replica's row. */
	TAP_CHECK(rvk_repl_parse_key("1:ik", "7 replica -", &r, &iss, &kid, &reason));
	TAP_CHECK(r.reason == NULL);
	TAP_CHECK_INT(r.source, RVK_SRC_REPLICA);
	free(iss), free(kid), free(reason);
	/* One field per (key, source): the field's source and the value's agree. */
	TAP_CHECK(rvk_repl_parse_key("keycloak 10:https://i/k 1", "5 keycloak 3:a b",
	                             &r, &iss, &kid, &reason));
	TAP_CHECK_STR(r.iss, "https://i/");
	TAP_CHECK_STR(r.id, "k 1");
	TAP_CHECK_STR(r.reason, "a b");
	TAP_CHECK_INT(r.source, RVK_SRC_KEYCLOAK);
	TAP_CHECK_INT(r.revoked_at, 5);
	free(iss), free(kid), free(reason);
	/* What the publisher writes reads back as the same contribution. */
	rvk_revocation_t w = { .type = RVK_REV_KEY, .iss = "https://i", .id = "7 x",
	                       .revoked_at = 1764190000, .expires_at = RVK_NEVER,
	                       .reason = "rotated: see 1:2", .source = RVK_SRC_SET };
	char *f = rvk_repl_key_field(w.iss, w.id, &w.source), *v = rvk_repl_key_value(&w);
	TAP_CHECK_STR(f, "set 9:https://i7 x");
	TAP_CHECK_STR(v, "1764190000 set 16:rotated: see 1:2");
	TAP_CHECK(rvk_repl_parse_key(f, v, &r, &iss, &kid, &reason));
	TAP_CHECK(r.type == RVK_REV_KEY && r.source == RVK_SRC_SET && r.revoked_at == 1764190000
	          && r.expires_at == RVK_NEVER);
	TAP_CHECK_STR(r.iss, "https://i");
	TAP_CHECK_STR(r.id, "7 x");
	TAP_CHECK_STR(r.reason, "rotated: see 1:2");
	free(iss), free(kid), free(reason), free(f), free(v);
	f = rvk_repl_key_field("https://i", "k", NULL);
	TAP_CHECK_STR(f, "9:https://ik");
	free(f);
	const char *bad[][2] = {
		{ "admin 1:ik", "1 webhook -" },        /* sources disagree */
		{ "nobody 1:ik", "1 nobody -" },
		{ "admin  1:ik", "1 admin -" },
		{ "admin +1:ik", "1 admin -" },
		{ "admin", "1 admin -" },
		{ " 1:ik", "1 admin -" },
		{ "+1:ik", "1 admin -" },
		{ "10:https://i/", "1 admin -" },       /* no kid */
		{ "0:k", "1 admin -" },                 /* no issuer */
		{ "99:short", "1 admin -" },
		{ "x:ik", "1 admin -" },
		{ "1:ik", "x admin -" },
		{ "1:ik", "1 admin" },
		{ "1:ik", "1 admin 9:short" },
		{ "1:ik", "1 admin 5short" },
		{ "1:ik", "1 nobody -" },
		{ "1:ik", "1 administrator_of_all -" },
		/* Numbers as the publisher prints them (%lld, %zu), nothing
		 * strtol would also take: no sign, space or leading zero. */
		{ "1:ik", " 1 admin -" },
		{ "1:ik", "+1 admin -" },
		{ "1:ik", "01 admin -" },
		{ "01:ik", "1 admin -" },
		{ "admin 01:ik", "1 admin -" },
		{ "1:ik", "1 admin  1:x" },
		{ "1:ik", "1 admin +1:x" },
		{ "1:ik", "1 admin 01:x" },
		{ "1:ik", "1 admin -0:" },
	};
	for (size_t i = 0; i < N(bad); i++) {
		TAP_CHECK(!rvk_repl_parse_key(bad[i][0], bad[i][1], &r, &iss, &kid,
		                              &reason));
		free(iss), free(kid), free(reason);   /* owned on false too */
	}
}

/* An HGETALL pair as the consumer reads it: bulk strings whole, a NUL
 * inside one refused (the C parser would see only what precedes it). */
TAP_TEST(key_hash_pairs_from_a_reply)
{
	static const char ok[] = "*2\r\n$11\r\nadmin 1:ik1\r\n$9\r\n1 admin -\r\n";
	/* "admin 1:ik1\0x": a field that would read as kid "k1". */
	static const char nul_f[] = "*2\r\n$13\r\nadmin 1:ik1\0x\r\n$9\r\n1 admin -\r\n";
	static const char nul_v[] = "*2\r\n$11\r\nadmin 1:ik1\r\n$11\r\n1 admin -\0x\r\n";
	static const char not_bulk[] = "*2\r\n+admin 1:ik1\r\n$9\r\n1 admin -\r\n";
	const struct { const char *resp; size_t len; bool want; } cases[] = {
		{ ok, sizeof(ok) - 1, true },
		{ nul_f, sizeof(nul_f) - 1, false },
		{ nul_v, sizeof(nul_v) - 1, false },
		{ not_bulk, sizeof(not_bulk) - 1, false },
	};
	for (size_t i = 0; i < N(cases); i++) {
		redisReader *rd = redisReaderCreate();
		rvk_repl_bound_reader(rd);
		void *reply = NULL;
		TAP_CHECK_INT(redisReaderFeed(rd, cases[i].resp, cases[i].len), REDIS_OK);
		TAP_CHECK_INT(redisReaderGetReply(rd, &reply), REDIS_OK);
		redisReaderFree(rd);
		const redisReply *h = reply;
		TAP_CHECK(h && h->type == REDIS_REPLY_ARRAY && h->elements == 2);
		rvk_revocation_t r;
		char *iss, *kid, *reason;
		bool got = rvk_repl_parse_key_reply(h->element[0], h->element[1], &r, &iss,
		                                    &kid, &reason);
		TAP_CHECK(got == cases[i].want);
		if (got)
			TAP_CHECK_STR(r.id, "k1");
		free(iss), free(kid), free(reason);
		freeReplyObject(reply);
	}
}

TAP_TEST(a_huge_array_header_is_a_reader_error_not_an_allocation)
{
	/* Unbounded, hiredis would calloc 16 GB for this header alone. */
	TAP_CHECK(read_reply("*2000000000\r\n", true) == NULL);
	TAP_CHECK(read_reply("*1048577\r\n", true) == NULL);
	/* At the bound: allocated (8 MB), waiting for its elements. */
	redisReader *rd = redisReaderCreate();
	rvk_repl_bound_reader(rd);
	void *reply = NULL;
	TAP_CHECK_INT(redisReaderFeed(rd, "*1048576\r\n:1\r\n", 14), REDIS_OK);
	TAP_CHECK_INT(redisReaderGetReply(rd, &reply), REDIS_OK);
	TAP_CHECK(reply == NULL);       /* incomplete, not an error */
	redisReaderFree(rd);
}

/* Versions (store.c, "Versioned changes"): 1..2^63-1 with an origin. */
TAP_TEST(versions_need_an_origin_and_a_range)
{
	rvk_revocation_t r;
	const char *ok[] = { "op", "delete", "type", "token", "iss", "i", "id", "j",
	                     "origin", "aaaa", "version", "9223372036854775807" };
	TAP_CHECK_INT(kind_of(ok, N(ok), &r), RVK_REPL_ENTRY_DELETE);
	TAP_CHECK(r.version == 9223372036854775807ULL);
	const char *none[] = { "op", "delete", "type", "token", "iss", "i", "id", "j" };
	TAP_CHECK_INT(kind_of(none, N(none), &r), RVK_REPL_ENTRY_DELETE);
	TAP_CHECK(r.version == 0);
	static const char *const bad[] = { "0", "9223372036854775808", "-1", "1x",
	                                   "", " 1", "+1", "12345678901234567890" };
	for (size_t i = 0; i < N(bad); i++) {
		const char *e[] = { "op", "delete", "type", "token", "iss", "i", "id",
		                    "j", "origin", "aaaa", "version", bad[i] };
		TAP_CHECK_INT(kind_of(e, N(e), &r), RVK_REPL_ENTRY_BAD);
	}
	const char *orphan[] = { "op", "delete", "type", "token", "iss", "i", "id",
	                         "j", "version", "5" };
	TAP_CHECK_INT(kind_of(orphan, N(orphan), &r), RVK_REPL_ENTRY_BAD);
}

/* Reconciliation digests: what is written reads back; any other format
 * version, shape, or a stray byte is refused and writes nothing. */
TAP_TEST(digests_round_trip_and_nothing_else_parses)
{
	uint64_t d[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS], back[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		for (int b = 0; b < RVK_DIGEST_BUCKETS; b++)
			d[t][b] = (uint64_t)(t * 1000 + b) * 0x9e3779b97f4a7c15ULL;
	char *s = rvk_repl_format_digest(1764190000123, d);
	int64_t ms = 0;
	TAP_CHECK(rvk_repl_parse_digest(s, strlen(s), &ms, back));
	TAP_CHECK(ms == 1764190000123);
	TAP_CHECK(memcmp(d, back, sizeof(d)) == 0);
	size_t n = strlen(s);
	char *t = strdup(s);
	t[n - 1] = 'g';                         /* not hex */
	TAP_CHECK(!rvk_repl_parse_digest(t, n, &ms, back));
	TAP_CHECK(!rvk_repl_parse_digest(s, n - 1, &ms, back));  /* short */
	t[n - 1] = s[n - 1];
	TAP_CHECK(strncmp(s, "d3 ", 3) == 0);
	t[1] = '1';     /* d1: the format before DECISIONS D33 */
	TAP_CHECK(!rvk_repl_parse_digest(t, n, &ms, back));
	t[1] = '2';     /* d2: before D36, as a replica not yet upgraded
	                 * writes it */
	TAP_CHECK(!rvk_repl_parse_digest(t, n, &ms, back));
	free(t);
	char other[64];
	snprintf(other, sizeof(other), "d3 01764190000123 %d %d ", RVK_REV_TYPE_COUNT,
	         RVK_DIGEST_BUCKETS);           /* a leading zero */
	TAP_CHECK(!rvk_repl_parse_digest(other, strlen(other), &ms, back));
	TAP_CHECK(!rvk_repl_parse_digest("", 0, &ms, back));
	TAP_CHECK(ms == 1764190000123);         /* untouched on failure */
	free(s);
}

TAP_TEST(redis_versions_from_info)
{
	int ma = -1, mi = -1;
	const char *v7 = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n";
	TAP_CHECK(rvk_repl_info_version(v7, strlen(v7), &ma, &mi));
	TAP_CHECK(ma == 7 && mi == 0);
	const char *v62 = "redis_version:6.2.0";
	TAP_CHECK(rvk_repl_info_version(v62, strlen(v62), &ma, &mi) && ma == 6 && mi == 2);
	static const char *const bad[] = { "redis_version:", "redis_version:7",
	                                   "redis_version:x.1", "version:7.0.1",
	                                   "redis_version:7.", "" };
	for (size_t i = 0; i < N(bad); i++)
		TAP_CHECK(!rvk_repl_info_version(bad[i], strlen(bad[i]), &ma, &mi));
}

int
main(void)
{
	return tap_main(TAP_LIST(a_revocation_as_the_publisher_writes_it,
	                         key_revocations_never_expire_and_deletes_need_no_times,
	                         own_entries_are_skipped,
	                         malformed_entries_are_refused,
	                         xread_replies_of_another_shape_are_refused,
	                         key_hash_pairs,
	                         key_hash_pairs_from_a_reply,
	                         a_huge_array_header_is_a_reader_error_not_an_allocation,
	                         versions_need_an_origin_and_a_range,
	                         digests_round_trip_and_nothing_else_parses,
	                         redis_versions_from_info));
}
