/*
 * jws.c - step 1 (format) and steps 3-4 (key, algorithm, signature) of a
 * compact JWS.
 *
 * Order inside step 1, cheapest and most restrictive first: the size, then
 * every character (so no decoder ever sees a byte outside the base64url
 * alphabet, and "a.b.c.d" or a padded segment fails before any allocation),
 * then strict base64url decoding (base/b64.h's acceptance, table-driven
 * here: one accepted encoding per byte string), then a scan for NUL bytes
 * (jansson alone misses a raw NUL after a number), then jansson with
 * JSON_REJECT_DUPLICATES (and without JSON_ALLOW_NUL), then the types of
 * the members revokd reads.
 *
 * Decisions (written down in docs/ARCHITECTURE.md):
 * - a header without `alg`, or whose `alg` is not a string, parses (alg
 *   NULL) and is "unsupported algorithm" at step 3, like an `alg` string
 *   that is not a canonical name; a payload whose `iss` is not a string
 *   parses (iss NULL) and is "unknown issuer" at step 2 (REFERENCE §3);
 * - exp, iat, nbf may be integers or reals; a real is truncated toward zero
 *   and must lie within int64; anything else is malformed;
 * - an allocation failure while decoding (rvk_trymalloc) is "malformed
 *   token": a deny, never an allow.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jws.h"
#include "base/b64.h"
#include "base/check.h"
#include "base/json.h"
#include "base/mem.h"

/* The value of each base64url digit; B64_BAD for every other byte. */
#define B64_BAD 0x80
static const unsigned char b64v[256] = {
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,  62, 128, 128,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 128, 128, 128, 128, 128, 128,
	128,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 128, 128, 128, 128,  63,
	128,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
};

static bool
b64url_char(unsigned char c)
{
	return b64v[c] != B64_BAD;
}

/* Strict base64url decoding with the acceptance of rvk_b64url_decode (no
 * padding, n % 4 != 1, the unused low bits of the last digit zero: one
 * accepted text per byte string), four digits per step from a table: the
 * branchy one-digit-at-a-time base/b64.c decoder was ~5% of the CPU of an
 * RS256 cache miss (its ~560 digits; docs/BENCHMARKS.md "Miss path").
 * Requires: out holds rvk_b64_decoded_max(n) bytes. */
static bool
b64url_decode(const char *s, size_t n, unsigned char *out, size_t *out_len)
{
	if (n % 4 == 1)
		return false;
	const unsigned char *in = (const unsigned char *)s;
	unsigned bad = 0;
	size_t o = 0, i = 0;
	for (; i + 4 <= n; i += 4) {
		unsigned a = b64v[in[i]], b = b64v[in[i + 1]];
		unsigned c = b64v[in[i + 2]], d = b64v[in[i + 3]];
		bad |= a | b | c | d;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	if (n - i == 2) {               /* 12 bits: one byte, 4 bits left */
		unsigned a = b64v[in[i]], b = b64v[in[i + 1]];
		bad |= a | b;
		uint32_t v = (uint32_t)a << 6 | b;
		if (v & 0xf)
			return false;
		out[o++] = (unsigned char)(v >> 4);
	} else if (n - i == 3) {        /* 18 bits: two bytes, 2 bits left */
		unsigned a = b64v[in[i]], b = b64v[in[i + 1]], c = b64v[in[i + 2]];
		bad |= a | b | c;
		uint32_t v = (uint32_t)a << 12 | (uint32_t)b << 6 | c;
		if (v & 3)
			return false;
		out[o++] = (unsigned char)(v >> 10);
		out[o++] = (unsigned char)(v >> 2);
	}
	if (bad & B64_BAD)
		return false;
	*out_len = o;
	return true;
}

/* Decodes one segment into a fresh buffer (peer-sized: rvk_trymalloc). */
static unsigned char *
decode_segment(const char *s, size_t n, size_t *out_len)
{
	unsigned char *buf = rvk_trymalloc(rvk_b64_decoded_max(n));
	if (buf == NULL)
		return NULL;
	if (!b64url_decode(s, n, buf, out_len)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static json_t *
decode_object(const char *s, size_t n)
{
	size_t len = 0;
	unsigned char *buf = decode_segment(s, n, &len);
	if (buf == NULL)
		return NULL;
	/* jansson 2.14 refuses NUL inside strings but skips a raw NUL after a
	 * number ({"a":[1\0]} parses; found by fuzz_differential), and
	 * libjwt, reading C strings, would see a different document: refuse
	 * every NUL here. */
	if (memchr(buf, 0, len) != NULL) {
		free(buf);
		return NULL;
	}
	json_error_t jerr;
	json_t *obj = rvk_json_load((const char *)buf, len,
	                            JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (obj != NULL && !json_is_object(obj)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * The last JOSE header each thread decoded, by its base64url text. Every
 * token an IdP signs with one key carries the same header byte for byte
 * ({"alg":"RS256","typ":"JWT","kid":"..."}), so a verified-cache miss
 * decoded and parsed the same few dozen bytes again each time (~3% of the
 * CPU of an RS256 miss: docs/BENCHMARKS.md "Miss path"). Equal text means
 * an equal document, so the parsed object is shared: the token gets a new
 * reference (jansson's counts are atomic), every check after the parse
 * (members, types, crit) still runs on it for every token, and nothing
 * ever modifies a parsed header. Only successful parses are kept.
 * Threads: one cache per thread (thread-specific data, freed at thread
 * exit), so no lock.
 */
#define HDR_CACHE_MAX 256

struct hdr_cache {
	size_t len;
	char text[HDR_CACHE_MAX];
	json_t *obj;            /* one reference, NULL when empty */
};

static pthread_key_t hdr_key;
static pthread_once_t hdr_once = PTHREAD_ONCE_INIT;

static void
hdr_cache_free(void *p)
{
	struct hdr_cache *c = p;
	json_decref(c->obj);
	free(c);
}

static void
hdr_key_init(void)
{
	RVK_REQUIRE(pthread_key_create(&hdr_key, hdr_cache_free) == 0);
}

/* Returns: this thread's cache. */
static struct hdr_cache *
hdr_cache(void)
{
	pthread_once(&hdr_once, hdr_key_init);
	struct hdr_cache *c = pthread_getspecific(hdr_key);
	if (c == NULL) {
		c = rvk_calloc(1, sizeof(*c));
		RVK_REQUIRE(pthread_setspecific(hdr_key, c) == 0);
	}
	return c;
}

/* Returns: the header object for its base64url text s (a new reference),
 * or NULL when it does not decode to a JSON object. */
static json_t *
decode_header(const char *s, size_t n)
{
	struct hdr_cache *c = n <= HDR_CACHE_MAX ? hdr_cache() : NULL;
	if (c != NULL && c->obj != NULL && c->len == n && memcmp(c->text, s, n) == 0)
		return json_incref(c->obj);
	json_t *obj = decode_object(s, n);
	if (c != NULL && obj != NULL) {
		json_decref(c->obj);
		c->obj = json_incref(obj);
		c->len = n;
		memcpy(c->text, s, n);
	}
	return obj;
}

/* A string member: absent is fine (*out NULL); present must be a string. */
static bool
opt_string(json_t *obj, const char *name, const char **out, size_t *len)
{
	json_t *v = json_object_get(obj, name);
	*out = NULL;
	if (len)
		*len = 0;
	if (v == NULL)
		return true;
	if (!json_is_string(v))
		return false;
	*out = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return true;
}

/* A NumericDate (RFC 7519 §2): integer or real, finite, within int64. */
static bool
opt_time(json_t *obj, const char *name, bool *has, int64_t *out)
{
	json_t *v = json_object_get(obj, name);
	*has = false;
	*out = 0;
	if (v == NULL)
		return true;
	if (json_is_integer(v)) {
		/* jansson refuses integers beyond json_int_t when parsing. */
		_Static_assert(sizeof(json_int_t) == sizeof(int64_t),
		               "json_int_t is 64 bits");
		*out = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		/* 2^63 is exactly representable; every double below it fits. */
		if (!isfinite(d) || d >= 9223372036854775808.0
		    || d < -9223372036854775808.0)
			return false;
		*out = (int64_t)d;
	} else {
		return false;
	}
	*has = true;
	return true;
}

static bool
valid_aud(json_t *payload)
{
	json_t *aud = json_object_get(payload, "aud");
	if (aud == NULL || json_is_string(aud))
		return true;
	if (!json_is_array(aud))
		return false;
	size_t i;
	json_t *v;
	json_array_foreach(aud, i, v) {
		if (!json_is_string(v))
			return false;
	}
	return true;
}

/* A member whose absence or wrong type is judged by a later step (REFERENCE §3:
 * alg at step 3, "unsupported algorithm"; iss at step 2, "unknown
 * issuer"): *out is the string, else NULL. */
static const char *
later_string(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
read_members(rvk_jws_t *j)
{
	j->alg = later_string(j->header, "alg");
	j->iss = later_string(j->payload, "iss");
	return opt_string(j->header, "kid", &j->kid, &j->kid_len)
	       && opt_string(j->header, "typ", &j->typ, NULL)
	       && opt_string(j->payload, "sub", &j->sub, NULL)
	       && opt_string(j->payload, "jti", &j->jti, NULL)
	       && opt_string(j->payload, "sid", &j->sid, NULL)
	       && opt_time(j->payload, "exp", &j->has_exp, &j->exp)
	       && opt_time(j->payload, "iat", &j->has_iat, &j->iat)
	       && opt_time(j->payload, "nbf", &j->has_nbf, &j->nbf)
	       && valid_aud(j->payload);
}

rvk_reason_t
rvk_jws_parse(const char *token, size_t len, size_t max_bytes, rvk_jws_t *out)
{
	RVK_REQUIRE(out != NULL && (token != NULL || len == 0));
	memset(out, 0, sizeof(*out));
	if (len > max_bytes)
		return RVK_REASON_TOO_LARGE;

	size_t dot[2], ndots = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)token[i];
		if (c == '.') {
			if (ndots == 2)
				return RVK_REASON_MALFORMED;
			dot[ndots++] = i;
		} else if (!b64url_char(c)) {
			return RVK_REASON_MALFORMED;
		}
	}
	if (ndots != 2)
		return RVK_REASON_MALFORMED;

	rvk_jws_t j = { .token = token, .len = len, .signing_input_len = dot[1] };
	j.header = decode_header(token, dot[0]);
	if (j.header == NULL)
		goto malformed;
	j.payload = decode_object(token + dot[0] + 1, dot[1] - dot[0] - 1);
	if (j.payload == NULL)
		goto malformed;
	j.sig = decode_segment(token + dot[1] + 1, len - dot[1] - 1, &j.sig_len);
	if (j.sig == NULL)
		goto malformed;
	if (!read_members(&j))
		goto malformed;
	j.has_crit = json_object_get(j.header, "crit") != NULL;
	*out = j;
	return RVK_REASON_OK;

malformed:
	rvk_jws_fini(&j);
	return RVK_REASON_MALFORMED;
}

void
rvk_jws_fini(rvk_jws_t *jws)
{
	if (jws == NULL)
		return;
	json_decref(jws->header);
	json_decref(jws->payload);
	free(jws->sig);
	memset(jws, 0, sizeof(*jws));
}

rvk_reason_t
rvk_jws_verify(const rvk_jws_t *jws, const rvk_issuer_t *issuer,
               const rvk_key_t **used)
{
	RVK_REQUIRE(jws != NULL && jws->header != NULL);
	RVK_REQUIRE(issuer != NULL && used != NULL);
	rvk_alg_t alg;
	if (jws->alg == NULL || !rvk_alg_parse(jws->alg, strlen(jws->alg), &alg)
	    || !(issuer->algorithms & RVK_ALGSET(alg)))
		return RVK_REASON_UNSUPPORTED_ALG;
	const rvk_key_t *key = NULL;
	rvk_reason_t r = rvk_keyring_select(rvk_issuer_keyring(issuer), alg,
	                                    jws->kid, jws->kid_len, &key);
	if (r != RVK_REASON_OK)
		return r;
	/* RFC 7515 §4.1.11: revokd understands no extension, so any crit is
	 * one it must refuse. */
	if (jws->has_crit)
		return RVK_REASON_UNSUPPORTED_CRIT;
	/* The key, not the token, fixed the algorithm; they agree here. */
	RVK_REQUIRE(rvk_key_alg(key) == alg);
	if (!rvk_key_verify(key, (const unsigned char *)jws->token,
	                    jws->signing_input_len, jws->sig, jws->sig_len))
		return RVK_REASON_BAD_SIGNATURE;
	*used = key;
	return RVK_REASON_OK;
}

bool
rvk_jws_aud_contains(const rvk_jws_t *jws, const char *want)
{
	const json_t *aud = json_object_get(jws->payload, "aud");
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	size_t i;
	const json_t *e;
	json_array_foreach(aud, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), want) == 0)
			return true;
	return false;
}
