/*
 * digest.c - the hashes of the reconciliation digest, in C and in SQL
 * (digest.h).
 */
#include "store/digest.h"

#include "store/outbox.h"

#define FNV_SEED 14695981039346656037ULL

/* FNV-1a, 64 bits. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* A length-prefixed field: no two (iss, id, source) hash the same bytes. */
static uint64_t
fnv_field(uint64_t h, const char *p, size_t n)
{
	unsigned char len[4] = { (unsigned char)(n >> 24),
		                 (unsigned char)(n >> 16),
		                 (unsigned char)(n >> 8), (unsigned char)n };
	return fnv(fnv(h, len, sizeof(len)), p, n);
}

unsigned
rvk_digest_bucket(const char *iss, size_t iss_len, const char *id,
                  size_t id_len)
{
	uint64_t h = fnv(FNV_SEED, iss, iss_len);
	h = fnv(h, "", 1);
	h = fnv(h, id, id_len);
	return (unsigned)(h % RVK_DIGEST_BUCKETS);
}

/* An integer as 8 bytes, little endian. */
static uint64_t
fnv_int(uint64_t h, int64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * i));
	return fnv(h, b, sizeof(b));
}

/* A final mix, so that an XOR over many hashes stays well spread. */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

uint64_t
rvk_digest_hash(int64_t type, const char *iss, size_t iss_len, const char *id,
                size_t id_len, const char *source, size_t source_len)
{
	uint64_t h = fnv_int(FNV_SEED, type);
	h = fnv_field(h, iss, iss_len);
	h = fnv_field(h, id, id_len);
	h = fnv_field(h, source, source_len);
	return mix(h);
}

uint64_t
rvk_digest_version_hash(int64_t type, const char *iss, size_t iss_len,
                        const char *id, size_t id_len, const char *source,
                        size_t source_len, int64_t version, const char *node,
                        size_t node_len, bool deleted)
{
	uint64_t h = fnv_int(fnv(FNV_SEED, "v", 1), type);
	h = fnv_field(h, iss, iss_len);
	h = fnv_field(h, id, id_len);
	h = fnv_field(h, source, source_len);
	h = fnv_field(h, node, node_len);
	h = fnv_int(h, version);
	unsigned char d = deleted;
	return mix(fnv(h, &d, 1));
}

/* The text of argument i, or NULL (SQL NULL, or out of memory). */
static const char *
text_arg(sqlite3_value **argv, int i, size_t *len)
{
	const char *s = (const char *)sqlite3_value_text(argv[i]);
	*len = (size_t)sqlite3_value_bytes(argv[i]);
	return s;
}

static bool
any_null(int argc, sqlite3_value **argv)
{
	for (int i = 0; i < argc; i++)
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			return true;
	return false;
}

static void
sql_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	size_t il, dl;
	if (any_null(argc, argv)) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *iss = text_arg(argv, 0, &il), *id = text_arg(argv, 1, &dl);
	if (!iss || !id) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_int(ctx, (int)rvk_digest_bucket(iss, il, id, dl));
}

static void
sql_change_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	size_t il, dl, sl;
	if (any_null(argc, argv)) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *iss = text_arg(argv, 1, &il), *id = text_arg(argv, 2, &dl);
	const char *src = text_arg(argv, 3, &sl);
	if (!iss || !id || !src) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_int64(ctx, (sqlite3_int64)rvk_digest_hash(
		sqlite3_value_int64(argv[0]), iss, il, id, dl, src, sl));
}

static void
sql_version_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	size_t il, dl, sl, nl;
	if (any_null(argc, argv)) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *iss = text_arg(argv, 1, &il), *id = text_arg(argv, 2, &dl);
	const char *src = text_arg(argv, 3, &sl), *node = text_arg(argv, 5, &nl);
	if (!iss || !id || !src || !node) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_int64(ctx, (sqlite3_int64)rvk_digest_version_hash(
		sqlite3_value_int64(argv[0]), iss, il, id, dl, src, sl,
		sqlite3_value_int64(argv[4]), node, nl,
		sqlite3_value_int64(argv[6]) != 0));
}

static void
sql_xor(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	if (any_null(argc, argv)) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int64(ctx, (sqlite3_int64)(
		(uint64_t)sqlite3_value_int64(argv[0]) ^
		(uint64_t)sqlite3_value_int64(argv[1])));
}

static void
sql_xor_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	uint64_t *acc = sqlite3_aggregate_context(ctx, sizeof(*acc));
	if (!acc) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL)
		*acc ^= (uint64_t)sqlite3_value_int64(argv[0]);
}

static void
sql_xor_final(sqlite3_context *ctx)
{
	uint64_t *acc = sqlite3_aggregate_context(ctx, 0);
	sqlite3_result_int64(ctx, acc ? (sqlite3_int64)*acc : 0);
}

int
rvk_digest_add_functions(sqlite3 *db)
{
	const int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	int rc = sqlite3_create_function(db, "rvk_bucket", 2, f, NULL,
	                                 sql_bucket, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "rvk_ch", 4, f, NULL,
		                             sql_change_hash, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "rvk_vh", 7, f, NULL,
		                             sql_version_hash, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "rvk_xor", 2, f, NULL, sql_xor,
		                             NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "rvk_xor", 1, f, NULL, NULL,
		                             sql_xor_step, sql_xor_final);
	return rc;
}
