/* REFERENCE §3 steps 1-5 end to end: one test per reason, their order, attacks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "auth/mint.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

#define NOW 1700000000LL
#define ISS "https://idp.example"

static rvk_issuers_t issuers;
static rvk_policy_t policy = {
	.leeway = 30, .max_token_bytes = 8192, .max_token_lifetime = 86400,
	.require_jti = true,
};

static void
setup(void)
{
	rvk_key_t *k1[] = {
		tk_key(RVK_ALG_ES256, 0, "e1"),
		tk_key(RVK_ALG_HS256, 0, "h1"),
		tk_key(RVK_ALG_RS256, 0, "r1"),
	};
	/* RS-only issuer: HS256 allowed but no HMAC key, for confusion tests. */
	rvk_key_t *k2[] = { tk_key(RVK_ALG_RS256, 0, "r1") };
	rvk_key_t *k3[] = { tk_key(RVK_ALG_HS256, 0, "h1") };
	issuers.n = 3;
	issuers.v = calloc(3, sizeof(rvk_issuer_t *));
	issuers.v[0] = tk_issuer(ISS, RVK_ALGSET(RVK_ALG_ES256) | RVK_ALGSET(RVK_ALG_HS256)
	                         | RVK_ALGSET(RVK_ALG_RS256), k1, 3);
	issuers.v[1] = tk_issuer("rs-only", RVK_ALGSET(RVK_ALG_RS256)
	                         | RVK_ALGSET(RVK_ALG_HS256), k2, 1);
	issuers.v[2] = tk_issuer("with-aud", RVK_ALGSET(RVK_ALG_HS256), k3, 1);
	issuers.v[2]->audiences = calloc(2, sizeof(char *));
	issuers.v[2]->audiences[0] = strdup("orders");
	issuers.v[2]->audiences[1] = strdup("billing");
	issuers.v[2]->n_audiences = 2;
}

static rvk_reason_t
check_tok(const char *t)
{
	rvk_access_t acc;
	rvk_rcu_read_lock();
	rvk_reason_t r = rvk_access_verify(&issuers, &policy, t, strlen(t), NOW, &acc);
	rvk_rcu_read_unlock();
	if (r == RVK_REASON_OK)
		rvk_access_fini(&acc);
	else
		TAP_CHECK(acc.jws.header == NULL && acc.issuer == NULL);
	return r;
}

/* Mints an HS256 token of ISS's key h1 with these claims (printf format). */
static rvk_reason_t
hs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static rvk_reason_t
hs(const char *fmt, ...)
{
	char claims[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(claims, sizeof(claims), fmt, ap);
	va_end(ap);
	char *t = tk_mint(RVK_ALG_HS256, 0, "h1", claims);
	rvk_reason_t r = check_tok(t);
	free(t);
	return r;
}

static rvk_reason_t
crafted(const char *header, const char *payload)
{
	const tk_material_t *m = tk_material(RVK_ALG_HS256, 0);
	char *t = tk_hmac_token(RVK_ALG_HS256, m->priv, m->priv_len, header, payload);
	rvk_reason_t r = check_tok(t);
	free(t);
	return r;
}

#define STD "\"iss\":\"" ISS "\",\"sub\":\"u\",\"jti\":\"j\""
#define GOOD_TIMES "\"iat\":%lld,\"exp\":%lld"

TAP_TEST(valid_tokens_every_key)
{
	char claims[256];
	snprintf(claims, sizeof(claims), "{" STD "," GOOD_TIMES "}", NOW - 10, NOW + 3600);
	const char *kids[] = { "e1", "h1", "r1" };
	rvk_alg_t algs[] = { RVK_ALG_ES256, RVK_ALG_HS256, RVK_ALG_RS256 };
	for (int i = 0; i < 3; i++) {
		char *t = tk_mint(algs[i], 0, kids[i], claims);
		rvk_access_t acc;
		rvk_rcu_read_lock();
		TAP_CHECK_INT(rvk_access_verify(&issuers, &policy, t, strlen(t), NOW, &acc),
		              RVK_REASON_OK);
		TAP_CHECK(acc.issuer == issuers.v[0]);
		TAP_CHECK_STR(acc.key_kid, kids[i]);
		const rvk_key_t *k = NULL;
		TAP_CHECK_INT(rvk_keyring_select(rvk_issuer_keyring(issuers.v[0]), algs[i],
		                                 kids[i], 2, &k), RVK_REASON_OK);
		TAP_CHECK(k && acc.key_load_id == rvk_key_load_id(k));
		rvk_rcu_read_unlock();
		TAP_CHECK_STR(acc.jws.sub, "u");
		TAP_CHECK_INT(acc.jws.exp, NOW + 3600);
		rvk_access_fini(&acc);
		TAP_CHECK(acc.key_kid == NULL);
		free(t);
	}
}

TAP_TEST(step1_reasons)
{
	char *t = tk_mint(RVK_ALG_HS256, 0, "h1", "{\"iss\":\"" ISS "\"}");
	rvk_access_t acc;
	rvk_policy_t small = policy;
	small.max_token_bytes = strlen(t) - 1;
	TAP_CHECK_INT(rvk_access_verify(&issuers, &small, t, strlen(t), NOW, &acc),
	              RVK_REASON_TOO_LARGE);
	TAP_CHECK_STR(rvk_reason_str(RVK_REASON_TOO_LARGE), "token too large");
	t[5] = '*';
	TAP_CHECK_INT(check_tok(t), RVK_REASON_MALFORMED);
	free(t);
}

TAP_TEST(step2_unknown_issuer)
{
	TAP_CHECK_INT(hs("{\"sub\":\"u\"}"), RVK_REASON_UNKNOWN_ISSUER);
	TAP_CHECK_INT(hs("{\"iss\":\"https://idp.example/\"}"), RVK_REASON_UNKNOWN_ISSUER);
	TAP_CHECK_INT(hs("{\"iss\":\"\"}"), RVK_REASON_UNKNOWN_ISSUER);
	/* Step 2 comes before the signature: any signature gives this reason. */
	char *t = tk_token("{\"alg\":\"HS256\"}", "{\"iss\":\"nobody\"}", "");
	TAP_CHECK_INT(check_tok(t), RVK_REASON_UNKNOWN_ISSUER);
	free(t);
}

TAP_TEST(step3_reasons)
{
	/* Not in the allow-list (HS384 with a valid HS384 signature). */
	const tk_material_t *m = tk_material(RVK_ALG_HS256, 0);
	char *t = tk_hmac_token(RVK_ALG_HS384, m->priv, m->priv_len,
	                        "{\"alg\":\"HS384\",\"kid\":\"h1\"}", "{\"iss\":\"" ISS "\"}");
	TAP_CHECK_INT(check_tok(t), RVK_REASON_UNSUPPORTED_ALG);
	free(t);
	/* Unknown kid. */
	TAP_CHECK_INT(crafted("{\"alg\":\"HS256\",\"kid\":\"h2\"}", "{\"iss\":\"" ISS "\"}"),
	              RVK_REASON_UNKNOWN_KEY);
	/* kid of an ES key under HS256. */
	TAP_CHECK_INT(crafted("{\"alg\":\"HS256\",\"kid\":\"e1\"}", "{\"iss\":\"" ISS "\"}"),
	              RVK_REASON_UNSUPPORTED_ALG);
	/* crit, even with a valid signature and known key. */
	TAP_CHECK_INT(crafted("{\"alg\":\"HS256\",\"kid\":\"h1\",\"crit\":[\"exp\"],\"exp\":1}",
	                      "{\"iss\":\"" ISS "\"}"), RVK_REASON_UNSUPPORTED_CRIT);
	/* Order: unknown key before crit. */
	TAP_CHECK_INT(crafted("{\"alg\":\"HS256\",\"kid\":\"zz\",\"crit\":[]}",
	                      "{\"iss\":\"" ISS "\"}"), RVK_REASON_UNKNOWN_KEY);
	TAP_CHECK_STR(rvk_reason_str(RVK_REASON_UNSUPPORTED_CRIT),
	              "unsupported critical header");
}

TAP_TEST(step4_bad_signature)
{
	char claims[256];
	snprintf(claims, sizeof(claims), "{" STD "," GOOD_TIMES "}", NOW - 10, NOW + 3600);
	/* Signed by variant 1 of each algorithm: right alg, right kid, wrong key. */
	const char *kids[] = { "e1", "h1", "r1" };
	rvk_alg_t algs[] = { RVK_ALG_ES256, RVK_ALG_HS256, RVK_ALG_RS256 };
	for (int i = 0; i < 3; i++) {
		char *t = tk_mint(algs[i], 1, kids[i], claims);
		TAP_CHECK_INT(check_tok(t), RVK_REASON_BAD_SIGNATURE);
		free(t);
	}
	/* The signature comes before every claim check. */
	char *t = tk_mint(RVK_ALG_HS256, 1, "h1", "{\"iss\":\"" ISS "\"}");
	TAP_CHECK_INT(check_tok(t), RVK_REASON_BAD_SIGNATURE);
	free(t);
}

TAP_TEST(step5_each_reason)
{
	TAP_CHECK_INT(hs("{" STD ",\"iat\":%lld}", NOW), RVK_REASON_MISSING_EXP);
	TAP_CHECK_INT(hs("{" STD ",\"exp\":%lld}", NOW + 60), RVK_REASON_MISSING_IAT);
	/* exp with leeway 30: valid while now < exp + 30. */
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", NOW - 100, NOW - 30), RVK_REASON_EXPIRED);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", NOW - 100, NOW - 29), RVK_REASON_OK);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES ",\"nbf\":%lld}", NOW, NOW + 60, NOW + 31),
	              RVK_REASON_NOT_YET_VALID);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES ",\"nbf\":%lld}", NOW, NOW + 60, NOW + 30),
	              RVK_REASON_OK);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", NOW + 31, NOW + 60),
	              RVK_REASON_ISSUED_IN_FUTURE);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", NOW + 30, NOW + 60), RVK_REASON_OK);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", NOW - 10, NOW - 10 + 86401),
	              RVK_REASON_LIFETIME_TOO_LONG);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", NOW - 10, NOW - 10 + 86400),
	              RVK_REASON_OK);
	/* Extreme values saturate instead of wrapping. */
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES "}", -9223372036854775807LL - 1,
	                 9223372036854775807LL), RVK_REASON_LIFETIME_TOO_LONG);
	TAP_CHECK_INT(hs("{" STD "," GOOD_TIMES ",\"nbf\":%lld}", NOW, NOW + 60,
	                 -9223372036854775807LL - 1), RVK_REASON_OK);
	TAP_CHECK_INT(hs("{" STD ",\"typ\":1," GOOD_TIMES "}", NOW, NOW + 60), RVK_REASON_OK);
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\"," GOOD_TIMES "}", NOW, NOW + 60),
	              RVK_REASON_MISSING_JTI);
	policy.require_jti = false;
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\"," GOOD_TIMES "}", NOW, NOW + 60), RVK_REASON_OK);
	policy.require_jti = true;
}

TAP_TEST(step5_order)
{
	/* Each token fails two checks; the first in REFERENCE order wins. */
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\"}"), RVK_REASON_MISSING_EXP);
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\",\"exp\":1,\"nonce\":\"n\"}"),
	              RVK_REASON_MISSING_IAT);
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\"," GOOD_TIMES ",\"nbf\":%lld}", NOW + 999,
	                 NOW - 40, NOW + 999), RVK_REASON_EXPIRED);
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\"," GOOD_TIMES ",\"nbf\":%lld}", NOW + 999,
	                 NOW + 10 * 86400, NOW + 999), RVK_REASON_NOT_YET_VALID);
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\"," GOOD_TIMES "}", NOW + 999, NOW + 10 * 86400),
	              RVK_REASON_ISSUED_IN_FUTURE);
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"aud\":\"x\"," GOOD_TIMES "}",
	                 NOW - 10 * 86400, NOW + 10), RVK_REASON_LIFETIME_TOO_LONG);
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"aud\":\"x\",\"nonce\":1," GOOD_TIMES "}",
	                 NOW, NOW + 10), RVK_REASON_BAD_AUDIENCE);
	TAP_CHECK_INT(hs("{\"iss\":\"" ISS "\",\"events\":{}," GOOD_TIMES "}", NOW, NOW + 10),
	              RVK_REASON_WRONG_TYPE);
}

TAP_TEST(step5_audience)
{
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"jti\":\"j\"," GOOD_TIMES "}", NOW, NOW + 10),
	              RVK_REASON_BAD_AUDIENCE);
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"jti\":\"j\",\"aud\":[]," GOOD_TIMES "}",
	                 NOW, NOW + 10), RVK_REASON_BAD_AUDIENCE);
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"jti\":\"j\",\"aud\":\"Orders\","
	                 GOOD_TIMES "}", NOW, NOW + 10), RVK_REASON_BAD_AUDIENCE);
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"jti\":\"j\",\"aud\":\"billing\","
	                 GOOD_TIMES "}", NOW, NOW + 10), RVK_REASON_OK);
	TAP_CHECK_INT(hs("{\"iss\":\"with-aud\",\"jti\":\"j\",\"aud\":[\"x\",\"orders\"],"
	                 GOOD_TIMES "}", NOW, NOW + 10), RVK_REASON_OK);
	/* No audiences configured: aud is not checked. */
	TAP_CHECK_INT(hs("{" STD ",\"aud\":\"anything\"," GOOD_TIMES "}", NOW, NOW + 10),
	              RVK_REASON_OK);
}

static rvk_reason_t
with_typ(const char *typ, const char *extra)
{
	char claims[256];
	snprintf(claims, sizeof(claims), "{" STD "%s," GOOD_TIMES "}", extra, NOW, NOW + 60);
	char header[128] = "{\"alg\":\"HS256\",\"kid\":\"h1\"}";
	if (typ)
		snprintf(header, sizeof(header),
		         "{\"alg\":\"HS256\",\"kid\":\"h1\",\"typ\":\"%s\"}", typ);
	return crafted(header, claims);
}

TAP_TEST(step5_token_type)
{
	TAP_CHECK_INT(with_typ(NULL, ""), RVK_REASON_OK);
	TAP_CHECK_INT(with_typ("at+jwt", ""), RVK_REASON_OK);
	TAP_CHECK_INT(with_typ("application/AT+JWT", ""), RVK_REASON_OK);
	TAP_CHECK_INT(with_typ("logout+jwt", ""), RVK_REASON_WRONG_TYPE);
	TAP_CHECK_INT(with_typ("secevent+jwt", ""), RVK_REASON_WRONG_TYPE);
	TAP_CHECK_INT(with_typ("application/logout+jwt", ""), RVK_REASON_WRONG_TYPE);
	TAP_CHECK_INT(with_typ("JOSE", ""), RVK_REASON_WRONG_TYPE);
	/* A logout token or SET without typ, an ID token. */
	TAP_CHECK_INT(with_typ(NULL, ",\"events\":{\"http://schemas.openid.net/event/"
	                       "backchannel-logout\":{}}"), RVK_REASON_WRONG_TYPE);
	TAP_CHECK_INT(with_typ("JWT", ",\"events\":null"), RVK_REASON_WRONG_TYPE);
	TAP_CHECK_INT(with_typ(NULL, ",\"nonce\":\"n-0S6_WzA2Mj\""), RVK_REASON_WRONG_TYPE);
	/* A token with no typ: crafted, since libjwt always writes one. */
	char payload[256];
	snprintf(payload, sizeof(payload), "{" STD "," GOOD_TIMES "}", NOW, NOW + 60);
	TAP_CHECK_INT(crafted("{\"alg\":\"HS256\",\"kid\":\"h1\"}", payload), RVK_REASON_OK);
}

TAP_TEST(check_times_alone)
{
	TAP_CHECK_INT(rvk_access_check_times(&policy, NOW - 30, false, 0, NOW),
	              RVK_REASON_EXPIRED);
	TAP_CHECK_INT(rvk_access_check_times(&policy, NOW - 29, false, 0, NOW),
	              RVK_REASON_OK);
	TAP_CHECK_INT(rvk_access_check_times(&policy, NOW + 60, true, NOW + 31, NOW),
	              RVK_REASON_NOT_YET_VALID);
	TAP_CHECK_INT(rvk_access_check_times(&policy, NOW + 60, false, NOW + 31, NOW),
	              RVK_REASON_OK);
	TAP_CHECK_INT(rvk_access_check_times(&policy, INT64_MAX, true, INT64_MIN, NOW),
	              RVK_REASON_OK);
}

/* --- attacks ------------------------------------------------------------ */

TAP_TEST(attack_alg_none)
{
	char payload[256];
	snprintf(payload, sizeof(payload), "{" STD "," GOOD_TIMES "}", NOW, NOW + 60);
	const char *spellings[] = { "none", "None", "NONE", "nOnE", "hs256", "Hs256",
	                            "HS256 ", "" };
	for (size_t i = 0; i < RVK_ARRAY_LEN(spellings); i++) {
		char header[64];
		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"h1\"}", spellings[i]);
		const char *sigs[] = { "", "c2ln" };
		for (int s = 0; s < 2; s++) {
			char *t = tk_token(header, payload, sigs[s]);
			if (check_tok(t) != RVK_REASON_UNSUPPORTED_ALG)
				TAP_FAIL_AT("alg \"%s\" not refused", spellings[i]);
			free(t);
		}
		/* Even correctly HMAC'd with the real secret. */
		if (crafted(header, payload) != RVK_REASON_UNSUPPORTED_ALG)
			TAP_FAIL_AT("alg \"%s\" with HMAC not refused", spellings[i]);
	}
}

TAP_TEST(attack_hs_with_public_key)
{
	/* The classic confusion: HMAC keyed with the RSA (or EC) public PEM. */
	char payload[256];
	snprintf(payload, sizeof(payload), "{\"iss\":\"%%s\",\"jti\":\"j\"," GOOD_TIMES "}",
	         NOW, NOW + 60);
	const struct { const char *iss, *header; rvk_alg_t pem_of; rvk_reason_t want; } cases[] = {
		{ ISS, "{\"alg\":\"HS256\",\"kid\":\"r1\"}", RVK_ALG_RS256, RVK_REASON_UNSUPPORTED_ALG },
		{ ISS, "{\"alg\":\"HS256\",\"kid\":\"e1\"}", RVK_ALG_ES256, RVK_REASON_UNSUPPORTED_ALG },
		{ ISS, "{\"alg\":\"HS256\"}", RVK_ALG_RS256, RVK_REASON_BAD_SIGNATURE },
		{ "rs-only", "{\"alg\":\"HS256\",\"kid\":\"r1\"}", RVK_ALG_RS256, RVK_REASON_UNSUPPORTED_ALG },
		{ "rs-only", "{\"alg\":\"HS256\"}", RVK_ALG_RS256, RVK_REASON_UNKNOWN_KEY },
		{ "with-aud", "{\"alg\":\"HS256\"}", RVK_ALG_RS256, RVK_REASON_BAD_SIGNATURE },
	};
	for (size_t i = 0; i < RVK_ARRAY_LEN(cases); i++) {
		char p[300];
		snprintf(p, sizeof(p), payload, cases[i].iss);
		const tk_material_t *m = tk_material(cases[i].pem_of, 0);
		char *t = tk_hmac_token(RVK_ALG_HS256, m->pub, m->pub_len, cases[i].header, p);
		rvk_reason_t r = check_tok(t);
		if (r != cases[i].want)
			TAP_FAIL_AT("case %zu: %s", i, rvk_reason_str(r));
		free(t);
	}
}

TAP_TEST(attack_embedded_keys_ignored)
{
	char payload[256];
	snprintf(payload, sizeof(payload), "{" STD "," GOOD_TIMES "}", NOW, NOW + 60);
	const char *header =
		"{\"alg\":\"HS256\",\"kid\":\"h1\",\"jku\":\"https://evil/jwks\","
		"\"x5u\":\"https://evil/cert\",\"jwk\":{\"kty\":\"oct\",\"k\":\"ZXZpbA\"},"
		"\"x5c\":[\"MIIB\"]}";
	/* Signed with the configured secret: verified, the extras ignored. */
	TAP_CHECK_INT(crafted(header, payload), RVK_REASON_OK);
	/* Signed with the key the token itself offers ("evil"): refused. */
	char *t = tk_hmac_token(RVK_ALG_HS256, "evil", 4, header, payload);
	TAP_CHECK_INT(check_tok(t), RVK_REASON_BAD_SIGNATURE);
	free(t);
}

TAP_TEST(attack_signature_segment_games)
{
	char claims[256];
	snprintf(claims, sizeof(claims), "{" STD "," GOOD_TIMES "}", NOW, NOW + 60);
	char *t = tk_mint(RVK_ALG_ES256, 0, "e1", claims);
	TAP_CHECK_INT(check_tok(t), RVK_REASON_OK);
	char *dot = strrchr(t, '.');
	/* Signature stripped. */
	char *stripped = strndup(t, (size_t)(dot - t) + 1);
	TAP_CHECK_INT(check_tok(stripped), RVK_REASON_BAD_SIGNATURE);
	free(stripped);
	/* Signature of another token of the same key. */
	char *other = tk_mint(RVK_ALG_ES256, 0, "e1", "{\"iss\":\"" ISS "\"}");
	char buf[2048];
	snprintf(buf, sizeof(buf), "%.*s%s", (int)(dot - t), t, strrchr(other, '.'));
	TAP_CHECK_INT(check_tok(buf), RVK_REASON_BAD_SIGNATURE);
	free(other);
	free(t);
}

int
main(void)
{
	setup();
	int rc = tap_main(TAP_LIST(valid_tokens_every_key, step1_reasons,
	                           step2_unknown_issuer, step3_reasons,
	                           step4_bad_signature, step5_each_reason,
	                           step5_order, step5_audience, step5_token_type,
	                           check_times_alone, attack_alg_none,
	                           attack_hs_with_public_key,
	                           attack_embedded_keys_ignored,
	                           attack_signature_segment_games));
	rvk_issuers_free(&issuers);
	return rc;
}
