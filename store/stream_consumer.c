/*
 * Cluster mode, the stream consumer thread (store/replica.h): tails the
 * stream from the last applied ID, applies other replicas' entries through
 * the store, loads the keys hash when it has no position or was trimmed
 * past.
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

static bool
issuer_known(rvk_replica_t *rep, const char *iss)
{
	return !rep->opts.issuer_known
	       || rep->opts.issuer_known(rep->opts.issuer_known_arg, iss);
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
	uint64_t max_version = (uint64_t)(rvk_repl_wall_ms() + 86400000) << 16;
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		const char *id = rvk_repl_entry_id(e);
		if (!id) {
			rvk_log(RVK_LOG_WARN, "malformed stream entry skipped",
			        "id", "(none)", NULL);
			rvk_repl_count_rejected(rep);
			continue;
		}
		rvk_revocation_t r;
		bool one_source;
		rvk_repl_entry_kind_t kind = rvk_repl_parse_entry(e->element[1],
		                                                  rep->node, &r,
		                                                  &one_source);
		if ((kind == RVK_REPL_ENTRY_REVOKE
		     || kind == RVK_REPL_ENTRY_DELETE)
		    && r.version > max_version) {
			/* A version a day ahead of our clock would drag every
			 * later change's version with it: refused. */
			rvk_log(RVK_LOG_WARN, "stream entry from the future "
			        "skipped", "id", id, NULL);
			rvk_repl_count_rejected(rep);
			kind = RVK_REPL_ENTRY_OWN;
		}
		if ((kind == RVK_REPL_ENTRY_REVOKE
		     || kind == RVK_REPL_ENTRY_DELETE)
		    && !issuer_known(rep, r.iss)) {
			rvk_log(RVK_LOG_WARN, "stream entry for an unconfigured "
			        "issuer skipped", "id", id, "iss", r.iss, NULL);
			rvk_repl_count_rejected(rep);
			kind = RVK_REPL_ENTRY_OWN;      /* skipped, position moves */
		}
		if (kind == RVK_REPL_ENTRY_BAD) {
			rvk_log(RVK_LOG_WARN, "malformed stream entry skipped",
			        "id", id, NULL);
			rvk_repl_count_rejected(rep);
		}
		if (kind == RVK_REPL_ENTRY_DELETE) {
			if (k) {
				res = rvk_store_record_replica(rep->store, revs,
				                               k, last);
				if (res != RVK_OK)
					goto cleanup;
				count_applied(rep, k);
				snprintf(pos, poslen, "%s", last);
				k = 0;
			}
			bool deleted;
			res = rvk_store_delete_replica(rep->store, r.type, r.iss,
			                               r.id,
			                               one_source ? &r.source
			                                          : NULL,
			                               r.version, r.origin,
			                               id, &deleted);
			if (res != RVK_OK)
				goto cleanup;
			snprintf(pos, poslen, "%s", id);
			last = NULL;
			continue;
		}
		if (kind == RVK_REPL_ENTRY_REVOKE)
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
cleanup:
	free(revs);
	return res;
}

/* Loads <stream>:keys (key revocations that outlived the stream).
 * Returns: 1 done, 0 store failure, -1 connection dead. */
static int
load_keys(rvk_replica_t *rep, rvk_redis_conn_t *c)
{
	redisReply *h = rvk_repl_command_ok(c, "HGETALL",
	                           rvk_redis_conn_command(c, "HGETALL %s", rep->keys));
	if (!h)
		return -1;
	size_t n = h->type == REDIS_REPLY_ARRAY ? h->elements / 2 : 0;
	rvk_revocation_t *revs = rvk_calloc(n + 1, sizeof(*revs));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const redisReply *f = h->element[2 * i], *v = h->element[2 * i + 1];
		char *iss = NULL, *kid = NULL, *reason = NULL;
		if (rvk_repl_parse_key_reply(f, v, &revs[k], &iss, &kid, &reason)
		    && issuer_known(rep, iss)) {
			k++;
		} else {
			rvk_log(RVK_LOG_WARN, "malformed key hash entry skipped",
			        NULL);
			rvk_repl_count_rejected(rep);
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
edge_id(rvk_replica_t *rep, rvk_redis_conn_t *c, bool newest, char *out,
        size_t outlen)
{
	redisReply *r = rvk_repl_command_ok(c, newest ? "XREVRANGE" : "XRANGE",
		newest ? rvk_redis_conn_command(c, "XREVRANGE %s + - COUNT 1",
		                      rep->opts.stream)
		       : rvk_redis_conn_command(c, "XRANGE %s - + COUNT 1",
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
		rep->at_head_ms = rvk_repl_wall_ms();
	if (caught_up && !rep->caught_up) {
		rep->caught_up = true;
		rvk_log(RVK_LOG_INFO, "replication caught up", "id", pos, NULL);
	}
	pthread_mutex_unlock(&rep->mu);
}

void *
rvk_stream_consumer_main(void *arg)
{
	rvk_replica_t *rep = arg;
	rvk_redis_conn_t *c = NULL;
	int64_t backoff = BACKOFF_MIN_MS;
	char pos[64] = "", head[64] = "";
	bool have_pos = false, head_known = false;
	pthread_setname_np(pthread_self(), "rvk-consume");
	char *saved = NULL;
	if (rvk_store_meta_get(rep->store, RVK_STORE_META_POSITION, &saved)
	    == RVK_OK) {
		snprintf(pos, sizeof(pos), "%s", saved);
		have_pos = true;
		free(saved);
	}
	while (!rvk_repl_stopping(rep)) {
		if (!c) {
			c = rvk_repl_connect(rep, READ_TIMEOUT_S);
			if (!c || !rvk_repl_set_ctx(rep, &rep->consumer_ctx, c)) {
				rvk_redis_conn_free(c);
				c = NULL;
				goto retry;
			}
			rvk_log(RVK_LOG_INFO, "consumer connected to redis",
			        "host", rvk_redis_conn_peer(c), "from",
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
		redisReply *r = rvk_redis_conn_command(c, "XREAD COUNT %d BLOCK %d STREAMS "
		                             "%s %s", READ_COUNT, BLOCK_MS,
		                             rep->opts.stream, pos);
		if (!(r = rvk_repl_command_ok(c, "XREAD", r)))
			goto dead;
		if (r->type == REDIS_REPLY_NIL) {
			freeReplyObject(r);
			set_progress(rep, pos, true, true);
			continue;
		}
		const redisReply *entries = rvk_repl_xread_entries(r);
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
		rvk_repl_drop_ctx(rep, &rep->consumer_ctx);
		c = NULL;
retry:
retry_keep:
		rvk_repl_nap(rep, backoff, false);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
		                                       : backoff * 2;
	}
	if (c)
		rvk_repl_drop_ctx(rep, &rep->consumer_ctx);
	return NULL;
}
