/* Keycloak's admin actions (api/keycloak_push.c, REFERENCE §5.5): what a
 * PUSH_NOT_BEFORE (POST /k_push_not_before) and a LOGOUT (POST /k_logout)
 * must hold to be accepted, every refusal, the replay identity, and the
 * expiration + leeway that must not overflow. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "api/keycloak_push.h"
#include "auth/mint.h"
#include "base/mem.h"
#include "base/reason.h"
#include "tests/support/tap.h"

#define NOW 1796554900
#define LEEWAY 30
#define SECRET "unit-keycloak-secret-0123456789abcdef"
#define OTHER "unit-keycloak-other-secret-0123456789"

static rvk_issuers_t issuers;
static const rvk_policy_t policy = {
	.leeway = LEEWAY, .max_token_bytes = 4096, .max_token_lifetime = 86400,
};

static void
setup(void)
{
	rvk_key_t *key;
	char err[128];
	if (rvk_key_from_secret("h1", RVK_ALG_HS256, (const unsigned char *)SECRET,
	                        strlen(SECRET), &key, err, sizeof(err)) != RVK_OK)
		abort();
	issuers.n = 2;
	issuers.v = rvk_calloc(2, sizeof(*issuers.v));
	/* An issuer without backchannel_client_id first: never chosen. */
	issuers.v[0] = rvk_issuer_new("https://other.example");
	issuers.v[1] = rvk_issuer_new("https://kc.example/realms/r");
	issuers.v[1]->algorithms = RVK_ALGSET(RVK_ALG_HS256);
	issuers.v[1]->backchannel_client_id = rvk_strdup("revokd");
	rvk_keyring_free(issuers.v[1]->keyring);
	issuers.v[1]->keyring = rvk_keyring_new(&key, 1);
}

/* Returns: claims signed HS256 with secret, kid h1 (caller frees). */
static char *
mint(const char *secret, const char *claims)
{
	char err[128];
	char *t = rvk_mint_token(RVK_ALG_HS256, "h1", (const unsigned char *)secret,
	                         strlen(secret), claims, err, sizeof(err));
	if (!t) {
		printf("# mint: %s\n", err);
		abort();
	}
	return t;
}

/* Checks the body for kind. Returns: NULL (accepted, *out) or the message. */
static const char *
run(rvk_keycloak_action_t kind, const char *body, rvk_keycloak_push_t *out)
{
	return rvk_keycloak_action_check(body, strlen(body), kind, &issuers, &policy, NOW, out);
}

/* Signs claims, checks them for kind, expects the message want (NULL:
 * accepted) and *out untouched on a refusal. */
static void
expect_at(int line, rvk_keycloak_action_t kind, const char *claims, const char *want,
          rvk_keycloak_push_t *out)
{
	char *t = mint(SECRET, claims);
	rvk_keycloak_push_t got = { .not_before = -7 };
	const char *why = run(kind, t, &got);
	if (want == NULL && why != NULL)
		TAP_FAIL_AT("line %d: refused \"%s\": %s", line, why, claims);
	else if (want != NULL && (why == NULL || strcmp(why, want) != 0))
		TAP_FAIL_AT("line %d: \"%s\", expected \"%s\": %s", line, why ? why : "(accepted)",
		            want, claims);
	else if (want != NULL && (got.issuer != NULL || got.not_before != -7))
		TAP_FAIL_AT("line %d: a refusal wrote its output", line);
	if (out)
		*out = got;
	free(t);
}
#define expect(kind, claims, want, out) expect_at(__LINE__, kind, claims, want, out)
#define PUSH RVK_KEYCLOAK_PUSH
#define LOGOUT RVK_KEYCLOAK_LOGOUT

/* Hex SHA-256 of s. */
static void
hex_sha256(const char *s, size_t n, char out[65])
{
	unsigned char md[32];
	SHA256((const unsigned char *)s, n, md);
	for (size_t i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

TAP_TEST(push_accepted)
{
	rvk_keycloak_push_t p;
	char want[65];
	expect(PUSH, "{\"id\":\"a1\",\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":1796554960,\"notBefore\":1796554890}", NULL, &p);
	TAP_CHECK(p.issuer == issuers.v[1]);
	TAP_CHECK_INT(p.not_before, 1796554890);
	TAP_CHECK_INT(p.remember_until, 1796554960 + LEEWAY);
	TAP_CHECK_INT(p.n_adapter_sessions, 0);
	hex_sha256("id:a1", 5, want);
	TAP_CHECK_STR(p.replay_id, want);
	/* notBefore 0: Keycloak's "clear" - accepted as 0 */
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":1796554960,\"notBefore\":0}", NULL, &p);
	TAP_CHECK_INT(p.not_before, 0);
	/* notBefore up to now + leeway */
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":1796554960,\"notBefore\":1796554930}", NULL, &p);
	TAP_CHECK_INT(p.not_before, NOW + LEEWAY);
	/* an expiration up to leeway ago */
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":1796554871,\"notBefore\":5}", NULL, &p);
	TAP_CHECK_INT(p.remember_until, NOW + 1);
	/* unknown members ignored; trailing CR, LF and spaces too */
	char *t = mint(SECRET, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	                       "\"expiration\":1796554960,\"notBefore\":1,\"realm\":\"r\"}");
	char body[4200];
	snprintf(body, sizeof(body), "%s \r\n", t);
	TAP_CHECK(run(PUSH, body, &p) == NULL);
	TAP_CHECK_INT(p.not_before, 1);
	/* no id: the push is known by its bytes (without the trailing blanks) */
	hex_sha256("jws:", 4, want);    /* a different input gives another id */
	TAP_CHECK(strcmp(p.replay_id, want) != 0);
	char *in = rvk_malloc(4 + strlen(t));
	memcpy(in, "jws:", 4);
	memcpy(in + 4, t, strlen(t));
	hex_sha256(in, 4 + strlen(t), want);
	TAP_CHECK_STR(p.replay_id, want);
	free(in);
	free(t);
}

TAP_TEST(push_refused)
{
	static const char *const A = "\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\",";
	char c[512];
#define CLAIMS(fmt) (snprintf(c, sizeof(c), "{%s" fmt "}", A), c)
	expect(PUSH, CLAIMS("\"expiration\":1796554960,\"notBefore\":1796554931"),
	       "notBefore is in the future", NULL);
	expect(PUSH, CLAIMS("\"expiration\":1796554960,\"notBefore\":-1"),
	       "missing or negative notBefore", NULL);
	expect(PUSH, CLAIMS("\"expiration\":1796554960"), "missing or negative notBefore", NULL);
	expect(PUSH, CLAIMS("\"expiration\":1796554960,\"notBefore\":\"0\""),
	       "missing or negative notBefore", NULL);
	expect(PUSH, CLAIMS("\"expiration\":1796554960,\"notBefore\":1.5"),
	       "missing or negative notBefore", NULL);
	expect(PUSH, CLAIMS("\"notBefore\":0"), "missing expiration", NULL);
	expect(PUSH, CLAIMS("\"expiration\":\"1796554960\",\"notBefore\":0"),
	       "missing expiration", NULL);
	/* expired: now >= expiration + leeway */
	expect(PUSH, CLAIMS("\"expiration\":1796554870,\"notBefore\":0"), "expired", NULL);
	expect(PUSH, CLAIMS("\"expiration\":-9223372036854775807,\"notBefore\":0"), "expired",
	       NULL);
#undef CLAIMS
	/* the action */
	expect(PUSH, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554960,"
	             "\"notBefore\":0}", "action is not PUSH_NOT_BEFORE", NULL);
	expect(PUSH, "{\"action\":\"push_not_before\",\"resource\":\"revokd\","
	             "\"expiration\":1796554960,\"notBefore\":0}",
	       "action is not PUSH_NOT_BEFORE", NULL);
	expect(PUSH, "{\"resource\":\"revokd\",\"expiration\":1796554960,\"notBefore\":0}",
	       "action is not PUSH_NOT_BEFORE", NULL);
	/* the resource: a configured backchannel_client_id */
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"other\","
	             "\"expiration\":1796554960,\"notBefore\":0}",
	       "resource names no issuer's backchannel_client_id", NULL);
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"expiration\":1796554960,\"notBefore\":0}",
	       "resource names no issuer's backchannel_client_id", NULL);
	/* the signature: another secret, a changed one, none */
	const char *good = "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	                   "\"expiration\":1796554960,\"notBefore\":0}";
	rvk_keycloak_push_t p = { 0 };
	char *t = mint(OTHER, good);
	TAP_CHECK_STR(run(PUSH, t, &p), rvk_reason_str(RVK_REASON_BAD_SIGNATURE));
	free(t);
	t = mint(SECRET, good);
	char *sig = strrchr(t, '.') + 1;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	TAP_CHECK_STR(run(PUSH, t, &p), rvk_reason_str(RVK_REASON_BAD_SIGNATURE));
	sig[-1] = '\0';
	TAP_CHECK_STR(run(PUSH, t, &p), "malformed token");
	free(t);
	TAP_CHECK_STR(run(PUSH, "", &p), "malformed token");
	TAP_CHECK_STR(run(PUSH, "{\"notBefore\":0}", &p), "malformed token");
	/* past max_token_bytes before any decoding */
	char *big = rvk_malloc(policy.max_token_bytes + 2);
	memset(big, 'a', policy.max_token_bytes + 1);
	big[policy.max_token_bytes + 1] = '\0';
	TAP_CHECK_STR(run(PUSH, big, &p), "token too large");
	free(big);
	TAP_CHECK(p.issuer == NULL);
}

/* expiration + leeway saturates: no wrap to a past time near INT64_MAX. */
TAP_TEST(expiration_overflow)
{
	rvk_keycloak_push_t p;
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":9223372036854775807,\"notBefore\":0}", NULL, &p);
	TAP_CHECK_INT(p.remember_until, INT64_MAX);
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":9223372036854775790,\"notBefore\":0}", NULL, &p);
	TAP_CHECK_INT(p.remember_until, INT64_MAX);
	expect(PUSH, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	             "\"expiration\":9223372036854775777,\"notBefore\":0}", NULL, &p);
	TAP_CHECK_INT(p.remember_until, INT64_MAX);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\","
	               "\"expiration\":9223372036854775800,\"notBefore\":0}", NULL, &p);
	TAP_CHECK_INT(p.remember_until, INT64_MAX);
}

TAP_TEST(logout)
{
	rvk_keycloak_push_t p;
	expect(LOGOUT, "{\"id\":\"x\",\"action\":\"LOGOUT\",\"resource\":\"revokd\","
	               "\"expiration\":1796554960,\"notBefore\":1796554800,"
	               "\"adapterSessionIds\":[\"a\",\"b\"]}", NULL, &p);
	TAP_CHECK(p.issuer == issuers.v[1]);
	TAP_CHECK_INT(p.not_before, 1796554800);
	TAP_CHECK_INT(p.n_adapter_sessions, 2);
	char want[65];
	hex_sha256("id:x", 4, want);
	TAP_CHECK_STR(p.replay_id, want);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554960,"
	               "\"notBefore\":0,\"adapterSessionIds\":null}", NULL, &p);
	TAP_CHECK_INT(p.not_before, 0);
	TAP_CHECK_INT(p.n_adapter_sessions, 0);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554960,"
	               "\"notBefore\":0}", NULL, &p);
	TAP_CHECK_INT(p.n_adapter_sessions, 0);
	/* refusals */
	expect(LOGOUT, "{\"action\":\"PUSH_NOT_BEFORE\",\"resource\":\"revokd\","
	               "\"expiration\":1796554960,\"notBefore\":0}", "action is not LOGOUT", NULL);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554960,"
	               "\"notBefore\":0,\"adapterSessionIds\":\"a\"}",
	       "adapterSessionIds is not an array", NULL);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554960,"
	               "\"notBefore\":0,\"adapterSessionIds\":[\"a\",1]}",
	       "adapterSessionIds holds a non-string", NULL);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554870,"
	               "\"notBefore\":0}", "expired", NULL);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\",\"expiration\":1796554960,"
	               "\"notBefore\":1796554931}", "notBefore is in the future", NULL);
	expect(LOGOUT, "{\"action\":\"LOGOUT\",\"resource\":\"nobody\",\"expiration\":1796554960,"
	               "\"notBefore\":0}", "resource names no issuer's backchannel_client_id",
	       NULL);
	/* the push entry point is the PUSH_NOT_BEFORE check */
	char *t = mint(SECRET, "{\"action\":\"LOGOUT\",\"resource\":\"revokd\","
	                       "\"expiration\":1796554960,\"notBefore\":0}");
	TAP_CHECK_STR(rvk_keycloak_push_check(t, strlen(t), &issuers, &policy, NOW, &p),
	              "action is not PUSH_NOT_BEFORE");
	free(t);
}

int
main(void)
{
	setup();
	int rc = tap_main(TAP_LIST(push_accepted, push_refused, expiration_overflow, logout));
	rvk_issuers_free(&issuers);
	return rc;
}
