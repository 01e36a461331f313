/*
 * replica_entry.c - the consumer's readers of Redis replies
 * (store/replica_entry.h), and the keys hash's format both ways; the writer
 * of the stream is store/stream_publisher.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/mem.h"
#include "store/replica_entry.h"

#define MAX_REPLY_ELEMENTS (1 << 20)

static redisReplyObjectFunctions bounded;
static redisReplyObjectFunctions *defaults;
static pthread_once_t bounded_once = PTHREAD_ONCE_INIT;

static void *
bounded_array(const redisReadTask *task, int elements)
{
	if (elements < 0 || elements > MAX_REPLY_ELEMENTS)
		return NULL;    /* hiredis: "Out of memory", the reader fails */
	return defaults->createArray(task, elements);
}

static void
init_bounded(void)
{
	/* hiredis' one static table of defaults, which every reader starts
	 * with; it is not exported, so take it from a reader of our own. */
	redisReader *r = redisReaderCreate();
	RVK_REQUIRE(r != NULL);
	defaults = r->fn;
	redisReaderFree(r);
	bounded = *defaults;
	bounded.createArray = bounded_array;
}

void
rvk_repl_bound_reader(redisReader *r)
{
	pthread_once(&bounded_once, init_bounded);
	RVK_REQUIRE(r->fn == defaults);
	r->fn = &bounded;
}

const redisReply *
rvk_repl_xread_entries(const redisReply *r)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
	    && r->element[0]->type == REDIS_REPLY_ARRAY
	    && r->element[0]->elements == 2
	    && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
		return r->element[0]->element[1];
	return NULL;
}

const char *
rvk_repl_entry_id(const redisReply *e)
{
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2
	    || e->element[0]->type != REDIS_REPLY_STRING)
		return NULL;
	return e->element[0]->str;
}

static const char *
field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; i + 1 < kv->elements; i += 2) {
		const redisReply *f = kv->element[i], *v = kv->element[i + 1];
		if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
		    && strcmp(f->str, name) == 0)
			return v->str;
	}
	return NULL;
}

static bool
parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (*e || errno)
		return false;
	*out = v;
	return true;
}

/* A version: 1 to 19 decimal digits, > 0, below 2^63. */
static bool
parse_version(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
		return false;
	unsigned long long v = strtoull(s, NULL, 10);
	if (v == 0 || v > (unsigned long long)INT64_MAX)
		return false;
	*out = v;
	return true;
}

rvk_repl_entry_kind_t
rvk_repl_parse_entry(const redisReply *kv, const char *self_node,
                     rvk_revocation_t *r, bool *one_source)
{
	memset(r, 0, sizeof(*r));
	*one_source = false;
	if (kv->type != REDIS_REPLY_ARRAY)
		return RVK_REPL_ENTRY_BAD;
	const char *origin = field(kv, "origin");
	if (origin && strcmp(origin, self_node) == 0)
		return RVK_REPL_ENTRY_OWN;
	const char *op = field(kv, "op"), *type = field(kv, "type");
	r->iss = (char *)field(kv, "iss");
	r->id = (char *)field(kv, "id");
	/* An issuer revocation has no id; every other kind needs one. */
	if (!op || !type || !rvk_rev_type_parse(type, &r->type) || !r->iss
	    || !r->id
	    || !rvk_rev_key_valid(r->type, r->iss, strlen(r->iss), r->id,
	                          strlen(r->id)))
		return RVK_REPL_ENTRY_BAD;
	r->origin = (char *)origin;
	/* A version needs the origin that breaks its ties; no version: an
	 * entry of an older revokd (store.c, "Versioned changes"). */
	const char *version = field(kv, "version");
	if (version && (!origin || !parse_version(version, &r->version)))
		return RVK_REPL_ENTRY_BAD;
	const char *source = field(kv, "source");
	if (strcmp(op, "delete") == 0) {
		/* A source names the one contribution that left; without
		 * one, every source's went (an admin DELETE). */
		if (source && !rvk_source_parse(source, &r->source))
			return RVK_REPL_ENTRY_BAD;
		*one_source = source != NULL;
		return RVK_REPL_ENTRY_DELETE;
	}
	if (strcmp(op, "revoke") != 0)
		return RVK_REPL_ENTRY_BAD;
	const char *ea = field(kv, "expires_at");
	if (!parse_i64(field(kv, "revoked_at"), &r->revoked_at) || !ea)
		return RVK_REPL_ENTRY_BAD;
	if (strcmp(ea, "never") == 0)
		r->expires_at = RVK_NEVER;
	else if (!parse_i64(ea, &r->expires_at))
		return RVK_REPL_ENTRY_BAD;
	if (r->type == RVK_REV_KEY)
		r->expires_at = RVK_NEVER;
	r->reason = (char *)field(kv, "reason");
	/* The originating source: the contribution this entry updates. */
	if (!source || !rvk_source_parse(source, &r->source))
		return RVK_REPL_ENTRY_BAD;
	return RVK_REPL_ENTRY_REVOKE;
}

char *
rvk_repl_key_field(const char *iss, const char *kid, const rvk_source_t *source)
{
	const char *src = source ? rvk_source_name(*source) : "";
	size_t n = strlen(src) + strlen(iss) + strlen(kid) + 24;
	char *f = rvk_malloc(n);
	snprintf(f, n, "%s%s%zu:%s%s", src, source ? " " : "", strlen(iss), iss,
	         kid);
	return f;
}

char *
rvk_repl_key_value(const rvk_revocation_t *r)
{
	size_t n = (r->reason ? strlen(r->reason) : 0) + 64;
	char *v = rvk_malloc(n);
	if (r->reason)
		snprintf(v, n, "%lld %s %zu:%s", (long long)r->revoked_at,
		         rvk_source_name(r->source), strlen(r->reason), r->reason);
	else
		snprintf(v, n, "%lld %s -", (long long)r->revoked_at,
		         rvk_source_name(r->source));
	return v;
}

/* Reads a source name of at most 15 bytes from s up to a space. Returns:
 * the space after it, or NULL. */
static const char *
source_word(const char *s, rvk_source_t *out)
{
	const char *sp = strchr(s, ' ');
	if (!sp || sp == s || sp - s >= 16)
		return NULL;
	char src[16];
	memcpy(src, s, (size_t)(sp - s));
	src[sp - s] = '\0';
	return rvk_source_parse(src, out) ? sp : NULL;
}

bool
rvk_repl_parse_key(const char *field_s, const char *value, rvk_revocation_t *r,
                   char **iss, char **kid, char **reason)
{
	*iss = *kid = *reason = NULL;
	const char *field_s0 = field_s;
	/* A per-source field starts with its source; the older one with the
	 * issuer's length. */
	bool per_source = false;
	rvk_source_t field_source = RVK_SRC_ADMIN;
	if (*field_s < '0' || *field_s > '9') {
		const char *sp = source_word(field_s, &field_source);
		if (!sp)
			return false;
		field_s = sp + 1;
		per_source = true;
	}
	char *e;
	errno = 0;
	unsigned long ilen = strtoul(field_s, &e, 10);
	if (errno || e == field_s || *e != ':' || ilen == 0
	    || *field_s < '0' || *field_s > '9' || strlen(e + 1) <= ilen)
		return false;
	*iss = rvk_strndup(e + 1, ilen);
	*kid = rvk_strdup(e + 1 + ilen);
	if (!rvk_rev_key_valid(RVK_REV_KEY, *iss, strlen(*iss), *kid,
	                       strlen(*kid)))
		return false;
	char *v;
	errno = 0;
	long long ra = strtoll(value, &v, 10);
	if (v == value || *v != ' ' || errno)
		return false;
	rvk_source_t source;
	const char *sp = source_word(v + 1, &source);
	if (!sp || (per_source && source != field_source))
		return false;
	if (strcmp(sp + 1, "-") != 0) {
		errno = 0;
		unsigned long rlen = strtoul(sp + 1, &e, 10);
		if (e == sp + 1 || *e != ':' || errno || strlen(e + 1) != rlen)
			return false;
		*reason = rvk_strdup(e + 1);
	}
	memset(r, 0, sizeof(*r));
	r->type = RVK_REV_KEY;
	r->iss = *iss;
	r->id = *kid;
	r->source = source;
	r->revoked_at = ra;
	r->expires_at = RVK_NEVER;
	r->reason = *reason;
	/* Exactly as the publisher writes it: strtoul and strtoll also take a
	 * sign, leading spaces and zeros, which the checks above let through
	 * (" 1 admin -", "admin 01:ik"). What prints back differently was
	 * not written by a revokd. */
	char *f2 = rvk_repl_key_field(*iss, *kid, per_source ? &source : NULL);
	char *v2 = rvk_repl_key_value(r);
	bool same = strcmp(f2, field_s0) == 0 && strcmp(v2, value) == 0;
	free(f2);
	free(v2);
	return same;
}

bool
rvk_repl_parse_key_reply(const redisReply *f, const redisReply *v, rvk_revocation_t *r,
                         char **iss, char **kid, char **reason)
{
	*iss = *kid = *reason = NULL;
	/* A NUL inside a bulk string would cut what the C parser sees. */
	return f && v && f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
	       && strlen(f->str) == f->len && strlen(v->str) == v->len
	       && rvk_repl_parse_key(f->str, v->str, r, iss, kid, reason);
}

/*
 * Reads redis_version from an INFO server reply. Returns: true and
 * *major, *minor; false when the reply has no parsable version.
 */
bool
rvk_repl_info_version(const char *info, size_t len, int *major, int *minor)
{
	static const char key[] = "redis_version:";
	const char *p = info, *end = info + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > sizeof(key) - 1
		    && memcmp(p, key, sizeof(key) - 1) == 0) {
			const char *v = p + sizeof(key) - 1;
			int ma = 0, mi = 0, digits = 0;
			while (v < le && *v >= '0' && *v <= '9' && ma < 100000) {
				ma = ma * 10 + (*v++ - '0');
				digits++;
			}
			if (!digits || v >= le || *v++ != '.')
				return false;
			digits = 0;
			while (v < le && *v >= '0' && *v <= '9' && mi < 100000) {
				mi = mi * 10 + (*v++ - '0');
				digits++;
			}
			if (!digits)
				return false;
			*major = ma;
			*minor = mi;
			return true;
		}
		p = le + 1;
	}
	return false;
}

/* The digest's format version: d3 is a round's digest, compared with the
 * same round's of the others (DECISIONS D36); d2 was compared with
 * whatever the others last wrote; d1 hashed versioned changes. Replicas
 * of two versions never compare. */
#define DIGEST_V "d3"

char *
rvk_repl_format_digest(int64_t ms,
                       uint64_t d[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS])
{
	size_t n = 64 + (size_t)RVK_REV_TYPE_COUNT * RVK_DIGEST_BUCKETS * 16;
	char *s = rvk_malloc(n);
	int k = snprintf(s, n, DIGEST_V " %lld %d %d ", (long long)ms,
	                 RVK_REV_TYPE_COUNT, RVK_DIGEST_BUCKETS);
	RVK_REQUIRE(k > 0 && (size_t)k < 64);
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		for (int b = 0; b < RVK_DIGEST_BUCKETS; b++)
			k += snprintf(s + k, n - (size_t)k, "%016llx",
			              (unsigned long long)d[t][b]);
	return s;
}

bool
rvk_repl_parse_digest(const char *s, size_t len, int64_t *ms,
                      uint64_t out[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS])
{
	char head[64];
	int t, b, used = 0;
	long long m;
	size_t hl = len < sizeof(head) - 1 ? len : sizeof(head) - 1;
	memcpy(head, s, hl);
	head[hl] = '\0';
	if (strncmp(head, DIGEST_V " ", 3) != 0
	    || sscanf(head, DIGEST_V " %18lld %3d %4d %n", &m, &t, &b,
	              &used) != 3
	    || used == 0 || m < 0 || t != RVK_REV_TYPE_COUNT
	    || b != RVK_DIGEST_BUCKETS || head[used - 1] != ' '
	    || len - (size_t)used != (size_t)t * (size_t)b * 16)
		return false;
	/* Exactly as rvk_repl_format_digest writes it: no sign, no leading
	 * zero, single spaces. */
	char canon[64];
	int cl = snprintf(canon, sizeof(canon), DIGEST_V " %lld %d %d ", m, t,
	                  b);
	if (cl != used || memcmp(canon, head, (size_t)used) != 0)
		return false;
	const char *p = s + used;
	uint64_t v[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	for (int i = 0; i < t; i++)
		for (int j = 0; j < b; j++) {
			uint64_t x = 0;
			for (int k = 0; k < 16; k++) {
				char c = *p++;
				int d = c >= '0' && c <= '9' ? c - '0'
				        : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
				if (d < 0)
					return false;
				x = x << 4 | (uint64_t)d;
			}
			v[i][j] = x;
		}
	*ms = m;
	memcpy(out, v, sizeof(v));
	return true;
}
