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

/* Rejects members of obj not listed in allowed (NULL-terminated). */
static rvk_result_t
only_keys(struct ctx *c, const char *path, json_t *obj, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, k) == 0)
				ok = true;
		if (!ok) {
			char p[256];
			sub(p, sizeof(p), path, k);
			return fail(c, p, "unknown key");
		}
	}
	return RVK_OK;
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
parse_key(struct ctx *c, const char *path, json_t *v, rvk_config_issuer_t *is,
          rvk_config_key_t *k)
{
	static const char *const allowed[] = { "kid", "alg", "pem_file", "secret_file", NULL };
	char p[256];
	rvk_result_t r;
	if (!json_is_object(v))
		return fail(c, path, "must be an object, not %s", type_name(v));
	if ((r = only_keys(c, path, v, allowed)) != RVK_OK)
		return r;
	json_t *m;
	if ((m = json_object_get(v, "kid"))) {
		sub(p, sizeof(p), path, "kid");
		if ((r = get_str(c, p, m, true, &k->kid)) != RVK_OK)
			return r;
	}
	sub(p, sizeof(p), path, "alg");
	if (!(m = json_object_get(v, "alg")))
		return fail(c, p, "is required");
	if ((r = get_alg(c, p, m, &k->alg)) != RVK_OK)
		return r;
	if (!(is->algorithms & RVK_ALGSET(k->alg)))
		return fail(c, p, "\"%s\" is not in this issuer's algorithms",
		            rvk_alg_name(k->alg));
	if ((m = json_object_get(v, "pem_file"))) {
		sub(p, sizeof(p), path, "pem_file");
		if ((r = get_path(c, p, m, false, &k->pem_file)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(v, "secret_file"))) {
		sub(p, sizeof(p), path, "secret_file");
		if ((r = get_path(c, p, m, false, &k->secret_file)) != RVK_OK)
			return r;
	}
	bool hmac = rvk_alg_is_hmac(k->alg);
	if (hmac && !k->secret_file)
		return fail(c, path, "an %s key needs secret_file", rvk_alg_name(k->alg));
	if (hmac && k->pem_file)
		return fail(c, path, "an %s key takes secret_file, not pem_file", rvk_alg_name(k->alg));
	if (!hmac && !k->pem_file)
		return fail(c, path, "an %s key needs pem_file", rvk_alg_name(k->alg));
	if (!hmac && k->secret_file)
		return fail(c, path, "an %s key takes pem_file, not secret_file", rvk_alg_name(k->alg));
	return RVK_OK;
}

static rvk_result_t
check_token_types(struct ctx *c, const char *path, rvk_config_issuer_t *is)
{
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
parse_issuer(struct ctx *c, const char *path, json_t *v, rvk_config_issuer_t *is)
{
	static const char *const allowed[] = {
		"issuer", "audiences", "algorithms", "jwks_uri", "discovery",
		"jwks_refresh", "keys", "token_types", "backchannel_client_id",
		"allow_nonce", "require_jti", "jti_claim", NULL
	};
	char p[256];
	rvk_result_t r;
	json_t *m;
	if (!json_is_object(v))
		return fail(c, path, "must be an object, not %s", type_name(v));
	if ((r = only_keys(c, path, v, allowed)) != RVK_OK)
		return r;
	is->jwks_refresh = 300;
	is->require_jti = -1;
	is->token_types = rvk_calloc(2, sizeof(char *));
	is->token_types[0] = rvk_strdup("JWT");
	is->token_types[1] = rvk_strdup("at+jwt");
	is->n_token_types = 2;

	sub(p, sizeof(p), path, "issuer");
	if (!(m = json_object_get(v, "issuer")))
		return fail(c, p, "is required");
	if ((r = get_str(c, p, m, false, &is->issuer)) != RVK_OK)
		return r;
	/* It is part of every revocation of that issuer (base/id.h). */
	if (!rvk_id_valid_str(is->issuer))
		return fail(c, p, "must be at most %d bytes", RVK_ID_MAX);

	sub(p, sizeof(p), path, "algorithms");
	if (!(m = json_object_get(v, "algorithms")))
		return fail(c, p, "is required");
	if (!json_is_array(m) || json_array_size(m) == 0)
		return fail(c, p, "must be a non-empty array of algorithm names");
	for (size_t i = 0; i < json_array_size(m); i++) {
		char q[256];
		rvk_alg_t alg;
		idx(q, sizeof(q), p, i);
		if ((r = get_alg(c, q, json_array_get(m, i), &alg)) != RVK_OK)
			return r;
		is->algorithms |= RVK_ALGSET(alg);
	}
	if ((m = json_object_get(v, "audiences"))) {
		sub(p, sizeof(p), path, "audiences");
		if ((r = get_str_array(c, p, m, &is->audiences, &is->n_audiences)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(v, "jwks_uri"))) {
		sub(p, sizeof(p), path, "jwks_uri");
		if ((r = get_str(c, p, m, true, &is->jwks_uri)) != RVK_OK)
			return r;
		/* The refresher's own rule (a prefix test would take
		 * "http://127.0.0.1.evil.example/"). */
		if (is->jwks_uri && !rvk_jwks_uri_allowed(is->jwks_uri))
			return fail(c, p, "must be an https URL (plain http only to loopback)");
	}
	if ((m = json_object_get(v, "discovery"))) {
		sub(p, sizeof(p), path, "discovery");
		if ((r = get_bool(c, p, m, &is->discovery)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(v, "jwks_refresh"))) {
		sub(p, sizeof(p), path, "jwks_refresh");
		if ((r = get_int(c, p, m, 1, 86400, &is->jwks_refresh)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(v, "token_types"))) {
		sub(p, sizeof(p), path, "token_types");
		if ((r = get_str_array(c, p, m, &is->token_types, &is->n_token_types)) != RVK_OK)
			return r;
		if ((r = check_token_types(c, p, is)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(v, "backchannel_client_id"))) {
		sub(p, sizeof(p), path, "backchannel_client_id");
		if ((r = get_str(c, p, m, true, &is->backchannel_client_id)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(v, "allow_nonce"))) {
		sub(p, sizeof(p), path, "allow_nonce");
		if ((r = get_bool(c, p, m, &is->allow_nonce)) != RVK_OK)
			return r;
		/* Without audiences the issuer's ID tokens (aud: the client,
		 * nonce: the login's) would pass as access tokens. */
		if (is->allow_nonce && is->n_audiences == 0)
			return fail(c, p, "needs this issuer's audiences (so that its ID tokens stay refused)");
	}
	if ((m = json_object_get(v, "require_jti"))) {
		bool b;
		sub(p, sizeof(p), path, "require_jti");
		if ((r = get_bool(c, p, m, &b)) != RVK_OK)
			return r;
		is->require_jti = b;
	}
	if ((m = json_object_get(v, "jti_claim"))) {
		sub(p, sizeof(p), path, "jti_claim");
		if ((r = get_str(c, p, m, false, &is->jti_claim)) != RVK_OK)
			return r;
		if (is->jti_claim[0] == '\0' || strlen(is->jti_claim) > 255)
			return fail(c, p, "must be a claim name of 1 to 255 bytes");
	}
	if ((m = json_object_get(v, "keys"))) {
		sub(p, sizeof(p), path, "keys");
		if (!json_is_array(m))
			return fail(c, p, "must be an array, not %s", type_name(m));
		is->n_keys = json_array_size(m);
		is->keys = rvk_calloc(is->n_keys ? is->n_keys : 1, sizeof(*is->keys));
		for (size_t i = 0; i < is->n_keys; i++) {
			char q[256];
			idx(q, sizeof(q), p, i);
			if ((r = parse_key(c, q, json_array_get(m, i), is, &is->keys[i])) != RVK_OK)
				return r;
			for (size_t j = 0; j < i; j++) {
				const char *a = is->keys[i].kid, *b = is->keys[j].kid;
				if (a && b && strcmp(a, b) == 0)
					return fail(c, q, "duplicate kid \"%s\"", a);
			}
		}
	}
	if (!is->jwks_uri && !is->discovery && is->n_keys == 0)
		return fail(c, path, "needs jwks_uri, discovery: true, or keys");
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

static rvk_result_t
parse_clients(struct ctx *c, const char *path, json_t *v, rvk_config_t *cfg)
{
	static const char *const allowed[] = { "id", "secret_file", NULL };
	if (!json_is_array(v))
		return fail(c, path, "must be an array, not %s", type_name(v));
	size_t n = json_array_size(v);
	cfg->introspection_clients = rvk_calloc(n ? n : 1, sizeof(rvk_config_pair_t));
	for (size_t i = 0; i < n; i++) {
		char p[256], q[256];
		rvk_result_t r;
		json_t *o = json_array_get(v, i), *m;
		idx(p, sizeof(p), path, i);
		if (!json_is_object(o))
			return fail(c, p, "must be an object, not %s", type_name(o));
		if ((r = only_keys(c, p, o, allowed)) != RVK_OK)
			return r;
		cfg->n_introspection_clients = i + 1;
		rvk_config_pair_t *cl = &cfg->introspection_clients[i];
		sub(q, sizeof(q), p, "id");
		if (!(m = json_object_get(o, "id")))
			return fail(c, q, "is required");
		if ((r = get_str(c, q, m, false, &cl->name)) != RVK_OK)
			return r;
		if (strchr(cl->name, ':'))
			return fail(c, q, "must not contain ':' (HTTP Basic)");
		sub(q, sizeof(q), p, "secret_file");
		if (!(m = json_object_get(o, "secret_file")))
			return fail(c, q, "is required");
		if ((r = get_path(c, q, m, false, &cl->value)) != RVK_OK)
			return r;
	}
	return RVK_OK;
}

static rvk_result_t
parse_root(struct ctx *c, json_t *root, rvk_config_t *cfg)
{
	static const char *const allowed[] = {
		"listen", "admin_listen", "threads", "data_dir", "log_format",
		"log_level", "leeway", "max_token_bytes", "max_token_lifetime",
		"require_jti", "token_cookie", "forward_claims", "verified_cache",
		"issuers", "webhook", "admin", "introspection", "set_audience",
		"redis", NULL
	};
	rvk_result_t r;
	json_t *m;
	if (!json_is_object(root))
		return fail(c, NULL, "the top level must be an object, not %s", type_name(root));
	if ((r = only_keys(c, "", root, allowed)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "listen"))) {
		if ((r = get_str(c, "listen", m, false, &cfg->listen)) != RVK_OK ||
		    (r = check_listen(c, "listen", cfg->listen)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(root, "admin_listen"))) {
		if ((r = get_str(c, "admin_listen", m, true, &cfg->admin_listen)) != RVK_OK)
			return r;
		if (cfg->admin_listen &&
		    (r = check_listen(c, "admin_listen", cfg->admin_listen)) != RVK_OK)
			return r;
	}
	int64_t n;
	if ((m = json_object_get(root, "threads"))) {
		if ((r = get_int(c, "threads", m, 0, 1024, &n)) != RVK_OK)
			return r;
		cfg->threads = (int)n;
	}
	if ((m = json_object_get(root, "data_dir")) &&
	    (r = get_path(c, "data_dir", m, false, &cfg->data_dir)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "log_format"))) {
		if (!json_is_string(m) || !rvk_log_format_parse(json_string_value(m), &cfg->log_format))
			return fail(c, "log_format", "must be \"json\" or \"text\"");
	}
	if ((m = json_object_get(root, "log_level"))) {
		if (!json_is_string(m) || !rvk_log_level_parse(json_string_value(m), &cfg->log_level))
			return fail(c, "log_level", "must be \"debug\", \"info\", \"warn\" or \"error\"");
	}
	if ((m = json_object_get(root, "leeway")) &&
	    (r = get_int(c, "leeway", m, 0, 3600, &cfg->leeway)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "max_token_bytes")) &&
	    (r = get_int(c, "max_token_bytes", m, 256, 65536, &cfg->max_token_bytes)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "max_token_lifetime")) &&
	    (r = get_int(c, "max_token_lifetime", m, 60, 31 * 86400, &cfg->max_token_lifetime)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "require_jti")) &&
	    (r = get_bool(c, "require_jti", m, &cfg->require_jti)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "token_cookie")) &&
	    (r = get_str(c, "token_cookie", m, true, &cfg->token_cookie)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "forward_claims"))) {
		for (size_t i = 0; i < cfg->n_forward_claims; i++) {
			free(cfg->forward_claims[i].name);
			free(cfg->forward_claims[i].value);
		}
		free(cfg->forward_claims);
		cfg->forward_claims = NULL;
		cfg->n_forward_claims = 0;
		if ((r = parse_pairs(c, "forward_claims", m, &cfg->forward_claims,
		                     &cfg->n_forward_claims)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(root, "verified_cache"))) {
		static const char *const vc[] = { "max_entries", "ttl", NULL };
		json_t *x;
		if (!json_is_object(m))
			return fail(c, "verified_cache", "must be an object, not %s", type_name(m));
		if ((r = only_keys(c, "verified_cache", m, vc)) != RVK_OK)
			return r;
		if ((x = json_object_get(m, "max_entries")) &&
		    (r = get_int(c, "verified_cache.max_entries", x, 0, 100000000,
		                 &cfg->vcache_max_entries)) != RVK_OK)
			return r;
		if ((x = json_object_get(m, "ttl")) &&
		    (r = get_int(c, "verified_cache.ttl", x, 0, 86400, &cfg->vcache_ttl)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(root, "issuers"))) {
		if (!json_is_array(m))
			return fail(c, "issuers", "must be an array, not %s", type_name(m));
		size_t k = json_array_size(m);
		cfg->issuers = rvk_calloc(k ? k : 1, sizeof(*cfg->issuers));
		for (size_t i = 0; i < k; i++) {
			char p[64];
			idx(p, sizeof(p), "issuers", i);
			cfg->n_issuers = i + 1;
			if ((r = parse_issuer(c, p, json_array_get(m, i), &cfg->issuers[i])) != RVK_OK)
				return r;
			for (size_t j = 0; j < i; j++)
				if (strcmp(cfg->issuers[j].issuer, cfg->issuers[i].issuer) == 0)
					return fail(c, p, "duplicate issuer \"%s\"", cfg->issuers[i].issuer);
		}
	}
	if ((m = json_object_get(root, "webhook"))) {
		static const char *const wh[] = { "secret_file", "tolerance", NULL };
		json_t *x;
		if (!json_is_object(m))
			return fail(c, "webhook", "must be an object, not %s", type_name(m));
		if ((r = only_keys(c, "webhook", m, wh)) != RVK_OK)
			return r;
		if ((x = json_object_get(m, "secret_file")) &&
		    (r = get_paths(c, "webhook.secret_file", x, &cfg->webhook_secret_files,
		                   &cfg->n_webhook_secret_files)) != RVK_OK)
			return r;
		if ((x = json_object_get(m, "tolerance")) &&
		    (r = get_int(c, "webhook.tolerance", x, 1, 86400, &cfg->webhook_tolerance)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(root, "admin"))) {
		static const char *const ad[] = { "token_file", NULL };
		json_t *x;
		if (!json_is_object(m))
			return fail(c, "admin", "must be an object, not %s", type_name(m));
		if ((r = only_keys(c, "admin", m, ad)) != RVK_OK)
			return r;
		if ((x = json_object_get(m, "token_file")) &&
		    (r = get_paths(c, "admin.token_file", x, &cfg->admin_token_files,
		                   &cfg->n_admin_token_files)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(root, "introspection"))) {
		static const char *const in[] = { "clients", NULL };
		json_t *x;
		if (!json_is_object(m))
			return fail(c, "introspection", "must be an object, not %s", type_name(m));
		if ((r = only_keys(c, "introspection", m, in)) != RVK_OK)
			return r;
		if ((x = json_object_get(m, "clients")) &&
		    (r = parse_clients(c, "introspection.clients", x, cfg)) != RVK_OK)
			return r;
	}
	if ((m = json_object_get(root, "set_audience")) &&
	    (r = get_str(c, "set_audience", m, true, &cfg->set_audience)) != RVK_OK)
		return r;
	if ((m = json_object_get(root, "redis"))) {
		static const char *const rd[] = { "url", "stream", NULL };
		json_t *x;
		if (json_is_null(m))
			return RVK_OK;
		if (!json_is_object(m))
			return fail(c, "redis", "must be an object or null, not %s", type_name(m));
		if ((r = only_keys(c, "redis", m, rd)) != RVK_OK)
			return r;
		if (!(x = json_object_get(m, "url")))
			return fail(c, "redis.url", "is required");
		if ((r = get_str(c, "redis.url", x, false, &cfg->redis_url)) != RVK_OK)
			return r;
		if (strncmp(cfg->redis_url, "redis://", 8) != 0)
			return fail(c, "redis.url", "must start with redis://");
		if ((x = json_object_get(m, "stream")) &&
		    (r = get_str(c, "redis.stream", x, false, &cfg->redis_stream)) != RVK_OK)
			return r;
	}
	return RVK_OK;
}

rvk_config_t *
rvk_config_new_defaults(void)
{
	rvk_config_t *cfg = rvk_calloc(1, sizeof(*cfg));
	cfg->listen = rvk_strdup("127.0.0.1:8080");
	cfg->data_dir = rvk_strdup("/var/lib/revokd");
	cfg->log_format = RVK_LOG_JSON;
	cfg->log_level = RVK_LOG_INFO;
	cfg->leeway = 30;
	cfg->max_token_bytes = 8192;
	cfg->max_token_lifetime = 86400;
	cfg->require_jti = true;
	cfg->forward_claims = rvk_calloc(2, sizeof(rvk_config_pair_t));
	cfg->forward_claims[0].name = rvk_strdup("sub");
	cfg->forward_claims[0].value = rvk_strdup("X-Auth-Subject");
	cfg->forward_claims[1].name = rvk_strdup("scope");
	cfg->forward_claims[1].value = rvk_strdup("X-Auth-Scope");
	cfg->n_forward_claims = 2;
	cfg->vcache_max_entries = 100000;
	cfg->vcache_ttl = 300;
	cfg->webhook_tolerance = 300;
	cfg->redis_stream = rvk_strdup("revokd:revocations");
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
	free(cfg->data_dir);
	cfg->data_dir = rvk_strdup("/var/lib/revokd");
	rvk_result_t r = parse_root(&c, root, cfg);
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

void
rvk_config_free(rvk_config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		rvk_config_issuer_t *is = &cfg->issuers[i];
		free(is->issuer);
		free_strv(is->audiences, is->n_audiences);
		free(is->jwks_uri);
		for (size_t k = 0; k < is->n_keys; k++) {
			free(is->keys[k].kid);
			free(is->keys[k].pem_file);
			free(is->keys[k].secret_file);
		}
		free(is->keys);
		free_strv(is->token_types, is->n_token_types);
		free(is->backchannel_client_id);
		free(is->jti_claim);
	}
	free(cfg->issuers);
	free_pairs(cfg->forward_claims, cfg->n_forward_claims);
	free_pairs(cfg->introspection_clients, cfg->n_introspection_clients);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->listen);
	free(cfg->admin_listen);
	free(cfg->data_dir);
	free(cfg->token_cookie);
	for (size_t i = 0; i < cfg->n_webhook_secret_files; i++)
		free(cfg->webhook_secret_files[i]);
	free(cfg->webhook_secret_files);
	for (size_t i = 0; i < cfg->n_admin_token_files; i++)
		free(cfg->admin_token_files[i]);
	free(cfg->admin_token_files);
	free(cfg->set_audience);
	free(cfg->redis_url);
	free(cfg->redis_stream);
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

rvk_result_t
rvk_config_read_secret(const char *path, char **out, size_t *len, char *err,
                       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
		return RVK_EIO;
	}
	size_t cap = 64 * 1024;
	char *buf = rvk_malloc(cap + 1);
	size_t n = fread(buf, 1, cap + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > cap) {
		snprintf(err, errlen, "cannot read \"%s\": %s", path,
		         bad ? "read error" : "larger than 64 KiB");
		rvk_memzero(buf, cap + 1);
		free(buf);
		return RVK_EIO;
	}
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	buf[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "\"%s\" is empty", path);
		free(buf);
		return RVK_EINVAL;
	}
	*out = buf;
	*len = n;
	return RVK_OK;
}

static rvk_result_t
load_key(const rvk_config_t *cfg, size_t ii, size_t ki, rvk_key_t **out,
         char *err, size_t errlen)
{
	const rvk_config_key_t *k = &cfg->issuers[ii].keys[ki];
	const char *file = k->pem_file ? k->pem_file : k->secret_file;
	char what[512];
	char *data = NULL;
	size_t len = 0;
	rvk_result_t r = rvk_config_read_secret(file, &data, &len, what, sizeof(what));
	if (r == RVK_OK) {
		if (k->pem_file)
			r = rvk_key_from_pem(k->kid, k->alg, data, len, out, what, sizeof(what));
		else
			r = rvk_key_from_secret(k->kid, k->alg, (unsigned char *)data,
			                        len, out, what, sizeof(what));
		rvk_memzero(data, len);
		free(data);
	}
	if (r != RVK_OK) {
		snprintf(err, errlen, "config %s: issuers[%zu].keys[%zu].%s: %s",
		         cfg->path ? cfg->path : "(none)", ii, ki,
		         k->pem_file ? "pem_file" : "secret_file", what);
		return RVK_EINVAL;
	}
	return RVK_OK;
}

rvk_result_t
rvk_config_build_issuers(const rvk_config_t *cfg, rvk_issuers_t **out,
                         char *err, size_t errlen)
{
	rvk_issuers_t *set = rvk_calloc(1, sizeof(*set));
	set->v = rvk_calloc(cfg->n_issuers ? cfg->n_issuers : 1, sizeof(rvk_issuer_t *));
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		const rvk_config_issuer_t *ci = &cfg->issuers[i];
		rvk_issuer_t *is = rvk_issuer_new(ci->issuer);
		set->v[set->n++] = is;
		is->algorithms = ci->algorithms;
		is->n_audiences = ci->n_audiences;
		is->audiences = rvk_calloc(ci->n_audiences ? ci->n_audiences : 1, sizeof(char *));
		for (size_t j = 0; j < ci->n_audiences; j++)
			is->audiences[j] = rvk_strdup(ci->audiences[j]);
		is->n_token_types = ci->n_token_types;
		is->token_types = rvk_calloc(ci->n_token_types ? ci->n_token_types : 1, sizeof(char *));
		for (size_t j = 0; j < ci->n_token_types; j++)
			is->token_types[j] = rvk_strdup(ci->token_types[j]);
		if (ci->backchannel_client_id)
			is->backchannel_client_id = rvk_strdup(ci->backchannel_client_id);
		is->allow_nonce = ci->allow_nonce;
		is->require_jti = ci->require_jti;
		/* "jti" itself needs no second look-up. */
		if (ci->jti_claim && strcmp(ci->jti_claim, "jti") != 0)
			is->jti_claim = rvk_strdup(ci->jti_claim);
		rvk_key_t **keys = rvk_calloc(ci->n_keys ? ci->n_keys : 1, sizeof(rvk_key_t *));
		for (size_t k = 0; k < ci->n_keys; k++) {
			if (load_key(cfg, i, k, &keys[k], err, errlen) != RVK_OK) {
				for (size_t j = 0; j < k; j++)
					rvk_key_free(keys[j]);
				free(keys);
				rvk_issuers_free(set);
				free(set);
				return RVK_EINVAL;
			}
		}
		rvk_keyring_t *ring = rvk_keyring_new(keys, ci->n_keys);
		free(keys);
		rvk_keyring_t *old = is->keyring;
		is->keyring = ring;
		rvk_keyring_free(old);
	}
	*out = set;
	return RVK_OK;
}
