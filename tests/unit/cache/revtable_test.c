/* Unit tests of cache/revtable: REFERENCE §4 semantics with an injected `now`. */
#include "base/clock.h"
#include "base/rcu.h"
#include "cache/revtable.h"
#include "tests/support/tap.h"

#define S(x) x, sizeof(x) - 1

static rvk_rev_query_t
query(const char *iss, const char *jti, const char *sid, const char *sub,
      const char *kid, int64_t iat)
{
	rvk_rev_query_t q = { .iat = iat };
	q.iss = iss; q.iss_len = iss ? strlen(iss) : 0;
	q.jti = jti; q.jti_len = jti ? strlen(jti) : 0;
	q.sid = sid; q.sid_len = sid ? strlen(sid) : 0;
	q.sub = sub; q.sub_len = sub ? strlen(sub) : 0;
	q.kid = kid; q.kid_len = kid ? strlen(kid) : 0;
	return q;
}

TAP_TEST(type_names_round_trip)
{
	rvk_rev_type_t t;
	for (unsigned i = 0; i < RVK_REV_TYPE_COUNT; i++) {
		TAP_CHECK(rvk_rev_type_parse(rvk_rev_type_name((rvk_rev_type_t)i), &t));
		TAP_CHECK_INT(t, i);
	}
	TAP_CHECK_STR(rvk_rev_type_name(RVK_REV_SESSION), "session");
	TAP_CHECK(!rvk_rev_type_parse("Token", &t));
	TAP_CHECK(!rvk_rev_type_parse("", &t));
	TAP_CHECK(!rvk_rev_type_parse(NULL, &t));
}

TAP_TEST(token_denies_that_token_whatever_its_iat)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	TAP_CHECK(rvk_revtable_put(t, RVK_REV_TOKEN, S("iss1"), S("jti-1"), 100, 200));
	rvk_rev_query_t q = query("iss1", "jti-1", NULL, NULL, NULL, 150);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 120), RVK_REASON_TOKEN_REVOKED);
	q.iat = 10;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 120), RVK_REASON_TOKEN_REVOKED);
	q = query("iss2", "jti-1", NULL, NULL, NULL, 150);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 120), RVK_REASON_OK);
	q = query("iss1", "jti-2", NULL, NULL, NULL, 150);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 120), RVK_REASON_OK);
	q = query("iss1", NULL, NULL, NULL, NULL, 150);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 120), RVK_REASON_OK);
	rvk_revtable_free(t);
}

static void
check_iat_rule(rvk_rev_type_t type, rvk_reason_t reason)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	const char *id = type == RVK_REV_ISSUER ? "" : "who";
	rvk_revtable_put(t, type, S("iss"), id, strlen(id), 100, 1000);
	rvk_rev_query_t q = query("iss", "j", type == RVK_REV_SESSION ? "who" : "s0",
	                          type == RVK_REV_SUBJECT ? "who" : "u0", "k0", 99);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 500), reason);
	q.iat = 100;   /* "at or before revoked_at" */
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 500), reason);
	q.iat = 101;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 500), RVK_REASON_OK);
	q.iat = 99;
	q.iss = "other"; q.iss_len = 5;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 500), RVK_REASON_OK);
	rvk_revtable_free(t);
}

TAP_TEST(session_subject_issuer_deny_iat_up_to_revoked_at)
{
	check_iat_rule(RVK_REV_SESSION, RVK_REASON_SESSION_REVOKED);
	check_iat_rule(RVK_REV_SUBJECT, RVK_REASON_SUBJECT_REVOKED);
	check_iat_rule(RVK_REV_ISSUER, RVK_REASON_ISSUER_REVOKED);
}

TAP_TEST(key_denies_any_iat_and_never_expires)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 30);
	TAP_CHECK(rvk_revtable_put(t, RVK_REV_KEY, S("iss"), S("kid-1"), 100, RVK_NEVER));
	rvk_rev_query_t q = query("iss", "j", "s", "u", "kid-1", 5000);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 6000), RVK_REASON_KEY_REVOKED);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, INT64_MAX), RVK_REASON_KEY_REVOKED);
	TAP_CHECK_INT(rvk_revtable_sweep(t, INT64_MAX), 0);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_KEY), 1);
	q.kid = "kid-2"; q.kid_len = 5;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 6000), RVK_REASON_OK);
	q.kid = NULL; q.kid_len = 0;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 6000), RVK_REASON_OK);
	rvk_revtable_free(t);
}

TAP_TEST(check_order_is_token_session_subject_issuer_key)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	rvk_rev_query_t q = query("i", "j", "s", "u", "k", 10);
	rvk_revtable_put(t, RVK_REV_KEY, S("i"), S("k"), 100, RVK_NEVER);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 50), RVK_REASON_KEY_REVOKED);
	rvk_revtable_put(t, RVK_REV_ISSUER, S("i"), S(""), 100, 1000);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 50), RVK_REASON_ISSUER_REVOKED);
	rvk_revtable_put(t, RVK_REV_SUBJECT, S("i"), S("u"), 100, 1000);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 50), RVK_REASON_SUBJECT_REVOKED);
	rvk_revtable_put(t, RVK_REV_SESSION, S("i"), S("s"), 100, 1000);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 50), RVK_REASON_SESSION_REVOKED);
	rvk_revtable_put(t, RVK_REV_TOKEN, S("i"), S("j"), 100, 1000);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 50), RVK_REASON_TOKEN_REVOKED);
	/* A newer token passes session/subject/issuer but not the key. */
	q = query("i", "j2", "s", "u", "k", 200);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 50), RVK_REASON_KEY_REVOKED);
	rvk_revtable_free(t);
}

TAP_TEST(re_revoke_keeps_the_later_times)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	int64_t ra = 0, ea = 0;
	TAP_CHECK(rvk_revtable_put(t, RVK_REV_SESSION, S("i"), S("s"), 100, 200));
	TAP_CHECK(!rvk_revtable_put(t, RVK_REV_SESSION, S("i"), S("s"), 50, 300));
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_SESSION, S("i"), S("s"), &ra, &ea));
	TAP_CHECK_INT(ra, 100);
	TAP_CHECK_INT(ea, 300);
	TAP_CHECK(!rvk_revtable_put(t, RVK_REV_SESSION, S("i"), S("s"), 150, 250));
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_SESSION, S("i"), S("s"), &ra, &ea));
	TAP_CHECK_INT(ra, 150);
	TAP_CHECK_INT(ea, 300);
	TAP_CHECK(!rvk_revtable_put(t, RVK_REV_SESSION, S("i"), S("s"), 10, 20));
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_SESSION, S("i"), S("s"), &ra, &ea));
	TAP_CHECK_INT(ra, 150);
	TAP_CHECK_INT(ea, 300);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_SESSION), 1);
	rvk_rev_query_t q = query("i", NULL, "s", NULL, NULL, 150);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 290), RVK_REASON_SESSION_REVOKED);
	rvk_revtable_free(t);
}

TAP_TEST(expired_entries_deny_nothing_and_are_swept)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 10);
	rvk_revtable_put(t, RVK_REV_TOKEN, S("i"), S("j"), 100, 200);
	rvk_revtable_put(t, RVK_REV_SUBJECT, S("i"), S("u"), 100, 200);
	rvk_revtable_put(t, RVK_REV_SUBJECT, S("i"), S("u2"), 100, 500);
	rvk_rev_query_t q = query("i", "j", NULL, "u", NULL, 50);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 210), RVK_REASON_TOKEN_REVOKED);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 211), RVK_REASON_OK);
	q.jti = NULL;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 210), RVK_REASON_SUBJECT_REVOKED);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 211), RVK_REASON_OK);
	TAP_CHECK_INT(rvk_revtable_sweep(t, 210), 0);
	/* get sees an expired entry until it is swept. */
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_TOKEN, S("i"), S("j"), NULL, NULL));
	TAP_CHECK_INT(rvk_revtable_sweep(t, 211), 2);
	TAP_CHECK(!rvk_revtable_get(t, RVK_REV_TOKEN, S("i"), S("j"), NULL, NULL));
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), 0);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_SUBJECT), 1);
	q.sub = "u2"; q.sub_len = 2;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 211), RVK_REASON_SUBJECT_REVOKED);
	/* Re-revoking after a sweep makes a new entry. */
	TAP_CHECK(rvk_revtable_put(t, RVK_REV_TOKEN, S("i"), S("j"), 300, 400));
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), 1);
	rvk_revtable_free(t);
}

TAP_TEST(delete_and_counts_per_type)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	rvk_revtable_put(t, RVK_REV_TOKEN, S("i"), S("a"), 1, 10);
	rvk_revtable_put(t, RVK_REV_TOKEN, S("i"), S("b"), 1, 10);
	rvk_revtable_put(t, RVK_REV_SESSION, S("i"), S("a"), 1, 10);
	rvk_revtable_put(t, RVK_REV_ISSUER, S("i"), S(""), 1, 10);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), 2);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_SESSION), 1);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_SUBJECT), 0);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_ISSUER), 1);
	TAP_CHECK(rvk_revtable_delete(t, RVK_REV_TOKEN, S("i"), S("a")));
	TAP_CHECK(!rvk_revtable_delete(t, RVK_REV_TOKEN, S("i"), S("a")));
	TAP_CHECK(!rvk_revtable_delete(t, RVK_REV_SUBJECT, S("i"), S("a")));
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_TOKEN), 1);
	/* The session "a" is untouched by deleting the token "a". */
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_SESSION, S("i"), S("a"), NULL, NULL));
	rvk_rev_query_t q = query("i", "a", NULL, NULL, NULL, 1);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 5), RVK_REASON_ISSUER_REVOKED);
	rvk_revtable_delete(t, RVK_REV_ISSUER, S("i"), S(""));
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 5), RVK_REASON_OK);
	rvk_revtable_free(t);
}

TAP_TEST(keys_are_unambiguous)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	rvk_revtable_put(t, RVK_REV_SESSION, S("ab"), S("c"), 100, 1000);
	rvk_rev_query_t q = query("a", NULL, "bc", NULL, NULL, 1);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_OK);
	q = query("abc", NULL, "", NULL, NULL, 1);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_OK);
	/* Same (iss, id) under another type denies nothing. */
	q = query("ab", "c", NULL, "c", "c", 1);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_OK);
	q = query("ab", NULL, "c", NULL, NULL, 1);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_SESSION_REVOKED);
	/* Bytes, not strings: an embedded NUL is part of the id. */
	rvk_revtable_put(t, RVK_REV_TOKEN, S("i"), "x\0y", 3, 1, 1000);
	TAP_CHECK(!rvk_revtable_get(t, RVK_REV_TOKEN, S("i"), "x", 1, NULL, NULL));
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_TOKEN, S("i"), "x\0y", 3, NULL, NULL));
	rvk_revtable_free(t);
}

TAP_TEST(long_and_missing_issuer)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	char iss[600], id[700];
	memset(iss, 'i', sizeof(iss));
	memset(id, 'd', sizeof(id));
	TAP_CHECK(rvk_revtable_put(t, RVK_REV_SUBJECT, iss, sizeof(iss), id, sizeof(id), 100, 1000));
	rvk_rev_query_t q = { .iss = iss, .iss_len = sizeof(iss), .sub = id,
	                      .sub_len = sizeof(id), .iat = 100 };
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_SUBJECT_REVOKED);
	q.sub_len--;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_OK);
	/* A NULL iss is the empty issuer. */
	rvk_revtable_put(t, RVK_REV_TOKEN, "", 0, S("j"), 100, 1000);
	q = query(NULL, "j", NULL, NULL, NULL, 1);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 10), RVK_REASON_TOKEN_REVOKED);
	rvk_revtable_free(t);
}

/* set: exactly the given times, lower ones too (what the other sources
 * still hold after one source's contribution left). */
TAP_TEST(set_replaces_the_times_even_with_earlier_ones)
{
	rvk_revtable_t *t = rvk_revtable_new(16, 0);
	TAP_CHECK(rvk_revtable_put(t, RVK_REV_ISSUER, S("iss"), "", 0, 300, 1300));
	rvk_rev_query_t q = query("iss", NULL, NULL, NULL, NULL, 200);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 250), RVK_REASON_ISSUER_REVOKED);
	TAP_CHECK(!rvk_revtable_set(t, RVK_REV_ISSUER, S("iss"), "", 0, 100, 1100));
	int64_t at = 0, exp = 0;
	TAP_CHECK(rvk_revtable_get(t, RVK_REV_ISSUER, S("iss"), "", 0, &at, &exp));
	TAP_CHECK_INT(at, 100);
	TAP_CHECK_INT(exp, 1100);
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 250), RVK_REASON_OK);
	q.iat = 100;
	TAP_CHECK_INT(rvk_revtable_check(t, &q, 250), RVK_REASON_ISSUER_REVOKED);
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_ISSUER), 1);
	/* On an absent key: a new entry, counted. */
	TAP_CHECK(rvk_revtable_set(t, RVK_REV_KEY, S("iss"), S("k"), 5, RVK_NEVER));
	TAP_CHECK_INT(rvk_revtable_count(t, RVK_REV_KEY), 1);
	rvk_revtable_free(t);
}

/* base/id.h: 1 to 255 bytes, no NUL; an issuer revocation's id empty. */
TAP_TEST(key_validity_is_the_id_rule)
{
	char id[257];
	memset(id, 'x', sizeof(id));
	TAP_CHECK(rvk_rev_key_valid(RVK_REV_TOKEN, "i", 1, id, 255));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_TOKEN, "i", 1, id, 256));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_SESSION, "i", 1, "", 0));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_SUBJECT, id, 256, "s", 1));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_SUBJECT, "", 0, "s", 1));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_KEY, "i", 1, "k\0k", 3));
	TAP_CHECK(rvk_rev_key_valid(RVK_REV_ISSUER, "i", 1, "", 0));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_ISSUER, "i", 1, "x", 1));
	TAP_CHECK(!rvk_rev_key_valid(RVK_REV_TYPE_COUNT, "i", 1, "x", 1));
}

int
main(void)
{
	int rc = tap_main(TAP_LIST(type_names_round_trip,
	                           key_validity_is_the_id_rule,
	                           token_denies_that_token_whatever_its_iat,
	                           session_subject_issuer_deny_iat_up_to_revoked_at,
	                           key_denies_any_iat_and_never_expires,
	                           check_order_is_token_session_subject_issuer_key,
	                           re_revoke_keeps_the_later_times,
	                           expired_entries_deny_nothing_and_are_swept,
	                           delete_and_counts_per_type, keys_are_unambiguous,
	                           long_and_missing_issuer,
	                           set_replaces_the_times_even_with_earlier_ones));
	rvk_rcu_barrier();
	return rc;
}
