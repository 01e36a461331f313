/*
 * Cluster mode, the stream publisher thread (store/replica.h): outbox rows
 * to the stream, key revocations also to the keys hash, acked only after
 * Redis answered every command of a batch.
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
#include "store/replica_entry.h"
#include "store/replica_impl.h"

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
	/* A change republished by reconciliation keeps its maker. */
	ARG("origin");
	ARG(o->rev.origin ? o->rev.origin : rep->node);
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
	/* The keys hash (store/replica_entry.h) holds one field per (key,
	 * source): a contribution sets its source's field, a delete of one
	 * source removes that field alone, a delete of every source removes
	 * every source's and the field of the older one-per-key format. */
	if (!o->tombstone) {
		char *field = rvk_repl_key_field(r->iss, r->id, &r->source);
		char *value = rvk_repl_key_value(r);
		rvk_redis_conn_append(c, "HSET %s %s %s", rep->keys, field, value);
		free(value);
		free(field);
	} else if (!o->every_source) {
		char *field = rvk_repl_key_field(r->iss, r->id, &r->source);
		rvk_redis_conn_append(c, "HDEL %s %s", rep->keys, field);
		free(field);
	} else {
		char *fields[RVK_SRC_COUNT + 1];
		const char *hargv[RVK_SRC_COUNT + 3];
		size_t hlens[RVK_SRC_COUNT + 3];
		int h = 0;
		hargv[h++] = "HDEL";
		hargv[h++] = rep->keys;
		fields[0] = rvk_repl_key_field(r->iss, r->id, NULL);
		for (int s = 0; s < RVK_SRC_COUNT; s++) {
			rvk_source_t src = (rvk_source_t)s;
			fields[s + 1] = rvk_repl_key_field(r->iss, r->id, &src);
		}
		for (int f = 0; f <= RVK_SRC_COUNT; f++)
			hargv[h++] = fields[f];
		for (int i = 0; i < h; i++)
			hlens[i] = strlen(hargv[i]);
		rvk_redis_conn_append_argv(c, h, hargv, hlens);
		for (int f = 0; f <= RVK_SRC_COUNT; f++)
			free(fields[f]);
	}
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
	return dead ? -1 : result;
}

static bool
caught_up(rvk_replica_t *rep)
{
	pthread_mutex_lock(&rep->mu);
	bool c = rep->caught_up;
	pthread_mutex_unlock(&rep->mu);
	return c;
}

/*
 * One reconciliation round (store/replica.h, DESIGN). Returns: 1 done, 0
 * store failure, -1 connection dead.
 */
static int
reconcile(rvk_replica_t *rep, rvk_redis_conn_t *c)
{
	uint64_t mine[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	uint64_t theirs[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	bool diff[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS] = { { false } };
	int64_t now = rvk_repl_wall_ms();
	/* A republish sends the deletes younger than the stream's retention;
	 * older tombstones are left out well before any replica purges them. */
	int64_t keep_ms = (rep->opts.max_token_lifetime + 2 * rep->opts.leeway)
	                  * 1000;
	uint64_t since = now > keep_ms ? (uint64_t)(now - keep_ms) << 16 : 0;
	if (rvk_store_digest(rep->store, mine) != RVK_OK)
		return 0;
	char dkey[300];
	snprintf(dkey, sizeof(dkey), "%s:digests", rep->opts.stream);
	char *text = rvk_repl_format_digest(now, mine);
	redisReply *r = rvk_repl_command_ok(c, "HSET",
		rvk_redis_conn_command(c, "HSET %s %s %s", dkey, rep->node, text));
	free(text);
	if (!r)
		return -1;
	freeReplyObject(r);
	r = rvk_repl_command_ok(c, "HGETALL",
	                        rvk_redis_conn_command(c, "HGETALL %s", dkey));
	if (!r)
		return -1;
	int64_t stale_ms = 3 * rep->opts.reconcile_interval * 1000 + 5000;
	size_t peers = 0, nb = 0;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	     i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
		    || strcmp(f->str, rep->node) == 0)
			continue;
		int64_t ms;
		if (!rvk_repl_parse_digest(v->str, v->len, &ms, theirs)) {
			rvk_log(RVK_LOG_WARN, "digest refused (malformed, or of "
			        "another revokd version)", "node", f->len < 64
			        ? f->str : "(long)", NULL);
			rvk_repl_count_rejected(rep);
			continue;
		}
		if (now - ms > stale_ms)
			continue;       /* a replica gone (or stopped) */
		peers++;
		for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
			for (int b = 0; b < RVK_DIGEST_BUCKETS; b++)
				diff[t][b] |= theirs[t][b] != mine[t][b];
	}
	freeReplyObject(r);
	/* While the outbox still holds rows (an earlier republish, or plain
	 * traffic, not yet in the stream), the peers cannot have applied
	 * them: a difference now says nothing new. Republishing anyway made
	 * the work per round grow instead of shrink when one republish took
	 * longer than an interval (docs/BENCHMARKS.md, "Repair after
	 * FLUSHALL"): defer, and ask for two more differing rounds after the
	 * outbox drained. */
	size_t waiting = 0;
	if (rvk_repl_outbox_waiting(rep, rep->store, &waiting) != RVK_OK)
		return 0;
	if (waiting > 0) {
		memset(rep->differed, 0, sizeof(rep->differed));
		char ws[24];
		snprintf(ws, sizeof(ws), "%zu", waiting);
		rvk_log(RVK_LOG_INFO, "reconciliation deferred: the outbox is not "
		        "yet published", "outbox", ws, NULL);
		return 1;
	}
	size_t rows = 0;
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		for (int b = 0; b < RVK_DIGEST_BUCKETS; b++) {
			bool again = diff[t][b] && rep->differed[t][b];
			rep->differed[t][b] = diff[t][b];
			if (!again)
				continue;
			size_t k = 0;
			if (rvk_store_republish(rep->store, (rvk_rev_type_t)t,
			                        (unsigned)b, since, &k) != RVK_OK)
				return 0;
			rows += k;
			nb++;
		}
	if (nb) {
		char bs[24], rs[24], ps[24];
		snprintf(bs, sizeof(bs), "%zu", nb);
		snprintf(rs, sizeof(rs), "%zu", rows);
		snprintf(ps, sizeof(ps), "%zu", peers);
		rvk_log(RVK_LOG_INFO, "reconciliation republished what differs",
		        "buckets", bs, "rows", rs, "peers", ps, NULL);
		pthread_mutex_lock(&rep->mu);
		rep->republished += rows;
		pthread_mutex_unlock(&rep->mu);
	}
	return 1;
}

/* Deletes from the outbox the pending rows Redis accepted (up to sent).
 * On failure they stay pending, and are acked with the next ones. */
static void
ack(rvk_replica_t *rep, int64_t sent, size_t *pending, uint64_t *acked_ns)
{
	if (*pending == 0)
		return;
	if (rvk_store_outbox_ack(rep->store, sent) == RVK_OK) {
		*pending = 0;
		*acked_ns = rvk_clock_mono_ns();
		pthread_mutex_lock(&rep->mu);
		rep->unacked = 0;
		pthread_mutex_unlock(&rep->mu);
	}
}

void *
rvk_stream_publisher_main(void *arg)
{
	rvk_replica_t *rep = arg;
	rvk_redis_conn_t *c = NULL;
	int64_t backoff = BACKOFF_MIN_MS;
	pthread_setname_np(pthread_self(), "rvk-publish");
	/* wait_replicas: rows up to this seq are in Redis (on this
	 * connection) but not yet confirmed by WAIT; 0: none. Only WAIT is
	 * sent again for them, so the stream does not fill with copies. */
	int64_t unconfirmed = 0;
	size_t unconfirmed_n = 0;
	/* Rows up to sent are in Redis; the outbox still holds the last
	 * `pending` of them, until the next ack (ACK_EVERY_ROWS). */
	int64_t sent = 0;
	size_t pending = 0;
	uint64_t acked_ns = rvk_clock_mono_ns();
	while (!rvk_repl_stopping(rep)) {
		if (!c)
			unconfirmed = 0;   /* WAIT counts this connection's writes */
		if (!c) {
			c = rvk_repl_connect(rep, PUBLISH_TIMEOUT_S);
			if (!c || !rvk_repl_set_ctx(rep, &rep->publisher_ctx, c)) {
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
		/* Rounds start once caught up (before, a difference is only
		 * the catch-up still running) and one interval after start. */
		if (rep->opts.reconcile_interval > 0 && !rep->next_reconcile_ms)
			rep->next_reconcile_ms = rvk_repl_wall_ms()
			        + rep->opts.reconcile_interval * 1000;
		if (rep->opts.reconcile_interval > 0 && caught_up(rep)
		    && rvk_repl_wall_ms() >= rep->next_reconcile_ms) {
			rep->next_reconcile_ms = rvk_repl_wall_ms()
			        + rep->opts.reconcile_interval * 1000;
			if (reconcile(rep, c) < 0) {
				rvk_repl_drop_ctx(rep, &rep->publisher_ctx);
				c = NULL;
				continue;
			}
		}
		int64_t last = 0;
		size_t n = 0;
		int r;
		/* Whether the batch holds a key revocation (ACK_EVERY_ROWS);
		 * one only WAITed for again is not read back: assumed to. */
		bool keys = true;
		if (unconfirmed) {
			last = unconfirmed;
			n = unconfirmed_n;
			r = wait_replicas(rep, c);
			goto judged;
		}
		rvk_outbox_row_t *rows = NULL;
		if (rvk_store_outbox_read(rep->store, sent, PUBLISH_BATCH, &rows,
		                          &n) != RVK_OK) {
			rvk_repl_nap(rep, BACKOFF_MAX_MS, false);
			continue;
		}
		if (n == 0) {
			ack(rep, sent, &pending, &acked_ns);
			rvk_repl_nap(rep, IDLE_POLL_MS, true);
			continue;
		}
		r = publish_batch(rep, c, rows, n);
		last = rows[n - 1].seq;
		keys = false;
		for (size_t i = 0; i < n; i++)
			keys |= rows[i].rev.type == RVK_REV_KEY;
		rvk_outbox_rows_free(rows, n);
		if (r == 1 && rep->opts.wait_replicas > 0) {
			r = wait_replicas(rep, c);
			/* Every XADD accepted, not yet confirmed: only WAIT
			 * again (a refused XADD is retried whole instead). */
			if (r == 0) {
				unconfirmed = last;
				unconfirmed_n = n;
			}
		}
judged:
		if (r == 1) {
			unconfirmed = 0;
			backoff = BACKOFF_MIN_MS;
			sent = last;
			pending += n;
			pthread_mutex_lock(&rep->mu);
			rep->published += n;
			rep->unacked = pending;
			pthread_mutex_unlock(&rep->mu);
			if (n < PUBLISH_BATCH || keys || pending >= ACK_EVERY_ROWS
			    || rvk_clock_mono_ns() - acked_ns
			       >= (uint64_t)ACK_EVERY_MS * 1000000)
				ack(rep, sent, &pending, &acked_ns);
			continue;
		}
		if (r < 0) {
			rvk_repl_drop_ctx(rep, &rep->publisher_ctx);
			c = NULL;
		}
		/* Refused (or dead): the rows stay; try again later. */
		rvk_repl_nap(rep, backoff, false);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
		                                       : backoff * 2;
	}
	ack(rep, sent, &pending, &acked_ns);   /* best effort: see ACK_EVERY */
	if (c)
		rvk_repl_drop_ctx(rep, &rep->publisher_ctx);
	return NULL;
}
