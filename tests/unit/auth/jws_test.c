/* Step 1 of REFERENCE §3: size, characters, segments, base64url, JSON, types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/alg.h"
#include "auth/jws.h"
#include "base/b64.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

#define HDR "{\"alg\":\"HS256\"}"
#define PAY "{\"iss\":\"i\",\"exp\":100,\"iat\":50}"

static rvk_reason_t
parse(const char *t)
{
	rvk_jws_t j;
	rvk_reason_t r = rvk_jws_parse(t, strlen(t), 8192, &j);
	if (r == RVK_REASON_OK)
		rvk_jws_fini(&j);
	else
		TAP_CHECK(j.header == NULL && j.payload == NULL && j.sig == NULL);
	return r;
}

static rvk_reason_t
parse_parts(const char *h, const char *p, const char *sig)
{
	char *t = tk_token(h, p, sig);
	rvk_reason_t r = parse(t);
	free(t);
	return r;
}

TAP_TEST(alg_names_are_exact)
{
	rvk_alg_t a;
	TAP_CHECK(rvk_alg_parse("RS256", 5, &a) && a == RVK_ALG_RS256);
	TAP_CHECK(rvk_alg_parse("ES512", 5, &a) && a == RVK_ALG_ES512);
	TAP_CHECK(rvk_alg_parse("HS384", 5, &a) && a == RVK_ALG_HS384);
	TAP_CHECK(!rvk_alg_parse("rs256", 5, &a));
	TAP_CHECK(!rvk_alg_parse("none", 4, &a));
	TAP_CHECK(!rvk_alg_parse("None", 4, &a));
	TAP_CHECK(!rvk_alg_parse("RS2560", 6, &a));
	TAP_CHECK(!rvk_alg_parse("RS25", 4, &a));
	TAP_CHECK(rvk_alg_parse("PS256", 5, &a) && a == RVK_ALG_PS256);
	TAP_CHECK(rvk_alg_parse("EdDSA", 5, &a) && a == RVK_ALG_EDDSA);
	TAP_CHECK(!rvk_alg_parse("EDDSA", 5, &a));
	TAP_CHECK(!rvk_alg_parse("Ed25519", 7, &a));
	for (int i = 0; i < RVK_ALG_COUNT; i++) {
		const char *n = rvk_alg_name((rvk_alg_t)i);
		TAP_CHECK(rvk_alg_parse(n, strlen(n), &a) && a == (rvk_alg_t)i);
		int kinds = rvk_alg_is_hmac(a) + rvk_alg_is_rsa(a) + rvk_alg_is_ec(a)
		            + rvk_alg_is_eddsa(a);
		TAP_CHECK_INT(kinds, 1);
	}
}

TAP_TEST(well_formed_token_fills_fields)
{
	char *t = tk_token("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}",
	                   "{\"iss\":\"https://i\",\"sub\":\"u\",\"jti\":\"j\","
	                   "\"sid\":\"s\",\"exp\":1.9e9,\"iat\":1700000000,"
	                   "\"nbf\":-5.7,\"aud\":[\"a\",\"b\"]}",
	                   "AAEC");
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 8192, &j), RVK_REASON_OK);
	TAP_CHECK_STR(j.alg, "ES256");
	TAP_CHECK_STR(j.kid, "k1");
	TAP_CHECK_INT(j.kid_len, 2);
	TAP_CHECK_STR(j.typ, "at+jwt");
	TAP_CHECK_STR(j.iss, "https://i");
	TAP_CHECK_STR(j.sub, "u");
	TAP_CHECK_STR(j.jti, "j");
	TAP_CHECK_STR(j.sid, "s");
	TAP_CHECK(j.has_exp && j.exp == 1900000000);
	TAP_CHECK(j.has_iat && j.iat == 1700000000);
	TAP_CHECK(j.has_nbf && j.nbf == -5);
	TAP_CHECK(!j.has_crit);
	TAP_CHECK_INT(j.sig_len, 3);
	TAP_CHECK(j.sig[0] == 0 && j.sig[1] == 1 && j.sig[2] == 2);
	TAP_CHECK_INT(j.signing_input_len, strrchr(t, '.') - t);
	TAP_CHECK(j.token == t && j.len == strlen(t));
	rvk_jws_fini(&j);
	TAP_CHECK(j.header == NULL);
	free(t);
}

TAP_TEST(size_is_checked_first)
{
	char *t = tk_token(HDR, PAY, "");
	size_t n = strlen(t);
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, n, n - 1, &j), RVK_REASON_TOO_LARGE);
	TAP_CHECK_INT(rvk_jws_parse(t, n, n, &j), RVK_REASON_OK);
	rvk_jws_fini(&j);
	free(t);
	/* Too large wins over malformed. */
	TAP_CHECK_INT(rvk_jws_parse("!!!!", 4, 3, &j), RVK_REASON_TOO_LARGE);
}

TAP_TEST(segments_and_characters)
{
	char *h = tk_b64(HDR, strlen(HDR)), *p = tk_b64(PAY, strlen(PAY));
	char buf[512];
	const char *fmts[] = {
		"%s.%s",          /* two segments */
		"%s.%s.sig.x",    /* four segments */
		"%s%s",           /* one */
		"%s.%s.ab+c",     /* base64 (not url) character */
		"%s.%s.ab/c",
		"%s.%s.abc=",     /* padding */
		"%s.%s.ab c",     /* space */
		"%s.%s.abc\n",
		" %s.%s.abc",
		"%s.%s.a",        /* impossible length */
		"%s.%s.QR",       /* leftover bits */
		"%s=.%s.abc",
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(fmts); i++) {
		snprintf(buf, sizeof(buf), fmts[i], h, p);
		if (parse(buf) != RVK_REASON_MALFORMED)
			TAP_FAIL_AT("not malformed: %s", fmts[i]);
	}
	snprintf(buf, sizeof(buf), "%s.%s.", h, p); /* empty signature parses */
	TAP_CHECK_INT(parse(buf), RVK_REASON_OK);
	snprintf(buf, sizeof(buf), ".%s.", p);
	TAP_CHECK_INT(parse(buf), RVK_REASON_MALFORMED);
	snprintf(buf, sizeof(buf), "%s..", h);
	TAP_CHECK_INT(parse(buf), RVK_REASON_MALFORMED);
	TAP_CHECK_INT(parse(""), RVK_REASON_MALFORMED);
	TAP_CHECK_INT(parse(".."), RVK_REASON_MALFORMED);
	/* A NUL byte inside the token (len covers it). */
	snprintf(buf, sizeof(buf), "%s.%s.abc", h, p);
	size_t n = strlen(buf);
	buf[3] = '\0';
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(buf, n, 8192, &j), RVK_REASON_MALFORMED);
	/* A high byte. */
	snprintf(buf, sizeof(buf), "%s.%s.ab\xc3\xa9", h, p);
	TAP_CHECK_INT(parse(buf), RVK_REASON_MALFORMED);
	free(h);
	free(p);
}

TAP_TEST(json_documents)
{
	const char *bad_headers[] = {
		"[\"alg\",\"HS256\"]", "\"HS256\"", "{\"alg\":\"HS256\"", "",
		"{\"alg\":\"HS256\",\"alg\":\"HS256\"}",       /* duplicate */
		"{\"alg\":\"HS256\"} x",                        /* trailing */
		"{\"alg\":\"HS256\",\"k\":\"a\\u0000b\"}",      /* NUL */
		"{\"alg\":\"HS256\",\"kid\":1}", "{\"alg\":\"HS256\",\"typ\":{}}",
		"{\"alg\":\"HS256\",\"x\":\"\xff\"}",           /* not UTF-8 */
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(bad_headers); i++)
		if (parse_parts(bad_headers[i], PAY, "") != RVK_REASON_MALFORMED)
			TAP_FAIL_AT("header accepted: %s", bad_headers[i]);
	const char *bad_payloads[] = {
		"[]", "1", "null", "{", "{\"iss\":\"i\",\"iss\":\"i\"}",
		"{\"sub\":true}", "{\"jti\":[]}", "{\"sid\":{}}",
		"{\"exp\":\"100\"}", "{\"iat\":null}", "{\"nbf\":true}",
		"{\"exp\":1e19}", "{\"exp\":-1e19}", "{\"exp\":9223372036854775808}",
		"{\"exp\":1e400}", "{\"aud\":1}", "{\"aud\":[\"a\",1]}",
		"{\"aud\":{}}", "{\"x\":\"\\u0000\"}",
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(bad_payloads); i++)
		if (parse_parts(HDR, bad_payloads[i], "") != RVK_REASON_MALFORMED)
			TAP_FAIL_AT("payload accepted: %s", bad_payloads[i]);
	/* Raw NUL bytes in a decoded document (jansson skips one after a
	 * number; found by fuzz_differential). */
	static const char nul_docs[][16] = {
		"{\"a\":[1\0]}", "{\"a\":1\0}", "{\"a\":\"\0\"}", "{}\0",
	};
	static const size_t nul_lens[] = { 10, 8, 9, 3 };
	for (size_t i = 0; i < RVK_ARRAY_LEN(nul_docs); i++) {
		char *p = tk_b64(nul_docs[i], nul_lens[i]);
		char *h = tk_b64(HDR, strlen(HDR));
		char t[128];
		snprintf(t, sizeof(t), "%s.%s.", h, p);
		if (parse(t) != RVK_REASON_MALFORMED)
			TAP_FAIL_AT("NUL document %zu accepted", i);
		snprintf(t, sizeof(t), "%s.%s.", p, h);
		if (parse(t) != RVK_REASON_MALFORMED)
			TAP_FAIL_AT("NUL header %zu accepted", i);
		free(p);
		free(h);
	}
	const char *good_payloads[] = {
		"{}", "{\"exp\":9223372036854775807}", "{\"exp\":-9.2e18}",
		"{\"aud\":[]}", "{\"aud\":\"a\"}", "{\"nested\":{\"a\":[1,2]}}",
		"{\"iss\":\"\xc3\xa9\"}",
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(good_payloads); i++)
		if (parse_parts(HDR, good_payloads[i], "") != RVK_REASON_OK)
			TAP_FAIL_AT("payload refused: %s", good_payloads[i]);
	/* Unknown algorithm names are a step-3 matter, not malformed; so are a
	 * missing alg and one that is not a string (REFERENCE §3 step 3), and an iss
	 * that is not a string is a step-2 matter ("unknown issuer"). */
	TAP_CHECK_INT(parse_parts("{\"alg\":\"none\"}", PAY, ""), RVK_REASON_OK);
	TAP_CHECK_INT(parse_parts("{\"alg\":\"\"}", PAY, ""), RVK_REASON_OK);
	const char *later_headers[] = {
		"{\"typ\":\"JWT\"}", "{\"alg\":null}", "{\"alg\":256}",
		"{\"alg\":[\"HS256\"]}",
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(later_headers); i++)
		if (parse_parts(later_headers[i], PAY, "") != RVK_REASON_OK)
			TAP_FAIL_AT("header refused at step 1: %s", later_headers[i]);
	const char *later_payloads[] = { "{\"iss\":1}", "{\"iss\":null}",
	                                 "{\"iss\":[\"i\"]}" };
	for (size_t i = 0; i < RVK_ARRAY_LEN(later_payloads); i++)
		if (parse_parts(HDR, later_payloads[i], "") != RVK_REASON_OK)
			TAP_FAIL_AT("payload refused at step 1: %s", later_payloads[i]);
}

TAP_TEST(crit_is_recorded)
{
	char *t = tk_token("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", PAY, "");
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 8192, &j), RVK_REASON_OK);
	TAP_CHECK(j.has_crit);
	rvk_jws_fini(&j);
	free(t);
}

TAP_TEST(real_times_truncate)
{
	char *t = tk_token(HDR, "{\"exp\":100.99,\"iat\":-0.5,\"nbf\":7}", "");
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 8192, &j), RVK_REASON_OK);
	TAP_CHECK_INT(j.exp, 100);
	TAP_CHECK_INT(j.iat, 0);
	TAP_CHECK_INT(j.nbf, 7);
	rvk_jws_fini(&j);
	free(t);
}

/* The signature segment's decoder (jws.c has its own, table-driven) accepts
 * exactly what base/b64.h's strict decoder accepts, with the same bytes:
 * every length 0-13 over a 6-character alphabet that covers the last
 * digit's unused bits (A: none set; B, Q, g, w, _: some set), plus random
 * texts over the whole alphabet. */
static void
same_as_b64(const char *sig)
{
	char *t = tk_token(HDR, PAY, sig);
	rvk_jws_t j;
	rvk_reason_t r = rvk_jws_parse(t, strlen(t), 8192, &j);
	unsigned char want[64];
	size_t want_len = 0;
	bool ok = rvk_b64url_decode(sig, strlen(sig), want, &want_len);
	if (ok != (r == RVK_REASON_OK))
		TAP_FAIL_AT("\"%s\": base/b64 %s, jws %s", sig, ok ? "accepts" : "refuses",
		            rvk_reason_str(r));
	else if (ok && (j.sig_len != want_len || memcmp(j.sig, want, want_len) != 0))
		TAP_FAIL_AT("\"%s\": other bytes", sig);
	if (r == RVK_REASON_OK)
		rvk_jws_fini(&j);
	free(t);
}

TAP_TEST(signature_decoding_is_strict)
{
	static const char few[] = "ABQgw_";
	char sig[48];
	for (size_t n = 0; n <= 6; n++) {
		size_t combos = 1;
		for (size_t i = 0; i < n; i++)
			combos *= 6;
		for (size_t k = 0; k < combos; k++) {
			size_t x = k;
			for (size_t i = 0; i < n; i++, x /= 6)
				sig[i] = few[x % 6];
			sig[n] = 0;
			same_as_b64(sig);
		}
	}
	static const char all[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 7 + (seed >> 16) % 40;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			sig[i] = all[(seed >> 16) % 64];
		}
		sig[n] = 0;
		same_as_b64(sig);
	}
}

/* Which parser read the payload: 'f' the fast scanner, 'j' jansson, 0 a
 * refusal; the reason must be the jansson path's either way. */
static char
fast_path_of(const char *payload)
{
	char *t = tk_token(HDR, payload, "AAEC");
	rvk_jws_t ref, j;
	rvk_reason_t r0 = rvk_jws_parse(t, strlen(t), 8192, &ref);
	rvk_reason_t r = rvk_jws_parse_fast(t, strlen(t), 8192, &j);
	TAP_CHECK_INT(r, r0);
	char got = 0;
	if (r == RVK_REASON_OK) {
		got = j.claims != NULL ? 'f' : 'j';
		TAP_CHECK(json_equal(rvk_jws_payload(&j), ref.payload));
		rvk_jws_fini(&j);
		rvk_jws_fini(&ref);
	}
	free(t);
	return got;
}

TAP_TEST(fast_scanner_takes_plain_payloads_and_defers_the_rest)
{
	/* Taken: what IdPs sign. */
	TAP_CHECK_INT(fast_path_of(PAY), 'f');
	TAP_CHECK_INT(fast_path_of(" {\"iss\" : \"i\",\n\"exp\":100,\t\"iat\":50,"
	                           "\"aud\":[\"a\",\"b\"],\"ra\":{\"roles\":[\"x\"]},"
	                           "\"v\":true,\"n\":null,\"m\":-0,\"e\":[]}\r"), 'f');
	/* Deferred to jansson, which accepts. */
	TAP_CHECK_INT(fast_path_of("{\"iss\":\"i\\/\",\"exp\":100,\"iat\":50}"), 'j');
	TAP_CHECK_INT(fast_path_of("{\"iss\":\"\xc3\xa9\",\"exp\":100,\"iat\":50}"), 'j');
	TAP_CHECK_INT(fast_path_of("{\"iss\":\"i\",\"exp\":1.5,\"iat\":50}"), 'j');
	TAP_CHECK_INT(fast_path_of("{\"iss\":\"i\",\"exp\":1e3,\"iat\":50}"), 'j');
	TAP_CHECK_INT(fast_path_of("{\"iss\":\"i\",\"exp\":1234567890123456789,\"iat\":50}"), 'j');
	TAP_CHECK_INT(fast_path_of("{\"aud\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}"), 'j');
	/* Deferred to jansson, which refuses: the same "malformed token". */
	TAP_CHECK_INT(fast_path_of("{\"jti\":\"a\",\"jti\":\"b\"}"), 0);
	TAP_CHECK_INT(fast_path_of("{\"o\":{\"a\":1,\"a\":1}}"), 0);
	TAP_CHECK_INT(fast_path_of("{\"exp\":\"1\"}"), 0);
	TAP_CHECK_INT(fast_path_of("{\"iss\":null}"), 'j');  /* iss NULL: step 2 */
	TAP_CHECK_INT(fast_path_of("{\"aud\":[\"a\",1]}"), 0);
	TAP_CHECK_INT(fast_path_of("{\"exp\":01}"), 0);
	TAP_CHECK_INT(fast_path_of("{\"b\":truex}"), 0);
	TAP_CHECK_INT(fast_path_of("{} x"), 0);
	TAP_CHECK_INT(fast_path_of("[1]"), 0);
	TAP_CHECK_INT(fast_path_of("{\"a\":1,}"), 0);
	/* Deferred: jansson's path refuses it for its memory price
	 * (base/json.h); the scanner counts the same and defers. */
	char dense[4096] = "{\"iss\":\"i\",\"exp\":100,\"iat\":50,\"d\":[";
	for (int i = 0; i < 400; i++)
		strcat(dense, i ? ",[]" : "[]");
	strcat(dense, "]}");
	TAP_CHECK_INT(fast_path_of(dense), 0);
}

/* The fast path decodes the signature into the payload's allocation; the
 * bytes are the jansson path's, whatever the signature's length, and a bad
 * signature is "malformed token" there too (ASan: nothing leaks). */
TAP_TEST(fast_path_signature_shares_the_payload_allocation)
{
	static const char *const sigs[] = { "", "AA", "AAE", "AAEC", "_-_-_-_-",
	                                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" };
	static const char *const pays[] = { PAY, "{\"iss\":\"i\\/\",\"exp\":100}" };
	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
			char *t = tk_token(HDR, pays[p], sigs[i]);
			rvk_jws_t ref, j;
			TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 8192, &ref), RVK_REASON_OK);
			TAP_CHECK_INT(rvk_jws_parse_fast(t, strlen(t), 8192, &j), RVK_REASON_OK);
			TAP_CHECK(j.sig_in_claims == (p == 0));
			TAP_CHECK(!ref.sig_in_claims);
			TAP_CHECK_INT(j.sig_len, ref.sig_len);
			TAP_CHECK(j.sig_len == 0 || memcmp(j.sig, ref.sig, j.sig_len) == 0);
			rvk_jws_fini(&j);
			rvk_jws_fini(&ref);
			free(t);
		}
	for (size_t p = 0; p < 2; p++) {
		char *t = tk_token(HDR, pays[p], "AAE_C");     /* 5 chars: no bytes */
		rvk_jws_t j;
		TAP_CHECK_INT(rvk_jws_parse_fast(t, strlen(t), 8192, &j), RVK_REASON_MALFORMED);
		TAP_CHECK(j.sig == NULL && j.claims == NULL && j.payload == NULL);
		free(t);
	}
}

int
main(void)
{
	return tap_main(TAP_LIST(alg_names_are_exact, well_formed_token_fills_fields,
	                         size_is_checked_first, segments_and_characters,
	                         json_documents, crit_is_recorded,
	                         real_times_truncate, signature_decoding_is_strict,
	                         fast_scanner_takes_plain_payloads_and_defers_the_rest,
	                         fast_path_signature_shares_the_payload_allocation));
}
