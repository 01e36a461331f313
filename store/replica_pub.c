/*
 * Cluster mode, the publisher thread (store/replica.h): outbox rows to the
 * stream, key revocations also to the keys hash, acked only after Redis
 * answered every command of a batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/outbox.h"
#include "store/replica_impl.h"

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
append_row(rvk_replica_t *rep, rvk_redis_conn_t *c, const rvk_outbox_row_t *o,
           const char *minid)
{
	const rvk_revocation_t *r = &o->rev;
	const char *argv[34];
	size_t lens[34];
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
	} else if (!o->every_source) {
		/* Only this source's contribution left. */
		ARG("source");
		ARG(rvk_source_name(r->source));
	}
	ARG("origin");
	ARG(rep->node);
	char ver[24];
	if (r->version) {
		snprintf(ver, sizeof(ver), "%llu", (unsigned long long)r->version);
		ARG("version");
		ARG(ver);
	}
#undef ARG
	rvk_redis_conn_append_argv(c, n, argv, lens);
	if (r->type != RVK_REV_KEY)
		return 1;
	/* The hash keeps one value per key revocation (the last
	 * contribution published): only a delete of every source removes it,
	 * so a catch-up from the hash can only over-revoke, never lift. */
	if (o->tombstone && !o->every_source)
		return 1;
	char *field = key_field(r);
	if (o->tombstone) {
		rvk_redis_conn_append(c, "HDEL %s %s", rep->keys, field);
	} else {
		char *value = key_value(r);
		rvk_redis_conn_append(c, "HSET %s %s %s", rep->keys, field, value);
		free(value);
	}
	free(field);
	return 2;
}

/* WAIT wait_replicas: the batch counts as published only once that many
 * Redis replicas have it. Returns: 1 confirmed, 0 not (yet), -1 dead. */
static int
wait_replicas(rvk_replica_t *rep, rvk_redis_conn_t *c)
{
	redisReply *r = rvk_repl_command_ok(c, "WAIT",
		rvk_redis_conn_command(c, "WAIT %d %d", rep->opts.wait_replicas,
		                       WAIT_TIMEOUT_MS));
	if (!r)
		return -1;
	long long got = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	if (got >= rep->opts.wait_replicas)
		return 1;
	char g[24], w[24];
	snprintf(g, sizeof(g), "%lld", got);
	snprintf(w, sizeof(w), "%d", rep->opts.wait_replicas);
	rvk_log(RVK_LOG_WARN, "redis replicas did not confirm a publish; "
	        "the rows stay in the outbox", "confirmed", g, "wanted", w,
	        NULL);
	return 0;
}

/* Sends one batch. Returns: 1 all accepted, 0 refused (context alive),
 * -1 connection dead. */
static int
publish_batch(rvk_replica_t *rep, rvk_redis_conn_t *c, const rvk_outbox_row_t *v,
              size_t n)
{
	int64_t keep_ms = (rep->opts.max_token_lifetime + 2 * rep->opts.leeway)
	                  * 1000;
	int64_t min = rvk_repl_wall_ms() - keep_ms;
	char minid[32];
	snprintf(minid, sizeof(minid), "%lld", (long long)(min > 0 ? min : 0));
	int cmds = 0;
	for (size_t i = 0; i < n; i++)
		cmds += append_row(rep, c, &v[i], minid);
	int result = 1;
	bool dead = false;
	for (int i = 0; i < cmds; i++) {
		redisReply *r = NULL;
		if (RVK_FAULT("redis")) {
			rvk_log(RVK_LOG_WARN, "redis connection lost", "during",
			        "XADD", "error", "injected fault", NULL);
			return -1;
		}
		if (rvk_redis_conn_get_reply(c, &r) != RVK_OK) {
			rvk_log(RVK_LOG_WARN, "redis connection lost", "during",
			        "XADD", "error", rvk_redis_conn_error(c), NULL);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			if (result == 1)
				rvk_log(RVK_LOG_ERROR, "redis refused a publish",
				        "error", r->str, NULL);
			/* A master demoted by a failover: reconnect (and ask
			 * the sentinels again). */
			if (strncmp(r->str, "READONLY", 8) == 0)
				dead = true;
			result = 0;
		}
		freeReplyObject(r);
	}
	if (dead)
		return -1;
	if (result == 1 && rep->opts.wait_replicas > 0)
		result = wait_replicas(rep, c);
	return result;
}

void *
rvk_repl_publisher_main(void *arg)
{
	rvk_replica_t *rep = arg;
	rvk_redis_conn_t *c = NULL;
	int64_t backoff = BACKOFF_MIN_MS;
	while (!rvk_repl_stopping(rep)) {
		if (!c) {
			c = rvk_repl_connect(rep, PUB_TIMEOUT_S);
			if (!c || !rvk_repl_set_ctx(rep, &rep->pub_ctx, c)) {
				rvk_redis_conn_free(c);
				c = NULL;
				rvk_repl_nap(rep, backoff, false);
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
				                                       : backoff * 2;
				continue;
			}
			rvk_log(RVK_LOG_INFO, "publisher connected to redis",
			        "host", rvk_redis_conn_peer(c), NULL);
		}
		rvk_outbox_row_t *rows = NULL;
		size_t n = 0;
		if (rvk_store_outbox_read(rep->store, PUB_BATCH, &rows, &n)
		    != RVK_OK) {
			rvk_repl_nap(rep, BACKOFF_MAX_MS, false);
			continue;
		}
		if (n == 0) {
			rvk_repl_nap(rep, IDLE_POLL_MS, true);
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
			rvk_repl_drop_ctx(rep, &rep->pub_ctx);
			c = NULL;
		}
		/* Refused (or dead): the rows stay; try again later. */
		rvk_repl_nap(rep, backoff, false);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
		                                       : backoff * 2;
	}
	if (c)
		rvk_repl_drop_ctx(rep, &rep->pub_ctx);
	return NULL;
}
