/*
 * Cluster mode: the publisher and the consumer threads (store/replica.h).
 *
 * hiredis 0.14 traps (DEPENDENCIES.md §8): RESP2 only; a NULL reply or
 * c->err leaves the context dead, so every failure frees the context and the
 * thread connects afresh after a back-off; the blocking reader has its own
 * connection with a socket timeout (10 s) longer than BLOCK (5 s).
 * Stopping: rvk_replica_stop shuts the sockets down under mu, which makes a
 * blocked read return at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "base/check.h"
#include "base/hex.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/outbox.h"
#include "store/replica.h"

#define BLOCK_MS 5000
#define READ_TIMEOUT_S 10       /* > BLOCK_MS: see DEPENDENCIES.md §8 */
#define PUB_TIMEOUT_S 5
#define CONNECT_TIMEOUT_MS 2000
#define READ_COUNT 1000
#define PUB_BATCH 500
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define IDLE_POLL_MS 1000       /* publisher re-reads the outbox this often */

struct rvk_replica {
	rvk_replica_opts_t opts;        /* strings owned (copies) */
	rvk_redis_url_t url;
	char *keys;                     /* <stream>:keys */
	rvk_store_t *store;
	char node[33];                  /* origin of our entries */
	pthread_t pub, con;
	bool pub_running, con_running;

	/* Guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* kicks, back-off sleeps, stop */
	bool stopping, kicked;
	redisContext *pub_ctx, *con_ctx;/* owned by their threads; mu only
	                                 * guards the pointer for stop */
	bool ever_connected, caught_up, at_head;
	int64_t pos_ms;                 /* ms part of the last applied ID */
	int64_t at_head_ms;             /* wall ms we last were at the head */
	uint64_t applied, published;
};

const char *
rvk_replica_state_name(rvk_replica_state_t s)
{
	switch (s) {
	case RVK_REPL_CONNECTING: return "connecting";
	case RVK_REPL_CATCHING_UP: return "catching up";
	case RVK_REPL_CONNECTED: return "connected";
	case RVK_REPL_DEGRADED: return "degraded";
	}
	return "?";
}

/* ---- URL ---------------------------------------------------------------- */

/* Copies [s, s+n) %-decoded. Returns: NULL on a bad escape or a NUL. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = rvk_malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int a = i + 2 < n ? rvk_hex_digit(s[i + 1]) : -1;
			int b = i + 2 < n ? rvk_hex_digit(s[i + 2]) : -1;
			if (a < 0 || b < 0 || a * 16 + b == 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(a * 16 + b);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void
rvk_redis_url_fini(rvk_redis_url_t *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->user);
	if (u->password) {
		rvk_memzero(u->password, strlen(u->password));
		free(u->password);
	}
	memset(u, 0, sizeof(*u));
}

static bool
parse_uint(const char *s, size_t n, long max, long *out)
{
	if (n == 0 || n > 9)
		return false;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

rvk_result_t
rvk_redis_url_parse(const char *url, rvk_redis_url_t *out, char *err,
                    size_t errlen)
{
	RVK_REQUIRE(url && out && err);
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "must start with redis://");
		return RVK_EINVAL;
	}
	const char *p = url + 8;
	const char *end = p + strcspn(p, "/?#");
	const char *at = memrchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (!colon) {
			/* redis://password@host is a common mistake for
			 * :password@; refuse rather than guess. */
			snprintf(err, errlen, "credentials must be user:password@ "
			         "or :password@");
			return RVK_EINVAL;
		}
		if (colon > p && !(out->user = pct_decode(p, (size_t)(colon - p))))
			goto bad_escape;
		if (!(out->password = pct_decode(colon + 1,
		                                 (size_t)(at - colon - 1))))
			goto bad_escape;
		if (!out->password[0]) {
			free(out->password);
			out->password = NULL;
		}
		p = at + 1;
	}
	const char *hend = end;
	const char *pc = memrchr(p, ':', (size_t)(end - p));
	if (*p == '[') {                /* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb) {
			snprintf(err, errlen, "unterminated [ in the host");
			goto fail;
		}
		out->host = rvk_malloc((size_t)(rb - p));
		memcpy(out->host, p + 1, (size_t)(rb - p - 1));
		out->host[rb - p - 1] = '\0';
		pc = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		hend = rb + 1;
		if (!pc && hend != end) {
			snprintf(err, errlen, "junk after the host");
			goto fail;
		}
	}
	if (pc) {
		long port;
		if (!parse_uint(pc + 1, (size_t)(end - pc - 1), 65535, &port)
		    || port == 0) {
			snprintf(err, errlen, "bad port");
			goto fail;
		}
		out->port = (int)port;
		if (!out->host)
			hend = pc;
	}
	if (!out->host) {
		if (hend == p) {
			snprintf(err, errlen, "the host is missing");
			goto fail;
		}
		out->host = rvk_malloc((size_t)(hend - p) + 1);
		memcpy(out->host, p, (size_t)(hend - p));
		out->host[hend - p] = '\0';
	}
	if (*end == '/' && end[1]) {
		long db;
		if (!parse_uint(end + 1, strlen(end + 1), 1000000, &db)) {
			snprintf(err, errlen, "bad database number");
			goto fail;
		}
		out->db = (int)db;
	} else if (*end && *end != '/') {
		snprintf(err, errlen, "query and fragment are not supported");
		goto fail;
	}
	return RVK_OK;
bad_escape:
	snprintf(err, errlen, "bad %%-escape in the credentials");
fail:
	rvk_redis_url_fini(out);
	return RVK_EINVAL;
}

/* ---- helpers ------------------------------------------------------------ */

static int64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The millisecond part of a stream ID "ms-seq". */
static int64_t
id_ms(const char *id)
{
	return strtoll(id, NULL, 10);
}

/* Stream ID order. Returns: <0, 0, >0. */
static int
id_cmp(const char *a, const char *b)
{
	unsigned long long am = strtoull(a, NULL, 10), bm = strtoull(b, NULL, 10);
	if (am != bm)
		return am < bm ? -1 : 1;
	const char *ad = strchr(a, '-'), *bd = strchr(b, '-');
	unsigned long long as = ad ? strtoull(ad + 1, NULL, 10) : 0;
	unsigned long long bs = bd ? strtoull(bd + 1, NULL, 10) : 0;
	return as < bs ? -1 : as > bs;
}

/* Sleeps up to ms unless stopping. Returns: !stopping. */
static bool
nap(rvk_replica_t *rep, int64_t ms, bool kickable)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&rep->mu);
	while (!rep->stopping && !(kickable && rep->kicked)) {
		if (pthread_cond_timedwait(&rep->cv, &rep->mu, &ts) == ETIMEDOUT)
			break;
	}
	if (kickable)
		rep->kicked = false;
	bool go = !rep->stopping;
	pthread_mutex_unlock(&rep->mu);
	return go;
}

static bool
stopping(rvk_replica_t *rep)
{
	pthread_mutex_lock(&rep->mu);
	bool s = rep->stopping;
	pthread_mutex_unlock(&rep->mu);
	return s;
}

static redisReply *
command_ok(redisContext *c, const char *what, redisReply *r)
{
	/* Fault point "redis" (base/fault.h): the Nth command is taken as a
	 * lost connection, the failure every caller already handles. */
	if (r && RVK_FAULT("redis")) {
		rvk_log(RVK_LOG_WARN, "redis connection lost", "during", what,
		        "error", "injected fault", NULL);
		freeReplyObject(r);
		return NULL;
	}
	if (!r) {
		rvk_log(RVK_LOG_WARN, "redis connection lost", "during", what,
		        "error", c->errstr, NULL);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		rvk_log(RVK_LOG_ERROR, "redis refused a command", "command", what,
		        "error", r->str, NULL);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Connects, AUTHs, SELECTs. Returns: the context or NULL (logged). */
static redisContext *
connect_redis(rvk_replica_t *rep, int timeout_s)
{
	struct timeval ct = { CONNECT_TIMEOUT_MS / 1000,
	                      (CONNECT_TIMEOUT_MS % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(rep->url.host, rep->url.port, ct);
	if (!c || c->err) {
		char port[16];
		snprintf(port, sizeof(port), "%d", rep->url.port);
		rvk_log(RVK_LOG_WARN, "cannot connect to redis", "host",
		        rep->url.host, "port", port, "error",
		        c ? c->errstr : "out of memory", NULL);
		if (c)
			redisFree(c);
		return NULL;
	}
	struct timeval rt = { timeout_s, 0 };
	redisSetTimeout(c, rt);
	redisEnableKeepAlive(c);
	redisReply *r = NULL;
	if (rep->url.password) {
		if (rep->url.user)
			r = redisCommand(c, "AUTH %s %s", rep->url.user,
			                 rep->url.password);
		else
			r = redisCommand(c, "AUTH %s", rep->url.password);
		if (!(r = command_ok(c, "AUTH", r)))
			goto fail;
		freeReplyObject(r);
	}
	if (rep->url.db) {
		if (!(r = command_ok(c, "SELECT", redisCommand(c, "SELECT %d",
		                                                rep->url.db))))
			goto fail;
		freeReplyObject(r);
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}

/* Publishes ctx under mu (for stop), or refuses when stopping. */
static bool
set_ctx(rvk_replica_t *rep, redisContext **slot, redisContext *c)
{
	pthread_mutex_lock(&rep->mu);
	bool ok = !rep->stopping || !c;
	if (ok)
		*slot = c;
	if (c && ok)
		rep->ever_connected = true;
	pthread_mutex_unlock(&rep->mu);
	return ok;
}

static void
drop_ctx(rvk_replica_t *rep, redisContext **slot)
{
	pthread_mutex_lock(&rep->mu);
	redisContext *c = *slot;
	*slot = NULL;
	if (slot == &rep->con_ctx)
		rep->at_head = false;
	pthread_mutex_unlock(&rep->mu);
	if (c)
		redisFree(c);
}

/* ---- publisher ---------------------------------------------------------- */

/* The hash <stream>:keys: field <len>:<iss><kid>, value
 * "<revoked_at> <source> <len>:<reason>|-" - only lengths, no escaping. */
static char *
key_field(const rvk_revocation_t *r)
{
	size_t n = strlen(r->iss) + strlen(r->id) + 24;
	char *f = rvk_malloc(n);
	snprintf(f, n, "%zu:%s%s", strlen(r->iss), r->iss, r->id);
	return f;
}

static char *
key_value(const rvk_revocation_t *r)
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

/* Appends the commands of one row. Returns: how many. */
static int
append_row(rvk_replica_t *rep, redisContext *c, const rvk_outbox_row_t *o,
           const char *minid)
{
	const rvk_revocation_t *r = &o->rev;
	const char *argv[32];
	size_t lens[32];
	int n = 0;
	char ra[24], ea[24];
#define ARG(s) (argv[n] = (s), lens[n] = strlen(argv[n]), n++)
	ARG("XADD");
	ARG(rep->opts.stream);
	ARG("MINID");
	ARG("~");
	ARG(minid);
	ARG("*");
	ARG("op");
	ARG(o->tombstone ? "delete" : "revoke");
	ARG("type");
	ARG(rvk_rev_type_name(r->type));
	ARG("iss");
	ARG(r->iss);
	ARG("id");
	ARG(r->id);
	if (!o->tombstone) {
		snprintf(ra, sizeof(ra), "%lld", (long long)r->revoked_at);
		if (r->expires_at == RVK_NEVER)
			snprintf(ea, sizeof(ea), "never");
		else
			snprintf(ea, sizeof(ea), "%lld", (long long)r->expires_at);
		ARG("revoked_at");
		ARG(ra);
		ARG("expires_at");
		ARG(ea);
		if (r->reason) {
			ARG("reason");
			ARG(r->reason);
		}
		ARG("source");
		ARG(rvk_source_name(r->source));
	}
	ARG("origin");
	ARG(rep->node);
#undef ARG
	redisAppendCommandArgv(c, n, argv, lens);
	if (r->type != RVK_REV_KEY)
		return 1;
	char *field = key_field(r);
	if (o->tombstone) {
		redisAppendCommand(c, "HDEL %s %s", rep->keys, field);
	} else {
		char *value = key_value(r);
		redisAppendCommand(c, "HSET %s %s %s", rep->keys, field, value);
		free(value);
	}
	free(field);
	return 2;
}

/* Sends one batch. Returns: 1 all accepted, 0 refused (context alive),
 * -1 connection dead. */
static int
publish_batch(rvk_replica_t *rep, redisContext *c, const rvk_outbox_row_t *v,
              size_t n)
{
	int64_t keep_ms = (rep->opts.max_token_lifetime + 2 * rep->opts.leeway)
	                  * 1000;
	int64_t min = wall_ms() - keep_ms;
	char minid[32];
	snprintf(minid, sizeof(minid), "%lld", (long long)(min > 0 ? min : 0));
	int cmds = 0;
	for (size_t i = 0; i < n; i++)
		cmds += append_row(rep, c, &v[i], minid);
	int result = 1;
	for (int i = 0; i < cmds; i++) {
		void *reply = NULL;
		if (RVK_FAULT("redis")) {
			rvk_log(RVK_LOG_WARN, "redis connection lost", "during",
			        "XADD", "error", "injected fault", NULL);
			return -1;
		}
		if (redisGetReply(c, &reply) != REDIS_OK || !reply) {
			rvk_log(RVK_LOG_WARN, "redis connection lost", "during",
			        "XADD", "error", c->errstr, NULL);
			return -1;
		}
		redisReply *r = reply;
		if (r->type == REDIS_REPLY_ERROR) {
			if (result == 1)
				rvk_log(RVK_LOG_ERROR, "redis refused a publish",
				        "error", r->str, NULL);
			result = 0;
		}
		freeReplyObject(r);
	}
	return result;
}

static void *
publisher_main(void *arg)
{
	rvk_replica_t *rep = arg;
	redisContext *c = NULL;
	int64_t backoff = BACKOFF_MIN_MS;
	while (!stopping(rep)) {
		if (!c) {
			c = connect_redis(rep, PUB_TIMEOUT_S);
			if (!c || !set_ctx(rep, &rep->pub_ctx, c)) {
				if (c)
					redisFree(c);
				c = NULL;
				nap(rep, backoff, false);
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
				                                       : backoff * 2;
				continue;
			}
			rvk_log(RVK_LOG_INFO, "publisher connected to redis",
			        "host", rep->url.host, NULL);
		}
		rvk_outbox_row_t *rows = NULL;
		size_t n = 0;
		if (rvk_store_outbox_read(rep->store, PUB_BATCH, &rows, &n)
		    != RVK_OK) {
			nap(rep, BACKOFF_MAX_MS, false);
			continue;
		}
		if (n == 0) {
			nap(rep, IDLE_POLL_MS, true);
			continue;
		}
		int r = publish_batch(rep, c, rows, n);
		int64_t last = rows[n - 1].seq;
		rvk_outbox_rows_free(rows, n);
		if (r == 1) {
			backoff = BACKOFF_MIN_MS;
			if (rvk_store_outbox_ack(rep->store, last) == RVK_OK) {
				pthread_mutex_lock(&rep->mu);
				rep->published += n;
				pthread_mutex_unlock(&rep->mu);
			}
			continue;
		}
		if (r < 0) {
			drop_ctx(rep, &rep->pub_ctx);
			c = NULL;
		}
		/* Refused (or dead): the rows stay; try again later. */
		nap(rep, backoff, false);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
		                                       : backoff * 2;
	}
	if (c)
		drop_ctx(rep, &rep->pub_ctx);
	return NULL;
}

/* ---- consumer ----------------------------------------------------------- */

/* The value of field name in a flat [f, v, f, v...] array, or NULL. */
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

enum entry_kind { ENTRY_BAD, ENTRY_OWN, ENTRY_REVOKE, ENTRY_DELETE };

/* Reads an entry; r borrows the reply's strings (reason too). */
static enum entry_kind
parse_entry(rvk_replica_t *rep, const redisReply *kv, rvk_revocation_t *r)
{
	if (kv->type != REDIS_REPLY_ARRAY)
		return ENTRY_BAD;
	const char *origin = field(kv, "origin");
	if (origin && strcmp(origin, rep->node) == 0)
		return ENTRY_OWN;
	const char *op = field(kv, "op"), *type = field(kv, "type");
	memset(r, 0, sizeof(*r));
	r->iss = (char *)field(kv, "iss");
	r->id = (char *)field(kv, "id");
	if (!op || !type || !rvk_rev_type_parse(type, &r->type) || !r->iss
	    || !r->iss[0] || !r->id
	    || (r->type == RVK_REV_ISSUER && r->id[0]))
		return ENTRY_BAD;
	if (strcmp(op, "delete") == 0)
		return ENTRY_DELETE;
	if (strcmp(op, "revoke") != 0)
		return ENTRY_BAD;
	const char *ea = field(kv, "expires_at");
	if (!parse_i64(field(kv, "revoked_at"), &r->revoked_at) || !ea)
		return ENTRY_BAD;
	if (strcmp(ea, "never") == 0)
		r->expires_at = RVK_NEVER;
	else if (!parse_i64(ea, &r->expires_at))
		return ENTRY_BAD;
	if (r->type == RVK_REV_KEY)
		r->expires_at = RVK_NEVER;
	r->reason = (char *)field(kv, "reason");
	r->source = RVK_SRC_REPLICA;
	return ENTRY_REVOKE;
}

static void
count_applied(rvk_replica_t *rep, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&rep->mu);
	rep->applied += n;
	pthread_mutex_unlock(&rep->mu);
	if (rep->opts.on_applied)
		rep->opts.on_applied(rep->opts.on_applied_arg, n);
}

/*
 * Applies the entries of one XREAD answer, in order: runs of revocations in
 * one transaction each, a tombstone on its own, every write saving the ID
 * of the last entry it covers. Returns: RVK_OK (pos advanced to the last
 * entry), or a store error (pos at the last saved entry).
 */
static rvk_result_t
apply_entries(rvk_replica_t *rep, const redisReply *entries, char *pos,
              size_t poslen)
{
	rvk_revocation_t *revs = rvk_malloc((entries->elements + 1)
	                                    * sizeof(*revs));
	size_t k = 0;
	const char *last = NULL;        /* last entry seen, not yet saved */
	rvk_result_t res = RVK_OK;
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2
		    || e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		const char *id = e->element[0]->str;
		rvk_revocation_t r;
		enum entry_kind kind = parse_entry(rep, e->element[1], &r);
		if (kind == ENTRY_BAD)
			rvk_log(RVK_LOG_WARN, "malformed stream entry skipped",
			        "id", id, NULL);
		if (kind == ENTRY_DELETE) {
			if (k) {
				res = rvk_store_record_replica(rep->store, revs,
				                               k, last);
				if (res != RVK_OK)
					goto out;
				count_applied(rep, k);
				snprintf(pos, poslen, "%s", last);
				k = 0;
			}
			bool deleted;
			res = rvk_store_delete_replica(rep->store, r.type, r.iss,
			                               r.id, id, &deleted);
			if (res != RVK_OK)
				goto out;
			snprintf(pos, poslen, "%s", id);
			last = NULL;
			continue;
		}
		if (kind == ENTRY_REVOKE)
			revs[k++] = r;
		last = id;
	}
	if (last) {
		res = rvk_store_record_replica(rep->store, revs, k, last);
		if (res == RVK_OK) {
			count_applied(rep, k);
			snprintf(pos, poslen, "%s", last);
		}
	}
out:
	free(revs);
	return res;
}

/* Parses a key-hash value "<revoked_at> <source> <len>:<reason>|-". */
static bool
parse_key_value(const char *field_s, const char *value, rvk_revocation_t *r,
                char **iss, char **kid, char **reason)
{
	char *e;
	unsigned long ilen = strtoul(field_s, &e, 10);
	if (*e != ':' || strlen(e + 1) < ilen || ilen == 0)
		return false;
	*iss = strndup(e + 1, ilen);
	*kid = rvk_strdup(e + 1 + ilen);
	long long ra = strtoll(value, &e, 10);
	if (*e != ' ')
		return false;
	char *sp = strchr(e + 1, ' ');
	if (!sp)
		return false;
	*reason = NULL;
	if (strcmp(sp + 1, "-") != 0) {
		unsigned long rlen = strtoul(sp + 1, &e, 10);
		if (*e != ':' || strlen(e + 1) != rlen)
			return false;
		*reason = rvk_strdup(e + 1);
	}
	memset(r, 0, sizeof(*r));
	r->type = RVK_REV_KEY;
	r->iss = *iss;
	r->id = *kid;
	r->revoked_at = ra;
	r->expires_at = RVK_NEVER;
	r->reason = *reason;
	r->source = RVK_SRC_REPLICA;
	return true;
}

/* Loads <stream>:keys (key revocations that outlived the stream).
 * Returns: 1 done, 0 store failure, -1 connection dead. */
static int
load_keys(rvk_replica_t *rep, redisContext *c)
{
	redisReply *h = command_ok(c, "HGETALL",
	                           redisCommand(c, "HGETALL %s", rep->keys));
	if (!h)
		return -1;
	size_t n = h->type == REDIS_REPLY_ARRAY ? h->elements / 2 : 0;
	rvk_revocation_t *revs = rvk_calloc(n + 1, sizeof(*revs));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const redisReply *f = h->element[2 * i], *v = h->element[2 * i + 1];
		char *iss = NULL, *kid = NULL, *reason = NULL;
		if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
		    && parse_key_value(f->str, v->str, &revs[k], &iss, &kid,
		                       &reason)) {
			k++;
		} else {
			rvk_log(RVK_LOG_WARN, "malformed key hash entry skipped",
			        NULL);
			free(iss);
			free(kid);
			free(reason);
		}
	}
	freeReplyObject(h);
	int result = 1;
	for (size_t off = 0; off < k; off += RVK_STORE_MAX_BATCH) {
		size_t m = k - off < RVK_STORE_MAX_BATCH ? k - off
		                                         : RVK_STORE_MAX_BATCH;
		if (rvk_store_record_replica(rep->store, revs + off, m, NULL)
		    != RVK_OK) {
			result = 0;
			break;
		}
		count_applied(rep, m);
	}
	char num[24];
	snprintf(num, sizeof(num), "%zu", k);
	rvk_log(RVK_LOG_INFO, "key revocations loaded from redis", "hash",
	        rep->keys, "keys", num, NULL);
	for (size_t i = 0; i < k; i++)
		rvk_revocation_fini(&revs[i]);
	free(revs);
	return result;
}

/* The ID of the first (dir "XRANGE" -> oldest) or last entry, "" when the
 * stream is empty. Returns: false when the connection died. */
static bool
edge_id(rvk_replica_t *rep, redisContext *c, bool newest, char *out,
        size_t outlen)
{
	redisReply *r = command_ok(c, newest ? "XREVRANGE" : "XRANGE",
		newest ? redisCommand(c, "XREVRANGE %s + - COUNT 1",
		                      rep->opts.stream)
		       : redisCommand(c, "XRANGE %s - + COUNT 1",
		                      rep->opts.stream));
	if (!r)
		return false;
	out[0] = '\0';
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
	    && r->element[0]->type == REDIS_REPLY_ARRAY
	    && r->element[0]->elements >= 1
	    && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		snprintf(out, outlen, "%s", r->element[0]->element[0]->str);
	freeReplyObject(r);
	return true;
}

static void
set_progress(rvk_replica_t *rep, const char *pos, bool at_head,
             bool caught_up)
{
	pthread_mutex_lock(&rep->mu);
	rep->pos_ms = id_ms(pos);
	rep->at_head = at_head;
	if (at_head)
		rep->at_head_ms = wall_ms();
	if (caught_up && !rep->caught_up) {
		rep->caught_up = true;
		rvk_log(RVK_LOG_INFO, "replication caught up", "id", pos, NULL);
	}
	pthread_mutex_unlock(&rep->mu);
}

static void *
consumer_main(void *arg)
{
	rvk_replica_t *rep = arg;
	redisContext *c = NULL;
	int64_t backoff = BACKOFF_MIN_MS;
	char pos[64] = "", head[64] = "";
	bool have_pos = false, head_known = false;
	char *saved = NULL;
	if (rvk_store_meta_get(rep->store, RVK_STORE_META_POSITION, &saved)
	    == RVK_OK) {
		snprintf(pos, sizeof(pos), "%s", saved);
		have_pos = true;
		free(saved);
	}
	while (!stopping(rep)) {
		if (!c) {
			c = connect_redis(rep, READ_TIMEOUT_S);
			if (!c || !set_ctx(rep, &rep->con_ctx, c)) {
				if (c)
					redisFree(c);
				c = NULL;
				goto retry;
			}
			rvk_log(RVK_LOG_INFO, "consumer connected to redis",
			        "host", rep->url.host, "from",
			        have_pos ? pos : "(new replica)", NULL);
			if (!head_known) {
				/* The head at start: ready once applied. */
				if (!edge_id(rep, c, true, head, sizeof(head)))
					goto dead;
				head_known = true;
			}
			bool reload = !have_pos;
			if (have_pos) {
				char oldest[64];
				if (!edge_id(rep, c, false, oldest, sizeof(oldest)))
					goto dead;
				/* Trimmed past our position while we were
				 * away: only the hash has the keys. */
				if (oldest[0] && id_cmp(oldest, pos) > 0
				    && strcmp(pos, "0") != 0) {
					rvk_log(RVK_LOG_WARN, "stream trimmed past "
					        "this replica's position",
					        "position", pos, "oldest", oldest,
					        NULL);
					reload = true;
				}
			}
			if (reload) {
				int r = load_keys(rep, c);
				if (r < 0)
					goto dead;
				if (r == 0)
					goto retry_keep;
				if (!have_pos) {
					snprintf(pos, sizeof(pos), "0");
					have_pos = true;
				}
			}
			if (!head[0] || id_cmp(pos, head) >= 0)
				set_progress(rep, pos, false, true);
		}
		redisReply *r = redisCommand(c, "XREAD COUNT %d BLOCK %d STREAMS "
		                             "%s %s", READ_COUNT, BLOCK_MS,
		                             rep->opts.stream, pos);
		if (!(r = command_ok(c, "XREAD", r)))
			goto dead;
		if (r->type == REDIS_REPLY_NIL) {
			freeReplyObject(r);
			set_progress(rep, pos, true, true);
			continue;
		}
		const redisReply *entries = NULL;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
		    && r->element[0]->type == REDIS_REPLY_ARRAY
		    && r->element[0]->elements == 2
		    && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
			entries = r->element[0]->element[1];
		if (!entries) {
			rvk_log(RVK_LOG_ERROR, "unexpected XREAD reply", NULL);
			freeReplyObject(r);
			goto dead;
		}
		size_t got = entries->elements;
		rvk_result_t res = apply_entries(rep, entries, pos, sizeof(pos));
		freeReplyObject(r);
		if (res != RVK_OK) {
			rvk_log(RVK_LOG_ERROR, "cannot apply stream entries; "
			        "retrying", "position", pos, NULL);
			goto retry_keep;
		}
		backoff = BACKOFF_MIN_MS;
		set_progress(rep, pos, got < READ_COUNT,
		             !head[0] || id_cmp(pos, head) >= 0);
		continue;
dead:
		drop_ctx(rep, &rep->con_ctx);
		c = NULL;
retry:
retry_keep:
		nap(rep, backoff, false);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
		                                       : backoff * 2;
	}
	if (c)
		drop_ctx(rep, &rep->con_ctx);
	return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

rvk_result_t
rvk_replica_new(const rvk_replica_opts_t *opts, rvk_replica_t **out,
                char *err, size_t errlen)
{
	RVK_REQUIRE(opts && opts->url && opts->stream && out && err);
	rvk_redis_url_t url;
	char why[200];
	if (rvk_redis_url_parse(opts->url, &url, why, sizeof(why)) != RVK_OK) {
		snprintf(err, errlen, "redis.url: %s", why);
		return RVK_EINVAL;
	}
	rvk_replica_t *rep = rvk_calloc(1, sizeof(*rep));
	rep->opts = *opts;
	rep->opts.url = NULL;
	rep->opts.stream = rvk_strdup(opts->stream);
	rep->url = url;
	size_t kl = strlen(opts->stream) + sizeof(":keys");
	rep->keys = rvk_malloc(kl);
	snprintf(rep->keys, kl, "%s:keys", opts->stream);
	pthread_mutex_init(&rep->mu, NULL);
	pthread_cond_init(&rep->cv, NULL);
	*out = rep;
	return RVK_OK;
}

/* The node ID: random, kept in meta so a restart is still "us". */
static rvk_result_t
node_id(rvk_replica_t *rep, char *err, size_t errlen)
{
	char *v = NULL;
	rvk_result_t r = rvk_store_meta_get(rep->store, RVK_STORE_META_NODE, &v);
	if (r == RVK_OK) {
		snprintf(rep->node, sizeof(rep->node), "%s", v);
		free(v);
		return RVK_OK;
	}
	if (r != RVK_ENOTFOUND) {
		snprintf(err, errlen, "replication: cannot read the node id");
		return r;
	}
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "replication: no randomness for a node id");
		return RVK_EIO;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(rep->node + 2 * i, 3, "%02x", b[i]);
	if (rvk_store_meta_set(rep->store, RVK_STORE_META_NODE, rep->node)
	    != RVK_OK) {
		snprintf(err, errlen, "replication: cannot save the node id");
		return RVK_EIO;
	}
	return RVK_OK;
}

rvk_result_t
rvk_replica_start(rvk_replica_t *rep, rvk_store_t *store, char *err,
                  size_t errlen)
{
	RVK_REQUIRE(rep && store && !rep->store);
	rep->store = store;
	rvk_result_t r = node_id(rep, err, errlen);
	if (r != RVK_OK)
		return r;
	int rc = pthread_create(&rep->pub, NULL, publisher_main, rep);
	if (rc == 0) {
		rep->pub_running = true;
		rc = pthread_create(&rep->con, NULL, consumer_main, rep);
		rep->con_running = rc == 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "replication: cannot start a thread: %s",
		         strerror(rc));
		return RVK_EIO;
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", rep->url.port);
	rvk_log(RVK_LOG_INFO, "cluster mode", "redis", rep->url.host, "port",
	        port, "stream", rep->opts.stream, "node", rep->node, NULL);
	return RVK_OK;
}

void
rvk_replica_kick(void *arg)
{
	rvk_replica_t *rep = arg;
	pthread_mutex_lock(&rep->mu);
	rep->kicked = true;
	pthread_cond_broadcast(&rep->cv);
	pthread_mutex_unlock(&rep->mu);
}

void
rvk_replica_status(rvk_replica_t *rep, rvk_replica_status_t *out)
{
	RVK_REQUIRE(rep && out);
	memset(out, 0, sizeof(*out));
	int64_t now = wall_ms();
	pthread_mutex_lock(&rep->mu);
	bool up = rep->pub_ctx && rep->con_ctx;
	if (!rep->ever_connected)
		out->state = RVK_REPL_CONNECTING;
	else if (!rep->caught_up)
		out->state = RVK_REPL_CATCHING_UP;
	else
		out->state = up ? RVK_REPL_CONNECTED : RVK_REPL_DEGRADED;
	out->ready = rep->ever_connected && rep->caught_up;
	/* At the head and connected: no lag. Otherwise the age of what we
	 * last applied, or of the last moment we knew we were at the head. */
	if (rep->at_head && rep->con_ctx)
		out->lag_seconds = 0;
	else if (rep->at_head_ms)
		out->lag_seconds = (double)(now - rep->at_head_ms) / 1000.0;
	else if (rep->pos_ms)
		out->lag_seconds = (double)(now - rep->pos_ms) / 1000.0;
	out->applied = rep->applied;
	out->published = rep->published;
	rvk_store_t *store = rep->store;
	pthread_mutex_unlock(&rep->mu);
	if (store)
		rvk_store_outbox_depth(store, &out->outbox);
}

void
rvk_replica_stop(rvk_replica_t *rep)
{
	if (!rep)
		return;
	pthread_mutex_lock(&rep->mu);
	rep->stopping = true;
	/* A blocked XREAD (or XADD) returns at once; its thread then sees
	 * stopping. The contexts stay owned by their threads. */
	if (rep->pub_ctx)
		shutdown(rep->pub_ctx->fd, SHUT_RDWR);
	if (rep->con_ctx)
		shutdown(rep->con_ctx->fd, SHUT_RDWR);
	pthread_cond_broadcast(&rep->cv);
	pthread_mutex_unlock(&rep->mu);
	if (rep->pub_running)
		pthread_join(rep->pub, NULL);
	if (rep->con_running)
		pthread_join(rep->con, NULL);
	rep->pub_running = rep->con_running = false;
}

void
rvk_replica_free(rvk_replica_t *rep)
{
	if (!rep)
		return;
	RVK_REQUIRE(!rep->pub_running && !rep->con_running);
	rvk_redis_url_fini(&rep->url);
	free((char *)rep->opts.stream);
	free(rep->keys);
	pthread_cond_destroy(&rep->cv);
	pthread_mutex_destroy(&rep->mu);
	free(rep);
}
