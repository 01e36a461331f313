/*
 * vocab.h - the revocation vocabulary, once: the types of revocation
 * (REFERENCE §4), the sources that take them (REFERENCE §6), and the event
 * kinds that name a type in JSON (REFERENCE §5.1): the enums, their names,
 * and the parsers.
 *
 * Every table of these values - the revocation table, the store's rows,
 * the metrics' label sets, the admin client's options, the event parser -
 * is indexed by these enums and sized by their _COUNT, with a
 * _Static_assert where an array is. Adding a type or a source is one enum
 * line and one table row in vocab.c (its unit test fails on a row left
 * out), and the compiler finds every array it sizes.
 *
 * The function names predate this header (rvk_rev_type_*, rvk_source_*)
 * and are kept: they are the vocabulary's own words.
 *
 * Threads: any; everything here is constant.
 */
#ifndef RVK_BASE_VOCAB_H
#define RVK_BASE_VOCAB_H

#include <stdbool.h>

/* What a revocation names (REFERENCE §4); the order is step 6's. */
typedef enum rvk_rev_type {
	RVK_REV_TOKEN = 0,
	RVK_REV_SESSION,
	RVK_REV_SUBJECT,
	RVK_REV_ISSUER,
	RVK_REV_KEY,
	RVK_REV_TYPE_COUNT
} rvk_rev_type_t;

/* Returns: "token", "session", "subject", "issuer", "key".
 * Requires: type < RVK_REV_TYPE_COUNT. */
const char *rvk_rev_type_name(rvk_rev_type_t type);
/* Returns: true and *out for one of the names above (exact); name may be
 * NULL (false). */
bool rvk_rev_type_parse(const char *name, rvk_rev_type_t *out);

/* Returns: the event kind of a type: "token.revoked", "session.revoked",
 * "subject.revoked", "issuer.revoked", "key.revoked".
 * Requires: type < RVK_REV_TYPE_COUNT. */
const char *rvk_rev_type_event(rvk_rev_type_t type);
/* Returns: true and *out for one of the event kinds above (exact); name may
 * be NULL (false). */
bool rvk_rev_type_parse_event(const char *name, rvk_rev_type_t *out);
/* Returns: the event member (and token claim) that carries a type's ID:
 * "jti", "sid", "sub", NULL for an issuer (its ID is empty), "kid".
 * Requires: type < RVK_REV_TYPE_COUNT. */
const char *rvk_rev_type_id_field(rvk_rev_type_t type);

/* Who took a revocation (REFERENCE §6, the per-source rows of the store). */
typedef enum rvk_source {
	RVK_SRC_WEBHOOK = 0,
	RVK_SRC_SET,
	RVK_SRC_BACKCHANNEL,
	RVK_SRC_KEYCLOAK,
	RVK_SRC_RFC7009,
	RVK_SRC_ADMIN,
	/* Not recorded any more (a replica's entry keeps its originating
	 * source, and origin says which replica): the name survives for rows
	 * written by schema version 2 and for the metrics of applied entries. */
	RVK_SRC_REPLICA,
	RVK_SRC_COUNT
} rvk_source_t;

/* Returns: "webhook", "set", "backchannel", "keycloak", "rfc7009", "admin",
 * "replica". Requires: source < RVK_SRC_COUNT. */
const char *rvk_source_name(rvk_source_t source);
/* Returns: true and *out for one of the names above (exact); name may be
 * NULL (false). */
bool rvk_source_parse(const char *name, rvk_source_t *out);

#endif
