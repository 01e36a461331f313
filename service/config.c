/*
 * Parsing walks the JSON once with a "path" string ("issuers[0].keys[1]")
 * that every error message carries, so the operator is told exactly which
 * key is wrong. Each object is checked against its list of allowed keys
 * first: unknown keys are errors, never ignored (a typo such as
 * "require_jit" must not silently leave a check off).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/jwks.h"
#include "base/check.h"
#include "base/id.h"
#include "base/mem.h"
#include "service/config.h"

#define MAX_CONFIG_BYTES (1 << 20)

struct ctx {
	const char *name;   /* file name for messages */
	const char *dir;
	char *err;
	size_t errlen;
	void *self;         /* the struct the current table fills */
	void *outer;        /* the struct around it (a key's issuer) */
};

static rvk_result_t
fail(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static rvk_result_t
fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (path && *path)
		snprintf(c->err, c->errlen, "config %s: %s: %s", c->name, path, what);
	else
		snprintf(c->err, c->errlen, "config %s: %s", c->name, what);
	return RVK_EINVAL;
}

/* Key paths are built by hand: one longer than the buffer is cut (it only
 * names the key in a message). */
static void
cat(char *out, size_t n, size_t *o, const char *s)
{
	while (*s && *o + 1 < n)
		out[(*o)++] = *s++;
	out[*o] = '\0';
}

static void
sub(char *out, size_t n, const char *path, const char *key)
{
	size_t o = 0;
	out[0] = '\0';
	cat(out, n, &o, path);
	if (*path)
		cat(out, n, &o, ".");
	cat(out, n, &o, key);
}

static void
idx(char *out, size_t n, const char *path, size_t i)
{
	char num[32];
	size_t o = 0;
	snprintf(num, sizeof(num), "[%zu]", i);
	out[0] = '\0';
	cat(out, n, &o, path);
	cat(out, n, &o, num);
}

static const char *
type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* A string member; null is allowed (and leaves *out NULL) when nullable. */
static rvk_result_t
get_str(struct ctx *c, const char *path, json_t *v, bool nullable, char **out)
{
	if (json_is_null(v) && nullable) {
		free(*out);
		*out = NULL;
		return RVK_OK;
	}
	if (!json_is_string(v))
		return fail(c, path, "must be a string%s, not %s",
		            nullable ? " or null" : "", type_name(v));
	if (json_string_length(v) == 0)
		return fail(c, path, "must not be empty");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(c, path, "must not contain NUL");
	free(*out);
	*out = rvk_strdup(json_string_value(v));
	return RVK_OK;
}

static rvk_result_t
get_int(struct ctx *c, const char *path, json_t *v, int64_t lo, int64_t hi,
        int64_t *out)
{
	if (!json_is_integer(v))
		return fail(c, path, "must be an integer, not %s", type_name(v));
	json_int_t n = json_integer_value(v);
	if (n < lo || n > hi)
		return fail(c, path, "%lld is out of range (%lld to %lld)",
		            (long long)n, (long long)lo, (long long)hi);
	*out = n;
	return RVK_OK;
}

static rvk_result_t
get_bool(struct ctx *c, const char *path, json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return fail(c, path, "must be true or false, not %s", type_name(v));
	*out = json_is_true(v);
	return RVK_OK;
}

static rvk_result_t
get_path(struct ctx *c, const char *path, json_t *v, bool nullable, char **out)
{
	char *raw = NULL;
	rvk_result_t r = get_str(c, path, v, nullable, &raw);
	if (r != RVK_OK)
		return r;
	free(*out);
	*out = raw ? rvk_config_path(c->dir, raw) : NULL;
	free(raw);
	return RVK_OK;
}

/* A path, null, or a non-empty array of paths (each made absolute). */
static rvk_result_t
get_paths(struct ctx *c, const char *path, json_t *v, char ***out, size_t *n)
{
	char **arr = NULL;
	size_t len = 0;
	if (json_is_null(v)) {
		/* none */
	} else if (json_is_string(v)) {
		arr = rvk_calloc(1, sizeof(char *));
		rvk_result_t r = get_path(c, path, v, false, &arr[0]);
		if (r != RVK_OK) {
			free(arr);
			return r;
		}
		len = 1;
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		len = json_array_size(v);
		arr = rvk_calloc(len, sizeof(char *));
		for (size_t i = 0; i < len; i++) {
			char p[256];
			idx(p, sizeof(p), path, i);
			rvk_result_t r = get_path(c, p, json_array_get(v, i), false, &arr[i]);
			if (r != RVK_OK) {
				for (size_t j = 0; j < i; j++)
					free(arr[j]);
				free(arr);
				return r;
			}
		}
	} else {
		return fail(c, path, "must be a path, a non-empty array of paths or null, not %s",
		            json_is_array(v) ? "an empty array" : type_name(v));
	}
	for (size_t i = 0; i < *n; i++)
		free((*out)[i]);
	free(*out);
	*out = arr;
	*n = len;
	return RVK_OK;
}

static rvk_result_t
get_str_array(struct ctx *c, const char *path, json_t *v, char ***out, size_t *n)
{
	if (!json_is_array(v))
		return fail(c, path, "must be an array of strings, not %s", type_name(v));
	size_t len = json_array_size(v);
	char **arr = rvk_calloc(len ? len : 1, sizeof(char *));
	for (size_t i = 0; i < len; i++) {
		char p[256];
		idx(p, sizeof(p), path, i);
		rvk_result_t r = get_str(c, p, json_array_get(v, i), false, &arr[i]);
		if (r != RVK_OK) {
			for (size_t j = 0; j < i; j++)
				free(arr[j]);
			free(arr);
			return r;
		}
	}
	for (size_t i = 0; i < *n; i++)
		free((*out)[i]);
	free(*out);
	*out = arr;
	*n = len;
	return RVK_OK;
}

static rvk_result_t
get_alg(struct ctx *c, const char *path, json_t *v, rvk_alg_t *out)
{
	if (!json_is_string(v))
		return fail(c, path, "must be a string, not %s", type_name(v));
	const char *s = json_string_value(v);
	if (strcasecmp(s, "none") == 0)
		return fail(c, path, "algorithm \"none\" is never allowed");
	if (!rvk_alg_parse(s, json_string_length(v), out))
		return fail(c, path, "unknown algorithm \"%s\"", s);
	return RVK_OK;
}

/* An "address:port" or "[v6]:port" we can bind to. */
static rvk_result_t
check_listen(struct ctx *c, const char *path, const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return fail(c, path, "must be ADDRESS:PORT, not \"%s\"", s);
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (*end || errno || port < 0 || port > 65535)
		return fail(c, path, "bad port in \"%s\"", s);
	return RVK_OK;
}

static rvk_result_t
parse_pairs(struct ctx *c, const char *path, json_t *v, rvk_config_pair_t **out,
            size_t *n)
{
	if (!json_is_object(v))
		return fail(c, path, "must be an object, not %s", type_name(v));
	size_t len = json_object_size(v), i = 0;
	rvk_config_pair_t *arr = rvk_calloc(len ? len : 1, sizeof(*arr));
	const char *k;
	json_t *m;
	rvk_result_t r = RVK_OK;
	json_object_foreach(v, k, m) {
		char p[256];
		sub(p, sizeof(p), path, k);
		arr[i].name = rvk_strdup(k);
		if ((r = get_str(c, p, m, false, &arr[i].value)) != RVK_OK) {
			i++;
			break;
		}
		/* Header names: RFC 9110 token characters only. */
		for (const char *s = arr[i].value; *s; s++) {
			if (!strchr("!#$%&'*+-.^_`|~", *s) &&
			    !(*s >= '0' && *s <= '9') && !(*s >= 'a' && *s <= 'z') &&
			    !(*s >= 'A' && *s <= 'Z')) {
				r = fail(c, p, "\"%s\" is not a valid header name", arr[i].value);
				break;
			}
		}
		i++;
		if (r != RVK_OK)
			break;
	}
	if (r != RVK_OK) {
		for (size_t j = 0; j < i; j++) {
			free(arr[j].name);
			free(arr[j].value);
		}
		free(arr);
		return r;
	}
	*out = arr;
	*n = len;
	return RVK_OK;
}

/*
 * The schema: one table per JSON object, one row per key. A row names the
 * key, its kind, its flags, the field it fills (offset and size in the
 * struct the table describes), its range (integers), its default (JSON
 * text, parsed by the same code as the file, so a default obeys its own
 * row) and, for objects and arrays of objects, the nested table. Rows are
 * parsed in table order, so the first error reported is the first wrong
 * row; the unknown-key check, the defaults and rvk_config_free are all
 * derived from the same tables.
 *
 * Adding a key is one row (see docs/ARCHITECTURE.md "Configuration
 * schema"); a key that needs more than a type and a range names a `check`
 * (run after the value is stored) or, for a value that is not one of the
 * kinds, a `parse`.
 */
enum kind {
	K_STR,      /* char *; "" and NUL refused */
	K_PATH,     /* char *; resolved against the config's folder */
	K_INT,      /* int or int64_t (by size), in [lo, hi] */
	K_BOOL,     /* bool */
	K_STRV,     /* char **, size_t count */
	K_PATHS,    /* char **, size_t count: a path, a non-empty array of paths, or null */
	K_PAIRS,    /* rvk_config_pair_t *, size_t count: name -> header name */
	K_OBJECT,   /* a nested object whose keys fill the same struct */
	K_ARRAY,    /* an array of objects: elem_size-sized structs, size_t count */
	K_CUSTOM,   /* parse() stores a value of its own kind (no heap) */
};

#define F_NULLABLE 1u   /* null is allowed: a string left NULL, an object skipped */
#define F_REQUIRED 2u   /* "is required" when absent */
/* Restart-only (docs/OPERATIONS.md, "Change the configuration without a
 * restart"): a SIGHUP reload that changes it is refused as a whole. On an
 * object row it covers every key inside. Rows without it are applied live. */
#define F_RESTART 4u

struct item;
typedef rvk_result_t parse_fn(struct ctx *c, const char *path, json_t *v,
                              void *field);
/* obj: the struct the row's table fills (an array row: the array). */
typedef rvk_result_t check_fn(struct ctx *c, const char *path,
                              const struct item *it, void *obj);
/* An array element after its own rows: i is its index in arr. */
typedef rvk_result_t elem_fn(struct ctx *c, const char *path, void *arr,
                             size_t i);

struct item {
	const char *name;
	enum kind kind;
	unsigned flags;
	size_t offset, size;    /* the field in the table's struct */
	size_t count;           /* K_STRV, K_PAIRS, K_ARRAY: offset of the count */
	int64_t lo, hi;         /* K_INT */
	const char *dflt;       /* JSON text of the default; NULL: none (zero) */
	const struct item *sub; /* K_OBJECT, K_ARRAY: the nested table */
	size_t elem_size;       /* K_ARRAY */
	parse_fn *parse;        /* K_CUSTOM */
	check_fn *check;        /* after the value is stored */
	elem_fn *elem;          /* K_ARRAY: after each element */
};

#define FIELD(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define ROW_STR(T, key, f, fl, d, chk) \
	{ .name = key, .kind = K_STR, .flags = fl, FIELD(T, f), .dflt = d, .check = chk }
#define ROW_PATH(T, key, f, fl, d) \
	{ .name = key, .kind = K_PATH, .flags = fl, FIELD(T, f), .dflt = d }
#define ROW_INT(T, key, f, l, h, d) \
	{ .name = key, .kind = K_INT, FIELD(T, f), .lo = l, .hi = h, .dflt = d }
#define ROW_RINT(T, key, f, l, h, d) \
	{ .name = key, .kind = K_INT, .flags = F_RESTART, FIELD(T, f), .lo = l, \
	  .hi = h, .dflt = d }
#define ROW_BOOL(T, key, f, d) \
	{ .name = key, .kind = K_BOOL, FIELD(T, f), .dflt = d }
#define ROW_STRV(T, key, f, n, d, chk) \
	{ .name = key, .kind = K_STRV, FIELD(T, f), .count = offsetof(T, n), .dflt = d, .check = chk }
#define ROW_PATHS(T, key, f, n) \
	{ .name = key, .kind = K_PATHS, FIELD(T, f), .count = offsetof(T, n) }
#define ROW_PAIRS(T, key, f, n, d) \
	{ .name = key, .kind = K_PAIRS, FIELD(T, f), .count = offsetof(T, n), .dflt = d }
#define ROW_OBJECT(key, fl, table) \
	{ .name = key, .kind = K_OBJECT, .flags = fl, .sub = table }
#define ROW_ARRAY(T, key, f, n, E, table, el) \
	{ .name = key, .kind = K_ARRAY, FIELD(T, f), .count = offsetof(T, n), \
	  .sub = table, .elem_size = sizeof(E), .elem = el }
#define ROW_CUSTOM(T, key, f, fl, fn, d) \
	{ .name = key, .kind = K_CUSTOM, .flags = fl, FIELD(T, f), .parse = fn, .dflt = d }
#define ROW_END { .name = NULL }

static void *
at(void *obj, const struct item *it)
{
	return (char *)obj + it->offset;
}

static size_t *
count_at(void *obj, const struct item *it)
{
	return (size_t *)(void *)((char *)obj + it->count);
}

/* ---- values that are not one of the kinds ---- */

static rvk_result_t
parse_log_format(struct ctx *c, const char *path, json_t *v, void *field)
{
	if (!json_is_string(v) || !rvk_log_format_parse(json_string_value(v), field))
		return fail(c, path, "must be \"json\" or \"text\"");
	return RVK_OK;
}

static rvk_result_t
parse_log_level(struct ctx *c, const char *path, json_t *v, void *field)
{
	if (!json_is_string(v) || !rvk_log_level_parse(json_string_value(v), field))
		return fail(c, path, "must be \"debug\", \"info\", \"warn\" or \"error\"");
	return RVK_OK;
}

static rvk_result_t
parse_integrity_check(struct ctx *c, const char *path, json_t *v, void *field)
{
	const char *t = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(t, "after_unclean_stop") != 0 && strcmp(t, "every_start") != 0)
		return fail(c, path, "must be \"after_unclean_stop\" or \"every_start\"");
	*(bool *)field = strcmp(t, "every_start") == 0;
	return RVK_OK;
}

/* An issuer's algorithms: a non-empty array of names, none not "none". */
static rvk_result_t
parse_algorithms(struct ctx *c, const char *path, json_t *v, void *field)
{
	rvk_algset_t *set = field;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return fail(c, path, "must be a non-empty array of algorithm names");
	for (size_t i = 0; i < json_array_size(v); i++) {
		char q[256];
		rvk_alg_t alg;
		rvk_result_t r;
		idx(q, sizeof(q), path, i);
		if ((r = get_alg(c, q, json_array_get(v, i), &alg)) != RVK_OK)
			return r;
		*set |= RVK_ALGSET(alg);
	}
	return RVK_OK;
}

/* A key's alg: known, and one of its issuer's (c->outer) algorithms. */
static rvk_result_t
parse_key_alg(struct ctx *c, const char *path, json_t *v, void *field)
{
	const rvk_config_issuer_t *is = c->outer;
	rvk_alg_t *alg = field;
	rvk_result_t r = get_alg(c, path, v, alg);
	if (r != RVK_OK)
		return r;
	if (!(is->algorithms & RVK_ALGSET(*alg)))
		return fail(c, path, "\"%s\" is not in this issuer's algorithms",
		            rvk_alg_name(*alg));
	return RVK_OK;
}

/* ---- checks after a value is stored ---- */

static const char *
str_at(void *obj, const struct item *it)
{
	return *(char **)at(obj, it);
}

static rvk_result_t
check_listen_row(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	const char *s = str_at(obj, it);
	return s ? check_listen(c, path, s) : RVK_OK;
}

/* It is part of every revocation of that issuer (base/id.h). */
static rvk_result_t
check_issuer_id(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	if (!rvk_id_valid_str(str_at(obj, it)))
		return fail(c, path, "must be at most %d bytes", RVK_ID_MAX);
	return RVK_OK;
}

/* The refresher's own rule (a prefix test would take
 * "http://127.0.0.1.evil.example/"). */
static rvk_result_t
check_jwks_uri(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	const char *s = str_at(obj, it);
	if (s && !rvk_jwks_uri_allowed(s))
		return fail(c, path, "must be an https URL (plain http only to loopback)");
	return RVK_OK;
}

static rvk_result_t
check_token_types(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	rvk_config_issuer_t *is = obj;
	(void)it;
	for (size_t i = 0; i < is->n_token_types; i++) {
		const char *t = is->token_types[i];
		if (strncasecmp(t, "application/", 12) == 0)
			t += 12;
		if (strcasecmp(t, "logout+jwt") == 0 || strcasecmp(t, "secevent+jwt") == 0) {
			char p[256];
			idx(p, sizeof(p), path, i);
			return fail(c, p, "\"%s\" is never an access token type",
			            is->token_types[i]);
		}
	}
	return RVK_OK;
}

static rvk_result_t
check_jti_claim(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	const char *s = str_at(obj, it);
	if (s && (s[0] == '\0' || strlen(s) > 255))
		return fail(c, path, "must be a claim name of 1 to 255 bytes");
	return RVK_OK;
}

/* An issuer's require_jti: true, false, or null/absent (the top-level
 * require_jti; stored as -1). */
static rvk_result_t
parse_tristate(struct ctx *c, const char *path, json_t *v, void *field)
{
	int *out = field;
	if (json_is_null(v))
		*out = -1;
	else if (json_is_boolean(v))
		*out = json_is_true(v) ? 1 : 0;
	else
		return fail(c, path, "must be true or false");
	return RVK_OK;
}

static rvk_result_t
check_client_id(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	if (strchr(str_at(obj, it), ':'))
		return fail(c, path, "must not contain ':' (HTTP Basic)");
	return RVK_OK;
}

static rvk_result_t
check_redis_url(struct ctx *c, const char *path, const struct item *it, void *obj)
{
	if (strncmp(str_at(obj, it), "redis://", 8) != 0
	    && strncmp(str_at(obj, it), "rediss://", 9) != 0)
		return fail(c, path, "must start with redis:// or rediss://");
	return RVK_OK;
}

/* redis.tls: a client certificate needs its key (checked on cert_file,
 * after key_file). */
static rvk_result_t
check_redis_tls_pair(struct ctx *c, const char *path, const struct item *it,
                     void *obj)
{
	(void)it;
	const rvk_config_t *cfg = obj;
	if (!cfg->redis_tls_cert_file != !cfg->redis_tls_key_file)
		return fail(c, path, "cert_file and key_file go together");
	return RVK_OK;
}

/* redis.sentinel.addrs: at least one, each host:port. */
static rvk_result_t
check_sentinel_addrs(struct ctx *c, const char *path, const struct item *it,
                     void *obj)
{
	char **v = *(char ***)at(obj, it);
	size_t n = *count_at(obj, it);
	if (n == 0)
		return fail(c, path, "must name at least one sentinel");
	for (size_t i = 0; i < n; i++) {
		const char *colon = strrchr(v[i], ':');
		char *e = NULL;
		long port = colon ? strtol(colon + 1, &e, 10) : 0;
		if (!colon || colon == v[i] || !e || *e || port < 1 || port > 65535)
			return fail(c, path, "\"%s\" is not host:port", v[i]);
	}
	return RVK_OK;
}

/* ---- checks after an array element ---- */

static rvk_result_t
elem_key(struct ctx *c, const char *path, void *arr, size_t i)
{
	rvk_config_key_t *keys = arr, *k = &keys[i];
	bool hmac = rvk_alg_is_hmac(k->alg);
	if (hmac && !k->secret_file)
		return fail(c, path, "an %s key needs secret_file", rvk_alg_name(k->alg));
	if (hmac && k->pem_file)
		return fail(c, path, "an %s key takes secret_file, not pem_file", rvk_alg_name(k->alg));
	if (!hmac && !k->pem_file)
		return fail(c, path, "an %s key needs pem_file", rvk_alg_name(k->alg));
	if (!hmac && k->secret_file)
		return fail(c, path, "an %s key takes pem_file, not secret_file", rvk_alg_name(k->alg));
	for (size_t j = 0; j < i; j++) {
		const char *a = k->kid, *b = keys[j].kid;
		if (a && b && strcmp(a, b) == 0)
			return fail(c, path, "duplicate kid \"%s\"", a);
	}
	return RVK_OK;
}

static rvk_result_t
elem_issuer(struct ctx *c, const char *path, void *arr, size_t i)
{
	rvk_config_issuer_t *v = arr, *is = &v[i];
	if (!is->jwks_uri && !is->discovery && is->n_keys == 0)
		return fail(c, path, "needs jwks_uri, discovery: true, or keys");
	/* Without audiences the issuer's ID tokens (aud: the client, nonce:
	 * the login's) would pass as access tokens. */
	if (is->allow_nonce && is->n_audiences == 0) {
		char p[256];
		sub(p, sizeof(p), path, "allow_nonce");
		return fail(c, p, "needs this issuer's audiences (so that its ID tokens stay refused)");
	}
	for (size_t j = 0; j < i; j++)
		if (strcmp(v[j].issuer, is->issuer) == 0)
			return fail(c, path, "duplicate issuer \"%s\"", is->issuer);
	return RVK_OK;
}

/* ---- the tables (REFERENCE §2) ---- */

#define K rvk_config_key_t
static const struct item key_items[] = {
	ROW_STR(K, "kid", kid, F_NULLABLE, NULL, NULL),
	ROW_CUSTOM(K, "alg", alg, F_REQUIRED, parse_key_alg, NULL),
	ROW_PATH(K, "pem_file", pem_file, 0, NULL),
	ROW_PATH(K, "secret_file", secret_file, 0, NULL),
	ROW_END
};
#undef K

#define I rvk_config_issuer_t
static const struct item issuer_items[] = {
	ROW_STR(I, "issuer", issuer, F_REQUIRED, NULL, check_issuer_id),
	ROW_CUSTOM(I, "algorithms", algorithms, F_REQUIRED, parse_algorithms, NULL),
	ROW_STRV(I, "audiences", audiences, n_audiences, NULL, NULL),
	ROW_STR(I, "jwks_uri", jwks_uri, F_NULLABLE, NULL, check_jwks_uri),
	ROW_BOOL(I, "discovery", discovery, NULL),
	ROW_INT(I, "jwks_refresh", jwks_refresh, 1, 86400, "300"),
	ROW_STRV(I, "token_types", token_types, n_token_types, "[\"JWT\", \"at+jwt\"]",
	         check_token_types),
	ROW_STR(I, "backchannel_client_id", backchannel_client_id, F_NULLABLE, NULL, NULL),
	ROW_BOOL(I, "allow_nonce", allow_nonce, NULL),
	ROW_CUSTOM(I, "require_jti", require_jti, 0, parse_tristate, "null"),
	ROW_STR(I, "jti_claim", jti_claim, F_NULLABLE, NULL, check_jti_claim),
	ROW_ARRAY(I, "keys", keys, n_keys, rvk_config_key_t, key_items, elem_key),
	ROW_END
};
#undef I

#define P rvk_config_pair_t
static const struct item client_items[] = {
	ROW_STR(P, "id", name, F_REQUIRED, NULL, check_client_id),
	ROW_PATH(P, "secret_file", value, F_REQUIRED, NULL),
	ROW_END
};
#undef P

#define C rvk_config_t
static const struct item verified_cache_items[] = {
	/* Sizes the cache (its hard cap). */
	ROW_RINT(C, "max_entries", vcache_max_entries, 0, 100000000, "100000"),
	ROW_INT(C, "ttl", vcache_ttl, 0, 86400, "300"),
	ROW_END
};

static const struct item webhook_items[] = {
	ROW_PATHS(C, "secret_file", webhook_secret_files, n_webhook_secret_files),
	ROW_INT(C, "tolerance", webhook_tolerance, 1, 86400, "300"),
	ROW_END
};

static const struct item admin_items[] = {
	ROW_PATHS(C, "token_file", admin_token_files, n_admin_token_files),
	ROW_END
};

static const struct item introspection_items[] = {
	ROW_ARRAY(C, "clients", introspection_clients, n_introspection_clients,
	          rvk_config_pair_t, client_items, NULL),
	ROW_END
};

static const struct item redis_tls_items[] = {
	ROW_PATH(C, "ca_file", redis_tls_ca_file, F_NULLABLE, NULL),
	ROW_STR(C, "server_name", redis_tls_server_name, F_NULLABLE, NULL, NULL),
	/* key_file first: cert_file's check sees it (a key without a
	 * certificate is refused when the TLS context is built). */
	ROW_PATH(C, "key_file", redis_tls_key_file, F_NULLABLE, NULL),
	{ .name = "cert_file", .kind = K_PATH, .flags = F_NULLABLE,
	  FIELD(rvk_config_t, redis_tls_cert_file), .check = check_redis_tls_pair },
	ROW_END
};

static const struct item redis_sentinel_items[] = {
	ROW_STR(C, "master_name", redis_sentinel_master, F_REQUIRED, NULL, NULL),
	{ .name = "addrs", .kind = K_STRV, .flags = F_REQUIRED,
	  FIELD(rvk_config_t, redis_sentinel_addrs),
	  .count = offsetof(rvk_config_t, n_redis_sentinel_addrs),
	  .check = check_sentinel_addrs },
	ROW_PATH(C, "password_file", redis_sentinel_password_file, F_NULLABLE, NULL),
	ROW_END
};

static const struct item redis_items[] = {
	ROW_STR(C, "url", redis_url, F_REQUIRED, NULL, check_redis_url),
	ROW_PATH(C, "password_file", redis_password_file, F_NULLABLE, NULL),
	ROW_OBJECT("tls", F_NULLABLE, redis_tls_items),
	ROW_OBJECT("sentinel", F_NULLABLE, redis_sentinel_items),
	ROW_INT(C, "wait_replicas", redis_wait_replicas, 0, 16, "0"),
	ROW_INT(C, "reconcile_interval", redis_reconcile_interval, 1, 3600, "60"),
	ROW_STR(C, "stream", redis_stream, 0, "\"revokd:revocations\"", NULL),
	ROW_END
};

/* F_RESTART, from the top: the listeners, threads and the store are
 * built once (integrity_check acts at the store's open only); a log stream does not switch format halfway; max_token_bytes
 * sizes each connection's memory; max_token_lifetime sizes what the store
 * and the replication stream keep; every redis setting is read once at
 * start. leeway is live, but may not
 * rise above its start-up value (service/reload.c). */
static const struct item root_items[] = {
	ROW_STR(C, "listen", listen, F_RESTART, "\"127.0.0.1:8080\"", check_listen_row),
	ROW_STR(C, "admin_listen", admin_listen, F_NULLABLE | F_RESTART, NULL,
	        check_listen_row),
	ROW_RINT(C, "threads", threads, 0, 1024, "0"),
	ROW_PATH(C, "data_dir", data_dir, F_RESTART, "\"/var/lib/revokd\""),
	ROW_CUSTOM(C, "integrity_check", integrity_check_every_start, F_RESTART,
	           parse_integrity_check, "\"after_unclean_stop\""),
	ROW_CUSTOM(C, "log_format", log_format, F_RESTART, parse_log_format, "\"json\""),
	ROW_CUSTOM(C, "log_level", log_level, 0, parse_log_level, "\"info\""),
	ROW_INT(C, "leeway", leeway, 0, 3600, "30"),
	ROW_RINT(C, "max_token_bytes", max_token_bytes, 256, 65536, "8192"),
	ROW_RINT(C, "max_token_lifetime", max_token_lifetime, 60, 31 * 86400,
	                "86400"),
	ROW_BOOL(C, "require_jti", require_jti, "true"),
	ROW_STR(C, "token_cookie", token_cookie, F_NULLABLE, NULL, NULL),
	ROW_PAIRS(C, "forward_claims", forward_claims, n_forward_claims,
	          "{\"sub\": \"X-Auth-Subject\", \"scope\": \"X-Auth-Scope\"}"),
	ROW_OBJECT("verified_cache", 0, verified_cache_items),
	ROW_ARRAY(C, "issuers", issuers, n_issuers, rvk_config_issuer_t, issuer_items,
	          elem_issuer),
	ROW_OBJECT("webhook", 0, webhook_items),
	ROW_OBJECT("admin", 0, admin_items),
	ROW_OBJECT("introspection", 0, introspection_items),
	ROW_STR(C, "set_audience", set_audience, F_NULLABLE, NULL, NULL),
	ROW_OBJECT("redis", F_NULLABLE | F_RESTART, redis_items),
	ROW_END
};
#undef C

/* ---- the walker ---- */

static void free_fields(const struct item *table, void *obj);

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_pairs(rvk_config_pair_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

/* Frees what the rows of table own in obj, and zeroes them. */
static void
free_fields(const struct item *table, void *obj)
{
	for (const struct item *it = table; it->name; it++) {
		void *f = at(obj, it);
		switch (it->kind) {
		case K_STR:
		case K_PATH:
			free(*(char **)f);
			*(char **)f = NULL;
			break;
		case K_STRV:
		case K_PATHS:
			free_strv(*(char ***)f, *count_at(obj, it));
			*(char ***)f = NULL;
			*count_at(obj, it) = 0;
			break;
		case K_PAIRS:
			free_pairs(*(rvk_config_pair_t **)f, *count_at(obj, it));
			*(rvk_config_pair_t **)f = NULL;
			*count_at(obj, it) = 0;
			break;
		case K_OBJECT:
			free_fields(it->sub, obj);
			break;
		case K_ARRAY: {
			char *arr = *(char **)f;
			for (size_t i = 0; arr && i < *count_at(obj, it); i++)
				free_fields(it->sub, arr + i * it->elem_size);
			free(arr);
			*(char **)f = NULL;
			*count_at(obj, it) = 0;
			break;
		}
		case K_INT:
		case K_BOOL:
		case K_CUSTOM:
			break;
		}
	}
}

static void set_defaults(const struct item *table, void *obj);
static rvk_result_t parse_object(struct ctx *c, const char *path, json_t *v,
                                 const struct item *table, void *obj);

/* Rejects members of obj that no row of table names. */
static rvk_result_t
only_rows(struct ctx *c, const char *path, json_t *obj, const struct item *table)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (const struct item *it = table; it->name && !ok; it++)
			ok = strcmp(it->name, k) == 0;
		if (!ok) {
			char p[256];
			sub(p, sizeof(p), path, k);
			return fail(c, p, "unknown key");
		}
	}
	return RVK_OK;
}

static rvk_result_t
parse_array(struct ctx *c, const char *path, json_t *v, const struct item *it,
            void *obj)
{
	if (!json_is_array(v))
		return fail(c, path, "must be an array, not %s", type_name(v));
	size_t n = json_array_size(v);
	char *arr = rvk_calloc(n ? n : 1, it->elem_size);
	*(char **)at(obj, it) = arr;
	*count_at(obj, it) = n;   /* zeroed elements free as nothing */
	void *outer = c->outer, *self = c->self;
	rvk_result_t r = RVK_OK;
	for (size_t i = 0; i < n && r == RVK_OK; i++) {
		char p[256];
		json_t *e = json_array_get(v, i);
		idx(p, sizeof(p), path, i);
		c->outer = c->self;
		c->self = arr + i * it->elem_size;
		set_defaults(it->sub, c->self);
		if (!json_is_object(e))
			r = fail(c, p, "must be an object, not %s", type_name(e));
		else
			r = parse_object(c, p, e, it->sub, c->self);
		if (r == RVK_OK && it->elem)
			r = it->elem(c, p, arr, i);
		c->outer = outer;
		c->self = self;
	}
	return r;
}

/* One row's value v at path into obj. */
static rvk_result_t
parse_row(struct ctx *c, const char *path, json_t *v, const struct item *it,
          void *obj)
{
	void *f = at(obj, it);
	rvk_result_t r = RVK_OK;
	switch (it->kind) {
	case K_STR:
		r = get_str(c, path, v, it->flags & F_NULLABLE, f);
		break;
	case K_PATH:
		r = get_path(c, path, v, it->flags & F_NULLABLE, f);
		break;
	case K_INT: {
		int64_t n = 0;
		if ((r = get_int(c, path, v, it->lo, it->hi, &n)) != RVK_OK)
			break;
		if (it->size == sizeof(int))
			*(int *)f = (int)n;
		else
			*(int64_t *)f = n;
		break;
	}
	case K_BOOL:
		r = get_bool(c, path, v, f);
		break;
	case K_STRV:
		r = get_str_array(c, path, v, f, count_at(obj, it));
		break;
	case K_PATHS:
		r = get_paths(c, path, v, f, count_at(obj, it));
		break;
	case K_PAIRS: {
		rvk_config_pair_t *pairs = NULL;
		size_t n = 0;
		if ((r = parse_pairs(c, path, v, &pairs, &n)) != RVK_OK)
			break;
		free_pairs(*(rvk_config_pair_t **)f, *count_at(obj, it));
		*(rvk_config_pair_t **)f = pairs;
		*count_at(obj, it) = n;
		break;
	}
	case K_OBJECT:
		if (json_is_null(v) && (it->flags & F_NULLABLE))
			break;
		if (!json_is_object(v))
			r = fail(c, path, "must be an object%s, not %s",
			         it->flags & F_NULLABLE ? " or null" : "", type_name(v));
		else
			r = parse_object(c, path, v, it->sub, obj);
		break;
	case K_ARRAY:
		r = parse_array(c, path, v, it, obj);
		break;
	case K_CUSTOM:
		r = it->parse(c, path, v, f);
		break;
	}
	if (r == RVK_OK && it->check)
		r = it->check(c, path, it, obj);
	return r;
}

/* The members of the JSON object v, every row of table in order, into obj. */
static rvk_result_t
parse_object(struct ctx *c, const char *path, json_t *v,
             const struct item *table, void *obj)
{
	rvk_result_t r = only_rows(c, path, v, table);
	if (r != RVK_OK)
		return r;
	for (const struct item *it = table; it->name; it++) {
		char p[256];
		json_t *m = json_object_get(v, it->name);
		sub(p, sizeof(p), path, it->name);
		if (!m && (it->flags & F_REQUIRED))
			return fail(c, p, "is required");
		if (m && (r = parse_row(c, p, m, it, obj)) != RVK_OK)
			return r;
	}
	return RVK_OK;
}

/* Sets every row of table that has a default (nested objects too). */
static void
set_defaults(const struct item *table, void *obj)
{
	char err[256];
	struct ctx c = { .name = "(defaults)", .dir = "/", .err = err,
	                 .errlen = sizeof(err), .self = obj };
	for (const struct item *it = table; it->name; it++) {
		if (it->kind == K_OBJECT) {
			set_defaults(it->sub, obj);
			continue;
		}
		if (!it->dflt)
			continue;
		json_t *v = json_loads(it->dflt, JSON_DECODE_ANY, NULL);
		RVK_REQUIRE(v != NULL);
		rvk_result_t r = parse_row(&c, it->name, v, it, obj);
		json_decref(v);
		RVK_REQUIRE(r == RVK_OK);
	}
}

rvk_config_t *
rvk_config_new_defaults(void)
{
	rvk_config_t *cfg = rvk_calloc(1, sizeof(*cfg));
	set_defaults(root_items, cfg);
	return cfg;
}

rvk_result_t
rvk_config_parse_string(const char *json, size_t len, const char *name,
                        const char *dir, rvk_config_t **out, char *err,
                        size_t errlen)
{
	struct ctx c = { .name = name, .dir = dir, .err = err, .errlen = errlen };
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "config %s: line %d column %d: %s", name,
		         je.line, je.column, je.text);
		return RVK_EINVAL;
	}
	rvk_config_t *cfg = rvk_config_new_defaults();
	cfg->path = rvk_strdup(name);
	cfg->dir = rvk_strdup(dir);
	c.self = cfg;
	rvk_result_t r;
	if (!json_is_object(root))
		r = fail(&c, NULL, "the top level must be an object, not %s", type_name(root));
	else
		r = parse_object(&c, "", root, root_items, cfg);
	json_decref(root);
	if (r != RVK_OK) {
		rvk_config_free(cfg);
		return r;
	}
	*out = cfg;
	return RVK_OK;
}

rvk_result_t
rvk_config_parse_file(const char *path, rvk_config_t **out, char *err,
                      size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "config %s: cannot open: %s", path, strerror(errno));
		return RVK_EIO;
	}
	char *buf = rvk_malloc(MAX_CONFIG_BYTES + 1);
	size_t n = fread(buf, 1, MAX_CONFIG_BYTES + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > MAX_CONFIG_BYTES) {
		snprintf(err, errlen, "config %s: %s", path,
		         bad ? "read error" : "larger than 1 MiB");
		free(buf);
		return RVK_EIO;
	}
	char *copy = rvk_strdup(path);
	char *slash = strrchr(copy, '/');
	char *dir;
	if (slash) {
		*slash = '\0';
		dir = rvk_config_path(NULL, *copy ? copy : "/");
	} else {
		dir = rvk_config_path(NULL, ".");
	}
	rvk_result_t r = rvk_config_parse_string(buf, n, path, dir, out, err, errlen);
	free(copy);
	free(dir);
	free(buf);
	return r;
}

void
rvk_config_free(rvk_config_t *cfg)
{
	if (!cfg)
		return;
	free_fields(root_items, cfg);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}

int
rvk_config_threads(const rvk_config_t *cfg)
{
	if (cfg->threads > 0)
		return cfg->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

rvk_result_t
rvk_config_validate(const rvk_config_t *cfg, char *err, size_t errlen)
{
	struct ctx c = { .name = cfg->path ? cfg->path : "(none)", .err = err,
	                 .errlen = errlen };
	/* Again here: --listen and --admin-listen replace the checked values,
	 * and the server parses them assuming a colon. */
	rvk_result_t r = check_listen(&c, "listen", cfg->listen);
	if (r == RVK_OK && cfg->admin_listen)
		r = check_listen(&c, "admin_listen", cfg->admin_listen);
	if (r != RVK_OK)
		return r;
	if (cfg->admin_listen && strcmp(cfg->admin_listen, cfg->listen) == 0)
		return fail(&c, "admin_listen", "must differ from listen");
	return RVK_OK;
}

char *
rvk_config_path(const char *dir, const char *p)
{
	if (p[0] == '/')
		return rvk_strdup(p);
	char cwd[PATH_MAX];
	if (!dir) {
		if (!getcwd(cwd, sizeof(cwd)))
			strcpy(cwd, ".");
		dir = cwd;
	}
	if (strcmp(p, ".") == 0)
		return rvk_strdup(dir);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *out = rvk_malloc(n);
	snprintf(out, n, "%s/%s", dir, p);
	return out;
}

/* ---- comparing two configs (SIGHUP reload) ---- */

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_fields(const struct item *table, const void *a, const void *b);

/* Returns: whether one row's value is the same in a and b. */
static bool
same_row(const struct item *it, const void *a, const void *b)
{
	const void *fa = (const char *)a + it->offset, *fb = (const char *)b + it->offset;
	size_t na = 0, nb = 0;
	if (it->kind == K_STRV || it->kind == K_PATHS || it->kind == K_PAIRS ||
	    it->kind == K_ARRAY) {
		na = *(const size_t *)(const void *)((const char *)a + it->count);
		nb = *(const size_t *)(const void *)((const char *)b + it->count);
		if (na != nb)
			return false;
	}
	switch (it->kind) {
	case K_STR:
	case K_PATH:
		return same_str(*(char *const *)fa, *(char *const *)fb);
	case K_INT:
	case K_BOOL:
	case K_CUSTOM:
		return memcmp(fa, fb, it->size) == 0;
	case K_STRV:
	case K_PATHS:
		for (size_t i = 0; i < na; i++)
			if (!same_str((*(char **const *)fa)[i], (*(char **const *)fb)[i]))
				return false;
		return true;
	case K_PAIRS:
		for (size_t i = 0; i < na; i++) {
			const rvk_config_pair_t *pa = &(*(rvk_config_pair_t *const *)fa)[i];
			const rvk_config_pair_t *pb = &(*(rvk_config_pair_t *const *)fb)[i];
			if (!same_str(pa->name, pb->name) || !same_str(pa->value, pb->value))
				return false;
		}
		return true;
	case K_OBJECT:
		return same_fields(it->sub, a, b);
	case K_ARRAY:
		for (size_t i = 0; i < na; i++)
			if (!same_fields(it->sub, *(char *const *)fa + i * it->elem_size,
			                 *(char *const *)fb + i * it->elem_size))
				return false;
		return true;
	}
	return false;
}

static bool
same_fields(const struct item *table, const void *a, const void *b)
{
	for (const struct item *it = table; it->name; it++)
		if (!same_row(it, a, b))
			return false;
	return true;
}

/* Appends the keys of table that differ, under prefix; restart_only picks
 * the F_RESTART rows (inherited from an object row) or the others. */
static void
diff_table(const struct item *table, const char *prefix, bool inherited,
           bool restart_only, const void *a, const void *b, char *out,
           size_t outlen)
{
	for (const struct item *it = table; it->name; it++) {
		char p[256];
		sub(p, sizeof(p), prefix, it->name);
		bool restart = inherited || (it->flags & F_RESTART);
		if (it->kind == K_OBJECT) {
			diff_table(it->sub, p, restart, restart_only, a, b, out, outlen);
			continue;
		}
		if (restart != restart_only || same_row(it, a, b))
			continue;
		size_t o = strlen(out);
		if (o)
			cat(out, outlen, &o, ", ");
		cat(out, outlen, &o, p);
	}
}

void
rvk_config_diff(const rvk_config_t *a, const rvk_config_t *b, bool restart_only,
                char *out, size_t outlen)
{
	RVK_REQUIRE(a && b && out && outlen > 0);
	out[0] = '\0';
	diff_table(root_items, "", false, restart_only, a, b, out, outlen);
}
