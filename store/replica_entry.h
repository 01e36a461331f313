/*
 * replica_entry.h - reading what Redis returns to the consumer (REFERENCE §7):
 * the XREAD reply, a stream entry's fields, and a pair of the keys hash
 * (whose format, writer side included, is here).
 * These are bytes from the network (another replica, or whatever holds the
 * Redis server): anything not exactly as store/stream_publisher.c writes it is
 * rejected, and everything accepted is a revocation rvk_store_record takes
 * (a type, a non-empty issuer, an id that is empty exactly for issuer
 * revocations).
 *
 * Threads: pure functions. Ownership: the results borrow the reply's
 * strings, except rvk_repl_parse_key's (owned, see there).
 */
#ifndef RVK_STORE_REPLICA_ENTRY_H
#define RVK_STORE_REPLICA_ENTRY_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "store/outbox.h"
#include "store/store.h"

/*
 * Makes r refuse a reply array of more than 2^20 elements (a reader error,
 * so the connection is dropped and made again). hiredis 0.14 allocates an
 * array as soon as it reads its header: "*2000000000\r\n" alone would cost
 * 16 GB. Our largest legitimate array is an HGETALL of the keys hash.
 * Requires: r still has hiredis' default reply functions.
 */
void rvk_repl_bound_reader(redisReader *r);

/* Returns: the entries array of an XREAD reply for one stream, or NULL
 * when the reply has another shape. */
const redisReply *rvk_repl_xread_entries(const redisReply *r);

/* Returns: the ID of a stream entry [id, [field, value, ...]], or NULL
 * when e has another shape. */
const char *rvk_repl_entry_id(const redisReply *e);

typedef enum rvk_repl_entry_kind {
	RVK_REPL_ENTRY_BAD,             /* malformed: skip it */
	RVK_REPL_ENTRY_OWN,             /* written by self_node: skip it */
	RVK_REPL_ENTRY_REVOKE,          /* *r is a revocation to record */
	RVK_REPL_ENTRY_DELETE,          /* r->type, r->iss, r->id to delete */
} rvk_repl_entry_kind_t;

/*
 * Reads an entry's field list (op, type, iss, id, revoked_at, expires_at,
 * reason, source, origin, version). r->version is the entry's version (0
 * when absent: an older revokd's entry); a version must be 1..2^63-1 and
 * come with an origin. A revocation must name its originating source
 * (the contribution it updates, store/store.h); r->origin is the entry's
 * origin (NULL when absent). A delete may name a source: then *one_source
 * and r->source say whose contribution left; else every source's did.
 * Returns: the kind; *r borrows kv's strings (reason, origin too).
 */
rvk_repl_entry_kind_t rvk_repl_parse_entry(const redisReply *kv,
                                           const char *self_node,
                                           rvk_revocation_t *r,
                                           bool *one_source);

/*
 * The keys hash <stream>:keys (key revocations, which outlive the stream):
 * one field per (key, source), "<source> <len>:<iss><kid>", its value that
 * source's contribution, "<revoked_at> <source> <len>:<reason>" or
 * "<revoked_at> <source> -" (no reason) - only lengths, no escaping. A
 * revokd from before per-source fields wrote one field per key,
 * "<len>:<iss><kid>" (a digit first; a source name never starts with one),
 * holding the last contribution it published.
 *
 * rvk_repl_key_field: source NULL gives that older field (what a delete of
 * every source also removes). Both return owned strings.
 */
char *rvk_repl_key_field(const char *iss, const char *kid,
                         const rvk_source_t *source);
char *rvk_repl_key_value(const rvk_revocation_t *r);

/*
 * Reads a keys-hash pair of either field format. The contribution is the
 * source's the value names (a per-source field must name the same source:
 * else refused); an older field is read as one contribution of that source
 * too. Only what rvk_repl_key_field and rvk_repl_key_value print back
 * byte for byte is accepted (no sign, space or leading zero in a number).
 * Origin unknown: NULL.
 * Returns: true and *r, a key revocation whose strings are *iss, *kid and
 * *reason (owned by the caller, also on false: free all three).
 */
bool rvk_repl_parse_key(const char *field, const char *value,
                        rvk_revocation_t *r, char **iss, char **kid,
                        char **reason);
/* The same from an HGETALL reply's pair: both must be bulk strings without
 * a NUL inside (else false). */
bool rvk_repl_parse_key_reply(const redisReply *field, const redisReply *value,
                              rvk_revocation_t *r, char **iss, char **kid,
                              char **reason);

/*
 * Reconciliation digests (store/replica.h), the values of the hash
 * <stream>:digests: "d3 <round ms> <types> <buckets> <hex>", hex being
 * types x buckets digests of 16 lowercase hex digits each, type-major.
 * rvk_repl_format_digest returns an owned string. rvk_repl_parse_digest
 * takes exactly that (RVK_REV_TYPE_COUNT types, RVK_DIGEST_BUCKETS
 * buckets), nothing else - a digest of another format version or shape is
 * refused - and writes *ms and out only on success.
 */
char *rvk_repl_format_digest(int64_t ms,
                             uint64_t d[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS]);
bool rvk_repl_parse_digest(const char *s, size_t len, int64_t *ms,
                           uint64_t out[RVK_REV_TYPE_COUNT][RVK_DIGEST_BUCKETS]);

/* The oldest Redis revokd uses: XADD ... MINID came with 6.2. */
#define RVK_REPL_MIN_MAJOR 6
#define RVK_REPL_MIN_MINOR 2

/*
 * Reads "redis_version:MAJOR.MINOR..." from the text of an INFO reply
 * (len bytes, not necessarily NUL-terminated).
 * Returns: true and *major, *minor; false when no line parses.
 */
bool rvk_repl_info_version(const char *info, size_t len, int *major,
                           int *minor);

#endif
