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

/* How many rounds old another replica's digest is when it is deleted
 * from the hash (reconcile). */
#define STALE_ROUNDS 10

/* A well-mixed image of a bucket's difference from one replica (any
 * bijection of 64 bits that spreads them: splitmix64's finaliser), summed
 * over the replicas: the same differences give the same sum, in any
 * order. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Whether field (of the digests hash) is one of this replica's: "<node>"
 * (before DECISIONS D36) or "<node>:<parity>". */
static bool
own_field(const rvk_replica_t *rep, const redisReply *f)
{
	size_t nl = strlen(rep->node);
	return f->len >= nl && memcmp(f->str, rep->node, nl) == 0
	       && (f->len == nl || f->str[nl] == ':');
}

/* Expired rows out at the round's own cutoff (store.h, purge_align), so
 * that its digest holds what every replica holds at that instant.
 * Returns: false on a store failure. */
static bool
purge_to(rvk_replica_t *rep, int64_t round_ms)
{
	size_t n;
	do {
		n = 0;
		if (rvk_store_purge(rep->store, round_ms / 1000, &n) != RVK_OK)
			return false;
	} while (n == RVK_STORE_PURGE_BATCH && !rvk_repl_stopping(rep));
	return true;
}

/*
 * The reconciliation round at round_ms, a multiple of the interval on the
 * wall clock, with the outbox just drained (store/replica.h, DECISIONS
 * D36). It writes this round's digest and compares the last round's with
 * the others' of that same instant: changes in flight at an instant are
 * few, where a digest against whatever another replica last wrote (up to
 * an interval older) differed in every bucket that took a change between
 * the two. A bucket is republished when its difference from the others is
 * the same, and not none, two comparisons in a row: what a replica lacks
 * stays the same difference while both take the same new changes; what
 * is merely in flight differs from one instant to the next.
 * Returns: 1 done, 0 store failure, -1 connection dead.
 */
static int
reconcile(rvk_replica_t *rep, rvk_redis_conn_t *c, int64_t round_ms)
{
	uint64_t mine[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	uint64_t theirs[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
	uint64_t sum[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS] = { { 0 } };
	int64_t iv_ms = rep->opts.reconcile_interval * 1000;
	int64_t now = rvk_repl_wall_ms();
	/* A republish sends the deletes younger than the stream's retention;
	 * older tombstones are left out well before any replica purges them. */
	int64_t keep_ms = (rep->opts.max_token_lifetime + 2 * rep->opts.leeway)
	                  * 1000;
	uint64_t since = now > keep_ms ? (uint64_t)(now - keep_ms) << 16 : 0;
	if (!purge_to(rep, round_ms) || rvk_store_digest(rep->store, mine) != RVK_OK)
		return 0;
	char dkey[300], field[64];
	snprintf(dkey, sizeof(dkey), "%s:digests", rep->opts.stream);
	/* Two fields each, by the round's parity: the one the others compare
	 * with (the last round's) stays while this one is written. */
	snprintf(field, sizeof(field), "%s:%lld", rep->node,
	         (long long)((round_ms / iv_ms) & 1));
	char *text = rvk_repl_format_digest(round_ms, mine);
	redisReply *r = rvk_repl_command_ok(c, "HSET",
		rvk_redis_conn_command(c, "HSET %s %s %s", dkey, field, text));
	free(text);
	if (!r)
		return -1;
	freeReplyObject(r);
	/* The field of a revokd before D36 (the node ID alone), which every
	 * other replica would refuse each round. */
	r = rvk_repl_command_ok(c, "HDEL",
	                        rvk_redis_conn_command(c, "HDEL %s %s", dkey,
	                                               rep->node));
	if (!r)
		return -1;
	freeReplyObject(r);
	r = rvk_repl_command_ok(c, "HGETALL",
	                        rvk_redis_conn_command(c, "HGETALL %s", dkey));
	if (!r)
		return -1;
	size_t peers = 0, nb = 0;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	     i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
		    || own_field(rep, f))
			continue;
		int64_t ms;
		if (!rvk_repl_parse_digest(v->str, v->len, &ms, theirs)) {
			rvk_log(RVK_LOG_WARN, "digest refused (malformed, or of "
			        "another revokd version)", "node", f->len < 64
			        ? f->str : "(long)", NULL);
			rvk_repl_count_rejected(rep);
			continue;
		}
		/* A replica gone for good (a new node ID comes with every
		 * data dir not kept) would stay in the hash, read by every
		 * round of every replica: its fields go once STALE_ROUNDS
		 * rounds old. One back, or only stopped, writes them again. */
		if (ms < round_ms - STALE_ROUNDS * iv_ms) {
			const char *argv[] = { "HDEL", dkey, f->str };
			const size_t lens[] = { 4, strlen(dkey), f->len };
			redisReply *d = rvk_repl_command_ok(c, "HDEL",
				rvk_redis_conn_command_argv(c, 3, argv, lens));
			if (!d) {
				freeReplyObject(r);
				return -1;
			}
			freeReplyObject(d);
			continue;
		}
		/* Another round's (the other parity, or a replica stopped). */
		if (!rep->mine_ms || ms != rep->mine_ms)
			continue;
		peers++;
		for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
			for (int b = 0; b < RVK_DIGEST_BUCKETS; b++)
				if (theirs[t][b] != rep->mine[t][b])
					sum[t][b] += mix(theirs[t][b]
					                 ^ rep->mine[t][b]);
	}
	freeReplyObject(r);
	memcpy(rep->mine, mine, sizeof(mine));
	rep->mine_ms = round_ms;
	pthread_mutex_lock(&rep->mu);
	rep->rounds++;
	pthread_mutex_unlock(&rep->mu);
	size_t rows = 0;
	for (int t = 0; t < RVK_REV_TYPE_COUNT; t++)
		for (int b = 0; b < RVK_DIGEST_BUCKETS; b++) {
			uint32_t *same = &rep->same[t][b];
			if (!sum[t][b])
				*same = 0;
			else if (sum[t][b] != rep->differed[t][b])
				*same = 1;
			else if (*same < UINT32_MAX)
				(*same)++;
			rep->differed[t][b] = sum[t][b];
			/* 2, 4, 8, ...: a power of two, and not the first. */
			if (*same < 2 || (*same & (*same - 1)))
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

/* The round due now, or 0: the last multiple of the interval on the wall
 * clock, once it is later than the last round done, until half an interval
 * has passed. A round taken later would not be of that instant: once that
 * late (checked on every turn of the publisher's loop, whether or not the
 * outbox is empty), it is skipped, counted and logged, and the next round
 * compares nothing. */
static int64_t
round_due(rvk_replica_t *rep)
{
	int64_t iv_ms = rep->opts.reconcile_interval * 1000;
	if (iv_ms <= 0 || !caught_up(rep))
		return 0;
	int64_t now = rvk_repl_wall_ms();
	int64_t at = now - now % iv_ms;
	if (at <= rep->round_ms)
		return 0;
	if (now - at > iv_ms / 2) {
		/* The first instant after a start is no one's round to miss. */
		if (rep->round_ms) {
			rvk_log(RVK_LOG_INFO, "reconciliation round skipped: the "
			        "outbox was not drained in time", NULL);
			pthread_mutex_lock(&rep->mu);
			rep->skipped++;
			pthread_mutex_unlock(&rep->mu);
		}
		rep->round_ms = at;
		rep->mine_ms = 0;
		return 0;
	}
	return at;
}

/* How long the publisher may sleep with nothing to publish: until the
 * next round at most. */
static int64_t
idle_ms(const rvk_replica_t *rep)
{
	int64_t iv_ms = rep->opts.reconcile_interval * 1000;
	if (iv_ms <= 0)
		return IDLE_POLL_MS;
	/* Just past the next multiple of the interval. */
	int64_t next = iv_ms - rvk_repl_wall_ms() % iv_ms + 1;
	return next < IDLE_POLL_MS ? next : IDLE_POLL_MS;
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
		/* A round due while the outbox is busy waits for it to empty
		 * (below), or is skipped here once too late. */
		(void)round_due(rep);
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
			/* Rounds start once caught up (before, a difference
			 * is only the catch-up still running), with the
			 * outbox drained: in the stream, what we hold. */
			int64_t at = round_due(rep);
			if (at) {
				rep->round_ms = at;
				if (reconcile(rep, c, at) < 0) {
					rvk_repl_drop_ctx(rep, &rep->publisher_ctx);
					c = NULL;
				}
				continue;
			}
			rvk_repl_nap(rep, idle_ms(rep), true);
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
