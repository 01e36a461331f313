/*
 * differential_test.c - revokd's verifier (OpenSSL, pinned keys) against
 * libjwt 1.10's jwt_decode, an independent implementation (REFERENCE §3 step 4).
 *
 * The safe subset where the two must agree: every key is handed to libjwt
 * only for tokens whose header alg is that key's own algorithm, spelled
 * canonically; typ absent or "JWT"; never a NULL key. Inside it, for tokens
 * that are valid, one-byte-tampered (header, payload or signature, decoded
 * byte flipped and re-encoded canonically), re-signed with another key of
 * the same algorithm, or signed with another algorithm under this one's
 * header, the accept/reject verdicts must be identical. Outside it, the
 * known differences are asserted as such, one test each: if libjwt's
 * behaviour changes, the test says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>

#include "auth/jws.h"
#include "auth/mint.h"
#include "base/b64.h"
#include "base/mem.h"
#include "tests/support/tap.h"
#include "tests/unit/auth/keys.h"

#define ALL_ALGS (RVK_ALGSET(RVK_ALG_LIBJWT_COUNT) - 1)
#define ROUNDS 60

static rvk_issuer_t *issuer_of[RVK_ALG_LIBJWT_COUNT]; /* variant-0 key, no kid */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool
libjwt_accepts(const char *token, rvk_alg_t key_alg)
{
	const tk_material_t *m = tk_material(key_alg, 0);
	jwt_t *jwt = NULL;
	RVK_REQUIRE(m->pub_len > 0); /* never a NULL key: that disables checks */
	int rc = jwt_decode(&jwt, token, m->pub, (int)m->pub_len);
	/* Second line of defence a careful libjwt caller would add. */
	bool ok = rc == 0 && jwt_get_alg(jwt) != JWT_ALG_NONE;
	jwt_free(jwt);
	return ok;
}

static rvk_reason_t
ours(const char *token, rvk_alg_t key_alg)
{
	rvk_jws_t j;
	rvk_reason_t r = rvk_jws_parse(token, strlen(token), 1 << 16, &j);
	if (r != RVK_REASON_OK)
		return r;
	const rvk_key_t *used = NULL;
	rvk_rcu_read_lock();
	r = rvk_jws_verify(&j, issuer_of[key_alg], &used);
	rvk_rcu_read_unlock();
	rvk_jws_fini(&j);
	return r;
}

/* Whether token lies in the safe subset for a key of key_alg. A header that
 * is not a JSON object at all is in it (no verifier may accept that). */
static bool
in_subset(const char *token, rvk_alg_t key_alg)
{
	const char *dot = strchr(token, '.');
	size_t n = (size_t)(dot - token), len = 0;
	unsigned char *buf = rvk_malloc(rvk_b64_decoded_max(n));
	bool decoded = rvk_b64url_decode(token, n, buf, &len);
	json_t *h = decoded ? json_loadb((char *)buf, len, 0, NULL) : NULL;
	free(buf);
	if (h == NULL || !json_is_object(h)) {
		json_decref(h);
		return true;
	}
	json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");
	bool in = json_is_string(alg)
	          && strcmp(json_string_value(alg), rvk_alg_name(key_alg)) == 0
	          && (typ == NULL || (json_is_string(typ)
	                              && strcmp(json_string_value(typ), "JWT") == 0));
	json_decref(h);
	return in;
}

enum cls { VALID, TAMPER_HEADER, TAMPER_PAYLOAD, TAMPER_SIG, OTHER_KEY,
           OTHER_ALG, NO_TYP, N_CLS };
static const char *const cls_name[N_CLS] = {
	"valid", "tampered header", "tampered payload", "tampered signature",
	"other key", "other alg", "no typ",
};
static int compared[N_CLS], agreed_accept, outside;

/* Flips one byte of decoded segment seg (0, 1, 2) and re-encodes it. */
static char *
tamper(const char *token, int seg)
{
	const char *start = token;
	for (int i = 0; i < seg; i++)
		start = strchr(start, '.') + 1;
	const char *end = strchr(start, '.');
	if (end == NULL)
		end = start + strlen(start);
	size_t n = (size_t)(end - start), len = 0;
	unsigned char *buf = rvk_malloc(rvk_b64_decoded_max(n));
	RVK_REQUIRE(rvk_b64url_decode(start, n, buf, &len) && len > 0);
	buf[rnd() % len] ^= (unsigned char)(1 + rnd() % 255);
	char *enc = tk_b64(buf, len);
	free(buf);
	size_t out_len = strlen(token) + 8;
	char *out = rvk_malloc(out_len);
	snprintf(out, out_len, "%.*s%s%s", (int)(start - token), token, enc, end);
	free(enc);
	return out;
}

/* Replaces the header of token (signed with another alg) by one naming alg. */
static char *
reheader(const char *token, rvk_alg_t alg)
{
	char header[64];
	snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
	         rvk_alg_name(alg));
	char *h = tk_b64(header, strlen(header));
	size_t n = strlen(h) + strlen(token) + 1;
	char *out = rvk_malloc(n);
	snprintf(out, n, "%s%s", h, strchr(token, '.'));
	free(h);
	return out;
}

static void
compare(const char *token, rvk_alg_t key_alg, enum cls c, bool want)
{
	bool lib = libjwt_accepts(token, key_alg);
	rvk_reason_t r = ours(token, key_alg);
	bool us = r == RVK_REASON_OK;
	compared[c]++;
	if (lib != us)
		TAP_FAIL_AT("%s %s: libjwt %s, revokd %s: %s", rvk_alg_name(key_alg),
		            cls_name[c], lib ? "accepts" : "rejects", rvk_reason_str(r),
		            token);
	else if (us != want)
		TAP_FAIL_AT("%s %s: both %s: %s", rvk_alg_name(key_alg), cls_name[c],
		            us ? "accept" : "reject", token);
	if (lib && us)
		agreed_accept++;
}

TAP_TEST(differential_signatures)
{
	for (int round = 0; round < ROUNDS; round++) {
		for (int a = 0; a < RVK_ALG_LIBJWT_COUNT; a++) {
			rvk_alg_t alg = (rvk_alg_t)a;
			char claims[256];
			snprintf(claims, sizeof(claims),
			         "{\"iss\":\"https://idp\",\"sub\":\"user-%d\",\"jti\":\"%016llx\","
			         "\"iat\":%d,\"exp\":%d,\"aud\":[\"a\",\"b\"]}",
			         round, (unsigned long long)rnd(), 1700000000 + round,
			         1700003600 + round);
			char *valid = tk_mint(alg, 0, NULL, claims);
			RVK_REQUIRE(in_subset(valid, alg));
			compare(valid, alg, VALID, true);
			for (int seg = 0; seg < 3; seg++) {
				char *t = tamper(valid, seg);
				if (in_subset(t, alg))
					compare(t, alg, (enum cls)(TAMPER_HEADER + seg), false);
				else if (ours(t, alg) == RVK_REASON_OK)
					TAP_FAIL_AT("outside subset accepted: %s", t);
				else
					outside++;
				free(t);
			}
			char *other = tk_mint(alg, 1, NULL, claims);
			compare(other, alg, OTHER_KEY, false);
			free(other);
			rvk_alg_t b = (rvk_alg_t)((a + 1 + round % (RVK_ALG_LIBJWT_COUNT - 1)) % RVK_ALG_LIBJWT_COUNT);
			char *signed_b = tk_mint(b, 0, NULL, claims);
			char *swapped = reheader(signed_b, alg);
			compare(swapped, alg, OTHER_ALG, false);
			/* Unchanged, signed_b names alg b: a's key is never handed to
			 * libjwt for it; revokd must refuse (the key pins the alg). */
			TAP_CHECK(ours(signed_b, alg) == RVK_REASON_UNKNOWN_KEY);
			outside++;
			free(swapped);
			free(signed_b);
			if (rvk_alg_is_hmac(alg)) {
				/* libjwt always writes typ; a hand-made token has none. */
				const tk_material_t *m = tk_material(alg, 0);
				char header[32];
				snprintf(header, sizeof(header), "{\"alg\":\"%s\"}", rvk_alg_name(alg));
				char *t = tk_hmac_token(alg, m->priv, m->priv_len, header, claims);
				compare(t, alg, NO_TYP, true);
				free(t);
			}
			free(valid);
		}
	}
	int total = 0;
	for (int c = 0; c < N_CLS; c++) {
		printf("# %-20s %d compared\n", cls_name[c], compared[c]);
		total += compared[c];
	}
	printf("# total %d compared (%d accepted by both), %d outside the subset\n",
	       total, agreed_accept, outside);
	TAP_CHECK(total >= 3000);
	TAP_CHECK_INT(compared[VALID], ROUNDS * RVK_ALG_LIBJWT_COUNT);
	TAP_CHECK_INT(compared[OTHER_KEY], ROUNDS * RVK_ALG_LIBJWT_COUNT);
	TAP_CHECK_INT(agreed_accept, ROUNDS * (RVK_ALG_LIBJWT_COUNT + 3));
	TAP_CHECK(compared[TAMPER_SIG] == ROUNDS * RVK_ALG_LIBJWT_COUNT);
	TAP_CHECK(compared[TAMPER_PAYLOAD] == ROUNDS * RVK_ALG_LIBJWT_COUNT);
	TAP_CHECK(compared[TAMPER_HEADER] > ROUNDS * RVK_ALG_LIBJWT_COUNT / 2);
}

/* --- known differences outside the safe subset -------------------------- */

static const char *const PAYLOAD = "{\"iss\":\"https://idp\",\"exp\":1900000000}";

static char *
hs256(const void *key, size_t key_len, const char *header, const char *payload)
{
	return tk_hmac_token(RVK_ALG_HS256, key, key_len, header, payload);
}

TAP_TEST(known_typ_at_jwt)
{
	/* RFC 9068 access tokens: libjwt refuses every typ but JWT. */
	const tk_material_t *m = tk_material(RVK_ALG_HS256, 0);
	char *t = hs256(m->priv, m->priv_len, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", PAYLOAD);
	TAP_CHECK(!libjwt_accepts(t, RVK_ALG_HS256));
	TAP_CHECK_INT(ours(t, RVK_ALG_HS256), RVK_REASON_OK);
	free(t);
}

TAP_TEST(known_alg_case)
{
	/* libjwt matches alg names without regard to case; revokd does not. */
	const tk_material_t *m = tk_material(RVK_ALG_HS256, 0);
	char *t = hs256(m->priv, m->priv_len, "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", PAYLOAD);
	TAP_CHECK(libjwt_accepts(t, RVK_ALG_HS256));
	TAP_CHECK_INT(ours(t, RVK_ALG_HS256), RVK_REASON_UNSUPPORTED_ALG);
	free(t);
}

TAP_TEST(known_public_key_as_hmac_secret)
{
	/* Handing libjwt the RSA public PEM for an HS256 token (a key outside its
	 * own algorithm) accepts a forgery; revokd's RS key never verifies HS. */
	const tk_material_t *m = tk_material(RVK_ALG_RS256, 0);
	char *t = hs256(m->pub, m->pub_len, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", PAYLOAD);
	TAP_CHECK(libjwt_accepts(t, RVK_ALG_RS256));
	TAP_CHECK(ours(t, RVK_ALG_RS256) != RVK_REASON_OK);
	rvk_key_t *k = tk_key(RVK_ALG_RS256, 0, "r1");
	rvk_issuer_t *is = tk_issuer("i", ALL_ALGS, &k, 1);
	rvk_jws_t j;
	TAP_CHECK_INT(rvk_jws_parse(t, strlen(t), 8192, &j), RVK_REASON_OK);
	const rvk_key_t *used;
	rvk_rcu_read_lock();
	TAP_CHECK_INT(rvk_jws_verify(&j, is, &used), RVK_REASON_UNKNOWN_KEY);
	rvk_rcu_read_unlock();
	rvk_jws_fini(&j);
	rvk_issuer_free(is);
	free(t);
}

TAP_TEST(known_crit_duplicates_and_arrays)
{
	const tk_material_t *m = tk_material(RVK_ALG_HS256, 0);
	/* crit: libjwt ignores it (RFC 7515 §4.1.11 says refuse). */
	char *t = hs256(m->priv, m->priv_len,
	                "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"x\"],\"x\":1}", PAYLOAD);
	TAP_CHECK(libjwt_accepts(t, RVK_ALG_HS256));
	TAP_CHECK_INT(ours(t, RVK_ALG_HS256), RVK_REASON_UNSUPPORTED_CRIT);
	free(t);
	/* Duplicate members: libjwt keeps one of them; revokd refuses. */
	t = hs256(m->priv, m->priv_len, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	          "{\"sub\":\"admin\",\"sub\":\"user\"}");
	TAP_CHECK(libjwt_accepts(t, RVK_ALG_HS256));
	TAP_CHECK_INT(ours(t, RVK_ALG_HS256), RVK_REASON_MALFORMED);
	free(t);
	/* A payload that is not an object. */
	t = hs256(m->priv, m->priv_len, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "[1,2]");
	TAP_CHECK(libjwt_accepts(t, RVK_ALG_HS256));
	TAP_CHECK_INT(ours(t, RVK_ALG_HS256), RVK_REASON_MALFORMED);
	free(t);
}

TAP_TEST(known_es_padded_and_noncanonical_signatures)
{
	char *t = tk_mint(RVK_ALG_ES256, 0, NULL, PAYLOAD);
	char *dot = strrchr(t, '.');
	unsigned char sig[80], wide[80];
	size_t n = 0;
	TAP_CHECK(rvk_b64url_decode(dot + 1, strlen(dot + 1), sig, &n) && n == 64);
	/* r and s each with a leading zero byte: same integers, 66 bytes.
	 * RFC 7518 §3.4 fixes the length at 64; revokd holds to it. */
	wide[0] = 0;
	memcpy(wide + 1, sig, 32);
	wide[33] = 0;
	memcpy(wide + 34, sig + 32, 32);
	char *enc = tk_b64(wide, 66);
	char buf[1024];
	snprintf(buf, sizeof(buf), "%.*s.%s", (int)(dot - t), t, enc);
	TAP_CHECK(!libjwt_accepts(buf, RVK_ALG_ES256)); /* agree here */
	TAP_CHECK_INT(ours(buf, RVK_ALG_ES256), RVK_REASON_BAD_SIGNATURE);
	free(enc);
	/* Non-canonical base64url: the last character of the signature with
	 * its unused low bits set decodes to the same bytes in a lenient
	 * decoder. revokd's decoder accepts one encoding per byte string. */
	char *rs = tk_mint(RVK_ALG_RS256, 0, NULL, PAYLOAD);
	size_t len = strlen(rs);
	char last = rs[len - 1];
	/* 256 bytes -> 342 chars, 4 unused bits in the last one. */
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int v = (int)(strchr(alpha, last) - alpha);
	rs[len - 1] = alpha[v | 1];
	TAP_CHECK(rs[len - 1] != last);
	TAP_CHECK(libjwt_accepts(rs, RVK_ALG_RS256)); /* differ here */
	TAP_CHECK_INT(ours(rs, RVK_ALG_RS256), RVK_REASON_MALFORMED);
	free(rs);
	free(t);
}

TAP_TEST(known_null_key)
{
	/* Never done in the comparisons above: a NULL key turns libjwt's
	 * verification off, so alg none passes. revokd has no such path. */
	char *t = tk_token("{\"alg\":\"none\"}", PAYLOAD, "");
	jwt_t *jwt = NULL;
	TAP_CHECK_INT(jwt_decode(&jwt, t, NULL, 0), 0);
	jwt_free(jwt);
	TAP_CHECK_INT(ours(t, RVK_ALG_HS256), RVK_REASON_UNSUPPORTED_ALG);
	free(t);
}

int
main(void)
{
	for (int a = 0; a < RVK_ALG_LIBJWT_COUNT; a++) {
		rvk_key_t *k = tk_key((rvk_alg_t)a, 0, NULL);
		issuer_of[a] = tk_issuer("https://idp", ALL_ALGS, &k, 1);
	}
	int rc = tap_main(TAP_LIST(differential_signatures, known_typ_at_jwt,
	                           known_alg_case, known_public_key_as_hmac_secret,
	                           known_crit_duplicates_and_arrays,
	                           known_es_padded_and_noncanonical_signatures,
	                           known_null_key));
	for (int a = 0; a < RVK_ALG_LIBJWT_COUNT; a++)
		rvk_issuer_free(issuer_of[a]);
	return rc;
}
