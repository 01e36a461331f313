/*
 * fuzz_redis.c - any bytes as Redis replies (RESP, read by hiredis' own
 * reader, as the consumer's connection reads them) through the consumer's
 * readers (store/replica_entry.c). The invariant: whatever is accepted is a
 * revocation rvk_store_record takes without tripping its RVK_REQUIRE (a
 * malformed entry from the network must be skipped, never abort revokd),
 * and a key-hash pair leaves nothing allocated that the caller cannot free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "base/check.h"
#include "base/clock.h"
#include "store/replica_entry.h"

#define SELF "0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_revocation(const rvk_revocation_t *r, bool want_times)
{
	RVK_REQUIRE((unsigned)r->type < RVK_REV_TYPE_COUNT);
	RVK_REQUIRE(r->iss && r->iss[0] && r->id);
	RVK_REQUIRE((r->type == RVK_REV_ISSUER) == (r->id[0] == '\0'));
	/* base/id.h: what the store records and can load again. */
	RVK_REQUIRE(rvk_rev_key_valid(r->type, r->iss, strlen(r->iss), r->id,
	                              strlen(r->id)));
	RVK_REQUIRE((unsigned)r->source < RVK_SRC_COUNT);
	if (want_times && r->type == RVK_REV_KEY)
		RVK_REQUIRE(r->expires_at == RVK_NEVER);
}

static void
entry(const redisReply *kv)
{
	rvk_revocation_t r;
	bool one_source;
	switch (rvk_repl_parse_entry(kv, SELF, &r, &one_source)) {
	case RVK_REPL_ENTRY_REVOKE:
		check_revocation(&r, true);
		/* A version comes with the origin that breaks its ties. */
		RVK_REQUIRE(!r.version || (r.origin && r.version <= INT64_MAX));
		break;
	case RVK_REPL_ENTRY_DELETE:
		RVK_REQUIRE(!r.version || (r.origin && r.version <= INT64_MAX));
		RVK_REQUIRE(r.iss && r.iss[0] && r.id);
		RVK_REQUIRE((r.type == RVK_REV_ISSUER) == (r.id[0] == '\0'));
		RVK_REQUIRE(!one_source || (unsigned)r.source < RVK_SRC_COUNT);
		break;
	case RVK_REPL_ENTRY_OWN:
	case RVK_REPL_ENTRY_BAD:
		break;
	}
}

static void
one_reply(const redisReply *rep)
{
	const redisReply *entries = rvk_repl_xread_entries(rep);
	for (size_t i = 0; entries && i < entries->elements; i++) {
		const char *id = rvk_repl_entry_id(entries->element[i]);
		if (id)
			entry(entries->element[i]->element[1]);
	}
	entry(rep);
	/* As the INFO server answer checked at connect. */
	if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS) {
		int ma = -1, mi = -1;
		if (rvk_repl_info_version(rep->str, rep->len, &ma, &mi))
			RVK_REQUIRE(ma >= 0 && mi >= 0);
		/* As a reconciliation digest: what parses prints back the same. */
		int64_t ms;
		uint64_t d[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS];
		if (rvk_repl_parse_digest(rep->str, rep->len, &ms, d)) {
			char *again = rvk_repl_format_digest(ms, d);
			RVK_REQUIRE(ms >= 0 && strlen(again) == rep->len);
			free(again);
		}
	}
	if (rep->type != REDIS_REPLY_ARRAY)
		return;
	/* As an HGETALL reply of the keys hash, read as store/stream_consumer.c
	 * reads it (either field format). */
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *f = rep->element[i], *v = rep->element[i + 1];
		rvk_revocation_t r;
		char *iss, *kid, *reason;
		if (rvk_repl_parse_key_reply(f, v, &r, &iss, &kid, &reason)) {
			RVK_REQUIRE(r.type == RVK_REV_KEY && r.id[0]);
			check_revocation(&r, true);
			RVK_REQUIRE(r.iss == iss && r.id == kid && r.reason == reason);
			RVK_REQUIRE((unsigned)r.source < RVK_SRC_COUNT);
			/* Accepted only as the publisher writes it: the pair prints
			 * back byte for byte, in the field format it came in. */
			bool per_source = f->str[0] < '0' || f->str[0] > '9';
			char *f2 = rvk_repl_key_field(iss, kid, per_source ? &r.source : NULL);
			char *v2 = rvk_repl_key_value(&r);
			RVK_REQUIRE(strlen(f2) == f->len && memcmp(f2, f->str, f->len) == 0);
			RVK_REQUIRE(strlen(v2) == v->len && memcmp(v2, v->str, v->len) == 0);
			free(f2);
			free(v2);
		}
		free(iss);
		free(kid);
		free(reason);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd = redisReaderCreate();
	RVK_REQUIRE(rd != NULL);
	rvk_repl_bound_reader(rd);      /* as every connection of revokd's */
	if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
		for (int n = 0; n < 64; n++) {
			void *reply = NULL;
			if (redisReaderGetReply(rd, &reply) != REDIS_OK || !reply)
				break;
			one_reply(reply);
			freeReplyObject(reply);
		}
	}
	redisReaderFree(rd);
	return 0;
}
