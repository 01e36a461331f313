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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jws.h"
#include "base/b64.h"
#include "base/check.h"
#include "base/buf.h"
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

/* jansson's reading of decoded bytes: an object, or NULL. Consumes buf. */
static json_t *
parse_object(unsigned char *buf, size_t len)
{
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

static json_t *
decode_object(const char *s, size_t n)
{
	size_t len = 0;
	unsigned char *buf = decode_segment(s, n, &len);
	if (buf == NULL)
		return NULL;
	return parse_object(buf, len);
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
	if (!(opt_string(j->header, "kid", &j->kid, &j->kid_len)
	      && opt_string(j->header, "typ", &j->typ, NULL)))
		return false;
	if (j->payload == NULL)
		return true;    /* the fast scanner read and checked the claims */
	j->iss = later_string(j->payload, "iss");
	j->has_events = json_object_get(j->payload, "events") != NULL;
	j->has_nonce = json_object_get(j->payload, "nonce") != NULL;
	return opt_string(j->payload, "sub", &j->sub, NULL)
	       && opt_string(j->payload, "jti", &j->jti, NULL)
	       && opt_string(j->payload, "sid", &j->sid, NULL)
	       && opt_time(j->payload, "exp", &j->has_exp, &j->exp)
	       && opt_time(j->payload, "iat", &j->has_iat, &j->iat)
	       && opt_time(j->payload, "nbf", &j->has_nbf, &j->nbf)
	       && valid_aud(j->payload);
}

/*
 * The fast claim scanner (rvk_jws_parse_fast): reads the payload in place
 * when it is JSON of a plain shape, and otherwise defers to jansson.
 *
 * It takes only what jansson (JSON_REJECT_DUPLICATES, an object at the top)
 * takes and reads: strings of bytes 0x20-0x7e without a backslash (so the
 * text is the value: no escapes, no UTF-8 to validate, no NUL), integers
 * "-"? ("0" | [1-9][0-9]{0,17}) not followed by ".", "e" or "E" (so within
 * int64, no real), the literals true, false, null, and arrays and objects
 * of those, at most SCAN_DEPTH deep and SCAN_KEYS members per object (a
 * repeated key, compared byte for byte as the texts are their values,
 * defers), whitespace as JSON's four characters. The members read_members
 * checks must also have their types there (iss, sub, jti, sid strings; exp,
 * iat, nbf integers; aud a string or at most RVK_JWS_AUD_MAX strings in an
 * array): anything else defers, and jansson's path gives the verdict. On
 * success the strings read are NUL-terminated in place (over their closing
 * quote): nothing is allocated beyond the decoded buffer.
 */
#define SCAN_DEPTH 16
#define SCAN_KEYS 64
_Static_assert(SCAN_DEPTH + 1 <= RVK_JSON_MAX_DEPTH,
               "the scanner takes no nesting rvk_json_load refuses");

struct scan {
	unsigned char *p, *end;
	/* What rvk_json_scan counts (base/json.h): { and [, and , and :
	 * outside strings - every one of them passes through the scanner. */
	size_t containers, items;
	/* The strings read for rvk_jws_t, copied NUL-terminated after the
	 * text only once the whole payload is taken: the text stays as
	 * decoded (for jansson when deferred, for rvk_jws_claim_text when
	 * taken). */
	struct { const unsigned char *v; size_t n; const char **dst; }
		str[4 + RVK_JWS_AUD_MAX];
	size_t n_str;
};

static void
keep_string(struct scan *s, const unsigned char *v, size_t n, const char **dst)
{
	s->str[s->n_str].v = v;
	s->str[s->n_str].n = n;
	s->str[s->n_str++].dst = dst;
}

/* The members the scanner reads, by the order of read_members. */
enum { M_ISS, M_SUB, M_JTI, M_SID, M_EXP, M_IAT, M_NBF, M_AUD, M_EVENTS,
       M_NONCE, M_OTHER };

static int
member_of(const unsigned char *k, size_t n)
{
	static const char *const names[] = { "iss", "sub", "jti", "sid", "exp",
	                                     "iat", "nbf", "aud", "events", "nonce" };
	for (int i = 0; i < M_OTHER; i++)
		if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0)
			return i;
	return M_OTHER;
}

static void
scan_ws(struct scan *s)
{
	while (s->p < s->end
	       && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* At a '"': the string's text (without quotes); the cursor after it. */
static bool
scan_string(struct scan *s, unsigned char **str, size_t *len)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	unsigned char *b = ++s->p;
	for (; s->p < s->end; s->p++) {
		unsigned char c = *s->p;
		if (c == '"') {
			*str = b;
			*len = (size_t)(s->p - b);
			s->p++;
			return true;
		}
		if (c < 0x20 || c > 0x7e || c == '\\')
			return false;
	}
	return false;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
scan_int(struct scan *s, int64_t *out)
{
	bool neg = false;
	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->end || !is_digit(*s->p))
		return false;
	int64_t v = 0;
	if (*s->p == '0') {
		s->p++;
	} else {
		int digits = 0;
		while (s->p < s->end && is_digit(*s->p)) {
			if (++digits > 18)
				return false;
			v = v * 10 + (*s->p++ - '0');
		}
	}
	if (s->p < s->end && (is_digit(*s->p) || *s->p == '.' || *s->p == 'e'
	                      || *s->p == 'E'))
		return false;
	*out = neg ? -v : v;
	return true;
}

static bool
scan_literal(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	/* jansson reads a whole identifier ("truex" is one bad token). */
	if (s->p < s->end && ((*s->p | 0x20) >= 'a' && (*s->p | 0x20) <= 'z'))
		return false;
	return true;
}

static bool scan_value(struct scan *s, int depth);

/* At a '{': every member's key and value; calls back for the top level. */
static bool
scan_object(struct scan *s, int depth, rvk_jws_t *top)
{
	unsigned char *keys[SCAN_KEYS];
	size_t klen[SCAN_KEYS], n = 0;
	if (depth > SCAN_DEPTH || s->p >= s->end || *s->p != '{')
		return false;
	s->p++;
	s->containers++;
	scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		unsigned char *k;
		size_t kn;
		if (n == SCAN_KEYS || !scan_string(s, &k, &kn))
			return false;
		for (size_t i = 0; i < n; i++)
			if (klen[i] == kn && memcmp(keys[i], k, kn) == 0)
				return false;
		keys[n] = k;
		klen[n++] = kn;
		scan_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return false;
		s->p++;
		s->items++;
		scan_ws(s);
		int m = top ? member_of(k, kn) : M_OTHER;
		unsigned char *v;
		size_t vn;
		switch (m) {
		case M_ISS: case M_SUB: case M_JTI: case M_SID:
			if (!scan_string(s, &v, &vn))
				return false;
			keep_string(s, v, vn, m == M_ISS ? &top->iss : m == M_SUB ? &top->sub
			                      : m == M_JTI ? &top->jti : &top->sid);
			break;
		case M_EXP: case M_IAT: case M_NBF:
			if (!scan_int(s, m == M_EXP ? &top->exp : m == M_IAT ? &top->iat
			                                          : &top->nbf))
				return false;
			*(m == M_EXP ? &top->has_exp : m == M_IAT ? &top->has_iat
			  : &top->has_nbf) = true;
			break;
		case M_AUD:
			top->has_aud = true;
			if (s->p < s->end && *s->p == '[') {
				top->aud_array = true;
				s->p++;
				s->containers++;
				scan_ws(s);
				if (s->p < s->end && *s->p == ']') {
					s->p++;
					break;
				}
				for (;;) {
					if (top->n_aud == RVK_JWS_AUD_MAX
					    || !scan_string(s, &v, &vn))
						return false;
					keep_string(s, v, vn, &top->aud[top->n_aud++]);
					scan_ws(s);
					if (s->p < s->end && *s->p == ',') {
						s->p++;
						s->items++;
						scan_ws(s);
						continue;
					}
					if (s->p < s->end && *s->p == ']') {
						s->p++;
						break;
					}
					return false;
				}
			} else {
				if (!scan_string(s, &v, &vn))
					return false;
				keep_string(s, v, vn, &top->aud[top->n_aud++]);
			}
			break;
		default:
			if (m == M_EVENTS)
				top->has_events = true;
			else if (m == M_NONCE)
				top->has_nonce = true;
			if (!scan_value(s, depth + 1))
				return false;
		}
		scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			s->items++;
			scan_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return true;
		}
		return false;
	}
}

static bool
scan_array(struct scan *s, int depth)
{
	if (depth > SCAN_DEPTH)
		return false;
	s->p++;
	s->containers++;
	scan_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(s, depth + 1))
			return false;
		scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			s->items++;
			scan_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return true;
		}
		return false;
	}
}

static bool
scan_value(struct scan *s, int depth)
{
	unsigned char *v;
	size_t vn;
	int64_t i;
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"': return scan_string(s, &v, &vn);
	case '{': return scan_object(s, depth, NULL);
	case '[': return scan_array(s, depth);
	case 't': return scan_literal(s, "true");
	case 'f': return scan_literal(s, "false");
	case 'n': return scan_literal(s, "null");
	default: return scan_int(s, &i);
	}
}

/* Returns: whether the scanner took the payload buf[0..len) into *j (its
 * strings then copied, NUL-terminated, to buf + len: buf holds 2 * len +
 * RVK_JWS_AUD_MAX + 4 bytes); false leaves *j's claim members and buf's
 * text as they were. */
static bool
scan_payload(unsigned char *buf, size_t len, rvk_jws_t *j)
{
	rvk_jws_t t = *j;
	struct scan s = { .p = buf, .end = buf + len };
	scan_ws(&s);
	if (!scan_object(&s, 0, &t))
		return false;
	scan_ws(&s);
	if (s.p != s.end)
		return false;
	/* jansson's path refuses what would cost it too much memory
	 * (base/json.h): so does this one, by the same count. */
	rvk_json_scan_t js = { .depth = 0, .containers = s.containers,
	                       .items = s.items };
	if (!rvk_json_affordable(&js, len))
		return false;
	unsigned char *o = buf + len;
	for (size_t i = 0; i < s.n_str; i++) {
		memcpy(o, s.str[i].v, s.str[i].n);
		*s.str[i].dst = (const char *)o;
		o += s.str[i].n;
		*o++ = 0;
	}
	*j = t;
	return true;
}

static rvk_reason_t
parse(const char *token, size_t len, size_t max_bytes, bool fast, rvk_jws_t *out)
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

	rvk_jws_t j = { .token = token, .len = len, .header_len = dot[0],
	                .signing_input_len = dot[1] };
	j.header = decode_header(token, dot[0]);
	if (j.header == NULL)
		goto malformed;
	/* Fast: room for the scanner's copies of the strings it reads, then
	 * for the decoded signature (one allocation per token, not two). */
	size_t pmax = rvk_b64_decoded_max(dot[1] - dot[0] - 1), plen = 0;
	size_t room = 2 * pmax + RVK_JWS_AUD_MAX + 4;
	const char *sig_text = token + dot[1] + 1;
	size_t sig_text_len = len - dot[1] - 1;
	unsigned char *pbuf = rvk_trymalloc(fast ? room + rvk_b64_decoded_max(sig_text_len)
	                                         : pmax);
	if (pbuf == NULL)
		goto malformed;
	if (!b64url_decode(token + dot[0] + 1, dot[1] - dot[0] - 1, pbuf, &plen)) {
		free(pbuf);
		goto malformed;
	}
	if (fast && scan_payload(pbuf, plen, &j)) {
		j.claims = (char *)pbuf;
		j.claims_len = plen;
		if (!b64url_decode(sig_text, sig_text_len, pbuf + room, &j.sig_len))
			goto malformed;
		j.sig = pbuf + room;
		j.sig_in_claims = true;
	} else {
		j.payload = parse_object(pbuf, plen);
		if (j.payload == NULL)
			goto malformed;
		j.sig = decode_segment(sig_text, sig_text_len, &j.sig_len);
		if (j.sig == NULL)
			goto malformed;
	}
	if (!read_members(&j))
		goto malformed;
	j.has_crit = json_object_get(j.header, "crit") != NULL;
	*out = j;
	return RVK_REASON_OK;

malformed:
	rvk_jws_fini(&j);
	return RVK_REASON_MALFORMED;
}

rvk_reason_t
rvk_jws_parse(const char *token, size_t len, size_t max_bytes, rvk_jws_t *out)
{
	return parse(token, len, max_bytes, false, out);
}

rvk_reason_t
rvk_jws_parse_fast(const char *token, size_t len, size_t max_bytes,
                   rvk_jws_t *out)
{
	return parse(token, len, max_bytes, true, out);
}

json_t *
rvk_jws_payload(const rvk_jws_t *jws)
{
	RVK_REQUIRE(jws != NULL && (jws->payload != NULL || jws->claims != NULL));
	if (jws->payload == NULL) {
		/* A cache of the object the token holds: the struct is the
		 * calling thread's (jws.h), so filling it here is safe. */
		rvk_jws_t *w = (rvk_jws_t *)jws;
		w->payload = decode_object(jws->token + jws->header_len + 1,
		                           jws->signing_input_len - jws->header_len - 1);
	}
	return jws->payload;
}

void
rvk_jws_fini(rvk_jws_t *jws)
{
	if (jws == NULL)
		return;
	json_decref(jws->header);
	json_decref(jws->payload);
	if (!jws->sig_in_claims)
		free(jws->sig);
	free(jws->claims);
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

/* claim_text of a JSON value (the jansson path). */
static char *
json_claim_text(const json_t *v)
{
	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) != json_string_length(v))
			return NULL;
		return rvk_strdup(json_string_value(v));
	}
	if (json_is_integer(v)) {
		char b[32];
		snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
		return rvk_strdup(b);
	}
	if (json_is_real(v))
		return json_dumps(v, JSON_ENCODE_ANY);
	if (json_is_array(v) && json_array_size(v) > 0) {
		rvk_buf_t b = RVK_BUF_INIT;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) ||
			    strlen(json_string_value(e)) != json_string_length(e)) {
				rvk_buf_fini(&b);
				return NULL;
			}
			if (i)
				rvk_buf_puts(&b, " ");
			rvk_buf_puts(&b, json_string_value(e));
		}
		return rvk_buf_steal(&b);
	}
	return NULL;
}

/* claim_text of the value at s->p in text the fast scanner took. */
static char *
scan_claim_text(struct scan *s)
{
	unsigned char *v;
	size_t vn;
	int64_t i;
	if (*s->p == '"') {
		if (!scan_string(s, &v, &vn))
			return NULL;
		return rvk_memdup0(v, vn);
	}
	if (*s->p == '-' || is_digit(*s->p)) {
		if (!scan_int(s, &i))
			return NULL;
		char b[32];
		snprintf(b, sizeof(b), "%lld", (long long)i);
		return rvk_strdup(b);
	}
	if (*s->p != '[')
		return NULL;
	rvk_buf_t b = RVK_BUF_INIT;
	bool any = false;
	s->p++;
	for (;;) {
		scan_ws(s);
		if (*s->p == ']' && !any)
			break;
		if (!scan_string(s, &v, &vn)) {
			rvk_buf_fini(&b);
			return NULL;
		}
		if (any)
			rvk_buf_puts(&b, " ");
		rvk_buf_append(&b, v, vn);
		any = true;
		scan_ws(s);
		if (*s->p == ']')
			break;
		s->p++;     /* the ',' the scan of the payload saw */
	}
	return any ? rvk_buf_steal(&b) : NULL;
}

char *
rvk_jws_claim_text(const rvk_jws_t *jws, const char *name)
{
	RVK_REQUIRE(jws != NULL && name != NULL);
	if (jws->payload != NULL)
		return json_claim_text(json_object_get(jws->payload, name));
	RVK_REQUIRE(jws->claims != NULL);
	/* The text was scanned whole before: every step below succeeds the
	 * way it did then, so the walk needs no other bounds. */
	struct scan s = { .p = (unsigned char *)jws->claims,
	                  .end = (unsigned char *)jws->claims + jws->claims_len };
	size_t n = strlen(name);
	scan_ws(&s);
	s.p++;          /* '{' */
	scan_ws(&s);
	if (*s.p == '}')
		return NULL;
	for (;;) {
		unsigned char *k;
		size_t kn;
		RVK_REQUIRE(scan_string(&s, &k, &kn));
		scan_ws(&s);
		s.p++;  /* ':' */
		scan_ws(&s);
		if (kn == n && memcmp(k, name, n) == 0)
			return scan_claim_text(&s);
		RVK_REQUIRE(scan_value(&s, 1));
		scan_ws(&s);
		if (*s.p == '}')
			return NULL;
		s.p++;  /* ',' */
		scan_ws(&s);
	}
}

bool
rvk_jws_aud_contains(const rvk_jws_t *jws, const char *want)
{
	if (jws->payload == NULL) {
		for (size_t i = 0; i < jws->n_aud; i++)
			if (strcmp(jws->aud[i], want) == 0)
				return true;
		return false;
	}
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
