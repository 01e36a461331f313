/*
 * jwks.c - JWK Set and discovery documents to keys (see jwks.h).
 *
 * Keys are built with EVP_PKEY_fromdata from the decoded members (about
 * 6 us for RSA, 16 us for EC; DECISIONS D10; OKP from its raw "x"), never by a round trip
 * through PEM. The size and curve rules of key.c apply on top
 * (rvk_key_from_pkey), so a JWK can never yield a key that a PEM file could
 * not.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "auth/jwks.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/check.h"
#include "base/json.h"
#include "base/mem.h"

/* 16384-bit RSA moduli at most: bounds the cost an IdP document can cause. */
#define MAX_RSA_BYTES 2048
#define MAX_RSA_E_BYTES 16

static const rvk_alg_t rsa_algs[] = { RVK_ALG_RS256, RVK_ALG_RS384, RVK_ALG_RS512,
                                      RVK_ALG_PS256, RVK_ALG_PS384, RVK_ALG_PS512 };

struct curve {
	const char *crv;    /* JWK name */
	const char *group;  /* OpenSSL name */
	size_t field;       /* coordinate bytes */
	rvk_alg_t alg;      /* the one JWS algorithm for that curve */
};

static const struct curve curves[] = {
	{ "P-256", "prime256v1", 32, RVK_ALG_ES256 },
	{ "P-384", "secp384r1", 48, RVK_ALG_ES384 },
	{ "P-521", "secp521r1", 66, RVK_ALG_ES512 },
};

/* RFC 8037 §2: OKP signature curves ("x" is the raw public key). X25519 and
 * X448 are key-agreement curves and never taken. */
static const struct curve okp_curves[] = {
	{ "Ed25519", "ED25519", 32, RVK_ALG_EDDSA },
	{ "Ed448", "ED448", 57, RVK_ALG_EDDSA },
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Returns: the decoded bytes of a base64url member (owned) or NULL. */
static unsigned char *
member_b64(json_t *jwk, const char *name, size_t max, size_t *out_len,
           const char **why)
{
	json_t *v = json_object_get(jwk, name);
	if (!json_is_string(v)) {
		*why = "missing or not a string";
		return NULL;
	}
	size_t n = json_string_length(v);
	if (n == 0 || n > rvk_b64url_encoded_len(max)) {
		*why = n == 0 ? "empty" : "too long";
		return NULL;
	}
	unsigned char *buf = rvk_malloc(rvk_b64_decoded_max(n));
	if (!rvk_b64url_decode(json_string_value(v), n, buf, out_len)) {
		free(buf);
		*why = "not base64url";
		return NULL;
	}
	return buf;
}

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
	    || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	if (pkey == NULL)
		return NULL;
	/* A public check per key load is cheap next to the verifications it
	 * serves, and refuses a point off the curve or an even modulus. */
	EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	bool ok = chk != NULL && EVP_PKEY_public_check(chk) == 1;
	EVP_PKEY_CTX_free(chk);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *
rsa_pkey(json_t *jwk, char *why, size_t whylen)
{
	size_t nlen = 0, elen = 0;
	const char *bad = NULL;
	unsigned char *n = member_b64(jwk, "n", MAX_RSA_BYTES, &nlen, &bad);
	if (n == NULL) {
		seterr(why, whylen, "n: %s", bad);
		return NULL;
	}
	unsigned char *e = member_b64(jwk, "e", MAX_RSA_E_BYTES, &elen, &bad);
	if (e == NULL) {
		free(n);
		seterr(why, whylen, "e: %s", bad);
		return NULL;
	}
	BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL);
	BIGNUM *bn_e = BN_bin2bn(e, (int)elen, NULL);
	free(n);
	free(e);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	if (bn_n && bn_e && bld
	    && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
	    && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)
	    && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
		pkey = pkey_fromdata("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	if (pkey == NULL)
		seterr(why, whylen, "%s", "not a valid RSA public key");
	return pkey;
}

/* The entry of table (n entries) whose crv is the JWK's "crv", or NULL. */
static const struct curve *
find_curve(json_t *jwk, const struct curve *table, size_t n)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	for (size_t i = 0; crv && i < n; i++)
		if (strcmp(table[i].crv, crv) == 0)
			return &table[i];
	return NULL;
}

static EVP_PKEY *
ec_pkey(json_t *jwk, const struct curve **cv, char *why, size_t whylen)
{
	*cv = find_curve(jwk, curves, RVK_ARRAY_LEN(curves));
	if (*cv == NULL) {
		seterr(why, whylen, "%s", "crv is not P-256, P-384 or P-521");
		return NULL;
	}
	size_t f = (*cv)->field, xlen = 0, ylen = 0;
	const char *bad = NULL;
	unsigned char *x = member_b64(jwk, "x", f, &xlen, &bad);
	if (x == NULL || xlen != f) {
		free(x);
		seterr(why, whylen, "x: %s", x ? "wrong length for the curve" : bad);
		return NULL;
	}
	unsigned char *y = member_b64(jwk, "y", f, &ylen, &bad);
	if (y == NULL || ylen != f) {
		free(x);
		free(y);
		seterr(why, whylen, "y: %s", y ? "wrong length for the curve" : bad);
		return NULL;
	}
	unsigned char pt[1 + 2 * 66];
	pt[0] = 0x04; /* uncompressed point */
	memcpy(pt + 1, x, f);
	memcpy(pt + 1 + f, y, f);
	free(x);
	free(y);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
		                                 (char *)(*cv)->group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * f),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *pkey = pkey_fromdata("EC", params);
	if (pkey == NULL)
		seterr(why, whylen, "%s", "not a point on the curve");
	return pkey;
}

static EVP_PKEY *
okp_pkey(json_t *jwk, const struct curve **cv, char *why, size_t whylen)
{
	*cv = find_curve(jwk, okp_curves, RVK_ARRAY_LEN(okp_curves));
	if (*cv == NULL) {
		seterr(why, whylen, "%s", "crv is not Ed25519 or Ed448");
		return NULL;
	}
	size_t f = (*cv)->field, xlen = 0;
	const char *bad = NULL;
	unsigned char *x = member_b64(jwk, "x", f, &xlen, &bad);
	if (x == NULL || xlen != f) {
		free(x);
		seterr(why, whylen, "x: %s", x ? "wrong length for the curve" : bad);
		return NULL;
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, x, f),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *pkey = pkey_fromdata((*cv)->group, params);
	free(x);
	if (pkey == NULL)
		seterr(why, whylen, "%s", "not a valid public key on the curve");
	return pkey;
}

static bool
has_private_members(json_t *jwk)
{
	static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
	for (size_t i = 0; i < RVK_ARRAY_LEN(priv); i++)
		if (json_object_get(jwk, priv[i]) != NULL)
			return true;
	return false;
}

/* Returns: NULL when the JWK's use and key_ops allow verification, else why. */
static const char *
check_use(json_t *jwk)
{
	json_t *use = json_object_get(jwk, "use");
	if (use != NULL && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
		return "use is not \"sig\"";
	json_t *ops = json_object_get(jwk, "key_ops");
	if (ops == NULL)
		return NULL;
	if (!json_is_array(ops))
		return "key_ops is not an array";
	size_t i;
	json_t *op;
	json_array_foreach(ops, i, op) {
		if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
			return NULL;
	}
	return "key_ops does not contain \"verify\"";
}

/* "keys[3] (kid "abc")": the kid escaped and cut to 64 bytes. */
static void
describe(rvk_buf_t *b, size_t index, const char *kid)
{
	rvk_buf_printf(b, "keys[%zu]", index);
	if (kid == NULL)
		return;
	rvk_buf_puts(b, " (kid \"");
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)kid; *p && n < 64; p++, n++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			rvk_buf_printf(b, "\\x%02x", *p);
		else
			rvk_buf_append(b, p, 1);
	}
	rvk_buf_puts(b, n == 64 && kid[64] ? "...\")" : "\")");
}

struct acc {
	rvk_key_t **keys;
	size_t n, cap;
	char **skipped;
	size_t n_skipped;
};

static void
skip(struct acc *a, size_t index, const char *kid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
skip(struct acc *a, size_t index, const char *kid, const char *fmt, ...)
{
	rvk_buf_t b = RVK_BUF_INIT;
	describe(&b, index, kid);
	rvk_buf_puts(&b, ": ");
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rvk_buf_puts(&b, msg);
	a->skipped = rvk_realloc(a->skipped, (a->n_skipped + 1) * sizeof(char *));
	a->skipped[a->n_skipped++] = rvk_buf_steal(&b);
}

static bool
kid_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool
taken(const struct acc *a, const char *kid, rvk_alg_t alg)
{
	for (size_t i = 0; i < a->n; i++)
		if (rvk_key_alg(a->keys[i]) == alg && kid_eq(rvk_key_kid(a->keys[i]), kid))
			return true;
	return false;
}

static void
push_key(struct acc *a, rvk_key_t *k)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 8;
		a->keys = rvk_realloc(a->keys, a->cap * sizeof(*a->keys));
	}
	a->keys[a->n++] = k;
}

/* The algorithms this JWK may serve; 0 with *why set when none. */
static rvk_algset_t
jwk_algs(json_t *jwk, bool rsa, const struct curve *cv, rvk_algset_t allowed,
         const char **why, char *whybuf, size_t whylen)
{
	rvk_algset_t mine = 0;
	if (rsa) {
		for (size_t i = 0; i < RVK_ARRAY_LEN(rsa_algs); i++)
			mine |= RVK_ALGSET(rsa_algs[i]);
	} else {
		mine = RVK_ALGSET(cv->alg);
	}
	json_t *a = json_object_get(jwk, "alg");
	if (a == NULL) {
		if ((mine & allowed) == 0)
			*why = rsa ? "the issuer allows no RS or PS algorithm"
			           : "the issuer does not allow the algorithm of this curve";
		return mine & allowed;
	}
	rvk_alg_t alg;
	if (!json_is_string(a)
	    || !rvk_alg_parse(json_string_value(a), json_string_length(a), &alg)) {
		*why = "alg is not a known algorithm";
		return 0;
	}
	if ((mine & RVK_ALGSET(alg)) == 0) {
		snprintf(whybuf, whylen, "alg %s does not fit the key type or curve",
		         rvk_alg_name(alg));
		*why = whybuf;
		return 0;
	}
	if ((allowed & RVK_ALGSET(alg)) == 0) {
		snprintf(whybuf, whylen, "alg %s is not in the issuer's algorithms",
		         rvk_alg_name(alg));
		*why = whybuf;
		return 0;
	}
	return RVK_ALGSET(alg);
}

static void
take_jwk(struct acc *a, size_t index, json_t *jwk, rvk_algset_t allowed)
{
	if (!json_is_object(jwk)) {
		skip(a, index, NULL, "%s", "not a JSON object");
		return;
	}
	json_t *jkid = json_object_get(jwk, "kid");
	const char *kid = NULL;
	if (jkid != NULL) {
		if (!json_is_string(jkid)) {
			skip(a, index, NULL, "%s", "kid is not a string");
			return;
		}
		kid = json_string_value(jkid);
		if (strlen(kid) != json_string_length(jkid) || strlen(kid) == 0
		    || strlen(kid) > RVK_JWKS_MAX_KID) {
			skip(a, index, NULL, "%s", "kid is empty, too long or holds a NUL");
			return;
		}
	}
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	if (kty == NULL) {
		skip(a, index, kid, "%s", "kty missing or not a string");
		return;
	}
	if (strcmp(kty, "oct") == 0) {
		skip(a, index, kid, "%s", "oct keys are never taken from a JWKS");
		return;
	}
	bool rsa = strcmp(kty, "RSA") == 0;
	bool okp = strcmp(kty, "OKP") == 0;
	if (!rsa && !okp && strcmp(kty, "EC") != 0) {
		skip(a, index, kid, "%s", "kty is not RSA, EC or OKP");
		return;
	}
	const char *why = check_use(jwk);
	if (why == NULL && has_private_members(jwk))
		why = "holds private key members";
	if (why != NULL) {
		skip(a, index, kid, "%s", why);
		return;
	}
	char whybuf[160];
	EVP_PKEY *pkey;
	const struct curve *cv = NULL;
	if (rsa)
		pkey = rsa_pkey(jwk, whybuf, sizeof(whybuf));
	else if (okp)
		pkey = okp_pkey(jwk, &cv, whybuf, sizeof(whybuf));
	else
		pkey = ec_pkey(jwk, &cv, whybuf, sizeof(whybuf));
	if (pkey == NULL) {
		skip(a, index, kid, "%s", whybuf);
		return;
	}
	char algwhy[160];
	rvk_algset_t algs = jwk_algs(jwk, rsa, cv, allowed, &why, algwhy, sizeof(algwhy));
	if (algs == 0) {
		skip(a, index, kid, "%s", why);
		EVP_PKEY_free(pkey);
		return;
	}
	for (int alg = 0; alg < RVK_ALG_COUNT; alg++) {
		if ((algs & RVK_ALGSET(alg)) == 0)
			continue;
		if (taken(a, kid, (rvk_alg_t)alg)) {
			skip(a, index, kid, "duplicate kid for %s", rvk_alg_name((rvk_alg_t)alg));
			continue;
		}
		RVK_REQUIRE(EVP_PKEY_up_ref(pkey) == 1);
		rvk_key_t *k = NULL;
		char kerr[128];
		if (rvk_key_from_pkey(kid, (rvk_alg_t)alg, pkey, &k, kerr, sizeof(kerr)) != RVK_OK) {
			EVP_PKEY_free(pkey);
			skip(a, index, kid, "%s", kerr);
			break; /* the same flaw (size, curve) holds for every alg */
		}
		push_key(a, k);
	}
	EVP_PKEY_free(pkey);
}

static json_t *
load_object(const char *doc, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = rvk_json_load(doc, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		seterr(err, errlen, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		seterr(err, errlen, "%s", "not a JSON object");
		return NULL;
	}
	return root;
}

rvk_result_t
rvk_jwks_parse(const char *doc, size_t len, rvk_algset_t algs, rvk_jwks_set_t *out,
               char *err, size_t errlen)
{
	RVK_REQUIRE((doc != NULL || len == 0) && out != NULL);
	memset(out, 0, sizeof(*out));
	json_t *root = load_object(doc ? doc : "", len, err, errlen);
	if (root == NULL)
		return RVK_EINVAL;
	json_t *keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		json_decref(root);
		seterr(err, errlen, "%s", "no \"keys\" array");
		return RVK_EINVAL;
	}
	struct acc a = { 0 };
	size_t i;
	json_t *jwk;
	json_array_foreach(keys, i, jwk) {
		if (i == RVK_JWKS_MAX_KEYS) {
			skip(&a, i, NULL, "more than %d keys: the rest are ignored",
			     RVK_JWKS_MAX_KEYS);
			break;
		}
		take_jwk(&a, i, jwk, algs);
	}
	json_decref(root);
	out->keys = a.keys;
	out->n = a.n;
	out->skipped = a.skipped;
	out->n_skipped = a.n_skipped;
	return RVK_OK;
}

void
rvk_jwks_set_fini(rvk_jwks_set_t *jwks)
{
	if (jwks == NULL)
		return;
	for (size_t i = 0; i < jwks->n; i++)
		rvk_key_free(jwks->keys[i]);
	free(jwks->keys);
	for (size_t i = 0; i < jwks->n_skipped; i++)
		free(jwks->skipped[i]);
	free(jwks->skipped);
	memset(jwks, 0, sizeof(*jwks));
}

rvk_result_t
rvk_jwks_discovery_parse(const char *doc, size_t len, const char *want_iss,
                         char **jwks_uri, char *err, size_t errlen)
{
	RVK_REQUIRE((doc != NULL || len == 0) && want_iss != NULL && jwks_uri != NULL);
	json_t *root = load_object(doc ? doc : "", len, err, errlen);
	if (root == NULL)
		return RVK_EINVAL;
	rvk_result_t r = RVK_EINVAL;
	json_t *iss = json_object_get(root, "issuer");
	json_t *uri = json_object_get(root, "jwks_uri");
	if (!json_is_string(iss))
		seterr(err, errlen, "%s", "no \"issuer\" string");
	else if (json_string_length(iss) != strlen(want_iss)
	         || memcmp(json_string_value(iss), want_iss, strlen(want_iss)) != 0)
		seterr(err, errlen, "%s", "\"issuer\" is not the configured issuer");
	else if (!json_is_string(uri))
		seterr(err, errlen, "%s", "no \"jwks_uri\" string");
	else if (strlen(json_string_value(uri)) != json_string_length(uri)
	         || !rvk_jwks_uri_allowed(json_string_value(uri)))
		seterr(err, errlen, "%s",
		       "\"jwks_uri\" is not https (plain http only to loopback)");
	else {
		*jwks_uri = rvk_strdup(json_string_value(uri));
		r = RVK_OK;
	}
	json_decref(root);
	return r;
}

char *
rvk_jwks_discovery_url(const char *iss)
{
	RVK_REQUIRE(iss != NULL);
	static const char suffix[] = "/.well-known/openid-configuration";
	size_t n = strlen(iss);
	if (n && iss[n - 1] == '/')
		n--;
	char *url = rvk_malloc(n + sizeof(suffix));
	memcpy(url, iss, n);
	memcpy(url + n, suffix, sizeof(suffix));
	return url;
}

bool
rvk_jwks_host_is_loopback(const char *host)
{
	if (host == NULL)
		return false;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0
	    || strcmp(host, "::1") == 0)
		return true;
	struct in_addr a;
	/* inet_pton takes only the strict dotted quad ("127.1" and octal
	 * forms are refused), so what we judge is what gets connected to. */
	if (inet_pton(AF_INET, host, &a) != 1)
		return false;
	return (ntohl(a.s_addr) >> 24) == 127;
}

bool
rvk_jwks_uri_allowed(const char *uri)
{
	if (uri == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	bool https = strncasecmp(uri, "https://", 8) == 0;
	if (!https && strncasecmp(uri, "http://", 7) != 0)
		return false;
	const char *auth = uri + (https ? 8 : 7);
	size_t alen = strcspn(auth, "/?#");
	if (alen == 0 || memchr(auth, '@', alen) != NULL)
		return false;
	if (https)
		return true;
	char host[256];
	if (alen >= sizeof(host))
		return false;
	memcpy(host, auth, alen);
	host[alen] = '\0';
	/* Strip a port: after "]" for IPv6, else after the last ':'. */
	if (host[0] == '[') {
		char *end = strchr(host, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		end[1] = '\0';
	} else {
		char *colon = strrchr(host, ':');
		if (colon != NULL)
			*colon = '\0';
	}
	return rvk_jwks_host_is_loopback(host);
}

bool
rvk_jwks_same_keys(rvk_key_t *const *a, size_t na, rvk_key_t *const *b,
                   size_t nb)
{
	if (na != nb)
		return false;
	if (na == 0)
		return true;
	bool *used = rvk_calloc(nb, sizeof(bool));
	bool same = true;
	for (size_t i = 0; i < na && same; i++) {
		bool found = false;
		for (size_t j = 0; j < nb && !found; j++) {
			if (!used[j] && rvk_key_same(a[i], b[j])) {
				used[j] = true;
				found = true;
			}
		}
		same = found;
	}
	free(used);
	return same;
}

rvk_result_t
rvk_jwks_thumbprint(const char *jwk, size_t len, char out[44])
{
	json_t *o = load_object(jwk, len, NULL, 0);
	if (o == NULL)
		return RVK_EINVAL;
	const char *kty = json_string_value(json_object_get(o, "kty"));
	/* RFC 7638 §3.2: the required members only, in lexicographic order,
	 * no whitespace. */
	static const char *const rsa_m[] = { "e", "kty", "n", NULL };
	static const char *const ec_m[] = { "crv", "kty", "x", "y", NULL };
	static const char *const okp_m[] = { "crv", "kty", "x", NULL }; /* RFC 8037 §2 */
	const char *const *m = kty == NULL ? NULL
	                     : strcmp(kty, "RSA") == 0 ? rsa_m
	                     : strcmp(kty, "EC") == 0 ? ec_m
	                     : strcmp(kty, "OKP") == 0 ? okp_m : NULL;
	rvk_result_t r = RVK_EINVAL;
	rvk_buf_t b = RVK_BUF_INIT;
	if (m == NULL)
		goto cleanup;
	rvk_buf_puts(&b, "{");
	for (size_t i = 0; m[i]; i++) {
		json_t *v = json_object_get(o, m[i]);
		if (!json_is_string(v))
			goto cleanup;
		char *enc = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		rvk_buf_printf(&b, "%s\"%s\":%s", i ? "," : "", m[i], enc);
		free(enc);
	}
	rvk_buf_puts(&b, "}");
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)b.data, b.len, md);
	rvk_b64url_encode(md, sizeof(md), out);
	r = RVK_OK;
cleanup:
	rvk_buf_fini(&b);
	json_decref(o);
	return r;
}
